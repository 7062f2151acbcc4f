#!/usr/bin/env bash
# badssl.com's bad certificates, served offline by hangup, where they
# cannot expire under a test suite.
#
# Test suites point at badssl.com's hosts to check that a client refuses
# a bad certificate, and then fail the day one of badssl.com's own
# certificates expires. chromium/badssl.com#359 (2018), "Cert for
# self-signed.badssl.com has expired": "We're using this domain (amongst
# others) for CI for testssl.sh". #444 (2020), "All certs in the "Known
# Bad" section are now expired": "it is very valuable to have at least a
# couple of bad roots or self signed certs to test against, that does not
# fail the tests for being expired". #458 (2020), "wrong-host.badssl.com
# certificate has expired": "I am using this endpoint to test my
# application and I see errors that the certificate has expired back in
# 2018." #521 (2023), "Certificate expired: badssl.com", with curl's
# "(60) SSL certificate problem: certificate has expired". A maintainer,
# in #519: "we recommend against relying on the live badssl.com site for
# CI".
#
# hangup's four defects are made at start, signed by the CA that
# --tls-ca-out writes (but for tls-self-signed and tls-unknown-ca): a
# client that trusts that CA must refuse each, for its own reason, and one
# told to accept anything (curl -k, Python's CERT_NONE) gets hello's
# answer. tls-expired is always out of date, by a day, whatever the date.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

cat >"$WORK/get.py" <<'PY'
import ssl, sys, urllib.request
url, ca = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=ca)
if sys.argv[3:] == ["insecure"]:
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
try:
    with urllib.request.urlopen(url, context=context) as r:
        print(f"status {r.status}, body {r.read().decode().strip()}")
except urllib.error.URLError as error:
    reason = error.reason
    print(f"{type(reason).__name__}: {getattr(reason, 'verify_message', reason)}")
PY

# curl [FLAGS] URL: exit status, and its message or the body.
curl_run() {
  local status=0 body
  body=$(curl -sS --cacert "$WORK/ca.pem" "$@" 2>"$WORK/curl.err") || status=$?
  printf 'exit %s: %s' "$status" "$(grep '^curl: ' "$WORK/curl.err" || echo "$body")"
}

declare -A refused
ok=1
for defect in expired wrong-host self-signed unknown-ca; do
  echo "hangup serve tls-$defect"
  start_hangup "tls-$defect" --tls-ca-out "$WORK/ca.pem"
  url="https://localhost:$HANGUP_PORT/"
  curl_says=$(curl_run "$url")
  curl_k=$(curl_run -k "$url")
  python_says=$(python3 "$WORK/get.py" "$url" "$WORK/ca.pem" 2>&1 || true)
  python_k=$(python3 "$WORK/get.py" "$url" "$WORK/ca.pem" insecure 2>&1 || true)
  show "curl --cacert ca.pem, then with -k:" "$curl_says" "$curl_k"
  show "python urllib with cafile=ca.pem, then with CERT_NONE:" "$python_says" "$python_k"
  stop_hangup
  show_log
  echo
  refused[$defect]="$curl_says | $python_says"
  [[ $curl_says == "exit 60: curl: (60) "* && $python_says == "SSLCertVerificationError: "* &&
    $curl_k == "exit 0: hello" && $python_k == "status 200, body hello" ]] || ok=
done

if [[ -n $ok && ${refused[expired]} == *"certificate has expired | "*"certificate has expired" &&
  ${refused[wrong-host]} == *"no alternative certificate subject name matches target host name 'localhost'"*"Hostname mismatch, certificate is not valid for 'localhost'."* &&
  ${refused[self-signed]} == *"self-signed certificate | "*"self-signed certificate" &&
  ${refused[unknown-ca]} == *"unable to get local issuer certificate | "*"unable to get local issuer certificate" ]]; then
  reproduced "curl (60) and python refuse each certificate for its own reason (expired, wrong host, self-signed, unknown CA), offline; curl -k and python with CERT_NONE get hello's answer"
fi
not_reproduced "expected curl to exit 60 and python to raise SSLCertVerificationError with each defect's reason, and curl -k and CERT_NONE to read hello"
