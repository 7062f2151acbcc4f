//! `hangup probe`: send a request to any HTTP server and report exactly
//! what came back and how the connection ended.
//!
//! [`request`] builds what is sent, [`session`] runs one client connection
//! on the shared [`crate::reactor`] (the same loop as `serve`), [`response`]
//! frames what comes back, [`outcome`] names what happened, and [`report`]
//! and [`diagram`] show it. [`run`] drives one probe, or many at a time.

pub mod args;
pub mod diagram;
pub mod outcome;
pub mod report;
pub mod request;
pub mod response;
pub mod session;

use std::io;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Token};

use crate::log::{Format, Log};
use crate::reactor::{FIRST_OWNER_TOKEN, Fired, Flow, Reactor};
use outcome::ProbeReport;
use request::Plan;
use session::ProbeConn;

/// The timer key that starts the next paced probe.
const PACER: usize = FIRST_OWNER_TOKEN;

/// How many probes, how many at once, and how far apart they start.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub count: usize,
    pub concurrency: usize,
    /// The k-th probe starts no earlier than k × interval after the first.
    pub interval: Duration,
}

impl Load {
    pub const ONE: Load = Load {
        count: 1,
        concurrency: 1,
        interval: Duration::ZERO,
    };
}

/// Run `load.count` probes of `plan` and return their reports in the order
/// they finished. Every probe ends by itself (each has `plan.timeout`).
pub fn run(plan: &Plan, load: Load) -> io::Result<Vec<ProbeReport>> {
    let mut reactor: Reactor<ProbeConn> = Reactor::new()?;
    // The probe prints its own report; the reactor's log stays quiet.
    let mut log = Log::new(Format::Text, true);
    // Never reserve what the user asked for: `--count` is bounded, but
    // reports arrive one by one.
    let mut reports = Vec::with_capacity(load.count.min(1024));
    let mut events = Events::with_capacity(1024);
    let mut fired = Vec::new();
    let first_start = Instant::now();
    let mut started = 0;
    let mut pacer_armed = false;
    while reports.len() < load.count {
        let now = Instant::now();
        while started < load.count && reactor.len() < load.concurrency.max(1) {
            let due = first_start + load.interval * started as u32;
            if due > now {
                if !pacer_armed {
                    reactor.schedule(due, PACER);
                    pacer_armed = true;
                }
                break;
            }
            started += 1;
            if let Some(done) = start(&mut reactor, plan, now) {
                reports.push(done.into_report());
            }
        }
        if reports.len() == load.count {
            break;
        }
        reactor.poll(&mut events)?;
        let now = Instant::now();
        for event in events.iter() {
            if let Some(done) = reactor.dispatch(event, now, &mut log) {
                reports.push(done.into_report());
            }
        }
        reactor.fire_timers(Instant::now(), &mut log, &mut fired);
        for fire in fired.drain(..) {
            match fire {
                Fired::Closed(done) => reports.push(done.into_report()),
                Fired::Owner(_) => pacer_armed = false,
            }
        }
    }
    Ok(reports)
}

/// Start one probe; a probe that failed at once comes straight back.
fn start<'p>(reactor: &mut Reactor<ProbeConn<'p>>, plan: &'p Plan, now: Instant) -> Option<ProbeConn<'p>> {
    let mut conn = ProbeConn::connect(plan, now);
    if conn.is_done() {
        return Some(conn);
    }
    let key = reactor.vacant_key();
    let registered = match conn.stream_mut() {
        Some(stream) => reactor
            .registry()
            .register(stream, Token(key), Interest::READABLE | Interest::WRITABLE),
        None => Ok(()),
    };
    if let Err(e) = registered {
        conn.fail(&e, now);
        return Some(conn);
    }
    // The connect completes with a writable event.
    reactor.insert(key, conn, |_| Flow::Open)
}
