//! The in-process cluster harness shared by the integration tests: validators that are real
//! nodes (sled store, mempool, consensus driver thread, safety record on disk), wired
//! through an in-memory hub that can cut validators off, and members that sign and submit
//! transactions with their own sequence numbers.

// Every integration test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use custody_consensus::{Validator, VoteKind};
use custody_ledger::crypto::public_key;
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::{check_digit, Expiry, Gln, Gtin, Lot, Serial, Sscc};
use custody_ledger::hash::Hash32;
use custody_ledger::transaction::{
    Commission, Payload, SignedTransaction, Transaction, TX_FORMAT_VERSION,
};
use custody_node::consensus_driver::{
    self, BodySink, ConsensusMessage, DriverError, DriverHandle, DriverOptions, Gossip, SafetyWal,
};
use custody_node::node::Node;
use custody_node::storage::{SledKv, Store};
use ed25519_dalek::SigningKey;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Validators in a cluster.
pub const N: usize = 4;

/// The GTIN the manufacturer commissions (company prefix 0614141).
pub const GTIN: &str = "10614141000019";

/// The manufacturer's locations.
pub const MANUFACTURER_GLNS: [&str; 2] = ["0614141000005", "0614141000012"];
/// The distributor's locations.
pub const DISTRIBUTOR_GLNS: [&str; 2] = ["0614142000004", "0614142000011"];
/// The pharmacy's location.
pub const PHARMACY_GLN: &str = "0614143000003";

/// Event times start a day before the cluster does (the chain takes event times up to a
/// week behind its block times and never ahead of them) and move on a second per
/// transaction.
fn first_event_ms() -> u64 {
    custody_node::node::now_ms() - 24 * 3600 * 1000
}

/// Delivers every validator's messages to the others, except to and from cut ones, and
/// keeps a log of everything each validator sent.
#[derive(Default)]
pub struct Hub {
    pub handles: Mutex<Vec<Option<DriverHandle>>>,
    /// Each running validator's node, for the block sync the hub stands in for.
    pub nodes: Mutex<Vec<Option<Arc<Node<SledKv>>>>>,
    pub cut: Mutex<HashSet<usize>>,
    /// Lose every proposal (no round can decide; rounds go by on timeouts).
    pub drop_proposals: AtomicBool,
    /// Deliver proposals without their blocks (peers must fetch the bodies).
    pub strip_bodies: AtomicBool,
    pub sent: Mutex<Vec<(usize, ConsensusMessage)>>,
}

pub struct HubGossip {
    pub hub: Arc<Hub>,
    pub me: usize,
}

impl Gossip for HubGossip {
    /// Asks the other live validators' drivers, as block sync's body request would.
    fn fetch_body(
        &self,
        _height: u64,
        value: Hash32,
        _hint: Option<custody_consensus::PublicKey>,
        deliver: BodySink,
    ) {
        let cut = self.hub.cut.lock().unwrap().clone();
        if cut.contains(&self.me) || self.hub.drop_proposals.load(Ordering::SeqCst) {
            return;
        }
        let handles = self.hub.handles.lock().unwrap().clone();
        for (i, h) in handles.iter().enumerate() {
            if i == self.me || cut.contains(&i) {
                continue;
            }
            if let Some(body) = h.as_ref().and_then(|h| h.proposal_body(&value)) {
                deliver((*body).clone());
                return;
            }
        }
    }

