#!/usr/bin/env bash
# gRPC's UNAVAILABLE when a server drains a connection at its maximum age
# while a call is still running on it.
#
# grpc-java#8310 (2021): `io.grpc.StatusRuntimeException: UNAVAILABLE:
# HTTP/2 error code: NO_ERROR` / `Received Goaway`. grpc-java#9566 (2022),
# "StatusException: UNAVAILABLE on client when maxConnectionAge is set on
# server": "GRPC NettyServer is configured with `maxConnectionAge` of 1
# second and `maxConnectionAgeGrace` of 300 seconds. [...] Eventually the
# client throws `io.grpc.StatusException: UNAVAILABLE` after receiving
# `GOAWAY` from the server"; a maintainer, in 2025: "It is racy, so
# testing is very timing-sensitive." grpc-go#2767 (2019): "When the
# connection age was reached, the rpcs in the Go client failed with the
# unavailable error and the \"transport is closing\" message" (`rpc error:
# code = Unavailable desc = transport is closing`). linkerd2#4262 (2020),
# a maintainer: "The problem arises from use of `maxConnectionAge` on the
# serverside. [...] When the server sends a GOAWAY, that informs linkerd
# to stop sending _new_ streams over this connection, but it does not tell
# us to stop using existing streams. We expect each stream to be
# terminated by the server, and keep reading until the server eventually
# closes the connection".
#
# The drain is GOAWAY with the largest stream id, a PING, GOAWAY naming the
# last stream the server will finish, and the close when the grace is
# over. A call on that last stream that the server has not answered by
# then fails. The reports chase that race; hangup's h2-max-age takes it
# out: the call is never answered, so it fails every time. Here a gRPC
# client in Node (@grpc/grpc-js, a unary call on a service written by
# hand, no .proto) sees 14 UNAVAILABLE "Connection dropped"; the same
# drain with the answer sent within the grace lets the call succeed, and a
# deadline shorter than the grace turns the failure into
# DEADLINE_EXCEEDED.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# @grpc/grpc-js, where scripts/test.sh installs it (target/npm), or
# installed there now when npm is at hand.
npm_dir="$(cargo_target_dir)/npm"
if [[ ! -f $npm_dir/node_modules/@grpc/grpc-js/package.json ]]; then
  if ! command -v npm >/dev/null ||
    ! timeout 300 npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error @grpc/grpc-js@1 >/dev/null; then
    echo "@grpc/grpc-js is not installed in $npm_dir and could not be; scripts/test.sh installs it" >&2
    exit 1
  fi
fi
export NODE_PATH="$npm_dir/node_modules"

# A unary call: its outcome, as the callback gets it (a deadline's
# message is cut before its timings, which vary).
call() {
  node "$ROOT/scripts/clients/grpc-client.js" "127.0.0.1:$HANGUP_PORT" "$@" 2>&1 |
    sed 's/Deadline exceeded after .*/Deadline exceeded/' || true
}

# The same drain as h2-max-age, but the call is answered (a message "hi"
# and grpc-status 0 in trailers: a literal HPACK field, written by hand)
# between the last GOAWAY and the close.
cat >"$WORK/answered.hup" <<'HUP'
# gRPC's max-age drain, with the call answered within the grace.
read request
sleep 100ms
h2 goaway last-stream max
h2 ping data "max-age"
sleep 10ms
h2 goaway last-stream current
h2 headers 200 header "content-type: application/grpc"
h2 data hex "00 00000002" "hi"
h2 frame type 1 flags 5 payload "\x00\x0bgrpc-status\x010"
sleep 100ms
close
HUP

echo "1. hangup serve h2-max-age: the drain, and the call still unanswered when the grace is over."
start_hangup h2-max-age
unanswered=$(call)
show "grpc-js's callback got:" "$unanswered"
show_log
stop_hangup

echo
echo "2. The same drain, with the call answered within the grace."
start_hangup "$WORK/answered.hup"
answered=$(call)
show "grpc-js's callback got:" "$answered"
stop_hangup

echo
echo "3. hangup serve h2-max-age --set grace=2s, and a call with a 500 ms deadline."
start_hangup h2-max-age --set grace=2s
deadline=$(call 500)
show "grpc-js's callback got:" "$deadline"
stop_hangup

if [[ $unanswered == "error 14 UNAVAILABLE: Connection dropped" && $answered == "ok: 2 bytes" &&
  $deadline == "error 4 DEADLINE_EXCEEDED: Deadline exceeded" ]]; then
  reproduced "grpc-js: a call still running when a max-age drain's grace is over fails with 14 UNAVAILABLE \"Connection dropped\", after GOAWAY (2147483647), PING and GOAWAY (1); answered within the grace it succeeds"
fi
not_reproduced "expected 14 UNAVAILABLE for the call the drain cut, success for the one answered within the grace, and DEADLINE_EXCEEDED for a deadline before the close"
