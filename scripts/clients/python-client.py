"""A Python http.client client that reports, one line per request, what it saw.

usage: python3 python-client.py HOST PORT [REQUESTS] [GAP_MS] [TIMEOUT_MS] [BODY_BYTES] [PATH]
Requests go one after another, GAP_MS apart, on one HTTPConnection
(keep-alive; http.client reconnects by itself only after a close it saw).
PATH (default "/") is the request target, query included: under
`hangup serve --catalog` it picks the scenario ("/flaky?chance=2").
Output: "request N: status 200, 6 body bytes" or
        "request N: ConnectionResetError: [Errno 104] Connection reset by peer".
Exit code: 0 when every request succeeded, 1 otherwise.
"""
import http.client
import sys
import time


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    gap = int(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.0
    timeout = int(sys.argv[5]) / 1000 if len(sys.argv) > 5 else 5.0
    body_bytes = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    path = sys.argv[7] if len(sys.argv) > 7 else "/"
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    failed = False
    for n in range(1, count + 1):
        if n > 1 and gap:
            time.sleep(gap)
        try:
            if body_bytes:
                conn.request("POST", path, body=b"u" * body_bytes)
            else:
                conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            print(f"request {n}: status {response.status}, {len(body)} body bytes")
        except Exception as error:  # every failure is the observation
            failed = True
            print(f"request {n}: {type(error).__name__}: {error}")
            conn.close()
    sys.exit(1 if failed else 0)


main()
