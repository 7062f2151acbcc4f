#!/usr/bin/env bash
# A guided tour of how HTTP connections end badly, for a class or a blog
# post. For each fault: what the server does on the wire and why the
# client's message reads the way it does; then hangup plays that server,
# `hangup probe --diagram` draws the exchange, and real clients show their
# error. Needs only curl and hangup; uses node and python3 when present.
#
#   scripts/demo.sh           run straight through
#   scripts/demo.sh --pause   wait for Enter between steps
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

pause=false
[[ ${1:-} == --pause ]] && pause=true
clients="$ROOT/scripts/clients"
have_node=false
have_python=false
command -v node >/dev/null && have_node=true
command -v python3 >/dev/null && have_python=true

bold() {
  if [[ -t 1 && -z ${NO_COLOR:-} ]]; then printf '\033[1m%s\033[0m\n' "$1"; else printf '%s\n' "$1"; fi
}

# What the clients do in the next lesson; reset after each.
client_requests=1
client_body=0
curl_extra=()

# said CLIENT OUTPUT: the client's lines, without "request N: " when alone.
said() {
  local output=$2
  [[ $output == *$'\n'* ]] || output=${output#request 1: }
  printf '%s\n' "$output" | sed "1s/^/   $(printf '%-8s' "$1") /; 2,\$s/^/            /"
}

step=0
# lesson TITLE PARAGRAPH SCENARIO [SERVE FLAGS...] -- [PROBE FLAGS...]
lesson() {
  local title=$1 text=$2
  shift 2
  local serve=() probe=()
  while (($#)) && [[ $1 != -- ]]; do serve+=("$1"); shift; done
  (($#)) && shift
  probe=("$@")
  step=$((step + 1))
  echo
  bold "$step. $title"
  echo
  fold -s -w 78 <<<"$text" | sed 's/^/   /'
  start_hangup "${serve[@]}" --quiet
  printf '\n   $ hangup serve%s\n   $ hangup probe URL --diagram%s\n\n' "$(printf ' %q' "${serve[@]}")" \
    "$( ((${#probe[@]})) && printf ' %q' "${probe[@]}")"
  "$HANGUP" probe "$HANGUP_URL" --diagram "${probe[@]}" | sed 's/^/   /'
  printf '\n   What the clients say:\n'
  local status=0 err
  local urls=(-o /dev/null "$HANGUP_URL")
  ((client_requests > 1)) && urls+=(-o /dev/null "$HANGUP_URL")
  err=$(curl -sS -m 3 "${curl_extra[@]}" "${urls[@]}" 2>&1) || status=$?
  printf '   %-8s exit %s%s\n' curl "$status" "${err:+  $err}"
  # The clients exit 1 when a request failed, which is the point here.
  if $have_node; then
    said node "$(node "$clients/node-client.js" "$HANGUP_URL" "$client_requests" 0 3000 "$client_body" || true)"
  fi
  if $have_python; then
    said python "$(python3 "$clients/python-client.py" 127.0.0.1 "$HANGUP_PORT" "$client_requests" 0 3000 \
      "$client_body" || true)"
  fi
  stop_hangup
  client_requests=1
  client_body=0
  curl_extra=()
  if $pause; then
    read -r -p $'\n   Press Enter for the next one. ' _
  fi
}

bold "hangup: how HTTP connections end badly"
printf 'A TCP connection ends with FIN ("I am done sending", a clean end) or RST ("this\n'
printf 'connection is dead", an abortive end). Clients turn those into very different messages.\n'

lesson "An empty reply: FIN before any response" \
  "The server read the request and closed the connection without writing a byte. The FIN is a clean end, but no response came: curl says 'Empty reply from server', Node says 'socket hang up' (and, confusingly, labels it ECONNRESET), Python says 'Remote end closed connection without response'." \
  empty-reply

lesson "A truncated body: FIN before Content-Length is reached" \
  "The head promised 13 body bytes; 6 arrived, then a clean FIN. Nothing was reset, so curl reports a short transfer (exit 18), and Python an IncompleteRead with both counts." \
  truncated-body

lesson "A reset mid-body: RST after exactly the bytes written" \
  "The same 6 bytes, then RST (SO_LINGER 0). hangup waits until the client has acknowledged the bytes, so they always arrive before the RST. curl shows the bytes it got, then 'Recv failure: Connection reset by peer' (exit 56)." \
  mid-body-reset

lesson "A server timeout: no answer, then FIN" \
  "Before Node 13, http.Server closed any request that took longer than server.timeout (two minutes). The client waited all that time for nothing, then got a FIN. Here the wait is one second." \
  server-timeout --set after=1s

client_requests=2
lesson "Keep-alive reuse: the server kills the socket the client reuses" \
  "The first response came on a keep-alive connection, so the client keeps the socket and sends its second request on it. The server resets it. Node reports ECONNRESET with req.reusedSocket === true, which is the signal its docs say to retry on. curl retries such a request by itself." \
  keepalive-reset -- --requests 2 --gap 200ms

client_body=1048576
curl_extra=(-X POST --data-binary "@$WORK/upload.bin")
head -c 1048576 /dev/zero >"$WORK/upload.bin"
lesson "An upload reset mid-body" \
  "The server read the head and 64 KiB of the body, then reset while the client was still sending. The RST meets the client inside send() or recv(); which one decides the message (curl 55 'Send failure' or 56 'Recv failure'). hangup probe says 'while-sending' either way." \
  upload-reset -- --body-bytes 1MiB

curl_extra=(-X "BAD METHOD" -w '%{http_code} ')
lesson "A malformed request: Node's 400" \
  "A request line Node cannot parse gets 'HTTP/1.1 400 Bad Request' and 'Connection: close', then the socket is closed; a header block over 16 KiB gets 431. The response is complete, so clients report a status, not an error (curl prints 400). Node and Python send well-formed requests: they get 200." \
  bad-request -- -X "BAD METHOD"

printf '\nThat is the tour. Every scenario: hangup list. Language: scenarios/README.md.\n'
