//! Four validators in one process, each a real node (sled store, mempool, consensus driver
//! thread, safety record on disk), wired through an in-memory hub that can cut validators
//! off. Checks that they decide identical chains, that a validator that was down catches
//! up, and that one restarted mid-height rejoins the same height and round without ever
//! signing two conflicting messages.

// Test code: a panic is a failed test with its location.
#![allow(clippy::unwrap_used)]

use custody_consensus::{Validator, VoteKind};
use custody_ledger::crypto::public_key;
use custody_ledger::genesis::{ChainParams, Genesis, Member, Role};
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::hash::Hash32;
use custody_ledger::transaction::{Commission, Payload, SignedTransaction, Transaction};
use custody_node::consensus_driver::{
    self, ConsensusMessage, DriverError, DriverHandle, DriverOptions, Gossip, SafetyWal,
};
use custody_node::node::Node;
use custody_node::storage::{SledKv, Store};
use ed25519_dalek::SigningKey;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const N: usize = 4;

/// Delivers every validator's messages to the others, except to and from cut ones, and
/// keeps a log of everything each validator sent.
#[derive(Default)]
struct Hub {
    handles: Mutex<Vec<Option<DriverHandle>>>,
    cut: Mutex<HashSet<usize>>,
    /// Lose every proposal (no round can decide; rounds go by on timeouts).
    drop_proposals: AtomicBool,
    sent: Mutex<Vec<(usize, ConsensusMessage)>>,
}

struct HubGossip {
    hub: Arc<Hub>,
    me: usize,
}

impl Gossip for HubGossip {
    fn broadcast(&self, msg: &ConsensusMessage) {
        self.hub.sent.lock().unwrap().push((self.me, msg.clone()));
        let cut = self.hub.cut.lock().unwrap().clone();
        let proposal = matches!(msg, ConsensusMessage::Proposal { .. });
        if cut.contains(&self.me) || (proposal && self.hub.drop_proposals.load(Ordering::SeqCst)) {
            return;
        }
        // Through the wire format, as the network will carry it.
        let bytes = msg.encode();
        for (i, h) in self.hub.handles.lock().unwrap().iter().enumerate() {
            if i != self.me && !cut.contains(&i) {
                if let Some(h) = h {
                    h.deliver(ConsensusMessage::decode(&bytes).unwrap());
                }
            }
        }
    }
}

struct Running {
    node: Arc<Node<SledKv>>,
    handle: DriverHandle,
    thread: JoinHandle<Result<(), DriverError>>,
}

struct Cluster {
    genesis: Arc<Genesis>,
    hub: Arc<Hub>,
    dir: tempfile::TempDir,
    validators: Vec<Option<Running>>,
    member_key: SigningKey,
    next_seq: u64,
}

fn validator_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[10 + i as u8; 32])
}

impl Cluster {
    fn new() -> Cluster {
        let member_key = SigningKey::from_bytes(&[1; 32]);
        let genesis = Genesis {
            chain_id: "cluster-test".into(),
            genesis_time_ms: 0,
            validators: (0..N)
                .map(|i| Validator {
                    name: format!("validator-{i}"),
                    public_key: public_key(&validator_key(i)),
                })
                .collect(),
            members: vec![Member {
                name: "manufacturer".into(),
                public_key: public_key(&member_key),
                roles: vec![Role::Manufacturer],
                company_prefixes: vec!["0614141".into()],
                glns: vec![],
            }],
            params: ChainParams {
                timeout_propose_ms: 300,
                timeout_prevote_ms: 150,
                timeout_precommit_ms: 150,
                timeout_delta_ms: 100,
                ..ChainParams::default()
            },
        };
        let hub = Arc::new(Hub::default());
        *hub.handles.lock().unwrap() = vec![None; N];
        let mut c = Cluster {
            genesis: Arc::new(genesis),
            hub,
            dir: tempfile::tempdir().unwrap(),
            validators: (0..N).map(|_| None).collect(),
            member_key,
            next_seq: 1,
        };
        for i in 0..N {
            c.start(i);
        }
        c
    }

    fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("validator-{i}"))
    }

    fn start(&mut self, i: usize) {
        let dir = self.data_dir(i);
        let store = Arc::new(Store::open(&dir.join("db"), &self.genesis).unwrap());
        let node = Arc::new(
            Node::new(
                format!("validator-{i}"),
                self.genesis.clone(),
                store,
                10_000,
            )
            .unwrap(),
        );
        let gossip = Arc::new(HubGossip {
            hub: self.hub.clone(),
            me: i,
        });
        let options = DriverOptions {
            regossip_ms: 200,
            ..DriverOptions::default()
        };
        let (handle, thread) = consensus_driver::spawn(
            node.clone(),
            validator_key(i),
            SafetyWal::in_dir(&dir),
            gossip,
            options,
        )
        .unwrap();
        self.hub.handles.lock().unwrap()[i] = Some(handle.clone());
        self.validators[i] = Some(Running {
            node,
            handle,
            thread,
        });
    }

    /// Stops validator `i` (its driver thread ends; its store is closed).
    fn stop(&mut self, i: usize) {
        self.hub.handles.lock().unwrap()[i] = None;
        let r = self.validators[i].take().unwrap();
        r.handle.shutdown();
        r.thread.join().unwrap().unwrap();
        drop(r.node);
    }

    fn node(&self, i: usize) -> &Node<SledKv> {
        &self.validators[i].as_ref().unwrap().node
    }

    fn live(&self) -> Vec<usize> {
        (0..N).filter(|i| self.validators[*i].is_some()).collect()
    }

    /// A new commission, submitted to every running validator (as gossip would).
    fn submit(&mut self, serials: usize) -> Hash32 {
        let tx: SignedTransaction = Transaction {
            chain_id: self.genesis.chain_id.clone(),
            signer: "manufacturer".into(),
            sequence: self.next_seq,
            event_time_ms: 1_700_000_000_000,
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse("10614141000019").unwrap(),
                lot: Lot::parse("L1").unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials: (0..serials)
                    .map(|s| Serial::parse(&format!("{}-{s}", self.next_seq)).unwrap())
                    .collect(),
                location: None,
            }),
        }
        .sign(&self.member_key);
        self.next_seq += 1;
        // A validator that is behind refuses it (its sequence is ahead of what it has
        // seen), as it would refuse it from gossip; the others take it.
        let accepted = self
            .live()
            .into_iter()
            .filter(|i| self.node(*i).submit(tx.clone()).is_ok())
            .count();
        assert!(accepted > 0, "no validator accepted the transaction");
        tx.hash()
    }

    /// Waits until every validator in `who` has committed `tx`.
    fn wait_committed(&self, who: &[usize], tx: &Hash32) {
        let start = Instant::now();
        while !who
            .iter()
            .all(|i| self.node(*i).store().tx_location(tx).unwrap().is_some())
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{tx} not committed by {who:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every validator in `who` holds the same block at every height it has.
    fn assert_same_chain(&self, who: &[usize]) {
        let heights: Vec<u64> = who
            .iter()
            .map(|i| {
                self.node(*i)
                    .store()
                    .head()
                    .unwrap()
                    .map_or(0, |h| h.height)
            })
            .collect();
        let max = *heights.iter().max().unwrap();
        for h in 1..=max {
            let hashes: HashSet<Hash32> = who
                .iter()
                .filter_map(|i| self.node(*i).store().block(h).unwrap().map(|b| b.hash()))
                .collect();
            assert_eq!(
                hashes.len(),
                1,
                "validators disagree at height {h}: {hashes:?}"
            );
        }
    }

    /// No validator ever signed two different proposals, or two different votes of one
    /// kind, for the same height and round.
    fn assert_no_double_signing(&self) {
        let mut proposals: HashMap<(usize, u64, u32), Hash32> = HashMap::new();
        let mut votes: HashMap<(usize, u64, u32, VoteKind), Option<Hash32>> = HashMap::new();
        for (sender, m) in self.hub.sent.lock().unwrap().iter() {
            match m {
                ConsensusMessage::Proposal { proposal, .. } => {
                    let p = &proposal.proposal;
                    let prev = proposals.insert((*sender, p.height.0, p.round.0), p.value);
                    assert!(
                        prev.is_none_or(|v| v == p.value),
                        "validator {sender} proposed twice at {}/{}",
                        p.height,
                        p.round
                    );
                }
                ConsensusMessage::Vote(v) => {
                    let v = &v.vote;
                    let key = (v.validator as usize, v.height.0, v.round.0, v.kind);
                    let prev = votes.insert(key, v.value);
                    assert!(
                        prev.is_none_or(|p| p == v.value),
                        "validator {} voted twice: {key:?}",
                        v.validator
                    );
                }
                ConsensusMessage::Decided { .. } => {}
            }
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn data_dir_exists(p: &Path) -> bool {
    p.join("consensus-safety.bin").exists()
}

#[test]
fn n4_validators_decide_identical_chains() {
    let mut c = Cluster::new();
    let mut last = Hash32::ZERO;
    for _ in 0..8 {
        last = c.submit(5);
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
    let first = c.submit(3);
    c.wait_committed(&[0, 1, 2, 3], &first);

    c.stop(3);
    let mut last = Hash32::ZERO;
    for _ in 0..4 {
        last = c.submit(3);
    }
    c.wait_committed(&[0, 1, 2], &last);

    c.start(3);
    let after = c.submit(3);
    c.wait_committed(&[0, 1, 2, 3], &after);
    c.assert_same_chain(&[0, 1, 2, 3]);
    c.assert_no_double_signing();
}

#[test]
fn validator_restarted_mid_height_rejoins_the_same_height_and_round() {
    let mut c = Cluster::new();
    let first = c.submit(2);
    c.wait_committed(&[0, 1, 2, 3], &first);
    let height = c.node(0).store().head().unwrap().unwrap().height + 1;

    // Every proposal is lost: the validators time out round after round at `height`.
    c.hub.drop_proposals.store(true, Ordering::SeqCst);
    let stuck = c.submit(2);
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
