//! [`EarlyTxs`]: transactions from peers that arrived ahead of their signer's next sequence
//! number. Gossip does not keep order — a member's transactions n and n+1 may reach a node
//! the other way round — so n+1 waits here until n is admitted or committed, instead of
//! being lost until a block carries it. Bounded in total and in how far ahead it looks.

use custody_ledger::genesis::MemberId;
use custody_ledger::transaction::SignedTransaction;
use std::collections::BTreeMap;

/// How far past a signer's next sequence a transaction may be held.
pub const MAX_AHEAD: u64 = 1_024;

/// Early transactions by signer and sequence.
#[derive(Debug)]
pub struct EarlyTxs {
    by_signer: BTreeMap<MemberId, BTreeMap<u64, SignedTransaction>>,
    len: usize,
    capacity: usize,
}

impl EarlyTxs {
    /// Holds at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        EarlyTxs {
            by_signer: BTreeMap::new(),
            len: 0,
            capacity,
        }
    }

    /// Holds `tx`, whose signer's next sequence is `next` (`tx.sequence > next`). False if
    /// it is too far ahead or the holder is full (the transaction is then dropped).
    pub fn hold(&mut self, tx: SignedTransaction, next: u64) -> bool {
        let seq = tx.tx.sequence;
        if seq <= next || seq - next > MAX_AHEAD || self.len >= self.capacity {
            return false;
        }
        let slot = self.by_signer.entry(tx.tx.signer.clone()).or_default();
        if slot.insert(seq, tx).is_none() {
            self.len += 1;
        }
        true
    }

    /// Takes `member`'s transaction with sequence `next`, if held, dropping any older ones
    /// (they were committed or replaced meanwhile).
    pub fn take(&mut self, member: &MemberId, next: u64) -> Option<SignedTransaction> {
        let slot = self.by_signer.get_mut(member)?;
        let newer = slot.split_off(&next);
        self.len -= slot.len();
        *slot = newer;
        let tx = slot.remove(&next);
        if tx.is_some() {
            self.len -= 1;
        }
        if slot.is_empty() {
            self.by_signer.remove(member);
        }
        tx
    }

    /// Signers with held transactions.
    pub fn signers(&self) -> Vec<MemberId> {
        self.by_signer.keys().cloned().collect()
    }

    /// Number of held transactions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_ledger::transaction::{Payload, SetStatus, StatusChange, Transaction};
    use ed25519_dalek::SigningKey;

    fn tx(member: &str, sequence: u64) -> SignedTransaction {
        Transaction {
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
        let mut e = EarlyTxs::new(10);
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
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn older_ones_are_dropped_when_the_sequence_moved_past_them() {
        let mut e = EarlyTxs::new(10);
        assert!(e.hold(tx("a", 4), 2));
        assert!(e.hold(tx("a", 5), 2));
        assert!(e.hold(tx("a", 7), 2));
        // 4 and 5 were committed through a block: 6 is next, 7 stays.
        assert_eq!(e.take(&"a".into(), 6), None);
        assert_eq!(e.len(), 1);
        assert_eq!(e.take(&"a".into(), 7).unwrap().tx.sequence, 7);
        assert!(e.is_empty() && e.signers().is_empty());
    }

    #[test]
    fn bounded() {
        let mut e = EarlyTxs::new(2);
        assert!(e.hold(tx("a", 2), 1));
        assert!(e.hold(tx("a", 3), 1));
        assert!(!e.hold(tx("a", 4), 1));
        assert_eq!(e.len(), 2);
    }
}
