//! The node's core: the committed store, the mempool and the consensus seam, wired
//! together. HTTP handlers call [`Node::submit`] and the read methods; the producer task
//! calls [`Node::produce_block`].

use crate::mempool::{EarlyTxs, Mempool, MempoolError, MAX_EARLY_BYTES};
use crate::peers::PeerBook;
use crate::storage::{KvBackend, StorageError, Store};
use custody_consensus::Evidence;
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::encoding;
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::hash::Hash32;
use custody_ledger::smt::SmtUpdate;
use custody_ledger::state::{ApplyError, BlockContext, Changes, Overlay, StateError};
use custody_ledger::transaction::{SignedTransaction, TxError};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Most rejections remembered for status queries.
const REJECT_LOG: usize = 100_000;

/// Why a submitted transaction was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Failed a stateless check (chain, size, form, signer, signature).
    #[error(transparent)]
    Tx(#[from] TxError),
    /// Broke a ledger rule, or the sequence is wrong.
    #[error(transparent)]
    Rule(custody_ledger::state::RuleError),
    /// Already committed or pending.
    #[error("transaction {0} was already submitted")]
    Duplicate(Hash32),
    /// Mempool full.
    #[error("{0}")]
    Full(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<StateError> for SubmitError {
    fn from(StateError(s): StateError) -> Self {
        SubmitError::Storage(StorageError::Backend(s))
    }
}

/// What [`Node::admit_from_peer`] did with a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerAdmission {
    /// In the mempool.
    Admitted(Hash32),
    /// Ahead of its signer's next sequence: held until the ones before it arrive.
    Held,
    /// Too far ahead of its signer's next sequence, or no room to hold it: dropped.
    TooEarly,
}

/// What became of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// Waiting for a block.
    Pending,
    /// In block `height` at `index`.
    Committed {
        /// Block height.
        height: u64,
        /// Position in the block.
        index: u32,
    },
    /// Dropped, with the reason.
    Rejected {
        /// Stable error code.
        code: String,
        /// Message.
        message: String,
    },
    /// Never seen.
    Unknown,
}

/// Bounded memory of rejected transactions.
#[derive(Default)]
struct RejectLog {
    reasons: HashMap<Hash32, (String, String)>,
    order: VecDeque<Hash32>,
}

impl RejectLog {
    fn record(&mut self, hash: Hash32, code: &str, message: String) {
        if self
            .reasons
            .insert(hash, (code.to_string(), message))
            .is_none()
        {
            self.order.push_back(hash);
        }
        while self.order.len() > REJECT_LOG {
            if let Some(old) = self.order.pop_front() {
                self.reasons.remove(&old);
            }
        }
    }
}

/// The stable code of a ledger-rule failure.
pub fn apply_error_code(e: &ApplyError) -> &'static str {
    use custody_ledger::state::RuleError;
    match e {
        ApplyError::Rule(RuleError::Sequence { .. }) => "sequence",
        ApplyError::Rule(RuleError::Tx(t)) => tx_error_code(t),
        ApplyError::Rule(_) => "rule",
        ApplyError::State(_) => "storage",
    }
}

/// The stable code of a stateless-check failure.
pub fn tx_error_code(e: &TxError) -> &'static str {
    match e {
        TxError::Version { .. } => "unsupported_version",
        TxError::WrongChain { .. } => "wrong_chain",
        TxError::UnknownSigner(_) => "unknown_signer",
        TxError::BadSignature(_) => "bad_signature",
        TxError::TooLarge { .. } => "too_large",
        TxError::TooManyItems { .. }
        | TxError::Empty(_)
        | TxError::Duplicate(_)
        | TxError::BadText { .. }
        | TxError::ZeroSequence => "invalid",
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A committed block, as reported to waiters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Height.
    pub height: u64,
    /// Transactions in it.
    pub txs: usize,
    /// Item events it made.
    pub events: usize,
}

/// Where this validator's consensus is: the height it works on, its round and step.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConsensusStatus {
    /// The height being decided (committed height + 1), when started.
    pub height: u64,
    /// The round.
    pub round: u32,
    /// The step: propose, prevote, precommit, commit; or idle (nothing to decide).
    pub step: String,
}

