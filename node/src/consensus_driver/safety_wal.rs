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
use serde::de::DeserializeOwned;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The safety record's format this build reads and writes: each file is its 8 magic bytes,
/// this version as a little-endian `u32`, then the canonical encoding of its payload.
/// (The release before wrote the bare payload, with no magic and no version.)
pub const WAL_FORMAT_VERSION: u32 = 1;
/// The first bytes of `consensus-safety.bin`.
pub const SAFETY_MAGIC: [u8; 8] = *b"CUSTSAFE";
/// The first bytes of `consensus-blocks.bin`.
pub const BLOCKS_MAGIC: [u8; 8] = *b"CUSTBLKS";
/// Magic bytes and version.
const HEADER_LEN: usize = 12;

/// The safety record could not be written or read. Each is a refusal to start: a validator
/// that cannot read its record cannot know what it signed.
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
    /// The file does not begin with its magic bytes: a record of the release before
    /// versioned ones (which wrote no header), or not a safety record at all.
    #[error(
        "safety record {path} does not begin with {magic:?}: it was written before safety record format {supported} (unversioned, by an older custody-node) or is not a safety record; this custody-node reads format {supported} (no migration: run the release that wrote it, or start this validator from an empty data folder)"
    )]
    NoHeader {
        /// The file.
        path: PathBuf,
        /// The magic bytes it should begin with.
        magic: String,
        /// The format this build reads ([`WAL_FORMAT_VERSION`]).
        supported: u32,
    },
    /// The file is of another safety record format.
    #[error(
        "safety record {path} was written in safety record format {found}; this custody-node reads format {supported} (no migration: run the release that wrote it, or start this validator from an empty data folder)"
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The version in its header.
        found: u32,
        /// The format this build reads ([`WAL_FORMAT_VERSION`]).
        supported: u32,
    },
}

/// The record on disk.
#[derive(Debug, Clone)]
pub struct SafetyWal {
    path: PathBuf,
    blocks_path: PathBuf,
}

