//! Applying transactions one by one through an [`Overlay`] and committing once gives the
//! same results and state as committing each in turn.

use super::*;

/// A scenario with accepted and rejected transactions, including ones that depend on
/// earlier transactions of the same block (commission then recall, ship then receive, a
/// second recall of the same lot, a shipment id reused).
fn scenario() -> (Genesis, Vec<SignedTransaction>) {
    let mut h = Harness::new();
    let mut txs = Vec::new();
    let mut step = |h: &mut Harness, who: &str, p: Payload| {
        let tx = h.sign(who, p);
        let _ = h.run(&tx);
        txs.push(tx);
    };
    let u: Vec<ItemId> = (1..=6).map(|i| unit(&i.to_string())).collect();
    step(
        &mut h,
        "manufacturer",
        commission(&["1", "2", "3", "4", "5", "6"]),
    );
    step(&mut h, "manufacturer", commission(&["6", "7"])); // rejected
    step(
        &mut h,
        "manufacturer",
        commission_of(gtin(), "L2", "301231", &["l2-1", "l2-2"]),
    );
    step(&mut h, "manufacturer", pack(&msscc(1), &u[..3]));
    step(
        &mut h,
        "manufacturer",
        pack(&msscc(2), &[cont(&msscc(1)), u[3].clone()]),
    );
    step(&mut h, "manufacturer", pack(&msscc(1), &[cont(&msscc(2))])); // cycle
    step(
        &mut h,
        "manufacturer",
        ship("S1", "distributor", &[cont(&msscc(2))]),
    );
    step(&mut h, "manufacturer", ship("S1", "pharmacy", &u[4..5])); // id reused
    let r = h.receive("S1", &[u[1].clone()], &[unit("99")]);
    step(&mut h, "distributor", r);
    let r = h.receive("S1", &[], &[]);
    step(&mut h, "distributor", r); // closed
    step(&mut h, "distributor", move_to(&[cont(&msscc(2))], D_GLN));
    step(
        &mut h,
        "distributor",
        unpack(&msscc(2), &[cont(&msscc(1)), u[3].clone()]),
    );
    step(
        &mut h,
        "distributor",
        ship("S2", "pharmacy", &[cont(&msscc(1))]),
    );
    let r = h.receive("S2", &[], &[]);
    step(&mut h, "pharmacy", r);
    step(
        &mut h,
        "pharmacy",
        unpack(&msscc(1), &[u[0].clone(), u[2].clone()]),
    );
    step(
        &mut h,
        "pharmacy",
        decommission(&u[..1], DecommissionReason::Dispensed),
    );
    step(&mut h, "pharmacy", ret(&u[..1], "patient"));
    step(&mut h, "manufacturer", recall("R1", gtin(), &["L2"]));
    step(&mut h, "regulator", recall("R2", gtin(), &["L2"])); // lot already recalled
    step(
        &mut h,
        "manufacturer",
        commission_of(gtin(), "L2", "301231", &["l2-3"]),
    ); // lot recalled
    step(
        &mut h,
        "manufacturer",
        ship("S3", "pharmacy", &[unit("l2-1")]),
    ); // restricted
    step(
        &mut h,
        "manufacturer",
        commission_of(gtin(), "L3", "301231", &["l3-1"]),
    );
    step(&mut h, "regulator", recall("R3", gtin(), &["L3"]));
    step(
        &mut h,
        "manufacturer",
        set_status(&u[4..], StatusChange::Quarantine, "audit"),
    );
    step(&mut h, "manufacturer", ship("S4", "distributor", &u[5..]));
    step(&mut h, "distributor", ship("S5", "pharmacy", &u[3..4]));
    let r = h.receive("S5", &[], &[]);
    step(&mut h, "pharmacy", r);
    step(&mut h, "pharmacy", ship("S6", "distributor", &u[3..4]));
    step(&mut h, "distributor", ret(&u[3..4], "wrong"));
    (h.genesis, txs)
}

fn ctx(height: u64, tx: &SignedTransaction) -> BlockContext {
    BlockContext {
        height,
        time_ms: T0 + height,
        tx_hash: tx.hash(),
        tx_index: 0,
    }
}

