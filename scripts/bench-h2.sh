#!/usr/bin/env bash
# Measure HTTP/2 (h2c with prior knowledge) on three servers doing the same
# job, in one run, and print every figure and hangup's ratios as a markdown
# table:
#
#   hangup   `hangup serve h2-hello --quiet`, the release build (or the
#            binary HANGUP names: bench.sh passes its static one);
#   node     Node's `http2` server, written below: 200, content-type
#            text/plain, content-length 6, "hello\n", no date;
#   nghttpd  nghttp2's own server (one worker, as it starts), serving a file
#            `hello.txt` of "hello\n" as text/plain. It adds server, date,
#            cache-control and last-modified, which no flag removes; HPACK
#            indexes them after the first answer, so its responses are only
#            a few bytes longer than the others'.
#
# Figures: requests per second from `h2load -c10 -m1` and `-m100` (1 and 100
# concurrent streams on each of 10 connections), with the server's CPU per
# request; then the memory each server holds per idle connection (VmRSS
# growth over 1,000 of them): HTTP/2 right after the handshake, HTTP/2
# after one request, and HTTP/1.1 keep-alive after one request, beside it.
#
#   scripts/bench-h2.sh             three rounds, interleaved (about 3 minutes)
#   scripts/bench-h2.sh --rounds N  N rounds (1 to 9)
#
# The rates are the median of the rounds, whose figures are all shown;
# h2load shares the cores with the server it loads, so read the ratios,
# taken in the same run. Installs h2load (nghttp2-client) and nghttpd
# (nghttp2-server) when missing; needs node and python3. Loopback only;
# every h2load is bounded in requests and in time (timeout), every client
# loop in count and time; only the servers this script started are stopped.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/apt.sh"

ROUNDS=3
case ${1:-} in
  "") ;;
  --rounds)
    ROUNDS=${2:-}
    if [[ ! $ROUNDS =~ ^[1-9]$ ]]; then
      echo "bench-h2.sh: --rounds takes 1 to 9, not '${ROUNDS}'" >&2
      exit 2
    fi
    ;;
  *)
    echo "usage: scripts/bench-h2.sh [--rounds N]" >&2
    exit 2
    ;;
esac

missing=()
command -v h2load >/dev/null || missing+=(nghttp2-client)
# nghttpd lives in /usr/sbin, which a user's PATH may lack.
NGHTTPD=$(command -v nghttpd || echo /usr/sbin/nghttpd)
[[ -x $NGHTTPD ]] || missing+=(nghttp2-server)
if ((${#missing[@]})); then
  echo "bench-h2.sh: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
  NGHTTPD=$(command -v nghttpd || echo /usr/sbin/nghttpd)
fi
for tool in node python3; do
  command -v "$tool" >/dev/null || {
    echo "bench-h2.sh needs $tool" >&2
    exit 1
  }
done

began=$SECONDS
# How busy the machine is: the load average, and the share of the last 10 s
# in which some task waited for a CPU (pressure stall information).
machine_load() {
  local pressure
  pressure=$(awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || true)
  echo "load $(cut -d' ' -f1 /proc/loadavg)${pressure:+, CPU pressure $pressure %}"
}
load_before=$(machine_load)

# Requests per run: enough for Node to run a few seconds, and h2load's time
# bound on each, far above what the slowest server needs.
CONNS=10
declare -A REQUESTS=([1]=150000 [100]=300000)
H2LOAD_TIMEOUT=90
# Idle connections held for the memory figures, within the descriptors
# this shell may open (the servers and the client inherit the limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
IDLE=$(($(ulimit -n) - 100))
if ((IDLE > 1000)); then IDLE=1000; fi
if ((IDLE < 100)); then
  echo "bench-h2.sh: ulimit -n is $(ulimit -n); the memory figures need 1,100 descriptors" >&2
  exit 1
fi
PATH_=/hello.txt

# nghttpd's document root: the file, and a MIME map so that it says text/plain.
mkdir "$WORK/htdocs"
printf 'hello\n' >"$WORK/htdocs/hello.txt"
printf 'text/plain\ttxt\n' >"$WORK/mime.types"

# Node's servers. h2: the core `stream` API (lighter than the compatibility
# API of http2.createServer(handler)), without the date header. h1: an
# HTTP/1.1 server for the keep-alive memory figure, which keeps idle
# connections (Node closes them after 5 s by default).
cat >"$WORK/node-server.js" <<'JS'
const http = require('http');
const http2 = require('http2');
const jobs = {
  h2: () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': 6 }, { sendDate: false });
      stream.end('hello\n');
    });
    return server;
  },
  h1: () => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 6 });
      res.end('hello\n');
    });
    server.keepAliveTimeout = 0;
    return server;
  },
};
const server = jobs[process.argv[2]]();
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS

