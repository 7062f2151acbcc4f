#!/usr/bin/env bash
# Measure three servers doing the same job, in one run, and print every
# figure and the ratios as a markdown table:
#
#   hangup  the static release binary, from scripts/build-static.sh;
#   node    Node.js servers written below, in the style of the seeds;
#   limit   examples/bare_loop.rs, built static the same way: a bare mio
#           loop answering fixed bytes, the ceiling for any one-thread
#           server. hangup's distance from it is what its design costs.
#
# All three send the same bytes. Loopback only; every load is bounded in
# time, and the whole run takes under two minutes.
#
#   scripts/bench.sh            the servers, as above
#   scripts/bench.sh --proxy    only the proxy section: hangup in front of an
#                               upstream, against a bare mio relay, socat and
#                               a Node pipe proxy (under three minutes)
#   scripts/bench.sh --tls      only the TLS section: hangup --tls against a
#                               bare mio loop with rustls and Node's https
#                               (about two minutes)
#   scripts/bench.sh --h2       only HTTP/2: scripts/bench-h2.sh (h2load on
#                               hangup, Node's http2 and nghttpd; about a
#                               minute a round)
#   scripts/bench.sh --all      all four, one after the other
#
# Needs wrk, and socat for --proxy (installed from Debian's packages when
# missing and root), node and python3. wrk runs on the same cores as the
# server it loads, so the absolute figures drift from run to run: read the
# ratios, taken in the same run. The last line says how busy the machine was.
set -euo pipefail
# HTTP/2 has a script of its own, with its own tools (h2load, nghttpd).
if [[ ${1:-} == --h2 ]]; then
  exec "$(dirname "$0")/bench-h2.sh" "${@:2}"
fi
# The static binary is built below, where cargo says; common.sh need not
# build another.
HANGUP=static
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "bench.sh needs wrk: apt-get install wrk" >&2
    exit 1
  fi
fi
MODE=server
case ${1:-} in
  "") ;;
  --proxy) MODE=proxy ;;
  --tls) MODE=tls ;;
  --all) MODE=all ;;
  *)
    echo "usage: scripts/bench.sh [--proxy | --tls | --h2 | --all]" >&2
    exit 2
    ;;
esac
began=$SECONDS
# How busy the machine is: the load average, and the share of the last 10 s
# in which some task waited for a CPU (pressure stall information).
machine_load() {
  local pressure
  pressure=$(awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || true)
  echo "load $(cut -d' ' -f1 /proc/loadavg)${pressure:+, CPU pressure $pressure %}"
}
load_before=$(machine_load)
"$ROOT/scripts/build-static.sh" >"$WORK/static.txt"
STATIC=$(cut -d' ' -f1 "$WORK/static.txt")
LIMIT=$("$ROOT/scripts/build-static.sh" --example bare_loop | cut -d' ' -f1)
NODE=$(readlink -f "$(command -v node)")
# 10,000 held connections need as many descriptors in the server and the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The Node servers, in the style of the seeds: one per job. The http ones
# drop the Date and Connection headers Node adds, so that they send the very
# bytes hangup and the limit send.
cat >"$WORK/node-server.js" <<'JS'
const http = require('http');
const net = require('net');
const jobs = {
  // 200 "hello" keep-alive, like `hangup serve hello`.
  hello: () => http.createServer((req, res) => {
    res.sendDate = false;
    res.removeHeader('Connection');
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 6 });
    res.end('hello\n');
  }),
  // 200 "done", then close, like `hangup serve end-close`.
  close: () => http.createServer((req, res) => {
    res.sendDate = false;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Connection': 'close', 'Content-Length': 5 });
    res.end('done\n');
  }),
  // Accept and never answer, like `hangup serve hang`.
  hang: () => net.createServer(() => {}),
  // Read the request, RST 100 ms later, like `server-timeout-reset --set after=100ms`.
  timeout: () => net.createServer((socket) => {
    socket.once('data', () => setTimeout(() => socket.resetAndDestroy(), 100));
  }),
};
const server = jobs[process.argv[2]]();
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS

# Timing, memory and held connections, to the microsecond.
cat >"$WORK/measure.py" <<'PY'
import resource, socket, statistics, subprocess, sys, time

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def startup(runs, cmds):
    """Median ms from spawn to the first line on stdout, for each command.
    The commands take turns, so that a busy moment slows all of them."""
    times = [[] for _ in cmds]
    for _ in range(runs):
        for cmd, spent in zip(cmds, times):
            start = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            p.stdout.readline()
            spent.append((time.perf_counter() - start) * 1000)
            p.kill()
            p.wait()
    return [statistics.median(spent) for spent in times]

