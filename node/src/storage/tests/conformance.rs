//! The storage conformance suite: every case is a generic function over the backend, and
//! `conformance!` instantiates all of them for each store (in memory, sled in a tempdir).
//! A new backend passes when this suite passes against it.

use super::fixtures::*;
use crate::storage::{KvBackend, StorageError, Store};
use custody_consensus::Ed25519Verifier;
use custody_ledger::block::Block;
use custody_ledger::genesis::MemberId;
use custody_ledger::hash::Hash32;
use custody_ledger::state::{
    Action, ApplyError, BlockContext, Overlay, RuleError, ShipmentStatus, StateView, Status,
};
use custody_ledger::transaction::ShipmentId;

/// Instantiates every case for one way of opening a store. `$open` takes a genesis and
/// returns `(Store<_>, guard)`; the guard (e.g. a tempdir) lives as long as the test.
macro_rules! conformance {
    ($name:ident, $open:expr) => {
        mod $name {
            use super::super::fixtures::Fixture;
            conformance!(@cases $open;
                empty_store_has_nothing,
                blocks_certificates_and_transactions_round_trip,
                item_state_and_history_are_hash_linked,
                indexes_follow_custody_and_location,
                sequences_shipments_and_recalls,
                store_is_a_state_view_for_the_rules,
                wrong_height_or_parent_is_refused_and_changes_nothing,
                inconsistent_block_or_certificate_is_refused,
                index_scans_page,
                state_root_commits_to_every_item_and_proves,
            );
        }
    };
    (@cases $open:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let fx = Fixture::new();
                #[allow(clippy::redundant_closure_call)] // $open is a closure literal
                let (store, _guard) = ($open)(&fx.genesis);
                super::$case(&store, &fx);
            }
        )*
    };
}

conformance!(mem, |g| (crate::storage::Store::in_memory(g), ()));
conformance!(sled, |g| {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::storage::Store::open(dir.path(), g).unwrap();
    (store, dir)
});

pub fn empty_store_has_nothing<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    assert_eq!(store.head().unwrap(), None);
    assert_eq!(store.genesis_hash(), fx.genesis.hash());
    assert!(store.block(1).unwrap().is_none());
    assert!(store.header(0).unwrap().is_none());
    assert!(store.certificate(1).unwrap().is_none());
    assert!(store.tx_location(&Hash32::ZERO).unwrap().is_none());
    assert!(store.transaction(&Hash32::ZERO).unwrap().is_none());
    assert!(store.item(&unit("A1")).unwrap().is_none());
    assert!(store.history(&unit("A1")).unwrap().is_empty());
    assert_eq!(store.last_sequence(&MFR.into()).unwrap(), 0);
    assert_eq!(store.count_by_custodian(&MFR.into()).unwrap(), 0);
    assert!(store.lot_items(&gtin(), &lot("L1")).unwrap().is_empty());
}

pub fn blocks_certificates_and_transactions_round_trip<B: KvBackend>(
    store: &Store<B>,
    fx: &Fixture,
) {
    let mut committed: Vec<Block> = Vec::new();
    let mut parent = fx.genesis.hash();
    for (i, txs) in scenario().iter().enumerate() {
        let (block, cert, _) = fx.commit(store, txs);
        let height = i as u64 + 1;
        assert_eq!(block.header.height, height);
        assert_eq!(block.header.parent, parent);
        parent = block.hash();
        let head = store.head().unwrap().unwrap();
        assert_eq!(head.height, height);
        assert_eq!(head.hash, block.hash());
        assert_eq!(head.time_ms, block.header.time_ms);
        assert_eq!(store.certificate(height).unwrap().unwrap(), cert);
        committed.push(block);
    }
    let set = fx.genesis.validator_set().unwrap();
    for block in &committed {
        let h = block.header.height;
        assert_eq!(&store.block(h).unwrap().unwrap(), block);
        assert_eq!(&store.header(h).unwrap().unwrap(), &block.header);
        let cert = store.certificate(h).unwrap().unwrap();
        cert.verify_for(
            &fx.genesis.chain_id,
            &set,
            &Ed25519Verifier,
            cert.height,
            &block.hash(),
        )
        .unwrap();
        for (i, tx) in block.txs.iter().enumerate() {
            assert_eq!(store.tx_location(&tx.hash()).unwrap(), Some((h, i as u32)));
            assert_eq!(
                store.transaction(&tx.hash()).unwrap(),
                Some((tx.clone(), h, i as u32))
            );
        }
    }
    assert!(store.block(4).unwrap().is_none());
    assert!(store.certificate(4).unwrap().is_none());
    assert!(store.size_on_disk().unwrap() > 0);
}

