//! The consensus driver: one thread that owns the state machine and carries out its
//! outputs in order — persist the safety record, then send; schedule timers; build a block
//! from the mempool when asked for a value; validate proposed blocks with the ledger rules;
//! commit decided blocks. It starts a height only when there is something to decide (a
//! pending transaction, or a peer already working on that height), so an idle chain makes
//! no empty blocks.

use crate::consensus_driver::gossip::Gossip;
use crate::consensus_driver::safety_wal::{SafetyWal, WalError};
use crate::consensus_driver::wire::ConsensusMessage;
use crate::node::{BlockOutcome, ConsensusStatus, InvalidBlock, Node};
use crate::storage::{KvBackend, StorageError};
use custody_consensus::{
    CommitCertificate, Config, Consensus, ConsensusError, Ed25519Verifier, Height, Input, Message,
    Output, SafetyState, Timeout, Timeouts,
};
use custody_ledger::block::Block;
use custody_ledger::hash::Hash32;
use ed25519_dalek::SigningKey;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::mpsc::{self, RecvTimeoutError};
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
    /// The state machine could not be built (key not a validator, corrupt safety record).
    #[error(transparent)]
    Consensus(#[from] ConsensusError),
    /// A decided block is not known here.
    #[error("block {0} was decided but its body is unknown")]
    MissingBlock(Hash32),
    /// The thread could not be started.
    #[error("starting the consensus thread: {0}")]
    Thread(std::io::Error),
}

/// Tuning of the driver.
#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// How often the current height's signed messages are sent again (peers may have
    /// missed them), milliseconds.
    pub regossip_ms: u64,
    /// Most messages kept for heights above ours.
    pub max_future_messages: usize,
    /// Most proposed block bodies kept for the current height.
    pub max_block_bodies: usize,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            regossip_ms: 1_000,
            max_future_messages: 1_000,
            max_block_bodies: 16,
        }
    }
}

enum DriverEvent {
    TxAdmitted,
    Message(Box<ConsensusMessage>),
    Shutdown,
}

/// Feeds the driver; cheap to clone.
#[derive(Clone)]
pub struct DriverHandle {
    tx: mpsc::Sender<DriverEvent>,
}

impl DriverHandle {
    /// Hands in a message from a peer (already decoded).
    pub fn deliver(&self, msg: ConsensusMessage) {
        let _ = self.tx.send(DriverEvent::Message(Box::new(msg)));
    }

    /// Asks the driver to stop after the event it is handling.
    pub fn shutdown(&self) {
        let _ = self.tx.send(DriverEvent::Shutdown);
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
    let (tx, rx) = mpsc::channel();
    let wake = tx.clone();
    node.on_admit(Box::new(move || {
        let _ = wake.send(DriverEvent::TxAdmitted);
    }));
    let mut driver = Driver {
        node,
        consensus,
        wal,
        gossip,
        options,
        started: restored.is_some(),
        timers: BinaryHeap::new(),
        timer_seq: 0,
        blocks: HashMap::new(),
        validated: HashMap::new(),
        future: VecDeque::new(),
        decided_sent: HashMap::new(),
        kept_bodies: Vec::new(),
    };
    if restored.is_some() {
        // The blocks the restored state names (our proposals, locked and valid values).
        for block in driver.wal.load_blocks()? {
            if block.header.height == next {
                let hash = block.hash();
                driver.kept_bodies.push(hash);
                driver.blocks.insert(hash, block);
            }
        }
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
            driver.run(rx)
        })
        .map_err(DriverError::Thread)?;
    Ok((DriverHandle { tx }, thread))
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
    blocks: HashMap<Hash32, Block>,
    /// Changes of blocks we built or validated at the current height.
    validated: HashMap<Hash32, BlockOutcome>,
    /// Messages for heights above ours, oldest first.
    future: VecDeque<ConsensusMessage>,
    /// When we last sent a behind peer the decided block of a height.
    decided_sent: HashMap<u64, Instant>,
    /// Hashes of the block bodies last made durable with the safety record.
    kept_bodies: Vec<Hash32>,
}