def hold(port, count, pid):
    """RSS growth per connection (bytes) with `count` idle connections."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    time.sleep(0.3)
    before = rss_kib(pid)
    conns = []
    deadline = time.monotonic() + 30
    for _ in range(count):
        conns.append(socket.create_connection(("127.0.0.1", port)))
        if time.monotonic() > deadline:
            sys.exit("holding connections took over 30 s")
    time.sleep(1.0)  # let the server accept them all
    after = rss_kib(pid)
    for c in conns:
        c.close()
    return (after - before) * 1024 / count

what = sys.argv[1]
if what == "startup":
    # startup RUNS COMMAND... [--and COMMAND...]...
    cmds = [[]]
    for arg in sys.argv[3:]:
        if arg == "--and":
            cmds.append([])
        else:
            cmds[-1].append(arg)
    print(" ".join(f"{ms:.3f}" for ms in startup(int(sys.argv[2]), cmds)))
elif what == "rss":
    time.sleep(0.3)
    print(rss_kib(int(sys.argv[2])))
elif what == "hold":
    print(f"{hold(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])):.0f}")
PY
measure() { python3 "$WORK/measure.py" "$@"; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# command_for WHO JOB
# Set CMD to the command line of server WHO (hangup, node, limit) doing
# JOB: hello (keep-alive), close (answer, then FIN), hang, or timeout (RST
# 100 ms after the request).
command_for() {
  case $1 in
    hangup)
      case $2 in
        close) CMD=("$STATIC" serve end-close) ;;
        timeout) CMD=("$STATIC" serve server-timeout-reset --set after=100ms) ;;
        *) CMD=("$STATIC" serve "$2") ;;
      esac
      CMD+=(--listen 127.0.0.1:0 --quiet)
      ;;
    node) CMD=(node "$WORK/node-server.js" "$2") ;;
    limit)
      CMD=("$LIMIT")
      if [[ $2 == close ]]; then CMD+=(--close); fi
      ;;
  esac
}

# on WHO JOB MEASURE
# Start WHO doing JOB, set RESULT to what `MEASURE PID PORT` prints, stop
# WHO. The server runs in this shell (not in a $(...) subshell), so its
# EXIT trap stops it whatever happens; the result passes through a file.
on() {
  "${COMMAND_FOR:-command_for}" "$1" "$2"
  start_server "${CMD[@]}"
  "$3" "$SERVER_PID" "$SERVER_PORT" >"$WORK/result"
  stop_server "$SERVER_PID"
  RESULT=$(<"$WORK/result")
}

# CPU time (user + system, all threads) a process has used, in microseconds.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }

# wrk_load PID PORT [WRK FLAGS...]
# Five seconds of wrk, one thread, 50 connections, to SCHEME (http unless
# the TLS section says https). Prints requests per
# second, requests, the server's CPU microseconds over the run, and the
# errors wrk saw (socket errors and non-2xx answers).
wrk_load() {
  local pid=$1 port=$2 before after out
  shift 2
  before=$(cpu_us "$pid")
  out=$(wrk -t1 -c50 -d5s "$@" "${SCHEME:-http}://127.0.0.1:$port/")
  after=$(cpu_us "$pid")
  awk -v cpu="$((${after%.*} - ${before%.*}))" '
    /requests in/ { requests = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx/ { errors += $NF }
    END { printf "%.0f %d %d %d\n", rps, requests, cpu, errors }' <<<"$out"
}
keepalive() { wrk_load "$1" "$2"; }
churn() { wrk_load "$1" "$2" -H 'Connection: close'; }

# interleaved MEASURE JOB ROUNDS
# Run the wrk MEASURE ROUNDS times on each server, interleaved (hangup,
# node, limit, hangup, ...), so that a change in the machine's load hits
# all three. Sets RUNS[WHO] (every rate, in thousands), BEST[WHO], CPU[WHO]
# (server µs per request over all runs) and WRK_ERRORS (a note per server
# that had any).
interleaved() {
  local who rps requests cpu errors round
  declare -gA RUNS=() BEST=() CPU=() REQUESTS=() CPU_TOTAL=() ERRORS=()
  WRK_ERRORS=""
  for ((round = 0; round < $3; round++)); do
    for who in hangup node limit; do
      on "$who" "$2" "$1"
      read -r rps requests cpu errors <<<"$RESULT"
      RUNS[$who]="${RUNS[$who]:-}${RUNS[$who]:+ / }$(calc '%.1fk' "$rps / 1000")"
      if ((rps > ${BEST[$who]:-0})); then BEST[$who]=$rps; fi
      REQUESTS[$who]=$((${REQUESTS[$who]:-0} + requests))
      CPU_TOTAL[$who]=$((${CPU_TOTAL[$who]:-0} + cpu))
      ERRORS[$who]=$((${ERRORS[$who]:-0} + errors))
    done
  done
  for who in hangup node limit; do
    CPU[$who]=$(calc '%.1f' "${CPU_TOTAL[$who]} / ${REQUESTS[$who]}")
    if ((ERRORS[$who] > 0)); then
      WRK_ERRORS+=" $who: ${ERRORS[$who]} wrk errors in $1."
    fi
  done
}

rows=()
# row FIGURE HANGUP NODE LIMIT VS_LIMIT VS_NODE TARGET MET
row() { rows+=("$(printf '| %s ' "$@")|"); }
met() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "**missed**"; fi; }
times() { calc '%.1f×' "$1 / $2"; }
pct() { calc '%.0f %%' "100 * $1 / $2"; }
kib() { calc '%.0f KiB' "$1 / 1024"; }
mib() { calc '%.1f MiB' "$1 / 1048576"; }

# --- The proxy section: `--proxy` runs it alone, `--all` after the above. ---
# hangup's `tcp-proxy` and `proxy` scenarios in front of an upstream, measured
# in the same run with three relays doing the same job, and a direct
# connection where one means something:
#
#   relay   examples/bare_relay.rs, built static like the limit: a bare mio
#           loop copying bytes both ways, at most 64 KiB held per direction;
#           the ceiling for any one-thread proxy;
#   socat   socat TCP-LISTEN:PORT,bind=127.0.0.1,fork,reuseaddr,nodelay,
#           backlog=1024 TCP:UPSTREAM,nodelay: a process per connection
#           (with its default backlog of 5, wrk's 50 connects lose SYNs,
#           and each lost SYN is a 1 s retransmit in the p99);
#   node    a Node `net` pipe proxy, written below: c.pipe(u); u.pipe(c).
#
# Every relay sets TCP_NODELAY, as the bare one does. A hangup column says
# "not built" while `hangup list` does not name its scenario. The section
# takes under three minutes (about 75 s, 110 s with hangup's columns).
RELAY="$(dirname "$LIMIT")/bare_relay"
BULK_BYTES=$((1 << 30))
HANGUP_PROXIES=(tcp-proxy proxy)

# The upstream of the bulk, memory and exactness figures, one thread per
# connection: read a request head, answer 200 with BODY bytes of "x" framed
# by Content-Length, then wait for the client to leave.
write_proxy_helpers() {
  cat >"$WORK/upstream.py" <<'PY'
import socket, socketserver, sys

BODY = int(sys.argv[1])
CHUNK = memoryview(b"x" * (1 << 20))

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                data = s.recv(4096)
                if not data:
                    return
                head += data
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % BODY)
            left = BODY
            while left:
                n = min(left, len(CHUNK))
                s.sendall(CHUNK[:n])
                left -= n
            while s.recv(65536):
                pass
        except OSError:
            pass  # the proxy reset or left: that is its figure, not ours

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

server = Server(("127.0.0.1", 0), Handler)
print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
PY

  # The Node proxy, as the Node docs pipe one: half-close passes through
  # (allowHalfOpen, and pipe() ends the other side), an error resets the other.
  cat >"$WORK/pipe-proxy.js" <<'JS'
const net = require('net');
const port = Number(process.argv[2]);
const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => {
  const u = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.resetAndDestroy());
  u.on('error', () => c.resetAndDestroy());
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS

  # The clients, and the memory of a proxy with its children (socat forks).
  cat >"$WORK/proxy-measure.py" <<'PY'
import array, collections, fcntl, os, resource, socket, sys, termios, time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"

def tree(pid):
    pids, i = [pid], 0
    while i < len(pids):
        try:
            for task in os.listdir(f"/proc/{pids[i]}/task"):
                with open(f"/proc/{pids[i]}/task/{task}/children") as f:
                    pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
        i += 1
    return pids

def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total

def connect(port, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(REQUEST)
    return s

def bulk(port):
    """MB/s (10^6) from connect to the response's last byte, and bytes
    received (head included) of the bytes expected."""
    start = time.perf_counter()
    s = connect(port, 10)
    buf = bytearray(1 << 20)
    view, got, expect = memoryview(buf), 0, None
    head = b""
    try:
        while expect is None or got < expect:
            n = s.recv_into(view)
            if n == 0:
                break
            if expect is None:
                head += buf[:n]
                if b"\r\n\r\n" in head:
                    h = head.split(b"\r\n\r\n")[0]
                    length = next(int(l.split(b":")[1]) for l in h.split(b"\r\n") if l.lower().startswith(b"content-length:"))
                    expect = len(h) + 4 + length
            got += n
            if time.perf_counter() - start > 15:
                break  # keeps the section's budget; the caller notes it
    except OSError:
        pass
    spent = time.perf_counter() - start
    s.close()
    print(f"{got / spent / 1e6:.0f} {got} {expect or 0}")

def stall(port, pid, seconds):
    """Peak RSS (KiB) of the proxy while a client never reads, its RSS
    before, and the bytes waiting in the client's receive queue at the end
    (FIONREAD): a full queue says the upstream's bytes did get this far."""
    time.sleep(0.2)
    before = peak = rss_kib(pid)
    s = connect(port, 10)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, rss_kib(pid))
        time.sleep(0.05)
    queued = array.array("i", [0])
    fcntl.ioctl(s.fileno(), termios.FIONREAD, queued)
    s.close()
    print(peak, before, queued[0])