/// What a block does, computed once while building or validating it and reused to commit.
#[derive(Debug)]
pub struct BlockOutcome {
    /// The state changes of its transactions.
    pub changes: Changes,
    /// The state-tree update (its root is the header's `state_root`).
    pub tree: SmtUpdate,
}

/// Most equivocation proofs a node keeps in memory (the count goes on).
pub const MAX_EVIDENCE_KEPT: usize = 64;

#[derive(Default)]
struct EvidenceLog {
    seen: u64,
    recent: VecDeque<Evidence<Hash32>>,
}

/// A function called with a transaction (to pass it on).
pub type TxHook = Box<dyn Fn(&SignedTransaction) + Send + Sync>;

/// The node: genesis, committed state, mempool, and the consensus seam.
pub struct Node<B: KvBackend> {
    genesis: Arc<Genesis>,
    store: Arc<Store<B>>,
    mempool: Mutex<Mempool>,
    /// Peers' transactions that arrived ahead of their signer's next sequence.
    early: Mutex<EarlyTxs>,
    rejected: Mutex<RejectLog>,
    /// Called after each admitted transaction (the consensus driver's wake-up).
    on_admit: OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// Called with each transaction a client submitted here (to gossip it to peers).
    on_local_tx: OnceLock<TxHook>,
    /// The highest height a peer has been seen working on.
    peer_height: AtomicU64,
    /// Peers as the network sees them (empty without a network).
    peers: PeerBook,
    /// Equivocations the consensus state machine detected since the node started.
    evidence: Mutex<EvidenceLog>,
    committed: watch::Sender<Committed>,
    consensus: Mutex<ConsensusStatus>,
    name: String,
}

/// Why a proposed block is not valid.
#[derive(Debug, thiserror::Error)]
pub enum InvalidBlock {
    /// The header does not extend our chain as it should.
    #[error("header: {0}")]
    Header(String),
    /// A transaction fails its checks or the ledger rules.
    #[error("transaction {index}: {reason}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Storage failed while checking.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl<B: KvBackend> Node<B> {
    /// A node over `store`; blocks are decided by the consensus driver attached to it.
    pub fn new(
        name: String,
        genesis: Arc<Genesis>,
        store: Arc<Store<B>>,
        mempool_capacity: usize,
    ) -> Result<Self, StorageError> {
        let height = store.head()?.map_or(0, |h| h.height);
        let (committed, _) = watch::channel(Committed {
            height,
            ..Committed::default()
        });
        Ok(Node {
            genesis,
            store,
            mempool: Mutex::new(Mempool::new(mempool_capacity)),
            early: Mutex::new(EarlyTxs::new(mempool_capacity, MAX_EARLY_BYTES)),
            rejected: Mutex::new(RejectLog::default()),
            on_admit: OnceLock::new(),
            on_local_tx: OnceLock::new(),
            peer_height: AtomicU64::new(0),
            peers: PeerBook::default(),
            evidence: Mutex::new(EvidenceLog::default()),
            committed,
            consensus: Mutex::new(ConsensusStatus {
                height: height + 1,
                round: 0,
                step: "idle".into(),
            }),
            name,
        })
    }

    /// The node's name (its validator or member name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The committed store.
    pub fn store(&self) -> &Store<B> {
        &self.store
    }

    fn pool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn rejects(&self) -> MutexGuard<'_, RejectLog> {
        self.rejected.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of pending transactions.
    pub fn mempool_len(&self) -> usize {
        self.pool().len()
    }

    /// Subscribes to committed blocks.
    pub fn subscribe(&self) -> watch::Receiver<Committed> {
        self.committed.subscribe()
    }

    /// The context the next block will give a transaction.
    fn next_context(&self, tx_hash: Hash32) -> Result<BlockContext, StorageError> {
        let (height, _, parent_time) = self.next_height()?;
        Ok(BlockContext {
            height,
            time_ms: now_ms().max(parent_time + 1),
            tx_hash,
            // Its place is not known yet; a check's events are not kept.
            tx_index: 0,
        })
    }

