//! `byzantine-validator`: a validator gone bad, for the byzantine fault scenarios
//! (`testnet/faults`, scenarios `byzantine_*`). Not part of the product.
//!
//! It holds a real validator's key (validator 3's in the scenarios, replacing that node) and
//! speaks the real protocol: it joins the libp2p network with that key, learns the chain's
//! head by block sync, and runs the real `custody-consensus` state machine at the honest
//! validators' height, so it proposes (an empty block with the right parent, time and state
//! root when it is the round's proposer) and votes like a validator would. It keeps no
//! ledger state: it prevotes any proposal that extends the head it knows.
//!
//! From `--fault-after` seconds on, for `--fault-secs`, it misbehaves as `--behaviour` says:
//!
//! - `equivocate`: every vote it signs is also signed for a conflicting value (nil for a
//!   value, a random value for nil), and every proposal has a twin with another block; both
//!   of each pair are published, so every honest node sees the conflict.
//! - `flood-proposals`: `--flood` signed proposals per height, at the rounds where it is the
//!   proposer (one per round, so none conflicts with another), each with its own block whose
//!   state root is wrong; the next height's are sent as soon as it prevotes at this one.
//! - `oversized-block`: its proposals carry bulk transactions, `--block-bytes` long (a
//!   comma-separated list used in turn; the gossip frame limit is raised to send them).
//! - `invalid-block`: its proposals extend the head but break the ledger: a wrong state
//!   root, or transactions that break a rule (bad signature, or with `--member-key` a serial
//!   commissioned twice).
//! - `withhold-votes`: it proposes but never sends a vote.
//! - `stale-spam`: `--spam-rate` signed votes a second for heights long decided and for
//!   heights far in the future (rounds it never reaches, so nothing conflicts), and block-sync
//!   requests from height 1 in a tight loop (`--sync-concurrency` in flight per peer).
//!
//! On SIGINT or SIGTERM (or after `--run-secs`) it prints one JSON line of what it did and
//! exits.

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use custody_consensus::{
    Config, Consensus, Ed25519Verifier, Height, Input, Message, Output, Proposal, Round,
    SignedProposal, SignedVote, Signer, Timeout, Timeouts, ValidatorSet, Vote, VoteKind,
};
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::crypto::signing_key_from_pem;
use custody_ledger::encoding;
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::hash::Hash32;
use custody_ledger::transaction::{Commission, Payload, Transaction, TX_FORMAT_VERSION};
use custody_node::consensus_driver::ConsensusMessage;
use custody_node::network::{self, Acceptance, NetworkClient, NetworkConfig, NetworkEvent, Topic};
use custody_node::peering::{self, BodyResponse, PeerRequest, SyncRequest, SyncResponse};
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde_json::json;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Behaviour {
    /// Never misbehave (a baseline).
    Honest,
    Equivocate,
    FloodProposals,
    OversizedBlock,
    InvalidBlock,
    WithholdVotes,
    StaleSpam,
}

/// The kinds of stale-spam.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Spam {
    /// Votes for heights long decided.
    Stale,
    /// Votes for heights a million ahead.
    Future,
    /// Block-sync requests from height 1 in a tight loop.
    Sync,
}

#[derive(Parser)]
#[command(
    about = "A validator that speaks the real protocol and misbehaves (a fault-scenario tool)"
)]
struct Args {
    /// The network's genesis file.
    #[arg(long)]
    genesis: PathBuf,
    /// The validator's PKCS#8 PEM key.
    #[arg(long)]
    key: PathBuf,
    /// A node to connect to (multiaddr, e.g. /ip4/127.0.0.1/tcp/7400); repeatable.
    #[arg(long = "peer", required = true)]
    peers: Vec<String>,
    /// Address to listen on (the replaced validator's, so peers that dial it reach us).
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/0")]
    listen: String,
    /// What to do wrong.
    #[arg(long, value_enum)]
    behaviour: Behaviour,
    /// Seconds of honest behaviour before the fault; negative: until SIGUSR1 (which starts
    /// the fault at any time).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    fault_after: f64,
    /// How long the fault lasts, seconds (0: until exit); honest again after.
    #[arg(long, default_value_t = 0.0)]
    fault_secs: f64,
    /// Exit after this many seconds (0: on SIGINT/SIGTERM only).
    #[arg(long, default_value_t = 0.0)]
    run_secs: f64,
    /// flood-proposals: proposals per height.
    #[arg(long, default_value_t = 1000)]
    flood: u32,
    /// oversized-block: encoded block sizes in bytes, used in turn (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "3500000,6000000")]
    block_bytes: Vec<usize>,
    /// stale-spam: stale and far-future votes per second.
    #[arg(long, default_value_t = 500)]
    spam_rate: u32,
    /// stale-spam: which spam to send (stale votes, far-future votes, sync requests).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "stale,future,sync"
    )]
    spam: Vec<Spam>,
    /// stale-spam: sync requests in flight per peer.
    #[arg(long, default_value_t = 4)]
    sync_concurrency: usize,
    /// A member's key to sign bulk and rule-breaking transactions with (they then carry valid
    /// signatures and the member's next sequence numbers); without it they are forged in the
    /// manufacturer's name.
    #[arg(long)]
    member_key: Option<PathBuf>,
    /// GTIN of the bulk commissions (a prefix of the member's).
    #[arg(long, default_value = "10614141000019")]
    gtin: String,
}