def idle(port, pid, count):
    """RSS growth (bytes) per pair: `count` connections, one request and
    its response on each, then all idle."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    time.sleep(0.3)
    before = rss_kib(pid)
    deadline = time.monotonic() + 30
    conns = [connect(port, 10) for _ in range(count)]
    for s in conns:
        got = b""
        while not got.endswith(b"hello\n") and time.monotonic() < deadline:
            got += s.recv(4096) or sys.exit("a pair closed before its response")
    if time.monotonic() > deadline:
        sys.exit("1,000 requests took over 30 s")
    time.sleep(0.5)
    after = rss_kib(pid)
    for s in conns:
        s.close()
    print(f"{(after - before) * 1024 / count:.0f}")

def exact(port, runs, want):
    """Runs that got exactly `want` bytes then RST, of the runs done in 40 s,
    and the most common endings."""
    seen, done, deadline = collections.Counter(), 0, time.monotonic() + 40
    for _ in range(runs):
        if time.monotonic() > deadline:
            break
        s, got, end = connect(port, 2), 0, "timeout"
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    end = "FIN"
                    break
                got += len(data)
        except ConnectionResetError:
            end = "RST"
        except socket.timeout:
            pass
        s.close()
        seen[(got, end)] += 1
        done += 1
    good = seen[(want, "RST")]
    print(good, done, "; ".join(f"{n}x {b} B then {e}" for (b, e), n in seen.most_common(3)))

what, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
{"bulk": bulk, "stall": stall, "idle": idle, "exact": exact}[what](*args)
PY
}
pmeasure() { timeout 100 python3 "$WORK/proxy-measure.py" "$@"; }

# socat says nothing when it listens: give it a free port, and watch
# /proc/net/tcp for its listening socket (state 0A). Sets SERVER_PID and
# SERVER_PORT, as start_server does.
start_socat() {
  local port hex tries=0
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  hex=$(printf '%04X' "$port")
  socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,nodelay,backlog=1024" "TCP:127.0.0.1:$1,nodelay" 2>>"$WORK/socat.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  until grep -q "^ *[0-9]*: 0100007F:$hex 00000000:0000 0A" /proc/net/tcp; do
    tries=$((tries + 1))
    if ((tries > 100)) || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "socat did not start:" >&2
      cat "$WORK/socat.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  SERVER_PORT=$port
}

# The children a process has now (socat's forks), by PID.
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }

# CPU microseconds a process, its reaped children and its live ones used.
tree_cpu_us() {
  local child
  {
    cat "/proc/$1/stat"
    for child in $(children_of "$1"); do cat "/proc/$child/stat" 2>/dev/null || true; done
  } | awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 + $16 + $17 } END { printf "%d\n", t * 1000000 / hz }'
}

# proxy_on WHO UPSTREAM_PID UPSTREAM_PORT MEASURE
# Start proxy WHO (relay, socat, node, a hangup scenario, or reset-after:
# proxy-reset-after --set bytes=5000) in front of the upstream, set RESULT to
# what `MEASURE PID PORT` prints, stop it and its children. WHO direct runs
# MEASURE on the upstream itself.
proxy_on() {
  if [[ $1 == direct ]]; then
    "$4" "$2" "$3" >"$WORK/result"
    RESULT=$(<"$WORK/result")
    return
  fi
  local up="127.0.0.1:$3" child
  case $1 in
    relay) start_server "$RELAY" --upstream "$up" ;;
    socat) start_socat "$3" ;;
    node) start_server node "$WORK/pipe-proxy.js" "$3" ;;
    reset-after) start_server "$STATIC" serve proxy-reset-after --set bytes=5000 --upstream "$up" --listen 127.0.0.1:0 --quiet ;;
    *) start_server "$STATIC" serve "$1" --upstream "$up" --listen 127.0.0.1:0 --quiet ;;
  esac
  "$4" "$SERVER_PID" "$SERVER_PORT" >"$WORK/result"
  for child in $(children_of "$SERVER_PID"); do kill "$child" 2>/dev/null || true; done
  stop_server "$SERVER_PID"
  RESULT=$(<"$WORK/result")
}

# The measures, each `MEASURE PID PORT`.
# 1 GiB through one connection: MB/s, bytes received and expected, proxy CPU µs.
bulk() {
  local before after out
  before=$(tree_cpu_us "$1")
  out=$(pmeasure bulk "$2" || echo "0 0 0")
  sleep 0.3 # let socat reap the child that served it
  after=$(tree_cpu_us "$1")
  echo "$out $((after - before))"
}
# wrk -t1 -c50 -d5s --latency: req/s, requests, proxy CPU µs, errors, p50 and p99 in ms.
latency_load() {
  local before after out
  before=$(tree_cpu_us "$1")
  out=$(wrk -t1 -c50 -d5s --latency "http://127.0.0.1:$2/")
  sleep 0.3 # let socat reap the children that served it
  after=$(tree_cpu_us "$1")
  awk -v cpu="$((after - before))" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
    /requests in/ { requests = $1 }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx/ { errors += $NF }
    END { printf "%.0f %d %d %d %.3f %.3f\n", rps, requests, cpu, errors, p50, p99 }' <<<"$out"
}
stall() { pmeasure stall "$2" "$1" 2; }
idle_pairs() { pmeasure idle "$2" "$1" 1000; }
exactness() { pmeasure exact "$2" 100 5000; }

prows=()
# prow FIGURE DIRECT RELAY SOCAT NODE TCP-PROXY PROXY VS_RELAY TARGET MET
prow() { prows+=("$(printf '| %s ' "$@")|"); }

# hangup_cells ARRAY: the tcp-proxy and proxy cells of ARRAY, as one
# argument to prow; "not built" for a scenario this hangup lacks.
hangup_cells() {
  local -n values=$1
  local who cells=()
  for who in "${HANGUP_PROXIES[@]}"; do
    if [[ -n ${BUILT[$who]:-} ]]; then cells+=("${values[$who]:-}"); else cells+=("not built"); fi
  done
  echo "${cells[0]} | ${cells[1]}"
}

# vs_relay ARRAY [NOTE]: each built hangup proxy's figure as a share of the
# relay's, then NOTE.
vs_relay() {
  local -n values=$1
  local who out=""
  for who in "${HANGUP_PROXIES[@]}"; do
    if [[ -n ${BUILT[$who]:-} ]]; then
      out+="${out:+; }$who $(pct "${values[$who]}" "${values[relay]}")"
    fi
  done
  echo "${out:-not built}${out:+${2:-}}"
}

# judge TARGET: "met" if `TARGET WHO` prints an awk condition that holds for
# every hangup proxy built, "not built" if none is.
judge() {
  local who verdict="not built"
  for who in "${HANGUP_PROXIES[@]}"; do
    if [[ -n ${BUILT[$who]:-} ]]; then
      verdict=$(met "$("$1" "$who")")
      [[ $verdict == met ]] || break
    fi
  done
  echo "$verdict"
}
bulk_target() { echo "${BEST[$1]} >= 0.9 * ${BEST[relay]} && ${BEST[$1]} > ${BEST[socat]} && ${BEST[$1]} > ${BEST[node]}"; }
rate_target() { echo "${KBEST[$1]} >= 0.9 * ${KBEST[relay]}"; }
stall_target() { echo "${PEAK[$1]} < 10240"; }
idle_target() { echo "${PAIR[$1]} <= 2048"; }

proxy_bench() {
  local began_proxy=$SECONDS who round load_before_proxy scenarios pnotes=""
  local good runs seen rate got expect cpu rps requests errors p50 p99 peak before queued up_pid up_port
  if ! command -v socat >/dev/null; then
    if [[ $(id -u) == 0 ]]; then
      apt-get install -y -qq socat >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq socat >/dev/null; }
    else
      echo "bench.sh --proxy needs socat: apt-get install socat" >&2
      exit 1
    fi
  fi
  load_before_proxy=$(machine_load)
  "$ROOT/scripts/build-static.sh" --example bare_relay >/dev/null
  write_proxy_helpers
  scenarios=$("$STATIC" list | awk '{ print $1 }')
  declare -gA BUILT=()
  for who in "${HANGUP_PROXIES[@]}" proxy-reset-after; do
    if grep -qx -- "$who" <<<"$scenarios"; then BUILT[$who]=1; fi
  done
  local proxies=(relay socat node)
  for who in "${HANGUP_PROXIES[@]}"; do
    if [[ -n ${BUILT[$who]:-} ]]; then proxies+=("$who"); fi
  done

  # Three rounds, interleaved: one transfer swings by 25 % on a busy machine.
  # A proxy that needed over 15 s (cut short, noted) is not run again.
  echo "measuring (proxy): bulk, 1 GiB through one connection, three times each" >&2
  start_server python3 "$WORK/upstream.py" "$BULK_BYTES"
  up_pid=$SERVER_PID
  up_port=$SERVER_PORT
  declare -gA BULK=() BEST=() GIB_CPU=() GIB=() CUT=()
  for round in 1 2 3; do
    for who in direct "${proxies[@]}"; do
      if [[ -n ${CUT[$who]:-} ]]; then continue; fi
      proxy_on "$who" "$up_pid" "$up_port" bulk
      read -r rate got expect cpu <<<"$RESULT"
      if ((got != expect || expect == 0)); then
        pnotes+=" $who: $got of $expect bytes in bulk run $round."
        CUT[$who]=1
      fi
      BULK[$who]="${BULK[$who]:-}${BULK[$who]:+ / }$rate"
      if ((rate > ${BEST[$who]:-0})); then BEST[$who]=$rate; fi
      GIB_CPU[$who]=$((${GIB_CPU[$who]:-0} + cpu))
      GIB[$who]=$((${GIB[$who]:-0} + got))
    done
  done
  for who in "${proxies[@]}"; do
    GIB_CPU[$who]="$(calc '%.0f' "${GIB_CPU[$who]} / 1000 / (${GIB[$who]} / $BULK_BYTES + 1e-9)") ms"
  done

  echo "measuring (proxy): memory, a client that never reads a 1 GiB response, 2 s each" >&2
  declare -gA PEAK=() STALL=()
  for who in "${proxies[@]}"; do
    proxy_on "$who" "$up_pid" "$up_port" stall
    read -r peak before queued <<<"$RESULT"
    PEAK[$who]=$peak
    STALL[$who]="$(calc '%.1f MiB' "$peak / 1024") (+$((peak - before)) KiB)"
    # The client's receive buffer (128 KiB unless it reads) must have filled.
    if ((queued < 65536)); then
      pnotes+=" $who: only $queued bytes reached the client that never reads."
    fi
  done
  stop_server "$up_pid"

  echo "measuring (proxy): keep-alive, wrk -t1 -c50 -d5s --latency to bare_loop, twice each" >&2
  start_server "$LIMIT"
  up_pid=$SERVER_PID
  up_port=$SERVER_PORT
  declare -gA RATES=() KBEST=() KCPU=() KREQ=() KERR=() LAT=() P50=() P99=()
  for round in 1 2; do
    for who in direct "${proxies[@]}"; do
      proxy_on "$who" "$up_pid" "$up_port" latency_load
      read -r rps requests cpu errors p50 p99 <<<"$RESULT"
      RATES[$who]="${RATES[$who]:-}${RATES[$who]:+ / }$(calc '%.1fk' "$rps / 1000")"
      KREQ[$who]=$((${KREQ[$who]:-0} + requests))
      KCPU[$who]=$((${KCPU[$who]:-0} + cpu))
      KERR[$who]=$((${KERR[$who]:-0} + errors))
      # The latencies of the better run, the one the ratio is taken from.
      if ((rps > ${KBEST[$who]:-0})); then
        KBEST[$who]=$rps
        P50[$who]=$p50
        P99[$who]=$p99
      fi
    done
  done
  for who in direct "${proxies[@]}"; do
    LAT[$who]="${P50[$who]} / ${P99[$who]} ms"
    if [[ $who != direct ]]; then
      LAT[$who]+=" ($(calc '%+.3f' "${P50[$who]} - ${P50[direct]}") / $(calc '%+.3f' "${P99[$who]} - ${P99[direct]}"))"
      KCPU[$who]="$(calc '%.1f' "${KCPU[$who]} / ${KREQ[$who]}") µs"
    fi
    if ((KERR[$who] > 0)); then pnotes+=" $who: ${KERR[$who]} wrk errors."; fi
  done

  echo "measuring (proxy): memory per idle pair (1,000 pairs, one request each)" >&2
  declare -gA PAIR=() PAIRS=()
  for who in "${proxies[@]}"; do
    # socat forks a process per pair: 1,000 of them would measure the fork.
    if [[ $who == socat ]]; then continue; fi
    proxy_on "$who" "$up_pid" "$up_port" idle_pairs
    PAIR[$who]=$RESULT
    PAIRS[$who]="$RESULT B"
  done
  PAIRS[socat]="— (a process per pair)"
  stop_server "$up_pid"

  local exact="not built" exact_met="not built"
  if [[ -n ${BUILT[proxy-reset-after]:-} ]]; then
    echo "measuring (proxy): exactness, proxy-reset-after --set bytes=5000 over 10 MB, 100 runs" >&2
    start_server python3 "$WORK/upstream.py" 10000000
    up_pid=$SERVER_PID
    proxy_on reset-after "$up_pid" "$SERVER_PORT" exactness
    stop_server "$up_pid"
    read -r good runs seen <<<"$RESULT"
    exact="$good of $runs runs ($seen)"
    exact_met=$(met "$good == 100")
  fi

  prow "bulk, MB/s (1 GiB through one connection; runs 1 / 2 / 3)" "${BULK[direct]}" "${BULK[relay]}" \
    "${BULK[socat]}" "${BULK[node]}" "$(hangup_cells BULK)" "$(vs_relay BEST " (best runs)")" \
    "≥ 90 % of the relay, > socat and node" "$(judge bulk_target)"
  prow "… proxy CPU per GiB (all runs)" "" "${GIB_CPU[relay]}" "${GIB_CPU[socat]}" "${GIB_CPU[node]}" \
    "$(hangup_cells GIB_CPU)" "" "" ""
  prow "keep-alive, req/s (\`wrk -t1 -c50 -d5s\` to bare_loop; run 1 / run 2)" "${RATES[direct]}" \
    "${RATES[relay]}" "${RATES[socat]}" "${RATES[node]}" "$(hangup_cells RATES)" \
    "$(vs_relay KBEST " (best runs)")" "≥ 90 % of the relay" "$(judge rate_target)"
  prow "… latency p50 / p99 of the better run (added over direct)" "${LAT[direct]}" "${LAT[relay]}" \
    "${LAT[socat]}" "${LAT[node]}" "$(hangup_cells LAT)" "" "report" ""
  prow "… proxy CPU per request (both runs)" "" "${KCPU[relay]}" "${KCPU[socat]}" "${KCPU[node]}" \
    "$(hangup_cells KCPU)" "" "" ""
  prow "RSS while a client never reads a 1 GiB response (peak over 2 s)" "" "${STALL[relay]}" \
    "${STALL[socat]}" "${STALL[node]}" "$(hangup_cells STALL)" "" "< 10 MiB" "$(judge stall_target)"
  prow "memory per idle pair (1,000 pairs after one request each)" "" "${PAIRS[relay]}" "${PAIRS[socat]}" \
    "${PAIRS[node]}" "$(hangup_cells PAIRS)" "" "≤ 2 KiB" "$(judge idle_target)"
  prow "\`proxy-reset-after --set bytes=5000\`, 10 MB body: exactly 5,000 B then RST" "" "" "" "" "" \
    "$exact" "" "100 of 100" "$exact_met"

  echo "| figure | direct | relay (bare mio) | socat $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/\1/p') |" \
    "node $(node --version) | hangup tcp-proxy | hangup proxy | hangup vs relay | target | |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${prows[@]}"
  echo
  echo "Proxy section: $load_before_proxy before, $(machine_load) after; it took $((SECONDS - began_proxy)) s" \
    "(budget 180 s).${pnotes}"
}

# --- The TLS section: `--tls` runs it alone, `--all` after the others. ---
# hangup over TLS, measured in the same run with two servers doing the same
# job over the same TLS:
#
#   limit   examples/bare_tls.rs, built static like the others: a bare mio
#           loop with rustls answering fixed bytes, handshaking as hangup
#           does (rustls 0.23 on ring, TLS 1.2 and 1.3, an ECDSA P-256 leaf
#           made at start, no session tickets); the ceiling for any
#           one-thread server on rustls;
#   node    Node's https (tls for `hang`), written below, with an ECDSA
#           P-256 certificate openssl makes here, and no session tickets
#           (SSL_OP_NO_TICKET): wrk offers the session it had when it
#           reconnects, so with tickets Node would resume instead of doing
#           the full handshake the others do. Node counts its handshakes,
#           and the notes say if any was resumed.
#
# hangup and the limit send no tickets, and TLS 1.3 resumes only with one:
# every new connection is a full handshake (X25519, an ECDSA signature).
# The section takes about two minutes, most of it wrk's 5 s runs.

# hangup's size without its default features (TLS), built as
# build-static.sh builds the default one (same target, same profile), into
# a target directory of its own so that the two builds do not undo each
# other.
build_without_tls() {
  local target dir
  target=$(awk '{ print $2 }' "$WORK/static.txt")
  dir="$(cargo_target_dir)/no-default-features"
  if [[ $target == *-gnu ]]; then
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" CARGO_TARGET_DIR=$dir \
      cargo_executable hangup --release --quiet --target "$target" --no-default-features --bin hangup \
      --manifest-path "$ROOT/Cargo.toml"
  else
    CARGO_TARGET_DIR=$dir cargo_executable hangup --release --quiet --target "$target" \
      --no-default-features --bin hangup --manifest-path "$ROOT/Cargo.toml"
  fi
}

write_tls_helpers() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$WORK/node.key" -out "$WORK/node.crt" 2>/dev/null

  # The Node servers, one per job, as the plain ones above, over TLS.
  cat >"$WORK/node-tls.js" <<'JS'
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const tls = require('tls');
const [job, key, cert] = process.argv.slice(2);
const options = {
  key: fs.readFileSync(key),
  cert: fs.readFileSync(cert),
  secureOptions: crypto.constants.SSL_OP_NO_TICKET,
};
const jobs = {
  hello: () => https.createServer(options, (req, res) => {
    res.sendDate = false;
    res.removeHeader('Connection');
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 6 });
    res.end('hello\n');
  }),
  close: () => https.createServer(options, (req, res) => {
    res.sendDate = false;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Connection': 'close', 'Content-Length': 5 });
    res.end('done\n');
  }),
  hang: () => tls.createServer(options, () => {}),
};
const server = jobs[job]();
let full = 0, resumed = 0;
server.on('secureConnection', (s) => { if (s.isSessionReused()) resumed++; else full++; });
process.on('SIGTERM', () => {
  console.error(`handshakes: ${full} full, ${resumed} resumed`);
  process.exit(0);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS

  # Memory per connection, from the client side of real handshakes.
  cat >"$WORK/tls-measure.py" <<'PY'
import os, resource, selectors, socket, ssl, sys, time

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

def raise_limit():
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

def idle(port, count, pid):
    """RSS growth per idle TLS connection (bytes): `count` connections,
    each after its handshake and one request."""
    raise_limit()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    time.sleep(0.3)
    before = rss_kib(pid)
    conns = []
    deadline = time.monotonic() + 60
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        # Without it the request waits for the ACK of the client's
        # Finished, which a server that sends no ticket delays by 40 ms.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(REQUEST)
        got = b""
        while not got.endswith(b"hello\n"):
            data = s.recv(65536)
            if not data:
                sys.exit("the server closed a connection that was to stay idle")
            got += data
        conns.append(s)
        if time.monotonic() > deadline:
            sys.exit(f"{len(conns)} idle TLS connections took over 60 s")
    time.sleep(1.0)
    after = rss_kib(pid)
    for c in conns:
        c.close()
    print(f"{(after - before) * 1024 / count:.0f}")

def half_done(port, count, pid, hello_hex):
    """`count` clients send a ClientHello and nothing more. Prints the RSS
    growth per connection (bytes), how many got the server's first byte,
    and the server's descriptors and RSS (KiB) before, with them, and
    after they left (RST: they never read what the server sent). At most
    AT_ONCE clients wait for their answer at any time, so that no server's
    accept queue overflows (a dropped SYN costs its client a second)."""
    AT_ONCE = 256
    raise_limit()
    hello = bytes.fromhex(hello_hex)
    time.sleep(0.3)
    fds0, rss0 = fds(pid), rss_kib(pid)
    sel = selectors.DefaultSelector()
    conns, waiting = [], 0
    answered = 0
    deadline = time.monotonic() + 60
    while (len(conns) < count or waiting) and time.monotonic() < deadline:
        while len(conns) < count and waiting < AT_ONCE:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE, "connecting")
            conns.append(s)
            waiting += 1
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            if key.data == "connecting":
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    sel.unregister(s)
                    waiting -= 1
                    continue
                s.send(hello)  # 517 bytes into an empty buffer
                sel.modify(s, selectors.EVENT_READ, "answer")
                continue
            try:
                got = s.recv(1)
            except BlockingIOError:
                continue
            except OSError:
                got = b""
            sel.unregister(s)
            waiting -= 1
            answered += bool(got)
    time.sleep(0.5)
    fds1, rss1 = fds(pid), rss_kib(pid)
    for s in conns:
        s.close()
    left = time.monotonic()
    while fds(pid) > fds0 and time.monotonic() < left + 10:
        time.sleep(0.05)
    time.sleep(1.5)  # hangup hands freed memory back a second later
    fds2, rss2 = fds(pid), rss_kib(pid)
    print(f"{(rss1 - rss0) * 1024 / max(answered, 1):.0f} {answered} {fds0} {fds1} {fds2} {rss0} {rss1} {rss2}")

what = sys.argv[1]
if what == "idle":
    idle(*map(int, sys.argv[2:5]))
elif what == "half-done":
    half_done(*map(int, sys.argv[2:5]), sys.argv[5])
PY
}
tmeasure() { timeout 120 python3 "$WORK/tls-measure.py" "$@"; }

# tls_command_for WHO JOB
# As command_for, over TLS: hello, close or hang.
tls_command_for() {
  case $1 in
    hangup)
      case $2 in
        close) CMD=("$STATIC" serve end-close) ;;
        # Idle connections are held longer than hello's 5 s.
        hello) CMD=("$STATIC" serve hello --set idle=60s) ;;
        *) CMD=("$STATIC" serve "$2") ;;
      esac
      CMD+=(--tls --listen 127.0.0.1:0 --quiet)
      ;;
    node) CMD=(node "$WORK/node-tls.js" "$2" "$WORK/node.key" "$WORK/node.crt") ;;
    limit)
      CMD=("$LIMIT_TLS")
      if [[ $2 == close ]]; then CMD+=(--close); fi
      ;;
  esac
}

trows=()
# trow FIGURE HANGUP NODE LIMIT VS_LIMIT VS_NODE TARGET MET
trow() { trows+=("$(printf '| %s ' "$@")|"); }

tls_bench() {
  local began_tls=$SECONDS load_before_tls tnotes="" who size_tls size_plain no_tls hello_hex
  local rss_grow answered fds0 fds1 fds2 rss0 rss1 rss2 floor plain_start
  load_before_tls=$(machine_load)
  LIMIT_TLS=$("$ROOT/scripts/build-static.sh" --example bare_tls | cut -d' ' -f1)
  no_tls=$(build_without_tls)
  write_tls_helpers
  COMMAND_FOR=tls_command_for
  SCHEME=https

  echo "measuring (tls): binary sizes" >&2
  size_tls=$(stat -c %s "$STATIC")
  size_plain=$(stat -c %s "$no_tls")
  trow "binary size, static, stripped: default features (TLS)" "$(kib "$size_tls")" \
    "$(mib "$(stat -c %s "$NODE")")" "$(kib "$(stat -c %s "$LIMIT_TLS")")" \
    "$(times "$size_tls" "$(stat -c %s "$LIMIT_TLS")")" "" "≤ 2.5 MiB" "$(met "$size_tls <= 2621440")"
  # Every other feature stays: the same built-ins, the same language.
  local same="the same \`list\`"
  if ! cmp -s <("$STATIC" list) <("$no_tls" list); then same="**another \`list\`**"; fi
  trow "… \`--no-default-features\` (no TLS; $same, $("$no_tls" list | wc -l) built-ins)" \
    "$(kib "$size_plain")" "" "" "" "" "≤ 1 MiB" "$(met "$size_plain <= 1048576")"

  echo "measuring (tls): start to listening with the certificates made (median of 20 starts each)" >&2
  local starts=(/bin/echo "listening on" --and "$STATIC" serve hello --listen 127.0.0.1:0 --quiet)
  for who in hangup limit; do
    tls_command_for "$who" close
    starts+=(--and "${CMD[@]}")
  done
  declare -A tstart
  read -r floor plain_start 'tstart[hangup]' 'tstart[limit]' <<<"$(measure startup 20 "${starts[@]}")"
  tls_command_for node close
  tstart[node]=$(measure startup 20 "${CMD[@]}")
  trow "start to listening with a CA and leaf made, \`serve end-close --tls\` (floor \`/bin/echo\` $floor ms; without \`--tls\` $plain_start ms)" \
    "${tstart[hangup]} ms" "${tstart[node]} ms (reads its files)" "${tstart[limit]} ms (one leaf)" \
    "$(calc '%+.3f ms' "${tstart[hangup]} - ${tstart[limit]}")" \
    "$(times "${tstart[node]}" "${tstart[hangup]}") faster" "≤ 10 ms" "$(met "${tstart[hangup]} <= 10")"

  # Three rounds, as for plain churn: the kernel's and wrk's share is large.
  echo "measuring (tls): full handshakes (wrk -H 'Connection: close' on end-close, three times each)" >&2
  interleaved churn close 3
  tnotes+=$WRK_ERRORS
  trow "full handshakes, conn/s (\`wrk -t1 -c50 -d5s -H 'Connection: close'\`, \`end-close\`; runs 1 / 2 / 3)" \
    "${RUNS[hangup]}" "${RUNS[node]}" "${RUNS[limit]}" \
    "$(pct "${BEST[hangup]}" "${BEST[limit]}") (best runs)" "$(times "${BEST[hangup]}" "${BEST[node]}")" \
    "≥ 90 % of the limit, > node" "$(met "${BEST[hangup]} >= 0.9 * ${BEST[limit]} && ${BEST[hangup]} > ${BEST[node]}")"
  trow "… server CPU per handshake over the three runs" "${CPU[hangup]} µs" "${CPU[node]} µs" "${CPU[limit]} µs" \
    "$(times "${CPU[hangup]}" "${CPU[limit]}")" "$(times "${CPU[node]}" "${CPU[hangup]}") less" "" ""

  echo "measuring (tls): keep-alive over TLS (wrk on hello, twice each)" >&2
  interleaved keepalive hello 2
  tnotes+=$WRK_ERRORS
  trow "keep-alive over TLS, req/s (\`wrk -t1 -c50 -d5s\` on \`hello\`; run 1 / run 2)" \
    "${RUNS[hangup]}" "${RUNS[node]}" "${RUNS[limit]}" \
    "$(pct "${BEST[hangup]}" "${BEST[limit]}") (best runs)" "$(times "${BEST[hangup]}" "${BEST[node]}")" \
    "≥ 90 % of the limit, > node" "$(met "${BEST[hangup]} >= 0.9 * ${BEST[limit]} && ${BEST[hangup]} > ${BEST[node]}")"
  trow "… server CPU per request over both runs" "${CPU[hangup]} µs" "${CPU[node]} µs" "${CPU[limit]} µs" \
    "$(times "${CPU[hangup]}" "${CPU[limit]}")" "$(times "${CPU[node]}" "${CPU[hangup]}") less" "" ""

  echo "measuring (tls): memory per idle TLS connection (1,000, after a handshake and a request each)" >&2
  tls_idle() { tmeasure idle "$2" 1000 "$1"; }
  declare -A tidle
  for who in hangup node limit; do
    on "$who" hello tls_idle
    tidle[$who]=$RESULT
  done
  trow "memory per idle TLS connection (1,000, after the handshake and one request)" "${tidle[hangup]} B" \
    "${tidle[node]} B" "${tidle[limit]} B" "$(calc '%+.0f B' "${tidle[hangup]} - ${tidle[limit]}")" \
    "$(pct "${tidle[hangup]}" "${tidle[node]}") of node's" "≤ 1/4 of node's" \
    "$(met "${tidle[hangup]} * 4 <= ${tidle[node]}")"

  echo "measuring (tls): 10,000 half-done handshakes (a ClientHello, then nothing) each" >&2
  hello_hex=$(awk '$1 == "curl" { print $2 }' "$ROOT/src/tls/client_hellos.txt")
  tls_half_done() { tmeasure half-done "$2" 10000 "$1" "$hello_hex"; }
  declare -A thalf
  for who in hangup node limit; do
    on "$who" hang tls_half_done
    read -r rss_grow answered fds0 fds1 fds2 rss0 rss1 rss2 <<<"$RESULT"
    thalf[$who]=$rss_grow
    if ((answered < 10000)); then
      tnotes+=" $who answered $answered of 10,000 ClientHellos within 60 s (the figure is per answered one)."
    fi
    if [[ $who == hangup ]]; then
      local back="descriptors $fds0 → $fds1 → $fds2; RSS $rss0 → $rss1 → $rss2 KiB"
      local back_met
      back_met=$(met "$fds2 == $fds0 && $rss2 <= $rss0 + 1024")
    fi
  done
  trow "memory per half-done handshake (10,000 ClientHellos, then nothing; curl's, 517 B)" \
    "${thalf[hangup]} B" "${thalf[node]} B" "${thalf[limit]} B" \
    "$(calc '%+.0f B' "${thalf[hangup]} - ${thalf[limit]}")" "$(times "${thalf[node]}" "${thalf[hangup]}") less" \
    "10,000 under 1 GiB" "$(met "${thalf[hangup]} * 10000 < 1073741824")"
  trow "… hangup before → with them → once they left (RST)" "$back" "" "" "" "" "back where they were (RSS within 1 MiB)" \
    "$back_met"

  unset COMMAND_FOR SCHEME
  # What the Node servers counted, each when it was stopped.
  tnotes+=" Node's handshakes: $(cat "$WORK"/server-*.log 2>/dev/null |
    awk '/^handshakes: / { f += $2; r += $4 } END { printf "%d full, %d resumed", f, r }')."

  echo "| figure | hangup --tls | node $(node --version) https | limit (bare_tls) | hangup vs limit | hangup vs node | target | |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${trows[@]}"
  echo
  echo "TLS section: $load_before_tls before, $(machine_load) after; it took $((SECONDS - began_tls)) s.${tnotes}"
}
# --- End of the TLS section. ---

if [[ $MODE == proxy ]]; then
  proxy_bench
  exit 0
fi
if [[ $MODE == tls ]]; then
  tls_bench
  exit 0
fi
# --- End of the proxy section. ---

echo "measuring: binary size" >&2
declare -A size=([hangup]=$(stat -c %s "$STATIC") [node]=$(stat -c %s "$NODE") [limit]=$(stat -c %s "$LIMIT"))
# The default build carries TLS; its target and the one without TLS are
# the TLS section's (`--tls`).
row "binary size (static, stripped, with TLS; node as installed)" "$(kib "${size[hangup]}")" "$(mib "${size[node]}")" \
  "$(kib "${size[limit]}")" "$(times "${size[hangup]}" "${size[limit]}")" \
  "$(times "${size[node]}" "${size[hangup]}") smaller" "≤ 2.5 MiB" "$(met "${size[hangup]} <= 2621440")"

echo "measuring: start to listening (median of 20 starts each)" >&2
# Node is timed on its own: the teardown of a 40 MiB process slows the start
# that follows it by about 0.1 ms, which would blur the others.
starts=(/bin/echo "listening on")
for who in hangup limit; do
  command_for "$who" hello
  starts+=(--and "${CMD[@]}")
done
declare -A start
read -r floor 'start[hangup]' 'start[limit]' <<<"$(measure startup 20 "${starts[@]}")"
command_for node hello
start[node]=$(measure startup 20 "${CMD[@]}")
row "start to listening, median of 20 (floor: exec of \`/bin/echo\`, $floor ms)" "${start[hangup]} ms" \
  "${start[node]} ms" "${start[limit]} ms" "$(calc '%+.3f ms' "${start[hangup]} - ${start[limit]}")" \
  "$(times "${start[node]}" "${start[hangup]}") faster" "≤ floor + 0.5 ms" \
  "$(met "${start[hangup]} <= $floor + 0.5")"

echo "measuring: idle memory" >&2
idle_rss() { measure rss "$1"; }
declare -A rss
for who in hangup node limit; do
  on "$who" hello idle_rss
  rss[$who]=$RESULT
done
row "idle memory (VmRSS after start)" "${rss[hangup]} KiB" "$(calc '%.1f MiB' "${rss[node]} / 1024")" \
  "${rss[limit]} KiB" "$(times "${rss[hangup]}" "${rss[limit]}")" \
  "$(times "${rss[node]}" "${rss[hangup]}") less" "≤ 2 MiB" "$(met "${rss[hangup]} <= 2048")"

echo "measuring: memory per connection (10,000 idle on hang)" >&2
per_connection() { measure hold "$2" 10000 "$1"; }
declare -A conn
for who in hangup node limit; do
  on "$who" hang per_connection
  conn[$who]=$RESULT
done
row "memory per connection (10,000 idle on \`hang\`)" "${conn[hangup]} B" "${conn[node]} B" "${conn[limit]} B" \
  "$(calc '%+.0f B' "${conn[hangup]} - ${conn[limit]}")" "$(times "${conn[node]}" "${conn[hangup]}") less" \
  "≤ 1 KiB" "$(met "${conn[hangup]} <= 1024")"

# wrk_rows MEASURE JOB ROUNDS FIGURE CPU_FIGURE
# Run MEASURE interleaved and add its two rows: the rates against the
# limit's (best runs, target 90 %), and the server CPU per request.
wrk_rows() {
  interleaved "$1" "$2" "$3"
  notes+=$WRK_ERRORS
  row "$4" "${RUNS[hangup]}" "${RUNS[node]}" "${RUNS[limit]}" \
    "$(pct "${BEST[hangup]}" "${BEST[limit]}") (best runs)" "$(times "${BEST[hangup]}" "${BEST[node]}")" \
    "≥ 90 % of the limit" "$(met "${BEST[hangup]} >= 0.9 * ${BEST[limit]}")"
  row "$5" "${CPU[hangup]} µs" "${CPU[node]} µs" "${CPU[limit]} µs" \
    "$(times "${CPU[hangup]}" "${CPU[limit]}")" "$(times "${CPU[node]}" "${CPU[hangup]}") less" "" ""
}

notes=""
echo "measuring: keep-alive throughput (wrk -t1 -c50 -d5s on hello, twice each)" >&2
wrk_rows keepalive hello 2 \
  "keep-alive throughput, req/s (\`wrk -t1 -c50 -d5s\` on \`hello\`; run 1 / run 2)" \
  "… server CPU per request over both runs"

# Three rounds: a new connection per request is the kernel's work more
# than the server's, and one slow round of 5 s was enough to swing the
# ratio by 10 % between otherwise equal servers.
echo "measuring: connection churn (wrk -H 'Connection: close' on end-close, three times each)" >&2
wrk_rows churn close 3 \
  "connection churn, conn/s (same, \`-H 'Connection: close'\`, on \`end-close\`; runs 1 / 2 / 3)" \
  "… server CPU per connection over the three runs"

echo "measuring: timer precision (1000 probes 1 ms apart, RST after 100 ms, twice each)" >&2
# Lateness over 100 ms at p50, p99 and max, in ms.
lateness() {
  "$STATIC" probe "127.0.0.1:$2" --count 1000 --concurrency 1000 --interval 1ms --json |
    json_field '" ".join("%.3f" % (d["ms_to_end"][k] - 100) for k in ("p50", "p99", "max"))'
}
declare -A late p99s
for _ in 1 2; do
  for who in hangup node; do
    on "$who" timeout lateness
    read -r p50 p99 max <<<"$RESULT"
    late[$who]="${late[$who]:-}${late[$who]:+; }$p50 / $p99 / $max"
    p99s[$who]="${p99s[$who]:-} $p99"
  done
done
# shellcheck disable=SC2086 # split the list of p99s on purpose
best_p99=$(printf '%s\n' ${p99s[hangup]} | sort -n | head -1)
row "timer lateness over 100 ms in ms, p50 / p99 / max (run 1; run 2)" "${late[hangup]}" "${late[node]}" \
  "" "" "" "p99 ≤ 1 ms (better run)" "$(met "$best_p99 <= 1")"

echo "| figure | hangup | node $(node --version) | limit (bare mio loop) | hangup vs limit | hangup vs node | target | |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
echo "$(nproc) cores ($cpu_model), $(uname -m), Linux $(uname -r | cut -d- -f1), $(date -u +%Y-%m-%d);" \
  "hangup and the limit built for $(awk '{print $2}' "$WORK/static.txt"); $load_before before," \
  "$(machine_load) after; the run took $((SECONDS - began)) s.${notes}"
if [[ $MODE == all ]]; then
  echo
  proxy_bench
  echo
  tls_bench
  echo
  HANGUP=$STATIC "$ROOT/scripts/bench-h2.sh" --rounds 1
fi
