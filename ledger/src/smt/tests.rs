//! Unit tests of the sparse Merkle tree: shape, deletes, order independence, proofs and a
//! corrupt store.

use super::node::{inner_hash, leaf_hash};
use super::*;
use crate::hash::Hash32;

fn key(i: u64) -> Hash32 {
    Hash32::tagged("test/smt-key", &[&i.to_be_bytes()])
}

fn value(i: u64) -> Hash32 {
    Hash32::tagged("test/smt-value", &[&i.to_be_bytes()])
}

/// A key of all zero bits but the ones set in `bits`.
fn key_bits(bits: &[usize]) -> Hash32 {
    let mut k = [0u8; 32];
    for b in bits {
        k[b / 8] |= 0x80 >> (b % 8);
    }
    Hash32(k)
}

/// Applies `changes` to `root` in `store`, pruning stale nodes; returns the new root.
fn apply(store: &mut MemNodeStore, root: Hash32, changes: &[(Hash32, Option<Hash32>)]) -> Hash32 {
    let u = Smt::update(&*store, root, changes).unwrap();
    store.write(&u);
    store.prune(&u);
    u.root
}

fn inserts(keys: &[u64]) -> Vec<(Hash32, Option<Hash32>)> {
    keys.iter().map(|i| (key(*i), Some(value(*i)))).collect()
}

fn fresh_root(keys: &[u64]) -> Hash32 {
    Smt::update(&MemNodeStore::new(), Smt::empty_root(), &inserts(keys))
        .unwrap()
        .root
}

#[test]
fn empty_tree_is_zero_and_proves_absence() {
    let store = MemNodeStore::new();
    let root = Smt::empty_root();
    assert_eq!(root, Hash32::ZERO);
    assert_eq!(Smt::get(&store, root, &key(1)).unwrap(), None);
    let proof = Smt::prove(&store, root, &key(1)).unwrap();
    assert_eq!(proof.depth(), 0);
    proof.verify_absent(&root, &key(1)).unwrap();
    // Deleting from the empty tree changes nothing and writes nothing.
    let u = Smt::update(&store, root, &[(key(1), None)]).unwrap();
    assert_eq!(u.root, root);
    assert!(u.new_nodes.is_empty() && u.stale_nodes.is_empty());
}

#[test]
fn single_insert_is_the_leaf() {
    let mut store = MemNodeStore::new();
    let root = apply(&mut store, Smt::empty_root(), &inserts(&[7]));
    assert_eq!(root, leaf_hash(&key(7), &value(7)));
    assert_eq!(store.len(), 1);
    assert_eq!(Smt::get(&store, root, &key(7)).unwrap(), Some(value(7)));
    assert_eq!(Smt::get(&store, root, &key(8)).unwrap(), None);
    let proof = Smt::prove(&store, root, &key(7)).unwrap();
    assert_eq!(proof.depth(), 0);
    proof.verify_member(&root, &key(7), &value(7)).unwrap();
    // The same proof shows any other key absent: the whole tree is one other leaf.
    proof.verify_absent(&root, &key(8)).unwrap();
}

