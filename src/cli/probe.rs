//! `hangup probe`, run: its flags checked ([`super::probe_flags`]), the
//! probes run, their report printed, and `--strict` and `--expect` turned
//! into the exit code; with `--record`, the scenario file written.

use std::time::Instant;

use super::probe_flags::{Probe, ProbeArgs};
use super::record_file::RecordFile;
use super::{Args, Failure, output};
use crate::probe::{diagram, report};
use crate::record::Pauses;

/// Run the probes the flags ask for and print their report.
pub fn run(flags: ProbeArgs, args: &Args) -> Result<(), Failure> {
    let probe = Probe::from_flags(&flags, args)?;
    // An unwritable recording fails before any request is sent.
    let recorder = flags
        .record
        .as_deref()
        .map(|path| RecordFile::create(&args.os(path), args, record_pauses(&flags)))
        .transpose()?;
    crate::sock::raise_fd_limit();
    let started = Instant::now();
    let mut reports =
        crate::probe::run(&probe.plan, probe.load).map_err(|e| Failure::system(format!("probe failed: {e}")))?;
    if let Some(file) = recorder {
        let seen = report::text(&reports[0], probe.plan.timeout, probe.plan.linger);
        file.write(reports[0].recording.take(), &probe.plan.target, &seen)?;
    }
    let output = if probe.load.count > 1 {
        let summary = report::Summary::new(&reports, probe.load.concurrency, started.elapsed());
        if flags.json {
            summary.json() + "\n"
        } else {
            summary.text()
        }
    } else if flags.json {
        report::json(&reports[0]) + "\n"
    } else if flags.diagram {
        diagram::render(&reports[0], diagram::color_wanted())
    } else {
        let text = report::text(&reports[0], probe.plan.timeout, probe.plan.linger);
        match &probe.resolved {
            Some(addr) => format!("address   {addr}\n{text}"),
            None => text,
        }
    };
    output::print(&output)?;
    if flags.strict {
        let found: usize = reports
            .iter()
            .flat_map(|r| &r.requests)
            .map(|r| r.violations.len())
            .sum();
        if found > 0 {
            return Err(Failure::failed(format!(
                "--strict: {found} protocol violation(s) that strict clients refuse"
            )));
        }
    }
    if probe.expect.is_empty() {
        return Ok(());
    }
    let failures: Vec<String> = reports.iter().filter_map(|r| probe.expect.check(r).err()).collect();
    match failures.first() {
        None => Ok(()),
        Some(first) if reports.len() == 1 => Err(Failure::failed(format!("expectation failed: {first}"))),
        Some(first) => Err(Failure::failed(format!(
            "expectation failed for {} of {} probes; the first: {first}",
            failures.len(),
            reports.len()
        ))),
    }
}

/// Whether `--record` keeps the server's pauses.
fn record_pauses(flags: &ProbeArgs) -> Pauses {
    if flags.record_timing {
        Pauses::Kept
    } else {
        Pauses::Dropped
    }
}
