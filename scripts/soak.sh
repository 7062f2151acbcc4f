#!/usr/bin/env bash
# Soak hangup: serve `hello` to one well-behaved client while thousands of
# idle connections and a crowd of hostile clients hit it at once, then check
# that it survived, that the good client never saw an error, and that its
# descriptors and memory came back. Loopback only; bounded in time (every
# client stops by itself, every wait has a limit).
#
#   scripts/soak.sh            60 s of load, 10,000 idle connections
#   scripts/soak.sh --quick    about 10 s in all, 2,000 idle connections (CI)
#   scripts/soak.sh [--quick] [--seconds N] [--idle N]   other sizes
#
# All at once, from one load generator (python3, one selector loop):
#   idle        connections that connect and never send;
#   rst         connect, then close with SO_LINGER 0 (RST) at once;
#   half-close  send a request, shutdown(SHUT_WR), read the answer to EOF;
#   slowloris   a request head that never ends, 1 byte every 100 ms;
#   garbage     random bytes instead of a request, read what comes back
#               (the bad-request handler answers 400, then reads a request
#               again: the script that once re-read the same bytes for ever);
#   spin        a request for /spin/KIND: the script loops on a step that
#               costs nothing (sleep 0us, read 0 bytes, read request within
#               0us, half-close), which once spun at 100 % CPU for ever;
#               hangup must end the connection (as stuck), and at once;
#   never-read  pipeline 400,000 requests (12 MB) and never read a byte:
#               hello's answer is small, so it takes tens of thousands of
#               them to fill the socket buffers; then hangup's write to that
#               connection blocks (it waits for writable, it never spins)
#               and it stops reading, which must not delay anyone else.
# and, from a process of its own (so the generator cannot stall it), one
# keep-alive client sends `hello` requests 200 times a second and times each.
#
# The scenario is `hello` (below as soak.hup) plus the spinning scripts and
# the re-reading handler, which the good client never reaches.
# `hello` closes a connection after `idle` (5s) without a request. The idle
# and slowloris connections must be held for the whole run, so hangup runs
# with `--set idle=` longer than the run (they never send a whole request).
#
# Prints a markdown table (for docs/performance.md); exits 1, with a line naming the
# check, if hangup died, the good client saw an error, or hangup's open
# descriptors (to the count at start) or RSS (within 10 % of the warmed-up
# figure) did not come back to what they were before the load. hangup logs as usual, to a file: a million lines or so.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

seconds=60
idle=10000
slowloris=100
never_read=10
settle=10
args=("$@")
while (($#)); do
  case $1 in
    --quick)
      seconds=5
      idle=2000
      slowloris=50
      never_read=5
      settle=3
      ;;
    --seconds | --idle)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: $1 needs a positive whole number" >&2 && exit 2; }
      if [[ $1 == --seconds ]]; then seconds=$2; else idle=$2; fi
      shift
      ;;
    *)
      echo "usage: scripts/soak.sh [--quick] [--seconds N] [--idle N]" >&2
      exit 2
      ;;
  esac
  shift
done

# Every idle connection is a descriptor in the generator and one in hangup;
# both inherit this limit. The other clients need far fewer than `spare`.
spare=$((slowloris + never_read + 1024))
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < idle + spare)); then
  if ((hard < spare + 100)); then
    echo "soak.sh: needs at least $((spare + 100)) open descriptors; the hard limit is $hard" >&2
    exit 1
  fi
  echo "soak.sh: the descriptor limit is $hard; holding $((hard - spare)) idle connections, not $idle" >&2
  idle=$((hard - spare))
fi
ulimit -n $((idle + spare))

cat >"$WORK/soak.py" <<'PY'
import errno, json, os, random, selectors, socket, struct, sys, time