#[test]
fn two_keys_sharing_255_bits_split_at_the_bottom() {
    let a = key_bits(&[0, 3, 100]);
    let b = key_bits(&[0, 3, 100, 255]);
    let mut store = MemNodeStore::new();
    let u = Smt::update(
        &store,
        Hash32::ZERO,
        &[(a, Some(value(1))), (b, Some(value(2)))],
    )
    .unwrap();
    // Two leaves and 256 inner nodes: 255 with one empty child, then the split.
    assert_eq!(u.new_nodes.len(), 258);
    let mut expected = inner_hash(&leaf_hash(&a, &value(1)), &leaf_hash(&b, &value(2)));
    for depth in (0..255).rev() {
        expected = if bit(&a, depth) {
            inner_hash(&Hash32::ZERO, &expected)
        } else {
            inner_hash(&expected, &Hash32::ZERO)
        };
    }
    assert_eq!(u.root, expected);
    store.write(&u);
    let root = u.root;
    for (k, v) in [(a, value(1)), (b, value(2))] {
        let p = Smt::prove(&store, root, &k).unwrap();
        assert_eq!(p.depth(), 256);
        assert_eq!(p.verify(&root, &k).unwrap(), Some(v));
    }
    // Absent keys along the way: one diverging at bit 200 ends in an empty subtree.
    let c = key_bits(&[0, 3, 100, 200]);
    let p = Smt::prove(&store, root, &c).unwrap();
    assert_eq!(p.depth(), 201);
    assert_eq!(p.leaf(), None);
    p.verify_absent(&root, &c).unwrap();
    // Deleting one collapses the chain back to the other's leaf.
    let mut pruned = store.clone();
    let root = apply(&mut pruned, root, &[(b, None)]);
    assert_eq!(root, leaf_hash(&a, &value(1)));
    assert_eq!(pruned.len(), 1);
}

#[test]
fn deleting_everything_gives_the_empty_root_and_an_empty_store() {
    let keys: Vec<u64> = (0..40).collect();
    let mut store = MemNodeStore::new();
    let root = apply(&mut store, Hash32::ZERO, &inserts(&keys));
    assert!(store.len() >= 40 + 39);
    let deletes: Vec<_> = keys.iter().map(|i| (key(*i), None)).collect();
    // Half, then the rest.
    let root = apply(&mut store, root, &deletes[..20]);
    assert_eq!(root, fresh_root(&keys[20..]));
    let root = apply(&mut store, root, &deletes[20..]);
    assert_eq!(root, Smt::empty_root());
    assert!(store.is_empty());
}

#[test]
fn delete_collapses_a_pair_into_the_survivor() {
    // a and b share 10 bits; c is on the other side of the root.
    let a = key_bits(&[1, 5, 12]);
    let b = key_bits(&[1, 5, 10]);
    let c = key_bits(&[0]);
    let mut store = MemNodeStore::new();
    let root = apply(
        &mut store,
        Hash32::ZERO,
        &[
            (a, Some(value(1))),
            (b, Some(value(2))),
            (c, Some(value(3))),
        ],
    );
    let root = apply(&mut store, root, &[(a, None)]);
    let b_leaf = leaf_hash(&b, &value(2));
    let c_leaf = leaf_hash(&c, &value(3));
    assert_eq!(root, inner_hash(&b_leaf, &c_leaf));
    assert_eq!(store.len(), 3);
    assert_eq!(Smt::prove(&store, root, &b).unwrap().depth(), 1);
    // And deleting c leaves b's leaf alone as the root.
    let root = apply(&mut store, root, &[(c, None)]);
    assert_eq!(root, b_leaf);
    assert_eq!(store.len(), 1);
}

#[test]
fn root_is_independent_of_order_and_batching() {
    let keys: Vec<u64> = (0..64).collect();
    let expected = fresh_root(&keys);
    let orders: [Vec<u64>; 3] = [
        keys.clone(),
        keys.iter().rev().copied().collect(),
        keys.iter().map(|i| (i * 37) % 64).collect(),
    ];
    for order in &orders {
        for batch in [1, 3, 10, 64] {
            let mut store = MemNodeStore::new();
            let mut root = Hash32::ZERO;
            for chunk in order.chunks(batch) {
                root = apply(&mut store, root, &inserts(chunk));
            }
            assert_eq!(root, expected, "batches of {batch}");
        }
    }
    // Extra keys inserted then deleted, and values changed then changed back.
    let mut store = MemNodeStore::new();
    let mut root = apply(
        &mut store,
        Hash32::ZERO,
        &inserts(&(0..80).collect::<Vec<_>>()),
    );
    let gone: Vec<_> = (64..80).map(|i| (key(i), None)).collect();
    root = apply(&mut store, root, &gone);
    root = apply(&mut store, root, &[(key(3), Some(value(99)))]);
    assert_ne!(root, expected);
    root = apply(&mut store, root, &[(key(3), Some(value(3)))]);
    assert_eq!(root, expected);
}