    /// Admits a transaction a client submitted to this node, then passes it on to peers.
    pub fn submit(&self, tx: SignedTransaction) -> Result<Hash32, SubmitError> {
        let gossip = self.on_local_tx.get().map(|_| tx.clone());
        let hash = self.admit(tx)?;
        if let (Some(publish), Some(tx)) = (self.on_local_tx.get(), gossip) {
            publish(&tx);
        }
        Ok(hash)
    }

    /// Registers the function that passes locally submitted transactions on (once).
    pub fn on_local_tx(&self, publish: TxHook) {
        let _ = self.on_local_tx.set(publish);
    }

    /// Notes that a peer works on `height` (consensus messages, sync answers).
    pub fn note_peer_height(&self, height: u64) {
        self.peer_height.fetch_max(height, Ordering::Relaxed);
    }

    /// The highest height a peer was seen working on.
    pub fn peer_height(&self) -> u64 {
        self.peer_height.load(Ordering::Relaxed)
    }

    /// What the node knows of its peers.
    pub fn peers(&self) -> &PeerBook {
        &self.peers
    }

    /// Records proof that a validator signed two conflicting messages.
    pub fn note_equivocation(&self, evidence: Evidence<Hash32>) {
        let mut log = self.evidence_log();
        log.seen += 1;
        if log.recent.len() == MAX_EVIDENCE_KEPT {
            log.recent.pop_front();
        }
        log.recent.push_back(evidence);
    }

    fn evidence_log(&self) -> MutexGuard<'_, EvidenceLog> {
        self.evidence.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many equivocations were detected since the node started.
    pub fn equivocation_count(&self) -> u64 {
        self.evidence_log().seen
    }

    /// How many equivocations were detected since the node started, and the latest ones
    /// (at most [`MAX_EVIDENCE_KEPT`], oldest first).
    pub fn equivocations(&self) -> (u64, Vec<Evidence<Hash32>>) {
        let log = self.evidence_log();
        (log.seen, log.recent.iter().cloned().collect())
    }

    /// Admits a transaction a peer gossiped. One that arrived ahead of its signer's next
    /// sequence (gossip does not keep order) is held, not refused, and admitted once the
    /// ones before it are admitted or committed; each admission releases the next held one.
    pub fn admit_from_peer(&self, tx: SignedTransaction) -> Result<PeerAdmission, SubmitError> {
        tx.check_stateless(&self.genesis)?;
        let next = self.next_sequence(&tx.tx.signer)?;
        let signer = tx.tx.signer.clone();
        if tx.tx.sequence > next {
            let held = self.early().hold(tx, next);
            // The gap may have filled meanwhile.
            self.release_early(&[signer]);
            return Ok(if held {
                PeerAdmission::Held
            } else {
                PeerAdmission::TooEarly
            });
        }
        let hash = self.admit_checked(tx)?;
        self.release_early(&[signer]);
        Ok(PeerAdmission::Admitted(hash))
    }

    /// Admits the held transactions that are next in line: of `signers`, or of every signer
    /// with held transactions if `signers` is empty.
    fn release_early(&self, signers: &[MemberId]) {
        let signers = if signers.is_empty() {
            self.early().signers()
        } else {
            signers.to_vec()
        };
        for signer in signers {
            // Most admissions find nothing held: skip the sequence lookup for them.
            while self.early().holds(&signer) {
                let next = match self.next_sequence(&signer) {
                    Ok(next) => next,
                    Err(e) => {
                        tracing::error!(error = %e, "storage failed while releasing held transactions");
                        return;
                    }
                };
                let Some(tx) = self.early().take(&signer, next) else {
                    break;
                };
                let hash = tx.hash();
                match self.admit_checked(tx) {
                    Ok(_) | Err(SubmitError::Duplicate(_)) => {}
                    Err(e) => {
                        tracing::debug!(%hash, error = %e, "a held transaction was refused");
                        break;
                    }
                }
            }
        }
    }

