//! A deterministic simulation of N Custody consensus instances. Everything that is random —
//! delays, loss, duplication, reordering, partitions, crashes, byzantine choices, which values
//! the application rejects — comes from one `ChaCha8Rng` seeded with the run's seed, and time
//! is simulated, so a seed replays exactly. It plays the node for every validator: it carries
//! out outputs in order (persist, then send), keeps only what was persisted before a crash,
//! fires timers, answers value requests and validations, re-gossips the current height's
//! messages and hands lagging validators the last commit certificate (block sync).
//!
//! Byzantine validators (at most f, each holding a real key of the set) run the honest code
//! behind a network layer that misbehaves in one of the ways of [`Behaviour`]: equivocating,
//! flooding hundreds of signed proposals per height, or withholding (never voting, never
//! proposing, or proposing a block whose body only some honest validators receive — those
//! never get an answer to `ValidateValue` until an honest proposer re-proposes the value
//! with its body, as the node's driver does with a body that never arrived).
//!
//! The invariants can only be broken by an output, and every output of every delivery is
//! checked as it is carried out: agreement (no two honest decisions differ at a height),
//! validity (an honest decision is a proposed value the application accepts, that this
//! validator's application validated unless a certificate decided it, and that some honest
//! application validated), no honest double sign, every certificate verifies, no evidence
//! against an honest validator, and after every input an honest instance keeps no more than
//! [`Consensus::retained`] promises. After the network heals (partitions gone, no loss,
//! crashed nodes restarted) every honest validator must decide `heights_after_heal` more
//! heights within a bound of simulated time.

#![allow(dead_code)] // Each test binary that includes the harness uses a different part of it.

use custody_consensus::consensus::{MAX_FUTURE_ROUNDS_PER_VALIDATOR, MAX_PROPOSALS_PER_ROUND};
use custody_consensus::vote_keeper::MAX_VALUES_PER_VOTER;
use custody_consensus::{
    CommitCertificate, Config, Consensus, ConsensusError, DropReason, Fault, Height, Input,
    Message, Output, Proposal, PublicKey, Retained, Round, SafetyState, Signature, SignedProposal,
    SignedVote, Signer, Timeout, Timeouts, Validator, ValidatorSet, Verifier, Vote, VoteKind,
};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;

/// The simulated value: a 32-byte "block hash" that encodes its height, its proposer, a
/// nonce, and (last byte) whether the application must reject it.
pub type V = [u8; 32];

/// The chain id every simulated signature is bound to.
pub const CHAIN: &str = "custody-sim";

// ---- cheap deterministic "crypto" --------------------------------------------------------

/// A fake signer: the signature is a keyed hash of the message. Unforgeable only in the sense
/// that the harness never signs for a validator it does not play; it keeps debug runs fast.
#[derive(Clone, Debug)]
pub struct SimKey(pub PublicKey);

/// Checks [`SimKey`] signatures.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimVerifier;

fn fake_signature(key: &PublicKey, msg: &[u8]) -> Signature {
    // An FNV-style pass over key and message, spread over 64 bytes with splitmix64.
    // Eight bytes a step (plain loops: iterator adapters are slow in debug builds).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [&key.0[..], msg] {
        let mut chunks = part.chunks_exact(8);
        for c in &mut chunks {
            h ^= u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = h.wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        }
        for &b in chunks.remainder() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut out = [0u8; 64];
    for chunk in out.chunks_mut(8) {
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
    }
    Signature(out)
}

impl Signer for SimKey {
    fn public_key(&self) -> PublicKey {
        self.0
    }
    fn sign(&self, msg: &[u8]) -> Signature {
        fake_signature(&self.0, msg)
    }
}

impl Verifier for SimVerifier {
    fn verify(&self, key: &PublicKey, msg: &[u8], sig: &Signature) -> bool {
        fake_signature(key, msg) == *sig
    }
}

type Node = Consensus<V, SimKey, SimVerifier>;

fn key(i: usize) -> SimKey {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    k[31] = 0x5a;
    SimKey(PublicKey(k))
}

/// The validator set of `n` simulated validators.
pub fn validator_set(n: usize) -> ValidatorSet {
    ValidatorSet::new(
        (0..n)
            .map(|i| Validator {
                name: format!("v{i}"),
                public_key: key(i).0,
            })
            .collect(),
    )
    .expect("distinct simulated keys")
}

/// A drop reason's name, for the report.
fn drop_name(reason: &DropReason) -> &'static str {
    match reason {
        DropReason::NotStarted => "NotStarted",
        DropReason::WrongHeight { .. } => "WrongHeight",
        DropReason::AlreadyDecided(_) => "AlreadyDecided",
        DropReason::UnknownValidator { .. } => "UnknownValidator",
        DropReason::BadSignature(_) => "BadSignature",
        DropReason::NotProposer { .. } => "NotProposer",
        DropReason::BadValidRound { .. } => "BadValidRound",
        DropReason::Duplicate { .. } => "Duplicate",
        DropReason::TooFarAhead { .. } => "TooFarAhead",
        DropReason::TooManyProposals { .. } => "TooManyProposals",
        DropReason::NoValueRequested { .. } => "NoValueRequested",
        DropReason::NoValidationRequested(_) => "NoValidationRequested",
        DropReason::BadCertificate(_) => "BadCertificate",
    }
}

/// The height a simulated value was built for.
fn value_height(v: &V) -> u64 {
    let mut h = [0u8; 8];
    h.copy_from_slice(&v[..8]);
    u64::from_be_bytes(h)
}

fn make_value(height: Height, proposer: usize, nonce: u64, bad: bool) -> V {
    let mut v = [0u8; 32];
    v[..8].copy_from_slice(&height.0.to_be_bytes());
    v[8..10].copy_from_slice(&(proposer as u16).to_be_bytes());
    v[10..18].copy_from_slice(&nonce.to_be_bytes());
    v[31] = u8::from(bad);
    v
}

/// The application's rule: a value is valid at `height` if it was built for that height and
/// is not marked bad.
fn application_accepts(v: &V, height: Height) -> bool {
    v[31] == 0 && value_height(v) == height.0
}

// ---- configuration and results ----------------------------------------------------------

/// How a byzantine validator's network layer misbehaves. Its consensus instance runs the
/// honest code with its real key; only what leaves it is changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Signs a conflicting twin of most messages and sends each peer one or the other
    /// (sometimes both), and now and then votes in rounds ahead.
    Equivocate,
    /// Besides its own messages, sends every peer hundreds of signed proposals per height:
    /// for past, current, future and far-future rounds, rounds it does and does not propose,
    /// fresh, invalid and other heights' values, with and without a (bogus) valid round; and
    /// votes of both kinds for any of those values in any of those rounds.
    Flood,
    /// Never votes; proposes normally.
    WithholdVotes,
    /// Never votes and never proposes: sends nothing at all.
    Mute,
    /// Proposes, but sends the block's body to only some honest validators: the others'
    /// applications cannot validate it and never answer. Votes only if `votes`.
    HideBody {
        /// Whether it still votes (for its own value, so that value can win a quorum).
        votes: bool,
    },
}

