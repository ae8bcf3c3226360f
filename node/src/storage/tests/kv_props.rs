//! Property test of the backends against a model: random batches of puts and deletes
//! applied to `MemKv`, `SledKv` and a `BTreeMap` (later operation on a key wins), then
//! random paged prefix scans must agree on all three.

use crate::storage::{KvBackend, MemKv, SledKv, WriteBatch};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Short keys over a tiny alphabet, so prefixes, collisions and deletes of present keys
/// are common.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..3, 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (key(), prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(k, v)| Op::Put(k, v)),
        1 => key().prop_map(Op::Delete),
    ]
}

#[derive(Clone, Debug)]
struct Scan {
    prefix: Vec<u8>,
    start_after: Option<Vec<u8>>,
    limit: usize,
}

fn scan() -> impl Strategy<Value = Scan> {
    (
        prop::collection::vec(0u8..3, 0..3),
        prop::option::of(key()),
        0usize..8,
    )
        .prop_map(|(prefix, start_after, limit)| Scan {
            prefix,
            start_after,
            limit,
        })
}

fn model_scan(m: &BTreeMap<Vec<u8>, Vec<u8>>, s: &Scan) -> Vec<(Vec<u8>, Vec<u8>)> {
    m.iter()
        .filter(|(k, _)| k.starts_with(&s.prefix))
        .filter(|(k, _)| s.start_after.as_ref().is_none_or(|a| *k > a))
        .take(s.limit)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn backends_agree_with_a_btreemap(
        batches in prop::collection::vec(prop::collection::vec(op(), 0..12), 1..6),
        scans in prop::collection::vec(scan(), 1..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let sled = SledKv::open(dir.path()).unwrap();
        let mem = MemKv::new();
        let mut model = BTreeMap::new();
        for ops in &batches {
            let mut batch = WriteBatch::new();
            for op in ops {
                match op {
                    Op::Put(k, v) => {
                        batch.put(k.clone(), v.clone());
                        model.insert(k.clone(), v.clone());
                    }
                    Op::Delete(k) => {
                        batch.delete(k.clone());
                        model.remove(k);
                    }
                }
            }
            mem.write_batch(batch.clone()).unwrap();
            sled.write_batch(batch).unwrap();
        }
        let all: Vec<_> = model.clone().into_iter().collect();
        prop_assert_eq!(&mem.scan_prefix(&[], usize::MAX).unwrap(), &all);
        prop_assert_eq!(&sled.scan_prefix(&[], usize::MAX).unwrap(), &all);
        for (k, v) in &model {
            prop_assert_eq!(sled.get(k).unwrap(), Some(v.clone()));
            prop_assert_eq!(mem.get(k).unwrap(), Some(v.clone()));
        }
        for s in &scans {
            let want = model_scan(&model, s);
            let start = s.start_after.as_deref();
            prop_assert_eq!(&mem.scan_prefix_from(&s.prefix, start, s.limit).unwrap(), &want, "mem {:?}", s);
            prop_assert_eq!(&sled.scan_prefix_from(&s.prefix, start, s.limit).unwrap(), &want, "sled {:?}", s);
            if s.start_after.is_none() {
                prop_assert!(sled.get(&s.prefix).unwrap() == model.get(&s.prefix).cloned());
            }
        }
    }
}