impl<B: KvBackend> Driver<B> {
    fn run(mut self, rx: mpsc::Receiver<DriverEvent>) -> Result<(), DriverError> {
        let regossip = Duration::from_millis(self.options.regossip_ms.max(10));
        let mut next_regossip = Instant::now() + regossip;
        loop {
            let now = Instant::now();
            let mut deadline = next_regossip;
            if let Some(Reverse((at, _, _))) = self.timers.peek() {
                deadline = deadline.min(*at);
            }
            match rx.recv_timeout(deadline.saturating_duration_since(now)) {
                Ok(DriverEvent::TxAdmitted) => {
                    if !self.started {
                        let mut queue = VecDeque::new();
                        self.start_next_height(&mut queue)?;
                        self.run_queue(queue)?;
                    }
                }
                Ok(DriverEvent::Message(m)) => self.on_message(*m)?,
                Ok(DriverEvent::Shutdown) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
                Err(RecvTimeoutError::Timeout) => {}
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
            let outputs = match self.consensus.handle(input) {
                Ok(o) => o,
                Err(ConsensusError::Dropped(reason)) => {
                    tracing::debug!(%reason, "consensus input dropped");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "consensus refused an input");
                    continue;
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
            Output::Broadcast(m) => self.send(&m),
            Output::ScheduleTimeout {
                timeout,
                duration_ms,
            } => {
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
                self.blocks.insert(hash, block);
                self.validated.insert(hash, changes);
                queue.push_back(Input::ValueToPropose(hash));
            }
            Output::ValidateValue { value, .. } => {
                let valid = self.validate(&value)?;
                queue.push_back(Input::ValueValidated { value, valid });
            }
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
        wanted.retain(|h| self.blocks.contains_key(h));
        if wanted == self.kept_bodies {
            return Ok(());
        }
        let bodies: Vec<Block> = wanted
            .iter()
            .filter_map(|h| self.blocks.get(h).cloned())
            .collect();
        self.wal.persist_blocks(&bodies)?;
        self.kept_bodies = wanted;
        Ok(())
    }

    fn validate(&mut self, value: &Hash32) -> Result<bool, DriverError> {
        if self.validated.contains_key(value) {
            return Ok(true);
        }
        let Some(block) = self.blocks.get(value) else {
            tracing::warn!(%value, "asked to validate a block whose body never arrived");
            return Ok(false);
        };
        match self.node.validate_block(block) {
            Ok(changes) => {
                self.validated.insert(*value, changes);
                Ok(true)
            }
            Err(InvalidBlock::Storage(e)) => Err(e.into()),
            Err(e) => {
                tracing::warn!(%value, error = %e, "proposed block is invalid");
                Ok(false)
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
            .blocks
            .remove(&value)
            .ok_or(DriverError::MissingBlock(value))?;
        let changes = match self.validated.remove(&value) {
            Some(c) => c,
            None => match self.node.validate_block(&block) {
                Ok(c) => c,
                Err(InvalidBlock::Storage(e)) => return Err(e.into()),
                // A quorum decided it: our view must be wrong. Stop rather than fork.
                Err(e) => {
                    tracing::error!(height = height.0, error = %e, "a decided block does not apply here");
                    return Err(DriverError::MissingBlock(value));
                }
            },
        };
        let c = self.node.commit(&block, &certificate, &changes)?;
        tracing::info!(
            height = c.height,
            txs = c.txs,
            events = c.events,
            round = certificate.round.0,
            "block committed"
        );
        self.blocks.clear();
        self.validated.clear();
        self.started = false;
        self.decided_sent.retain(|h, _| *h + 100 > height.0);
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
        let peers_ahead = self.future.iter().any(|m| m.height() >= next);
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
        queue.push_back(Input::StartHeight(Height(next)));
        // Messages that arrived early for this height.
        let early: Vec<ConsensusMessage> = {
            let (now, later): (VecDeque<_>, VecDeque<_>) =
                self.future.drain(..).partition(|m| m.height() == next);
            self.future = later.into_iter().filter(|m| m.height() > next).collect();
            now.into_iter().collect()
        };
        for m in early {
            if let Some(input) = self.take_in(m) {
                queue.push_back(input);
            }
        }
        Ok(())
    }

    /// Turns a message for the current height into an input (keeping a proposal's body).
    fn take_in(&mut self, m: ConsensusMessage) -> Option<Input<Hash32>> {
        match m {
            ConsensusMessage::Proposal { proposal, block } => {
                if self.blocks.len() < self.options.max_block_bodies {
                    self.blocks.entry(proposal.proposal.value).or_insert(block);
                }
                Some(Input::ProposalReceived(proposal))
            }
            ConsensusMessage::Vote(v) => Some(Input::VoteReceived(v)),
            ConsensusMessage::Decided { certificate, block } => {
                let set = self.consensus.validator_set();
                let chain = self.node.genesis().chain_id.as_str();
                if let Err(e) = certificate.verify(chain, set, &Ed25519Verifier) {
                    tracing::warn!(error = %e, "a decided block came with a bad certificate");
                    return None;
                }
                self.blocks.insert(certificate.value, block);
                Some(Input::CertificateReceived(certificate))
            }
        }
    }

    fn on_message(&mut self, m: ConsensusMessage) -> Result<(), DriverError> {
        let (next, _, _) = self.node.next_height()?;
        let h = m.height();
        if h < next {
            // The sender is behind: send it what was decided at its height.
            if !matches!(m, ConsensusMessage::Decided { .. }) {
                self.send_decided(h)?;
            }
            return Ok(());
        }
        if h > next {
            // We are behind, or it is early. Keep it, and take part in our height so peers
            // see where we are and send us what we missed.
            if self.future.len() >= self.options.max_future_messages {
                self.future.pop_front();
            }
            self.future.push_back(m);
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

    /// Sends a peer that is at `height` the decided blocks from there on (a run of them, so
    /// it can commit one after another without a round trip each).
    fn send_decided(&mut self, height: u64) -> Result<(), DriverError> {
        const RUN: u64 = 16;
        let now = Instant::now();
        if self
            .decided_sent
            .get(&height)
            .is_some_and(|t| now.duration_since(*t) < Duration::from_millis(500))
        {
            return Ok(());
        }
        self.decided_sent.insert(height, now);
        let store = self.node.store();
        for h in height..height + RUN {
            match (store.block(h)?, store.certificate(h)?) {
                (Some(block), Some(certificate)) => self
                    .gossip
                    .broadcast(&ConsensusMessage::Decided { certificate, block }),
                _ => break,
            }
        }
        Ok(())
    }

    fn send(&self, m: &Message<Hash32>) {
        match m {
            Message::Vote(v) => self.gossip.broadcast(&ConsensusMessage::Vote(v.clone())),
            Message::Proposal(p) => match self.blocks.get(&p.proposal.value) {
                Some(block) => self.gossip.broadcast(&ConsensusMessage::Proposal {
                    proposal: p.clone(),
                    block: block.clone(),
                }),
                // Our own proposal from before a restart: its body was not kept. Peers
                // cannot validate it and will prevote nil; that is safe.
                None => {
                    tracing::warn!(value = %p.proposal.value, "not re-sending a proposal whose block is gone")
                }
            },
        }
    }

    /// Sends again what liveness needs peers to have seen: our signed messages of the
    /// current height and the polka behind our valid value.
    fn regossip(&self) {
        if !self.started {
            return;
        }
        let state = self.consensus.safety_state();
        for m in &state.signed {
            self.send(m);
        }
        for v in self.consensus.polka_for_valid_value() {
            self.gossip.broadcast(&ConsensusMessage::Vote(v.clone()));
        }
    }
}
