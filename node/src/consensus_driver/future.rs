//! Messages for heights above the driver's: a validator that just moved on sends them
//! before we commit. Kept only a few heights ahead (a node further behind catches up by
//! block sync) and within a byte share per validator (plus one for certificates), so one
//! faulty validator filling its share crowds out no one else.

use crate::consensus_driver::wire::ConsensusMessage;
use std::collections::{BTreeMap, HashMap};

/// Early messages, by height.
pub(crate) struct FutureMessages {
    by_height: BTreeMap<u64, Vec<(ConsensusMessage, usize)>>,
    /// Bytes held by author (`None`: certificates).
    used: HashMap<Option<u16>, usize>,
    share: usize,
    max_heights: u64,
}

impl FutureMessages {
    /// Holds messages up to `max_heights` above the next height, `max_bytes` in all shared
    /// equally among `validators` authors and certificates.
    pub(crate) fn new(max_bytes: usize, validators: usize, max_heights: u64) -> Self {
        FutureMessages {
            by_height: BTreeMap::new(),
            used: HashMap::new(),
            share: max_bytes / (validators + 1),
            max_heights,
        }
    }

    /// Keeps `m` (for a height above `next`) if it is within the window and its author's
    /// share; returns whether it was kept.
    pub(crate) fn keep(&mut self, m: ConsensusMessage, next: u64) -> bool {
        let h = m.height();
        if h <= next || h > next.saturating_add(self.max_heights) {
            return false;
        }
        let bytes = m.cost_bytes();
        let used = self.used.entry(m.author()).or_default();
        if used.saturating_add(bytes) > self.share {
            return false;
        }
        *used += bytes;
        self.by_height.entry(h).or_default().push((m, bytes));
        true
    }

    /// Whether anything is held for `height` or above (peers are there: we are behind).
    pub(crate) fn any_from(&self, height: u64) -> bool {
        self.by_height.range(height..).next().is_some()
    }

    /// Takes the messages for `next`, forgetting those for heights below it.
    pub(crate) fn take(&mut self, next: u64) -> Vec<ConsensusMessage> {
        let mut out = Vec::new();
        while let Some(entry) = self.by_height.first_entry() {
            let h = *entry.key();
            if h > next {
                break;
            }
            for (m, bytes) in entry.remove() {
                if let Some(used) = self.used.get_mut(&m.author()) {
                    *used = used.saturating_sub(bytes);
                }
                if h == next {
                    out.push(m);
                }
            }
        }
        out
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.used.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{Height, Round, SignedVote, Vote, VoteKind};
    use custody_ledger::crypto::Signature;

    fn vote(h: u64, round: u32, who: u16) -> ConsensusMessage {
        ConsensusMessage::Vote(SignedVote {
            vote: Vote {
                height: Height(h),
                round: Round(round),
                kind: VoteKind::Prevote,
                value: None,
                validator: who,
            },
            signature: Signature([0; 64]),
        })
    }

    #[test]
    fn one_validator_fills_only_its_share_and_only_a_few_heights_ahead() {
        let one = vote(11, 0, 3).cost_bytes();
        // Room for ten votes per author, four validators.
        let mut f = FutureMessages::new(50 * one, 4, 4);
        let kept = (0..1_000).filter(|r| f.keep(vote(11, *r, 3), 10)).count();
        assert_eq!(kept, 10, "validator 3 fills its share and no more");
        assert!(f.keep(vote(11, 0, 1), 10), "validator 1 still has room");
        assert!(!f.keep(vote(15, 0, 1), 10), "too far ahead");
        assert!(!f.keep(vote(10, 0, 1), 10), "not ahead");
        assert!(f.keep(vote(14, 0, 1), 10));
        assert_eq!(f.bytes(), 12 * one);
        assert!(f.any_from(11) && f.any_from(14) && !f.any_from(15));
        assert_eq!(f.take(11).len(), 11);
        assert_eq!(f.bytes(), one, "what was taken gave its bytes back");
        assert!(f.take(13).is_empty(), "nothing at 13");
        assert_eq!(f.take(15).len(), 0, "14 was passed over and dropped");
        assert_eq!(f.bytes(), 0);
    }
}