#[test]
fn in_a_batch_the_last_change_of_a_key_wins() {
    let store = MemNodeStore::new();
    let u = Smt::update(
        &store,
        Hash32::ZERO,
        &[
            (key(1), Some(value(5))),
            (key(2), Some(value(2))),
            (key(1), None),
            (key(1), Some(value(1))),
            (key(2), None),
        ],
    )
    .unwrap();
    assert_eq!(u.root, fresh_root(&[1]));
}

#[test]
fn unchanged_values_write_nothing() {
    let mut store = MemNodeStore::new();
    let root = apply(
        &mut store,
        Hash32::ZERO,
        &inserts(&(0..30).collect::<Vec<_>>()),
    );
    let u = Smt::update(&store, root, &[(key(4), Some(value(4))), (key(1000), None)]).unwrap();
    assert_eq!(u.root, root);
    assert!(u.new_nodes.is_empty());
    assert!(u.stale_nodes.is_empty());
}

#[test]
fn an_empty_batch_reads_nothing() {
    // The root is not in this store, and need not be.
    let root = fresh_root(&[1, 2, 3]);
    let u = Smt::update(&MemNodeStore::new(), root, &[]).unwrap();
    assert_eq!(u.root, root);
    assert!(u.new_nodes.is_empty() && u.stale_nodes.is_empty());
}

#[test]
fn an_update_writes_only_its_path() {
    let mut store = MemNodeStore::new();
    let root = apply(
        &mut store,
        Hash32::ZERO,
        &inserts(&(0..1000).collect::<Vec<_>>()),
    );
    let depth = Smt::prove(&store, root, &key(17)).unwrap().depth();
    let u = Smt::update(&store, root, &[(key(17), Some(value(0)))]).unwrap();
    // The new leaf and one inner node per level; as many go stale.
    assert_eq!(u.new_nodes.len(), depth + 1);
    assert_eq!(u.stale_nodes.len(), depth + 1);
}

