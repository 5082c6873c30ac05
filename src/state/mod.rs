//! Server state that outlives a process: where it lives (the state directory) and how it is
//! stored ([`Backend`]: small named documents written atomically). Approvals are its first
//! user ([`approvals`]); rate-limit counters ([`counters`]) are kept by a [`counters::CounterStore`]
//! (memory: [`counters_memory`], file: [`counters_file`] saving in [`counters_slots`], or Redis:
//! [`counters_redis`]).
//! Several processes share counters and approvals through one Redis ([`redis`], [`SharedDoc`]).
//! The running server answers `truenas-mcp approvals ...` over a Unix socket in the state
//! directory ([`control`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub mod approvals;
pub mod control;
pub mod counters;
pub mod counters_file;
pub mod counters_memory;
pub mod counters_redis;
pub mod counters_slots;
pub mod redis;

/// Why state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state directory cannot be created or used.
    #[error("cannot use the state directory `{path}`: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A state document cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Read {
        /// The document's path.
        path: String,
        /// Why.
        reason: String,
    },
    /// A state document cannot be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The document's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Changes could not be saved (a write failed earlier, or the writer stopped).
    #[error("cannot save `{path}`: {reason}")]
    Unsaved {
        /// The document.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Where state documents are kept. A file backend writes each as a file in the state
/// directory; tests and one-shot commands keep them in memory.
pub trait Backend: Send + Sync {
    /// The document's bytes, or `None` if it was never written.
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, StateError>;
    /// Replaces the document, all at once: a reader (or a crash) sees the old or the new
    /// bytes, never a mix.
    fn store(&self, name: &str, bytes: &[u8]) -> Result<(), StateError>;
    /// Writes `bytes` over the start of the document in place and returns once they are on
    /// disk: cheaper than [`Backend::store`] (no new file, no rename), but not atomic (a crash
    /// can leave a mix of old and new bytes, so callers checksum what they write), and bytes
    /// past the end of `bytes` may stay. By default, [`Backend::store`].
    fn overwrite(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
        self.store(name, bytes)
    }
}

/// A state document that several processes change at once (approvals in Redis): read with its
/// version, replaced only if nobody changed it since (compare-and-set), so no change is lost.
pub trait SharedDoc: Send + Sync + std::fmt::Debug {
    /// The document's version (0 if never written) and bytes.
    fn load(&self) -> Result<(u64, Option<Vec<u8>>), StateError>;
    /// Replaces the document if it is still at `version`; false if another process changed it
    /// first (read it again and retry).
    fn replace(&self, version: u64, bytes: &[u8]) -> Result<bool, StateError>;
}

/// The state directory: `--state-dir` / `TRUENAS_MCP_STATE_DIR`, else
/// `$XDG_STATE_HOME/truenas-mcp`, else `~/.local/state/truenas-mcp`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("truenas-mcp"));
    }
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty())?;
    Some(PathBuf::from(home).join(".local/state/truenas-mcp"))
}

/// Documents as files in one directory (created with mode 0700).
#[derive(Debug)]
pub struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    /// Uses `dir`, creating it (and its parents) if needed; a directory it creates is 0700.
    pub fn open(dir: &Path) -> Result<FileBackend, StateError> {
        let err = |source| StateError::Dir { path: dir.display().to_string(), source };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(err)?;
        Ok(FileBackend { dir: dir.to_path_buf() })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Backend for FileBackend {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, StateError> {
        let path = self.dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Read { path: path.display().to_string(), reason: e.to_string() }),
        }
    }

    /// Write a temporary file beside it, sync it, rename it over the old one, sync the
    /// directory: the rename is atomic, so a crash leaves the old or the new document.
    fn store(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let err = |source| StateError::Write { path: path.display().to_string(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(bytes).map_err(err)?;
        file.sync_all().map_err(err)?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(err)?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            // Makes the rename durable; a filesystem that cannot sync a directory still renamed.
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Writes in place and syncs the data (`fdatasync`); a file this creates is 0600, and its
    /// directory is synced once, so that the new name is durable too.
    fn overwrite(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
        let path = self.dir.join(name);
        let err = |source| StateError::Write { path: path.display().to_string(), source };
        let (mut file, created) = match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(file) => (file, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                (options.open(&path).map_err(err)?, true)
            }
            Err(e) => return Err(err(e)),
        };
        file.write_all(bytes).map_err(err)?;
        file.sync_data().map_err(err)?;
        if created && let Ok(dir) = std::fs::File::open(&self.dir) {
            // Makes the new name durable; a filesystem that cannot sync a directory (as in
            // `store`) still wrote the file.
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// Documents in memory, lost when the process ends: for one-shot commands and tests.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    docs: Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl Backend for MemoryBackend {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.docs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(name).cloned())
    }

    fn store(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
        self.docs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }
}
