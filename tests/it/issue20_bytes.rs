//! Issue 20, from the client side: header values of any bytes (a 20 KB
//! `Set-Cookie` built with `repeat`), `read body` after `read head`, and the
//! built-in `early-413`.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use crate::support::json::{self, whole};
use crate::support::{End, GET, Server, TempDir, exchange, read_to_end, scenario_file, text};

const NODE_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clients/node-client.js");

/// usebruno/bruno#2201: a 20 KB header, written with `repeat` instead of a
/// raw `write`, arrives byte-exact; Node's client refuses it.
#[test]
fn a_repeated_header_value_arrives_whole() {
    let path = scenario_file(
        "i20-big-header",
        "read request\nrespond 200 header \"Set-Cookie: \" repeat 20KiB \"a\" hex \"3b\" \"x\" body \"ok\"\n",
    );
    let server = Server::start(&path, &[]);
    let (bytes, end, _) = exchange(&server, GET, Duration::from_secs(5));
    let mut want = b"HTTP/1.1 200 OK\r\nSet-Cookie: ".to_vec();
    want.extend(std::iter::repeat_n(b'a', 20 * 1024));
    want.extend_from_slice(b";x\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(bytes.len(), want.len());
    assert!(bytes == want, "{}", text(&bytes[..200.min(bytes.len())]));
    assert_eq!(end, End::PeerFin);

    // Node's parser allows 16 KiB of header (`--max-http-header-size`).
    let url = format!("http://{}/", server.addr);
    let out = Command::new("node")
        .args([NODE_CLIENT, &url, "1", "0", "5000", "0"])
        .output()
        .expect("run node (.ci/run installs it)");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "request 1: error HPE_HEADER_OVERFLOW: Parse Error: Header overflow (reusedSocket=false)\n"
    );
}