/// The last decided block as far as we know.
#[derive(Clone, Debug)]
struct Head {
    height: u64,
    hash: Hash32,
    time_ms: u64,
    state_root: Hash32,
}

/// What the validator did, for the closing JSON line.
#[derive(Default)]
struct Stats {
    heights_decided: u64,
    heights_synced: u64,
    proposals: u64,
    votes: u64,
    votes_withheld: u64,
    equivocations_sent: u64,
    flood_proposals: u64,
    flood_heights: u64,
    oversized_proposals: u64,
    oversized_bytes_max: usize,
    invalid_proposals: u64,
    stale_msgs: u64,
    future_msgs: u64,
    evidence_seen: u64,
    publish_errors: u64,
}

/// Sync-request counters shared with the request tasks.
#[derive(Default)]
struct SyncStats {
    requests: AtomicU64,
    answered: AtomicU64,
    bytes: AtomicU64,
    failed: AtomicU64,
}

enum Sync {
    /// Blocks from a catch-up request, ascending.
    Blocks(Vec<(BlockCertificate, Block)>),
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn config_from(p: &custody_ledger::genesis::ChainParams) -> Config {
    Config {
        timeouts: Timeouts {
            propose_ms: p.timeout_propose_ms,
            propose_delta_ms: p.timeout_delta_ms,
            prevote_ms: p.timeout_prevote_ms,
            prevote_delta_ms: p.timeout_delta_ms,
            precommit_ms: p.timeout_precommit_ms,
            precommit_delta_ms: p.timeout_delta_ms,
        },
    }
}

fn random_hash() -> Hash32 {
    let mut h = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut h);
    Hash32(h)
}

struct Byz {
    args: Args,
    genesis: Genesis,
    chain: String,
    key: SigningKey,
    me: u16,
    set: ValidatorSet,
    member: Option<(MemberId, SigningKey)>,
    consensus: Consensus<Hash32, SigningKey>,
    started: bool,
    head: Head,
    /// Bodies of blocks proposed at the current height.
    bodies: HashMap<Hash32, Block>,
    /// Proposed values the state machine asked about whose bodies have not come.
    awaiting: HashSet<Hash32>,
    timers: BinaryHeap<Reverse<(Instant, u64, Timeout)>>,
    timer_seq: u64,
    out: mpsc::UnboundedSender<(Topic, Vec<u8>)>,
    counter: u64,
    t0: Instant,
    /// When the fault starts, seconds after `t0` (`None`: not yet known).
    fault_start: Option<f64>,
    /// Signs nothing (SIGUSR2, until the fault starts): what a crashed validator looks like.
    silent: bool,
    /// Our proposals decided in advance, by (height, round): what RequestValue answers.
    planned: HashMap<(u64, u32), Block>,
    flooded: HashSet<u64>,
    equivocated: HashSet<(u64, u32, u8)>,
    own_turns: usize,
    /// Last committed sequence per member, from the blocks we followed.
    sequences: HashMap<MemberId, u64>,
    last_tx_seen: Option<Instant>,
    highest_seen: u64,
    sync_pending: bool,
    /// When our head last moved (a head stuck for long is re-read by sync).
    last_progress: Instant,
    stats: Stats,
}

impl Byz {
    fn fault_on(&self) -> bool {
        if self.args.behaviour == Behaviour::Honest {
            return false;
        }
        let Some(start) = self.fault_start else {
            return false;
        };
        let t = self.t0.elapsed().as_secs_f64();
        t >= start && (self.args.fault_secs <= 0.0 || t < start + self.args.fault_secs)
    }

    fn on(&self, b: Behaviour) -> bool {
        self.args.behaviour == b && self.fault_on()
    }

    fn next(&self) -> u64 {
        self.head.height + 1
    }

    fn publish(&mut self, m: &ConsensusMessage) {
        self.counter += 1;
        let bytes = m.encode_for_gossip(self.counter);
        if self.out.send((Topic::Consensus, bytes)).is_err() {
            self.stats.publish_errors += 1;
        }
    }