pub fn item_state_and_history_are_hash_linked<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    let mut last_after = std::collections::BTreeMap::new();
    for txs in scenario() {
        let (_, _, changes) = fx.commit(store, &txs);
        for (id, ch) in changes.items {
            last_after.insert(id, ch.after);
        }
    }
    assert_eq!(last_after.len(), 8);
    for (id, expected) in &last_after {
        let state = store.item(id).unwrap().unwrap();
        assert_eq!(&state, expected);
        let history = store.history(id).unwrap();
        assert_eq!(history.len(), state.event_count as usize, "{id}");
        let mut prev = Hash32::ZERO;
        for (i, ev) in history.iter().enumerate() {
            assert_eq!(&ev.item, id);
            assert_eq!(ev.seq, i as u32);
            assert_eq!(
                ev.prev, prev,
                "{id} event {i} does not link to its predecessor"
            );
            prev = ev.hash();
        }
        assert_eq!(prev, state.history_head, "{id}: last event is not the head");
    }
    let a1: Vec<Action> = store
        .history(&unit("A1"))
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        a1,
        vec![
            Action::Commissioned,
            Action::Shipped {
                shipment: ShipmentId("SH1".into()),
                to: DIST.into()
            },
            Action::Received {
                shipment: ShipmentId("SH1".into())
            },
        ]
    );
    let a1 = store.item(&unit("A1")).unwrap().unwrap();
    assert_eq!(a1.custodian, MemberId::from(DIST));
    assert_eq!(a1.location, Some(gln(DIST_GLN)));
    assert_eq!(
        store.item(&unit("A5")).unwrap().unwrap().status,
        Status::Destroyed
    );
    // Paged history agrees with the whole history.
    let whole = store.history(&unit("A1")).unwrap();
    let first = store.history_page(&unit("A1"), None, 2).unwrap();
    let rest = store.history_page(&unit("A1"), Some(1), 10).unwrap();
    assert_eq!([first, rest].concat(), whole);
}

pub fn indexes_follow_custody_and_location<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    let mfr = MemberId::from(MFR);
    let dist = MemberId::from(DIST);
    let all = |m: &MemberId| store.items_by_custodian(m, None, usize::MAX).unwrap();
    let at = |g: &str| store.items_by_location(&gln(g), None, usize::MAX).unwrap();
    let blocks = scenario();

    fx.commit(store, &blocks[0]);
    let everything = units(&["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3"]);
    assert_eq!(all(&mfr), everything);
    assert_eq!(store.count_by_custodian(&mfr).unwrap(), 8);
    assert_eq!(at(MFR_GLN), everything);
    assert!(all(&dist).is_empty());

    // Shipped items stay with the shipper until received; destroyed ones leave the
    // custodian and location indexes but not the lot index.
    fx.commit(store, &blocks[1]);
    let held = units(&["A1", "A2", "A3", "A4", "B1", "B2", "B3"]);
    assert_eq!(all(&mfr), held);
    assert_eq!(store.count_by_custodian(&mfr).unwrap(), 7);
    assert!(all(&dist).is_empty());
    assert_eq!(
        store.lot_items(&gtin(), &lot("L1")).unwrap(),
        units(&["A1", "A2", "A3", "A4", "A5"])
    );

    // Receipt moves custody and location.
    fx.commit(store, &blocks[2]);
    assert_eq!(all(&mfr), units(&["A3", "A4", "B1", "B2", "B3"]));
    assert_eq!(all(&dist), units(&["A1", "A2"]));
    assert_eq!(store.count_by_custodian(&mfr).unwrap(), 5);
    assert_eq!(store.count_by_custodian(&dist).unwrap(), 2);
    assert_eq!(at(MFR_GLN), units(&["A3", "A4", "B1", "B2", "B3"]));
    assert_eq!(at(DIST_GLN), units(&["A1", "A2"]));
    assert_eq!(
        store.items_by_lot(&gtin(), &lot("L2"), None, 10).unwrap(),
        units(&["B1", "B2", "B3"])
    );
    assert!(store.lot_items(&gtin(), &lot("L9")).unwrap().is_empty());
    assert_eq!(store.count_by_custodian(&"nobody".into()).unwrap(), 0);
}

