//! One validator that holds a real key and misbehaves (validator 3 here), against three
//! honest in-process validators: what it sends must not halt, fork or bloat them. Each test
//! is one finding of the byzantine-robustness review; see also `testnet/faults` for the same
//! behaviours over the real network.

#![allow(clippy::unwrap_used)]

mod common;

use common::{validator_key, wait_for, Cluster};
use custody_consensus::Signer;
use custody_consensus::{Height, Proposal, Round, SignedProposal, SignedVote, Vote, VoteKind};
use custody_ledger::block::Block;
use custody_ledger::genesis::ChainParams;
use custody_ledger::hash::Hash32;
use custody_node::consensus_driver::ConsensusMessage;
use custody_node::node::Node;
use custody_node::storage::Store;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Validator 3's signed proposal of a (cheap, made-up) block at `height`, `round`.
fn proposal_by_3(c: &Cluster, height: u64, round: u32, nonce: u64) -> ConsensusMessage {
    let (_, parent, _) = c.node(0).next_height().unwrap();
    let block = Block::new(&c.genesis.chain_id, height, parent, 1 + nonce, 3, vec![]);
    let proposal = Proposal {
        height: Height(height),
        round: Round(round),
        value: block.hash(),
        valid_round: None,
        proposer: 3,
    };
    let signature = validator_key(3).sign(&proposal.sign_bytes(&c.genesis.chain_id));
    ConsensusMessage::Proposal {
        proposal: SignedProposal {
            proposal,
            signature,
        },
        block,
    }
}

/// Hands `msg` to honest validators 0, 1 and 2 directly, as if validator 3 had sent it.
fn send_to_honest(c: &Cluster, msg: &ConsensusMessage) {
    let handles = c.hub.handles.lock().unwrap().clone();
    for h in handles.iter().take(3).flatten() {
        h.deliver(msg.clone());
    }
}

/// Finding 1: one validator's cheap proposals (for rounds it does and does not propose in)
/// used to fill the 16-body cache of every honest validator; the honest proposer's body was
/// then not kept, judged invalid, and the height never decided.
#[test]
fn a_flood_of_proposals_does_not_crowd_out_the_honest_proposer() {
    let mut c = Cluster::new();
    let first = c.commission(1);
    c.wait_committed_all(&first);
    c.stop(3);
    let (height, _, _) = c.node(0).next_height().unwrap();
    for nonce in 0..200u64 {
        let round = (nonce % 12) as u32;
        send_to_honest(&c, &proposal_by_3(&c, height, round, nonce));
    }
    let tx = c.commission(2);
    c.wait_committed(&[0, 1, 2], &tx);
    c.assert_same_chain(&[0, 1, 2]);
    for i in 0..3 {
        assert!(
            c.node(i).equivocation_count() >= 1,
            "validator {i} noted the equivocating proposals"
        );
    }
}

/// Finding 1, second half: a proposal whose body has not arrived is unknown — fetched from a
/// peer — never invalid. Here every proposal reaches peers without its block.
#[test]
fn proposals_seen_without_their_blocks_are_fetched_and_decided() {
    let mut c = Cluster::new();
    c.hub.strip_bodies.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let tx = c.commission(2);
        c.wait_committed_all(&tx);
    }
    c.assert_same_chain(&[0, 1, 2, 3]);
    let full = c
        .hub
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, m)| matches!(m, ConsensusMessage::Proposal { .. }))
        .count();
    assert!(
        full > 0,
        "proposals were sent, and delivered without bodies"
    );
}

