//! The consensus driver: one thread that owns the state machine and carries out its
//! outputs in order — persist the safety record, then send; schedule timers; build a block
//! from the mempool when asked for a value; validate proposed blocks with the ledger rules;
//! commit decided blocks. It starts a height only when there is something to decide (a
//! pending transaction, or a peer already working on that height), so an idle chain makes
//! no empty blocks.
//!
//! What a faulty validator can send it is bounded: its inbox is bounded in bytes; a block
//! body is kept only for a proposal the state machine accepted from its round's proposer
//! ([`ProposalBodies`]); a body that has not arrived is *unknown* — fetched point to point,
//! never judged invalid; messages for heights ahead are kept only a few heights ahead and
//! within a byte budget per validator; a validator that is behind catches up by block sync,
//! never by blocks re-broadcast to everyone. A certified block that does not apply, or the
//! state machine refusing the node's own input, stops the driver with an error: the node
//! must not serve stale state as current.

use crate::consensus_driver::bodies::ProposalBodies;
use crate::consensus_driver::future::FutureMessages;
use crate::consensus_driver::gossip::{BodySink, Gossip};
use crate::consensus_driver::inbox::{Event, Inbox};
use crate::consensus_driver::safety_wal::{SafetyWal, WalError};
use crate::consensus_driver::suspects::Suspects;
use crate::consensus_driver::wire::ConsensusMessage;
use crate::node::{BlockOutcome, ConsensusStatus, InvalidBlock, Node};
use crate::storage::{KvBackend, StorageError};
use custody_consensus::{
    CommitCertificate, Config, Consensus, ConsensusError, Ed25519Verifier, Height, Input, Message,
    Output, Round, SafetyState, Timeout, Timeouts,
};
use custody_ledger::block::Block;
use custody_ledger::hash::Hash32;
use ed25519_dalek::SigningKey;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The driver stopped: the node must stop too.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The safety record could not be written or read.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The state machine could not be built (key not a validator, corrupt safety record),
    /// or it refused an input of the node's own: a bug, so the node stops.
    #[error(transparent)]
    Consensus(#[from] ConsensusError),
    /// A decided block is not known here.
    #[error("block {0} was decided but its body is unknown")]
    MissingBlock(Hash32),
    /// A block certified by 2f+1 validators does not apply to this node's state: a bug, a
    /// corrupted data folder, or a faulty majority. Serving this state as current would be
    /// wrong, so the node stops.
    #[error("the certified block at height {height} does not apply here ({reason}): this node's state diverges from the chain's")]
    Diverged {
        /// The block's height.
        height: u64,
        /// Why it does not apply.
        reason: String,
    },
    /// The thread could not be started.
    #[error("starting the consensus thread: {0}")]
    Thread(std::io::Error),
}

/// Tuning of the driver.
#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// How often the current height's signed messages are sent again (peers may have
    /// missed them; proposals go without their bodies), milliseconds.
    pub regossip_ms: u64,
    /// Most bytes of peers' messages waiting to be handled.
    pub max_inbox_bytes: usize,
    /// Most bytes of messages kept for heights above ours, shared equally among the
    /// validators (one faulty validator fills only its share).
    pub max_future_bytes: usize,
    /// Messages are kept for at most this many heights above ours; a node further behind
    /// catches up by block sync.
    pub max_future_heights: u64,
    /// Most bytes of proposed block bodies kept that nothing depends on yet (see
    /// [`ProposalBodies`]).
    pub max_body_bytes: usize,
    /// Longest wait for each step, milliseconds, in the rounds of a proposer whose last
    /// turn failed (see `suspects.rs`); 0 waits the chain's full timeouts.
    pub suspect_timeout_ms: u64,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            regossip_ms: 1_000,
            max_inbox_bytes: 64 * 1024 * 1024,
            max_future_bytes: 32 * 1024 * 1024,
            max_future_heights: 4,
            max_body_bytes: 32 * 1024 * 1024,
            suspect_timeout_ms: 40,
        }
    }
}

/// Feeds the driver; cheap to clone.
#[derive(Clone)]
pub struct DriverHandle {
    inbox: Arc<Inbox>,
    bodies: Arc<ProposalBodies>,
}

impl DriverHandle {
    /// Hands in a message from a peer (already decoded). False if the inbox had no room
    /// for it (it is dropped; peers re-send what liveness needs).
    pub fn deliver(&self, msg: ConsensusMessage) -> bool {
        let bytes = msg.cost_bytes();
        self.inbox.push_message(msg, bytes)
    }

