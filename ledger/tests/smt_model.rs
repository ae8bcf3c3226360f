//! Property tests of `custody_ledger::smt` against a `BTreeMap` model: random batches of
//! inserts, updates and deletes over a small key space whose keys share long prefixes, then
//! roots, lookups, proofs, tampered proofs and the pruned store are checked after each batch.

// Helpers outside `proptest!` bodies are not `#[test]` functions, where clippy allows unwrap;
// a panic here is a test failure, which is what it should be.
#![allow(clippy::unwrap_used)]

use custody_ledger::encoding;
use custody_ledger::hash::Hash32;
use custody_ledger::smt::{MemNodeStore, Node, NodeStore, Smt, SmtProof};
use proptest::prelude::*;
use std::collections::BTreeMap;

type Model = BTreeMap<Hash32, Hash32>;
type Change = (Hash32, Option<Hash32>);

/// The key space: 64 keys built from tiny sets of bytes 0, 1 and 15 (so they share
/// prefixes of up to 127 bits), and 16 hashed ones.
fn all_keys() -> Vec<Hash32> {
    let mut keys = Vec::new();
    for a in [0x00u8, 0x01, 0x80, 0xff] {
        for b in [0x00u8, 0x40, 0x41, 0xc0] {
            for z in [0x00u8, 0x01, 0x02, 0x80] {
                let mut k = [0u8; 32];
                k[0] = a;
                k[1] = b;
                k[15] = z;
                keys.push(Hash32(k));
            }
        }
    }
    keys.extend((0u8..16).map(|i| Hash32::tagged("test/smt-model-key", &[&[i]])));
    keys
}

fn value(i: u8) -> Hash32 {
    Hash32::tagged("test/smt-model-value", &[&[i]])
}

fn change() -> impl Strategy<Value = (usize, Option<u8>)> {
    (
        0usize..80,
        prop_oneof![2 => (0u8..4).prop_map(Some), 1 => Just(None)],
    )
}

/// The root by definition, computed without the tree's code: empty is zero, one entry is its
/// leaf, more split on the next bit.
fn spec_root(entries: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
    match entries {
        [] => Hash32::ZERO,
        [(k, v)] => Hash32::tagged("custody/smt-leaf/v1", &[&k.0, &v.0]),
        _ => {
            let bit = |k: &Hash32| (k.0[depth / 8] >> (7 - depth % 8)) & 1 == 1;
            let split = entries.partition_point(|(k, _)| !bit(k));
            let left = spec_root(&entries[..split], depth + 1);
            let right = spec_root(&entries[split..], depth + 1);
            Hash32::tagged("custody/smt-node/v1", &[&left.0, &right.0])
        }
    }
}

/// Number of nodes reachable from `root`.
fn reachable(store: &MemNodeStore, root: Hash32) -> usize {
    if root.is_zero() {
        return 0;
    }
    match store.get(&root).unwrap().expect("reachable node present") {
        Node::Leaf { .. } => 1,
        Node::Inner { left, right } => 1 + reachable(store, left) + reachable(store, right),
    }
}

