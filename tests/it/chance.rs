//! Choices by chance, replayed by their seed: `flaky --seed 7` makes the
//! same choices in two runs, resets about a third of 300 requests, and a
//! run without `--seed` names the seed that replays it; a drip's drawn
//! pauses and a read's drawn time limit replay too. Seen from real
//! clients (raw sockets) and from the log.

use std::io::{BufRead, BufReader, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use crate::support::json::{self, Value, whole};
use crate::support::{End, GET, Server, exchange, read_to_end, scenario_file, text};

const SHORT: Duration = Duration::from_secs(2);

/// The log's `chance` lines, once there are `n` of them (bounded
/// wait): each as `#CONN request=N yes|no`, in connection order.
fn choices(run: &Server, n: usize) -> Vec<String> {
    let mut choices: Vec<(u64, String)> = run
        .wait_for_events("chance", n)
        .iter()
        .map(|line| (whole(line, "conn"), choice(line)))
        .collect();
    choices.sort();
    choices.into_iter().map(|(_, c)| c).collect()
}

fn choice(line: &Value) -> String {
    let result = if line["result"] == "yes" { "yes" } else { "no" };
    format!("#{} request={} {result}", whole(line, "conn"), whole(line, "request"))
}

/// One request on a connection of its own, then the client's FIN: whether
/// the server reset it (else it must have answered `hello`).
fn reset(run: &Server) -> bool {
    let mut stream = run.connect();
    // The server may have reset already, before the send or half-close
    // was done: that error is the reset (the kernel reports it once, so
    // the read after it would say 0 bytes, as for a FIN).
    if stream
        .write_all(GET)
        .and_then(|()| stream.shutdown(Shutdown::Write))
        .is_err()
    {
        return true;
    }
    let (received, end) = read_to_end(&mut stream, SHORT);
    match end {
        End::PeerRst => true,
        End::PeerFin => {
            assert!(text(&received).ends_with("\r\n\r\nhello\n"), "{}", text(&received));
            false
        }
        other => panic!("ended {other:?} after {:?}", text(&received)),
    }
}

/// `flaky` with `flags`, `n` connections one after the other: which were
/// reset, and the choices the log names.
fn flaky_run(flags: &[&str], n: usize) -> (Vec<bool>, Vec<String>, Server) {
    let run = Server::start_with("flaky", flags);
    let resets: Vec<bool> = (0..n).map(|_| reset(&run)).collect();
    let choices = choices(&run, n);
    (resets, choices, run)
}

#[test]
fn flaky_with_a_seed_makes_the_same_choices_twice_and_resets_about_a_third() {
    let (first, first_log, _run) = flaky_run(&["--seed", "7"], 300);
    let (second, second_log, _run) = flaky_run(&["--seed", "7"], 300);
    assert_eq!(first_log, second_log, "the same seed, the same choices");
    assert_eq!(first, second, "the same seed, the same connections reset");
    let resets = first.iter().filter(|r| **r).count();
    assert!((60..=140).contains(&resets), "{resets} of 300 reset");
    // The log names each choice, and each "yes" is a reset the client saw.
    let yes: Vec<bool> = first_log.iter().map(|c| c.ends_with("yes")).collect();
    assert_eq!(yes, first);
    // Another seed, other choices.
    let (_, other_log, _run) = flaky_run(&["--seed", "8"], 300);
    assert_ne!(other_log, first_log);
}

#[test]
fn without_a_seed_the_first_log_line_names_the_one_that_replays_the_run() {
    let (resets, choices, run) = flaky_run(&[], 30);
    let first = json::parse(&run.log().into_iter().next().expect("a first log line"));
    assert_eq!(first["event"], "seed", "{first}");
    let seed = whole(&first, "seed").to_string();
    assert_eq!(first["replay"], format!("--seed {seed}"), "{first}");
    let (replayed, replayed_choices, _run) = flaky_run(&["--seed", &seed], 30);
    assert_eq!(replayed_choices, choices);
    assert_eq!(replayed, resets);
}

/// The choices of one keep-alive connection's requests depend on their
/// numbers, not on when they arrive: 12 requests back to back and 12 with
/// pauses between them get the same answers and the same random sleeps.
#[test]
fn the_timing_of_requests_changes_no_choice() {
    let path = scenario_file(
        "coin",
        "loop\n read request\n sleep between 0ms and 20ms\n if chance 1 in 2\n  respond 200 body \"heads\"\n else\n  respond 200 body \"tails\"\n end\nend\n",
    );
    let answers = |pause: Duration| {
        let run = Server::start_with(&path, &["--seed", "42"]);
        let mut stream = run.connect();
        let mut bodies = Vec::new();
        for _ in 0..12 {
            stream.write_all(GET).expect("send");
            let mut reader = BufReader::new(&stream);
            let mut status = String::new();
            reader.read_line(&mut status).expect("status line");
            let mut head = String::new();
            while reader.read_line(&mut head).expect("head") > 2 {
                head.clear();
            }
            let mut body = [0u8; 5];
            std::io::Read::read_exact(&mut reader, &mut body).expect("body");
            bodies.push(text(&body));
            // The scenario: requests `pause` apart.
            std::thread::sleep(pause);
        }
        // The end line comes after every sleep's: all of them are in.
        drop(stream);
        run.wait_for_event("end");
        let sleeps: Vec<u64> = run.events("sleep").iter().map(|l| whole(l, "ms")).collect();
        (bodies, sleeps)
    };
    let (bodies, sleeps) = answers(Duration::ZERO);
    assert_eq!(answers(Duration::from_millis(15)).0, bodies);
    assert!(
        bodies.contains(&"heads".to_string()) && bodies.contains(&"tails".to_string()),
        "{bodies:?}"
    );
    assert_eq!(sleeps.len(), 12);
    assert!(sleeps.iter().all(|ms| *ms <= 20), "{sleeps:?}");
    assert!(sleeps.iter().any(|ms| *ms != sleeps[0]), "the sleeps vary: {sleeps:?}");
}

/// A jittery slow server: `write … every between` drips the body a byte
/// at a time, each pause drawn anew. Two runs with one seed send the same
/// bytes and log the same pauses (`sleep ms=N`), connection by connection.
#[test]
fn a_drip_with_drawn_pauses_replays_by_its_seed() {
    let path = scenario_file(
        "jitter-drip",
        "read request\nwrite \"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\n\"\nwrite \"hello\" every between 1ms and 30ms\n",
    );
    let connections: usize = 3;
    let run = |seed: &str| {
        let server = Server::start_with(&path, &["--seed", seed]);
        // One after the other: connection N is the Nth exchange.
        let took: Vec<Duration> = (0..connections)
            .map(|_| {
                let (received, end, took) = exchange(&server, GET, SHORT);
                assert_eq!(text(&received), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                assert_eq!(end, End::PeerFin);
                took
            })
            .collect();
        // Each `end` comes after its connection's pauses in the log.
        server.wait_for_events("end", connections);
        let mut pauses: Vec<(u64, u64)> = server
            .events("sleep")
            .iter()
            .map(|l| (whole(l, "conn"), whole(l, "ms")))
            .collect();
        // Connection by connection, each one's pauses in the order drawn.
        pauses.sort_by_key(|(conn, _)| *conn);
        for (n, took) in (1..).zip(&took) {
            let slept: u64 = pauses.iter().filter(|(conn, _)| *conn == n).map(|(_, ms)| ms).sum();
            assert!(*took >= Duration::from_millis(slept), "#{n}: {took:?} < {slept} ms");
        }
        pauses
    };
    let first = run("7");
    assert_eq!(
        first.len(),
        4 * connections,
        "four pauses between five bytes: {first:?}"
    );
    assert!(first.iter().all(|(_, ms)| (1..=30).contains(ms)), "{first:?}");
    assert!(first.iter().any(|(_, ms)| *ms != first[0].1), "drawn anew: {first:?}");
    assert_eq!(run("7"), first, "the same seed, the same pauses");
    assert_ne!(run("8"), first, "another seed, other pauses");
}

/// `read … within between` draws the read's time limit when the read
/// starts: a client that sends nothing is closed on after 20 ms at least.
#[test]
fn a_drawn_read_limit_closes_on_a_silent_client_after_its_low_bound() {
    let path = scenario_file(
        "jitter-within",
        "read request within between 20ms and 40ms else close\n",
    );
    let server = Server::start_with(&path, &["--seed", "7"]);
    let mut stream = server.connect();
    let start = Instant::now();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!((received, end), (Vec::new(), End::PeerFin));
    assert!(start.elapsed() >= Duration::from_millis(20), "{:?}", start.elapsed());
    server.wait_for_log(&[r#""event":"timeout""#]);
}
