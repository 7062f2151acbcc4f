#!/usr/bin/env bash
# Measure hangup and a Node.js server doing the same job, in one run, and
# print both figures and their ratio. Loopback only; every load is bounded
# in count and time, and the whole run takes about a minute.
#
#   scripts/bench.sh            the table, as markdown
#
# Needs wrk (installed from Debian's packages when missing and root), node
# and python3. hangup is measured as shipped: the static binary from
# scripts/build-static.sh.
set -euo pipefail
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
"$ROOT/scripts/build-static.sh" >"$WORK/static.txt"
STATIC="$ROOT/target/static/hangup"
NODE=$(readlink -f "$(command -v node)")
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The Node servers, in the style of the seeds: one per job.
cat >"$WORK/node-server.js" <<'JS'
const http = require('http');
const net = require('net');
const jobs = {
  // 200 "hello" keep-alive, like `hangup serve hello`.
  hello: () => http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 6 });
    res.end('hello\n');
  }),
  // Accept and never answer, like `hangup serve hang`.
  hang: () => net.createServer(() => {}),
  // Read the request, close without a byte, like `hangup serve empty-reply`.
  empty: () => net.createServer((socket) => socket.once('data', () => socket.end())),
  // Read the request, RST 100 ms later, like `server-timeout-reset --set after=100ms`.
  'timeout-reset': () => net.createServer((socket) => {
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

def startup(runs, cmd):
    """Median ms from spawn to the first line on stdout."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        p.stdout.readline()
        times.append((time.perf_counter() - start) * 1000)
        p.kill()
        p.wait()
    return statistics.median(times)

def hold(port, count, pid):
    """RSS growth per connection (bytes) with `count` idle connections."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    time.sleep(0.3)
    before = rss_kib(pid)
    conns = []
    deadline = time.monotonic() + 60
    for _ in range(count):
        conns.append(socket.create_connection(("127.0.0.1", port)))
        if time.monotonic() > deadline:
            sys.exit("holding connections took over 60 s")
    time.sleep(1.0)  # let the server accept them all
    after = rss_kib(pid)
    for c in conns:
        c.close()
    return (after - before) * 1024 / count

what = sys.argv[1]
if what == "startup":
    print(f"{startup(int(sys.argv[2]), sys.argv[3:]):.3f}")
elif what == "rss":
    time.sleep(0.3)
    print(rss_kib(int(sys.argv[2])))
elif what == "hold":
    print(f"{hold(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])):.0f}")
PY
measure() { python3 "$WORK/measure.py" "$@"; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# CPU time (user + system) a process has used, in microseconds.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }
per() { awk "BEGIN { printf \"%.1f\", ($2 - $1) / $3 }"; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
ratio() { awk "BEGIN { printf \"%.1f×\", $1 / $2 }"; }

echo "measuring: binary size" >&2
hangup_size=$(stat -c %s "$STATIC")
node_size=$(stat -c %s "$NODE")
row "binary size (static, stripped)" "$((hangup_size / 1024)) KiB" "$((node_size / 1048576)) MiB" \
  "$(ratio "$node_size" "$hangup_size") smaller" "≤ 1 MiB"

echo "measuring: start to listening (median of 20)" >&2
floor=$(measure startup 20 /bin/echo "listening on")
hangup_start=$(measure startup 20 "$STATIC" serve hello --listen 127.0.0.1:0 --quiet)
node_start=$(measure startup 20 node "$WORK/node-server.js" hello)
row "start to listening (median of 20; exec of \`echo\`: $floor ms)" "$hangup_start ms" "$node_start ms" \
  "$(ratio "$node_start" "$hangup_start") faster; $(awk "BEGIN{printf \"%.3f\", $hangup_start - $floor}") ms over the floor" \
  "within 1 ms of the floor"

# side_by_side MEASURE NODE_JOB SCENARIO [SERVE FLAGS...]
# Run `MEASURE PID PORT` against hangup (the static binary) serving SCENARIO,
# then against the Node server's NODE_JOB. Sets HANGUP_RESULT and
# NODE_RESULT. The servers run in this shell, so its EXIT trap stops them
# whatever happens; results pass through a file for the same reason.
side_by_side() {
  local measure=$1 job=$2
  shift 2
  HANGUP=$STATIC start_hangup "$@" --quiet
  "$measure" "$HANGUP_PID" "$HANGUP_PORT" >"$WORK/result"
  stop_hangup
  HANGUP_RESULT=$(cat "$WORK/result")
  start_server node "$WORK/node-server.js" "$job"
  "$measure" "$SERVER_PID" "$SERVER_PORT" >"$WORK/result"
  kill "$SERVER_PID"
  NODE_RESULT=$(cat "$WORK/result")
}

echo "measuring: idle memory" >&2
idle_rss() { measure rss "$1"; }
side_by_side idle_rss hello hello
row "idle memory (VmRSS)" "$HANGUP_RESULT KiB" "$((NODE_RESULT / 1024)) MiB" \
  "$(ratio "$NODE_RESULT" "$HANGUP_RESULT") less" "≤ 2 MiB"

echo "measuring: memory per connection (10,000 idle)" >&2
per_connection() { measure hold "$2" 10000 "$1"; }
side_by_side per_connection hang hang
row "memory per connection (10,000 idle on \`hang\`)" "$HANGUP_RESULT B" "$NODE_RESULT B" \
  "$(ratio "$NODE_RESULT" "$HANGUP_RESULT") less" "≤ 1 KiB"

echo "measuring: keep-alive throughput (wrk -t1 -c50 -d5s)" >&2
# Requests per second, and the server's CPU microseconds per request.
keepalive() {
  local before after out rps requests
  before=$(cpu_us "$1")
  out=$(wrk -t1 -c50 -d5s "http://127.0.0.1:$2/")
  after=$(cpu_us "$1")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  echo "$rps $(per "$before" "$after" "$requests")"
}
side_by_side keepalive hello hello
read -r hangup_rps hangup_req_us <<<"$HANGUP_RESULT"
read -r node_rps node_req_us <<<"$NODE_RESULT"
row "keep-alive throughput (\`wrk -t1 -c50 -d5s\` on \`hello\`)" "$hangup_rps req/s" "$node_rps req/s" \
  "$(ratio "$hangup_rps" "$node_rps")" "≥ 2× node"
row "… server CPU per request in that run" "$hangup_req_us µs" "$node_req_us µs" \
  "$(ratio "$node_req_us" "$hangup_req_us") less" ""

echo "measuring: connection churn (20,000 connections, 50 at a time)" >&2
# Connections per second, and the server's CPU microseconds per connection.
churn() {
  local before after cps
  before=$(cpu_us "$1")
  cps=$("$STATIC" probe "127.0.0.1:$2" --count 20000 --concurrency 50 --json |
    json_field 'round(d["probes"] / d["elapsed_ms"] * 1000)')
  after=$(cpu_us "$1")
  echo "$cps $(per "$before" "$after" 20000)"
}
side_by_side churn empty empty-reply
read -r hangup_cps hangup_conn_us <<<"$HANGUP_RESULT"
read -r node_cps node_conn_us <<<"$NODE_RESULT"
row "connection churn (\`empty-reply\`, a new connection per request)" "$hangup_cps conn/s" "$node_cps conn/s" \
  "$(ratio "$hangup_cps" "$node_cps")" "≥ 2× node"
row "… server CPU per connection in that run" "$hangup_conn_us µs" "$node_conn_us µs" \
  "$(ratio "$node_conn_us" "$hangup_conn_us") less" ""

echo "measuring: timer precision (1000 probes 1 ms apart, RST after 100 ms)" >&2
lateness() {
  "$STATIC" probe "127.0.0.1:$2" --count 1000 --concurrency 1000 --interval 1ms --json |
    json_field '" / ".join("%.3f" % (d["ms_to_end"][k] - 100) for k in ("p50", "p99", "max"))'
}
side_by_side lateness timeout-reset server-timeout-reset --set after=100ms
row "timer lateness over 100 ms, p50 / p99 / max (ms)" "$HANGUP_RESULT" "$NODE_RESULT" "" "p99 ≤ 1 ms"

echo "| figure | hangup | node $(node --version) | hangup vs node | target |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "$(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); hangup built for $(awk '{print $2}' "$WORK/static.txt")."