/// `check` accepts a 1 GiB header: it stays a repeat, never held whole.
#[test]
fn a_gibibyte_header_is_checked_without_being_built() {
    let path = scenario_file(
        "i20-huge-header",
        "read request\nrespond 200 header \"X-Big: \" repeat 1GiB \"a\"\n",
    );
    let out = crate::support::hangup(&["check", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Answers each upload once its body is in, with `100 Continue` first when
/// asked; the connection is kept, so the body must be read exactly.
const UPLOADS: &str = "loop
  read head
  if header \"Expect\" is \"100-continue\"
    write \"HTTP/1.1 100 Continue\\r\\n\\r\\n\"
  end
  read body
  respond 200 body \"ok\\n\"
end
";

/// A file of `size` bytes for curl to upload, in a directory of its own
/// (removed when dropped).
fn upload_file(size: usize) -> (TempDir, String) {
    let dir = TempDir::new("i20");
    let path = dir.file("upload", vec![b'u'; size]);
    (dir, path.to_string_lossy().into_owned())
}

/// The `body` lines of connection `conn` so far: the bytes each read,
/// and its `rest` (`unread`) when it stopped inside the body.
fn bodies(server: &Server, conn: u64) -> Vec<(u64, Option<String>)> {
    server
        .events("body")
        .iter()
        .filter(|line| line["conn"] == conn)
        .map(|line| (whole(line, "bytes"), line["rest"].as_str().map(str::to_owned)))
        .collect()
}

/// `curl -sS -v ARGS URL URL`: two uploads on one connection.
fn curl_twice(server: &Server, args: &[&str]) -> (i32, String, String) {
    let url = format!("http://{}/", server.addr);
    let out = Command::new("curl")
        .args(["-sS", "-v", "-m", "5"])
        .args(args)
        .args([&url, &url])
        .output()
        .expect("run curl (.ci/run installs it)");
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn read_body_takes_curl_uploads_by_length_and_by_chunks() {
    let server = Server::start(&scenario_file("i20-uploads", UPLOADS), &[]);
    let (_upload, file) = upload_file(200_000);
    let data = format!("@{file}");

    // Content-Length, with no 100-continue (`Expect:` off).
    let (code, out, err) = curl_twice(&server, &["--data-binary", &data, "-H", "Expect:"]);
    assert_eq!((code, out.as_str()), (0, "ok\nok\n"), "{err}");
    assert!(err.contains("Re-using existing connection"), "{err}");
    // curl has left: the end line comes after the connection's others.
    server.wait_for_events("end", 1);
    assert_eq!(bodies(&server, 1), [(200_000, None), (200_000, None)]);

    // Chunked: the body is the chunks, their sizes and the last chunk.
    let (code, out, err) = curl_twice(
        &server,
        &[
            "--data-binary",
            &data,
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Expect:",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "ok\nok\n"), "{err}");
    assert!(err.contains("Re-using existing connection"), "{err}");
    server.wait_for_events("end", 2);
    let chunked = bodies(&server, 2);
    assert_eq!(chunked.len(), 2, "{chunked:?}");
    assert!(
        chunked.iter().all(|(bytes, rest)| *bytes > 200_000 && rest.is_none()),
        "the data and its framing: {chunked:?}"
    );
    assert!(server.events("bad-request").is_empty(), "{:?}", server.log());
}

/// The 100-continue story without `read 2048 bytes`: curl holds back a
/// 2 MB body until `100 Continue` comes, and the scenario reads it whole.
#[test]
fn read_body_after_100_continue() {
    let server = Server::start(&scenario_file("i20-continue", UPLOADS), &[]);
    let (_upload, file) = upload_file(2_000_000);
    let (code, out, err) = curl_twice(
        &server,
        &["--data-binary", &format!("@{file}"), "-H", "Expect: 100-continue"],
    );
    assert_eq!((code, out.as_str()), (0, "ok\nok\n"), "{err}");
    assert_eq!(err.matches("< HTTP/1.1 100 Continue").count(), 2, "{err}");
    assert!(err.contains("Re-using existing connection"), "{err}");
    server.wait_for_events("end", 1);
    assert_eq!(bodies(&server, 1), [(2_000_000, None), (2_000_000, None)]);
}

/// `max` stops a read inside the body; the next `read body` goes on from
/// there, and one with nothing left reads nothing.
#[test]
fn read_body_max_leaves_the_rest_for_the_next_read() {
    let path = scenario_file(
        "i20-max",
        "read head\nread body max 3\nlog \"first\"\nread body\nread body\nrespond 200 body \"ok\"\n",
    );
    let server = Server::start(&path, &[]);
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    let (bytes, end, _) = exchange(&server, request, Duration::from_secs(5));
    assert!(text(&bytes).ends_with("\r\n\r\nok"), "{}", text(&bytes));
    assert_eq!(end, End::PeerFin);
    server.wait_for_events("end", 1);
    let unread = Some("unread".to_owned());
    assert_eq!(bodies(&server, 1), [(3, unread.clone()), (2, None), (0, None)]);

    // Chunked: `5\r\n`, then `hello\r\n0\r\n\r\n`; nothing is left unread.
    let chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (bytes, end, _) = exchange(&server, chunked, Duration::from_secs(5));
    assert!(text(&bytes).ends_with("\r\n\r\nok"), "{}", text(&bytes));
    assert_eq!(end, End::PeerFin);
    server.wait_for_events("end", 2);
    assert_eq!(bodies(&server, 2), [(3, unread), (12, None), (0, None)]);
}

/// A body bigger than `max` is cut off: `close now` then finds the rest
/// unread and resets, under curl's upload.
#[test]
fn read_body_max_then_refuse() {
    let path = scenario_file(
        "i20-refuse",
        "read head\nread body max 1KiB\nrespond 413 header \"Connection: close\"\nclose now\n",
    );
    let server = Server::start(&path, &[]);
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n";
    let mut stream = server.connect();
    stream.write_all(request).expect("head");
    stream.write_all(&[b'b'; 2048]).expect("half the body");
    let (bytes, end) = read_to_end(&mut stream, Duration::from_secs(5));
    assert_eq!(
        text(&bytes),
        "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(end, End::PeerRst);
    server.wait_for_events("end", 1);
    assert_eq!(bodies(&server, 1), [(1024, Some("unread".to_owned()))]);
}

/// `check` refuses a `read body` with no `read head` before it.
#[test]
fn read_body_needs_a_read_head_before_it() {
    let path = scenario_file("i20-nohead", "read request\nread body\n");
    let out = crate::support::hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`read body` reads the body of a request whose head was read"),
        "{}",
        text(&out.stderr)
    );
}

const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clients/python-client.py");

/// `early-413` under an 8 MiB upload: curl asks `Expect: 100-continue`,
/// gets the 413 before sending and exits 0; node and python are writing
/// the body when the RST comes. Node reads the 413 now and then (the race
/// the outcome table normalises); python never does.
#[test]
fn early_413_as_curl_node_and_python_see_it() {
    let server = Server::start("early-413", &[]);
    let url = format!("http://{}/", server.addr);
    let (_upload, file) = upload_file(8 << 20);
    let out = Command::new("curl")
        .args(["-sS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["--data-binary", &format!("@{file}"), &url])
        .output()
        .expect("run curl");
    assert_eq!(
        (out.status.code(), text(&out.stdout).as_str()),
        (Some(0), "413"),
        "{}",
        text(&out.stderr)
    );

    let out = Command::new("node")
        .args([NODE_CLIENT, &url, "1", "0", "5000", "8388608"])
        .output()
        .expect("run node");
    let node = text(&out.stdout);
    assert!(
        node == "request 1: error ECONNRESET: write ECONNRESET (reusedSocket=false)\n"
            || node == "request 1: status 413, 0 body bytes\n",
        "{node}"
    );

    let port = server.addr.port().to_string();
    let out = Command::new("python3")
        .args([PYTHON_CLIENT, "127.0.0.1", &port, "1", "0", "5000", "8388608"])
        .output()
        .expect("run python3");
    let python = text(&out.stdout);
    assert!(
        python == "request 1: ConnectionResetError: [Errno 104] Connection reset by peer\n"
            || python == "request 1: BrokenPipeError: [Errno 32] Broken pipe\n",
        "{python}"
    );
    assert_eq!(out.status.code(), Some(1));
    // curl sent no body: its connection ends with FIN.
    let end = json::parse(&server.wait_for_log(&[r#""conn":1,"#, r#""event":"end""#]));
    assert_eq!(end["how"], "fin", "{end}");
}
