#!/usr/bin/env bash
# Run every built-in scenario against curl, node and python3 and print what
# each client reported, as the markdown table docs/clients.md shows.
#
#   scripts/outcome-table.sh                  print the table
#   scripts/outcome-table.sh --update         also write it into docs/clients.md
#   scripts/outcome-table.sh --check          exit 1 if a client behaves
#                                             otherwise than docs/clients.md says
#   scripts/outcome-table.sh --catalog [--check]
#                                             the same, every scenario served
#                                             by `hangup serve --catalog` at
#                                             /SCENARIO?NAME=VALUE
#   scripts/outcome-table.sh --compare [--allow-missing] EXPECTED ACTUAL
#                                             the same check, of two tables;
#                                             with --allow-missing, a row of
#                                             EXPECTED absent from ACTUAL is
#                                             no difference
#
# The check is of behaviour: the header's client versions (curl 7.88.1,
# ...) may differ from this machine's, and are then only mentioned. A cell
# that differs is named by scenario and client, with both versions.
#
# node and python send two requests on one keep-alive connection (the
# second shown only when it differs). Delays are shortened with --set.
# The proxy built-ins stand in front of a second hangup serving `hello`.
# The TLS built-ins are asked for over https://localhost:PORT/: those that
# handshake are started with --tls-ca-out and every client trusts that CA
# (curl --cacert, the clients' --ca); those that end at the ClientHello
# need no certificate. What OpenSSL adds that says which build it is
# (`OpenSSL/3.0.19: error:0A000438:SSL routines::`, Python's `(_ssl.c:1006)`)
# is left out, and the port is written PORT.
# The HTTP/2 built-ins (h2-*) are asked for over h2c with prior knowledge:
# curl --http2-prior-knowledge, node's http2.connect (one session, two
# requests on it: scripts/clients/node-h2-client.js) and python's httpx
# with h2 (http2=True, one Client: scripts/clients/python-h2-client.py),
# run by target/py's python, where scripts/test.sh installs httpx and h2,
# or by python3 when it has them. Without them the python cells say so,
# and --check fails on them.
#
# --catalog checks that a scenario chosen by path behaves as the scenario
# served alone, so its table must equal the docs': each row still gets a
# server of its own (`--catalog`, with the row's --seed), so connection and
# request numbers, and with them flaky's seeded draws, are what they are
# alone. Rows that no path can reach (a fault before any request is read,
# a proxy that needs --upstream) are left out and named. The TLS rows are
# asked for by name instead (SNI): `hangup serve --catalog --tls` at
# https://tls-NAME.localhost:PORT/, which the clients take for loopback as
# curl does; their messages name tls-NAME.localhost, written localhost
# here. It cannot update the docs: that table is of the scenarios served
# alone.
#
# --check-readme and --update-readme are the old names of --check and
# --update, from when the table was in README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# compare_tables [--allow-missing] EXPECTED ACTUAL
# Exit 0 when every scenario's row says the same in both tables, whatever
# client versions their headers name; else name each differing cell.
# --allow-missing: a run of fewer rows (--catalog) passes when the rows it
# has agree; a row it has that EXPECTED lacks is still a difference.
compare_tables() {
  local allow_missing=0
  if [[ $1 == --allow-missing ]]; then
    allow_missing=1
    shift
  fi
  awk -v allow_missing="$allow_missing" -F' [|] ' '
    function trim(s) { sub(/^[|] /, "", s); sub(/ [|]$/, "", s); return s }
    FNR == 1 {
      pass++
      for (i = 2; i <= NF; i++) version[pass, i] = trim($i)
      if (pass == 1) cols = NF
      next
    }
    FNR == 2 { next }
    pass == 1 { row = trim($1); order[++rows] = row; wanted[row] = 1; for (i = 2; i <= NF; i++) want[row, i] = trim($i); next }
    { row = trim($1); seen[row] = 1; for (i = 2; i <= NF; i++) got[row, i] = trim($i) }
    END {
      for (r = 1; r <= rows; r++) {
        row = order[r]
        if (!(row in seen) && allow_missing) continue
        if (!(row in seen)) { print "  " row ": in the expected table, not in this run"; bad++; continue }
        for (i = 2; i <= cols; i++) {
          if (want[row, i] == got[row, i]) continue
          client = version[1, i]; sub(/ .*/, "", client)
          printf "  %s, %s: expected (%s) \"%s\"\n", row, client, version[1, i], want[row, i]
          printf "  %*s  this run (%s) \"%s\"\n", length(row ", " client), "", version[2, i], got[row, i]
          bad++
        }
      }
      for (row in seen) if (!(row in wanted)) { print "  " row ": in this run, not in the expected table"; bad++ }
      if (bad) exit 1
      others = ""
      for (i = 2; i <= cols; i++) {
        if (version[1, i] != version[2, i]) others = others (others == "" ? "" : ", ") version[2, i] " (the table: " version[1, i] ")"
      }
      if (others != "") print "Other client versions here: " others "; each behaved as the table says."
    }
  ' "$1" "$2"
}