fn check_proofs(
    store: &MemNodeStore,
    root: Hash32,
    previous_root: Hash32,
    model: &Model,
    keys: &[Hash32],
    probe: usize,
    mask: u8,
) -> Result<(), TestCaseError> {
    for (i, key) in keys.iter().enumerate() {
        let expected = model.get(key).copied();
        prop_assert_eq!(Smt::get(store, root, key).unwrap(), expected);
        let proof = Smt::prove(store, root, key).unwrap();
        prop_assert_eq!(proof.verify(&root, key).unwrap(), expected);
        if expected.is_some() {
            prop_assert!(proof.verify_member(&root, key, &value(200)).is_err());
            prop_assert!(proof.verify_absent(&root, key).is_err());
        }
        if previous_root != root && i % 4 == probe % 4 {
            prop_assert!(proof.verify(&previous_root, key).is_err());
        }
        // Another key: rejected, or (the path is shared) the truth about that key.
        let other = &keys[(i + probe) % keys.len()];
        if let Ok(answer) = proof.verify(&root, other) {
            prop_assert_eq!(answer, model.get(other).copied());
            prop_assert!(other != key || answer == expected);
        }
        // Flipped bytes of the encoding: undecodable or rejected.
        if i == probe % keys.len() || i == (probe * 7) % keys.len() {
            let bytes = encoding::encode(&proof);
            for at in 0..bytes.len() {
                let mut tampered = bytes.clone();
                tampered[at] ^= mask;
                if let Ok(p) = encoding::decode::<SmtProof>(&tampered) {
                    let r = p.verify(&root, key);
                    prop_assert!(
                        r.is_err(),
                        "byte {} ^ {:#x} still verifies: {:?}",
                        at,
                        mask,
                        r
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tree_matches_a_btreemap_model(
        batches in prop::collection::vec(prop::collection::vec(change(), 0..24), 1..7),
        probe in 1usize..80,
        mask in 1u8..=255,
    ) {
        let keys = all_keys();
        let mut model = Model::new();
        let mut pruned = MemNodeStore::new();
        let mut archive = MemNodeStore::new();
        let mut root = Smt::empty_root();
        let mut history = vec![(root, model.clone())];
        for batch in &batches {
            let changes: Vec<Change> =
                batch.iter().map(|(k, v)| (keys[*k], v.map(value))).collect();
            for (k, v) in &changes {
                match v {
                    Some(v) => model.insert(*k, *v),
                    None => model.remove(k),
                };
            }
            let update = Smt::update(&pruned, root, &changes).unwrap();
            pruned.write(&update);
            pruned.prune(&update);
            let from_archive = Smt::update(&archive, root, &changes).unwrap();
            prop_assert_eq!(&from_archive, &update);
            archive.write(&update);
            let previous_root = root;
            root = update.root;

            // The root is a function of the contents alone.
            let entries: Vec<(Hash32, Hash32)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(root, spec_root(&entries, 0));
            let inserts: Vec<Change> = entries.iter().map(|(k, v)| (*k, Some(*v))).collect();
            prop_assert_eq!(Smt::update(&MemNodeStore::new(), Smt::empty_root(), &inserts).unwrap().root, root);
            // Pruning keeps exactly what the root reaches.
            prop_assert_eq!(pruned.len(), reachable(&pruned, root));

            check_proofs(&pruned, root, previous_root, &model, &keys, probe, mask)?;
            history.push((root, model.clone()));
        }
        // Without pruning, every earlier root still reads back its own contents.
        for (old_root, old_model) in &history {
            for key in &keys {
                prop_assert_eq!(Smt::get(&archive, *old_root, key).unwrap(), old_model.get(key).copied());
            }
        }
    }

    #[test]
    fn same_set_in_any_order_and_batching_gives_one_root(
        order in Just((0usize..80).collect::<Vec<_>>()).prop_shuffle(),
        take in 0usize..80,
        cuts in prop::collection::vec(1usize..20, 1..10),
    ) {
        let keys = all_keys();
        let chosen: Vec<Change> = order[..take]
            .iter()
            .map(|i| (keys[*i], Some(value((*i % 4) as u8))))
            .collect();
        let mut sorted: Vec<(Hash32, Hash32)> =
            chosen.iter().map(|(k, v)| (*k, v.expect("inserts only"))).collect();
        sorted.sort();
        let mut store = MemNodeStore::new();
        let mut root = Smt::empty_root();
        let mut rest = &chosen[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at((*cut).min(rest.len()));
            let update = Smt::update(&store, root, batch).unwrap();
            store.write(&update);
            store.prune(&update);
            root = update.root;
            rest = tail;
        }
        prop_assert_eq!(root, spec_root(&sorted, 0));
    }
}