# The idle connections: each one is opened, taken to the state asked, then
# left silent; the server's RSS growth over all of them, per connection.
cat >"$WORK/idle.py" <<'PY'
import resource, select, socket, struct, sys, time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, SETTINGS, PING = 0, 1, 4, 6
END_STREAM, ACK, END_HEADERS = 1, 1, 4

def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

def request_block(path, authority):
    # GET, http, :path and :authority as literals with incremental indexing,
    # as clients send them.
    return (b"\x82\x86" + b"\x44" + bytes([len(path)]) + path
            + b"\x41" + bytes([len(authority)]) + authority)

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

class Closed(Exception):
    pass

def frames(s, buf, deadline):
    """Yield (kind, flags, stream) of each frame the server sends."""
    while True:
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            kind, flags = buf[3], buf[4]
            stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            del buf[:9 + length]
            yield kind, flags, stream
        left = deadline - time.monotonic()
        if left <= 0:
            sys.exit("the idle connections took over 60 s")
        s.settimeout(left)
        data = s.recv(65536)
        if not data:
            raise Closed()
        buf += data

def h2(s, path, deadline, request):
    """Preface and SETTINGS; the server's SETTINGS acknowledged; a PING
    (and a request) sent, and read until its ACK (and the response's end):
    the server has then read all we sent."""
    buf = bytearray()
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    for kind, flags, _ in frames(s, buf, deadline):
        if kind == SETTINGS and not flags & ACK:
            break
    out = frame(SETTINGS, ACK, 0) + frame(PING, 0, 0, b"idlebnch")
    if request:
        out += frame(HEADERS, END_STREAM | END_HEADERS, 1, request_block(path, b"127.0.0.1"))
    s.sendall(out)
    pinged, answered = False, not request
    for kind, flags, stream in frames(s, buf, deadline):
        pinged |= kind == PING and bool(flags & ACK)
        answered |= stream == 1 and kind in (DATA, HEADERS) and bool(flags & END_STREAM)
        if pinged and answered:
            return

def h1(s, path, deadline, request):
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    got = b""
    while not got.endswith(b"hello\n"):
        s.settimeout(max(deadline - time.monotonic(), 0.001))
        data = s.recv(65536)
        if not data:
            raise Closed()
        got += data

def still_open(s):
    """The connection is open (no FIN or RST waiting), without blocking."""
    readable, _, _ = select.select([s], [], [], 0)
    if not readable:
        return True
    try:
        s.setblocking(False)
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False

def open_idle(port, path, how, request, count, deadline):
    conns = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        how(s, path, deadline, request)
        conns.append(s)
    return conns

def main():
    port, pid, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    proto, path = sys.argv[4], sys.argv[5].encode()
    how, request = {"h2": (h2, False), "h2-request": (h2, True), "h1-request": (h1, True)}[proto]
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    deadline = time.monotonic() + 60
    try:
        # A few first, closed again: code run for the first time (and the
        # allocator's first arenas) is not a connection's cost.
        for s in open_idle(port, path, how, request, 20, deadline):
            s.close()
        time.sleep(0.5)
        before = rss_kib(pid)
        conns = open_idle(port, path, how, request, count, deadline)
    except Closed:
        sys.exit("the server closed a connection before it was idle")
    time.sleep(0.5)
    after = rss_kib(pid)
    closed = sum(not still_open(s) for s in conns)
    if closed:
        sys.exit(f"the server closed {closed} of the {count} idle connections")
    for s in conns:
        s.close()
    print(f"{(after - before) * 1024 / count:.0f}")

