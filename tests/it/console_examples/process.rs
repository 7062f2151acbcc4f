//! The processes a console block starts: waiting for them within a limit,
//! signalling them, and reading their pipes on threads so that a full pipe
//! never stalls them.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wait (bounded) for a child's exit.
pub fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let give_up = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            return Some(status);
        }
        if Instant::now() > give_up {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Signal the process group a child leads (it was spawned as its own).
pub fn kill_group(child: &Child, signal: libc::c_int) {
    let Ok(group) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill takes no pointers; the group is our child's, which has
    // not been waited for, so its id cannot have been reused.
    unsafe { libc::kill(-group, signal) };
}

/// Read a pipe to its end on a thread.
pub fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Append what a pipe says to `printed`, on a thread, until it closes.
pub fn collect(pipe: Option<impl Read + Send + 'static>, printed: &Arc<Mutex<String>>) -> std::thread::JoinHandle<()> {
    let printed = Arc::clone(printed);
    std::thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut printed = printed.lock().expect("output lock");
            printed.push_str(&line);
            printed.push('\n');
        }
    })
}

/// A server's first line on stdout (within `limit`); the rest of it goes
/// to `printed`.
pub fn first_line(stdout: Option<ChildStdout>, printed: &Arc<Mutex<String>>, limit: Duration) -> Option<String> {
    let (send, receive) = mpsc::channel();
    let printed = Arc::clone(printed);
    std::thread::spawn(move || {
        let Some(stdout) = stdout else { return };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let _ = send.send(line.trim_end().to_string());
        for line in reader.lines().map_while(Result::ok) {
            let mut printed = printed.lock().expect("output lock");
            printed.push_str(&line);
            printed.push('\n');
        }
    });
    receive.recv_timeout(limit).ok()
}
