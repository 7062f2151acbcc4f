"""A Python HTTP/2 client (httpx with h2) that reports, one line per request, what it saw.

usage: python3 python-h2-client.py [--ca FILE] URL [REQUESTS] [GAP_MS] [TIMEOUT_MS]
One httpx.Client(http1=False, http2=True), as an application keeps one:
http:// is h2c with prior knowledge, https:// is h2 by ALPN, trusting only
the CA in FILE (`hangup serve --tls-ca-out FILE`) when --ca is given.
Requests go one after another through it, GAP_MS apart, each a GET of
URL; httpx opens a new connection for a request when the last one ended.
TIMEOUT_MS is httpx's timeout (connect, and each read).
Output: "request N: status 200, 6 body bytes" or
        "request N: RemoteProtocolError: <StreamReset stream_id:1, error_code:7, remote_reset:True>";
an error after the response's headers names the status and the body
bytes read before it ("status 200, RemoteProtocolError: ... after 100
body bytes").
Exit code: 0 when every request succeeded, 1 otherwise; 2 when httpx or
h2 cannot be imported (scripts/test.sh installs them into target/py).
"""
import ssl
import sys
import time

try:
    import h2  # noqa: F401 (httpx needs it for http2=True, and says so late)
    import httpx
except ImportError as error:
    print(f"python-h2-client.py: {error}; scripts/test.sh installs httpx and h2 into target/py", file=sys.stderr)
    sys.exit(2)


def main():
    args = sys.argv[1:]
    verify = True
    if args[:1] == ["--ca"]:
        verify, args = ssl.create_default_context(cafile=args[1]), args[2:]
    url = args[0]
    count = int(args[1]) if len(args) > 1 else 1
    gap = int(args[2]) / 1000 if len(args) > 2 else 0.0
    timeout = int(args[3]) / 1000 if len(args) > 3 else 5.0
    failed = False
    with httpx.Client(http1=False, http2=True, verify=verify, timeout=timeout) as client:
        for n in range(1, count + 1):
            if n > 1 and gap:
                time.sleep(gap)
            status, got = None, 0
            try:
                with client.stream("GET", url) as response:
                    status = response.status_code
                    for chunk in response.iter_raw():
                        got += len(chunk)
                print(f"request {n}: status {status}, {got} body bytes")
            except Exception as error:  # every failure is the observation
                failed = True
                head = "" if status is None else f"status {status}, "
                after = "" if status is None else f" after {got} body bytes"
                print(f"request {n}: {head}{type(error).__name__}: {error}{after}")
    sys.exit(1 if failed else 0)


main()