    /// Hands in a block body a peer sent on request.
    pub fn deliver_body(&self, block: Block) -> bool {
        let bytes = block.encoded_len();
        self.inbox.push_body(block, bytes)
    }

    /// The body of a block proposed at the current height, if this validator has it (to
    /// serve a peer that asks).
    pub fn proposal_body(&self, value: &Hash32) -> Option<Arc<Block>> {
        self.bodies.get(value)
    }

    /// Asks the driver to stop after the event it is handling.
    pub fn shutdown(&self) {
        self.inbox.shutdown();
    }
}

/// The consensus timeouts a genesis asks for.
pub fn config_from(params: &custody_ledger::genesis::ChainParams) -> Config {
    Config {
        timeouts: Timeouts {
            propose_ms: params.timeout_propose_ms,
            propose_delta_ms: params.timeout_delta_ms,
            prevote_ms: params.timeout_prevote_ms,
            prevote_delta_ms: params.timeout_delta_ms,
            precommit_ms: params.timeout_precommit_ms,
            precommit_delta_ms: params.timeout_delta_ms,
        },
    }
}

/// Starts the driver thread for validator `key`. On start it reads the safety record: if
/// it is for the height after the last committed block, the validator rejoins that height
/// and round exactly where it was (re-sending what it had signed, never signing anything
/// conflicting).
pub fn spawn<B: KvBackend>(
    node: Arc<Node<B>>,
    key: SigningKey,
    wal: SafetyWal,
    gossip: Arc<dyn Gossip>,
    options: DriverOptions,
) -> Result<(DriverHandle, JoinHandle<Result<(), DriverError>>), DriverError> {
    let genesis = node.genesis();
    let set = genesis
        .validator_set()
        .ok_or(ConsensusError::CorruptSafetyState(
            "genesis has no valid validator set".into(),
        ))?;
    let config = config_from(&genesis.params);
    let chain_id = genesis.chain_id.clone();
    let (next, _, _) = node.next_height()?;
    let (consensus, restored) = match wal.load()? {
        Some(state) if state.height.0 == next => {
            tracing::info!(
                height = next,
                round = state.round.0,
                "rejoining from the safety record"
            );
            let (c, outputs) = Consensus::restore(config, key, set, chain_id, state)?;
            (c, Some(outputs))
        }
        Some(state) if state.height.0 > next => {
            return Err(ConsensusError::CorruptSafetyState(format!(
                "the safety record is for height {} but the chain's next height is {next}",
                state.height
            ))
            .into())
        }
        _ => (Consensus::new(config, key, set, chain_id)?, None),
    };
    let future = FutureMessages::new(
        options.max_future_bytes,
        consensus.validator_set().len(),
        options.max_future_heights,
    );
    let inbox = Arc::new(Inbox::new(options.max_inbox_bytes));
    let bodies = Arc::new(ProposalBodies::new(options.max_body_bytes));
    bodies.reset(next);
    let handle = DriverHandle {
        inbox: Arc::clone(&inbox),
        bodies: Arc::clone(&bodies),
    };
    let wake = Arc::clone(&inbox);
    node.on_admit(Box::new(move || wake.tx_admitted()));
    let sink_handle = handle.clone();
    let sink: BodySink = Arc::new(move |block| {
        sink_handle.deliver_body(block);
    });
    let mut driver = Driver {
        node,
        consensus,
        wal,
        gossip,
        options,
        started: restored.is_some(),
        timers: BinaryHeap::new(),
        timer_seq: 0,
        bodies,
        arriving: None,
        validated: HashMap::new(),
        awaiting: HashMap::new(),
        future,
        kept_bodies: Vec::new(),
        sink,
        suspects: Suspects::default(),
    };
    if restored.is_some() {
        // The blocks the restored state names (our proposals, locked and valid values).
        for block in driver.wal.load_blocks()? {
            if block.header.height == next {
                let block = Arc::new(block);
                driver.kept_bodies.push(block.hash());
                driver.bodies.insert(block, true);
            }
        }
        driver.kept_bodies.sort();
    }
    let thread = std::thread::Builder::new()
        .name("consensus".into())
        .spawn(move || {
            if let Some(outputs) = restored {
                let mut queue = VecDeque::new();
                for o in outputs {
                    driver.carry_out(o, &mut queue)?;
                }
                driver.run_queue(queue)?;
            }
            driver.run(&inbox)
        })
        .map_err(DriverError::Thread)?;
    Ok((handle, thread))
}

