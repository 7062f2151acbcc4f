//! `hangup probe URL --record FILE`: the scenario of what the server did.
//!
//! The path is checked before the probe runs (an unusable one fails before
//! any request is sent, at once even for a FIFO), and the files are
//! written after it, whole or not at all ([`crate::record::files`]). The header
//! names the command that made the recording, flags and all, shell-quoted
//! to be pasted again. What a limit cost is a `# NOTE:` in the file and a
//! warning on stderr.

use std::path::PathBuf;
use std::time::SystemTime;

use super::{Args, Failure, output};
use crate::record::files::{check_file, parent, write_all};
use crate::record::{Pauses, Recording, command_line};

/// Where `--record` writes, checked.
pub(crate) struct RecordFile {
    path: PathBuf,
    command: String,
    pauses: Pauses,
}

impl RecordFile {
    /// Check `path` (a usage error when it cannot be written); `args` is
    /// the command line, for the header.
    pub fn create(path: &std::ffi::OsStr, args: &Args, pauses: Pauses) -> Result<RecordFile, Failure> {
        Ok(RecordFile {
            path: check_file(path).map_err(Failure::usage)?,
            command: command_line(args.raw()),
            pauses,
        })
    }

    /// Write what the server of `target` did, with the probe's `report`
    /// (its text) in the header.
    pub fn write(self, recording: Option<Recording>, target: &str, report: &str) -> Result<(), Failure> {
        let mut recording = recording.unwrap_or_default();
        recording.source = target.to_string();
        recording.how = format!("`{}`", self.command);
        recording.seen = report.lines().map(|l| format!("probe: {l}")).collect();
        recording.pauses = self.pauses;
        let name = self
            .path
            .file_name()
            .map_or_else(|| "recording.hup".into(), |n| n.to_string_lossy().into_owned());
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "recording".into(), |s| s.to_string_lossy().into_owned());
        let written = recording.to_scenario(&name, &stem, SystemTime::now());
        // The side files under the names the scenario reads; the scenario
        // under the name it was given, whatever its bytes.
        let mut files: Vec<(&std::ffi::OsStr, &[u8])> = written
            .side_files
            .iter()
            .map(|(name, bytes)| (std::ffi::OsStr::new(name), bytes.as_ref()))
            .collect();
        let own_name = self.path.file_name().unwrap_or_default();
        files.push((own_name, written.scenario.as_bytes()));
        write_all(parent(&self.path), &files).map_err(|e| Failure::system(format!("--record: {e}")))?;
        for note in &written.notes {
            output::error_line(&format!("hangup: warning: {}: {note}", self.path.display()));
        }
        Ok(())
    }
}