usage() {
  echo "usage: $0 [--catalog] [--check] | --update | --compare [--allow-missing] EXPECTED ACTUAL" >&2
  exit 2
}

if [[ ${1:-} == --compare ]]; then
  shift
  allow=()
  if [[ ${1:-} == --allow-missing ]]; then
    allow=(--allow-missing)
    shift
  fi
  (($# == 2)) || usage
  compare_tables "${allow[@]}" "$1" "$2"
  exit
fi

catalog=
if [[ ${1:-} == --catalog ]]; then
  catalog=1
  shift
fi
mode=${1:-print}
(($# <= 1)) || usage
case $mode in
  --check-readme) mode=--check ;;
  --update-readme) mode=--update ;;
esac
case $mode in
  print | --check) ;;
  --update)
    if [[ -n $catalog ]]; then
      echo "$0: --catalog does not update docs/clients.md: its table is of each scenario served alone, which a catalog run is checked against (--catalog --check)" >&2
      exit 2
    fi
    ;;
  *) usage ;;
esac
clients="$ROOT/scripts/clients"
head -c $((8 << 20)) /dev/zero >"$WORK/upload.bin"

# scenario | --set flags (or, from `--`, flags as they are: `--seed 7`) | curl flags | node/python gap ms | request body bytes | timeout ms
# [| upstream scenario, for a proxy] [| https: `ca` for a TLS built-in that
# handshakes (the clients trust the CA --tls-ca-out writes), `hello` for
# one that ends at the ClientHello] [| `h2`: asked for over HTTP/2, h2c].
# Curl flag `fresh`: a new server for each client (for counts across the
# server); `connect`: the connect itself times out (`connect-timeout`), so
# the port is left out of node's message; `handshake`: the handshake times
# out, which curl's --connect-timeout covers and names; `h2-reset`:
# HEADERS then RST_STREAM, whose status curl reports or not (a race in
# curl); `h2-drain`: GOAWAY then PING, which python's h2 reads together or
# apart (a race in the client).
cases=(
  "hello||||0|5000"
  "server-timeout|after=100ms|||0|5000"
  "server-timeout-reset|after=100ms|||0|5000"
  "keepalive-reset||reuse||0|5000"
  "flaky|--seed 7|||0|5000"
  "keepalive-idle-close|idle=100ms||300|0|5000"
  "mid-body-reset||||0|5000"
  "truncated-body||||0|5000"
  "truncated-chunked||||0|5000"
  "empty-reply||||0|5000"
  "reset-on-accept||race||0|5000"
  "connect-timeout||connect||0|500"
  "reset-on-first-byte||||0|5000"
  "upload-reset|limit=64KiB|upload||8388608|5000"
  "early-413||early-upload||8388608|5000"
  "bad-request||bad-method||0|5000"
  "bad-request-custom||bad-method||0|5000"
  "slow-body|every=10ms|||0|5000"
  "hang||||0|500"
  "end-keepalive||reuse||0|5000"
  "end-close||reuse||0|5000"
  "end-destroy||reuse||0|5000"
  "proxy||||0|5000|hello"
  "proxy-reset-after|bytes=66|||0|5000|hello"
  "proxy-close-after|bytes=67|||0|5000|hello"
  "proxy-fail-first|count=1|fresh||0|5000|hello"
  "tcp-proxy||||0|5000|hello"
  "tcp-reset-after|bytes=67|||0|5000|hello"
  "tls-reset-on-hello||||0|5000||hello"
  "tls-close-on-hello||||0|5000||hello"
  "tls-alert-on-hello||||0|5000||hello"
  "tls-stall-hello||handshake||0|500||hello"
  "tls-no-close-notify||||0|5000||ca"
  "tls-alert-mid-body||||0|5000||ca"
  "tls-expired||||0|5000||ca"
  "tls-wrong-host||||0|5000||ca"
  "tls-self-signed||||0|5000||ca"
  "tls-unknown-ca||||0|5000||ca"
  "h2-hello||||0|5000|||h2"
  "h2-goaway-refuse||||0|5000|||h2"
  "h2-goaway-drain-cut||||0|5000|||h2"
  "h2-rst-after-headers||h2-reset||0|5000|||h2"
  "h2-refused-stream||||0|5000|||h2"
  "h2-max-age||h2-drain||0|5000|||h2"
  "h2-too-many-pings||||0|5000|||h2"
  "h2-window-stall||||0|500|||h2"
)

