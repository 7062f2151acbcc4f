//! `hangup probe`, run: its flags checked ([`super::probe_flags`]), the
//! probes run, their report printed, and `--strict` and `--expect` turned
//! into the exit code; with `--record`, the scenario file written.

use std::time::Instant;

use super::probe_flags::{Probe, ProbeArgs};
use super::{Args, Failure, output};
use crate::probe::{diagram, report};

/// Run the probes the flags ask for and print their report.
pub fn run(flags: ProbeArgs, args: &Args) -> Result<(), Failure> {
    let probe = Probe::from_flags(&flags, args)?;
    // An unwritable recording fails before any request is sent.
    let recorder = flags
        .record
        .as_deref()
        .map(|path| RecordFile::create(&args.os(path)))
        .transpose()?;
    crate::sock::raise_fd_limit();
    let started = Instant::now();
    let mut reports =
        crate::probe::run(&probe.plan, probe.load).map_err(|e| Failure::system(format!("probe failed: {e}")))?;
    if let Some(file) = recorder {
        let report_text = report::text(&reports[0], probe.plan.timeout, probe.plan.linger);
        let mut recording = reports[0].recording.take().unwrap_or_default();
        recording.source = probe.plan.target.clone();
        recording.how = format!("`hangup probe {} --record`", probe.plan.target);
        recording.seen = report_text.lines().map(|l| format!("probe: {l}")).collect();
        recording.timing = flags.record_timing;
        file.write(&recording)?;
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

/// The scenario file `--record` writes, created before the probe runs so
/// that a path that cannot be written fails before any request is sent.
struct RecordFile {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl RecordFile {
    fn create(path: &std::ffi::OsStr) -> Result<RecordFile, Failure> {
        let path = std::path::PathBuf::from(path);
        let file = std::fs::File::create(&path)
            .map_err(|e| Failure::usage(format!("--record {}: cannot write it: {e}", path.display())))?;
        Ok(RecordFile { path, file })
    }

    /// Write the scenario, and its side files next to it.
    fn write(mut self, recording: &crate::record::Recording) -> Result<(), Failure> {
        use std::io::Write as _;
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "recording".into(), |s| s.to_string_lossy().into_owned());
        let written = recording.to_scenario(&stem);
        let dir = self.path.parent().unwrap_or(std::path::Path::new(""));
        let failed = |what: &std::path::Path, e: std::io::Error| {
            Failure::system(format!("--record: cannot write {}: {e}", what.display()))
        };
        for (name, bytes) in &written.side_files {
            let side = dir.join(name);
            std::fs::write(&side, bytes).map_err(|e| failed(&side, e))?;
        }
        self.file
            .write_all(written.scenario.as_bytes())
            .map_err(|e| failed(&self.path, e))?;
        if let Some(why) = &recording.limit_hit {
            output::error_line(&format!("hangup: warning: {}: {why}", self.path.display()));
        }
        Ok(())
    }
}