impl Behaviour {
    /// Every behaviour.
    pub const ALL: [Behaviour; 6] = [
        Behaviour::Equivocate,
        Behaviour::Flood,
        Behaviour::WithholdVotes,
        Behaviour::Mute,
        Behaviour::HideBody { votes: false },
        Behaviour::HideBody { votes: true },
    ];

    fn sends_votes(self) -> bool {
        matches!(
            self,
            Behaviour::Equivocate | Behaviour::Flood | Behaviour::HideBody { votes: true }
        )
    }
}

/// Proposals a flooder sends per round it enters, and at most per height.
pub const FLOOD_PER_ROUND: u64 = 80;
/// See [`FLOOD_PER_ROUND`].
pub const FLOOD_PER_HEIGHT: u64 = 300;
/// Votes a flooder sends with each burst of proposals.
pub const FLOOD_VOTES_PER_ROUND: u64 = 40;

/// One simulated run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Validators.
    pub n: usize,
    /// Byzantine validators (at most f); which ones is drawn from the seed.
    pub byzantine: usize,
    /// What each byzantine validator does, drawn from the seed among these.
    pub behaviours: Vec<Behaviour>,
    /// The seed of everything random.
    pub seed: u64,
    /// Length of the faulty period (simulated ms); the network heals at its end.
    pub chaos_ms: u64,
    /// Probability that a message is lost during the faulty period.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    /// Message delay range in ms (uniform; reorders messages).
    pub delay_ms: (u64, u64),
    /// Split the network in two during the faulty period.
    pub partitions: bool,
    /// Crash and restart honest validators during the faulty period.
    pub crashes: bool,
    /// Probability that an honest proposer's application builds a value that everyone's
    /// application will reject (during the faulty period).
    pub bad_value_rate: f64,
    /// Heights every honest validator must decide after the heal.
    pub heights_after_heal: u64,
    /// Re-gossip interval (ms) of the current height's messages and the last certificate.
    pub gossip_ms: Option<u64>,
    /// Consensus timeouts.
    pub timeouts: Timeouts,
    /// A deliberately buggy honest validator (to show the checker catches it).
    pub planted: Option<(usize, Fault)>,
    /// Give up after this many events (a hang is a liveness failure).
    pub max_events: u64,
}

impl SimConfig {
    /// A run with faults drawn from the seed: loss, duplication, delays, partitions,
    /// crashes, up to f byzantine validators, invalid values.
    pub fn chaos(n: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0ff_ee00);
        let f = (n - 1) / 3;
        let byzantine = if below(&mut rng, 4) == 0 {
            below(&mut rng, f as u64 + 1) as usize
        } else {
            f
        };
        let max_delay = 5 + below(&mut rng, 96);
        SimConfig {
            n,
            byzantine,
            behaviours: Behaviour::ALL.to_vec(),
            seed,
            chaos_ms: 2_000 + below(&mut rng, 8_000),
            loss: [0.0, 0.05, 0.2, 0.4][below(&mut rng, 4) as usize],
            duplicate: [0.0, 0.05, 0.2][below(&mut rng, 3) as usize],
            delay_ms: (1, max_delay),
            partitions: below(&mut rng, 2) == 0,
            crashes: below(&mut rng, 2) == 0,
            bad_value_rate: 0.1,
            heights_after_heal: 3,
            gossip_ms: Some(1_000),
            timeouts: sim_timeouts(),
            planted: None,
            max_events: 3_000_000,
        }
    }

    /// No faults at all: for counting messages and decisions per second.
    pub fn calm(n: usize, seed: u64, heights: u64) -> Self {
        SimConfig {
            n,
            byzantine: 0,
            behaviours: vec![Behaviour::Equivocate],
            seed,
            chaos_ms: 0,
            loss: 0.0,
            duplicate: 0.0,
            delay_ms: (1, 10),
            partitions: false,
            crashes: false,
            bad_value_rate: 0.0,
            heights_after_heal: heights,
            gossip_ms: None,
            timeouts: sim_timeouts(),
            planted: None,
            max_events: u64::MAX,
        }
    }
}

/// Short timeouts so that simulated runs are fast; they still grow with the round.
pub fn sim_timeouts() -> Timeouts {
    Timeouts {
        propose_ms: 300,
        propose_delta_ms: 100,
        prevote_ms: 150,
        prevote_delta_ms: 50,
        precommit_ms: 150,
        precommit_delta_ms: 50,
    }
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two honest validators decided different values at one height.
    Agreement {
        /// The height.
        height: u64,
        /// The first decision and who made it.
        first: (usize, V),
        /// The conflicting one.
        second: (usize, V),
    },
    /// An honest validator decided a value nobody proposed, or that the application rejects.
    Validity {
        /// Who.
        node: usize,
        /// The height.
        height: u64,
    },
    /// An honest validator signed two conflicting messages.
    DoubleSign {
        /// Who.
        node: usize,
        /// What.
        detail: String,
    },
    /// A decision's certificate does not verify.
    BadCertificate {
        /// Who decided.
        node: usize,
        /// Why it fails.
        detail: String,
    },
    /// Evidence that does not verify, or that accuses an honest validator.
    BadEvidence {
        /// The reporter.
        node: usize,
        /// The accused.
        accused: usize,
    },
    /// The state machine returned an error that is not a dropped message.
    Unexpected {
        /// Who.
        node: usize,
        /// The error.
        error: String,
    },
    /// An honest instance kept more than [`Consensus::retained`] promises.
    Unbounded {
        /// Who.
        node: usize,
        /// What it kept, and at which round.
        detail: String,
    },
    /// After the heal, the honest validators did not decide enough heights in time.
    Liveness {
        /// The height every honest validator had to reach.
        target: u64,
        /// The lowest height reached.
        reached: u64,
        /// Simulated ms allowed after the heal.
        bound_ms: u64,
    },
}

