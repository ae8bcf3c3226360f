//! The pool itself (see the module documentation).

use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::hash::Hash32;
use custody_ledger::state::{ApplyError, BlockContext, Changes, Overlay, StateError, StateView};
use custody_ledger::transaction::SignedTransaction;
use std::collections::{HashMap, HashSet, VecDeque};

/// A transaction waiting for a block.
#[derive(Clone, Debug)]
pub struct PendingTx {
    /// Its hash.
    pub hash: Hash32,
    /// The transaction (signature already verified).
    pub tx: SignedTransaction,
}

/// Why a transaction was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum MempoolError {
    /// Already pending.
    #[error("transaction {0} is already pending")]
    Duplicate(Hash32),
    /// Pool is at capacity.
    #[error("mempool is full ({0} transactions): retry later")]
    Full(usize),
    /// Breaks a ledger rule against committed state plus pending transactions.
    #[error(transparent)]
    Rejected(ApplyError),
}

/// Outcome of a successful admission.
#[derive(Debug, Clone, Copy)]
pub struct Admission {
    /// The transaction hash.
    pub hash: Hash32,
    /// Item events it will make.
    pub events: usize,
}

/// Pending transactions and the state changes they make together.
pub struct Mempool {
    pending: VecDeque<PendingTx>,
    hashes: HashSet<Hash32>,
    /// Changes of all pending transactions, stacked on committed state.
    changes: Changes,
    capacity: usize,
}

impl Mempool {
    /// An empty pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Mempool {
            pending: VecDeque::new(),
            hashes: HashSet::new(),
            changes: Changes::default(),
            capacity,
        }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// True if `hash` is pending.
    pub fn contains(&self, hash: &Hash32) -> bool {
        self.hashes.contains(hash)
    }

    /// The member's next sequence number, counting pending transactions.
    pub fn next_sequence(
        &self,
        committed: &impl StateView,
        member: &MemberId,
    ) -> Result<u64, StateError> {
        match self.changes.sequences.get(member) {
            Some(s) => Ok(s + 1),
            None => Ok(committed.last_sequence(member)? + 1),
        }
    }

    /// Admits `tx` (whose stateless checks passed) if it applies on top of `committed`
    /// plus everything pending. `ctx` is the context of the next block.
    pub fn admit(
        &mut self,
        committed: &impl StateView,
        genesis: &Genesis,
        tx: SignedTransaction,
        ctx: BlockContext,
    ) -> Result<Admission, MempoolError> {
        let hash = ctx.tx_hash;
        if self.hashes.contains(&hash) {
            return Err(MempoolError::Duplicate(hash));
        }
        if self.pending.len() >= self.capacity {
            return Err(MempoolError::Full(self.capacity));
        }
        let mut overlay = Overlay::with_changes(committed, std::mem::take(&mut self.changes));
        let result = overlay.apply(genesis, &tx, &ctx);
        self.changes = overlay.into_changes();
        let events = result.map_err(MempoolError::Rejected)?;
        self.hashes.insert(hash);
        self.pending.push_back(PendingTx { hash, tx });
        Ok(Admission { hash, events })
    }

    /// Up to `max` pending transactions, oldest first, for the next block.
    pub fn batch(&self, max: usize) -> Vec<PendingTx> {
        self.pending.iter().take(max).cloned().collect()
    }

    /// After a block: drops the transactions it `included` or `dropped`, then re-applies the
    /// rest on the new committed state. Returns those that no longer apply, with why.
    pub fn after_commit(
        &mut self,
        committed: &impl StateView,
        genesis: &Genesis,
        included: &HashSet<Hash32>,
        next_ctx: impl Fn(Hash32) -> BlockContext,
    ) -> Vec<(Hash32, ApplyError)> {
        let rest: Vec<PendingTx> = self
            .pending
            .drain(..)
            .filter(|p| !included.contains(&p.hash))
            .collect();
        self.hashes.clear();
        let mut overlay = Overlay::new(committed);
        let mut evicted = Vec::new();
        for p in rest {
            match overlay.apply(genesis, &p.tx, &next_ctx(p.hash)) {
                Ok(_) => {
                    self.hashes.insert(p.hash);
                    self.pending.push_back(p);
                }
                Err(e) => evicted.push((p.hash, e)),
            }
        }
        self.changes = overlay.into_changes();
        evicted
    }

    /// Pending transactions per member (for status pages).
    pub fn per_member(&self) -> HashMap<MemberId, usize> {
        let mut m = HashMap::new();
        for p in &self.pending {
            *m.entry(p.tx.tx.signer.clone()).or_insert(0) += 1;
        }
        m
    }
}