    fn sign_vote(&self, vote: Vote<Hash32>) -> SignedVote<Hash32> {
        let signature = self.key.sign(&vote.sign_bytes(&self.chain));
        SignedVote { vote, signature }
    }

    fn sign_proposal(&self, proposal: Proposal<Hash32>) -> SignedProposal<Hash32> {
        let signature = self.key.sign(&proposal.sign_bytes(&self.chain));
        SignedProposal {
            proposal,
            signature,
        }
    }

    /// An empty block on our head: valid unless `state_root` says otherwise.
    fn empty_block(&self, height: u64, parent: &Head, offset_ms: u64) -> Block {
        let time = now_ms().max(parent.time_ms + 1) + offset_ms;
        Block::new(&self.chain, height, parent.hash, time, self.me, vec![])
            .with_state_root(parent.state_root)
    }

    /// Starts the next height in the state machine (if not yet).
    fn start_height(&mut self) {
        if self.started && self.consensus.height().0 >= self.next() {
            return;
        }
        self.started = true;
        self.bodies.clear();
        self.awaiting.clear();
        let h = self.next();
        self.planned.retain(|(ph, _), _| *ph >= h);
        self.equivocated.retain(|(eh, _, _)| *eh >= h);
        self.run(VecDeque::from([Input::StartHeight(Height(h))]));
        if self.on(Behaviour::FloodProposals) {
            let head = self.head.clone();
            self.flood(h, &head);
        }
    }

    /// Feeds inputs (and those their outputs lead to) until none is left.
    fn run(&mut self, mut queue: VecDeque<Input<Hash32>>) {
        let mut decided = None;
        while let Some(input) = queue.pop_front() {
            let Ok(outputs) = self.consensus.handle(input) else {
                continue;
            };
            for o in outputs {
                if let Some(b) = self.carry_out(o, &mut queue) {
                    decided = Some(b);
                }
            }
        }
        if let Some(block) = decided {
            self.stats.heights_decided += 1;
            self.adopt(&block);
            self.started = false;
            let busy = !block.txs.is_empty()
                || self
                    .last_tx_seen
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
            if busy || self.highest_seen >= self.next() {
                self.start_height();
            }
        }
    }

    /// A decided block becomes our head.
    fn adopt(&mut self, block: &Block) {
        for tx in &block.txs {
            self.sequences.insert(tx.tx.signer.clone(), tx.tx.sequence);
        }
        self.head = Head {
            height: block.header.height,
            hash: block.hash(),
            time_ms: block.header.time_ms,
            state_root: block.header.state_root,
        };
        self.last_progress = Instant::now();
    }

    fn carry_out(
        &mut self,
        output: Output<Hash32>,
        queue: &mut VecDeque<Input<Hash32>>,
    ) -> Option<Block> {
        match output {
            Output::PersistSafety(_) => {}
            Output::Broadcast(m) => self.broadcast(m),
            Output::ScheduleTimeout {
                timeout,
                duration_ms,
            } => {
                self.timer_seq += 1;
                let at = Instant::now() + Duration::from_millis(duration_ms);
                self.timers.push(Reverse((at, self.timer_seq, timeout)));
            }
            Output::RequestValue { height, round } => {
                let block = self.own_value(height.0, round.0);
                let hash = block.hash();
                self.bodies.insert(hash, block);
                queue.push_back(Input::ValueToPropose(hash));
            }
            Output::ValidateValue { value, .. } => match self.check(&value) {
                Some(valid) => queue.push_back(Input::ValueValidated { value, valid }),
                // Answered when the body comes.
                None => {
                    self.awaiting.insert(value);
                }
            },
            Output::Decide { value, .. } => match self.bodies.get(&value) {
                Some(b) => return Some(b.clone()),
                None => {
                    // Decided without the body: learn it by sync.
                    self.highest_seen = self.highest_seen.max(self.next() + 1);
                    self.sync_pending = false;
                }
            },
            Output::Equivocation(_) => self.stats.evidence_seen += 1,
        }
        None
    }

    /// Whether a proposed block extends our head (`None`: its body has not come).
    fn check(&self, value: &Hash32) -> Option<bool> {
        let b = self.bodies.get(value)?;
        Some(
            b.header.height == self.next()
                && b.header.parent == self.head.hash
                && b.check_body().is_ok(),
        )
    }

