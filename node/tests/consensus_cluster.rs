//! Four validators in one process, each a real node (sled store, mempool, consensus driver
//! thread, safety record on disk), wired through an in-memory hub that can cut validators
//! off. Checks that they decide identical chains, that a validator that was down catches
//! up, and that one restarted mid-height rejoins the same height and round without ever
//! signing two conflicting messages.

// Test code: a panic is a failed test with its location.
#![allow(clippy::unwrap_used)]

mod common;

use common::{data_dir_exists, wait_for, Cluster, N};
use custody_ledger::hash::Hash32;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[test]
fn n4_validators_decide_identical_chains() {
    let mut c = Cluster::new();
    let mut last = Hash32::ZERO;
    for _ in 0..8 {
        last = c.commission(5);
    }
    c.wait_committed(&[0, 1, 2, 3], &last);
    c.assert_same_chain(&[0, 1, 2, 3]);
    c.assert_no_double_signing();
    // Proposers rotate: more than one validator proposed a committed block.
    let proposers: HashSet<u16> = (1..=c.node(0).store().head().unwrap().unwrap().height)
        .map(|h| c.node(0).store().block(h).unwrap().unwrap().header.proposer)
        .collect();
    assert!(proposers.len() > 1, "only {proposers:?} proposed");
    for i in 0..N {
        assert!(
            data_dir_exists(&c.data_dir(i)),
            "validator {i} has no safety record"
        );
    }
}

#[test]
fn n4_one_validator_down_keeps_committing_and_it_catches_up() {
    let mut c = Cluster::new();
    let first = c.commission(3);
    c.wait_committed(&[0, 1, 2, 3], &first);

    c.stop(3);
    let mut last = Hash32::ZERO;
    for _ in 0..4 {
        last = c.commission(3);
    }
    c.wait_committed(&[0, 1, 2], &last);

    c.start(3);
    let after = c.commission(3);
    c.wait_committed(&[0, 1, 2, 3], &after);
    c.assert_same_chain(&[0, 1, 2, 3]);
    c.assert_no_double_signing();
}

#[test]
fn validator_restarted_mid_height_rejoins_the_same_height_and_round() {
    let mut c = Cluster::new();
    let first = c.commission(2);
    c.wait_committed(&[0, 1, 2, 3], &first);
    let height = c.node(0).store().head().unwrap().unwrap().height + 1;

    // Every proposal is lost: the validators time out round after round at `height`.
    c.hub.drop_proposals.store(true, Ordering::SeqCst);
    let stuck = c.commission(2);
    wait_for(
        "validator 3 to reach round 2",
        Duration::from_secs(30),
        || {
            let s = c.node(3).consensus_status();
            s.height == height && s.round >= 2
        },
    );
    let before = c.node(3).consensus_status();

    c.stop(3);
    c.start(3);
    wait_for("validator 3 to resume", Duration::from_secs(10), || {
        c.node(3).consensus_status().step != "idle"
    });
    let after = c.node(3).consensus_status();
    assert_eq!(
        after.height, height,
        "restarted at another height: {after:?}"
    );
    assert!(
        after.round >= before.round,
        "restarted in round {} after reaching {}",
        after.round,
        before.round
    );

    // Heal: the height is decided, by everyone alike.
    c.hub.drop_proposals.store(false, Ordering::SeqCst);
    c.wait_committed(&[0, 1, 2, 3], &stuck);
    c.assert_same_chain(&[0, 1, 2, 3]);
    c.assert_no_double_signing();
}
