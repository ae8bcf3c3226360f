//! The pool itself (see the module documentation).

use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::gs1::{Gtin, ItemId, Lot};
use custody_ledger::hash::Hash32;
use custody_ledger::state::{
    apply, ApplyError, BlockContext, Changes, Overlay, StateError, StateView,
};
use custody_ledger::transaction::{ShipmentId, SignedTransaction};
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

/// A state entry a pending transaction wrote.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Item(ItemId),
    Shipment(ShipmentId),
    Recall(String),
    Lot(Gtin, Lot),
    Sequence(MemberId),
}

/// A pending transaction with what it wrote.
struct Entry {
    tx: PendingTx,
    id: u64,
    touched: Vec<Key>,
}

/// What pending transactions passed over for a block hold back: their signers and the
/// entries they write.
#[derive(Default)]
struct Waiting<'a> {
    signers: HashSet<&'a MemberId>,
    keys: HashSet<&'a Key>,
}

impl<'a> Waiting<'a> {
    fn add(&mut self, e: &'a Entry) {
        self.signers.insert(&e.tx.tx.tx.signer);
        self.keys.extend(e.touched.iter());
    }

    fn holds_back(&self, e: &Entry) -> bool {
        self.signers.contains(&e.tx.tx.tx.signer) || e.touched.iter().any(|k| self.keys.contains(k))
    }
}

/// Pending transactions and the state changes they make together.
///
/// The stacked changes are kept incrementally: when a block commits pending transactions
/// in pool order, each independent of those it passed over (the oldest ones, or a batch
/// this pool built), the entries they were the last to write are dropped (the committed
/// state now holds them) and nothing is re-applied. Any other block makes the pool
/// re-apply what is left on the new state.
pub struct Mempool {
    pending: VecDeque<Entry>,
    hashes: HashSet<Hash32>,
    /// Changes of all pending transactions, stacked on committed state (events dropped).
    changes: Changes,
    /// Which pending transaction last wrote each entry of `changes`.
    writers: HashMap<Key, u64>,
    next_id: u64,
    capacity: usize,
}

