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

    /// Pending transactions for the next block, oldest first: at most `max_txs`, and no more
    /// than `max_items` items in all (but always at least one transaction).
    pub fn batch(&self, max_txs: usize, max_items: usize) -> Vec<PendingTx> {
        let mut items = 0;
        let mut out = Vec::new();
        for p in self.pending.iter().take(max_txs) {
            items += p.tx.tx.payload.item_count();
            if items > max_items && !out.is_empty() {
                break;
            }
            out.push(p.clone());
        }
        out
    }

    /// After a block (or when building one found some invalid): drops the transactions in
    /// `included`, then re-applies the rest on the committed state. Returns those that no
    /// longer apply, with why.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;
    use custody_consensus::Validator;
    use custody_ledger::crypto::public_key;
    use custody_ledger::genesis::{ChainParams, Member, Role};
    use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin};
    use custody_ledger::state::RuleError;
    use custody_ledger::transaction::{Commission, Move, Payload, Transaction};
    use ed25519_dalek::SigningKey;

    fn genesis(key: &SigningKey) -> Genesis {
        Genesis {
            chain_id: "pool-test".into(),
            genesis_time_ms: 0,
            validators: vec![Validator {
                name: "v".into(),
                public_key: public_key(&SigningKey::from_bytes(&[9; 32])),
            }],
            members: vec![Member {
                name: "manufacturer".into(),
                public_key: public_key(key),
                roles: vec![Role::Manufacturer],
                company_prefixes: vec!["0614141".into()],
                glns: vec![Gln::parse("0614141000005").unwrap()],
            }],
            params: ChainParams::default(),
        }
    }

    fn commission(g: &Genesis, key: &SigningKey, seq: u64, serials: &[&str]) -> SignedTransaction {
        Transaction {
            chain_id: g.chain_id.clone(),
            signer: "manufacturer".into(),
            sequence: seq,
            event_time_ms: 1,
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse("10614141000019").unwrap(),
                lot: Lot::parse("L1").unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials: serials.iter().map(|s| Serial::parse(s).unwrap()).collect(),
                location: None,
            }),
        }
        .sign(key)
    }

    fn moving(g: &Genesis, key: &SigningKey, seq: u64, serial: &str) -> SignedTransaction {
        Transaction {
            chain_id: g.chain_id.clone(),
            signer: "manufacturer".into(),
            sequence: seq,
            event_time_ms: 1,
            payload: Payload::Move(Move {
                items: vec![ItemId::Sgtin(Sgtin::new(
                    Gtin::parse("10614141000019").unwrap(),
                    Serial::parse(serial).unwrap(),
                ))],
                to: Gln::parse("0614141000005").unwrap(),
            }),
        }
        .sign(key)
    }

    fn ctx(tx: &SignedTransaction) -> BlockContext {
        BlockContext {
            height: 1,
            time_ms: 10,
            tx_hash: tx.hash(),
        }
    }

    #[test]
    fn dependent_transactions_are_admitted_in_order_and_rule_breakers_refused() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let g = genesis(&key);
        let store = Store::in_memory(&g);
        let mut pool = Mempool::new(10);
        let member = MemberId::from("manufacturer");
        assert_eq!(pool.next_sequence(&store, &member).unwrap(), 1);

        let c = commission(&g, &key, 1, &["A"]);
        pool.admit(&store, &g, c.clone(), ctx(&c)).unwrap();
        // The move depends on the pending commission: admitted without waiting for a block.
        let m = moving(&g, &key, 2, "A");
        pool.admit(&store, &g, m.clone(), ctx(&m)).unwrap();
        assert_eq!(pool.next_sequence(&store, &member).unwrap(), 3);

        // Double commission against pending state, a gap in sequences, a duplicate.
        let again = commission(&g, &key, 3, &["A"]);
        assert!(matches!(
            pool.admit(&store, &g, again.clone(), ctx(&again)),
            Err(MempoolError::Rejected(ApplyError::Rule(
                RuleError::AlreadyCommissioned { .. }
            )))
        ));
        let gap = moving(&g, &key, 9, "A");
        assert!(matches!(
            pool.admit(&store, &g, gap.clone(), ctx(&gap)),
            Err(MempoolError::Rejected(ApplyError::Rule(
                RuleError::Sequence { expected: 3, .. }
            )))
        ));
        assert!(matches!(
            pool.admit(&store, &g, m.clone(), ctx(&m)),
            Err(MempoolError::Duplicate(_))
        ));
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.next_sequence(&store, &member).unwrap(), 3);
    }

    #[test]
    fn a_full_pool_says_so() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let g = genesis(&key);
        let store = Store::in_memory(&g);
        let mut pool = Mempool::new(1);
        let a = commission(&g, &key, 1, &["A"]);
        pool.admit(&store, &g, a.clone(), ctx(&a)).unwrap();
        let b = commission(&g, &key, 2, &["B"]);
        assert!(matches!(
            pool.admit(&store, &g, b.clone(), ctx(&b)),
            Err(MempoolError::Full(1))
        ));
    }

    #[test]
    fn batches_respect_transaction_and_item_limits() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let g = genesis(&key);
        let store = Store::in_memory(&g);
        let mut pool = Mempool::new(10);
        for (seq, serials) in [
            (1, vec!["A", "B", "C"]),
            (2, vec!["D", "E"]),
            (3, vec!["F"]),
        ] {
            let t = commission(&g, &key, seq, &serials);
            pool.admit(&store, &g, t.clone(), ctx(&t)).unwrap();
        }
        assert_eq!(pool.batch(10, 100).len(), 3);
        assert_eq!(pool.batch(2, 100).len(), 2);
        assert_eq!(pool.batch(10, 5).len(), 2);
        // One oversized transaction still makes a block on its own.
        assert_eq!(pool.batch(10, 1).len(), 1);
    }

    #[test]
    fn after_a_block_the_rest_is_reapplied_and_what_no_longer_applies_is_evicted() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let g = genesis(&key);
        let store = Store::in_memory(&g);
        let mut pool = Mempool::new(10);
        let c = commission(&g, &key, 1, &["A"]);
        let m = moving(&g, &key, 2, "A");
        for t in [&c, &m] {
            pool.admit(&store, &g, t.clone(), ctx(t)).unwrap();
        }
        // The block dropped the commission (say it failed there): the move that depended on
        // it no longer applies to the committed state and is evicted with its reason.
        let included: HashSet<Hash32> = [c.hash()].into();
        let evicted = pool.after_commit(&store, &g, &included, |h| BlockContext {
            height: 1,
            time_ms: 10,
            tx_hash: h,
        });
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].0, m.hash());
        assert!(pool.is_empty());
    }
}