    fn broadcast(&self, msg: &ConsensusMessage) {
        self.hub.sent.lock().unwrap().push((self.me, msg.clone()));
        let cut = self.hub.cut.lock().unwrap().clone();
        let proposal = matches!(
            msg,
            ConsensusMessage::Proposal { .. } | ConsensusMessage::ProposalHeader(_)
        );
        if cut.contains(&self.me) || (proposal && self.hub.drop_proposals.load(Ordering::SeqCst)) {
            return;
        }
        // Through the wire format, as the network will carry it.
        let bytes = match msg {
            ConsensusMessage::Proposal { proposal, .. }
                if self.hub.strip_bodies.load(Ordering::SeqCst) =>
            {
                ConsensusMessage::ProposalHeader(proposal.clone()).encode()
            }
            m => m.encode(),
        };
        let nodes = self.hub.nodes.lock().unwrap().clone();
        for (i, h) in self.hub.handles.lock().unwrap().iter().enumerate() {
            if i != self.me && !cut.contains(&i) {
                if let Some(h) = h {
                    // A peer behind the sender catches up by block sync, point to point.
                    if let (Some(Some(from)), Some(Some(to))) = (nodes.get(self.me), nodes.get(i)) {
                        let theirs = to.next_height().unwrap().0;
                        let ours = from.next_height().unwrap().0;
                        for height in theirs..ours.min(msg.height()) {
                            let store = from.store();
                            if let (Some(block), Some(certificate)) = (
                                store.block(height).unwrap(),
                                store.certificate(height).unwrap(),
                            ) {
                                h.deliver(ConsensusMessage::Decided { certificate, block });
                            }
                        }
                    }
                    h.deliver(ConsensusMessage::decode(&bytes).unwrap());
                }
            }
        }
    }
}

pub struct Running {
    pub node: Arc<Node<SledKv>>,
    pub handle: DriverHandle,
    pub thread: JoinHandle<Result<(), DriverError>>,
}

pub struct Cluster {
    pub genesis: Arc<Genesis>,
    pub hub: Arc<Hub>,
    pub dir: tempfile::TempDir,
    pub validators: Vec<Option<Running>>,
    /// Each member's signing key.
    pub member_keys: BTreeMap<MemberId, SigningKey>,
    /// Each member's last used sequence number.
    pub sequences: BTreeMap<MemberId, u64>,
    /// Event time of the next transaction.
    pub next_event_ms: u64,
}

/// Validator `i`'s key.
pub fn validator_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[10 + i as u8; 32])
}

/// A member's fixed key (by its position in [`supply_chain_members`]).
pub fn member_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[1 + i as u8; 32])
}

/// Fast timeouts for a cluster on one machine.
pub fn fast_params() -> ChainParams {
    ChainParams {
        timeout_propose_ms: 300,
        timeout_prevote_ms: 150,
        timeout_precommit_ms: 150,
        timeout_delta_ms: 100,
        ..ChainParams::default()
    }
}

/// A genesis with the cluster's [`N`] validators and the given members.
pub fn cluster_genesis(chain_id: &str, members: Vec<Member>) -> Genesis {
    Genesis {
        chain_id: chain_id.into(),
        genesis_time_ms: 0,
        validators: (0..N)
            .map(|i| Validator {
                name: format!("validator-{i}"),
                public_key: public_key(&validator_key(i)),
            })
            .collect(),
        members,
        params: fast_params(),
    }
}

fn gln(s: &str) -> Gln {
    Gln::parse(s).unwrap()
}

/// `manufacturer` (prefix 0614141, two GLNs), `distributor` (prefix 0614142, two GLNs) and
/// `pharmacy` (one GLN), with the keys [`member_key`] 0, 1 and 2.
pub fn supply_chain_members() -> Vec<(Member, SigningKey)> {
    let member = |i: usize, name: &str, role: Role, prefix: Option<&str>, glns: &[&str]| {
        let key = member_key(i);
        let m = Member {
            name: name.into(),
            public_key: public_key(&key),
            roles: vec![role],
            company_prefixes: prefix.iter().map(|p| p.to_string()).collect(),
            glns: glns.iter().map(|g| gln(g)).collect(),
        };
        (m, key)
    };
    vec![
        member(
            0,
            "manufacturer",
            Role::Manufacturer,
            Some("0614141"),
            &MANUFACTURER_GLNS,
        ),
        member(
            1,
            "distributor",
            Role::Distributor,
            Some("0614142"),
            &DISTRIBUTOR_GLNS,
        ),
        member(2, "pharmacy", Role::Dispenser, None, &[PHARMACY_GLN]),
    ]
}

