//! The directory a run keeps its state in: the embedded store's and queues' journals, a manifest
//! saying what ran there and how it ended, the summary, and the log. One runner at a time (a lock
//! file holds the owner's pid).
//!
//! What a restart with the same directory does:
//! - `run` (real endpoints): continues where it stopped. The state store and queues are journaled,
//!   and the real Walmart and Commerce kept their own state, so cursors, listings, orders and queued
//!   messages pick up exactly where they were.
//! - `demo`: the bundled sandboxes live in memory and cannot be saved, and the channel's state
//!   means nothing against a new world (a new Walmart sandbox hands out the same purchase order
//!   ids again, and knows none of the items the channel matched). So a finished demo prints its
//!   saved summary again, and an interrupted one is played again from the start, with the same
//!   parameters and seed, after moving the interrupted attempt aside (`interrupted-<n>/`).

use adapters_embedded::private_files;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::scenario::ScenarioParams;

const MANIFEST: &str = "runner.json";
const LOCK: &str = "runner.lock";
const SUMMARY_TEXT: &str = "summary.txt";
const SUMMARY_JSON: &str = "summary.json";
const LOG: &str = "runner.log";
/// The embedded adapters' journals (their file names are theirs; moving them aside is ours).
const JOURNALS: [&str; 2] = ["state.jsonl", "queues.jsonl"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Interrupted,
    Finished,
}

/// What ran in the directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Manifest {
    Demo {
        params: ScenarioParams,
        time_scale: f64,
        status: Status,
        exit_code: Option<i32>,
        /// Attempts moved aside after an interruption.
        interrupted_attempts: u32,
    },
    Run {
        channel: String,
        status: Status,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum StateDirError {
    #[error("state directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("state directory {path} is in use by process {pid}")]
    Locked { path: PathBuf, pid: u32 },
    #[error("state directory {path}: its {MANIFEST} is unreadable: {reason}")]
    Manifest { path: PathBuf, reason: String },
}

/// An open, locked state directory.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
}

/// `.local-state/<mode>-<UTC date and time>`.
pub fn default_path(mode: &str, now: Timestamp) -> PathBuf {
    let stamp: String = now
        .to_rfc3339()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let (date, time) = stamp.split_at(stamp.len().min(8));
    PathBuf::from(".local-state").join(format!("{mode}-{date}-{time}"))
}

/// The manifest of a directory, read without taking its lock (to choose a run's parameters before
/// opening it).
pub fn peek_manifest(path: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(path.join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}

fn process_alive(pid: u32) -> bool {
    // Only Linux exposes this cheaply; elsewhere a stale lock is taken over.
    Path::new("/proc").join(pid.to_string()).exists()
}

impl StateDir {
    /// Creates the directory if needed and takes its lock.
    pub fn open(path: &Path) -> Result<Self, StateDirError> {
        let io = |source| StateDirError::Io {
            path: path.to_owned(),
            source,
        };
        private_files::create_dir(path).map_err(io)?;
        let lock = path.join(LOCK);
        if let Ok(owner) = fs::read_to_string(&lock)
            && let Ok(pid) = owner.trim().parse::<u32>()
            && pid != std::process::id()
            && process_alive(pid)
        {
            return Err(StateDirError::Locked {
                path: path.to_owned(),
                pid,
            });
        }
        private_files::write(&lock, std::process::id().to_string()).map_err(io)?;
        Ok(Self {
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn log_file(&self) -> PathBuf {
        self.path.join(LOG)
    }

    fn io(&self, source: std::io::Error) -> StateDirError {
        StateDirError::Io {
            path: self.path.clone(),
            source,
        }
    }

    pub fn manifest(&self) -> Result<Option<Manifest>, StateDirError> {
        match fs::read_to_string(self.path.join(MANIFEST)) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StateDirError::Manifest {
                    path: self.path.clone(),
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Writes the manifest atomically (a crash leaves the old one or the new one).
    pub fn write_manifest(&self, manifest: &Manifest) -> Result<(), StateDirError> {
        let text = serde_json::to_string_pretty(manifest).map_err(|e| StateDirError::Manifest {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let tmp = self.path.join(format!("{MANIFEST}.tmp"));
        private_files::write(&tmp, text).map_err(|e| self.io(e))?;
        fs::rename(&tmp, self.path.join(MANIFEST)).map_err(|e| self.io(e))
    }

    /// Moves the journals and summary of an earlier attempt into `interrupted-<n>/`.
    pub fn archive_attempt(&self, n: u32) -> Result<PathBuf, StateDirError> {
        let dest = self.path.join(format!("interrupted-{n}"));
        private_files::create_dir(&dest).map_err(|e| self.io(e))?;
        for name in JOURNALS.iter().chain([SUMMARY_TEXT, SUMMARY_JSON, LOG].iter()) {
            match fs::rename(self.path.join(name), dest.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(self.io(e)),
            }
        }
        Ok(dest)
    }

    pub fn write_summary(&self, text: &str, json: &serde_json::Value) -> Result<(), StateDirError> {
        private_files::write(&self.path.join(SUMMARY_TEXT), text).map_err(|e| self.io(e))?;
        let pretty = serde_json::to_string_pretty(json).unwrap_or_else(|_| json.to_string());
        private_files::write(&self.path.join(SUMMARY_JSON), pretty).map_err(|e| self.io(e))
    }

    pub fn summary_text(&self) -> Option<String> {
        fs::read_to_string(self.path.join(SUMMARY_TEXT)).ok()
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.path.join(LOCK));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn manifest_round_trips_and_attempts_move_aside() {
        let path = temp_dir("manifest");
        let dir = StateDir::open(&path).unwrap();
        assert_eq!(dir.manifest().unwrap(), None);
        let manifest = Manifest::Demo {
            params: ScenarioParams {
                products: 10,
                orders: 2,
                hours: 1.5,
                seed: 7,
            },
            time_scale: 600.0,
            status: Status::Interrupted,
            exit_code: None,
            interrupted_attempts: 0,
        };
        dir.write_manifest(&manifest).unwrap();
        assert_eq!(dir.manifest().unwrap(), Some(manifest));
        fs::write(path.join("state.jsonl"), "{}\n").unwrap();
        let archived = dir.archive_attempt(1).unwrap();
        assert!(archived.join("state.jsonl").is_file());
        assert!(!path.join("state.jsonl").exists());
        drop(dir);
        assert!(!path.join(LOCK).exists(), "the lock goes with the owner");
        let _ = fs::remove_dir_all(&path);
    }

    #[test]
    fn a_live_owner_keeps_the_directory() {
        let path = temp_dir("lock");
        fs::create_dir_all(&path).unwrap();
        // pid 1 is always alive on Linux.
        fs::write(path.join(LOCK), "1").unwrap();
        if process_alive(1) {
            assert!(matches!(
                StateDir::open(&path),
                Err(StateDirError::Locked { pid: 1, .. })
            ));
        }
        // A stale owner's lock is taken over.
        fs::write(path.join(LOCK), "4294967290").unwrap();
        assert!(StateDir::open(&path).is_ok());
        let _ = fs::remove_dir_all(&path);
    }

    #[test]
    fn default_paths_are_named_after_mode_and_time() {
        let at = Timestamp::parse_rfc3339("2026-11-27T04:02:40Z").unwrap();
        assert_eq!(
            default_path("demo", at),
            PathBuf::from(".local-state/demo-20261127-040240")
        );
    }
}