fn io(path: &Path, source: std::io::Error) -> WalError {
    WalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `magic`, the format version, then `payload`'s encoding: a file's bytes.
fn framed<T: serde::Serialize + ?Sized>(magic: &[u8; 8], payload: &T) -> Vec<u8> {
    let body = encoding::encode(payload);
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&WAL_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Checks the header of the file at `path` (its `bytes`) and decodes the payload after it.
fn unframed<T: DeserializeOwned>(
    path: &Path,
    magic: &[u8; 8],
    bytes: &[u8],
) -> Result<T, WalError> {
    let seen = &bytes[..bytes.len().min(magic.len())];
    if !magic.starts_with(seen) {
        return Err(WalError::NoHeader {
            path: path.to_path_buf(),
            magic: String::from_utf8_lossy(magic).into_owned(),
            supported: WAL_FORMAT_VERSION,
        });
    }
    let corrupt = |detail: String| WalError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let Some((version, body)) = bytes
        .get(magic.len()..)
        .and_then(<[u8]>::split_first_chunk::<4>)
    else {
        return Err(corrupt(format!(
            "truncated: {} bytes, shorter than its {HEADER_LEN}-byte header",
            bytes.len()
        )));
    };
    let found = u32::from_le_bytes(*version);
    if found != WAL_FORMAT_VERSION {
        return Err(WalError::UnsupportedFormat {
            path: path.to_path_buf(),
            found,
            supported: WAL_FORMAT_VERSION,
        });
    }
    encoding::decode(body).map_err(|e| corrupt(e.to_string()))
}

impl SafetyWal {
    /// The record at `dir/consensus-safety.bin` (and the kept block bodies at
    /// `dir/consensus-blocks.bin`).
    pub fn in_dir(dir: &Path) -> SafetyWal {
        SafetyWal {
            path: dir.join("consensus-safety.bin"),
            blocks_path: dir.join("consensus-blocks.bin"),
        }
    }

    /// The last persisted state, if any. A file of another format, or none at all, is an
    /// error ([`WalError::UnsupportedFormat`], [`WalError::NoHeader`]), never `None`.
    pub fn load(&self) -> Result<Option<SafetyState<Hash32>>, WalError> {
        match fs::read(&self.path) {
            Ok(bytes) => unframed(&self.path, &SAFETY_MAGIC, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&self.path, e)),
        }
    }

    /// Replaces the record with `state`, durably, before returning.
    pub fn persist(&self, state: &SafetyState<Hash32>) -> Result<(), WalError> {
        replace(&self.path, &framed(&SAFETY_MAGIC, state))
    }

    /// Replaces the kept block bodies (those the safety state names: our proposals, the
    /// locked and valid values), durably. Without them a validator restarted while locked
    /// could never show anyone the block it is locked on.
    pub fn persist_blocks(&self, blocks: &[Block]) -> Result<(), WalError> {
        replace(&self.blocks_path, &framed(&BLOCKS_MAGIC, blocks))
    }

    /// The kept block bodies (none if there is no file). A file of another format is an
    /// error, as for [`SafetyWal::load`].
    pub fn load_blocks(&self) -> Result<Vec<Block>, WalError> {
        match fs::read(&self.blocks_path) {
            Ok(bytes) => unframed(&self.blocks_path, &BLOCKS_MAGIC, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io(&self.blocks_path, e)),
        }
    }
}

/// Writes `bytes` to a temporary file, fsyncs it, renames it over `path` and fsyncs the
/// directory: after a crash the file is the old one or the new one, whole.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), WalError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{Height, Round, Step};

    fn state(height: u64) -> SafetyState<Hash32> {
        SafetyState {
            height: Height(height),
            round: Round(1),
            step: Step::Prevote,
            locked: None,
            valid: None,
            valid_polka: vec![],
            signed: vec![],
        }
    }

    #[test]
    fn persist_then_load_round_trips_and_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        assert!(wal.load().unwrap().is_none());
        let mut s = state(3);
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
    fn each_file_begins_with_its_magic_and_format_version() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        wal.persist(&state(3)).unwrap();
        wal.persist_blocks(&[]).unwrap();
        let safety = fs::read(dir.path().join("consensus-safety.bin")).unwrap();
        assert_eq!(&safety[..8], b"CUSTSAFE");
        assert_eq!(&safety[8..12], &1u32.to_le_bytes());
        assert_eq!(&safety[12..], encoding::encode(&state(3)).as_slice());
        let blocks = fs::read(dir.path().join("consensus-blocks.bin")).unwrap();
        assert_eq!(&blocks[..8], b"CUSTBLKS");
        assert_eq!(&blocks[8..12], &1u32.to_le_bytes());
    }

    /// A file with `magic`, format `version` and `payload`.
    fn file(magic: &[u8; 8], version: u32, payload: &[u8]) -> Vec<u8> {
        [magic.as_slice(), &version.to_le_bytes(), payload].concat()
    }

    #[test]
    fn another_format_version_is_refused_naming_the_file_and_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        let path = dir.path().join("consensus-safety.bin");
        fs::write(&path, file(b"CUSTSAFE", 2, &encoding::encode(&state(3)))).unwrap();
        let e = wal.load().unwrap_err();
        assert!(
            matches!(
                e,
                WalError::UnsupportedFormat {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(
            msg.contains("format 2; this custody-node reads format 1"),
            "{msg}"
        );

        let blocks = dir.path().join("consensus-blocks.bin");
        fs::write(
            &blocks,
            file(b"CUSTBLKS", 7, &encoding::encode(&Vec::<Block>::new())),
        )
        .unwrap();
        let msg = wal.load_blocks().unwrap_err().to_string();
        assert!(msg.contains(&blocks.display().to_string()), "{msg}");
        assert!(
            msg.contains("format 7; this custody-node reads format 1"),
            "{msg}"
        );
    }

    #[test]
    fn a_record_without_its_magic_is_refused_not_read_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        let path = dir.path().join("consensus-safety.bin");
        // What the release before wrote: the bare encoding, no header.
        fs::write(&path, encoding::encode(&state(3))).unwrap();
        let e = wal.load().unwrap_err();
        assert!(matches!(e, WalError::NoHeader { supported: 1, .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("\"CUSTSAFE\""), "{msg}");
        assert!(msg.contains("reads format 1"), "{msg}");
        // The other file's magic is not this one's.
        fs::write(&path, file(b"CUSTBLKS", 1, &encoding::encode(&state(3)))).unwrap();
        assert!(matches!(wal.load(), Err(WalError::NoHeader { .. })));
        // Nor is garbage.
        fs::write(&path, b"garbage").unwrap();
        assert!(matches!(wal.load(), Err(WalError::NoHeader { .. })));
        fs::write(dir.path().join("consensus-blocks.bin"), b"garbage!garbage").unwrap();
        let msg = wal.load_blocks().unwrap_err().to_string();
        assert!(msg.contains("consensus-blocks.bin"), "{msg}");
        assert!(msg.contains("\"CUSTBLKS\""), "{msg}");
    }

    #[test]
    fn a_truncated_record_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let wal = SafetyWal::in_dir(dir.path());
        let path = dir.path().join("consensus-safety.bin");
        let whole = file(b"CUSTSAFE", 1, &encoding::encode(&state(3)));
        // Every cut: inside the magic, inside the version, inside the payload.
        for len in 0..whole.len() {
            fs::write(&path, &whole[..len]).unwrap();
            let e = wal.load().unwrap_err();
            assert!(matches!(e, WalError::Corrupt { .. }), "{len} bytes: {e}");
            if len < 12 {
                assert!(e.to_string().contains("truncated"), "{len} bytes: {e}");
            }
        }
        fs::write(&path, &whole).unwrap();
        assert_eq!(wal.load().unwrap(), Some(state(3)));
    }
}
