//! A data folder written in another storage format is refused, before anything else in it
//! is read or written: in particular before the genesis hash, which another release may
//! compute differently.

use super::fixtures::Fixture;
use crate::storage::keys;
use crate::storage::{KvBackend, MemKv, SledKv, StorageError, Store, WriteBatch, FORMAT_VERSION};
use custody_ledger::encoding::encode;
use custody_ledger::hash::Hash32;

/// Writes into `kv` what the previous release (storage format 1) wrote into a data folder:
/// its meta records (genesis hash, format 1, a head) and a few block records, each value as
/// that release encoded it (here: bytes this release cannot read as its own records).
fn write_format_1<B: KvBackend>(kv: &B, genesis_hash: Hash32) {
    let mut b = WriteBatch::new();
    b.put(keys::genesis(), encode(&genesis_hash));
    b.put(keys::format(), encode(&1u32));
    b.put(keys::head(), vec![1, 0x5a, 0x5a, 0x5a]);
    b.put(keys::header(1), vec![9; 40]);
    b.put(keys::certificate(1), vec![7; 24]);
    kv.write_batch(b).expect("the backend takes the batch");
}

/// Every key and value in `kv`.
fn contents<B: KvBackend>(kv: &B) -> Vec<(Vec<u8>, Vec<u8>)> {
    kv.scan_prefix(&[], usize::MAX).expect("the backend scans")
}

fn assert_refused_as_format_1(err: StorageError) {
    assert!(
        matches!(
            err,
            StorageError::UnsupportedFormat {
                found: 1,
                supported: 2
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "data folder was written in storage format 1; this custody-node reads format 2 \
         (no migration: start from an empty data folder, or run the release that wrote it)"
    );
}

#[test]
fn the_format_version_is_recorded_in_a_new_store() {
    let fx = Fixture::new();
    let store = Store::in_memory(&fx.genesis);
    assert_eq!(FORMAT_VERSION, 2);
    assert_eq!(
        store.backend().get(&keys::format()).unwrap(),
        Some(encode(&FORMAT_VERSION))
    );
}

#[test]
fn a_format_1_data_folder_is_refused_naming_both_versions() {
    let fx = Fixture::new();
    // The same genesis hash, and another one (the previous release hashed the genesis's
    // encoding of its day): the format is what is refused either way, never the genesis.
    for genesis_hash in [fx.genesis.hash(), Hash32([0xab; 32])] {
        let kv = MemKv::new();
        write_format_1(&kv, genesis_hash);
        assert_refused_as_format_1(Store::with_backend(kv, &fx.genesis).unwrap_err());
    }
}

/// `open` again while it fails on sled's file lock (for up to 10 s): a sled database
/// closes its files a moment after its last handle is dropped, so a reopen right after a
/// drop may find the lock still held by this process.
fn when_unlocked<T>(mut open: impl FnMut() -> Result<T, StorageError>) -> Result<T, StorageError> {
    let start = std::time::Instant::now();
    loop {
        match open() {
            Err(StorageError::Backend(e))
                if e.contains("could not acquire lock")
                    && start.elapsed() < std::time::Duration::from_secs(10) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            r => return r,
        }
    }
}

#[test]
fn a_format_1_sled_folder_is_refused_and_left_as_it_was() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let kv = SledKv::open(dir.path()).unwrap();
        write_format_1(&kv, Hash32([0xab; 32]));
        contents(&kv)
    };
    assert_refused_as_format_1(when_unlocked(|| Store::open(dir.path(), &fx.genesis)).unwrap_err());
    let kv = when_unlocked(|| SledKv::open(dir.path())).unwrap();
    assert_eq!(contents(&kv), before, "the refusal wrote nothing");
}

#[test]
fn a_newer_format_is_refused_too() {
    let fx = Fixture::new();
    let kv = MemKv::new();
    let mut b = WriteBatch::new();
    b.put(keys::format(), encode(&3u32));
    kv.write_batch(b).unwrap();
    let err = Store::with_backend(kv, &fx.genesis).unwrap_err();
    assert!(err.to_string().contains("storage format 3"), "{err}");
    assert!(err.to_string().contains("reads format 2"), "{err}");
}

#[test]
fn data_with_a_genesis_record_but_no_format_record_is_corrupt() {
    let fx = Fixture::new();
    let kv = MemKv::new();
    let mut b = WriteBatch::new();
    b.put(keys::genesis(), encode(&fx.genesis.hash()));
    kv.write_batch(b).unwrap();
    let err = Store::with_backend(kv, &fx.genesis).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("no storage format record"),
        "{err}"
    );
}

#[test]
fn this_format_with_another_genesis_is_a_genesis_mismatch() {
    let fx = Fixture::new();
    let kv = MemKv::new();
    let mut b = WriteBatch::new();
    b.put(keys::genesis(), encode(&Hash32([0xab; 32])));
    b.put(keys::format(), encode(&FORMAT_VERSION));
    kv.write_batch(b).unwrap();
    let err = Store::with_backend(kv, &fx.genesis).unwrap_err();
    assert!(matches!(err, StorageError::GenesisMismatch { .. }), "{err}");
}