impl Violation {
    /// True for a broken safety property (not a liveness failure).
    pub fn is_safety(&self) -> bool {
        !matches!(self, Violation::Liveness { .. })
    }
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The run's configuration, for printing.
    pub config: String,
    /// The first violation, if any (the run stops there).
    pub violation: Option<Violation>,
    /// Simulated time at the end (ms).
    pub sim_ms: u64,
    /// Events processed.
    pub events: u64,
    /// Lowest height decided by every honest validator.
    pub decided: u64,
    /// Honest `Decide` outputs.
    pub decisions: u64,
    /// Point-to-point sends of fresh (non-gossip) messages for the heights up to the target,
    /// by kind: proposals, prevotes, precommits.
    pub sent: [u64; 3],
    /// Sends of re-gossiped messages and certificates.
    pub gossip_sent: u64,
    /// Inputs dropped by the state machine, by reason.
    pub drops: BTreeMap<&'static str, u64>,
    /// Equivocation evidence reported.
    pub evidence: u64,
    /// Crashes (including crashes in the middle of a batch of outputs).
    pub crashes: u64,
    /// Highest round any honest validator reached.
    pub max_round: u32,
    /// Simulated ms from the heal to the last required decision.
    pub heal_to_done_ms: Option<u64>,
    /// The liveness bound used (ms after the heal).
    pub bound_ms: u64,
    /// Each validator's state at the end, for diagnosing a failure.
    pub final_states: Vec<String>,
    /// The byzantine validators' behaviours.
    pub behaviours: Vec<(usize, Behaviour)>,
    /// Flood proposals and votes sent (point to point).
    pub flood_sent: u64,
    /// `ValidateValue` requests an honest node's driver left unanswered for lack of the body.
    pub unanswered_validations: u64,
    /// The most any honest instance kept at once, field by field.
    pub max_retained: Retained,
    /// The most block bodies any honest node's driver held at once.
    pub max_bodies: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} byz={:?} | decided {} heights in {} sim-ms, {} events, max round {}, {} crashes, {} evidence, {} flood sends, {} unanswered validations, max kept {:?}, heal→done {:?}/{} ms",
            self.config,
            self.behaviours,
            self.decided,
            self.sim_ms,
            self.events,
            self.max_round,
            self.crashes,
            self.evidence,
            self.flood_sent,
            self.unanswered_validations,
            self.max_retained,
            self.heal_to_done_ms,
            self.bound_ms
        )?;
        if self.violation.is_some() {
            for s in &self.final_states {
                write!(f, "\n  {s}")?;
            }
            write!(f, "\n  drops: {:?}", self.drops)?;
        }
        Ok(())
    }
}

// ---- the simulation ---------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Net {
    /// A message; a proposal carries its block's body.
    Msg(Message<V>),
    /// A proposal sent without its block's body (by a withholding proposer).
    NoBody(SignedProposal<V>),
    /// A commit certificate, with the decided block (block sync).
    Cert(CommitCertificate<V>),
}

impl Net {
    fn height(&self) -> Height {
        match self {
            Net::Msg(m) => m.height(),
            Net::NoBody(p) => p.proposal.height,
            Net::Cert(c) => c.height,
        }
    }
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        to: usize,
        from: usize,
        net: Net,
    },
    Timer {
        node: usize,
        epoch: u64,
        timeout: Timeout,
    },
    AppValue {
        node: usize,
        epoch: u64,
        height: Height,
    },
    AppValidate {
        node: usize,
        epoch: u64,
        height: Height,
        value: V,
    },
    Gossip,
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    Split,
    Join,
    Heal,
}

/// An event in the queue, ordered by (time, sequence number) only: earliest first, ties in
/// scheduling order.
struct Queued {
    at: Reverse<(u64, u64)>,
    event: Box<Event>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

struct SimNode {
    byzantine: bool,
    /// What it does if byzantine.
    behaviour: Behaviour,
    /// Block bodies this node's driver holds (values of this height and later).
    bodies: BTreeSet<V>,
    /// The (height, round) a flooder last flooded, and how many it sent at that height.
    flooded: (u64, u32, u64),
    up: bool,
    /// Bumped at every crash, so timers and application answers of a previous life are lost.
    epoch: u64,
    cons: Option<Node>,
    /// What survived the last crash: the last persisted safety state...
    persisted: Option<SafetyState<V>>,
    /// ...and the block store: committed heights with their certificates.
    committed: BTreeMap<Height, CommitCertificate<V>>,
    group: u8,
    /// Messages for the next height, kept (bounded) and fed after `StartHeight`, as the
    /// node's network layer does.
    next_height: Vec<Net>,
}

impl SimNode {
    fn last_committed(&self) -> Height {
        self.committed
            .keys()
            .next_back()
            .copied()
            .unwrap_or(Height(0))
    }
}

/// The simulation state of one run.
pub struct Sim {
    cfg: SimConfig,
    set: ValidatorSet,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Queued>,
    nodes: Vec<SimNode>,
    healed: bool,
    heal_at: u64,
    target: u64,
    nonce: u64,
    /// Every value ever proposed (by anyone), by height.
    proposed: BTreeSet<(u64, V)>,
    /// Proposal values seen per (height, round), for byzantine votes.
    proposed_in_round: BTreeMap<(u64, u32), Vec<V>>,
    /// Honest signatures seen: (validator, height, round, kind) -> value.
    honest_votes: BTreeMap<(usize, u64, u32, VoteKind), Option<V>>,
    honest_proposals: BTreeMap<(usize, u64, u32), Proposal<V>>,
    decisions: BTreeMap<u64, (usize, V)>,
    /// (node, height, value) an honest application validated or built.
    validated: BTreeSet<(usize, u64, V)>,
    /// (height, value) some honest application validated or built.
    validated_by_someone: BTreeSet<(u64, V)>,
    /// (height, value) an honest application rejected.
    rejected: BTreeSet<(u64, V)>,
    /// True while a certificate is being fed (its decision needs no own validation).
    feeding_certificate: bool,
    /// The value whose body came with the proposal being fed, if any.
    incoming_body: Option<V>,
    report: Report,
}

fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        rng.next_u64() % n
    }
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    p > 0.0 && (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
}

