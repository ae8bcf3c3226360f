//! The node's core: the committed store, the mempool and the consensus seam, wired
//! together. HTTP handlers call [`Node::submit`] and the read methods; the producer task
//! calls [`Node::produce_block`].

use crate::consensus_driver::SoloCertifier;
use crate::mempool::{Mempool, MempoolError};
use crate::storage::{KvBackend, StorageError, Store};
use custody_ledger::block::Block;
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::hash::Hash32;
use custody_ledger::state::{ApplyError, BlockContext, Overlay, StateError};
use custody_ledger::transaction::{SignedTransaction, TxError};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{watch, Notify};

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

/// The node: genesis, committed state, mempool, and the consensus seam.
pub struct Node<B: KvBackend> {
    genesis: Arc<Genesis>,
    store: Arc<Store<B>>,
    mempool: Mutex<Mempool>,
    rejected: Mutex<RejectLog>,
    certifier: SoloCertifier,
    new_tx: Notify,
    committed: watch::Sender<Committed>,
    name: String,
}

impl<B: KvBackend> Node<B> {
    /// A node over `store` that certifies blocks with `certifier`.
    pub fn new(
        name: String,
        genesis: Arc<Genesis>,
        store: Arc<Store<B>>,
        certifier: SoloCertifier,
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
            rejected: Mutex::new(RejectLog::default()),
            certifier,
            new_tx: Notify::new(),
            committed,
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
        let head = self.store.head()?;
        Ok(BlockContext {
            height: head.as_ref().map_or(1, |h| h.height + 1),
            time_ms: now_ms().max(head.map_or(0, |h| h.time_ms + 1)),
            tx_hash,
        })
    }

    /// Checks and admits a transaction. Signature checks run before the mempool lock.
    pub fn submit(&self, tx: SignedTransaction) -> Result<Hash32, SubmitError> {
        tx.check_stateless(&self.genesis)?;
        let hash = tx.hash();
        if self.store.tx_location(&hash)?.is_some() {
            return Err(SubmitError::Duplicate(hash));
        }
        let ctx = self.next_context(hash)?;
        let result = self.pool().admit(&*self.store, &self.genesis, tx, ctx);
        match result {
            Ok(_) => {
                self.new_tx.notify_one();
                Ok(hash)
            }
            Err(MempoolError::Duplicate(h)) => Err(SubmitError::Duplicate(h)),
            Err(MempoolError::Full(n)) => Err(SubmitError::Full(format!(
                "mempool is full ({n} transactions): retry later"
            ))),
            Err(MempoolError::Rejected(ApplyError::Rule(r))) => Err(SubmitError::Rule(r)),
            Err(MempoolError::Rejected(ApplyError::State(StateError(s)))) => {
                Err(SubmitError::Storage(StorageError::Backend(s)))
            }
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

    /// Waits until at least one transaction is pending.
    pub async fn wait_for_transactions(&self) {
        loop {
            let notified = self.new_tx.notified();
            if !self.pool().is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// Builds, certifies and durably commits one block from the mempool, if anything is
    /// pending. Blocking: call from a blocking thread. A storage error is fatal.
    pub fn produce_block(&self) -> Result<Option<Committed>, StorageError> {
        let params = &self.genesis.params;
        let batch = self.pool().batch(
            params.max_block_txs as usize,
            params.max_block_items as usize,
        );
        if batch.is_empty() {
            return Ok(None);
        }
        let head = self.store.head()?;
        let height = head.as_ref().map_or(1, |h| h.height + 1);
        let parent = head
            .as_ref()
            .map_or_else(|| self.genesis.hash(), |h| h.hash);
        let time_ms = now_ms().max(head.map_or(0, |h| h.time_ms + 1));

        let mut overlay = Overlay::new(&*self.store);
        let mut included = Vec::with_capacity(batch.len());
        let mut done = HashSet::with_capacity(batch.len());
        let mut dropped = Vec::new();
        for p in batch {
            let ctx = BlockContext {
                height,
                time_ms,
                tx_hash: p.hash,
            };
            done.insert(p.hash);
            match overlay.apply(&self.genesis, &p.tx, &ctx) {
                Ok(_) => included.push(p.tx),
                Err(ApplyError::State(StateError(s))) => return Err(StorageError::Backend(s)),
                Err(e) => dropped.push((p.hash, e)),
            }
        }
        let changes = overlay.into_changes();
        let mut committed = Committed {
            height: height - 1,
            txs: 0,
            events: 0,
        };
        if !included.is_empty() {
            let block = Block::new(
                &self.genesis.chain_id,
                height,
                parent,
                time_ms,
                self.certifier.index(),
                included,
            );
            let cert = self.certifier.certify(height, block.hash());
            self.store.commit_block(&block, &cert, &changes)?;
            committed = Committed {
                height,
                txs: block.txs.len(),
                events: changes.event_count(),
            };
        }
        let next_height = committed.height + 1;
        let evicted = self
            .pool()
            .after_commit(&*self.store, &self.genesis, &done, |h| BlockContext {
                height: next_height,
                time_ms: now_ms(),
                tx_hash: h,
            });
        {
            let mut log = self.rejects();
            for (hash, e) in dropped.into_iter().chain(evicted) {
                log.record(hash, apply_error_code(&e), e.to_string());
            }
        }
        // Wake waiters even for an empty block: some of them wait on a rejection.
        self.committed.send_replace(committed);
        Ok(Some(committed))
    }
}
