//! The validator set: who votes, in which order proposers rotate, and what a quorum is.

use crate::bytes::PublicKey;
use crate::height::{Height, Round};
use serde::{Deserialize, Serialize};

/// A validator's position in the set (its index in genesis order).
pub type ValidatorIndex = u16;

/// One validator: a name for people and a key for machines. All validators have equal power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// Human-readable name, unique in the set.
    pub name: String,
    /// The ed25519 key its votes are signed with.
    pub public_key: PublicKey,
}

/// An ordered set of `n = 3f + 1` (or more) equal-power validators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// Builds a set; `None` if it is empty, larger than `u16::MAX`, or repeats a key or name.
    pub fn new(validators: Vec<Validator>) -> Option<Self> {
        if validators.is_empty() || validators.len() > usize::from(ValidatorIndex::MAX) {
            return None;
        }
        for (i, v) in validators.iter().enumerate() {
            if validators[..i]
                .iter()
                .any(|w| w.public_key == v.public_key || w.name == v.name)
            {
                return None;
            }
        }
        Some(Self { validators })
    }

    /// Number of validators, `n`.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: a set has at least one validator.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// The validators in order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The validator at `index`.
    pub fn get(&self, index: ValidatorIndex) -> Option<&Validator> {
        self.validators.get(usize::from(index))
    }

    /// The index of the validator with this key.
    pub fn index_of(&self, key: &PublicKey) -> Option<ValidatorIndex> {
        self.validators
            .iter()
            .position(|v| &v.public_key == key)
            .and_then(|i| ValidatorIndex::try_from(i).ok())
    }

    /// The most validators that may be faulty: `f = (n - 1) / 3`.
    pub fn max_faulty(&self) -> usize {
        (self.len() - 1) / 3
    }

    /// Votes needed for a quorum: more than two thirds, `n - f` (= 2f + 1 when n = 3f + 1).
    pub fn quorum(&self) -> usize {
        self.len() - self.max_faulty()
    }

    /// Votes that prove at least one honest validator: `f + 1`.
    pub fn honest_threshold(&self) -> usize {
        self.max_faulty() + 1
    }

    /// The proposer of height `h`, round `r`: `validators[(h + r) mod n]`.
    pub fn proposer(&self, height: Height, round: Round) -> ValidatorIndex {
        let n = self.len() as u64;
        let i = (height.0 % n + u64::from(round.0) % n) % n;
        i as ValidatorIndex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize) -> ValidatorSet {
        ValidatorSet::new(
            (0..n)
                .map(|i| Validator {
                    name: format!("v{i}"),
                    public_key: PublicKey([i as u8; 32]),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn quorum_is_two_f_plus_one() {
        for (n, f, q) in [
            (1, 0, 1),
            (3, 0, 3),
            (4, 1, 3),
            (5, 1, 4),
            (7, 2, 5),
            (10, 3, 7),
        ] {
            let s = set(n);
            assert_eq!((s.max_faulty(), s.quorum()), (f, q), "n = {n}");
            // Two quorums always intersect in at least f + 1 validators.
            assert!(2 * q > n + f, "n = {n}");
        }
    }

    #[test]
    fn proposer_rotates_round_robin() {
        let s = set(4);
        assert_eq!(s.proposer(Height(1), Round(0)), 1);
        assert_eq!(s.proposer(Height(1), Round(1)), 2);
        assert_eq!(s.proposer(Height(3), Round(2)), 1);
        assert_eq!(
            s.proposer(Height(u64::MAX), Round(u32::MAX)),
            ((u64::MAX % 4 + u64::from(u32::MAX) % 4) % 4) as u16
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let v = Validator {
            name: "a".into(),
            public_key: PublicKey([1; 32]),
        };
        let w = Validator {
            name: "b".into(),
            public_key: PublicKey([1; 32]),
        };
        assert!(ValidatorSet::new(vec![v, w]).is_none());
        assert!(ValidatorSet::new(vec![]).is_none());
    }
}
