//! An append-only JSON-lines journal: the embedded adapters' durability.
//!
//! Every mutation is appended and flushed before the call returns, so a crash loses nothing that was
//! acknowledged. On open the journal is replayed, then compacted to one line per live entry.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("journal {path} line {line}: {reason}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

pub struct Journal {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Journal {
    /// Reads every entry of the journal at `path` (a missing file is an empty journal). A torn last
    /// line (a crash mid-write) is ignored; corruption anywhere else is an error.
    pub fn replay<E: DeserializeOwned>(path: &Path) -> Result<Vec<E>, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let lines: Vec<String> = BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()
            .map_err(io)?;
        let mut entries = Vec::with_capacity(lines.len());
        for (n, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(line) {
                Ok(e) => entries.push(e),
                Err(_) if n + 1 == lines.len() => break,
                Err(e) => {
                    return Err(JournalError::Corrupt {
                        path: path.to_owned(),
                        line: n + 1,
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(entries)
    }

    /// Rewrites the journal to exactly `entries` (atomically, through a temporary file) and opens it
    /// for appending.
    pub fn compact<E: Serialize>(
        path: &Path,
        entries: impl IntoIterator<Item = E>,
    ) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            crate::private_files::create_dir(dir).map_err(io)?;
        }
        let tmp = path.with_extension("compacting");
        {
            let mut w = BufWriter::new(crate::private_files::open(&tmp, false).map_err(io)?);
            for e in entries {
                write_line(&mut w, &e).map_err(io)?;
            }
            w.flush().map_err(io)?;
            w.get_ref().sync_all().map_err(io)?;
        }
        fs::rename(&tmp, path).map_err(io)?;
        let file = crate::private_files::open(path, true).map_err(io)?;
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append<E: Serialize>(&mut self, entry: &E) -> Result<(), JournalError> {
        let path = self.path.clone();
        write_line(&mut self.out, entry)
            .and_then(|()| self.out.flush())
            .map_err(|source| JournalError::Io { path, source })
    }
}

fn write_line<E: Serialize>(w: &mut impl Write, entry: &E) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, entry).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}