main()
PY

# CPU time (user + system, all threads) a process has used, in microseconds.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# nghttpd says nothing when it listens: give it a free port, and watch
# /proc/net/tcp for its listening socket (state 0A). Sets SERVER_PID and
# SERVER_PORT, as start_server does.
start_nghttpd() {
  local port hex tries=0
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  hex=$(printf '%04X' "$port")
  "$NGHTTPD" --no-tls -a 127.0.0.1 -d "$WORK/htdocs" --mime-types-file="$WORK/mime.types" "$port" \
    >>"$WORK/nghttpd.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  until grep -q "^ *[0-9]*: 0100007F:$hex 00000000:0000 0A" /proc/net/tcp; do
    tries=$((tries + 1))
    if ((tries > 100)) || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "nghttpd did not start:" >&2
      cat "$WORK/nghttpd.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  SERVER_PORT=$port
}

# serve WHO JOB: start server WHO (hangup, node, nghttpd) doing JOB: h2
# (the benchmark), h2-idle (the same, never closing an idle connection) or
# h1-idle (HTTP/1.1 keep-alive, never closing). Sets SERVER_PID and
# SERVER_PORT.
serve() {
  case $1:$2 in
    hangup:h2) start_server "$HANGUP" serve h2-hello --listen 127.0.0.1:0 --quiet ;;
    hangup:h2-idle) start_server "$HANGUP" serve h2-hello --set idle=10m --listen 127.0.0.1:0 --quiet ;;
    hangup:h1-idle) start_server "$HANGUP" serve hello --set idle=10m --listen 127.0.0.1:0 --quiet ;;
    node:h2 | node:h2-idle) start_server node "$WORK/node-server.js" h2 ;;
    node:h1-idle) start_server node "$WORK/node-server.js" h1 ;;
    nghttpd:h2 | nghttpd:h2-idle) start_nghttpd ;;
    *)
      echo "bench-h2.sh: no $1 server for $2" >&2
      exit 1
      ;;
  esac
}