/// Commits each transaction in turn; returns each result and the final state.
fn in_turn(
    genesis: &Genesis,
    blocks: &[&[SignedTransaction]],
) -> (Vec<Result<Changes, ApplyError>>, MemState) {
    let mut state = MemState::default();
    let mut results = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        for tx in *block {
            let r = apply(&state, genesis, tx, &ctx(i as u64 + 1, tx));
            if let Ok(ch) = &r {
                state.commit(ch.clone());
            }
            results.push(r);
        }
    }
    (results, state)
}

/// Applies each block through one overlay, committed at the end of the block.
fn through_overlays(
    genesis: &Genesis,
    blocks: &[&[SignedTransaction]],
) -> (Vec<Result<usize, ApplyError>>, MemState, Vec<Changes>) {
    let mut state = MemState::default();
    let mut results = Vec::new();
    let mut block_changes = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let mut overlay = Overlay::new(&state);
        for tx in *block {
            let before = overlay.changes().clone();
            let r = overlay.apply(genesis, tx, &ctx(i as u64 + 1, tx));
            if r.is_err() {
                assert_eq!(
                    overlay.changes(),
                    &before,
                    "a rejected tx changed the overlay"
                );
            }
            results.push(r);
        }
        let ch = overlay.into_changes();
        // Each item's `before` is its state before the block.
        for (id, c) in &ch.items {
            assert_eq!(c.before.as_ref(), state.items.get(id), "{id}: before");
        }
        block_changes.push(ch.clone());
        state.commit(ch);
    }
    (results, state, block_changes)
}

#[test]
fn overlay_then_commit_equals_commit_in_turn() {
    let (genesis, txs) = scenario();
    for block_size in [1, 2, 3, 5, 8, txs.len()] {
        let blocks: Vec<&[SignedTransaction]> = txs.chunks(block_size).collect();
        let (want, want_state) = in_turn(&genesis, &blocks);
        let (got, got_state, block_changes) = through_overlays(&genesis, &blocks);
        let oks = want.iter().filter(|r| r.is_ok()).count();
        assert!(
            oks > 15 && oks < txs.len(),
            "scenario has both kinds: {oks}"
        );
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            match (w, g) {
                (Ok(ch), Ok(n)) => assert_eq!(ch.event_count(), *n, "tx {i}"),
                (Err(we), Err(ge)) => assert_eq!(we, ge, "tx {i}"),
                _ => panic!("tx {i}: in turn {w:?}, through overlay {g:?}"),
            }
        }
        assert_eq!(got_state, want_state, "block size {block_size}");
        // The overlay's events are the transactions' events in order.
        let events: Vec<ItemEvent> = want
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|c| c.events.clone())
            .collect();
        let overlay_events: Vec<ItemEvent> = block_changes
            .iter()
            .flat_map(|c| c.events.clone())
            .collect();
        assert_eq!(overlay_events, events);
        got_state.check_histories();
    }
}

#[test]
fn overlay_answers_reads_from_pending_changes() {
    let h = Harness::new();
    let state = MemState::default();
    let mut o = Overlay::new(&state);
    let tx = h.sign("manufacturer", commission(&["1"]));
    o.apply(&h.genesis, &tx, &ctx(1, &tx)).unwrap();
    assert_eq!(o.last_sequence(&m("manufacturer")).unwrap(), 1);
    assert_eq!(o.item(&unit("1")).unwrap().unwrap().event_count, 1);
    let lot = Lot::parse("L1").unwrap();
    let rec = o.lot(&gtin(), &lot).unwrap().unwrap();
    assert_eq!((rec.units, rec.recall), (1, None));
    let mut t = h.unsigned("manufacturer", recall("R1", gtin(), &["L1"]));
    t.sequence = 2;
    let tx = t.sign(&h.keys["manufacturer"]);
    o.apply(&h.genesis, &tx, &ctx(1, &tx)).unwrap();
    let rec = o.lot(&gtin(), &lot).unwrap().unwrap();
    assert_eq!(rec.recall.unwrap().recall_id, "R1");
    assert_eq!(o.recall("R1").unwrap().unwrap().affected, 1);
    // The base is untouched.
    assert!(state.items.is_empty() && state.lots.is_empty());
    // The recall wrote no item event: the unit is under it through its lot.
    assert_eq!(o.changes().events.len(), 1);
}
