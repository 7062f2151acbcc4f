//! One console block run as a reader runs it in one terminal: commands in
//! order, in one directory, `&` for a server in the background, `kill %N`
//! to stop one.
//!
//! The docs show fixed ports (hangup's default `127.0.0.1:9000`, and 8080
//! for "your server"); tests run in parallel beside other builds, so every
//! server gets a free port instead. A `hangup serve` listens on port 0 and
//! its `listening on` line says where; any other server (`python3 -m
//! http.server 8080`) must listen on 8080 in the docs, and gets a port
//! found free just before it starts. Commands get the real addresses, and
//! their output gets the documented ones back, so the docs show what a
//! reader sees.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::process::{collect, drain, first_line, kill_group, wait};

/// How long one command may take before it is killed and named.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);
/// How long a server may take to be ready, or to stop when asked.
const SERVER_LIMIT: Duration = Duration::from_secs(10);
/// The port the docs give "your server", the one hangup stands in front of.
pub const YOUR_SERVER_PORT: &str = "8080";

/// How a command runs.
#[derive(Clone, Copy)]
pub enum How {
    /// A server, with `&`: its first line is its output.
    Background,
    /// To its end, stdout and stderr as one stream, as a terminal shows
    /// them.
    Merged,
    /// To its end, stdout and stderr read apart (then stdout's lines, then
    /// stderr's): for a program that buffers stdout in a pipe but not on a
    /// terminal, whose interleaving a pipe cannot show as a terminal would.
    Apart,
}

/// What a command printed (stdout and stderr as one stream, as a terminal
/// shows them) and its exit status (`None` when a signal ended it).
pub struct Ran {
    pub output: String,
    pub status: Option<i32>,
}

struct Job {
    command: String,
    child: Child,
    is_hangup: bool,
    /// What it printed after its first line, for messages.
    printed: Arc<Mutex<String>>,
}

pub struct Shell {
    dir: PathBuf,
    path: String,
    jobs: Vec<Job>,
    /// (documented address, real address) of each server started.
    addresses: Vec<(String, String)>,
}

impl Shell {
    /// A shell in `dir` that finds `hangup` in `bin_dir` first.
    pub fn new(dir: &Path, bin_dir: &Path) -> Shell {
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        Shell {
            dir: dir.to_path_buf(),
            path,
            jobs: Vec::new(),
            addresses: Vec::new(),
        }
    }

    /// The documented addresses of the servers started so far.
    pub fn servers(&self) -> Vec<String> {
        self.addresses
            .iter()
            .map(|(documented, _)| documented.clone())
            .collect()
    }

    /// A server's documented and real address. A later server at the same
    /// documented address (after `kill %1`) takes it over; a stopped one's
    /// stays, so that a command can find nothing there.
    fn remember(&mut self, documented: String, real: String) {
        self.addresses.retain(|(other, _)| *other != documented);
        self.addresses.push((documented, real));
    }

    /// `text` with every real address replaced by its documented one.
    pub fn as_documented(&self, text: &str) -> String {
        self.addresses
            .iter()
            .fold(text.to_string(), |text, (documented, real)| {
                text.replace(real, documented)
            })
    }

    /// `code` with every documented address replaced by its real one, and
    /// `localhost:PORT` too.
    fn as_real(&self, code: &str) -> String {
        let port = |address: &str| address.rsplit(':').next().unwrap_or("").to_string();
        self.addresses
            .iter()
            .fold(code.to_string(), |code, (documented, real)| {
                code.replace(documented, real).replace(
                    &format!("localhost:{}", port(documented)),
                    &format!("localhost:{}", port(real)),
                )
            })
    }

    /// Run one command (or `kill %N`), as `how` says.
    pub fn run(&mut self, code: &str, how: How) -> Result<Ran, String> {
        let code = as_installed(code);
        if let Some(number) = code.strip_prefix("kill %") {
            let number: usize = number.trim().parse().map_err(|_| "kill %N needs a job number")?;
            return self.kill(number);
        }
        match how {
            How::Background if program(&code) == "hangup" => self.start_hangup(&code),
            How::Background => self.start_other(&code),
            How::Merged => self.foreground(&format!("{{ {code}\n}} 2>&1")),
            How::Apart => self.foreground(&code),
        }
    }