    /// What we propose at (height, round).
    fn own_value(&mut self, height: u64, round: u32) -> Block {
        if let Some(b) = self.planned.get(&(height, round)) {
            return b.clone();
        }
        let head = self.head.clone();
        let fault = self.fault_on();
        let block = match self.args.behaviour {
            Behaviour::OversizedBlock if fault => {
                let sizes = &self.args.block_bytes;
                let size = sizes[self.own_turns % sizes.len().max(1)];
                self.own_turns += 1;
                let b = self.bulk_block(height, &head, size, false);
                self.stats.oversized_proposals += 1;
                let len = encoding::encode(&b).len();
                self.stats.oversized_bytes_max = self.stats.oversized_bytes_max.max(len);
                eprintln!("byzantine: proposing a {len}-byte block at {height}/{round}");
                b
            }
            Behaviour::InvalidBlock if fault => {
                self.own_turns += 1;
                self.stats.invalid_proposals += 1;
                if self.own_turns % 2 == 1 {
                    // Right parent, height and time; wrong state root.
                    self.empty_block(height, &head, 0)
                        .with_state_root(random_hash())
                } else {
                    // Right state root for no change, but transactions that break a rule.
                    self.bulk_block(height, &head, 2000, true)
                }
            }
            _ => self.empty_block(height, &head, 0),
        };
        self.planned.insert((height, round), block.clone());
        block
    }

    /// A block of commissions about `size` bytes long. `rule_breaking`: two transactions
    /// commission the same serial.
    fn bulk_block(&self, height: u64, head: &Head, size: usize, rule_breaking: bool) -> Block {
        let params = &self.genesis.params;
        let gtin = Gtin::parse(&self.args.gtin).ok();
        let (signer, key) = match &self.member {
            Some((name, key)) => (name.clone(), key),
            None => (MemberId("manufacturer".into()), &self.key),
        };
        let mut seq = self.sequences.get(&signer).copied().unwrap_or(0);
        let mut txs = Vec::new();
        let mut total = 0usize;
        let tag = rand::thread_rng().next_u32() % 100_000;
        let per_tx = (params.max_tx_items as usize)
            .min((params.max_tx_bytes as usize).saturating_sub(4096) / 24)
            .max(1);
        let mut t = 0usize;
        while total < size || txs.len() < 2 {
            let n = if rule_breaking { 1 } else { per_tx };
            let serials: Vec<Serial> = (0..n)
                .filter_map(|i| {
                    let s = if rule_breaking {
                        format!("DUP{height}X{tag}")
                    } else {
                        format!("B{tag:05}{height:06}{t:03}{i:05}")
                    };
                    Serial::parse(&s).ok()
                })
                .collect();
            let (Some(gtin), Ok(lot), Ok(expiry)) =
                (gtin.clone(), Lot::parse("BULK"), Expiry::parse("301231"))
            else {
                break;
            };
            seq += 1;
            let tx = Transaction {
                version: TX_FORMAT_VERSION,
                chain_id: self.chain.clone(),
                signer: signer.clone(),
                sequence: seq,
                event_time_ms: now_ms(),
                payload: Payload::Commission(Commission {
                    gtin,
                    lot,
                    expiry,
                    serials,
                    location: None,
                }),
            }
            .sign(key);
            total += tx.encoded_len();
            txs.push(tx);
            t += 1;
            if rule_breaking && txs.len() >= 2 {
                break;
            }
        }
        let time = now_ms().max(head.time_ms + 1);
        Block::new(&self.chain, height, head.hash, time, self.me, txs)
            .with_state_root(head.state_root)
    }

    /// flood-proposals: `--flood` proposals for `height`, one per round where we propose,
    /// each with its own (invalid) block.
    fn flood(&mut self, height: u64, parent: &Head) {
        if !self.flooded.insert(height) {
            return;
        }
        self.flooded.retain(|h| *h + 8 > height);
        let n = self.set.len() as u32;
        let Some(r0) = (0..n).find(|r| self.set.proposer(Height(height), Round(*r)) == self.me)
        else {
            return;
        };
        for k in 0..self.args.flood {
            let round = r0 + n * k;
            if self.planned.contains_key(&(height, round)) {
                // Already proposed there (before the fault): never sign a second value.
                continue;
            }
            // A distinct body each, that no honest validator will accept.
            let block = self
                .empty_block(height, parent, u64::from(k))
                .with_state_root(random_hash());
            let proposal = self.sign_proposal(Proposal {
                height: Height(height),
                round: Round(round),
                value: block.hash(),
                valid_round: None,
                proposer: self.me,
            });
            self.planned.insert((height, round), block.clone());
            self.publish(&ConsensusMessage::Proposal { proposal, block });
            self.stats.flood_proposals += 1;
        }
        self.stats.flood_heights += 1;
    }