/// A proposed value the state machine asked us to validate whose body has not arrived.
struct Awaited {
    round: Round,
    asked: Instant,
}

struct Driver<B: KvBackend> {
    node: Arc<Node<B>>,
    consensus: Consensus<Hash32, SigningKey>,
    wal: SafetyWal,
    gossip: Arc<dyn Gossip>,
    options: DriverOptions,
    /// Whether the state machine has been started at the next height.
    started: bool,
    timers: BinaryHeap<Reverse<(Instant, u64, Timeout)>>,
    timer_seq: u64,
    /// Bodies of blocks proposed at the current height, by hash.
    bodies: Arc<ProposalBodies>,
    /// The body that came with the proposal being handed to the state machine: kept only
    /// if the state machine accepts the proposal (or we were waiting for it).
    arriving: Option<Block>,
    /// Changes of blocks we built or validated at the current height.
    validated: HashMap<Hash32, BlockOutcome>,
    /// Values to validate whose bodies are being fetched.
    awaiting: HashMap<Hash32, Awaited>,
    /// Messages for heights above ours.
    future: FutureMessages,
    /// Hashes of the block bodies last made durable with the safety record.
    kept_bodies: Vec<Hash32>,
    /// Where fetched bodies go (our own inbox).
    sink: BodySink,
    /// Proposers whose last turn failed: their rounds wait less.
    suspects: Suspects,
}

impl<B: KvBackend> Driver<B> {
    fn run(mut self, inbox: &Inbox) -> Result<(), DriverError> {
        let regossip = Duration::from_millis(self.options.regossip_ms.max(10));
        let mut next_regossip = Instant::now() + regossip;
        loop {
            let mut deadline = next_regossip;
            if let Some(Reverse((at, _, _))) = self.timers.peek() {
                deadline = deadline.min(*at);
            }
            match inbox.next(deadline) {
                Some(Event::Shutdown) => return Ok(()),
                Some(Event::TxAdmitted) if !self.started => {
                    let mut queue = VecDeque::new();
                    self.start_next_height(&mut queue)?;
                    self.run_queue(queue)?;
                }
                Some(Event::TxAdmitted) => {}
                Some(Event::Message(m)) => self.on_message(m)?,
                Some(Event::Body(b)) => self.on_body(b)?,
                None => {}
            }
            let now = Instant::now();
            while let Some(Reverse((at, _, t))) = self.timers.peek().copied() {
                if at > now {
                    break;
                }
                self.timers.pop();
                self.run_queue(VecDeque::from([Input::TimeoutElapsed(t)]))?;
            }
            if now >= next_regossip {
                self.regossip();
                next_regossip = now + regossip;
            }
        }
    }

    /// Publishes where consensus is, for the API.
    fn publish_status(&self) {
        let step = if self.started {
            format!("{:?}", self.consensus.step()).to_lowercase()
        } else {
            "idle".into()
        };
        let height = match self.node.next_height() {
            Ok((h, _, _)) => h,
            Err(_) => self.consensus.height().0,
        };
        self.node.set_consensus_status(ConsensusStatus {
            height,
            round: if self.started {
                self.consensus.round().0
            } else {
                0
            },
            step,
        });
    }

    /// Feeds inputs (and the inputs their outputs lead to) until none is left.
    fn run_queue(&mut self, queue: VecDeque<Input<Hash32>>) -> Result<(), DriverError> {
        let r = self.run_inputs(queue);
        self.publish_status();
        r
    }

    fn run_inputs(&mut self, mut queue: VecDeque<Input<Hash32>>) -> Result<(), DriverError> {
        while let Some(input) = queue.pop_front() {
            let proposed = match &input {
                Input::ProposalReceived(p) => Some(p.proposal.value),
                _ => None,
            };
            let arriving = if proposed.is_some() {
                self.arriving.take()
            } else {
                None
            };
            let result = self.consensus.handle(input);
            if let (Some(value), Some(block)) = (proposed, arriving) {
                // Keep the body only for a proposal the state machine took (from that
                // round's proposer, within its bounds), or one we are waiting for.
                let awaited = self.awaiting.contains_key(&value);
                if result.is_ok() || awaited {
                    self.bodies.insert(Arc::new(block), awaited);
                }
                if awaited {
                    self.body_arrived(value, &mut queue)?;
                }
            }
            let outputs = match result {
                Ok(o) => o,
                Err(ConsensusError::Dropped(reason)) => {
                    tracing::debug!(%reason, "consensus input dropped");
                    continue;
                }
                // Not a peer's message but our own input: a bug. Stop rather than carry on
                // with a state machine that disagrees with the driver.
                Err(e) => {
                    tracing::error!(error = %e, "the consensus state machine refused the node's own input");
                    return Err(e.into());
                }
            };
            for o in outputs {
                self.carry_out(o, &mut queue)?;
            }
        }
        Ok(())
    }

