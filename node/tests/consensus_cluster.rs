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

#[test]
fn a_validator_signing_conflicting_votes_is_reported_with_checkable_evidence() {
    use custody_consensus::{Ed25519Verifier, Height, Round, SignedVote, Signer, Vote, VoteKind};
    use custody_node::consensus_driver::ConsensusMessage;

    let mut c = Cluster::new();
    let first = c.commission(2);
    c.wait_committed(&[0, 1, 2, 3], &first);
    let height = c.node(0).store().head().unwrap().unwrap().height + 1;

    // Validator 3 leaves; a height is kept undecided (proposals lost) so the others sit in it.
    c.stop(3);
    c.hub.drop_proposals.store(true, Ordering::SeqCst);
    let stuck = c.commission(1);
    wait_for(
        "validator 0 to start the height",
        Duration::from_secs(10),
        || {
            let s = c.node(0).consensus_status();
            s.height == height && s.step != "idle"
        },
    );
    assert_eq!(c.node(0).equivocation_count(), 0);

    // Someone holding validator 3's key signs two different prevotes for one height and round.
    let round = c.node(0).consensus_status().round;
    let key = common::validator_key(3);
    let chain = c.genesis.chain_id.clone();
    let votes: Vec<ConsensusMessage> = [[1u8; 32], [2u8; 32]]
        .into_iter()
        .map(|value| {
            let vote = Vote {
                height: Height(height),
                round: Round(round),
                kind: VoteKind::Prevote,
                value: Some(Hash32(value)),
                validator: 3,
            };
            let signature = key.sign(&vote.sign_bytes(&chain));
            ConsensusMessage::Vote(SignedVote { vote, signature })
        })
        .collect();
    for i in 0..3 {
        let handle = c.hub.handles.lock().unwrap()[i].clone().unwrap();
        for v in &votes {
            handle.deliver(v.clone());
        }
    }

    let set = c.genesis.validator_set().unwrap();
    for i in 0..3 {
        wait_for(
            "the equivocation to be reported",
            Duration::from_secs(10),
            || c.node(i).equivocation_count() >= 1,
        );
        let (_, evidence) = c.node(i).equivocations();
        let e = evidence.last().unwrap();
        assert_eq!(e.validator(), 3);
        assert!(
            e.verify(&chain, &set, &Ed25519Verifier),
            "validator {i} kept evidence that does not verify: {e:?}"
        );
    }

    // The honest three go on deciding.
    c.hub.drop_proposals.store(false, Ordering::SeqCst);
    c.wait_committed(&[0, 1, 2], &stuck);
    c.assert_same_chain(&[0, 1, 2]);
    c.assert_no_double_signing();
}

#[test]
fn transactions_gossiped_out_of_order_are_held_then_committed() {
    use custody_ledger::genesis::MemberId;
    use custody_ledger::transaction::{Transaction, TX_FORMAT_VERSION};
    use custody_node::node::PeerAdmission;

    let mut c = Cluster::new();
    let first = c.commission(1);
    c.wait_committed(&[0, 1, 2, 3], &first);

    // The manufacturer's next three transactions reach every validator last one first.
    let member = MemberId::from("manufacturer");
    let next = c.sequences[&member] + 1;
    let txs: Vec<_> = (0..3u64)
        .map(|k| {
            Transaction {
                version: TX_FORMAT_VERSION,
                chain_id: c.genesis.chain_id.clone(),
                signer: member.clone(),
                sequence: next + k,
                event_time_ms: c.next_event_ms + k * 60_000,
                payload: common::commission_payload(&[format!("OOO{k}")], None),
            }
            .sign(&c.member_keys[&member])
        })
        .collect();
    for i in 0..N {
        let node = c.node(i);
        assert_eq!(
            node.admit_from_peer(txs[2].clone()).unwrap(),
            PeerAdmission::Held
        );
        assert_eq!(
            node.admit_from_peer(txs[1].clone()).unwrap(),
            PeerAdmission::Held
        );
        // Nothing of them is pending until the first arrives; then all three are.
        assert_eq!(node.next_sequence(&member).unwrap(), next);
        assert_eq!(
            node.admit_from_peer(txs[0].clone()).unwrap(),
            PeerAdmission::Admitted(txs[0].hash())
        );
        assert_eq!(node.next_sequence(&member).unwrap(), next + 3);
    }
    c.wait_committed(&[0, 1, 2, 3], &txs[2].hash());
    c.assert_same_chain(&[0, 1, 2, 3]);

    // Far ahead of the sequence: dropped, not held.
    let far = Transaction {
        version: TX_FORMAT_VERSION,
        chain_id: c.genesis.chain_id.clone(),
        signer: member.clone(),
        sequence: next + 3 + custody_node::mempool::MAX_AHEAD + 1,
        event_time_ms: c.next_event_ms,
        payload: common::commission_payload(&["FAR".to_string()], None),
    }
    .sign(&c.member_keys[&member]);
    assert_eq!(
        c.node(0).admit_from_peer(far).unwrap(),
        PeerAdmission::TooEarly
    );
}
