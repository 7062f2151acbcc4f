"""A Python http.client client that reports, one line per request, what it saw.

usage: python3 python-client.py HOST PORT [REQUESTS] [GAP_MS] [TIMEOUT_MS] [BODY_BYTES] [PATH]
       python3 python-client.py [--ca FILE] URL [REQUESTS] [GAP_MS] [TIMEOUT_MS] [BODY_BYTES]
Requests go one after another, GAP_MS apart, on one HTTPConnection
(keep-alive; http.client reconnects by itself only after a close it saw).
PATH (default "/") is the request target, query included: under
`hangup serve --catalog` it picks the scenario ("/flaky?chance=2").
A URL gives host, port and target at once; an https:// one makes it an
HTTPSConnection that trusts only the CA in FILE (`hangup serve
--tls-ca-out FILE`) when --ca is given, else the system's. A host under
`.localhost` is loopback, as curl and RFC 6761 have it, so
`https://tls-expired.localhost:PORT/` reaches `serve --catalog --tls`
and asks for that name (SNI) without a resolver that knows it.
Output: "request N: status 200, 6 body bytes" or
        "request N: ConnectionResetError: [Errno 104] Connection reset by peer".
An ssl error is printed without where in CPython's _ssl.c it was raised
("(_ssl.c:1006)"), which changes with Python's version, not with what the
server did.
Exit code: 0 when every request succeeded, 1 otherwise.
"""
import http.client
import re
import socket
import ssl
import sys
import time
import urllib.parse


def connection(args):
    """The HTTP(S)Connection the arguments name, the request target, and
    the arguments after them."""
    ca = None
    if args[:1] == ["--ca"]:
        ca, args = args[1], args[2:]
    if "://" not in args[0]:
        host, port, rest = args[0], int(args[1]), args[2:]
        path = rest[4] if len(rest) > 4 else "/"
        return (lambda timeout: http.client.HTTPConnection(host, port, timeout=timeout)), path, rest
    url = urllib.parse.urlsplit(args[0])
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=ca)

        def make(timeout):
            return http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=timeout, context=context)
    else:

        def make(timeout):
            return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)

    def made(timeout):
        conn = make(timeout)
        if url.hostname.endswith(".localhost"):
            # Connect to loopback; TLS still asks for the name (SNI) and
            # checks the certificate against it.
            conn._create_connection = lambda address, *rest: socket.create_connection(("127.0.0.1", address[1]), *rest)
        return conn

    return made, path, args[1:]


def words(error):
    """What an exception says, without _ssl.c's line numbers."""
    return re.sub(r" \(_ssl\.c:\d+\)|_ssl\.c:\d+: ", "", str(error))


def main():
    make, path, rest = connection(sys.argv[1:])
    count = int(rest[0]) if len(rest) > 0 else 1
    gap = int(rest[1]) / 1000 if len(rest) > 1 else 0.0
    timeout = int(rest[2]) / 1000 if len(rest) > 2 else 5.0
    body_bytes = int(rest[3]) if len(rest) > 3 else 0
    conn = make(timeout)
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
            print(f"request {n}: {type(error).__name__}: {words(error)}")
            conn.close()
    sys.exit(1 if failed else 0)


main()
