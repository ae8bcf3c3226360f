//! [`EarlyTxs`]: transactions from peers that arrived ahead of their signer's next sequence
//! number. Gossip does not keep order — a member's transactions n and n+1 may reach a node
//! the other way round — so n+1 waits here until n is admitted or committed, instead of
//! being lost until a block carries it. Bounded in count, in bytes and in how far ahead it
//! looks.

use custody_ledger::genesis::MemberId;
use custody_ledger::transaction::SignedTransaction;
use std::collections::BTreeMap;

/// How far past a signer's next sequence a transaction may be held.
pub const MAX_AHEAD: u64 = 1_024;
/// Most bytes (encoded transactions) held in all.
pub const MAX_EARLY_BYTES: usize = 64 * 1024 * 1024;

/// Early transactions by signer and sequence.
#[derive(Debug)]
pub struct EarlyTxs {
    by_signer: BTreeMap<MemberId, BTreeMap<u64, (SignedTransaction, usize)>>,
    len: usize,
    bytes: usize,
    capacity: usize,
    max_bytes: usize,
}

impl EarlyTxs {
    /// Holds at most `capacity` transactions of at most `max_bytes` in all.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        EarlyTxs {
            by_signer: BTreeMap::new(),
            len: 0,
            bytes: 0,
            capacity,
            max_bytes,
        }
    }

    /// Holds `tx`, whose signer's next sequence is `next` (`tx.sequence > next`). False if
    /// it is not ahead, too far ahead, or there is no room (the transaction is then dropped).
    pub fn hold(&mut self, tx: SignedTransaction, next: u64) -> bool {
        let seq = tx.tx.sequence;
        if seq <= next || seq - next > MAX_AHEAD || self.len >= self.capacity {
            return false;
        }
        let size = tx.encoded_len();
        if self.bytes + size > self.max_bytes {
            return false;
        }
        let slot = self.by_signer.entry(tx.tx.signer.clone()).or_default();
        if let Some((_, old)) = slot.insert(seq, (tx, size)) {
            self.bytes -= old;
        } else {
            self.len += 1;
        }
        self.bytes += size;
        true
    }

    /// Takes `member`'s transaction with sequence `next`, if held, dropping any older ones
    /// (they were committed or replaced meanwhile).
    pub fn take(&mut self, member: &MemberId, next: u64) -> Option<SignedTransaction> {
        let slot = self.by_signer.get_mut(member)?;
        let newer = slot.split_off(&next);
        let older = std::mem::replace(slot, newer);
        let taken = slot.remove(&next);
        for (_, size) in older.values().chain(&taken) {
            self.len -= 1;
            self.bytes -= size;
        }
        if slot.is_empty() {
            self.by_signer.remove(member);
        }
        taken.map(|(tx, _)| tx)
    }

    /// True if `member` has held transactions.
    pub fn holds(&self, member: &MemberId) -> bool {
        self.by_signer.contains_key(member)
    }

    /// Signers with held transactions.
    pub fn signers(&self) -> Vec<MemberId> {
        self.by_signer.keys().cloned().collect()
    }

    /// Number of held transactions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the held transactions (encoded).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True if nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_ledger::transaction::{
        Payload, SetStatus, StatusChange, Transaction, TX_FORMAT_VERSION,
    };
    use ed25519_dalek::SigningKey;

    fn tx(member: &str, sequence: u64) -> SignedTransaction {
        Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: "c".into(),
            signer: MemberId::from(member),
            sequence,
            event_time_ms: 1,
            payload: Payload::SetStatus(SetStatus {
                items: vec![],
                status: StatusChange::Quarantine,
                reason: String::new(),
            }),
        }
        .sign(&SigningKey::from_bytes(&[1; 32]))
    }

    #[test]
    fn holds_ahead_and_gives_back_in_order() {
        let mut e = EarlyTxs::new(10, MAX_EARLY_BYTES);
        assert!(!e.hold(tx("a", 3), 3), "not ahead");
        assert!(!e.hold(tx("a", 3 + MAX_AHEAD + 1), 3), "too far ahead");
        assert!(e.hold(tx("a", 5), 3));
        assert!(e.hold(tx("a", 4), 3));
        assert!(e.hold(tx("b", 9), 2));
        assert_eq!(e.len(), 3);
        assert_eq!(e.take(&"a".into(), 3), None);
        assert_eq!(e.take(&"a".into(), 4).unwrap().tx.sequence, 4);
        assert_eq!(e.take(&"a".into(), 5).unwrap().tx.sequence, 5);
        assert_eq!(e.signers(), vec![MemberId::from("b")]);
        assert!(e.holds(&"b".into()) && !e.holds(&"a".into()));
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn older_ones_are_dropped_when_the_sequence_moved_past_them() {
        let mut e = EarlyTxs::new(10, MAX_EARLY_BYTES);
        assert!(e.hold(tx("a", 4), 2));
        assert!(e.hold(tx("a", 5), 2));
        assert!(e.hold(tx("a", 7), 2));
        // 4 and 5 were committed through a block: 6 is next, 7 stays.
        assert_eq!(e.take(&"a".into(), 6), None);
        assert_eq!(e.len(), 1);
        assert_eq!(e.take(&"a".into(), 7).unwrap().tx.sequence, 7);
        assert!(e.is_empty() && e.signers().is_empty());
        assert_eq!(e.bytes(), 0);
    }

    #[test]
    fn bounded_in_count_and_bytes() {
        let mut e = EarlyTxs::new(2, MAX_EARLY_BYTES);
        assert!(e.hold(tx("a", 2), 1));
        assert!(e.hold(tx("a", 3), 1));
        assert!(!e.hold(tx("a", 4), 1));
        assert_eq!(e.len(), 2);

        let size = tx("a", 2).encoded_len();
        let mut e = EarlyTxs::new(10, 2 * size);
        assert!(e.hold(tx("a", 2), 1));
        assert!(
            e.hold(tx("a", 2), 1),
            "the same again replaces, takes no more room"
        );
        assert!(e.hold(tx("a", 3), 1));
        assert_eq!((e.len(), e.bytes()), (2, 2 * size));
        assert!(!e.hold(tx("a", 4), 1), "over the byte bound");
    }
}
