//! The validator's write-ahead safety record: the last `SafetyState` the state machine asked
//! to persist (height, round, step, lock, valid value and every message signed at this
//! height). It is made durable (written to a temporary file, fsynced, renamed over the old
//! one, directory fsynced) before any message it covers is sent, and read back on start, so
//! a validator never signs two conflicting messages for one height and round, even after
//! `kill -9`.

use custody_consensus::SafetyState;
use custody_ledger::block::Block;
use custody_ledger::encoding;
use custody_ledger::hash::Hash32;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The safety record could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// IO failed.
    #[error("safety record {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a safety record.
    #[error("safety record {path} is corrupt: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// The record on disk.
#[derive(Debug, Clone)]
pub struct SafetyWal {
    path: PathBuf,
    blocks_path: PathBuf,
}

impl SafetyWal {
    /// The record at `dir/consensus-safety.bin`.
    pub fn in_dir(dir: &Path) -> SafetyWal {
        SafetyWal {
            path: dir.join("consensus-safety.bin"),
            blocks_path: dir.join("consensus-blocks.bin"),
        }
    }

    fn io(&self, source: std::io::Error) -> WalError {
        WalError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// The last persisted state, if any.
    pub fn load(&self) -> Result<Option<SafetyState<Hash32>>, WalError> {
        match fs::read(&self.path) {
            Ok(bytes) => encoding::decode(&bytes)
                .map(Some)
                .map_err(|e| WalError::Corrupt {
                    path: self.path.clone(),
                    detail: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Replaces the record with `state`, durably, before returning.
    pub fn persist(&self, state: &SafetyState<Hash32>) -> Result<(), WalError> {
        self.replace(&self.path, &encoding::encode(state))
    }

    /// Replaces the kept block bodies (those the safety state names: our proposals, the
    /// locked and valid values), durably. Without them a validator restarted while locked
    /// could never show anyone the block it is locked on.
    pub fn persist_blocks(&self, blocks: &[Block]) -> Result<(), WalError> {
        self.replace(&self.blocks_path, &encoding::encode(blocks))
    }

    /// The kept block bodies (none if there is no file).
    pub fn load_blocks(&self) -> Result<Vec<Block>, WalError> {
        match fs::read(&self.blocks_path) {
            Ok(bytes) => encoding::decode(&bytes).map_err(|e| WalError::Corrupt {
                path: self.blocks_path.clone(),
                detail: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Writes `bytes` to a temporary file, fsyncs it, renames it over `path` and fsyncs the
    /// directory: after a crash the file is the old one or the new one, whole.
    fn replace(&self, path: &Path, bytes: &[u8]) -> Result<(), WalError> {
        let tmp = path.with_extension("tmp");
        let mut f = File::create(&tmp).map_err(|e| self.io(e))?;
        f.write_all(bytes).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| self.io(e))?;
        if let Some(dir) = path.parent() {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.io(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{Height, Round, Step};

    #[test]
    fn persist_then_load_round_trips_and_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        assert!(wal.load().unwrap().is_none());
        let mut s = SafetyState {
            height: Height(3),
            round: Round(1),
            step: Step::Prevote,
            locked: None,
            valid: None,
            valid_polka: vec![],
            signed: vec![],
        };
        wal.persist(&s).unwrap();
        assert_eq!(wal.load().unwrap(), Some(s.clone()));
        s.round = Round(2);
        wal.persist(&s).unwrap();
        assert_eq!(wal.load().unwrap().unwrap().round, Round(2));
    }

    #[test]
    fn kept_block_bodies_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        assert!(wal.load_blocks().unwrap().is_empty());
        let b = Block::new("c", 4, Hash32([1; 32]), 9, 2, vec![]);
        wal.persist_blocks(std::slice::from_ref(&b)).unwrap();
        assert_eq!(wal.load_blocks().unwrap(), vec![b]);
    }

    #[test]
    fn a_corrupt_record_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        fs::write(dir.path().join("consensus-safety.bin"), b"garbage").unwrap();
        assert!(matches!(wal.load(), Err(WalError::Corrupt { .. })));
    }
}
