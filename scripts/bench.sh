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
#   scripts/bench.sh
#
# Needs wrk (installed from Debian's packages when missing and root), node
# and python3. wrk runs on the same cores as the server it loads, so the
# absolute figures drift from run to run: read the ratios, taken in the
# same run. The last line says how busy the machine was.
set -euo pipefail
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
  command_for "$1" "$2"
  start_server "${CMD[@]}"
  "$3" "$SERVER_PID" "$SERVER_PORT" >"$WORK/result"
  stop_server "$SERVER_PID"
  RESULT=$(<"$WORK/result")
}

# CPU time (user + system, all threads) a process has used, in microseconds.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }

# wrk_load PID PORT [WRK FLAGS...]
# Five seconds of wrk, one thread, 50 connections. Prints requests per
# second, requests, the server's CPU microseconds over the run, and the
# errors wrk saw (socket errors and non-2xx answers).
wrk_load() {
  local pid=$1 port=$2 before after out
  shift 2
  before=$(cpu_us "$pid")
  out=$(wrk -t1 -c50 -d5s "$@" "http://127.0.0.1:$port/")
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

echo "measuring: binary size" >&2
declare -A size=([hangup]=$(stat -c %s "$STATIC") [node]=$(stat -c %s "$NODE") [limit]=$(stat -c %s "$LIMIT"))
row "binary size (static, stripped; node as installed)" "$(kib "${size[hangup]}")" "$(mib "${size[node]}")" \
  "$(kib "${size[limit]}")" "$(times "${size[hangup]}" "${size[limit]}")" \
  "$(times "${size[node]}" "${size[hangup]}") smaller" "≤ 1 MiB" "$(met "${size[hangup]} <= 1048576")"

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