    fn early(&self) -> MutexGuard<'_, EarlyTxs> {
        self.early.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks and admits a transaction (from a client or a peer) into the mempool, then
    /// any held ones of its signer that were waiting for it. Signature checks run before
    /// the mempool lock.
    pub fn admit(&self, tx: SignedTransaction) -> Result<Hash32, SubmitError> {
        tx.check_stateless(&self.genesis)?;
        let signer = tx.tx.signer.clone();
        let hash = self.admit_checked(tx)?;
        self.release_early(&[signer]);
        Ok(hash)
    }

    /// [`admit`](Self::admit) for a transaction whose stateless checks passed.
    fn admit_checked(&self, tx: SignedTransaction) -> Result<Hash32, SubmitError> {
        let hash = tx.hash();
        if self.store.tx_location(&hash)?.is_some() {
            return Err(SubmitError::Duplicate(hash));
        }
        let ctx = self.next_context(hash)?;
        let result = self.pool().admit(&*self.store, &self.genesis, tx, ctx);
        match result {
            Ok(_) => {
                if let Some(wake) = self.on_admit.get() {
                    wake();
                }
                Ok(hash)
            }
            Err(MempoolError::Duplicate(h)) => Err(SubmitError::Duplicate(h)),
            Err(MempoolError::Full(n)) => Err(SubmitError::Full(format!(
                "mempool is full ({n} transactions): retry later"
            ))),
            Err(MempoolError::Rejected(ApplyError::Rule(r))) => Err(SubmitError::Rule(r)),
            Err(MempoolError::Rejected(ApplyError::State(e))) => Err(e.into()),
        }
    }

    /// The member's next sequence number, counting its pending transactions.
    pub fn next_sequence(&self, member: &MemberId) -> Result<u64, StateError> {
        self.pool().next_sequence(&*self.store, member)
    }

    /// What became of a transaction.
    pub fn tx_status(&self, hash: &Hash32) -> Result<TxStatus, StorageError> {
        if let Some((height, index)) = self.store.tx_location(hash)? {
            return Ok(TxStatus::Committed { height, index });
        }
        if self.pool().contains(hash) {
            return Ok(TxStatus::Pending);
        }
        if let Some((code, message)) = self.rejects().reasons.get(hash) {
            return Ok(TxStatus::Rejected {
                code: code.clone(),
                message: message.clone(),
            });
        }
        Ok(TxStatus::Unknown)
    }