/// Finding 3: a message for an old height made the receiver broadcast up to 16 decided
/// blocks to everyone; the 1 s re-gossip re-sent full proposal bodies.
#[test]
fn stale_messages_cause_no_broadcast_and_regossip_sends_no_bodies() {
    let mut c = Cluster::new();
    for _ in 0..3 {
        let tx = c.commission(1);
        c.wait_committed_all(&tx);
    }
    // Validator 3 spams votes for heights long decided.
    let key = validator_key(3);
    for h in 1..4u64 {
        for round in 0..20u32 {
            let vote = Vote {
                height: Height(h),
                round: Round(round),
                kind: VoteKind::Prevote,
                value: None,
                validator: 3,
            };
            let signature = key.sign(&vote.sign_bytes(&c.genesis.chain_id));
            send_to_honest(&c, &ConsensusMessage::Vote(SignedVote { vote, signature }));
        }
    }
    // Then a height that cannot decide, so validators re-gossip round after round.
    c.hub.drop_proposals.store(true, Ordering::SeqCst);
    let stuck = c.commission(1);
    let (height, _, _) = c.node(0).next_height().unwrap();
    wait_for(
        "validators to go through three rounds",
        Duration::from_secs(30),
        || (0..4).all(|i| c.node(i).consensus_status().round >= 3),
    );
    let sent = c.hub.sent.lock().unwrap().clone();
    assert!(
        !sent
            .iter()
            .any(|(_, m)| matches!(m, ConsensusMessage::Decided { .. })),
        "no validator broadcasts decided blocks"
    );
    let mut full: HashMap<(usize, u64, u32), usize> = HashMap::new();
    let mut headers = 0;
    for (sender, m) in &sent {
        match m {
            ConsensusMessage::Proposal { proposal, .. } if proposal.proposal.height.0 == height => {
                *full
                    .entry((*sender, height, proposal.proposal.round.0))
                    .or_default() += 1
            }
            ConsensusMessage::ProposalHeader(_) => headers += 1,
            _ => {}
        }
    }
    assert!(!full.is_empty());
    assert!(
        full.values().all(|n| *n == 1),
        "each proposal's body is sent once: {full:?}"
    );
    assert!(headers > 0, "re-gossip sends proposals without bodies");
    c.hub.drop_proposals.store(false, Ordering::SeqCst);
    c.wait_committed_all(&stuck);
    c.assert_same_chain(&[0, 1, 2, 3]);
    c.assert_no_double_signing();
}

/// Finding 4: block size is a validity rule. A proposer never builds past
/// `max_block_bytes` (or `max_block_items`), and a block over either is refused by every
/// validator.
#[test]
fn blocks_stay_under_the_byte_limit_and_bigger_ones_are_invalid() {
    let params = ChainParams {
        max_tx_bytes: 2 * 1024,
        max_block_bytes: 6 * 1024,
        max_block_items: 150,
        ..common::fast_params()
    };
    let mut c = Cluster::with_params(params.clone());
    c.stop(3);
    // A node of its own (no consensus running) with ten ~1 KiB transactions pending: the
    // block it builds takes as many as fit, no more.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("db"), &c.genesis).unwrap());
    let node = Node::new("builder".into(), c.genesis.clone(), store, 100).unwrap();
    let mut tx_bytes = 0;
    for i in 0..10 {
        let serials: Vec<String> = (0..100).map(|s| format!("b{i}-{s}")).collect();
        let tx = c.sign("manufacturer", common::commission_payload(&serials, None));
        tx_bytes += custody_ledger::encoding::encoded_len(&tx);
        node.submit(tx).unwrap();
        c.sequences.insert("manufacturer".into(), i + 1);
    }
    assert!(
        tx_bytes > params.max_block_bytes as usize,
        "{tx_bytes} bytes pending"
    );
    let (block, _) = node.build_block(0).unwrap();
    let size = block.encoded_len();
    assert!(size <= params.max_block_bytes as usize, "{size} bytes");
    assert!(
        !block.txs.is_empty() && block.txs.len() < 10,
        "{} transactions in {size} bytes",
        block.txs.len()
    );
    assert!(node.validate_block(&block).is_ok());
    c.sequences.clear();

    // A block over the limit (built by hand from committed-looking transactions) is
    // refused before any rule is applied.
    let big_txs: Vec<_> = (0..40)
        .map(|i| {
            let serials: Vec<String> = (0..100).map(|s| format!("big-{i}-{s}")).collect();
            c.sign("manufacturer", common::commission_payload(&serials, None))
        })
        .collect();
    let (height, parent, parent_time) = c.node(0).next_height().unwrap();
    let block = Block::new(
        &c.genesis.chain_id,
        height,
        parent,
        parent_time + 1,
        0,
        big_txs,
    );
    assert!(block.encoded_len() > params.max_block_bytes as usize);
    let err = c.node(1).validate_block(&block).unwrap_err();
    assert_eq!(
        node.validate_block(&block).unwrap_err().to_string(),
        err.to_string()
    );
    assert!(err.to_string().contains("bytes"), "{err}");

    // Two small transactions naming more items than a block may: invalid too.
    let two: Vec<_> = (0..2)
        .map(|i| {
            let serials: Vec<String> = (0..100).map(|s| format!("two-{i}-{s}")).collect();
            c.sign("manufacturer", common::commission_payload(&serials, None))
        })
        .collect();
    let block = Block::new(&c.genesis.chain_id, height, parent, parent_time + 1, 0, two);
    assert!(block.encoded_len() <= params.max_block_bytes as usize);
    let err = node.validate_block(&block).unwrap_err();
    assert!(err.to_string().contains("items"), "{err}");
    c.shutdown();
}