    fn command(&self, script: &str) -> Command {
        let mut command = Command::new("sh");
        command
            .args(["-c", script])
            .current_dir(&self.dir)
            .env("PATH", &self.path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a command that overstays is
            // killed with everything it started.
            .process_group(0);
        command
    }

    /// Run `script` to its end: what it printed on stdout, then on stderr.
    fn foreground(&mut self, script: &str) -> Result<Ran, String> {
        let code = self.as_real(script);
        let mut child = self.command(&code).spawn().map_err(|e| format!("cannot run sh: {e}"))?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = match wait(&mut child, COMMAND_LIMIT) {
            Some(status) => status.code(),
            None => {
                kill_group(&child, libc::SIGKILL);
                let _ = child.wait();
                return Err(format!(
                    "still running after {COMMAND_LIMIT:?}; killed. It printed:\n{}",
                    stdout.join().unwrap_or_default()
                ));
            }
        };
        let mut output = stdout.join().unwrap_or_default();
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        output.push_str(&stderr.join().unwrap_or_default());
        Ok(Ran { output, status })
    }

    /// `hangup serve …` in the background, on a free port: its `listening
    /// on` line, with the address the docs gave (`--listen`, or the
    /// default 127.0.0.1:9000).
    fn start_hangup(&mut self, code: &str) -> Result<Ran, String> {
        let words: Vec<&str> = code.split_whitespace().collect();
        let (documented, code) = match words.iter().position(|w| *w == "--listen") {
            Some(at) => {
                let documented = words.get(at + 1).ok_or("--listen without an address")?;
                let code = code.replacen(&format!("--listen {documented}"), "--listen {ADDRESS}", 1);
                (documented.to_string(), code)
            }
            None => ("127.0.0.1:9000".to_string(), format!("{code} --listen {{ADDRESS}}")),
        };
        let (host, port) = documented.rsplit_once(':').ok_or("--listen without a port")?;
        let port: u16 = port.parse().map_err(|_| format!("--listen {documented}: not a port"))?;
        // Another process may take the port between the test's check and
        // hangup's bind: then hangup says so, and another port is tried.
        let mut last = String::new();
        for _ in 0..5 {
            let real = format!("{host}:{}", free_port_like(host, port));
            let code = self.as_real(&code.replace("{ADDRESS}", &real));
            let mut child = self
                .command(&format!("exec {code}"))
                .spawn()
                .map_err(|e| format!("cannot run sh: {e}"))?;
            let printed = Arc::new(Mutex::new(String::new()));
            let stderr = collect(child.stderr.take(), &printed);
            let Some(line) = first_line(child.stdout.take(), &printed, SERVER_LIMIT) else {
                // Gone already, not still silent: when the docs send its
                // stderr to a file, "in use" is not seen here, so an early
                // exit is tried again on another port too.
                let exited = (0..20).any(|_| {
                    let gone = matches!(child.try_wait(), Ok(Some(_)));
                    if !gone {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    gone
                });
                kill_group(&child, libc::SIGKILL);
                let _ = child.wait();
                let _ = stderr.join();
                last = printed.lock().expect("output lock").clone();
                if last.contains("in use") || exited {
                    continue;
                }
                break;
            };
            self.remember(documented, real);
            self.jobs.push(Job {
                command: code,
                child,
                is_hangup: true,
                printed,
            });
            return Ok(Ran {
                output: line,
                status: None,
            });
        }
        Err(format!(
            "no `listening on` line within {SERVER_LIMIT:?}; it printed:\n{last}"
        ))
    }

    /// Another server in the background ("your server"): it must listen on
    /// port 8080 in the docs; it gets a free port and is ready when that
    /// port accepts a connection. Its output is not the docs' business.
    fn start_other(&mut self, code: &str) -> Result<Ran, String> {
        let port = free_port_like("127.0.0.1", YOUR_SERVER_PORT.parse().expect("a port"));
        let replaced = replace_number(code, YOUR_SERVER_PORT, &port.to_string());
        if replaced == code {
            return Err(format!(
                "a server other than `hangup serve` must listen on port {YOUR_SERVER_PORT} in the docs, \
                 so the test can move it to a free port"
            ));
        }
        let code = self.as_real(&replaced);
        let mut child = self
            .command(&format!("exec {code}"))
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let printed = Arc::new(Mutex::new(String::new()));
        let pipes = [
            collect(child.stdout.take(), &printed),
            collect(child.stderr.take(), &printed),
        ];
        let give_up = Instant::now() + SERVER_LIMIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > give_up {
                kill_group(&child, libc::SIGKILL);
                let _ = child.wait();
                pipes.into_iter().for_each(|pipe| drop(pipe.join()));
                return Err(format!(
                    "port {port} (the docs' {YOUR_SERVER_PORT}) never accepted a connection; it printed:\n{}",
                    printed.lock().expect("output lock")
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.remember(format!("127.0.0.1:{YOUR_SERVER_PORT}"), format!("127.0.0.1:{port}"));
        self.jobs.push(Job {
            command: code,
            child,
            is_hangup: false,
            printed,
        });
        Ok(Ran {
            output: String::new(),
            status: None,
        })
    }

    /// `kill %N`: SIGTERM to the Nth background job, and wait for it. A
    /// hangup must then exit 0, as the docs say it does.
    fn kill(&mut self, number: usize) -> Result<Ran, String> {
        let job = number
            .checked_sub(1)
            .and_then(|index| self.jobs.get_mut(index))
            .ok_or_else(|| format!("there is no job %{number}"))?;
        stop(job)?;
        Ok(Ran {
            output: String::new(),
            status: Some(0),
        })
    }

    /// Stop every job still running, as the end of the block: the errors
    /// of those that did not stop as they should.
    pub fn finish(&mut self) -> Vec<String> {
        self.jobs.iter_mut().filter_map(|job| stop(job).err()).collect()
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        for job in &mut self.jobs {
            if job.child.try_wait().ok().flatten().is_none() {
                kill_group(&job.child, libc::SIGKILL);
                let _ = job.child.wait();
            }
        }
    }
}

/// SIGTERM a job (unless it already ended) and wait for its exit.
fn stop(job: &mut Job) -> Result<(), String> {
    let status = match job.child.try_wait().ok().flatten() {
        Some(status) => status,
        None => {
            kill_group(&job.child, libc::SIGTERM);
            match wait(&mut job.child, SERVER_LIMIT) {
                Some(status) => status,
                None => {
                    kill_group(&job.child, libc::SIGKILL);
                    let _ = job.child.wait();
                    return Err(format!("`{}` did not stop on SIGTERM", job.command));
                }
            }
        }
    };
    if job.is_hangup && status.code() != Some(0) {
        return Err(format!(
            "`{}` exited with {status} (0 expected); it printed:\n{}",
            job.command,
            job.printed.lock().expect("output lock")
        ));
    }
    Ok(())
}

/// A docs command as the test runs it: `cargo run --release -q -- ARGS`
/// (a build, then the binary) is `hangup ARGS` with this test's build.
pub fn as_installed(code: &str) -> String {
    match code.strip_prefix("cargo run").and_then(|rest| rest.split_once(" -- ")) {
        Some((_, args)) => format!("hangup {args}"),
        None => code.to_string(),
    }
}

/// The program a command runs: its first word after `NAME=value`s.
pub fn program(code: &str) -> &str {
    code.split_whitespace().find(|word| !word.contains('=')).unwrap_or("")
}

/// `text` with each `number` that is not part of a longer number replaced.
fn replace_number(text: &str, number: &str, by: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(number) {
        let before = rest[..at].chars().last();
        let after = rest[at + number.len()..].chars().next();
        let alone = !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..at]);
        out.push_str(if alone { by } else { number });
        rest = &rest[at + number.len()..];
    }
    out.push_str(rest);
    out
}

/// A port nothing listens on now at `host` (`127.0.0.1`, `[::1]`), with
/// as many digits as `documented` and never a privileged one: the Host
/// header a client sends holds the port, so the byte counts the docs show
/// for port 9000 hold only for a port of four digits. Port 0 stays 0.
fn free_port_like(host: &str, documented: u16) -> u16 {
    static TRIED: AtomicU32 = AtomicU32::new(0);
    if documented == 0 {
        return 0;
    }
    let digits = documented.to_string().len() as u32;
    let low = 10u32.pow(digits - 1).max(1024);
    let high = 10u32.pow(digits).min(65536) - 1;
    let span = high - low + 1;
    // Spread the tests that run at once over the range.
    let start = std::process::id().wrapping_mul(2_654_435_761) ^ TRIED.fetch_add(7919, Ordering::Relaxed);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (0..span)
        .map(|attempt| low + start.wrapping_add(attempt) % span)
        .find(|&port| TcpListener::bind((host, port as u16)).is_ok())
        .map(|port| port as u16)
        .expect("a free port")
}

#[test]
fn docs_commands_become_this_builds_commands() {
    assert_eq!(
        as_installed("cargo run --release -q -- serve mid-body-reset"),
        "hangup serve mid-body-reset"
    );
    assert_eq!(program("NO_COLOR=1 hangup probe 9000"), "hangup");
    assert_eq!(
        replace_number("http.server 8080 --upstream 127.0.0.1:8080 18080", "8080", "41000"),
        "http.server 41000 --upstream 127.0.0.1:41000 18080"
    );
}
