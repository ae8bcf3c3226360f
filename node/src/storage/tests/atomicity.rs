//! The "one block, one write" promise, checked with a backend wrapper that counts batches
//! and can be told to fail the next one (as a full disk or an IO error would).

use super::fixtures::*;
use crate::storage::{KvBackend, KvPairs, MemKv, SledKv, StorageError, Store, WriteBatch};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Wraps a backend: counts `write_batch` calls, fails the next one when asked.
#[derive(Default)]
struct Faulty<B> {
    inner: B,
    batches: AtomicUsize,
    fail_next: AtomicBool,
}

impl<B: KvBackend> KvBackend for Faulty<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn scan_prefix_from(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        self.inner.scan_prefix_from(prefix, start_after, limit)
    }
    fn write_batch(&self, batch: WriteBatch) -> Result<(), StorageError> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StorageError::Backend("injected failure".into()));
        }
        self.inner.write_batch(batch)
    }
    fn size_on_disk(&self) -> Result<u64, StorageError> {
        self.inner.size_on_disk()
    }
}

#[test]
fn store_is_send_and_sync() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Store<MemKv>>();
    shareable::<Store<SledKv>>();
    shareable::<Arc<Store<SledKv>>>();
}

#[test]
fn each_block_is_exactly_one_batch() {
    let fx = Fixture::new();
    let store = Store::with_backend(Faulty::<MemKv>::default(), &fx.genesis).unwrap();
    let opened = store.backend().batches.load(Ordering::SeqCst);
    assert_eq!(
        opened, 1,
        "creating the store writes genesis and format together"
    );
    for (i, txs) in scenario().iter().enumerate() {
        fx.commit(&store, txs);
        assert_eq!(
            store.backend().batches.load(Ordering::SeqCst),
            opened + i + 1
        );
    }
}

#[test]
fn a_failed_write_changes_nothing_and_the_block_can_be_retried() {
    let fx = Fixture::new();
    let store = Store::with_backend(Faulty::<MemKv>::default(), &fx.genesis).unwrap();
    fx.commit(&store, &scenario()[0]);
    let (block, cert, changes) = fx.build(&store, &scenario()[1]);
    let before = dump(&store);

    store.backend().fail_next.store(true, Ordering::SeqCst);
    let err = store.commit_block(&block, &cert, &changes).unwrap_err();
    assert!(matches!(err, StorageError::Backend(_)), "{err}");
    assert_eq!(dump(&store), before);
    assert_eq!(store.head().unwrap().unwrap().height, 1);

    store.commit_block(&block, &cert, &changes).unwrap();
    assert_eq!(store.head().unwrap().unwrap().hash, block.hash());
}

#[test]
fn readers_never_see_half_a_block() {
    // While blocks are committed on one thread, another keeps reading the head and the
    // block and history it names: every read must be whole.
    let fx = Arc::new(Fixture::new());
    let store = Arc::new(Store::in_memory(&fx.genesis));
    fx.commit(&store, &scenario()[0]);
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !done.load(Ordering::SeqCst) || reads == 0 {
                let head = store.head().unwrap().unwrap();
                let block = store.block(head.height).unwrap().unwrap();
                assert!(block.header.height >= head.height);
                for tx in &block.txs {
                    assert!(store.tx_location(&tx.hash()).unwrap().is_some());
                }
                let a1 = store.item(&unit("A1")).unwrap().unwrap();
                let h = store.history(&unit("A1")).unwrap();
                assert!(h.len() >= a1.event_count as usize);
                reads += 1;
            }
        })
    };
    for i in 0..30 {
        let serial = format!("N{i}");
        fx.commit(&store, &[(MFR, commission("L5", &[serial.as_str()]))]);
    }
    done.store(true, Ordering::SeqCst);
    reader.join().unwrap();
    assert_eq!(store.head().unwrap().unwrap().height, 31);
}