# load WHO STREAMS: one h2load run on a fresh WHO; sets RESULT to "req/s
# requests server-CPU-µs errors" (errors: requests that failed, errored,
# timed out or were not 2xx; all of them if h2load hit its time bound).
load() {
  local who=$1 m=$2 n=${REQUESTS[$2]} before after out
  serve "$who" h2
  before=$(cpu_us "$SERVER_PID")
  out=$(timeout "$H2LOAD_TIMEOUT" h2load -t1 -c"$CONNS" -m"$m" -n"$n" "http://127.0.0.1:$SERVER_PORT$PATH_" 2>&1) || true
  after=$(cpu_us "$SERVER_PID")
  stop_server "$SERVER_PID"
  RESULT=$(awk -v cpu="$((after - before))" -v n="$n" '
    /^finished in/ { rps = $4 }
    # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
    /^requests:/ { served = $8; errors = $10 + $12 + $14 }
    # status codes: N 2xx, N 3xx, N 4xx, N 5xx
    /^status codes:/ { errors += $5 + $7 + $9 }
    END {
      if (rps == "") { rps = 0; served = 0; errors = n }
      printf "%.0f %d %d %d\n", rps, served, cpu, errors
    }' <<<"$out")
}

# Three figures as "a / b / c", their median, and sums.
declare -A RUNS=() SAMPLES=() SERVED=() CPU=() ERRORS=()
for ((round = 1; round <= ROUNDS; round++)); do
  for m in 1 100; do
    echo "measuring: round $round of $ROUNDS, h2load -c$CONNS -m$m -n${REQUESTS[$m]} on each server" >&2
    for who in hangup node nghttpd; do
      load "$who" "$m"
      read -r rps served cpu errors <<<"$RESULT"
      key=$who:$m
      RUNS[$key]="${RUNS[$key]:-}${RUNS[$key]:+ / }$(calc '%.1fk' "$rps / 1000")"
      SAMPLES[$key]="${SAMPLES[$key]:-} $rps"
      SERVED[$key]=$((${SERVED[$key]:-0} + served))
      CPU[$key]=$((${CPU[$key]:-0} + cpu))
      ERRORS[$key]=$((${ERRORS[$key]:-0} + errors))
    done
  done
done

median() {
  # shellcheck disable=SC2086 # the samples are split on purpose
  printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rows=()
notes=""
# row FIGURE HANGUP NODE NGHTTPD VS_NODE VS_NGHTTPD TARGET MET
row() { rows+=("$(printf '| %s ' "$@")|"); }
met() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "**missed**"; fi; }
times() { calc '%.2f×' "$1 / $2"; }

declare -A MEDIAN=() per=()
for m in 1 100; do
  for who in hangup node nghttpd; do
    MEDIAN[$who:$m]=$(median "${SAMPLES[$who:$m]}")
    key=$who:$m
    if ((ERRORS[$key] > 0)); then notes+=" $who -m$m: ${ERRORS[$key]} requests failed."; fi
  done
  row "req/s, \`h2load -c$CONNS -m$m -n${REQUESTS[$m]}\` (runs; ratios of the medians)" \
    "${RUNS[hangup:$m]}" "${RUNS[node:$m]}" "${RUNS[nghttpd:$m]}" \
    "$(times "${MEDIAN[hangup:$m]}" "${MEDIAN[node:$m]}")" \
    "$(times "${MEDIAN[hangup:$m]}" "${MEDIAN[nghttpd:$m]}")" "ahead of node" \
    "$(met "${MEDIAN[hangup:$m]} > ${MEDIAN[node:$m]}")"
  for who in hangup node nghttpd; do
    per[$who]=$(calc '%.2f' "${CPU[$who:$m]} / (${SERVED[$who:$m]} + 1e-9)")
  done
  row "… server CPU per request, all runs" "${per[hangup]} µs" "${per[node]} µs" "${per[nghttpd]} µs" \
    "$(times "${per[node]}" "${per[hangup]}") less" "$(times "${per[nghttpd]}" "${per[hangup]}") less" "" ""
done

# idle WHO JOB PROTO: bytes of RSS per idle connection.
idle() {
  serve "$1" "$2"
  timeout 100 python3 "$WORK/idle.py" "$SERVER_PORT" "$SERVER_PID" "$IDLE" "$3" "$PATH_" >"$WORK/result"
  stop_server "$SERVER_PID"
  RESULT="$(<"$WORK/result") B"
}
declare -A MEM=()
echo "measuring: memory per idle connection ($IDLE of them, each kind, each server)" >&2
for who in hangup node nghttpd; do
  idle "$who" h2-idle h2
  MEM[$who:h2]=$RESULT
  idle "$who" h2-idle h2-request
  MEM[$who:h2-request]=$RESULT
done
for who in hangup node; do
  idle "$who" h1-idle h1-request
  MEM[$who:h1]=$RESULT
done
row "memory per idle HTTP/2 connection ($IDLE after the handshake: SETTINGS both ways, a PING)" \
  "${MEM[hangup:h2]}" "${MEM[node:h2]}" "${MEM[nghttpd:h2]}" "" "" "beside node's" ""
row "memory per idle HTTP/2 connection ($IDLE after one request each)" \
  "${MEM[hangup:h2-request]}" "${MEM[node:h2-request]}" "${MEM[nghttpd:h2-request]}" "" "" "beside node's" ""
row "memory per idle HTTP/1.1 keep-alive connection ($IDLE after one request each; hangup \`hello\`, node \`http\`)" \
  "${MEM[hangup:h1]}" "${MEM[node:h1]}" "—" "" "" "for comparison" ""

h2load_version=$(h2load --version 2>/dev/null | sed -n 's/^h2load nghttp2\/\([^ ]*\).*/\1/p')
echo "| figure | hangup | node $(node --version) | nghttpd ${h2load_version:-?} | hangup vs node | hangup vs nghttpd | target | |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
echo "$(nproc) cores ($cpu_model), $(uname -m), Linux $(uname -r | cut -d- -f1), $(date -u +%Y-%m-%d);" \
  "hangup $(ldd "$HANGUP" >/dev/null 2>&1 && echo 'release build' || echo 'static');" \
  "$load_before before, $(machine_load) after; rounds: $ROUNDS; the run took $((SECONDS - began)) s.${notes}"