pub fn sequences_shipments_and_recalls<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    for txs in scenario() {
        fx.commit(store, &txs);
    }
    assert_eq!(store.last_sequence(&MFR.into()).unwrap(), 5);
    assert_eq!(store.last_sequence(&DIST.into()).unwrap(), 1);

    let sh1 = store.shipment(&ShipmentId("SH1".into())).unwrap().unwrap();
    assert_eq!(sh1.from, MemberId::from(MFR));
    assert_eq!(sh1.to, MemberId::from(DIST));
    assert_eq!(sh1.items, vec![unit("A1"), unit("A2")]);
    assert_eq!(sh1.status, ShipmentStatus::Received);
    let receipt = sh1.receipt.as_ref().unwrap();
    assert_eq!(receipt.accepted, 2);
    assert_eq!(receipt.height, 3);
    assert!(store.shipment(&ShipmentId("SH2".into())).unwrap().is_none());
    assert_eq!(
        store.shipments_of(&MFR.into(), None, 10).unwrap(),
        vec![sh1.clone()]
    );
    assert_eq!(
        store.shipments_of(&DIST.into(), None, 10).unwrap(),
        vec![sh1.clone()]
    );
    assert!(store
        .shipments_of(&DIST.into(), Some(&ShipmentId("SH1".into())), 10)
        .unwrap()
        .is_empty());

    let r1 = store.recall("R1").unwrap().unwrap();
    assert_eq!(r1.lots, vec![lot("L2")]);
    assert_eq!(r1.affected, 3);
    assert_eq!(r1.height, 3);
    assert!(store.recall("R2").unwrap().is_none());
    let recall_of = |l: &str| {
        store
            .lot(&gtin(), &lot(l))
            .unwrap()
            .and_then(|r| r.recall)
            .map(|r| r.recall_id)
    };
    assert_eq!(recall_of("L2"), Some("R1".to_string()));
    assert_eq!(recall_of("L1"), None);
    // A recall writes no unit: each unit is under its lot's recall.
    for id in units(&["B1", "B2", "B3"]) {
        let e = store.effective(&id).unwrap().unwrap();
        assert_eq!(e.recall().map(|r| r.recall_id.as_str()), Some("R1"));
    }
}

pub fn store_is_a_state_view_for_the_rules<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    fx.commit(store, &scenario()[0]);
    // The rules, reading through the store, see committed serials and sequences.
    assert_eq!(Overlay::new(store).last_sequence(&MFR.into()).unwrap(), 2);
    assert!(StateView::item(store, &unit("A1")).unwrap().is_some());
    let l2 = StateView::lot(store, &gtin(), &lot("L2")).unwrap().unwrap();
    assert_eq!(l2.units, 3);
    assert_eq!(l2.recall, None);
    let stx = custody_ledger::transaction::Transaction {
        version: custody_ledger::transaction::TX_FORMAT_VERSION,
        chain_id: fx.genesis.chain_id.clone(),
        signer: MFR.into(),
        sequence: 3,
        event_time_ms: T0,
        payload: commission("L1", &["A1"]),
    }
    .sign(&fx.manufacturer);
    let ctx = BlockContext {
        height: 2,
        time_ms: T0 + 2_000,
        tx_hash: stx.hash(),
        tx_index: 0,
    };
    let err = Overlay::new(store)
        .apply(&fx.genesis, &stx, &ctx)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApplyError::Rule(RuleError::AlreadyCommissioned { height: 1, .. })
        ),
        "{err}"
    );
}

pub fn wrong_height_or_parent_is_refused_and_changes_nothing<B: KvBackend>(
    store: &Store<B>,
    fx: &Fixture,
) {
    let blocks = scenario();
    let (b1, c1, ch1) = fx.commit(store, &blocks[0]);
    let (b2, c2, ch2) = fx.build(store, &blocks[1]);
    let before = dump(store);
    let chain = &fx.genesis.chain_id;

    // Block 1 again.
    let err = store.commit_block(&b1, &c1, &ch1).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::NotNext {
                expected: 2,
                found: 1
            }
        ),
        "{err}"
    );
    // Skipping a height.
    let b3 = Block::new(chain, 3, b1.hash(), b2.header.time_ms, 0, b2.txs.clone());
    let err = store.commit_block(&b3, &fx.certify(&b3), &ch2).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::NotNext {
                expected: 2,
                found: 3
            }
        ),
        "{err}"
    );
    // Right height, wrong parent.
    let fork = Block::new(
        chain,
        2,
        Hash32([7; 32]),
        b2.header.time_ms,
        0,
        b2.txs.clone(),
    );
    let err = store
        .commit_block(&fork, &fx.certify(&fork), &ch2)
        .unwrap_err();
    match err {
        StorageError::WrongParent {
            height: 2,
            expected,
            found,
        } => {
            assert_eq!(expected, b1.hash());
            assert_eq!(found, Hash32([7; 32]));
        }
        other => panic!("expected WrongParent, got {other}"),
    }
    assert_eq!(dump(store), before, "a refused block must change nothing");
    assert_eq!(store.head().unwrap().unwrap().height, 1);

    // The right block still commits.
    store.commit_block(&b2, &c2, &ch2).unwrap();
    assert_eq!(store.head().unwrap().unwrap().hash, b2.hash());
}