REQUEST = b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n"
# Hostile clients that come and go, per second each.
RATES = {"rst": 60, "half-close": 30, "garbage": 30, "spin": 20}
SPINS = ("sleep-0", "read-0", "within-0", "half-close")
CONNECTING_AT_ONCE = 1000
CHURN_GIVE_UP = 5.0           # s a churning client waits for its answer
PIPELINED = 400_000           # requests each never-reading client sends
PIPELINE = REQUEST * PIPELINED  # 12 MB: more than both sides' buffers hold
SLOW_EVERY = 0.1              # s between a slowloris client's bytes


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Conn:
    def __init__(self, kind, sock, now):
        self.kind, self.sock, self.started = kind, sock, now
        self.connected = False
        self.got = bytearray()
        self.out = None          # memoryview still to send
        self.next_byte = 0.0     # slowloris: when to send the next byte


def load(port, seconds, idle, slowloris, never_read, hangup_pid):
    """Run every hostile client for `seconds`, then close them all."""
    addr = ("127.0.0.1", port)
    sel = selectors.EpollSelector()
    stats = {k: 0 for k in (
        "idle_held", "idle_closed_by_server", "connect_errors", "rst_sent",
        "half_close_ok", "half_close_bad", "half_close_no_fin", "garbage_400", "garbage_other",
        "slowloris_held", "slowloris_closed_by_server", "never_read_held",
        "spin_ended", "spin_not_ended",
        "never_read_sent_bytes", "hangup_fds_peak", "client_errors")}
    stats["never_read_total_bytes"] = never_read * len(PIPELINE)
    conns = set()
    slow = []          # slowloris connections, to drip into
    churning = set()   # clients that come and go, to give up on
    connecting = 0
    want = {"idle": idle, "slowloris": slowloris, "never-read": never_read}
    opened = {k: 0 for k in ("idle", "slowloris", "never-read", *RATES)}
    start = time.monotonic()
    end = start + seconds
    next_sample = start

    def open_conn(kind, now):
        nonlocal connecting
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            stats["connect_errors"] += 1
            s.close()
            return
        c = Conn(kind, s, now)
        conns.add(c)
        if kind in RATES:
            churning.add(c)
        connecting += 1
        opened[kind] += 1
        sel.register(s, selectors.EVENT_WRITE, c)

    def close(c, linger0=False):
        if c in conns:
            conns.discard(c)
            churning.discard(c)
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            if linger0:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.sock.close()
            if not c.connected:
                nonlocal connecting
                connecting -= 1

    def connected(c, now):
        nonlocal connecting
        connecting -= 1
        c.connected = True
        if c.kind == "rst":
            stats["rst_sent"] += 1
            close(c, linger0=True)
            return
        events = selectors.EVENT_READ
        if c.kind == "idle":
            stats["idle_held"] += 1
        elif c.kind == "half-close":
            c.sock.send(REQUEST)         # a few bytes into an empty buffer
            c.sock.shutdown(socket.SHUT_WR)
        elif c.kind == "garbage":
            c.sock.send(os.urandom(random.randint(1, 4096)))
        elif c.kind == "spin":
            c.sock.send(b"GET /spin/%s HTTP/1.1\r\nHost: soak\r\n\r\n" % random.choice(SPINS).encode())
        elif c.kind == "slowloris":
            stats["slowloris_held"] += 1
            c.out = memoryview(b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
            c.next_byte = now
            slow.append(c)
        elif c.kind == "never-read":
            stats["never_read_held"] += 1
            c.out = memoryview(PIPELINE)
            events = selectors.EVENT_WRITE   # and never EVENT_READ
        sel.modify(c.sock, events, c)

    def readable(c):
        try:
            data = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = None              # reset
        if data:
            c.got += data
            return
        # The server closed (FIN, or RST when data is None).
        if c.kind == "idle":
            stats["idle_held"] -= 1
            stats["idle_closed_by_server"] += 1
        elif c.kind == "slowloris":
            stats["slowloris_held"] -= 1
            stats["slowloris_closed_by_server"] += 1
        elif c.kind == "half-close":
            ok = data == b"" and c.got.startswith(b"HTTP/1.1 200 ") and c.got.endswith(b"\r\n\r\nhello\n")
            stats["half_close_ok" if ok else "half_close_bad"] += 1
        elif c.kind == "garbage":
            stats["garbage_400" if c.got.startswith(b"HTTP/1.1 400 ") else "garbage_other"] += 1
        elif c.kind == "spin":
            stats["spin_ended"] += 1
        close(c)

    def writable(c):
        try:
            n = c.sock.send(c.out[:1 << 20])
        except BlockingIOError:
            return
        except OSError:
            close(c)
            return
        stats["never_read_sent_bytes"] += n
        c.out = c.out[n:]
        if not c.out:
            sel.unregister(c.sock)   # all sent; keep it open, unread

    churn_due = {k: start for k in RATES}
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for kind in ("never-read", "slowloris", "idle"):
            while opened[kind] < want[kind] and connecting < CONNECTING_AT_ONCE:
                open_conn(kind, now)
        for kind, rate in RATES.items():
            while churn_due[kind] <= now and connecting < CONNECTING_AT_ONCE:
                open_conn(kind, now)
                churn_due[kind] += 1 / rate
        for key, mask in sel.select(timeout=0.01):
            c = key.data
            if c not in conns:
                continue
            if not c.connected:
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    stats["connect_errors"] += 1
                    close(c)
                else:
                    try:
                        connected(c, now)
                    except OSError:
                        stats["client_errors"] += 1
                        close(c)
                continue
            if mask & selectors.EVENT_READ:
                readable(c)
            if c in conns and c.kind == "never-read" and mask & selectors.EVENT_WRITE:
                writable(c)
        now = time.monotonic()
        for c in slow:
            if c in conns and now >= c.next_byte:
                try:
                    c.sock.send(c.out[:1] if c.out else b"a")
                except OSError:
                    continue         # the read side will see why
                c.out = c.out[1:] if c.out else None
                c.next_byte = now + SLOW_EVERY
        for c in [c for c in churning if now - c.started > CHURN_GIVE_UP]:
            stats[{"garbage": "garbage_other", "spin": "spin_not_ended"}.get(c.kind, "half_close_no_fin")] += 1
            close(c)
        if now >= next_sample:
            stats["hangup_fds_peak"] = max(stats["hangup_fds_peak"], fd_count(hangup_pid))
            next_sample = now + 0.5
    stats["hangup_fds_peak"] = max(stats["hangup_fds_peak"], fd_count(hangup_pid))
    stats["opened"] = opened
    stats["never_read_blocked"] = sum(1 for c in conns if c.kind == "never-read" and c.out)
    for c in list(conns):
        close(c)
    print(json.dumps(stats))


def good(port, seconds, per_second):
    """One keep-alive client: request, read the whole answer, time it."""
    result = {"requests": 0, "error": None, "latency_ms": []}
    end = time.monotonic() + seconds
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(5)
        buf = bytearray()
        tick = time.monotonic()
        while True:
            t0 = time.perf_counter()
            s.sendall(REQUEST)
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("hangup closed the connection (FIN)")
                buf += chunk
            head, _, rest = bytes(buf).partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200 "):
                raise ValueError(f"unexpected response {head[:40]!r}")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            while len(rest) < length:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("hangup closed the connection mid-body (FIN)")
                rest += chunk
            if rest[:length] != b"hello\n":
                raise ValueError(f"unexpected body {rest[:length]!r}")
            buf = bytearray(rest[length:])
            result["latency_ms"].append((time.perf_counter() - t0) * 1000)
            result["requests"] += 1
            tick += 1 / per_second
            if tick >= end:
                break
            time.sleep(max(0.0, tick - time.monotonic()))
        s.close()
    except Exception as e:  # any error fails the soak; say which
        result["error"] = f"{type(e).__name__}: {e} (after {result['requests']} requests)"
    lat = sorted(result.pop("latency_ms"))
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0
    result.update(p50=pick(0.50), p99=pick(0.99), max=lat[-1] if lat else 0.0)
    print(json.dumps(result))


what = sys.argv[1]
if what == "load":
    load(*map(int, sys.argv[2:8]))
elif what == "good":
    good(*map(int, sys.argv[2:5]))
PY

# What /proc says about hangup: open descriptors, resident and peak memory
# (KiB), CPU time used (µs).
fds() { find "/proc/$HANGUP_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$HANGUP_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$HANGUP_PID/status"; }
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$HANGUP_PID/stat"; }
alive() { kill -0 "$HANGUP_PID" 2>/dev/null; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

cat >"$WORK/soak.hup" <<'HUP'
# hello, plus the scripts that used to spin (issue 16, items 6 and 7).
param idle = 5s

# Node's refusal, then a read that would re-read the refused bytes: it
# ends the connection instead.
on bad-request
  write "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
  read request
end

loop
  read request within $idle else close
  if path is "/spin/sleep-0"
    loop
      sleep 0us
    end
  else if path is "/spin/read-0"
    loop
      read 0 bytes
    end
  else if path is "/spin/within-0"
    loop
      read request within 0us
    end
  else if path is "/spin/half-close"
    loop
      half-close
    end
  end
  respond 200 header "Content-Type: text/plain" body "hello\n"
end
HUP
start_hangup "$WORK/soak.hup" --set "idle=$((seconds + 60))s"
fds_start=$(fds)
rss_start=$(rss_kib)

# Warm up with the same mix at 1/100 scale for a second, then take the
# "before" figures: code that runs for the first time (the RST, bad-request
# and blocked-write paths) is paged in then and stays, and that is not
# memory the load kept. Freed memory goes back to the system a second after
# connections close (src/reactor.rs), hence the pause.
timeout 10 python3 "$WORK/soak.py" good "$HANGUP_PORT" 0 1 >/dev/null
timeout 10 python3 "$WORK/soak.py" load "$HANGUP_PORT" 1 $((idle / 100)) 5 1 "$HANGUP_PID" >/dev/null
for _ in {1..25}; do
  (($(fds) == fds_start)) && break
  sleep 0.2
done
sleep 1.2
fds_before=$(fds)
rss_before=$(rss_kib)

echo "soak: ${seconds}s on hello plus spinning scripts, $idle idle connections and hostile clients at once" >&2
cpu_before=$(cpu_us)
limit=$((seconds + 30))
timeout "$limit" python3 "$WORK/soak.py" good "$HANGUP_PORT" "$seconds" 200 >"$WORK/good.json" &
good_pid=$!
PIDS+=("$good_pid")
timeout "$limit" python3 "$WORK/soak.py" load "$HANGUP_PORT" "$seconds" "$idle" "$slowloris" "$never_read" \
  "$HANGUP_PID" >"$WORK/load.json" &
load_pid=$!
PIDS+=("$load_pid")
load_status=0
wait "$load_pid" || load_status=$?
good_status=0
wait "$good_pid" || good_status=$?
cpu_after=$(cpu_us 2>/dev/null || echo "$cpu_before")
hwm=$(hwm_kib 2>/dev/null || echo 0)

# Everything is closed; give hangup a bounded moment to let go (its
# memory goes back a second after the last connections close).
fds_after="(gone)"
rss_after=0
deadline=$((SECONDS + settle))
while alive; do
  fds_after=$(fds)
  rss_after=$(rss_kib)
  if ((fds_after == fds_start && rss_after * 10 <= rss_before * 11)) || ((SECONDS >= deadline)); then
    break
  fi
  sleep 0.2
done

failures=()
if ! alive; then
  hangup_status=0
  wait "$HANGUP_PID" || hangup_status=$?
  failures+=("hangup died (exit status $hangup_status)")
fi
((load_status == 0)) || failures+=("the load generator failed (exit $load_status)")
if ((good_status != 0)); then
  failures+=("the well-behaved client failed (exit $good_status)")
elif [[ $(field "$WORK/good.json" 'd["error"] or ""') != "" ]]; then
  failures+=("the well-behaved client saw an error: $(field "$WORK/good.json" 'd["error"]')")
fi
[[ $fds_after == "$fds_start" ]] ||
  failures+=("open descriptors did not come back: $fds_start at start, $fds_before after the warm-up, $fds_after after")
if [[ -s $WORK/load.json ]] && (($(field "$WORK/load.json" 'd["spin_not_ended"]') > 0)); then
  failures+=("$(field "$WORK/load.json" 'd["spin_not_ended"]') spinning scripts were not ended within 5 s")
fi
((rss_after * 10 <= rss_before * 11)) ||
  failures+=("RSS did not come back: $rss_before KiB before, $rss_after KiB after (more than 10 % over)")

if [[ -s $WORK/load.json && -s $WORK/good.json ]]; then
  l() { field "$WORK/load.json" "$1"; }
  g() { field "$WORK/good.json" "$1"; }
  cpu_s=$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
  cpu_pct=$(awk -v c="$cpu_s" -v s="$seconds" 'BEGIN { printf "%.1f", c / s * 100 }')
  echo "| \`scripts/soak.sh${args[*]:+ ${args[*]}}\` | measured |"
  echo "|---|---|"
  echo "| load | ${seconds} s on \`hello\` (plus spinning scripts), all at once: $idle idle, $slowloris slowloris, $never_read never-reading; RST / half-close / garbage / spin clients at 60 / 30 / 30 / 20 per s |"
  echo "| idle connections held at the end | $(l 'd["idle_held"]') of $idle ($(l 'd["idle_closed_by_server"]') closed by hangup; $(l 'd["connect_errors"]') connect errors in all) |"
  echo "| hangup's open descriptors at peak | $(l 'd["hangup_fds_peak"]') |"
  echo "| RST right after connecting | $(l 'd["rst_sent"]') |"
  echo "| half-close after the request | $(l 'd["half_close_ok"]') answered 200 then FIN; $(l 'd["half_close_no_fin"]') no FIN within 5 s; $(l 'd["half_close_bad"]') other |"
  echo "| random garbage | $(l 'd["garbage_400"]') answered 400, $(l 'd["garbage_other"]') otherwise |"
  echo "| spinning scripts (sleep 0us, read 0 bytes, within 0us, half-close loops) | $(l 'd["spin_ended"]') ended by hangup, $(l 'd["spin_not_ended"]') not within 5 s |"
  echo "| slowloris (1 byte per 100 ms) | $(l 'd["slowloris_held"]') held to the end |"
  echo "| never reading (400,000 pipelined requests each) | $(l 'd["never_read_held"]') held, $(l 'd["never_read_blocked"]') blocked in send after $(l 'd["never_read_sent_bytes"] // 1024') of $(l 'd["never_read_total_bytes"] // 1024') KiB: hangup stopped reading once its answers filled the buffers |"
  echo "| well-behaved client (keep-alive, 200 requests/s) | $(g 'd["requests"]') requests served, $(g '"no error" if not d["error"] else d["error"]') |"
  echo "| its latency p50 / p99 / max (as the python client measured it) | $(g '"%.3f / %.3f / %.3f ms" % (d["p50"], d["p99"], d["max"])') |"
  echo "| hangup CPU during the load | $cpu_s s ($cpu_pct % of one core) |"
  echo "| hangup RSS at start / before (warmed up) / peak / after | $rss_start / $rss_before / $hwm / $rss_after KiB |"
  echo "| hangup open descriptors at start / before / after | $fds_start / $fds_before / $fds_after |"
  echo
  echo "$(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); hangup log: $(wc -l <"$HANGUP_LOG") lines."
fi

if ((${#failures[@]})); then
  printf '\nFAIL: %s\n' "${failures[@]}"
  alive || tail -5 "$HANGUP_LOG" >&2
  exit 1
fi
printf '\nPASS: hangup survived, the good client saw no error, descriptors and RSS came back\n'