    /// Carries out one output. Order matters: a `PersistSafety` is durable before the
    /// broadcasts that follow it are sent.
    fn carry_out(
        &mut self,
        output: Output<Hash32>,
        queue: &mut VecDeque<Input<Hash32>>,
    ) -> Result<(), DriverError> {
        match output {
            Output::PersistSafety(state) => {
                self.keep_bodies(&state)?;
                self.wal.persist(&state)?;
            }
            Output::Broadcast(m) => self.send(&m, true),
            Output::ScheduleTimeout {
                timeout,
                duration_ms,
            } => {
                let short = self.options.suspect_timeout_ms;
                let suspected = short > 0
                    && self.suspects.proposer_suspected(
                        self.consensus.validator_set(),
                        timeout.height,
                        timeout.round,
                    );
                let duration_ms = if suspected {
                    duration_ms.min(short)
                } else {
                    duration_ms
                };
                self.timer_seq += 1;
                let at = Instant::now() + Duration::from_millis(duration_ms);
                self.timers.push(Reverse((at, self.timer_seq, timeout)));
            }
            Output::RequestValue { height, .. } => {
                let (block, changes) = self.node.build_block(self.consensus.validator_index())?;
                if block.header.height != height.0 {
                    tracing::error!(
                        asked = height.0,
                        built = block.header.height,
                        "height mismatch"
                    );
                    return Ok(());
                }
                let hash = block.hash();
                self.bodies.insert(Arc::new(block), true);
                self.validated.insert(hash, changes);
                queue.push_back(Input::ValueToPropose(hash));
            }
            Output::ValidateValue { value, round, .. } => match self.validate(&value)? {
                Some(valid) => queue.push_back(Input::ValueValidated { value, valid }),
                // Unknown, not invalid: fetch it and answer when it comes. Until then the
                // state machine does not prevote for it (the round times out if it never
                // comes).
                None => {
                    tracing::debug!(%value, round = round.0, "proposed block's body not here; fetching it");
                    self.awaiting.insert(
                        value,
                        Awaited {
                            round,
                            asked: Instant::now(),
                        },
                    );
                    self.fetch(value, round);
                }
            },
            Output::Decide {
                height,
                value,
                certificate,
            } => {
                self.decide(height, value, certificate)?;
                self.start_next_height_if_due(queue)?;
            }
            Output::Equivocation(evidence) => {
                tracing::warn!(
                    ?evidence,
                    "equivocation: a validator signed conflicting messages"
                );
                self.node.note_equivocation(evidence);
            }
        }
        Ok(())
    }

    /// Asks peers for the body of `value`, proposed in `round` (its proposer first).
    fn fetch(&self, value: Hash32, round: Round) {
        let set = self.consensus.validator_set();
        let height = self.consensus.height();
        let proposer = set.get(set.proposer(height, round)).map(|v| v.public_key);
        self.gossip
            .fetch_body(height.0, value, proposer, Arc::clone(&self.sink));
    }

    /// A fetched body: if we are waiting for it (its hash is what was proposed), validate it
    /// and give the state machine its answer.
    fn on_body(&mut self, block: Block) -> Result<(), DriverError> {
        let value = block.hash();
        if !self.started
            || block.header.height != self.consensus.height().0
            || !self.awaiting.contains_key(&value)
        {
            return Ok(());
        }
        self.bodies.insert(Arc::new(block), true);
        let mut queue = VecDeque::new();
        self.body_arrived(value, &mut queue)?;
        self.run_queue(queue)
    }

    /// The body of an awaited value is now kept: answer the pending validation.
    fn body_arrived(
        &mut self,
        value: Hash32,
        queue: &mut VecDeque<Input<Hash32>>,
    ) -> Result<(), DriverError> {
        if !self.bodies.contains(&value) || self.awaiting.remove(&value).is_none() {
            return Ok(());
        }
        if let Some(valid) = self.validate(&value)? {
            queue.push_back(Input::ValueValidated { value, valid });
        }
        Ok(())
    }