impl Sim {
    /// Builds the run: validators, the byzantine ones, the fault schedule.
    pub fn new(cfg: SimConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let set = validator_set(cfg.n);
        let mut byz: BTreeSet<usize> = BTreeSet::new();
        let planted = cfg.planted.map(|(i, _)| i);
        while byz.len() < cfg.byzantine.min(cfg.n - 1) {
            let i = below(&mut rng, cfg.n as u64) as usize;
            if Some(i) != planted {
                byz.insert(i);
            }
        }
        let behaviours: Vec<(usize, Behaviour)> = byz
            .iter()
            .map(|&i| {
                let k = below(&mut rng, cfg.behaviours.len() as u64) as usize;
                (i, cfg.behaviours[k])
            })
            .collect();
        let nodes = (0..cfg.n)
            .map(|i| SimNode {
                byzantine: byz.contains(&i),
                behaviour: behaviours
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map_or(Behaviour::Equivocate, |(_, b)| *b),
                bodies: BTreeSet::new(),
                flooded: (0, 0, 0),
                up: true,
                epoch: 0,
                cons: None,
                persisted: None,
                committed: BTreeMap::new(),
                group: 0,
                next_height: Vec::new(),
            })
            .collect();
        let config = format!(
            "n={} byz={:?} seed={} chaos={}ms loss={} dup={} delay={:?} partitions={} crashes={} planted={:?}",
            cfg.n,
            byz,
            cfg.seed,
            cfg.chaos_ms,
            cfg.loss,
            cfg.duplicate,
            cfg.delay_ms,
            cfg.partitions,
            cfg.crashes,
            cfg.planted
        );
        Sim {
            set,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            healed: false,
            heal_at: 0,
            target: 0,
            nonce: 0,
            proposed: BTreeSet::new(),
            proposed_in_round: BTreeMap::new(),
            honest_votes: BTreeMap::new(),
            honest_proposals: BTreeMap::new(),
            decisions: BTreeMap::new(),
            validated: BTreeSet::new(),
            validated_by_someone: BTreeSet::new(),
            rejected: BTreeSet::new(),
            feeding_certificate: false,
            incoming_body: None,
            report: Report {
                config,
                behaviours,
                ..Report::default()
            },
            cfg,
        }
    }

    fn at(&mut self, delay: u64, e: Event) {
        self.seq += 1;
        self.queue.push(Queued {
            at: Reverse((self.now + delay, self.seq)),
            event: Box::new(e),
        });
    }

    fn honest(&self, i: usize) -> bool {
        !self.nodes[i].byzantine
    }

    fn in_chaos(&self) -> bool {
        !self.healed
    }

    fn fail(&mut self, v: Violation) {
        if self.report.violation.is_none() {
            self.report.violation = Some(v);
        }
    }