    /// Sends one message the state machine signed, as the behaviour says.
    fn broadcast(&mut self, m: Message<Hash32>) {
        if self.silent {
            return;
        }
        match m {
            Message::Vote(v) => {
                if self.on(Behaviour::WithholdVotes) {
                    self.stats.votes_withheld += 1;
                    return;
                }
                let key = (
                    v.vote.height.0,
                    v.vote.round.0,
                    matches!(v.vote.kind, VoteKind::Precommit) as u8,
                );
                let twin = if self.on(Behaviour::Equivocate) && self.equivocated.insert(key) {
                    let mut other = v.vote.clone();
                    other.value = match other.value {
                        Some(_) => None,
                        None => Some(random_hash()),
                    };
                    Some(self.sign_vote(other))
                } else {
                    None
                };
                let (height, kind) = (v.vote.height.0, v.vote.kind);
                self.publish(&ConsensusMessage::Vote(v));
                self.stats.votes += 1;
                if let Some(t) = twin {
                    self.publish(&ConsensusMessage::Vote(t));
                    self.stats.equivocations_sent += 1;
                }
                // flood-proposals: the next height's flood leaves as we prevote at this one,
                // so it reaches peers before they start that height.
                if kind == VoteKind::Prevote && self.on(Behaviour::FloodProposals) {
                    // Their bodies are invalid anyway: any parent will do.
                    let head = self.head.clone();
                    self.flood(height + 1, &head);
                }
            }
            Message::Proposal(p) => {
                let Some(block) = self.bodies.get(&p.proposal.value).cloned() else {
                    return;
                };
                let twin = if self.on(Behaviour::Equivocate)
                    && self
                        .equivocated
                        .insert((p.proposal.height.0, p.proposal.round.0, 2))
                {
                    let head = self.head.clone();
                    let other = self.empty_block(p.proposal.height.0, &head, 1);
                    let mut q = p.proposal.clone();
                    q.value = other.hash();
                    Some((self.sign_proposal(q), other))
                } else {
                    None
                };
                self.publish(&ConsensusMessage::Proposal { proposal: p, block });
                self.stats.proposals += 1;
                if let Some((proposal, block)) = twin {
                    self.publish(&ConsensusMessage::Proposal { proposal, block });
                    self.stats.equivocations_sent += 1;
                }
            }
        }
    }

    /// Sends our signed messages of this height again (peers may have missed them).
    fn regossip(&mut self) {
        if !self.started || self.silent {
            return;
        }
        let signed = self.consensus.safety_state().signed.clone();
        for m in signed {
            match m {
                Message::Vote(v) => {
                    if !self.on(Behaviour::WithholdVotes) {
                        self.publish(&ConsensusMessage::Vote(v));
                    }
                }
                // As honest validators do: the header only; a peer without the body asks.
                Message::Proposal(p) => self.publish(&ConsensusMessage::ProposalHeader(p)),
            }
        }
    }

    fn on_consensus(&mut self, data: &[u8]) -> Acceptance {
        let Ok(msg) = ConsensusMessage::decode_from_gossip(data) else {
            return Acceptance::Ignore;
        };
        let next = self.next();
        match msg {
            ConsensusMessage::Decided { certificate, block } => {
                let h = certificate.height.0;
                if h == next
                    && certificate
                        .verify(&self.chain, &self.set, &Ed25519Verifier)
                        .is_ok()
                {
                    if !self.started {
                        self.start_height();
                    }
                    self.bodies.insert(certificate.value, block);
                    self.run(VecDeque::from([Input::CertificateReceived(certificate)]));
                } else if h > next {
                    self.highest_seen = self.highest_seen.max(h);
                }
            }
            m => {
                let h = m.height();
                if h > next {
                    // Ignore what we ourselves sent far ahead.
                    if h < next + 1000 {
                        self.highest_seen = self.highest_seen.max(h);
                    }
                    return Acceptance::Ignore;
                }
                if h < next {
                    return Acceptance::Ignore;
                }
                if !self.started {
                    self.start_height();
                }
                let input = match m {
                    ConsensusMessage::Proposal { proposal, block } => {
                        let expected = self
                            .set
                            .proposer(proposal.proposal.height, proposal.proposal.round);
                        let value = proposal.proposal.value;
                        if proposal.proposal.proposer == expected && self.bodies.len() < 64 {
                            self.bodies.entry(value).or_insert(block);
                        }
                        let mut inputs = VecDeque::from([Input::ProposalReceived(proposal)]);
                        if self.awaiting.contains(&value) {
                            if let Some(valid) = self.check(&value) {
                                self.awaiting.remove(&value);
                                inputs.push_back(Input::ValueValidated { value, valid });
                            }
                        }
                        self.run(inputs);
                        return Acceptance::Ignore;
                    }
                    ConsensusMessage::Vote(v) => Input::VoteReceived(v),
                    // A re-sent proposal without its body: we validate it once the body
                    // is here (it came with the first sending).
                    ConsensusMessage::ProposalHeader(proposal) => Input::ProposalReceived(proposal),
                    ConsensusMessage::Decided { .. } => return Acceptance::Ignore,
                };
                self.run(VecDeque::from([input]));
            }
        }
        Acceptance::Ignore
    }