    /// Makes durable the bodies of the blocks the safety state names (our proposals, the
    /// locked and valid values), before the state itself, when they changed.
    fn keep_bodies(&mut self, state: &SafetyState<Hash32>) -> Result<(), DriverError> {
        let mut wanted: Vec<Hash32> = state
            .signed
            .iter()
            .filter_map(|m| match m {
                Message::Proposal(p) => Some(p.proposal.value),
                Message::Vote(_) => None,
            })
            .chain(state.locked.iter().map(|l| l.value))
            .chain(state.valid.iter().map(|v| v.value))
            .collect();
        wanted.sort();
        wanted.dedup();
        wanted.retain(|h| self.bodies.contains(h));
        if wanted == self.kept_bodies {
            return Ok(());
        }
        let bodies: Vec<Block> = wanted
            .iter()
            .filter_map(|h| {
                self.bodies.pin(h);
                self.bodies.get(h).map(|b| (*b).clone())
            })
            .collect();
        self.wal.persist_blocks(&bodies)?;
        self.kept_bodies = wanted;
        Ok(())
    }

    /// `Some(valid)` once the body is here; `None` while it is unknown.
    fn validate(&mut self, value: &Hash32) -> Result<Option<bool>, DriverError> {
        if self.validated.contains_key(value) {
            return Ok(Some(true));
        }
        let Some(block) = self.bodies.get(value) else {
            return Ok(None);
        };
        match self.node.validate_block(&block) {
            Ok(changes) => {
                self.validated.insert(*value, changes);
                self.bodies.pin(value);
                Ok(Some(true))
            }
            Err(InvalidBlock::Storage(e)) => Err(e.into()),
            Err(e) => {
                tracing::warn!(%value, error = %e, "proposed block is invalid");
                self.bodies.remove(value);
                Ok(Some(false))
            }
        }
    }

    fn decide(
        &mut self,
        height: Height,
        value: Hash32,
        certificate: CommitCertificate<Hash32>,
    ) -> Result<(), DriverError> {
        let block = self
            .bodies
            .get(&value)
            .ok_or(DriverError::MissingBlock(value))?;
        let changes = match self.validated.remove(&value) {
            Some(c) => c,
            // Decided by a certificate from block sync: 2f+1 validators checked it when they
            // voted, so only what does not depend on our clock is checked again.
            None => match self.node.validate_certified_block(&block) {
                Ok(c) => c,
                Err(InvalidBlock::Storage(e)) => return Err(e.into()),
                // A quorum decided it: our view must be wrong. Stop rather than fork.
                Err(e) => {
                    tracing::error!(height = height.0, error = %e, "a certified block does not apply here");
                    return Err(DriverError::Diverged {
                        height: height.0,
                        reason: e.to_string(),
                    });
                }
            },
        };
        let c = self.node.commit(&block, &certificate, &changes)?;
        let me = self.consensus.validator_index();
        self.suspects.decided(
            self.consensus.validator_set(),
            me,
            height,
            certificate.round,
        );
        tracing::info!(
            height = c.height,
            txs = c.txs,
            events = c.events,
            round = certificate.round.0,
            "block committed"
        );
        self.bodies.reset(height.0 + 1);
        self.validated.clear();
        self.awaiting.clear();
        self.arriving = None;
        self.started = false;
        Ok(())
    }

    /// Starts the next height if there is work for it: pending transactions, or peers
    /// already at it or beyond.
    fn start_next_height_if_due(
        &mut self,
        queue: &mut VecDeque<Input<Hash32>>,
    ) -> Result<(), DriverError> {
        let (next, _, _) = self.node.next_height()?;
        // Peers at this height or beyond: we are behind, keep going.
        let peers_ahead = self.future.any_from(next);
        if self.node.mempool_len() > 0 || peers_ahead {
            self.start_next_height(queue)?;
        }
        Ok(())
    }

    fn start_next_height(
        &mut self,
        queue: &mut VecDeque<Input<Hash32>>,
    ) -> Result<(), DriverError> {
        let (next, _, _) = self.node.next_height()?;
        self.started = true;
        self.bodies.reset(next);
        queue.push_back(Input::StartHeight(Height(next)));
        // Messages that arrived early for this height; those for heights passed are gone.
        let early = self.future.take(next);
        for m in early {
            if let Some(input) = self.take_in(m) {
                queue.push_back(input);
            }
        }
        Ok(())
    }