    /// Runs to the end: a violation, or every honest validator `heights_after_heal` heights
    /// past the heal, or the liveness bound.
    pub fn run(mut self) -> Report {
        for i in 0..self.cfg.n {
            self.boot(i);
        }
        if let Some(g) = self.cfg.gossip_ms {
            self.at(g, Event::Gossip);
        }
        self.schedule_faults();
        self.at(self.cfg.chaos_ms, Event::Heal);
        while let Some(Queued {
            at: Reverse((t, _)),
            event,
        }) = self.queue.pop()
        {
            self.now = t;
            self.report.events += 1;
            self.step(*event);
            if self.report.violation.is_some() {
                break;
            }
            if self.healed {
                let reached = self.min_honest_height();
                if reached >= self.target {
                    self.report.heal_to_done_ms = Some(self.now - self.heal_at);
                    break;
                }
                if self.now > self.heal_at + self.report.bound_ms
                    || self.report.events >= self.cfg.max_events
                {
                    let v = Violation::Liveness {
                        target: self.target,
                        reached,
                        bound_ms: self.report.bound_ms,
                    };
                    self.fail(v);
                    break;
                }
            } else if self.report.events >= self.cfg.max_events {
                let v = Violation::Liveness {
                    target: 0,
                    reached: self.min_honest_height(),
                    bound_ms: 0,
                };
                self.fail(v);
                break;
            }
        }
        if self.report.violation.is_none() && self.report.heal_to_done_ms.is_none() {
            // Nothing left to happen and the target not reached: everybody is stuck.
            let v = Violation::Liveness {
                target: self.target,
                reached: self.min_honest_height(),
                bound_ms: self.report.bound_ms,
            };
            self.fail(v);
        }
        self.report.final_states = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match &n.cons {
                Some(c) => format!(
                    "v{i}{} h{} r{} {:?} locked={:?} valid={:?} signed={}",
                    if n.byzantine { " (byzantine)" } else { "" },
                    c.height().0,
                    c.round().0,
                    c.step(),
                    c.safety_state()
                        .locked
                        .as_ref()
                        .map(|l| (l.value[10..18].to_vec(), l.round.0)),
                    c.safety_state()
                        .valid
                        .as_ref()
                        .map(|l| (l.value[10..18].to_vec(), l.round.0)),
                    c.safety_state().signed.len()
                ),
                None => format!("v{i} down"),
            })
            .collect();
        if self.report.violation.is_some() && std::env::var("CUSTODY_SIM_TRACE").is_ok() {
            let h = self.min_honest_height() + 1;
            let short = |v: &Option<V>| match v {
                None => "nil".to_string(),
                Some(v) => format!("{}", v[17]),
            };
            for r in 0..=self.report.max_round {
                let mut line = format!(
                    "  h{h} r{r} proposer v{} proposed {:?}:",
                    self.set.proposer(Height(h), Round(r)),
                    self.proposed_in_round
                        .get(&(h, r))
                        .map(|l| l.iter().map(|v| v[17]).collect::<Vec<_>>())
                );
                for i in 0..self.cfg.n {
                    let pv = self.honest_votes.get(&(i, h, r, VoteKind::Prevote));
                    let pc = self.honest_votes.get(&(i, h, r, VoteKind::Precommit));
                    line += &format!(
                        " v{i}[{} {}]",
                        pv.map_or("-".into(), short),
                        pc.map_or("-".into(), short)
                    );
                }
                self.report.final_states.push(line);
            }
        }
        self.report.sim_ms = self.now;
        self.report.decided = self.min_honest_height();
        self.report
    }

    fn min_honest_height(&self) -> u64 {
        self.nodes
            .iter()
            .filter(|n| !n.byzantine)
            .map(|n| n.last_committed().0)
            .min()
            .unwrap_or(0)
    }

    fn schedule_faults(&mut self) {
        let chaos = self.cfg.chaos_ms;
        if chaos == 0 {
            return;
        }
        if self.cfg.partitions {
            for _ in 0..1 + below(&mut self.rng, 3) {
                let start = below(&mut self.rng, chaos);
                let len = 200 + below(&mut self.rng, chaos / 2 + 1);
                self.at(start, Event::Split);
                if start + len < chaos {
                    self.at(start + len, Event::Join);
                }
            }
        }
        if self.cfg.crashes {
            for _ in 0..below(&mut self.rng, self.cfg.n as u64 + 1) {
                let node = below(&mut self.rng, self.cfg.n as u64) as usize;
                let at = below(&mut self.rng, chaos);
                let down = 100 + below(&mut self.rng, 3_000);
                self.at(at, Event::Crash { node });
                if at + down < chaos {
                    self.at(at + down, Event::Restart { node });
                }
            }
        }
    }

    fn step(&mut self, e: Event) {
        match e {
            Event::Deliver { to, from, net } => {
                let n = &self.nodes[to];
                if !n.up || n.group != self.nodes[from].group {
                    return;
                }
                match net {
                    Net::Msg(_) | Net::NoBody(_) => {
                        let current = self.nodes[to].cons.as_ref().map(|c| c.height());
                        if current.map(Height::next) == Some(net.height()) {
                            let buffer = &mut self.nodes[to].next_height;
                            if buffer.len() < 20 * self.cfg.n {
                                buffer.push(net);
                            }
                        } else {
                            self.take_in(to, net);
                        }
                    }
                    Net::Cert(c) => {
                        let current = self.nodes[to].cons.as_ref().map(|c| c.height());
                        if current == Some(c.height) {
                            // Block sync brings the decided block's body along.
                            self.nodes[to].bodies.insert(c.value);
                            self.feeding_certificate = true;
                            self.feed(to, Input::CertificateReceived(c));
                            self.feeding_certificate = false;
                        }
                    }
                }
            }
            Event::Timer {
                node,
                epoch,
                timeout,
            } => {
                if self.nodes[node].up && self.nodes[node].epoch == epoch {
                    self.feed(node, Input::TimeoutElapsed(timeout));
                }
            }
            Event::AppValue {
                node,
                epoch,
                height,
            } => {
                if self.nodes[node].up && self.nodes[node].epoch == epoch {
                    let bad_rate = if self.nodes[node].byzantine {
                        0.3
                    } else if self.in_chaos() {
                        self.cfg.bad_value_rate
                    } else {
                        0.0
                    };
                    let bad = chance(&mut self.rng, bad_rate);
                    self.nonce += 1;
                    let v = make_value(height, node, self.nonce, bad);
                    self.nodes[node].bodies.insert(v);
                    if self.honest(node) {
                        self.validated.insert((node, height.0, v));
                        self.validated_by_someone.insert((height.0, v));
                    }
                    self.feed(node, Input::ValueToPropose(v));
                }
            }
            Event::AppValidate {
                node,
                epoch,
                height,
                value,
            } => {
                if self.nodes[node].up && self.nodes[node].epoch == epoch {
                    let valid = application_accepts(&value, height);
                    if self.honest(node) {
                        if valid {
                            self.validated.insert((node, height.0, value));
                            self.validated_by_someone.insert((height.0, value));
                        } else {
                            self.rejected.insert((height.0, value));
                        }
                    }
                    self.feed(node, Input::ValueValidated { value, valid });
                }
            }
            Event::Gossip => {
                self.gossip();
                if let Some(g) = self.cfg.gossip_ms {
                    self.at(g, Event::Gossip);
                }
            }
            Event::Crash { node } => {
                if self.honest(node) && self.nodes[node].up && self.in_chaos() {
                    self.crash(node);
                }
            }
            Event::Restart { node } => {
                if !self.nodes[node].up {
                    self.boot(node);
                }
            }
            Event::Split => {
                for i in 0..self.cfg.n {
                    self.nodes[i].group = (self.rng.next_u64() % 2) as u8;
                }
            }
            Event::Join => {
                for n in &mut self.nodes {
                    n.group = 0;
                }
            }
            Event::Heal => self.heal(),
        }
    }

    fn heal(&mut self) {
        self.healed = true;
        self.heal_at = self.now;
        for n in &mut self.nodes {
            n.group = 0;
        }
        for i in 0..self.cfg.n {
            if !self.nodes[i].up {
                self.boot(i);
            }
        }
        let max_committed = self
            .nodes
            .iter()
            .filter(|n| !n.byzantine)
            .map(|n| n.last_committed().0)
            .max()
            .unwrap_or(0);
        self.target = max_committed + self.cfg.heights_after_heal;
        // The bound: every height may need f rounds with a byzantine proposer, one whose
        // proposer's value the others reject or is still catching up, and one to resynchronise;
        // round r costs its three timeouts plus message delays. Rounds start where the
        // honest validators are now; gossip runs once per interval.
        let f = (self.cfg.n as u64 - 1) / 3;
        let rounds = self.cfg.heights_after_heal * (f + 3);
        let start_round = u64::from(self.report.max_round);
        let t = self.cfg.timeouts;
        let round_cost = |r: u64| {
            t.propose_ms
                + t.prevote_ms
                + t.precommit_ms
                + (t.propose_delta_ms + t.prevote_delta_ms + t.precommit_delta_ms) * r
                + 4 * self.cfg.delay_ms.1
        };
        let gossip = self.cfg.gossip_ms.unwrap_or(0);
        self.report.bound_ms = 2 * gossip + rounds * round_cost(start_round + rounds);
    }

    /// Starts (or restarts) validator `i` from what it persisted.
    fn boot(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.up = true;
        node.epoch += 1;
        let config = Config {
            timeouts: self.cfg.timeouts,
        };
        let next = node.last_committed().next();
        let outputs = match node.persisted.clone() {
            Some(s) if s.height >= next => {
                match Node::restore_with_verifier(
                    config,
                    key(i),
                    SimVerifier,
                    self.set.clone(),
                    CHAIN,
                    s,
                ) {
                    Ok((c, out)) => {
                        node.cons = Some(c);
                        Ok(out)
                    }
                    Err(e) => Err(e),
                }
            }
            _ => match Node::with_verifier(config, key(i), SimVerifier, self.set.clone(), CHAIN) {
                Ok(c) => {
                    node.cons = Some(c);
                    node.cons
                        .as_mut()
                        .map(|c| c.handle(Input::StartHeight(next)))
                        .unwrap_or(Ok(vec![]))
                }
                Err(e) => Err(e),
            },
        };
        if let (Some((bug_node, fault)), Some(c)) = (self.cfg.planted, node.cons.as_mut()) {
            if bug_node == i {
                c.inject_fault(fault);
            }
        }
        match outputs {
            Ok(out) => {
                if self.honest(i) {
                    self.check_bounds(i);
                }
                self.apply(i, out)
            }
            Err(e) => self.fail(Violation::Unexpected {
                node: i,
                error: e.to_string(),
            }),
        }
    }

    fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.up = false;
        node.cons = None;
        node.next_height.clear();
        // The driver keeps the bodies the safety record names (its proposals, the locked
        // and valid values); the others were in memory only.
        let kept: BTreeSet<V> = node
            .persisted
            .iter()
            .flat_map(|s| {
                s.signed
                    .iter()
                    .filter_map(|m| match m {
                        Message::Proposal(p) => Some(p.proposal.value),
                        Message::Vote(_) => None,
                    })
                    .chain(s.locked.iter().map(|l| l.value))
                    .chain(s.valid.iter().map(|l| l.value))
            })
            .collect();
        node.bodies.retain(|v| kept.contains(v));
        node.epoch += 1;
        self.report.crashes += 1;
        let down = 100 + below(&mut self.rng, 2_000);
        self.at(down, Event::Restart { node: i });
    }

    fn feed(&mut self, i: usize, input: Input<V>) {
        let Some(c) = self.nodes[i].cons.as_mut() else {
            return;
        };
        match c.handle(input) {
            Ok(out) => {
                let round = c.round().0;
                if self.honest(i) {
                    self.report.max_round = self.report.max_round.max(round);
                    self.check_bounds(i);
                }
                self.apply(i, out);
            }
            Err(ConsensusError::Dropped(reason)) => {
                *self.report.drops.entry(drop_name(&reason)).or_default() += 1;
            }
            Err(e) => self.fail(Violation::Unexpected {
                node: i,
                error: e.to_string(),
            }),
        }
    }

    /// Carries out validator `i`'s outputs in order, as its node would; an honest validator
    /// may crash between any two of them.
    fn apply(&mut self, i: usize, outputs: Vec<Output<V>>) {
        let honest = self.honest(i);
        let cut = if honest && self.cfg.crashes && self.in_chaos() && chance(&mut self.rng, 0.003) {
            Some(below(&mut self.rng, outputs.len() as u64 + 1) as usize)
        } else {
            None
        };
        let mut next = Vec::new();
        for (k, o) in outputs.into_iter().enumerate() {
            if cut == Some(k) {
                self.crash(i);
                return;
            }
            match o {
                Output::PersistSafety(s) => self.nodes[i].persisted = Some(s),
                Output::Broadcast(m) => {
                    self.record_proposal(&m);
                    if honest {
                        self.check_honest_signature(i, &m);
                        self.broadcast(i, Net::Msg(m), false);
                    } else {
                        self.byzantine_broadcast(i, m);
                    }
                }
                Output::ScheduleTimeout {
                    timeout,
                    duration_ms,
                } => {
                    let epoch = self.nodes[i].epoch;
                    self.at(
                        duration_ms,
                        Event::Timer {
                            node: i,
                            epoch,
                            timeout,
                        },
                    );
                }
                Output::RequestValue { height, .. } => {
                    let epoch = self.nodes[i].epoch;
                    let d = below(&mut self.rng, 4);
                    self.at(
                        d,
                        Event::AppValue {
                            node: i,
                            epoch,
                            height,
                        },
                    );
                }
                Output::ValidateValue { height, value, .. } => {
                    if self.incoming_body == Some(value) {
                        self.nodes[i].bodies.insert(value);
                    }
                    // A driver without the body cannot validate it; it does not answer.
                    if honest && !self.nodes[i].bodies.contains(&value) {
                        self.report.unanswered_validations += 1;
                        continue;
                    }
                    let epoch = self.nodes[i].epoch;
                    let d = below(&mut self.rng, 4);
                    self.at(
                        d,
                        Event::AppValidate {
                            node: i,
                            epoch,
                            height,
                            value,
                        },
                    );
                }
                Output::Decide {
                    height,
                    value,
                    certificate,
                } => {
                    self.check_decision(i, height, value, &certificate);
                    self.nodes[i].committed.insert(height, certificate);
                    self.nodes[i].bodies.retain(|v| value_height(v) > height.0);
                    next.push(Input::StartHeight(height.next()));
                }
                Output::Equivocation(e) => {
                    self.report.evidence += 1;
                    let accused = usize::from(e.validator());
                    if !e.verify(CHAIN, &self.set, &SimVerifier) || self.honest(accused) {
                        self.fail(Violation::BadEvidence { node: i, accused });
                    }
                }
            }
        }
        if cut.is_some() {
            self.crash(i);
            return;
        }
        for input in next {
            let start = matches!(input, Input::StartHeight(_));
            self.feed(i, input);
            if start {
                for net in std::mem::take(&mut self.nodes[i].next_height) {
                    self.take_in(i, net);
                }
            }
        }
    }

    /// The node's network layer: the message goes to the state machine; a proposal's body
    /// (if it came with one) is kept only if the state machine kept the proposal and asks to
    /// validate its value (see `apply`), so a flood of signed proposals cannot fill the
    /// driver's block store and push out an honest proposer's body.
    fn take_in(&mut self, i: usize, net: Net) {
        let (input, body) = match net {
            Net::Msg(m) => {
                let body = match &m {
                    Message::Proposal(p) => Some(p.proposal.value),
                    Message::Vote(_) => None,
                };
                (m.into(), body)
            }
            Net::NoBody(p) => (Input::ProposalReceived(p), None),
            Net::Cert(c) => (Input::CertificateReceived(c), None),
        };
        let outer = std::mem::replace(&mut self.incoming_body, body);
        self.feed(i, input);
        self.incoming_body = outer;
    }

    /// What honest instance `i` keeps stays within what [`Consensus::retained`] promises.
    fn check_bounds(&mut self, i: usize) {
        let Some(c) = self.nodes[i].cons.as_ref() else {
            return;
        };
        let n = self.cfg.n;
        let k = c.retained();
        let round = c.round().0 as usize;
        let rounds = round + 1 + MAX_FUTURE_ROUNDS_PER_VALIDATOR * n;
        let ok = k.rounds <= rounds
            && k.future_rounds <= MAX_FUTURE_ROUNDS_PER_VALIDATOR * n
            && k.max_proposals_in_a_round <= MAX_PROPOSALS_PER_ROUND
            && k.proposals <= MAX_PROPOSALS_PER_ROUND * k.rounds
            && k.votes <= 2 * (MAX_VALUES_PER_VOTER + n - 1) * n * k.rounds
            && k.values <= k.proposals + 2;
        self.report.max_bodies = self.report.max_bodies.max(self.nodes[i].bodies.len());
        let m = &mut self.report.max_retained;
        m.rounds = m.rounds.max(k.rounds);
        m.future_rounds = m.future_rounds.max(k.future_rounds);
        m.proposals = m.proposals.max(k.proposals);
        m.max_proposals_in_a_round = m.max_proposals_in_a_round.max(k.max_proposals_in_a_round);
        m.votes = m.votes.max(k.votes);
        m.values = m.values.max(k.values);
        if !ok {
            self.fail(Violation::Unbounded {
                node: i,
                detail: format!("round {round}: {k:?}"),
            });
        }
    }

    fn record_proposal(&mut self, m: &Message<V>) {
        if let Message::Proposal(p) = m {
            let p = &p.proposal;
            if self.proposed.insert((p.height.0, p.value)) || self.honest(p.proposer.into()) {
                let list = self
                    .proposed_in_round
                    .entry((p.height.0, p.round.0))
                    .or_default();
                if !list.contains(&p.value) {
                    list.push(p.value);
                }
            }
        }
    }

    fn check_decision(&mut self, i: usize, height: Height, value: V, cert: &CommitCertificate<V>) {
        if let Err(e) = cert.verify_for(CHAIN, &self.set, &SimVerifier, height, &value) {
            self.fail(Violation::BadCertificate {
                node: i,
                detail: e.to_string(),
            });
        }
        if !self.honest(i) {
            return;
        }
        self.report.decisions += 1;
        let h = height.0;
        // Proposed, acceptable, validated by an honest application and never rejected by
        // one; and by this validator's own application unless a certificate decided it.
        if !self.proposed.contains(&(h, value))
            || !application_accepts(&value, height)
            || !self.validated_by_someone.contains(&(h, value))
            || self.rejected.contains(&(h, value))
            || !(self.feeding_certificate || self.validated.contains(&(i, h, value)))
        {
            self.fail(Violation::Validity { node: i, height: h });
        }
        match self.decisions.get(&height.0) {
            Some(&(other, v)) if v != value => self.fail(Violation::Agreement {
                height: height.0,
                first: (other, v),
                second: (i, value),
            }),
            Some(_) => {}
            None => {
                self.decisions.insert(height.0, (i, value));
            }
        }
    }

    fn check_honest_signature(&mut self, i: usize, m: &Message<V>) {
        match m {
            Message::Vote(v) => {
                let k = (i, v.vote.height.0, v.vote.round.0, v.vote.kind);
                match self.honest_votes.get(&k) {
                    Some(old) if *old != v.vote.value => self.fail(Violation::DoubleSign {
                        node: i,
                        detail: format!("{:?} then {:?}", old, v.vote),
                    }),
                    Some(_) => {}
                    None => {
                        self.honest_votes.insert(k, v.vote.value);
                    }
                }
            }
            Message::Proposal(p) => {
                let k = (i, p.proposal.height.0, p.proposal.round.0);
                match self.honest_proposals.get(&k) {
                    Some(old) if *old != p.proposal => self.fail(Violation::DoubleSign {
                        node: i,
                        detail: format!("{:?} then {:?}", old, p.proposal),
                    }),
                    Some(_) => {}
                    None => {
                        self.honest_proposals.insert(k, p.proposal.clone());
                    }
                }
            }
        }
    }

    fn broadcast(&mut self, from: usize, net: Net, gossip: bool) {
        for to in 0..self.cfg.n {
            if to != from {
                self.send(from, to, net.clone(), gossip);
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, net: Net, gossip: bool) {
        if gossip {
            self.report.gossip_sent += 1;
        } else if let Net::Msg(m) = &net {
            // Count the heights that must be decided only, not the next one already begun.
            let beyond = self.healed && m.height().0 > self.target;
            let k = match m {
                Message::Proposal(_) => 0,
                Message::Vote(v) if v.vote.kind == VoteKind::Prevote => 1,
                Message::Vote(_) => 2,
            };
            if !beyond {
                self.report.sent[k] += 1;
            }
        }
        let chaos = self.in_chaos();
        if chaos && chance(&mut self.rng, self.cfg.loss) {
            return;
        }
        let copies = if chaos && chance(&mut self.rng, self.cfg.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let (lo, hi) = self.cfg.delay_ms;
            let d = lo + below(&mut self.rng, hi - lo + 1);
            self.at(
                d,
                Event::Deliver {
                    to,
                    from,
                    net: net.clone(),
                },
            );
        }
    }

    /// The node's gossip layer: re-send this height's messages of the last two rounds, the
    /// polka behind the valid value (so peers can accept its re-proposal, line 28), and to a
    /// peer that is behind, the certificate of the height it is at (block sync).
    fn gossip(&mut self) {
        for i in 0..self.cfg.n {
            let n = &self.nodes[i];
            let Some(c) = n.cons.as_ref().filter(|_| n.up) else {
                continue;
            };
            let round = c.round().0;
            let msgs: Vec<Message<V>> = c
                .safety_state()
                .signed
                .iter()
                .filter(|m| m.round().0 + 1 >= round)
                .cloned()
                .chain(c.polka_for_valid_value().iter().cloned().map(Message::Vote))
                .collect();
            let behaviour = n.behaviour;
            if n.byzantine && !matches!(behaviour, Behaviour::Equivocate | Behaviour::Flood) {
                // Withholders re-send what they send at all, and serve no blocks.
                for m in msgs {
                    match m {
                        Message::Vote(_) if !behaviour.sends_votes() => {}
                        _ if behaviour == Behaviour::Mute => {}
                        Message::Proposal(p) if matches!(behaviour, Behaviour::HideBody { .. }) => {
                            self.broadcast(i, Net::NoBody(p), true)
                        }
                        m => self.broadcast(i, Net::Msg(m), true),
                    }
                }
                continue;
            }
            for m in msgs {
                self.broadcast(i, Net::Msg(m), true);
            }
            // Block sync: a peer behind us gets the certificate of the height it is at.
            for to in 0..self.cfg.n {
                let behind = self.nodes[to].cons.as_ref().map(|c| c.height());
                let cert = behind
                    .and_then(|h| self.nodes[i].committed.get(&h))
                    .cloned();
                if let (true, Some(cert)) = (to != i, cert) {
                    self.send(i, to, Net::Cert(cert), true);
                }
            }
        }
    }

    /// A byzantine validator's network layer, by its [`Behaviour`].
    fn byzantine_broadcast(&mut self, i: usize, m: Message<V>) {
        let behaviour = self.nodes[i].behaviour;
        match (behaviour, &m) {
            (Behaviour::Equivocate, _) => self.equivocate(i, m),
            (Behaviour::Mute, _) => {}
            (_, Message::Vote(_)) if !behaviour.sends_votes() => {}
            (Behaviour::HideBody { .. }, Message::Proposal(p)) => {
                // Each peer gets the body with probability 1/2; byzantine peers always.
                for to in 0..self.cfg.n {
                    if to == i {
                        continue;
                    }
                    let net = if !self.honest(to) || chance(&mut self.rng, 0.5) {
                        Net::Msg(m.clone())
                    } else {
                        Net::NoBody(p.clone())
                    };
                    self.send(i, to, net, false);
                }
            }
            (Behaviour::Flood, _) => {
                self.broadcast(i, Net::Msg(m.clone()), false);
                self.flood(i, m.height(), m.round());
            }
            _ => self.broadcast(i, Net::Msg(m), false),
        }
    }

    /// A flooder's burst on entering a round: [`FLOOD_PER_ROUND`] signed proposals (at most
    /// [`FLOOD_PER_HEIGHT`] per height) to every peer, for past, current and future rounds,
    /// its own and others', fresh, invalid and other heights' values, with and without a
    /// bogus valid round, some claiming another proposer.
    fn flood(&mut self, i: usize, height: Height, round: Round) {
        let (h, r, count) = self.nodes[i].flooded;
        if (h, r) == (height.0, round.0) {
            return;
        }
        let mut count = if h == height.0 { count } else { 0 };
        let burst = FLOOD_PER_ROUND.min(FLOOD_PER_HEIGHT - count);
        count += burst;
        self.nodes[i].flooded = (height.0, round.0, count);
        let signer = key(i);
        let n = self.cfg.n as u32;
        for _ in 0..burst {
            let rn = round.0;
            let target = match below(&mut self.rng, 5) {
                0 => below(&mut self.rng, u64::from(rn) + 1) as u32,
                1 => rn,
                2 => rn + 1 + below(&mut self.rng, 3) as u32,
                3 => rn + below(&mut self.rng, 2_000) as u32,
                // A round it proposes, now or soon.
                _ => (rn..rn + n)
                    .find(|x| usize::from(self.set.proposer(height, Round(*x))) == i)
                    .unwrap_or(rn),
            };
            let known = self
                .proposed_in_round
                .get(&(height.0, target))
                .filter(|l| !l.is_empty())
                .cloned();
            self.nonce += 1;
            let value = match (below(&mut self.rng, 6), known) {
                (0, Some(l)) => l[below(&mut self.rng, l.len() as u64) as usize],
                (1, _) => make_value(Height(height.0 + 1), i, self.nonce, false),
                (2, _) => make_value(height, i, self.nonce, true),
                _ => make_value(height, i, self.nonce, false),
            };
            let valid_round = match below(&mut self.rng, 4) {
                0 if target > 0 => Some(Round(below(&mut self.rng, u64::from(target)) as u32)),
                1 => Some(Round(target + below(&mut self.rng, 3) as u32)),
                _ => None,
            };
            let proposer = if chance(&mut self.rng, 0.1) {
                below(&mut self.rng, u64::from(n)) as u16
            } else {
                i as u16
            };
            let proposal = Proposal {
                height,
                round: Round(target),
                value,
                valid_round,
                proposer,
            };
            let signature = signer.sign(&proposal.sign_bytes(CHAIN));
            let m = Message::Proposal(SignedProposal {
                proposal,
                signature,
            });
            self.record_proposal(&m);
            for to in 0..self.cfg.n {
                if to != i {
                    self.report.flood_sent += 1;
                    self.send(i, to, Net::Msg(m.clone()), false);
                }
            }
        }
        for _ in 0..FLOOD_VOTES_PER_ROUND {
            let rn = round.0;
            let target = match below(&mut self.rng, 3) {
                0 => below(&mut self.rng, u64::from(rn) + 1) as u32,
                1 => rn + 1 + below(&mut self.rng, 4) as u32,
                _ => rn + below(&mut self.rng, 100_000) as u32,
            };
            let kind = if chance(&mut self.rng, 0.5) {
                VoteKind::Prevote
            } else {
                VoteKind::Precommit
            };
            let vote = Vote {
                height,
                round: Round(target),
                kind,
                value: None,
                validator: i as u16,
            };
            let value = self.other_value(&vote);
            let vote = Vote { value, ..vote };
            let signature = signer.sign(&vote.sign_bytes(CHAIN));
            let m = Message::Vote(SignedVote { vote, signature });
            for to in 0..self.cfg.n {
                if to != i {
                    self.report.flood_sent += 1;
                    self.send(i, to, Net::Msg(m.clone()), false);
                }
            }
        }
    }

    /// An equivocator's network layer: it signs a conflicting twin of most messages and
    /// sends each peer one or the other (sometimes both), and now and then votes in rounds
    /// ahead.
    fn equivocate(&mut self, i: usize, m: Message<V>) {
        let signer = key(i);
        let twin = match &m {
            Message::Proposal(sp) if chance(&mut self.rng, 0.7) => {
                self.nonce += 1;
                let bad = chance(&mut self.rng, 0.3);
                let proposal = Proposal {
                    value: make_value(sp.proposal.height, i, self.nonce, bad),
                    valid_round: None,
                    ..sp.proposal.clone()
                };
                let signature = signer.sign(&proposal.sign_bytes(CHAIN));
                let twin = Message::Proposal(SignedProposal {
                    proposal,
                    signature,
                });
                self.record_proposal(&twin);
                Some(twin)
            }
            Message::Vote(sv) if chance(&mut self.rng, 0.7) => {
                let value = self.other_value(&sv.vote);
                let vote = Vote {
                    value,
                    ..sv.vote.clone()
                };
                let signature = signer.sign(&vote.sign_bytes(CHAIN));
                Some(Message::Vote(SignedVote { vote, signature }))
            }
            _ => None,
        };
        for to in 0..self.cfg.n {
            if to == i {
                continue;
            }
            match &twin {
                None => self.send(i, to, Net::Msg(m.clone()), false),
                Some(t) => match below(&mut self.rng, 5) {
                    0 | 1 => self.send(i, to, Net::Msg(m.clone()), false),
                    2 | 3 => self.send(i, to, Net::Msg(t.clone()), false),
                    _ => {
                        self.send(i, to, Net::Msg(m.clone()), false);
                        self.send(i, to, Net::Msg(t.clone()), false);
                    }
                },
            }
        }
        if let Message::Vote(sv) = &m {
            if chance(&mut self.rng, 0.1) {
                let round = Round(sv.vote.round.0 + 1 + below(&mut self.rng, 2) as u32);
                let kind = if chance(&mut self.rng, 0.5) {
                    VoteKind::Prevote
                } else {
                    VoteKind::Precommit
                };
                let vote = Vote {
                    round,
                    kind,
                    value: None,
                    ..sv.vote.clone()
                };
                let signature = signer.sign(&vote.sign_bytes(CHAIN));
                let msg = Message::Vote(SignedVote { vote, signature });
                for to in 0..self.cfg.n {
                    if to != i && chance(&mut self.rng, 0.5) {
                        self.send(i, to, Net::Msg(msg.clone()), false);
                    }
                }
            }
        }
    }

    /// A value different from `vote.value` for a byzantine twin vote: nil, or another value
    /// proposed in that round.
    fn other_value(&mut self, vote: &Vote<V>) -> Option<V> {
        let candidates: Vec<Option<V>> = std::iter::once(None)
            .chain(
                self.proposed_in_round
                    .get(&(vote.height.0, vote.round.0))
                    .into_iter()
                    .flatten()
                    .map(|v| Some(*v)),
            )
            .filter(|v| *v != vote.value)
            .collect();
        let k = below(&mut self.rng, candidates.len() as u64) as usize;
        candidates.get(k).copied().flatten()
    }
}

/// Runs one configuration.
pub fn run(cfg: SimConfig) -> Report {
    Sim::new(cfg).run()
}
