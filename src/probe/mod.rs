//! `hangup probe`: send a request to any HTTP server and report exactly
//! what came back and how the connection ended.
//!
//! [`target`] reads what the user typed, [`request`] builds what is sent,
//! [`session`] runs one client connection on the shared [`crate::reactor`]
//! (the same loop as `serve`) for its [`exchange`], which keeps the story
//! without touching the socket, [`outcome`] names what happened, and
//! [`report`] and [`diagram`] show it; [`h2`] is the stream of an
//! HTTP/2 probe (`--http2`), which the exchange drives instead of its
//! HTTP/1.1 reader. [`run`] drives one probe, or many at a time, and is
//! the only place that reads the clock.

pub mod diagram;
pub mod exchange;
pub mod h2;
pub mod outcome;
mod recorder;
pub mod report;
pub mod request;
pub mod session;
pub mod target;
pub mod timeline;
pub mod tls;
mod tls_report;

use std::io;
use std::time::{Duration, Instant};

use mio::Events;

use crate::reactor::{Alarm, Dispatched, Fired, Reactor, Side};
use outcome::ProbeReport;
use request::Plan;
use session::ProbeConn;

/// How many probes, how many at once, and how far apart they start.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub count: usize,
    pub concurrency: usize,
    /// The k-th probe starts no earlier than k × interval after the first.
    pub interval: Duration,
}

/// Run `load.count` probes of `plan` and return their reports in the order
/// they finished. Every probe ends by itself (each has `plan.timeout`).
///
/// Out of descriptors (EMFILE), a probe does not fail: it waits until one
/// of those running ends and frees one, as `serve` waits to accept. Only
/// when none is running is the shortage the probe's own result.
pub fn run(plan: &Plan, load: Load) -> io::Result<Vec<ProbeReport>> {
    let mut reactor: Reactor<ProbeConn> = Reactor::new()?;
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
                    reactor.schedule(due, Alarm::Pacer);
                    pacer_armed = true;
                }
                break;
            }
            match start(&mut reactor, plan, now) {
                Started::Running => started += 1,
                Started::Done(done) => {
                    started += 1;
                    reports.push(done.into_report());
                }
                Started::NoDescriptor => break,
            }
        }
        if reports.len() == load.count {
            break;
        }
        reactor.poll(&mut events)?;
        for event in events.iter() {
            // The clock is read for each event, not once per turn: a turn
            // may handle hundreds of probes, and a probe measures.
            let mut now = Instant::now();
            if let Dispatched::Closed(done) = reactor.dispatch(event, now, &mut now) {
                reports.push(done.into_report());
            }
        }
        let mut now = Instant::now();
        reactor.fire_timers(now, &mut now, &mut fired);
        for fire in fired.drain(..) {
            match fire {
                Fired::Closed(done) => reports.push(done.into_report()),
                Fired::Owner(_) => pacer_armed = false,
            }
        }
    }
    Ok(reports)
}

/// What became of a probe's start.
enum Started<'p> {
    Running,
    /// It failed at once (refused, say): its report is ready.
    Done(Box<ProbeConn<'p>>),
    /// No descriptor is free while other probes run: start it later.
    NoDescriptor,
}

/// Start one probe.
fn start<'p>(reactor: &mut Reactor<ProbeConn<'p>>, plan: &'p Plan, now: Instant) -> Started<'p> {
    let mut conn = ProbeConn::connect(plan, now);
    if conn.is_done() {
        if conn.lacked_descriptor() && !reactor.is_empty() {
            return Started::NoDescriptor;
        }
        return Started::Done(Box::new(conn));
    }
    let key = reactor.vacant_key();
    let registered = match conn.socket_mut() {
        Some(socket) => reactor.register(key, Side::Upstream, socket),
        None => Ok(()),
    };
    if let Err(e) = registered {
        conn.fail(&e, now);
        return Started::Done(Box::new(conn));
    }
    // The connect completes with a writable event.
    match reactor.insert(key, conn, now, |_| crate::reactor::Flow::Open) {
        Some(done) => Started::Done(Box::new(done)),
        None => Started::Running,
    }
}
