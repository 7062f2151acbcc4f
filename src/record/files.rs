//! A recording on disk: `--record`'s path checked before anything runs,
//! and a recording's files written so that a failure leaves none of them
//! half-written.
//!
//! Each file is first written whole under a temporary name in the same
//! directory (`.hangup-PID-N.tmp`), then all are renamed into place, the
//! scenario last. A write that fails (a full disk, a file size limit)
//! removes every temporary file, so a recording is there whole or not at
//! all: never side files without their scenario, never a scenario cut
//! short. An existing file of the same name is only replaced once the new
//! one is whole.
//!
//! A path is refused at once, before any connection, when it cannot be
//! what `--record` writes: empty (which would write into the current
//! directory without saying so), or an existing FIFO, socket, device or
//! directory (opening a FIFO to write blocks until someone reads it, beyond
//! any `--timeout`). Nothing here ever opens the path itself.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where `serve --record DIR` writes, and the command that each file's
/// header names.
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    pub dir: PathBuf,
    pub command: String,
}

impl Destination {
    /// `DIR`, made if need be and proven writable; `command` is the whole
    /// `hangup serve …`, shell-quoted.
    pub fn new(dir: &OsStr, command: String) -> Result<Destination, String> {
        let shown = dir.to_string_lossy();
        if dir.is_empty() {
            return Err(
                "--record \"\": the path is empty; name a directory, like ./recordings (or . for this one)".into(),
            );
        }
        let dir = PathBuf::from(dir);
        match fs::metadata(&dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(format!("--record {shown}: it is {}, not a directory", kind(&meta)));
            }
            _ => {}
        }
        fs::create_dir_all(&dir)
            .and_then(|()| prove_writable(&dir))
            .map_err(|e| format!("--record {shown}: cannot write there: {e}"))?;
        Ok(Destination { dir, command })
    }
}

/// `probe --record FILE`: refused unless it is a new file or a regular
/// one, in a directory where a file can be made.
pub(crate) fn check_file(path: &OsStr) -> Result<PathBuf, String> {
    let shown = path.to_string_lossy();
    if path.is_empty() {
        return Err("--record \"\": the path is empty; name a file, like ./x.hup".into());
    }
    let path = PathBuf::from(path);
    match fs::metadata(&path) {
        Ok(meta) if !meta.is_file() => {
            return Err(format!("--record {shown}: it is {}, not a regular file", kind(&meta)));
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(format!("--record {shown}: cannot write it: {e}"));
        }
        _ => {}
    }
    if path.file_name().is_none() {
        return Err(format!("--record {shown}: it names a directory, not a file"));
    }
    prove_writable(parent(&path)).map_err(|e| format!("--record {shown}: cannot write it: {e}"))?;
    Ok(path)
}

/// The directory a file path is in (`.` for a bare name).
pub(crate) fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// What kind of file `meta` describes, for a refusal.
fn kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "an unknown kind of file"
    }
}

/// Make and remove a temporary file in `dir`.
fn prove_writable(dir: &Path) -> io::Result<()> {
    let temp = temp_name(dir);
    new_file(&temp)?;
    let _ = fs::remove_file(&temp);
    Ok(())
}

/// A name no other write of this process, nor another process, uses.
fn temp_name(dir: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".hangup-{}-{n}.tmp", std::process::id()))
}

fn new_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Write `files` (name, bytes) into `dir`, each whole under a temporary
/// name, then renamed into place in order (the scenario comes last). On
/// any error, nothing of it is left: the message names the file that
/// failed. Returns the last file's path.
pub(crate) fn write_all<N: AsRef<Path>, B: AsRef<[u8]>>(dir: &Path, files: &[(N, B)]) -> Result<PathBuf, String> {
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    let remove = |paths: &mut dyn Iterator<Item = &PathBuf>| {
        for path in paths {
            let _ = fs::remove_file(path);
        }
    };
    for (name, bytes) in files {
        let path = dir.join(name);
        let temp = temp_name(dir);
        let written = new_file(&temp).and_then(|mut file| file.write_all(bytes.as_ref()));
        if let Err(e) = written {
            remove(&mut temps.iter().map(|(t, _)| t).chain([&temp]));
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        temps.push((temp, path));
    }
    for (i, (temp, path)) in temps.iter().enumerate() {
        if let Err(e) = fs::rename(temp, path) {
            remove(
                &mut temps[i..]
                    .iter()
                    .map(|(t, _)| t)
                    .chain(temps[..i].iter().map(|(_, p)| p)),
            );
            return Err(format!("cannot write {}: {e}", path.display()));
        }
    }
    Ok(temps.last().map(|(_, path)| path.clone()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of this test's own.
    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hangup-record-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("test dir");
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn files_are_written_whole_and_only_under_their_names() {
        let dir = dir("whole");
        let files = [
            ("x.1.bin".to_string(), b"side".to_vec()),
            ("x.hup".to_string(), b"hang\n".to_vec()),
        ];
        assert_eq!(write_all(&dir, &files), Ok(dir.join("x.hup")));
        assert_eq!(listing(&dir), ["x.1.bin", "x.hup"]);
        assert_eq!(fs::read(dir.join("x.hup")).expect("read"), b"hang\n");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failure_leaves_nothing_behind() {
        let dir = dir("failure");
        // The scenario's name is a directory: its rename fails, last.
        fs::create_dir(dir.join("x.hup")).expect("a directory in the way");
        fs::write(dir.join("x.hup").join("keep"), b"").expect("not empty");
        let files = [
            ("x.1.bin".to_string(), b"side".to_vec()),
            ("x.hup".to_string(), b"hang\n".to_vec()),
        ];
        let error = write_all(&dir, &files).expect_err("a directory cannot be replaced by a file");
        assert!(error.contains("x.hup"), "{error}");
        assert_eq!(listing(&dir), ["x.hup"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn paths_that_cannot_be_a_recording_are_refused() {
        let dir = dir("refused");
        assert!(check_file(OsStr::new("")).is_err_and(|e| e.contains("empty")));
        assert!(Destination::new(OsStr::new(""), String::new()).is_err_and(|e| e.contains("empty")));
        let d = dir.as_os_str();
        assert!(check_file(d).is_err_and(|e| e.contains("a directory")));
        let file = dir.join("plain");
        fs::write(&file, b"").expect("a file");
        assert!(Destination::new(file.as_os_str(), String::new()).is_err_and(|e| e.contains("a regular file")));
        assert_eq!(check_file(file.as_os_str()), Ok(file.clone()));
        assert_eq!(listing(&dir), ["plain"], "the checks leave nothing");
        let _ = fs::remove_dir_all(&dir);
    }
}