# by_path SCENARIO UPSTREAM: whether `hangup serve --catalog` can run the
# case. The path is in the first request, so a fault that comes before it
# is read cannot be chosen by it; a proxy needs --upstream, which
# --catalog does not take. (The TLS built-ins come before any request too,
# but `--catalog --tls` chooses them by the name in the ClientHello.)
by_path() {
  [[ -z $2 && $1 != reset-on-accept && $1 != connect-timeout ]]
}

# url_encode TEXT: TEXT with every byte but RFC 3986's unreserved ones
# percent-encoded, for a query string.
url_encode() {
  local LC_ALL=C text=$1 out='' c i
  for ((i = 0; i < ${#text}; i++)); do
    c=${text:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# start_catalog SCENARIO HTTPS FLAGS...: `hangup serve --catalog` with the
# case's server flags (--seed), its --set values moved to the query of
# HANGUP_URL, whose path names SCENARIO; for a TLS case (HTTPS not empty),
# `--catalog --tls` and SCENARIO asked for by name (SNI).
start_catalog() {
  local scenario=$1 https=$2 query='' serve_flags=()
  shift 2
  while (($#)); do
    if [[ $1 == --set ]]; then
      query+="${query:+&}$(url_encode "${2%%=*}")=$(url_encode "${2#*=}")"
      shift 2
    else
      serve_flags+=("$1")
      shift
    fi
  done
  if [[ -n $https ]]; then
    start_hangup --catalog --tls --tls-ca-out "$WORK/ca.pem" "${serve_flags[@]}" --quiet
    HANGUP_URL="https://$scenario.localhost:$HANGUP_PORT/"
    return
  fi
  start_hangup --catalog "${serve_flags[@]}" --quiet
  HANGUP_URL="http://127.0.0.1:$HANGUP_PORT/$scenario${query:+?$query}"
}

# start_case SCENARIO UPSTREAM HTTPS SETS...: hangup for one case, and in
# front of a hangup serving UPSTREAM when there is one; over TLS when HTTPS
# says so (`ca`: with the CA written for the clients); with --catalog, the
# catalog at the case's path, or name. Sets HANGUP_URL.
start_case() {
  local scenario=$1 upstream=$2 https=$3
  shift 3
  UPSTREAM_PID=
  rm -f "$WORK/ca.pem"
  if [[ -n $catalog ]]; then
    start_catalog "$scenario" "$https" "$@"
  elif [[ -n $https ]]; then
    local ca=()
    [[ $https == ca ]] && ca=(--tls-ca-out "$WORK/ca.pem")
    start_hangup "$scenario" "$@" "${ca[@]}" --quiet
    HANGUP_URL="https://localhost:$HANGUP_PORT/"
  elif [[ -n $upstream ]]; then
    start_server "$HANGUP" serve "$upstream" --quiet --listen 127.0.0.1:0
    UPSTREAM_PID=$SERVER_PID
    start_hangup "$scenario" "$@" --quiet --upstream "127.0.0.1:$SERVER_PORT"
  else
    start_hangup "$scenario" "$@" --quiet
  fi
}

stop_case() {
  stop_hangup
  [[ -z $UPSTREAM_PID ]] || stop_server "$UPSTREAM_PID"
}

# tls_words FILE: what FILE holds, without what names the TLS library's
# build, and with this case's port as PORT and, through --catalog, the
# name a TLS built-in was asked for as localhost.
tls_words() {
  sed -i -E \
    -e 's/OpenSSL\/[0-9][0-9a-z.]*: //g' \
    -e 's/error:[0-9A-F]{8}:SSL routines:[^:]*://g' \
    -e "s/:$HANGUP_PORT\b/:PORT/g" \
    -e 's/tls-[a-z-]+\.localhost/localhost/g' \
    -e 's/ +$//' \
    "$1"
}

curl_cell() {
  local flags=$1 timeout_ms=$2 proto=$3 status=0 code
  local seconds
  seconds=$(awk "BEGIN{print $timeout_ms/1000}")
  local args=(-sS -o /dev/null -w '%{http_code}\n')
  [[ -f $WORK/ca.pem ]] && args+=(--cacert "$WORK/ca.pem")
  [[ $proto == h2 ]] && args+=(--http2-prior-knowledge)
  case $flags in
    # The handshake's own timeout, which curl names (-m alone would say
    # "Connection timed out"); -m stays as a bound, twice as long.
    handshake) args+=(--connect-timeout "$seconds" -m "$(awk "BEGIN{print 2*$seconds}")") ;;
    *) args+=(-m "$seconds") ;;
  esac
  case $flags in
    # Two URLs: curl reuses the connection; -v shows whether it retried.
    reuse) args+=(-v "$HANGUP_URL") ;;
    upload) args+=(-X POST --data-binary "@$WORK/upload.bin") ;;
    # curl sends `Expect: 100-continue` for it, so it gets the 413 first.
    early-upload) args+=(-X POST --data-binary "@$WORK/upload.bin") ;;
    bad-method) args+=(-X 'BAD METHOD') ;;
  esac
  code=$(curl "${args[@]}" "$HANGUP_URL" 2>"$WORK/curl.err" | tail -1) || status=$?
  tls_words "$WORK/curl.err"
  local message
  message=$(grep '^curl: (' "$WORK/curl.err" | sed -e 's/^curl: ([0-9]*) //' -e 's/ after [0-9]* milliseconds.*//' | tail -1 || true)
  local cell="exit $status"
  [[ $code != 000 ]] && cell+=", HTTP $code"
  [[ -n $message ]] && cell+=": $message"
  if [[ $flags == upload ]]; then
    # The RST meets curl in send() or recv(): 55 or 56, same reset.
    cell=$(sed -E 's/^exit 5[56]: (Send|Recv) failure: /exit 55 or 56: /' <<<"$cell")
  fi
  if [[ $flags == race ]]; then
    # The RST lands before curl checked its connect (7), before its send
    # (55, rare) or after it (56).
    cell=$(sed -E 's/^exit (7|55|56): .*/exit 7, 55 or 56: Couldn'"'"'t connect to server, or Send\/Recv failure: Connection reset by peer/' <<<"$cell")
  fi
  if [[ $flags == h2-reset ]]; then
    # HEADERS and the RST_STREAM after it reach curl in one read or in
    # two: in one, curl fails the stream before it took the status (about
    # 1 in 7 here).
    cell=$(sed -E 's/^exit 92(, HTTP 200)?: /exit 92, HTTP 200 or none (racy): /' <<<"$cell")
  fi
  if grep -q 'Connection died, retrying a fresh connect' "$WORK/curl.err"; then
    cell+=" (2nd: the reused connection died; curl retried on a new one)"
  fi
  printf '%s' "$cell"
}

# The python that has httpx and h2, for the HTTP/2 rows: the one in
# cargo's target directory (target/py), where scripts/test.sh installs
# them, else python3 when it has them; empty when neither has.
h2_python=
for python in "$(cargo_target_dir)/py/bin/python3" python3; do
  if "$python" -c 'import httpx, h2' 2>/dev/null; then
    h2_python=$python
    break
  fi
done

# Two lines "request N: ..." to one cell.
client_cell() {
  local first second
  first=$(sed -n 's/^request 1: //p' "$1" | sed 's/ (reusedSocket=false)//')
  second=$(sed -n 's/^request 2: //p' "$1" | sed 's/ (reusedSocket=false)//')
  if [[ -z $second || $second == "$first" ]]; then
    printf '%s' "$first"
  else
    printf '1st: %s; 2nd: %s' "$first" "$second"
  fi
}

# The cases --catalog leaves out (by_path), filled in by table.
unavailable=()

table() {
  local httpx=
  [[ -z $h2_python ]] || httpx=", httpx $("$h2_python" -c 'import httpx; print(httpx.__version__)')"
  echo "| scenario | curl $(curl --version | sed -n '1s/curl \([0-9.]*\).*/\1/p') | node $(node --version) | python $(python3 -c 'import platform; print(platform.python_version())')$httpx |"
  echo "|---|---|---|---|"
  local case scenario set flags gap body timeout upstream https proto
  for case in "${cases[@]}"; do
    IFS='|' read -r scenario set flags gap body timeout upstream https proto <<<"$case"
    if [[ -n $catalog ]] && ! by_path "$scenario" "$upstream"; then
      unavailable+=("$scenario")
      continue
    fi
    local sets=()
    case $set in
      --*) read -ra sets <<<"$set" ;;
      ?*) sets=(--set "$set") ;;
    esac
    start_case "$scenario" "$upstream" "$https" "${sets[@]}"
    local curl_text node_text python_text
    curl_text=$(curl_cell "$flags" "$timeout" "$proto")
    if [[ $flags == fresh ]]; then
      stop_case
      start_case "$scenario" "$upstream" "$https" "${sets[@]}"
    fi
    local ca=()
    [[ -f $WORK/ca.pem ]] && ca=(--ca "$WORK/ca.pem")
    if [[ $proto == h2 ]]; then
      node "$clients/node-h2-client.js" "${ca[@]}" "$HANGUP_URL" 2 "${gap:-0}" "$timeout" >"$WORK/node.out" 2>&1 || true
    else
      node "$clients/node-client.js" "${ca[@]}" "$HANGUP_URL" 2 "${gap:-0}" "$timeout" "$body" >"$WORK/node.out" 2>&1 || true
    fi
    if [[ $flags == fresh ]]; then
      stop_case
      start_case "$scenario" "$upstream" "$https" "${sets[@]}"
    fi
    if [[ $proto != h2 ]]; then
      python3 "$clients/python-client.py" "${ca[@]}" "$HANGUP_URL" 2 "${gap:-0}" "$timeout" "$body" >"$WORK/python.out" 2>&1 || true
    elif [[ -n $h2_python ]]; then
      "$h2_python" "$clients/python-h2-client.py" "${ca[@]}" "$HANGUP_URL" 2 "${gap:-0}" "$timeout" >"$WORK/python.out" 2>&1 || true
    else
      echo "request 1: not run: httpx and h2 are not installed here (scripts/test.sh installs them into the cargo target directory, py/)" >"$WORK/python.out"
    fi
    if [[ -n $https ]]; then
      tls_words "$WORK/node.out"
      tls_words "$WORK/python.out"
    fi
    if [[ $flags == upload ]]; then
      # The RST meets node in write() or read(), per request.
      sed -i -E 's/(write|read) ECONNRESET/write or read ECONNRESET/' "$WORK/node.out"
    fi
    if [[ $flags == connect ]]; then
      # The port changes from run to run; the error does not.
      sed -i -E 's/(connect ETIMEDOUT) 127\.0\.0\.1:[0-9]+/\1/' "$WORK/node.out"
    fi
    if [[ $flags == race ]]; then
      # The RST meets node in connect(), write() (rare) or read().
      sed -i -E 's/(connect ECONNRESET 127\.0\.0\.1:[0-9]+|write ECONNRESET|read ECONNRESET)/connect, write or read ECONNRESET/' "$WORK/node.out"
    fi
    if [[ $flags == early-upload ]]; then
      # The 413 and the RST race node's upload: it reads the 413 (about 1
      # in 8 here) or fails in write() first, per request.
      sed -i -E 's/^(request [0-9]+: )(status 413, 0 body bytes|error ECONNRESET: (write|read) ECONNRESET \(reusedSocket=false\))$/\1error ECONNRESET: write ECONNRESET, or status 413 (racy)/' "$WORK/node.out"
      # python3 is still in sendall(): ECONNRESET, or EPIPE when the RST came first.
      sed -i -E 's/^(request [0-9]+: )(ConnectionResetError: \[Errno 104\] Connection reset by peer|BrokenPipeError: \[Errno 32\] Broken pipe)$/\1ConnectionResetError: [Errno 104] Connection reset by peer, or BrokenPipeError: [Errno 32] Broken pipe/' "$WORK/python.out"
    fi
    if [[ $flags == h2-drain ]]; then
      # h2 reads the GOAWAY alone and httpx fails on it, or the PING with
      # it, which h2 takes for an error once a GOAWAY came.
      sed -i -E 's/^(request [0-9]+: )(RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:2147483647, additional_data:None>|LocalProtocolError: Invalid input ConnectionInputs.RECV_PING in state ConnectionState.CLOSED)$/\1RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:2147483647, additional_data:None>, or LocalProtocolError: Invalid input ConnectionInputs.RECV_PING in state ConnectionState.CLOSED (racy)/' "$WORK/python.out"
    fi
    node_text=$(client_cell "$WORK/node.out")
    python_text=$(client_cell "$WORK/python.out")
    stop_case
    echo "| \`$scenario\` | $curl_text | $node_text | $python_text |"
  done
}