    /// Blocks from sync: adopt those that continue our head.
    fn on_sync(&mut self, blocks: Vec<(BlockCertificate, Block)>) {
        self.sync_pending = false;
        let mut moved = false;
        for (cert, block) in blocks {
            if cert.height.0 != self.next()
                || block.header.parent != self.head.hash
                || block.hash() != cert.value
                || cert
                    .verify(&self.chain, &self.set, &Ed25519Verifier)
                    .is_err()
            {
                continue;
            }
            self.adopt(&block);
            self.stats.heights_synced += 1;
            moved = true;
        }
        if moved {
            self.started = false;
            // During the fault, take part at the new height even if no peer tells us about
            // it (peers that graylisted us send us nothing): a flooder floods it.
            if self.highest_seen >= self.next() || self.fault_on() {
                self.start_height();
            }
        }
    }

    /// stale-spam: a burst of votes for long-decided and far-future heights, at rounds we
    /// never reach.
    fn spam(&mut self, n: u32) {
        let mut rng = rand::thread_rng();
        let (want_stale, want_future) = (
            self.args.spam.contains(&Spam::Stale),
            self.args.spam.contains(&Spam::Future),
        );
        if !want_stale && !want_future {
            return;
        }
        for i in 0..n {
            self.counter += 1;
            let stale = self.head.height > 1 && (!want_future || (want_stale && i % 2 == 0));
            if !stale && !want_future {
                continue;
            }
            let height = if stale {
                1 + u64::from(rng.next_u32()) % (self.head.height - 1)
            } else {
                self.head.height + 1_000_000 + u64::from(rng.next_u32() % 1_000_000)
            };
            let vote = self.sign_vote(Vote {
                height: Height(height),
                round: Round(1_000_000 + (self.counter % 1_000_000) as u32),
                kind: VoteKind::Prevote,
                value: None,
                validator: self.me,
            });
            self.publish(&ConsensusMessage::Vote(vote));
            if stale {
                self.stats.stale_msgs += 1;
            } else {
                self.stats.future_msgs += 1;
            }
        }
    }
}

/// Asks `peer` for blocks from `from`.
async fn fetch(
    client: &NetworkClient,
    peer: custody_consensus::PublicKey,
    from: u64,
) -> Result<SyncResponse> {
    let req = encoding::encode(&PeerRequest::Blocks(SyncRequest {
        from,
        max: peering::MAX_SYNC_BLOCKS,
    }));
    let bytes = client.request(peer, req).await?;
    Ok(encoding::decode(&bytes)?)
}

/// The chain's head by sync from the connected peers (the highest answer).
async fn learn_head(client: &NetworkClient, genesis: &Genesis) -> Result<(Head, Vec<Block>)> {
    let mut head = Head {
        height: 0,
        hash: genesis.hash(),
        time_ms: genesis.genesis_time_ms,
        state_root: custody_ledger::smt::Smt::empty_root(),
    };
    let mut blocks = Vec::new();
    let peers = client.connected_peers().await?;
    let Some(peer) = peers.first().copied() else {
        return Ok((head, blocks));
    };
    loop {
        let resp = fetch(client, peer, head.height + 1).await?;
        let got = resp.blocks.len();
        for (_, b) in resp.blocks {
            head = Head {
                height: b.header.height,
                hash: b.hash(),
                time_ms: b.header.time_ms,
                state_root: b.header.state_root,
            };
            blocks.push(b);
        }
        if got == 0 || head.height >= resp.head {
            return Ok((head, blocks));
        }
    }
}