/// The SSCC with extension digit 0, company prefix 0614141 and serial reference `n`
/// (nine digits), with its check digit.
pub fn manufacturer_sscc(n: u32) -> Sscc {
    let body = format!("00614141{n:09}");
    Sscc::parse(&format!("{body}{}", check_digit(&body))).unwrap()
}

/// A commission of `serials` of [`GTIN`], lot L1, expiring 2030-12-31.
pub fn commission_payload(serials: &[String], location: Option<&str>) -> Payload {
    Payload::Commission(Commission {
        gtin: Gtin::parse(GTIN).unwrap(),
        lot: Lot::parse("L1").unwrap(),
        expiry: Expiry::parse("301231").unwrap(),
        serials: serials.iter().map(|s| Serial::parse(s).unwrap()).collect(),
        location: location.map(gln),
    })
}

impl Cluster {
    /// The original cluster: one member, `manufacturer` (prefix 0614141, no GLNs).
    pub fn new() -> Cluster {
        Cluster::with_params(fast_params())
    }

    /// [`Cluster::new`] with other chain parameters.
    pub fn with_params(params: ChainParams) -> Cluster {
        let key = member_key(0);
        let mut genesis = cluster_genesis(
            "cluster-test",
            vec![Member {
                name: "manufacturer".into(),
                public_key: public_key(&key),
                roles: vec![Role::Manufacturer],
                company_prefixes: vec!["0614141".into()],
                glns: vec![],
            }],
        );
        genesis.params = params;
        Cluster::start_with(genesis, [("manufacturer".into(), key)].into())
    }

    /// A cluster whose genesis has [`supply_chain_members`].
    pub fn supply_chain(chain_id: &str) -> Cluster {
        let (members, keys): (Vec<Member>, Vec<SigningKey>) =
            supply_chain_members().into_iter().unzip();
        let keys = members.iter().map(|m| m.name.clone()).zip(keys).collect();
        Cluster::start_with(cluster_genesis(chain_id, members), keys)
    }

    /// Starts [`N`] validators on `genesis`; `member_keys` sign the members' transactions.
    pub fn start_with(genesis: Genesis, member_keys: BTreeMap<MemberId, SigningKey>) -> Cluster {
        genesis.validate().unwrap();
        let hub = Arc::new(Hub::default());
        *hub.handles.lock().unwrap() = vec![None; N];
        *hub.nodes.lock().unwrap() = vec![None; N];
        let mut c = Cluster {
            genesis: Arc::new(genesis),
            hub,
            dir: tempfile::tempdir().unwrap(),
            validators: (0..N).map(|_| None).collect(),
            member_keys,
            sequences: BTreeMap::new(),
            next_event_ms: first_event_ms(),
        };
        for i in 0..N {
            c.start(i);
        }
        c
    }