/// A commit certificate for `block` signed by validators 0, 1 and 2 (a quorum of four).
fn certify(c: &Cluster, block: &Block) -> custody_ledger::block::BlockCertificate {
    let height = Height(block.header.height);
    let signatures = (0..3u16)
        .map(|v| {
            let vote = Vote {
                height,
                round: Round(0),
                kind: VoteKind::Precommit,
                value: Some(block.hash()),
                validator: v,
            };
            custody_consensus::CommitSignature {
                validator: v,
                signature: validator_key(v as usize).sign(&vote.sign_bytes(&c.genesis.chain_id)),
            }
        })
        .collect();
    custody_consensus::CommitCertificate {
        height,
        round: Round(0),
        value: block.hash(),
        signatures,
    }
}

/// Finding 5: a follower took a certified block that does not apply, logged an error and
/// kept reporting "following" with stale state; and it refused a certified block whose
/// time was ahead of its own clock. Now the clock is not its business (the validators
/// checked it when voting), and a certified block that does not apply stops it.
#[test]
fn a_follower_takes_certified_blocks_whatever_its_clock_and_stops_on_divergence() {
    let c = Cluster::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("db"), &c.genesis).unwrap());
    let node = Arc::new(Node::new("observer".into(), c.genesis.clone(), store, 100).unwrap());
    let (follower, thread) =
        custody_node::consensus_driver::spawn_follower(Arc::clone(&node)).unwrap();

    // Height 1, timed a day ahead of this machine's clock, certified by a quorum.
    let (_, parent, _) = node.next_height().unwrap();
    let day_ahead = custody_node::node::now_ms() + 86_400_000;
    let block = Block::new(&c.genesis.chain_id, 1, parent, day_ahead, 1, vec![]);
    assert!(
        node.validate_block(&block).is_err(),
        "a proposal this far ahead is refused when voting"
    );
    follower.deliver(ConsensusMessage::Decided {
        certificate: certify(&c, &block),
        block: block.clone(),
    });
    wait_for(
        "the follower to commit height 1",
        Duration::from_secs(20),
        || node.store().head().unwrap().is_some_and(|h| h.height == 1),
    );

    // Height 2 with a state root its (empty) transactions do not give: certified, yet it
    // does not apply here.
    let bad = Block::new(
        &c.genesis.chain_id,
        2,
        block.hash(),
        day_ahead + 1,
        2,
        vec![],
    )
    .with_state_root(Hash32([7; 32]));
    follower.deliver(ConsensusMessage::Decided {
        certificate: certify(&c, &bad),
        block: bad,
    });
    wait_for("the follower to stop", Duration::from_secs(20), || {
        thread.is_finished()
    });
    match thread.join().unwrap() {
        Err(custody_node::consensus_driver::DriverError::Diverged { height, .. }) => {
            assert_eq!(height, 2)
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    assert_eq!(node.consensus_status().step, "diverged");
    assert_eq!(node.store().head().unwrap().unwrap().height, 1);
    c.shutdown();
}

/// Finding 5, for a validator: a decided block (a certificate from block sync) that does not
/// apply stops its driver with a divergence, instead of logging and going on.
#[test]
fn a_validator_stops_on_a_certified_block_that_does_not_apply() {
    let mut c = Cluster::new();
    let first = c.commission(1);
    c.wait_committed_all(&first);
    let (height, parent, parent_time) = c.node(0).next_height().unwrap();
    let bad = Block::new(
        &c.genesis.chain_id,
        height,
        parent,
        parent_time + 1,
        1,
        vec![],
    )
    .with_state_root(Hash32([7; 32]));
    let handle = c.hub.handles.lock().unwrap()[0].clone().unwrap();
    handle.deliver(ConsensusMessage::Decided {
        certificate: certify(&c, &bad),
        block: bad,
    });
    let running = c.validators[0].as_ref().unwrap();
    wait_for("validator 0 to stop", Duration::from_secs(20), || {
        running.thread.is_finished()
    });
    c.hub.handles.lock().unwrap()[0] = None;
    c.hub.nodes.lock().unwrap()[0] = None;
    let r = c.validators[0].take().unwrap();
    match r.thread.join().unwrap() {
        Err(custody_node::consensus_driver::DriverError::Diverged { height: h, .. }) => {
            assert_eq!(h, height)
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    assert_eq!(
        r.node.store().head().unwrap().unwrap().height,
        height - 1,
        "nothing committed"
    );
    c.shutdown();
}
