#!/usr/bin/env bash
# OpenSSL 3's "unexpected eof while reading": a TLS server that ends the
# connection with a TCP FIN and no close_notify alert first.
#
# openssl/openssl#18574 (2022), "error:0A000126:SSL routines::unexpected eof
# while reading in php": the answer names SSL_OP_IGNORE_UNEXPECTED_EOF as
# "the corresponding flag to ignore this error"; in openssl/openssl#18409 a
# maintainer adds: "You'll get this error if the other side of the
# communication does not close the TLS communication cleanly but just
# terminates the connection. In most cases (depending on the protocol using
# the TLS) it can be ignored." curl/curl#10997 (2023) is curl's form of it:
# "curl: (56) OpenSSL SSL_read: error:0A000126:SSL routines::unexpected eof
# while reading, errno 0". OpenSSL 3.0 made the missing close_notify an
# error (SSL_ERROR_SSL) where 1.1.1 reported SSL_ERROR_SYSCALL with errno 0.
#
# Whether a client says so depends on whether it reads to the end. The
# response of hangup's tls-no-close-notify is whole (Content-Length), so
# curl, node and Python's http.client stop at its last byte and take it;
# `openssl s_client`, which reads until the connection ends, says
# "unexpected eof while reading" and exits 1 (0 with
# -ignore_unexpected_eof); Python's ssl does when told not to hide it
# (suppress_ragged_eofs=False). The same response ended with close_notify
# (`hangup serve end-close --tls`) passes everywhere. wget (GnuTLS), when
# installed or installable, is shown too: it stops at Content-Length, but
# says "The TLS connection was non-properly terminated" when the body is
# delimited by the close itself.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# openssl s_client: one request, reading until the connection ends. Its
# error line, without the thread id and the source file that vary.
s_client() {
  local status=0
  printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    timeout 5 openssl s_client -connect "127.0.0.1:$HANGUP_PORT" -servername localhost \
      -verify_return_error -CAfile "$WORK/ca.pem" -quiet -ign_eof "$@" \
      >"$WORK/s_client.out" 2>"$WORK/s_client.err" || status=$?
  local error
  error=$(sed -n 's/^[0-9A-F]*:error:[0-9A-F]*:SSL routines:[^:]*:\([^:]*\):.*/\1/p' "$WORK/s_client.err")
  printf 'exit %s, body %s%s' "$status" "$(tail -1 "$WORK/s_client.out" | tr -d '\r')" "${error:+, $error}"
}

cat >"$WORK/ragged.py" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=ca)
for ragged in (True, False):
    tls = context.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                              server_hostname="localhost", suppress_ragged_eofs=ragged)
    tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    try:
        while chunk := tls.recv(4096):
            got += chunk
        end = "EOF"
    except ssl.SSLError as error:
        end = f"{type(error).__name__}: {error.reason}"
    print(f"suppress_ragged_eofs={ragged}: {len(got)} bytes, then {end}")
PY

# node's https.get and Python's urllib: what each makes of it.
cat >"$WORK/get.js" <<'JS'
require('https').get(process.argv[2], (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => console.log(`node: status ${res.statusCode}, body ${body.trim()}`));
}).on('error', (err) => console.log(`node: error ${err.code}: ${err.message}`));
JS
cat >"$WORK/get.py" <<'PY'
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2])
try:
    with urllib.request.urlopen(sys.argv[1], context=context) as r:
        print(f"python urllib: status {r.status}, body {r.read().decode().strip()}")
except Exception as error:
    print(f"python urllib: {type(error).__name__}: {error}")
PY

# curl, node and python's urllib against the server running.
others() {
  local status=0 body url="https://localhost:$HANGUP_PORT/"
  body=$(curl -sS --cacert "$WORK/ca.pem" "$url" 2>&1) || status=$?
  echo "curl: exit $status, body $body"
  NODE_EXTRA_CA_CERTS="$WORK/ca.pem" node "$WORK/get.js" "$url" 2>&1 || true
  python3 "$WORK/get.py" "$url" "$WORK/ca.pem" 2>&1 || true
}

echo "1. hangup serve tls-no-close-notify: a whole response, then FIN without close_notify."
start_hangup tls-no-close-notify --tls-ca-out "$WORK/ca.pem"
bare=$(s_client)
ignored=$(s_client -ignore_unexpected_eof)
ragged=$(python3 "$WORK/ragged.py" "$HANGUP_PORT" "$WORK/ca.pem" 2>&1 || true)
accepted=$(others)
show "openssl s_client printed:" "$bare"
show "openssl s_client -ignore_unexpected_eof printed:" "$ignored"
show "python's ssl, reading to the end:" "$ragged"
show "the HTTP clients:" "$accepted"
show_log
stop_hangup

echo
echo "2. hangup serve end-close --tls: the same kind of response, then close_notify and FIN."
start_hangup end-close --tls --tls-ca-out "$WORK/ca.pem"
notified=$(s_client)
show "openssl s_client printed:" "$notified"
show_log
stop_hangup

# wget is GnuTLS's client here; shown when it is or can be installed
# (as root, or with sudo that asks no password: a test run must not wait).
if ! command -v wget >/dev/null && { [[ $(id -u) == 0 ]] || sudo -n true 2>/dev/null; }; then
  # shellcheck source=scripts/lib/apt.sh
  . "$ROOT/scripts/lib/apt.sh"
  apt_install wget 2>/dev/null || true
fi
if command -v wget >/dev/null; then
  echo
  echo "3. wget (GnuTLS): tls-no-close-notify, and the same ended by the close alone (no Content-Length)."
  cat >"$WORK/until-close.hup" <<'HUP'
# A body that ends where the connection does, without close_notify.
tls handshake
read request within 5s else close no-notify
write "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello\n"
close no-notify
HUP
  wget_run() {
    local status=0
    wget -O /dev/null --tries=1 --timeout=5 --ca-certificate="$WORK/ca.pem" "https://localhost:$HANGUP_PORT/" \
      >"$WORK/wget.out" 2>&1 || status=$?
    printf 'exit %s%s' "$status" "$(grep -o '([^()]*terminated[^()]*)' "$WORK/wget.out" | sed 's/^/: /' || true)"
  }
  start_hangup tls-no-close-notify --tls-ca-out "$WORK/ca.pem"
  wget_whole=$(wget_run)
  stop_hangup
  start_hangup "$WORK/until-close.hup" --tls-ca-out "$WORK/ca.pem"
  wget_until_close=$(wget_run)
  stop_hangup
  show "wget printed:" "tls-no-close-notify: $wget_whole" "ended by the close: $wget_until_close"
else
  echo
  echo "3. wget is not installed and could not be: GnuTLS's side is not shown."
fi

if [[ $bare == "exit 1, body hello, unexpected eof while reading" &&
  $ignored == "exit 0, body hello" && $notified == "exit 0, body done" &&
  $ragged == *"suppress_ragged_eofs=False: "*"SSLEOFError: UNEXPECTED_EOF_WHILE_READING"* &&
  $accepted == *"curl: exit 0, body hello"* && $accepted == *"node: status 200, body hello"* &&
  $accepted == *"python urllib: status 200, body hello"* ]]; then
  reproduced "openssl s_client: \"unexpected eof while reading\" (exit 1) after the whole response, when no close_notify came (exit 0 with close_notify, or with -ignore_unexpected_eof); curl, node and python's urllib take the response"
fi
not_reproduced "expected openssl s_client to say \"unexpected eof while reading\" only without close_notify, python's ssl SSLEOFError with suppress_ragged_eofs=False, and curl, node and urllib to read hello"