    pub fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("validator-{i}"))
    }

    pub fn start(&mut self, i: usize) {
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
        self.hub.nodes.lock().unwrap()[i] = Some(node.clone());
        self.validators[i] = Some(Running {
            node,
            handle,
            thread,
        });
    }

    /// Stops validator `i` (its driver thread ends; its store is closed).
    pub fn stop(&mut self, i: usize) {
        self.hub.handles.lock().unwrap()[i] = None;
        self.hub.nodes.lock().unwrap()[i] = None;
        let r = self.validators[i].take().unwrap();
        r.handle.shutdown();
        r.thread.join().unwrap().unwrap();
        drop(r.node);
    }

    /// Stops every running validator.
    pub fn shutdown(mut self) {
        for i in self.live() {
            self.stop(i);
        }
    }

    pub fn node(&self, i: usize) -> &Node<SledKv> {
        &self.validators[i].as_ref().unwrap().node
    }

    pub fn live(&self) -> Vec<usize> {
        (0..N).filter(|i| self.validators[*i].is_some()).collect()
    }

    /// `payload` signed as `member` with its next sequence number, not submitted (and the
    /// sequence not used up).
    pub fn sign(&self, member: &str, payload: Payload) -> SignedTransaction {
        let member = MemberId::from(member);
        let sequence = self.sequences.get(&member).copied().unwrap_or(0) + 1;
        let key = self
            .member_keys
            .get(&member)
            .unwrap_or_else(|| panic!("no key for member {member}"));
        Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: self.genesis.chain_id.clone(),
            signer: member.clone(),
            sequence,
            event_time_ms: self.next_event_ms,
            payload,
        }
        .sign(key)
    }

    /// Signs `payload` as `member` with its next sequence number and submits it to every
    /// running validator (as gossip would). Returns the transaction hash.
    pub fn submit(&mut self, member: &str, payload: Payload) -> Hash32 {
        let tx = self.sign(member, payload);
        self.sequences
            .insert(MemberId::from(member), tx.tx.sequence);
        self.next_event_ms += 1_000;
        // A validator that is behind refuses it (its sequence is ahead of what it has
        // seen), as it would refuse it from gossip; the others take it.
        let mut refusals = Vec::new();
        let mut accepted = 0;
        for i in self.live() {
            match self.node(i).submit(tx.clone()) {
                Ok(_) => accepted += 1,
                Err(e) => refusals.push(format!("validator {i}: {e}")),
            }
        }
        assert!(
            accepted > 0,
            "no validator accepted the transaction: {refusals:?}"
        );
        tx.hash()
    }

    /// A new commission of `serials` serials by `manufacturer`, named after its sequence
    /// number, submitted to every running validator.
    pub fn commission(&mut self, serials: usize) -> Hash32 {
        let seq = self
            .sequences
            .get(&MemberId::from("manufacturer"))
            .copied()
            .unwrap_or(0)
            + 1;
        let serials: Vec<String> = (0..serials).map(|s| format!("{seq}-{s}")).collect();
        self.submit("manufacturer", commission_payload(&serials, None))
    }

    /// Waits until every validator in `who` has committed `tx`.
    pub fn wait_committed(&self, who: &[usize], tx: &Hash32) {
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

    /// Waits until every running validator has committed `tx`.
    pub fn wait_committed_all(&self, tx: &Hash32) {
        self.wait_committed(&self.live(), tx);
    }

    /// [`Cluster::submit`], then [`Cluster::wait_committed_all`].
    pub fn submit_committed(&mut self, member: &str, payload: Payload) -> Hash32 {
        let tx = self.submit(member, payload);
        self.wait_committed_all(&tx);
        tx
    }

    /// Submits `txs` in order while every proposal is lost, then lets proposals through
    /// again and waits until all are committed: they land in one block (or a few, if the
    /// block limits say so), not one block each.
    pub fn submit_together(&mut self, txs: Vec<(&str, Payload)>) -> Vec<Hash32> {
        self.hub.drop_proposals.store(true, Ordering::SeqCst);
        let hashes: Vec<Hash32> = txs
            .into_iter()
            .map(|(member, payload)| self.submit(member, payload))
            .collect();
        self.hub.drop_proposals.store(false, Ordering::SeqCst);
        for h in &hashes {
            self.wait_committed_all(h);
        }
        hashes
    }

    /// Every validator in `who` holds the same block at every height it has.
    pub fn assert_same_chain(&self, who: &[usize]) {
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
    pub fn assert_no_double_signing(&self) {
        let mut proposals: HashMap<(usize, u64, u32), Hash32> = HashMap::new();
        let mut votes: HashMap<(usize, u64, u32, VoteKind), Option<Hash32>> = HashMap::new();
        for (sender, m) in self.hub.sent.lock().unwrap().iter() {
            match m {
                ConsensusMessage::Proposal { proposal, .. }
                | ConsensusMessage::ProposalHeader(proposal) => {
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

pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn data_dir_exists(p: &Path) -> bool {
    p.join("consensus-safety.bin").exists()
}