pub fn inconsistent_block_or_certificate_is_refused<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    let (b1, c1, ch1) = fx.build(store, &scenario()[0]);
    let before = dump(store);
    let bad_block = |e: StorageError| matches!(e, StorageError::BadBlock { height: 1, .. });

    // Certificate for another value, or another height.
    let mut c = c1.clone();
    c.value = Hash32([1; 32]);
    assert!(bad_block(store.commit_block(&b1, &c, &ch1).unwrap_err()));
    let mut c = c1.clone();
    c.height = custody_consensus::Height(2);
    assert!(bad_block(store.commit_block(&b1, &c, &ch1).unwrap_err()));
    // Body does not match the header.
    let mut b = b1.clone();
    b.txs.pop();
    let cert = fx.certify(&b);
    assert!(bad_block(store.commit_block(&b, &cert, &ch1).unwrap_err()));
    // Another chain's block.
    let other = Block::new(
        "other-chain",
        1,
        b1.header.parent,
        b1.header.time_ms,
        0,
        b1.txs.clone(),
    );
    let cert = fx.certify(&other);
    assert!(bad_block(
        store.commit_block(&other, &cert, &ch1).unwrap_err()
    ));

    // A state root that is not the state after the block's changes.
    let lying = b1.clone().with_state_root(Hash32([7; 32]));
    let cert = fx.certify(&lying);
    assert!(bad_block(
        store.commit_block(&lying, &cert, &ch1).unwrap_err()
    ));

    assert_eq!(dump(store), before);
    assert_eq!(store.head().unwrap(), None);
    store.commit_block(&b1, &c1, &ch1).unwrap();
}

pub fn state_root_commits_to_every_item_and_proves<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    use custody_ledger::smt::Smt;
    assert_eq!(store.state_root().unwrap(), Smt::empty_root());
    let mut roots = vec![store.state_root().unwrap()];
    for txs in scenario() {
        fx.commit(store, &txs);
        let head = store.head().unwrap().unwrap();
        let header = store.header(head.height).unwrap().unwrap();
        assert_eq!(head.state_root, header.state_root);
        roots.push(head.state_root);
    }
    // Every block that changed state changed the root.
    assert!(roots.windows(2).all(|w| w[0] != w[1]));
    let root = store.state_root().unwrap();
    // Every item's state is proven as a member under the head's root...
    for id in store.lot_items(&gtin(), &lot("L1")).unwrap() {
        let (head, state, proof) = store.state_proof(&id).unwrap();
        let state = state.unwrap();
        assert_eq!(head.unwrap().state_root, root);
        assert_eq!(
            proof.verify(&root, &Smt::item_key(&id)).unwrap(),
            Some(state.leaf_hash())
        );
    }
    // ...and a serial never commissioned is proven absent.
    let ghost = unit("never-made");
    let (_, state, proof) = store.state_proof(&ghost).unwrap();
    assert!(state.is_none());
    assert_eq!(proof.verify(&root, &Smt::item_key(&ghost)).unwrap(), None);
}

pub fn index_scans_page<B: KvBackend>(store: &Store<B>, fx: &Fixture) {
    let serials: Vec<String> = (0..25).map(|i| format!("P{i:03}")).collect();
    let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
    fx.commit(store, &[(MFR, commission("L7", &refs))]);
    let expected = units(&refs);
    let mfr = MemberId::from(MFR);

    type Page<'a> =
        &'a dyn Fn(Option<&custody_ledger::gs1::ItemId>, usize) -> Vec<custody_ledger::gs1::ItemId>;
    let by_custodian = |a: Option<&_>, n| store.items_by_custodian(&mfr, a, n).unwrap();
    let by_location = |a: Option<&_>, n| store.items_by_location(&gln(MFR_GLN), a, n).unwrap();
    let by_lot = |a: Option<&_>, n| store.items_by_lot(&gtin(), &lot("L7"), a, n).unwrap();
    let scans: [Page<'_>; 3] = [&by_custodian, &by_location, &by_lot];
    for page in scans {
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let p = page(seen.last(), 10);
            sizes.push(p.len());
            if p.is_empty() {
                break;
            }
            seen.extend(p);
        }
        assert_eq!(sizes, vec![10, 10, 5, 0]);
        assert_eq!(seen, expected);
        assert!(page(None, 0).is_empty());
        assert!(page(expected.last(), 10).is_empty());
        // A cursor that is not itself in the index still pages from the right place.
        assert_eq!(
            page(Some(&unit("P0105")), 3),
            units(&["P011", "P012", "P013"])
        );
    }
    assert_eq!(store.count_by_custodian(&mfr).unwrap(), 25);
}
