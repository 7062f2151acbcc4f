//! SIGHUP: load the scenario again, for the connections still to come.
//!
//! Changing the fault should not mean restarting: a test harness or a
//! client under test holds the port. On SIGHUP the scenario file (and the
//! `file "…"` values it reads) is loaded again, with the same `--set`s. New
//! connections run the new script; open ones finish theirs, since each
//! connection's interpreter borrows its script for as long as it lives. A
//! file that no longer loads is logged with its error's place, and the
//! running script is kept.
//!
//! Every script a connection may still run must stay in memory, so each
//! one loaded again is kept until hangup stops, as the catalog keeps its
//! parameter sets; at most [`MAX_RELOADS`], after which a reload is
//! refused with a word to restart.

use std::collections::BTreeMap;
use std::ffi::OsString;

use crate::scenario::{self, Scenario};

/// Reloads kept before hangup asks for a restart (the catalog's bound on
/// the scenarios it keeps, for the same reason).
pub const MAX_RELOADS: usize = 256;

/// What the server was set up with at start, which a script loaded again
/// may need.
#[derive(Debug, Clone, Copy, Default)]
pub struct Has {
    /// An upstream to proxy to (`--upstream`).
    pub upstream: bool,
    /// TLS: certificates and configurations.
    pub tls: bool,
}

/// Where the running scenario came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file, loaded with these `--set`s.
    File {
        path: OsString,
        overrides: BTreeMap<String, String>,
    },
    /// A built-in: it is part of the binary and never changes.
    Builtin(String),
    /// `--catalog`: every built-in, chosen by path.
    Catalog,
}

/// What a reload came to.
#[derive(Debug)]
pub enum Reloaded {
    /// New connections run this.
    Replaced(&'static Scenario),
    /// The running script stays, for this reason.
    Kept(String),
}

/// Loads the scenario again on request.
#[derive(Debug)]
pub struct Reloader {
    origin: Origin,
    /// Scenarios loaded again so far (each kept until hangup stops).
    kept: usize,
}

impl Reloader {
    pub fn new(origin: Origin) -> Reloader {
        Reloader { origin, kept: 0 }
    }

    /// Load the scenario again, to replace `running`; the server has
    /// what `has` says.
    pub fn reload(&mut self, running: &Scenario, has: Has) -> Reloaded {
        let (path, overrides) = match &self.origin {
            Origin::File { path, overrides } => (path, overrides),
            Origin::Builtin(name) => {
                return Reloaded::Kept(format!(
                    "`{name}` is a built-in scenario, part of hangup itself: there is no file to load again"
                ));
            }
            Origin::Catalog => {
                return Reloaded::Kept(
                    "the catalog serves the built-ins, part of hangup itself: nothing to load".into(),
                );
            }
        };
        if self.kept >= MAX_RELOADS {
            return Reloaded::Kept(format!(
                "{MAX_RELOADS} scripts are already kept (each one until hangup stops, for the connections \
                 that may still run it): restart hangup to load the file again"
            ));
        }
        let loaded = match scenario::load(path, overrides) {
            Ok(loaded) => loaded,
            // Its first line: the error and its place (`FILE:LINE:COL:
            // message`); `hangup check FILE` shows them all.
            Err(e) => return Reloaded::Kept(e.to_string().lines().next().unwrap_or_default().to_string()),
        };
        if loaded.accept_never != running.accept_never {
            return Reloaded::Kept(
                "`accept never` came or went: the listener is set up for it at start; restart hangup".into(),
            );
        }
        if loaded.needs_tls && !has.tls {
            return Reloaded::Kept(
                "the script now needs TLS (`tls handshake`, `tls certificate`): restart hangup to set it up".into(),
            );
        }
        if loaded.proxies && !has.upstream {
            return Reloaded::Kept(
                "the script now forwards to a real server: restart hangup with --upstream HOST:PORT".into(),
            );
        }
        self.kept += 1;
        Reloaded::Replaced(Box::leak(Box::new(loaded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> OsString {
        let dir = std::env::temp_dir().join(format!("hangup-reload-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("s.hup");
        std::fs::write(&path, text).expect("write");
        path.into_os_string()
    }

    fn running(text: &str) -> Scenario {
        scenario::parse_named("running", text, &BTreeMap::new()).expect("parses")
    }

    #[test]
    fn what_cannot_change_without_a_restart_keeps_the_running_script() {
        let hello = running("read request\nrespond 200\nclose\n");
        for (name, text, why) in [
            ("never", "accept never\n", "`accept never` came or went"),
            ("proxy", "read head\nforward request\nrelay response\n", "--upstream"),
            ("broken", "wrte \"x\"\n", ":1:1: "),
        ] {
            let path = file(name, text);
            let mut reloader = Reloader::new(Origin::File {
                path: path.clone(),
                overrides: BTreeMap::new(),
            });
            match reloader.reload(&hello, Has::default()) {
                Reloaded::Kept(said) => assert!(said.contains(why), "{name}: {said}"),
                Reloaded::Replaced(_) => panic!("{name}: replaced"),
            }
            let _ = std::fs::remove_dir_all(std::path::Path::new(&path).parent().expect("dir"));
        }
    }

    #[test]
    fn reloads_are_bounded() {
        let path = file("bound", "read request\nrespond 204\nclose\n");
        let hello = running("read request\nrespond 200\nclose\n");
        let mut reloader = Reloader::new(Origin::File {
            path: path.clone(),
            overrides: BTreeMap::new(),
        });
        reloader.kept = MAX_RELOADS - 1;
        assert!(matches!(reloader.reload(&hello, Has::default()), Reloaded::Replaced(_)));
        match reloader.reload(&hello, Has::default()) {
            Reloaded::Kept(said) => assert!(said.contains("restart hangup"), "{said}"),
            Reloaded::Replaced(_) => panic!("past the bound"),
        }
        let _ = std::fs::remove_dir_all(std::path::Path::new(&path).parent().expect("dir"));
    }
}