impl Mempool {
    /// An empty pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Mempool {
            pending: VecDeque::new(),
            hashes: HashSet::new(),
            changes: Changes::default(),
            writers: HashMap::new(),
            next_id: 0,
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
        let changes = {
            let view = Overlay::with_changes(committed, std::mem::take(&mut self.changes));
            let result = apply(&view, genesis, &tx, &ctx);
            self.changes = view.into_changes();
            result.map_err(MempoolError::Rejected)?
        };
        let events = changes.event_count();
        let id = self.next_id;
        self.next_id += 1;
        let touched = self.stack(changes, id);
        self.hashes.insert(hash);
        self.pending.push_back(Entry {
            tx: PendingTx { hash, tx },
            id,
            touched,
        });
        Ok(Admission { hash, events })
    }

    /// Stacks one transaction's changes (without its events) and records it as their writer.
    fn stack(&mut self, mut changes: Changes, id: u64) -> Vec<Key> {
        changes.events.clear();
        let touched: Vec<Key> = changes
            .items
            .keys()
            .map(|k| Key::Item(k.clone()))
            .chain(changes.shipments.keys().map(|k| Key::Shipment(k.clone())))
            .chain(changes.recalls.keys().map(|k| Key::Recall(k.clone())))
            .chain(
                changes
                    .lots
                    .keys()
                    .map(|(g, l)| Key::Lot(g.clone(), l.clone())),
            )
            .chain(changes.sequences.keys().map(|k| Key::Sequence(k.clone())))
            .collect();
        for k in &touched {
            self.writers.insert(k.clone(), id);
        }
        self.changes.merge(changes);
        touched
    }

    /// Pending transactions for the next block, in pool order: at most `max_txs`, and no
    /// more than `max_items` items in all (but always at least one transaction). One that
    /// does not fit waits for a later block, and so does everything after it that may
    /// depend on it (the same signer, or a state entry it writes); independent ones behind
    /// it still go: one member's burst of large transactions does not hold back the
    /// others'.
    pub fn batch(&self, max_txs: usize, max_items: usize) -> Vec<PendingTx> {
        let mut items = 0;
        let mut out = Vec::new();
        let mut waiting = Waiting::default();
        for e in &self.pending {
            if out.len() >= max_txs {
                break;
            }
            let n = e.tx.tx.tx.payload.item_count();
            if waiting.holds_back(e) || (items + n > max_items && !out.is_empty()) {
                waiting.add(e);
                continue;
            }
            items += n;
            out.push(e.tx.clone());
        }
        out
    }

    /// After a block committed `included` (in block order), or when building one found
    /// those transactions invalid: drops them and brings the stacked changes up to date.
    /// Returns the pending transactions that no longer apply, with why (evicted).
    pub fn after_commit(
        &mut self,
        committed: &impl StateView,
        genesis: &Genesis,
        included: &[Hash32],
        next_ctx: impl Fn(Hash32) -> BlockContext,
    ) -> Vec<(Hash32, ApplyError)> {
        if self.is_independent_subsequence(included) {
            // What stays pending was applied on top of the same entries the block wrote:
            // nothing to re-apply.
            let gone: HashSet<&Hash32> = included.iter().collect();
            let (done, rest): (Vec<Entry>, Vec<Entry>) = self
                .pending
                .drain(..)
                .partition(|e| gone.contains(&e.tx.hash));
            self.pending = rest.into();
            for e in done {
                self.hashes.remove(&e.tx.hash);
                self.forget(&e);
            }
            return Vec::new();
        }
        let gone: HashSet<&Hash32> = included.iter().collect();
        let rest: Vec<Entry> = self
            .pending
            .drain(..)
            .filter(|e| !gone.contains(&e.tx.hash))
            .collect();
        self.hashes.clear();
        self.writers.clear();
        self.changes = Changes::default();
        let mut evicted = Vec::new();
        for e in rest {
            let ctx = next_ctx(e.tx.hash);
            let result = {
                let view = Overlay::with_changes(committed, std::mem::take(&mut self.changes));
                let r = apply(&view, genesis, &e.tx.tx, &ctx);
                self.changes = view.into_changes();
                r
            };
            match result {
                Ok(changes) => {
                    let touched = self.stack(changes, e.id);
                    self.hashes.insert(e.tx.hash);
                    self.pending.push_back(Entry { touched, ..e });
                }
                Err(err) => evicted.push((e.tx.hash, err)),
            }
        }
        evicted
    }

    /// Does the block hold pending transactions in pool order, each independent of every
    /// pending one it passed (as [`batch`](Self::batch) builds them)? A prefix of the pool
    /// always is.
    fn is_independent_subsequence(&self, included: &[Hash32]) -> bool {
        let mut next = included.iter().peekable();
        let mut waiting = Waiting::default();
        for e in &self.pending {
            let Some(h) = next.peek() else {
                return true;
            };
            if &e.tx.hash == *h {
                if waiting.holds_back(e) {
                    return false;
                }
                next.next();
            } else {
                waiting.add(e);
            }
        }
        next.peek().is_none()
    }

    /// Drops the stacked entries a committed transaction was the last to write: the
    /// committed state holds them now.
    fn forget(&mut self, e: &Entry) {
        for k in &e.touched {
            if self.writers.get(k) != Some(&e.id) {
                continue;
            }
            self.writers.remove(k);
            match k {
                Key::Item(id) => {
                    self.changes.items.remove(id);
                }
                Key::Shipment(id) => {
                    self.changes.shipments.remove(id);
                }
                Key::Recall(id) => {
                    self.changes.recalls.remove(id);
                }
                Key::Lot(g, l) => {
                    self.changes.lots.remove(&(g.clone(), l.clone()));
                }
                Key::Sequence(m) => {
                    self.changes.sequences.remove(m);
                }
            }
        }
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
    use custody_ledger::transaction::{Commission, Move, Payload, Transaction, TX_FORMAT_VERSION};
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
            version: TX_FORMAT_VERSION,
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
            version: TX_FORMAT_VERSION,
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
            tx_index: 0,
        }
    }

    #[test]
    fn a_transaction_too_large_for_the_block_waits_without_holding_back_independent_ones() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let mut g = genesis(&key);
        g.members.push(Member {
            name: "distributor".into(),
            public_key: public_key(&other),
            roles: vec![Role::Distributor],
            company_prefixes: vec!["0614142".into()],
            glns: vec![],
        });
        let store = Store::in_memory(&g);
        let mut pool = Mempool::new(10);
        let m1 = commission(&g, &key, 1, &["A"]);
        let m2 = commission(&g, &key, 2, &["B", "C", "D", "E", "F"]);
        let m3 = moving(&g, &key, 3, "B");
        let d1 = Transaction {
            version: custody_ledger::transaction::TX_FORMAT_VERSION,
            chain_id: g.chain_id.clone(),
            signer: "distributor".into(),
            sequence: 1,
            event_time_ms: 1,
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse("10614142000018").unwrap(),
                lot: Lot::parse("D").unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials: vec![Serial::parse("1").unwrap()],
                location: None,
            }),
        }
        .sign(&other);
        for tx in [&m1, &m2, &m3, &d1] {
            pool.admit(&store, &g, tx.clone(), ctx(tx)).unwrap();
        }
        // Three items per block: the five-item commission waits, and so does the move that
        // depends on it (same signer); the distributor's commission does not.
        let hashes = |b: Vec<PendingTx>| b.into_iter().map(|p| p.hash).collect::<Vec<_>>();
        assert_eq!(hashes(pool.batch(10, 3)), vec![m1.hash(), d1.hash()]);
        assert!(pool.is_independent_subsequence(&[m1.hash(), d1.hash()]));
        // A block that put the move before what it depends on is not this pool's order.
        assert!(!pool.is_independent_subsequence(&[m1.hash(), m3.hash()]));
        assert!(!pool.is_independent_subsequence(&[d1.hash(), m1.hash()]));
        let evicted = pool.after_commit(&store, &g, &[m1.hash(), d1.hash()], |h| BlockContext {
            height: 2,
            time_ms: 10,
            tx_hash: h,
            tx_index: 0,
        });
        assert!(evicted.is_empty());
        assert_eq!(pool.len(), 2);
        assert!(pool.contains(&m2.hash()) && pool.contains(&m3.hash()));
        // Alone at the head of the pool, the large one goes (a block takes at least one).
        assert_eq!(hashes(pool.batch(10, 3)), vec![m2.hash()]);
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
        // (Not a prefix in pool order: the slow path re-applies what is left.)
        let evicted = pool.after_commit(&store, &g, &[Hash32::ZERO, c.hash()], |h| BlockContext {
            height: 1,
            time_ms: 10,
            tx_hash: h,
            tx_index: 0,
        });
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].0, m.hash());
        assert!(pool.is_empty());
    }

    #[test]
    fn committing_the_oldest_in_order_prunes_without_reapplying() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let g = genesis(&key);
        let store = Store::in_memory(&g);
        let mut pool = Mempool::new(10);
        let c = commission(&g, &key, 1, &["A", "B"]);
        let m = moving(&g, &key, 2, "A");
        for t in [&c, &m] {
            pool.admit(&store, &g, t.clone(), ctx(t)).unwrap();
        }
        let unit = |s: &str| {
            ItemId::Sgtin(Sgtin::new(
                Gtin::parse("10614141000019").unwrap(),
                Serial::parse(s).unwrap(),
            ))
        };
        assert_eq!(pool.changes.items.len(), 2);
        // The block held exactly the oldest transaction: nothing is re-applied (the store
        // here never saw it, so a re-apply would evict the move).
        let evicted = pool.after_commit(&store, &g, &[c.hash()], |h| BlockContext {
            height: 2,
            time_ms: 10,
            tx_hash: h,
            tx_index: 0,
        });
        assert!(evicted.is_empty());
        assert_eq!(pool.len(), 1);
        // B was last written by the committed commission: dropped. A is still the move's.
        assert!(!pool.changes.items.contains_key(&unit("B")));
        assert!(pool.changes.items.contains_key(&unit("A")));
        assert_eq!(
            pool.next_sequence(&store, &MemberId::from("manufacturer"))
                .unwrap(),
            3
        );
    }
}