    /// Where consensus is (set by the driver).
    pub fn consensus_status(&self) -> ConsensusStatus {
        self.consensus
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records where consensus is.
    pub fn set_consensus_status(&self, status: ConsensusStatus) {
        *self.consensus.lock().unwrap_or_else(|p| p.into_inner()) = status;
    }

    /// Registers the function called after every admitted transaction (once).
    pub fn on_admit(&self, wake: Box<dyn Fn() + Send + Sync>) {
        let _ = self.on_admit.set(wake);
    }

    /// The height the next block will have, and the hash it must name as parent.
    pub fn next_height(&self) -> Result<(u64, Hash32, u64), StorageError> {
        Ok(match self.store.head()? {
            Some(h) => (h.height + 1, h.hash, h.time_ms),
            None => (1, self.genesis.hash(), self.genesis.genesis_time_ms),
        })
    }

    /// Builds the next block from the mempool (for `proposer` to propose): the pending
    /// transactions that still apply, in order, within the block limits. Transactions that
    /// no longer apply are evicted with their reason. Returns the block and its changes.
    pub fn build_block(&self, proposer: u16) -> Result<(Block, BlockOutcome), StorageError> {
        let (height, parent, parent_time) = self.next_height()?;
        let time_ms = now_ms().max(parent_time + 1);
        let params = &self.genesis.params;
        let batch = self.pool().batch(
            params.max_block_txs as usize,
            params.max_block_items as usize,
        );
        let mut overlay = Overlay::new(&*self.store);
        let mut included = Vec::with_capacity(batch.len());
        let mut dropped = Vec::new();
        // The block's size with no transactions yet; each one adds its own encoding (and
        // the count may grow by a byte or two, hence the margin).
        let empty = Block::new(
            &self.genesis.chain_id,
            height,
            parent,
            time_ms,
            proposer,
            vec![],
        );
        let mut bytes = empty.encoded_len() + 8;
        let max_bytes = params.max_block_bytes as usize;
        for p in batch {
            let len = encoding::encoded_len(&p.tx);
            if bytes + len > max_bytes {
                // The rest waits for the next block; the block stays under the limit.
                break;
            }
            let ctx = BlockContext {
                height,
                time_ms,
                tx_hash: p.hash,
                tx_index: included.len() as u32,
            };
            match overlay.apply(&self.genesis, &p.tx, &ctx) {
                Ok(_) => {
                    bytes += len;
                    included.push(p.tx)
                }
                Err(ApplyError::State(StateError(s))) => return Err(StorageError::Backend(s)),
                Err(e) => dropped.push((p.hash, e)),
            }
        }
        if !dropped.is_empty() {
            let gone: Vec<Hash32> = dropped.iter().map(|(h, _)| *h).collect();
            let evicted = self
                .pool()
                .after_commit(&*self.store, &self.genesis, &gone, |h| BlockContext {
                    height,
                    time_ms,
                    tx_hash: h,
                    tx_index: 0,
                });
            self.record_rejections(dropped.into_iter().chain(evicted).collect());
        }
        let changes = overlay.into_changes();
        let tree = self.store.state_update(&changes)?;
        let block = Block::new(
            &self.genesis.chain_id,
            height,
            parent,
            time_ms,
            proposer,
            included,
        )
        .with_state_root(tree.root);
        Ok((block, BlockOutcome { changes, tree }))
    }

    /// Checks a block proposed by another validator: its header is of the format this build
    /// reads, it extends our head, its time is after its parent's and not ahead of our clock
    /// by more than the chain allows, its body matches its header, and every transaction
    /// passes its checks and the ledger rules in order. Returns the changes it makes.
    pub fn validate_block(&self, block: &Block) -> Result<BlockOutcome, InvalidBlock> {
        self.check_block(block, true)
    }

    /// Checks a block that 2f+1 validators certified, before committing it: everything
    /// [`validate_block`](Self::validate_block) checks but the bound against our clock. The
    /// validators checked the time against theirs when they voted; a node whose clock is
    /// behind must still follow the chain. A certified block that fails this means a bug or
    /// a faulty majority.
    pub fn validate_certified_block(&self, block: &Block) -> Result<BlockOutcome, InvalidBlock> {
        self.check_block(block, false)
    }

    fn check_block(&self, block: &Block, check_clock: bool) -> Result<BlockOutcome, InvalidBlock> {
        let (height, parent, parent_time) = self.next_height()?;
        let h = &block.header;
        let bad = |m: String| Err(InvalidBlock::Header(m));
        // First: a header of another format is not read any further.
        h.check_version()
            .map_err(|e| InvalidBlock::Header(e.to_string()))?;
        if h.chain_id != self.genesis.chain_id {
            return bad(format!("chain id {:?}", h.chain_id));
        }
        if h.height != height || h.parent != parent {
            return bad(format!(
                "block {} with parent {} does not extend our head (next height {height})",
                h.height, h.parent
            ));
        }
        if h.time_ms <= parent_time {
            return bad(format!(
                "time {} is not after its parent's {parent_time}",
                h.time_ms
            ));
        }
        let limit = now_ms() + self.genesis.params.max_clock_drift_ms;
        if check_clock && h.time_ms > limit {
            return bad(format!(
                "time {} is ahead of our clock (limit {limit})",
                h.time_ms
            ));
        }
        if usize::from(h.proposer) >= self.genesis.validators.len() {
            return bad(format!("proposer index {} is not a validator", h.proposer));
        }
        let params = &self.genesis.params;
        if block.txs.len() > params.max_block_txs as usize {
            return bad(format!(
                "{} transactions, the limit is {}",
                block.txs.len(),
                params.max_block_txs
            ));
        }
        let size = block.encoded_len();
        if size > params.max_block_bytes as usize {
            return bad(format!(
                "{size} bytes, the limit is {}",
                params.max_block_bytes
            ));
        }
        // As the proposer builds them: within the item limit, but always at least one
        // transaction whatever its size.
        let items: usize = block.txs.iter().map(|t| t.tx.payload.item_count()).sum();
        if block.txs.len() > 1 && items > params.max_block_items as usize {
            return bad(format!(
                "{items} items, the limit is {}",
                params.max_block_items
            ));
        }
        block
            .check_body()
            .map_err(|e| InvalidBlock::Header(e.to_string()))?;
        let mut overlay = Overlay::new(&*self.store);
        for (index, tx) in block.txs.iter().enumerate() {
            let fail = |reason: String| InvalidBlock::Transaction { index, reason };
            tx.check_stateless(&self.genesis)
                .map_err(|e| fail(e.to_string()))?;
            let hash = tx.hash();
            if self.store.tx_location(&hash)?.is_some() {
                return Err(fail(format!("{hash} is already committed")));
            }
            let ctx = BlockContext {
                height,
                time_ms: h.time_ms,
                tx_hash: hash,
                tx_index: index as u32,
            };
            match overlay.apply(&self.genesis, tx, &ctx) {
                Ok(_) => {}
                Err(ApplyError::State(StateError(s))) => {
                    return Err(InvalidBlock::Storage(StorageError::Backend(s)))
                }
                Err(ApplyError::Rule(r)) => return Err(fail(r.to_string())),
            }
        }
        let changes = overlay.into_changes();
        let tree = self.store.state_update(&changes)?;
        if tree.root != h.state_root {
            return bad(format!(
                "state root {} is not the state after its transactions ({})",
                h.state_root, tree.root
            ));
        }
        Ok(BlockOutcome { changes, tree })
    }

    /// Durably commits a decided block with its certificate and changes, then updates the
    /// mempool (drops what the block included, re-checks the rest) and wakes waiters.
    pub fn commit(
        &self,
        block: &Block,
        cert: &BlockCertificate,
        outcome: &BlockOutcome,
    ) -> Result<Committed, StorageError> {
        let changes = &outcome.changes;
        self.store
            .commit_block_with_tree(block, cert, changes, Some(&outcome.tree))?;
        let height = block.header.height;
        let included: Vec<Hash32> = block.txs.iter().map(|t| t.hash()).collect();
        let evicted = self
            .pool()
            .after_commit(&*self.store, &self.genesis, &included, |h| BlockContext {
                height: height + 1,
                time_ms: now_ms(),
                tx_hash: h,
                tx_index: 0,
            });
        self.record_rejections(evicted);
        // The block may have carried what held transactions waited for.
        self.release_early(&[]);
        let committed = Committed {
            height,
            txs: block.txs.len(),
            events: changes.event_count(),
        };
        self.committed.send_replace(committed);
        Ok(committed)
    }

    fn record_rejections(&self, rejected: Vec<(Hash32, ApplyError)>) {
        let mut log = self.rejects();
        for (hash, e) in rejected {
            log.record(hash, apply_error_code(&e), e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::fixtures::Fixture;

    #[test]
    fn a_block_of_another_header_format_is_invalid() {
        let genesis = Fixture::new().genesis;
        let store = Arc::new(Store::in_memory(&genesis));
        let node = Node::new("n".into(), Arc::new(genesis), store, 10).unwrap();
        let (block, _) = node.build_block(0).unwrap();
        assert!(node.validate_block(&block).is_ok());
        let mut other = block.clone();
        other.header.version = 2;
        for result in [
            node.validate_block(&other),
            node.validate_certified_block(&other),
        ] {
            let Err(e) = result else {
                panic!("a block of header format 2 was accepted")
            };
            assert!(matches!(e, InvalidBlock::Header(_)), "{e}");
            assert_eq!(
                e.to_string(),
                "header: block header format version 2 is not supported; this build reads version 1"
            );
        }
    }
}
