//! Proposers that failed their last turn. Round-robin BFT pays a timeout whenever a
//! round's proposer is faulty (silent, or proposing what cannot be decided); with one
//! faulty validator in four, that is every fourth height. A validator whose proposal was not
//! decided in its last turn is *suspected*: in its rounds the driver waits only a short
//! time for each step. Timeouts never affect safety, only how long a round waits for
//! messages, so this is purely local; a suspect whose proposal is decided again (in time)
//! is cleared.

use custody_consensus::{Height, Round, ValidatorIndex, ValidatorSet};
use std::collections::HashSet;

/// The suspects, as this node saw them.
#[derive(Default)]
pub(crate) struct Suspects {
    set: HashSet<ValidatorIndex>,
}

impl Suspects {
    /// Notes how `height` was decided: in `round`, so every proposer of an earlier round
    /// failed its turn (ourselves excepted: we know why we failed) and the one of `round`
    /// succeeded.
    pub(crate) fn decided(
        &mut self,
        validators: &ValidatorSet,
        me: ValidatorIndex,
        height: Height,
        round: Round,
    ) {
        for r in 0..round.0 {
            let p = validators.proposer(height, Round(r));
            if p != me {
                self.set.insert(p);
            }
        }
        self.set.remove(&validators.proposer(height, round));
    }

    /// Whether the proposer of `height`, `round` is suspected.
    pub(crate) fn proposer_suspected(
        &self,
        validators: &ValidatorSet,
        height: Height,
        round: Round,
    ) -> bool {
        self.set.contains(&validators.proposer(height, round))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{PublicKey, Validator};

    fn set() -> ValidatorSet {
        ValidatorSet::new(
            (0..4)
                .map(|i| Validator {
                    name: format!("v{i}"),
                    public_key: PublicKey([i; 32]),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_proposer_that_failed_its_turn_is_suspected_until_its_proposal_is_decided() {
        let (set, mut s) = (set(), Suspects::default());
        // Height 7: round 0's proposer is (7 + 0) mod 4 = 3; decided in round 1 by 0.
        s.decided(&set, 1, Height(7), Round(1));
        assert!(s.proposer_suspected(&set, Height(11), Round(0)), "3 again");
        assert!(
            !s.proposer_suspected(&set, Height(8), Round(0)),
            "0 did its job"
        );
        // We never suspect ourselves.
        let mut mine = Suspects::default();
        mine.decided(&set, 3, Height(7), Round(1));
        assert!(!mine.proposer_suspected(&set, Height(11), Round(0)));
        // 3's proposal decided at round 0 of height 11: cleared.
        s.decided(&set, 1, Height(11), Round(0));
        assert!(!s.proposer_suspected(&set, Height(15), Round(0)));
    }
}