    /// Turns a message for the current height into an input. A proposal's body waits in
    /// `arriving` until the state machine has accepted the proposal.
    fn take_in(&mut self, m: ConsensusMessage) -> Option<Input<Hash32>> {
        let set = self.consensus.validator_set();
        match m {
            ConsensusMessage::Proposal { proposal, block } => {
                let p = &proposal.proposal;
                if p.proposer != set.proposer(p.height, p.round) {
                    return None;
                }
                self.arriving = Some(block);
                Some(Input::ProposalReceived(proposal))
            }
            ConsensusMessage::ProposalHeader(proposal) => {
                let p = &proposal.proposal;
                if p.proposer != set.proposer(p.height, p.round) {
                    return None;
                }
                Some(Input::ProposalReceived(proposal))
            }
            ConsensusMessage::Vote(v) => Some(Input::VoteReceived(v)),
            ConsensusMessage::Decided { certificate, block } => {
                let chain = self.node.genesis().chain_id.as_str();
                if let Err(e) = certificate.verify(chain, set, &Ed25519Verifier) {
                    tracing::warn!(error = %e, "a decided block came with a bad certificate");
                    return None;
                }
                self.bodies.insert(Arc::new(block), true);
                Some(Input::CertificateReceived(certificate))
            }
        }
    }

    fn on_message(&mut self, m: ConsensusMessage) -> Result<(), DriverError> {
        let (next, _, _) = self.node.next_height()?;
        let h = m.height();
        if h < next {
            // Stale: the sender catches up by block sync.
            return Ok(());
        }
        if h > next {
            // We are behind, or it is early. Keep it (bounded), and take part in our height
            // so peers see where we are.
            let (h, author) = (m.height(), m.author());
            if !self.future.keep(m, next) {
                tracing::debug!(
                    height = h,
                    next,
                    ?author,
                    "early message past its window or share; dropped"
                );
            }
            if !self.started {
                let mut queue = VecDeque::new();
                self.start_next_height(&mut queue)?;
                self.run_queue(queue)?;
            }
            return Ok(());
        }
        let mut queue = VecDeque::new();
        if !self.started {
            self.start_next_height(&mut queue)?;
        }
        if let Some(input) = self.take_in(m) {
            queue.push_back(input);
        }
        self.run_queue(queue)
    }

    /// Sends a signed message: a proposal with its block when `with_body` (and we have it),
    /// else only the signed proposal.
    fn send(&self, m: &Message<Hash32>, with_body: bool) {
        match m {
            Message::Vote(v) => self.gossip.broadcast(&ConsensusMessage::Vote(v.clone())),
            Message::Proposal(p) => match self.bodies.get(&p.proposal.value) {
                Some(block) if with_body => self.gossip.broadcast(&ConsensusMessage::Proposal {
                    proposal: p.clone(),
                    block: (*block).clone(),
                }),
                Some(_) => self
                    .gossip
                    .broadcast(&ConsensusMessage::ProposalHeader(p.clone())),
                // Our own proposal from before a restart: its body was not kept. Peers
                // cannot validate it and will prevote nil; that is safe.
                None => {
                    tracing::warn!(value = %p.proposal.value, "not re-sending a proposal whose block is gone")
                }
            },
        }
    }

    /// Sends again what liveness needs peers to have seen — our signed messages of the
    /// current height (proposals without their bodies: a peer that lacks one fetches it)
    /// and the polka behind our valid value — and asks again for bodies still missing.
    fn regossip(&mut self) {
        if !self.started {
            return;
        }
        let state = self.consensus.safety_state();
        for m in &state.signed {
            self.send(m, false);
        }
        for v in self.consensus.polka_for_valid_value() {
            self.gossip.broadcast(&ConsensusMessage::Vote(v.clone()));
        }
        let now = Instant::now();
        let again: Vec<(Hash32, Round)> = self
            .awaiting
            .iter_mut()
            .filter(|(_, a)| now.duration_since(a.asked) >= Duration::from_millis(500))
            .map(|(v, a)| {
                a.asked = now;
                (*v, a.round)
            })
            .collect();
        for (value, round) in again {
            self.fetch(value, round);
        }
    }
}