/// stale-spam: block-sync requests from height 1, back to back, until `until`.
async fn sync_hammer(
    client: NetworkClient,
    peer: custody_consensus::PublicKey,
    until: Option<Instant>,
    stats: Arc<SyncStats>,
) {
    while until.is_none_or(|u| Instant::now() < u) {
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let req = encoding::encode(&PeerRequest::Blocks(SyncRequest {
            from: 1,
            max: peering::MAX_SYNC_BLOCKS,
        }));
        match client.request(peer, req).await {
            Ok(b) => {
                stats.answered.fetch_add(1, Ordering::Relaxed);
                stats.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            Err(_) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

fn read_key(path: &PathBuf) -> Result<SigningKey> {
    signing_key_from_pem(
        &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("reading the key {}", path.display()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let genesis = Genesis::from_json(
        &std::fs::read_to_string(&args.genesis)
            .with_context(|| format!("reading {}", args.genesis.display()))?,
    )
    .context("parsing the genesis file")?;
    let key = read_key(&args.key)?;
    let set = genesis
        .validator_set()
        .context("the genesis has no valid validator set")?;
    let Some(me) = set.index_of(&key.public_key()) else {
        bail!("the key is not a validator's in this genesis");
    };
    let member = match &args.member_key {
        Some(p) => {
            let k = read_key(p)?;
            let name = genesis
                .member_by_key(&k.public_key())
                .map(|m| m.name.clone())
                .context("--member-key is not a genesis member's")?;
            Some((name, k))
        }
        None => None,
    };
    if args.block_bytes.is_empty() {
        bail!("--block-bytes needs at least one size");
    }

    let mut config = NetworkConfig::new(key.to_bytes(), peering::allowed_keys(&genesis));
    config.listen_addrs = vec![args.listen.clone()];
    config.bootstrap = args.peers.clone();
    config.chain_id = Some(genesis.chain_id.clone());
    let biggest = args.block_bytes.iter().copied().max().unwrap_or(0);
    config.max_gossip_bytes = network::DEFAULT_MAX_GOSSIP_BYTES.max(biggest + (1 << 20));
    config.event_buffer = 65_536;
    let (client, mut events, event_loop) = network::new(config).context("starting libp2p")?;
    tokio::spawn(event_loop.run());

    let start = Instant::now();
    while client.connected_peers().await?.is_empty() {
        if start.elapsed() > Duration::from_secs(30) {
            bail!("could not connect to any of {:?}", args.peers);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (head, past) = learn_head(&client, &genesis)
        .await
        .context("learning the chain's head")?;
    eprintln!(
        "byzantine: validator {me}, head {}, behaviour {:?}",
        head.height, args.behaviour
    );

    // One task publishes, in order.
    let (out, mut to_publish) = mpsc::unbounded_channel::<(Topic, Vec<u8>)>();
    let publisher = client.clone();
    let publish_failed = Arc::new(AtomicU64::new(0));
    let pf = Arc::clone(&publish_failed);
    tokio::spawn(async move {
        while let Some((topic, data)) = to_publish.recv().await {
            if publisher.publish(topic, data).await.is_err() {
                pf.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let chain = genesis.chain_id.clone();
    let consensus = Consensus::new(
        config_from(&genesis.params),
        key.clone(),
        set.clone(),
        chain.clone(),
    )
    .context("starting the consensus state machine")?;
    let mut byz = Byz {
        genesis,
        chain,
        key,
        me,
        set,
        member,
        consensus,
        started: false,
        head,
        bodies: HashMap::new(),
        awaiting: HashSet::new(),
        timers: BinaryHeap::new(),
        timer_seq: 0,
        out,
        counter: u64::from(rand::thread_rng().next_u32()) << 20,
        t0: Instant::now(),
        fault_start: (args.fault_after >= 0.0).then_some(args.fault_after),
        silent: false,
        planned: HashMap::new(),
        flooded: HashSet::new(),
        equivocated: HashSet::new(),
        own_turns: 0,
        sequences: HashMap::new(),
        last_tx_seen: None,
        highest_seen: 0,
        sync_pending: false,
        last_progress: Instant::now(),
        stats: Stats::default(),
        args,
    };
    for b in &past {
        for tx in &b.txs {
            byz.sequences.insert(tx.tx.signer.clone(), tx.tx.sequence);
        }
    }
    byz.start_height();

    let (sync_tx, mut sync_rx) = mpsc::unbounded_channel::<Sync>();
    let sync_stats = Arc::new(SyncStats::default());
    let mut hammering = false;
    let mut regossip = tokio::time::interval(Duration::from_secs(1));
    let mut status = tokio::time::interval(Duration::from_secs(5));
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let run_until = (byz.args.run_secs > 0.0)
        .then(|| Instant::now() + Duration::from_secs_f64(byz.args.run_secs));
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigusr1 =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())?;
    let mut sigusr2 =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined2())?;
    let mut spam_budget = 0.0f64;
    let mut last_tick = Instant::now();
    loop {
        let next_timer = byz
            .timers
            .peek()
            .map(|Reverse((at, _, _))| *at)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                match ev {
                    NetworkEvent::Gossip { topic, data, message_id, .. } => {
                        let verdict = match topic {
                            Topic::Consensus => byz.on_consensus(&data),
                            Topic::Transactions => {
                                byz.last_tx_seen = Some(Instant::now());
                                if !byz.started {
                                    byz.start_height();
                                }
                                Acceptance::Ignore
                            }
                        };
                        let _ = client.report(message_id, verdict).await;
                    }
                    NetworkEvent::Request { data, channel, .. } => {
                        // We keep no decided blocks (say where we are, with none), but
                        // serve the bodies of this height's proposals.
                        let resp = match encoding::decode::<PeerRequest>(&data) {
                            Ok(PeerRequest::Body(req)) => encoding::encode(&BodyResponse {
                                block: byz.bodies.get(&req.value).cloned(),
                            }),
                            _ => encoding::encode(&SyncResponse {
                                head: byz.head.height,
                                blocks: vec![],
                            }),
                        };
                        let _ = client.respond(channel, resp).await;
                    }
                    NetworkEvent::PeerConnected(_) | NetworkEvent::PeerDisconnected(_) => {}
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(next_timer)) => {
                let now = Instant::now();
                let mut due = VecDeque::new();
                while let Some(Reverse((at, _, t))) = byz.timers.peek().copied() {
                    if at > now { break; }
                    byz.timers.pop();
                    due.push_back(Input::TimeoutElapsed(t));
                }
                byz.run(due);
            }
            Some(Sync::Blocks(blocks)) = sync_rx.recv() => byz.on_sync(blocks),
            _ = regossip.tick() => byz.regossip(),
            _ = status.tick() => eprintln!(
                "byzantine: head {}, consensus {}/{} {:?}{}, highest seen {}, fault {}, silent {}",
                byz.head.height,
                byz.consensus.height().0,
                byz.consensus.round().0,
                byz.consensus.step(),
                if byz.started { "" } else { " (idle)" },
                byz.highest_seen,
                byz.fault_on(),
                byz.silent,
            ),
            _ = tick.tick() => {
                let now = Instant::now();
                let dt = now.duration_since(last_tick).as_secs_f64();
                last_tick = now;
                if byz.on(Behaviour::StaleSpam) {
                    spam_budget += dt * f64::from(byz.args.spam_rate);
                    let n = spam_budget.floor();
                    spam_budget -= n;
                    byz.spam(n as u32);
                    if !hammering && byz.args.spam.contains(&Spam::Sync) {
                        hammering = true;
                        let start = byz.fault_start.unwrap_or(0.0);
                        let until = (byz.args.fault_secs > 0.0).then(|| {
                            byz.t0 + Duration::from_secs_f64(start + byz.args.fault_secs)
                        });
                        for peer in client.connected_peers().await.unwrap_or_default() {
                            for _ in 0..byz.args.sync_concurrency {
                                tokio::spawn(sync_hammer(client.clone(), peer, until, Arc::clone(&sync_stats)));
                            }
                        }
                    }
                }
                // Behind, or stuck for a while: ask a peer for what we missed.
                let patience = if byz.fault_on() { 500 } else { 2000 };
                let stuck = byz.last_progress.elapsed() > Duration::from_millis(patience);
                if (byz.highest_seen > byz.next() || stuck) && !byz.sync_pending {
                    byz.sync_pending = true;
                    byz.last_progress = Instant::now();
                    let (c, tx, from) = (client.clone(), sync_tx.clone(), byz.next());
                    tokio::spawn(async move {
                        let peers = c.connected_peers().await.unwrap_or_default();
                        let mut blocks = vec![];
                        for p in peers {
                            if let Ok(r) = fetch(&c, p, from).await {
                                if !r.blocks.is_empty() {
                                    blocks = r.blocks;
                                    break;
                                }
                            }
                        }
                        let _ = tx.send(Sync::Blocks(blocks));
                    });
                }
                if run_until.is_some_and(|u| now >= u) {
                    break;
                }
            }
            _ = sigint.recv() => break,
            _ = sigterm.recv() => break,
            _ = sigusr2.recv() => {
                byz.silent = true;
                eprintln!("byzantine: silent");
            }
            _ = sigusr1.recv() => {
                byz.silent = false;
                byz.fault_start = Some(byz.t0.elapsed().as_secs_f64());
                hammering = false;
                eprintln!("byzantine: fault {:?} on", byz.args.behaviour);
            }
        }
    }
    let s = &byz.stats;
    println!(
        "{}",
        json!({
            "behaviour": format!("{:?}", byz.args.behaviour),
            "validator": byz.me,
            "head": byz.head.height,
            "heights_decided": s.heights_decided,
            "heights_synced": s.heights_synced,
            "proposals": s.proposals,
            "votes": s.votes,
            "votes_withheld": s.votes_withheld,
            "equivocations_sent": s.equivocations_sent,
            "flood_proposals": s.flood_proposals,
            "flood_heights": s.flood_heights,
            "oversized_proposals": s.oversized_proposals,
            "oversized_bytes_max": s.oversized_bytes_max,
            "invalid_proposals": s.invalid_proposals,
            "stale_msgs": s.stale_msgs,
            "future_msgs": s.future_msgs,
            "sync_requests": sync_stats.requests.load(Ordering::Relaxed),
            "sync_answered": sync_stats.answered.load(Ordering::Relaxed),
            "sync_failed": sync_stats.failed.load(Ordering::Relaxed),
            "sync_bytes": sync_stats.bytes.load(Ordering::Relaxed),
            "evidence_seen": s.evidence_seen,
            "publish_errors": s.publish_errors + publish_failed.load(Ordering::Relaxed),
        })
    );
    Ok(())
}