#[test]
fn tampered_proofs_are_rejected() {
    let mut store = MemNodeStore::new();
    let root = apply(
        &mut store,
        Hash32::ZERO,
        &inserts(&(0..200).collect::<Vec<_>>()),
    );
    let proof = Smt::prove(&store, root, &key(5)).unwrap();
    proof.verify_member(&root, &key(5), &value(5)).unwrap();
    let defect = |r: Result<Option<Hash32>, SmtError>| match r {
        Err(SmtError::BadProof { defect, .. }) => defect,
        other => panic!("expected a bad proof, got {other:?}"),
    };

    // Another root.
    assert!(matches!(
        defect(proof.verify(&fresh_root(&[1, 2]), &key(5))),
        ProofDefect::RootMismatch { .. }
    ));
    // Another value.
    assert!(matches!(
        proof.verify_member(&root, &key(5), &value(6)),
        Err(SmtError::BadProof {
            defect: ProofDefect::OtherValue { .. },
            ..
        })
    ));
    assert!(matches!(
        proof.verify_absent(&root, &key(5)),
        Err(SmtError::BadProof {
            defect: ProofDefect::Present(_),
            ..
        })
    ));
    // Another key: off the leaf's path, or on it and then (honestly) absent.
    let other = (6..)
        .map(key)
        .find(|k| !same_prefix(k, &key(5), proof.depth()))
        .unwrap();
    assert!(matches!(
        defect(proof.verify(&root, &other)),
        ProofDefect::LeafOffPath { .. }
    ));
    // A wrong sibling.
    let mut p = proof.clone();
    p.siblings[0].0[0] ^= 1;
    assert!(matches!(
        defect(p.verify(&root, &key(5))),
        ProofDefect::RootMismatch { .. }
    ));
    // A wrong depth: one level dropped, with or without fixing up the bitmap.
    let mut p = proof.clone();
    p.depth -= 1;
    assert!(p.verify(&root, &key(5)).is_err());
    let mut p = SmtProof::from_path(&proof.siblings()[1..], proof.leaf());
    assert!(matches!(
        defect(p.verify(&root, &key(5))),
        ProofDefect::RootMismatch { .. }
    ));
    // An extra empty level at the bottom is not canonical.
    let mut path = proof.siblings();
    path.push(Hash32::ZERO);
    p = SmtProof::from_path(&path, proof.leaf());
    assert_eq!(defect(p.verify(&root, &key(5))), ProofDefect::NotCanonical);
    // A stray bitmap bit, a missing sibling, too deep.
    let mut p = proof.clone();
    p.non_empty.push(0);
    assert!(matches!(
        defect(p.verify(&root, &key(5))),
        ProofDefect::BitmapLength { .. }
    ));
    let mut p = proof.clone();
    p.siblings.pop();
    assert!(matches!(
        defect(p.verify(&root, &key(5))),
        ProofDefect::SiblingCount { .. }
    ));
    let mut p = proof.clone();
    p.depth = 300;
    assert_eq!(defect(p.verify(&root, &key(5))), ProofDefect::TooDeep(300));
    if !matches!(proof.depth() % 8, 0) {
        let mut p = proof.clone();
        let last = p.non_empty.len() - 1;
        p.non_empty[last] |= 1;
        assert_eq!(defect(p.verify(&root, &key(5))), ProofDefect::BitmapPadding);
    }
    // Dropping the leaf turns the membership proof into a false non-membership one.
    let mut p = proof.clone();
    p.leaf = None;
    assert!(matches!(
        defect(p.verify(&root, &key(5))),
        ProofDefect::RootMismatch { .. }
    ));
}

#[test]
fn a_proof_round_trips_through_the_canonical_encoding_and_json() {
    let mut store = MemNodeStore::new();
    let root = apply(
        &mut store,
        Hash32::ZERO,
        &inserts(&(0..100).collect::<Vec<_>>()),
    );
    let proof = Smt::prove(&store, root, &key(1234)).unwrap();
    let bytes = crate::encoding::encode(&proof);
    let back: SmtProof = crate::encoding::decode(&bytes).unwrap();
    assert_eq!(back, proof);
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(serde_json::from_str::<SmtProof>(&json).unwrap(), proof);
    back.verify_absent(&root, &key(1234)).unwrap();
    let node = Node::Inner {
        left: key(1),
        right: Hash32::ZERO,
    };
    let node_bytes = crate::encoding::encode(&node);
    assert_eq!(crate::encoding::decode::<Node>(&node_bytes).unwrap(), node);
}

#[test]
fn a_missing_or_swapped_node_is_reported() {
    let mut store = MemNodeStore::new();
    let root = apply(&mut store, Hash32::ZERO, &inserts(&[1, 2, 3]));
    let empty = MemNodeStore::new();
    assert_eq!(
        Smt::get(&empty, root, &key(1)),
        Err(SmtError::MissingNode(root))
    );
    assert!(matches!(
        Smt::update(&empty, root, &inserts(&[4])),
        Err(SmtError::MissingNode(_))
    ));
    let mut swapped = store.clone();
    let wrong = Node::Leaf {
        key: key(9),
        value: value(9),
    };
    swapped.insert(root, wrong);
    assert_eq!(
        Smt::prove(&swapped, root, &key(1)),
        Err(SmtError::CorruptNode {
            expected: root,
            found: wrong.hash()
        })
    );
}

#[test]
fn item_keys_are_tagged_hashes_of_the_key_bytes() {
    let id = crate::gs1::ItemId::parse("(01)09506000134352(21)ABC123").unwrap();
    assert_eq!(
        Smt::item_key(&id),
        Hash32::tagged("custody/smt-key/v1", &[&id.key_bytes()])
    );
}