table >"$WORK/table.md"
cat "$WORK/table.md"
if ((${#unavailable[@]})); then
  printf -v list '%s, ' "${unavailable[@]}"
  echo "not available by path: ${list%, }"
fi

# The table's home, between these two lines.
doc="$ROOT/docs/clients.md"
begin='<!-- outcome-table:begin (scripts/outcome-table.sh --update) -->'
end='<!-- outcome-table:end -->'
current=$(awk -v begin="$begin" -v end="$end" '$0 == end { inside = 0 } inside { print } $0 == begin { inside = 1 }' "$doc")
if [[ -z $current ]]; then
  echo "$0: no outcome table in $doc (between the lines $begin and $end)" >&2
  exit 1
fi
case $mode in
  print) ;;
  --check)
    printf '%s\n' "$current" >"$WORK/doc-table.md"
    if [[ -n $catalog ]]; then
      if ! compare_tables --allow-missing "$WORK/doc-table.md" "$WORK/table.md" >"$WORK/compare.txt"; then
        echo "Through --catalog, a client behaves otherwise than the outcome table in docs/clients.md (each scenario served alone) says:" >&2
        cat "$WORK/compare.txt" >&2
        echo "A scenario chosen by path must behave as the scenario served alone: the catalog is wrong, not the table." >&2
        exit 1
      fi
      cat "$WORK/compare.txt"
      echo "The outcome table in docs/clients.md matches this run through --catalog, but for the rows not available by path."
    else
      if ! compare_tables "$WORK/doc-table.md" "$WORK/table.md" >"$WORK/compare.txt"; then
        echo "A client behaves otherwise than the outcome table in docs/clients.md says:" >&2
        cat "$WORK/compare.txt" >&2
        echo "If this is what the client does, run scripts/outcome-table.sh --update" >&2
        exit 1
      fi
      cat "$WORK/compare.txt"
      echo "The outcome table in docs/clients.md matches this run."
    fi
    ;;
  --update)
    awk -v begin="$begin" -v end="$end" -v table="$WORK/table.md" '
      $0 == begin { print; while ((getline line < table) > 0) print line; skip = 1; next }
      $0 == end { skip = 0 }
      !skip { print }
    ' "$doc" >"$WORK/clients.md"
    cp "$WORK/clients.md" "$doc"
    echo "docs/clients.md updated."
    ;;
esac
