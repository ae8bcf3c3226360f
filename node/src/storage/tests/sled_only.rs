//! What only a store on disk can get wrong: reopening, a directory made for another
//! genesis or format, and corrupt records (errors, never panics).

use super::fixtures::*;
use crate::storage::{KvBackend, MemKv, SledKv, StorageError, Store, WriteBatch, FORMAT_VERSION};
use custody_ledger::encoding::encode;
use custody_ledger::hash::Hash32;
use custody_ledger::state::StateView;

fn commit_scenario(store: &Store<SledKv>, fx: &Fixture) {
    for txs in scenario() {
        fx.commit(store, &txs);
    }
}

fn put_raw<B: KvBackend>(store: &Store<B>, key: Vec<u8>, value: Vec<u8>) {
    let mut b = WriteBatch::new();
    b.put(key, value);
    store.backend().write_batch(b).unwrap();
}

#[test]
fn reopen_after_drop_finds_everything() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let (before, head) = {
        let store = Store::open(dir.path(), &fx.genesis).unwrap();
        commit_scenario(&store, &fx);
        (dump(&store), store.head().unwrap())
    };
    let store = Store::open(dir.path(), &fx.genesis).unwrap();
    assert_eq!(store.head().unwrap(), head);
    assert_eq!(dump(&store), before);
    assert_eq!(store.history(&unit("A1")).unwrap().len(), 3);
    assert_eq!(store.block(3).unwrap().unwrap().hash(), head.unwrap().hash);
    // And the chain goes on from where it was.
    fx.commit(&store, &[(MFR, commission("L3", &["C1"]))]);
    assert_eq!(store.head().unwrap().unwrap().height, 4);
}

#[test]
fn reopen_with_another_genesis_is_refused() {
    let fx = Fixture::new();
    let other = Fixture::with_chain_id("another-chain");
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), &fx.genesis).unwrap());
    match Store::open(dir.path(), &other.genesis) {
        Err(StorageError::GenesisMismatch { expected, found }) => {
            assert_eq!(expected, other.genesis.hash());
            assert_eq!(found, fx.genesis.hash());
        }
        Err(e) => panic!("expected GenesisMismatch, got {e}"),
        Ok(_) => panic!("a directory made for another genesis was opened"),
    }
    // The refusal wrote nothing: the right genesis still opens it.
    Store::open(dir.path(), &fx.genesis).unwrap();
}

#[test]
fn another_format_version_is_refused() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), &fx.genesis).unwrap();
        put_raw(&store, b"mformat".to_vec(), encode(&99u32));
    }
    let err = Store::open(dir.path(), &fx.genesis).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::UnsupportedFormat {
                found: 99,
                supported: FORMAT_VERSION
            }
        ),
        "{err}"
    );
}

#[test]
fn data_without_a_genesis_record_is_refused() {
    let fx = Fixture::new();
    let kv = MemKv::new();
    let mut b = WriteBatch::new();
    b.put(b"istray".to_vec(), b"x".to_vec());
    kv.write_batch(b).unwrap();
    let err = Store::with_backend(kv, &fx.genesis).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
}

#[test]
fn corrupt_records_are_errors_not_panics() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &fx.genesis).unwrap();
    commit_scenario(&store, &fx);
    let garbage = vec![0xff; 7];
    let a1 = unit("A1");

    // An item state: the error names the item.
    put_raw(
        &store,
        [b"i".as_slice(), &a1.key_bytes()].concat(),
        garbage.clone(),
    );
    match store.item(&a1).unwrap_err() {
        StorageError::Corrupt { what, .. } => assert!(what.contains("A1"), "{what}"),
        e => panic!("expected Corrupt, got {e}"),
    }
    // Through the rules' view it is a StateError, never a missing item.
    let err = StateView::item(&store, &a1).unwrap_err();
    assert!(err.0.contains("corrupt"), "{err}");

    // A history event, a certificate, a header (the block read fails too).
    put_raw(
        &store,
        {
            let mut k = b"e".to_vec();
            let key = unit("A2").key_bytes();
            k.extend_from_slice(&(key.len() as u16).to_be_bytes());
            k.extend_from_slice(&key);
            k.extend_from_slice(&1u32.to_be_bytes());
            k
        },
        garbage.clone(),
    );
    assert!(matches!(
        store.history(&unit("A2")),
        Err(StorageError::Corrupt { .. })
    ));
    put_raw(
        &store,
        [b"c".as_slice(), &2u64.to_be_bytes()].concat(),
        garbage.clone(),
    );
    assert!(matches!(
        store.certificate(2),
        Err(StorageError::Corrupt { .. })
    ));
    put_raw(
        &store,
        [b"x".as_slice(), &1u64.to_be_bytes(), &0u32.to_be_bytes()].concat(),
        garbage.clone(),
    );
    assert!(matches!(store.block(1), Err(StorageError::Corrupt { .. })));

    // An index entry whose item key does not parse.
    let mut k = b"u".to_vec();
    k.extend_from_slice(&(MFR.len() as u16).to_be_bytes());
    k.extend_from_slice(MFR.as_bytes());
    k.extend_from_slice(b"Znot-an-item");
    put_raw(&store, k, Vec::new());
    assert!(matches!(
        store.items_by_custodian(&MFR.into(), None, 100),
        Err(StorageError::Corrupt { .. })
    ));

    // The head: reads fail, and no block can be committed on top of it.
    put_raw(&store, b"mhead".to_vec(), garbage.clone());
    assert!(matches!(store.head(), Err(StorageError::Corrupt { .. })));
    let block =
        custody_ledger::block::Block::new(&fx.genesis.chain_id, 4, Hash32::ZERO, T0 * 2, 0, vec![]);
    let err = store
        .commit_block(&block, &fx.certify(&block), &Default::default())
        .unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");

    // The genesis record: opening fails.
    put_raw(&store, b"mgenesis".to_vec(), garbage);
    drop(store);
    let err = Store::open(dir.path(), &fx.genesis).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
}

#[test]
fn a_second_open_of_the_same_directory_is_a_backend_error() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path(), &fx.genesis).unwrap();
    match Store::open(dir.path(), &fx.genesis) {
        Err(StorageError::Backend(msg)) => {
            assert!(msg.contains(&dir.path().display().to_string()), "{msg}")
        }
        Err(e) => panic!("expected Backend, got {e}"),
        Ok(_) => panic!("sled let two stores open one directory"),
    }
}
