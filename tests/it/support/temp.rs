//! Files a test needs on disk, and nothing left behind: every directory a
//! test makes is a [`TempDir`], removed with its contents when it is
//! dropped, whether the test passed or panicked. Names carry our PID and
//! a counter, so tests running at once (and other runs on the machine)
//! never share a directory.

use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory `$TMPDIR/hangup-LABEL-PID-N`, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hangup-{label}-{}-{n}", std::process::id()));
        // A run that was killed before its guards dropped, with our PID.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory (also what `*dir` gives).
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write `contents` to `name` in this directory; its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A scenario written to a file of its own ([`super::scenario_file`]): its
/// path as text, which is what `hangup` takes; the file goes when this
/// is dropped, so keep it while a server runs it.
pub struct ScenarioFile {
    path: String,
    _dir: TempDir,
}

impl ScenarioFile {
    pub fn new(name: &str, source: &str) -> ScenarioFile {
        let dir = TempDir::new("test");
        let path = dir.file(&format!("{name}.hup"), source).to_string_lossy().into_owned();
        ScenarioFile { path, _dir: dir }
    }
}

impl Deref for ScenarioFile {
    type Target = str;
    fn deref(&self) -> &str {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for ScenarioFile {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_ref()
    }
}

impl AsRef<Path> for ScenarioFile {
    fn as_ref(&self) -> &Path {
        self.path.as_ref()
    }
}

impl fmt::Display for ScenarioFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}
