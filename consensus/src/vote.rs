//! Votes (prevotes and precommits), signed votes, and the exact bytes a validator signs for
//! one. Plain data: nothing here verifies, counts or decides.

use crate::bytes::Signature;
use crate::height::{Height, Round};
use crate::validator_set::ValidatorIndex;
use serde::{Deserialize, Serialize};

/// The two voting steps of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VoteKind {
    /// First step: "I saw a valid proposal for this value" (or nil).
    Prevote,
    /// Second step: "I saw 2f+1 prevotes for this value and locked on it" (or nil).
    Precommit,
}

impl VoteKind {
    fn tag(self) -> u8 {
        match self {
            VoteKind::Prevote => 1,
            VoteKind::Precommit => 2,
        }
    }
}

/// Domain tag that keeps vote signatures from being valid for anything else.
const VOTE_DOMAIN: &[u8] = b"custody/vote/v1\0";

/// The canonical bytes signed for a vote: a domain tag, then chain id, height, round, kind and
/// value (or nil), each fixed-width or length-prefixed, so no two votes share an encoding.
pub fn vote_sign_bytes(
    chain_id: &str,
    height: Height,
    round: Round,
    kind: VoteKind,
    value: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(VOTE_DOMAIN.len() + chain_id.len() + 64);
    out.extend_from_slice(VOTE_DOMAIN);
    out.extend_from_slice(&(chain_id.len() as u32).to_be_bytes());
    out.extend_from_slice(chain_id.as_bytes());
    out.extend_from_slice(&height.0.to_be_bytes());
    out.extend_from_slice(&round.0.to_be_bytes());
    out.push(kind.tag());
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v);
        }
    }
    out
}

/// One validator's prevote or precommit for a value (or nil) at a height and round.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vote<V> {
    /// The height voted at.
    pub height: Height,
    /// The round voted in.
    pub round: Round,
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The value voted for; `None` is a nil vote.
    pub value: Option<V>,
    /// The voter's index in the validator set.
    pub validator: ValidatorIndex,
}

impl<V: AsRef<[u8]>> Vote<V> {
    /// The bytes the voter signs ([`vote_sign_bytes`]).
    pub fn sign_bytes(&self, chain_id: &str) -> Vec<u8> {
        vote_sign_bytes(
            chain_id,
            self.height,
            self.round,
            self.kind,
            self.value.as_ref().map(AsRef::as_ref),
        )
    }
}

/// A vote with its voter's signature over [`Vote::sign_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SignedVote<V> {
    /// The vote.
    pub vote: Vote<V>,
    /// The voter's signature.
    pub signature: Signature,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_bytes() {
        let base = vote_sign_bytes(
            "c",
            Height(1),
            Round(0),
            VoteKind::Precommit,
            Some(&[1; 32]),
        );
        let variants = [
            vote_sign_bytes(
                "d",
                Height(1),
                Round(0),
                VoteKind::Precommit,
                Some(&[1; 32]),
            ),
            vote_sign_bytes(
                "c",
                Height(2),
                Round(0),
                VoteKind::Precommit,
                Some(&[1; 32]),
            ),
            vote_sign_bytes(
                "c",
                Height(1),
                Round(1),
                VoteKind::Precommit,
                Some(&[1; 32]),
            ),
            vote_sign_bytes("c", Height(1), Round(0), VoteKind::Prevote, Some(&[1; 32])),
            vote_sign_bytes(
                "c",
                Height(1),
                Round(0),
                VoteKind::Precommit,
                Some(&[2; 32]),
            ),
            vote_sign_bytes("c", Height(1), Round(0), VoteKind::Precommit, None),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
    }
}
