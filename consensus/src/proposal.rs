//! Proposals: the value a round's proposer puts forward, and the exact bytes it signs.
//! Plain data: nothing here verifies or decides.

use crate::bytes::Signature;
use crate::height::{Height, Round};
use crate::validator_set::ValidatorIndex;
use serde::{Deserialize, Serialize};

/// Domain tag that keeps proposal signatures from being valid as votes or anything else.
const PROPOSAL_DOMAIN: &[u8] = b"custody/proposal/v1\0";

/// A proposer's `PROPOSAL(h, r, v, vr)` (Alg. 1 line 19).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Proposal<V> {
    /// The height proposed at.
    pub height: Height,
    /// The round proposed in.
    pub round: Round,
    /// The proposed value (for Custody, a block hash).
    pub value: V,
    /// The round in which the proposer saw a polka for `value` (its `validRound`), or `None`
    /// (the paper's `-1`) for a fresh value. Always below `round` when present.
    pub valid_round: Option<Round>,
    /// The proposer's index; must be [`ValidatorSet::proposer`](crate::ValidatorSet::proposer)
    /// of `(height, round)`.
    pub proposer: ValidatorIndex,
}

impl<V: AsRef<[u8]>> Proposal<V> {
    /// The bytes the proposer signs ([`proposal_sign_bytes`]).
    pub fn sign_bytes(&self, chain_id: &str) -> Vec<u8> {
        proposal_sign_bytes(
            chain_id,
            self.height,
            self.round,
            self.value.as_ref(),
            self.valid_round,
        )
    }
}

/// A proposal with its proposer's signature over [`Proposal::sign_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SignedProposal<V> {
    /// The proposal.
    pub proposal: Proposal<V>,
    /// The proposer's signature.
    pub signature: Signature,
}

/// The canonical bytes signed for a proposal: a domain tag (distinct from votes'), then chain
/// id, height, round, value and valid round, each fixed-width or length-prefixed.
pub fn proposal_sign_bytes(
    chain_id: &str,
    height: Height,
    round: Round,
    value: &[u8],
    valid_round: Option<Round>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROPOSAL_DOMAIN.len() + chain_id.len() + value.len() + 32);
    out.extend_from_slice(PROPOSAL_DOMAIN);
    out.extend_from_slice(&(chain_id.len() as u32).to_be_bytes());
    out.extend_from_slice(chain_id.as_bytes());
    out.extend_from_slice(&height.0.to_be_bytes());
    out.extend_from_slice(&round.0.to_be_bytes());
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
    match valid_round {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.0.to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vote::{vote_sign_bytes, VoteKind};

    #[test]
    fn every_field_changes_the_bytes_and_votes_never_collide() {
        let base = proposal_sign_bytes("c", Height(1), Round(2), &[1; 32], None);
        let variants = [
            proposal_sign_bytes("d", Height(1), Round(2), &[1; 32], None),
            proposal_sign_bytes("c", Height(2), Round(2), &[1; 32], None),
            proposal_sign_bytes("c", Height(1), Round(3), &[1; 32], None),
            proposal_sign_bytes("c", Height(1), Round(2), &[2; 32], None),
            proposal_sign_bytes("c", Height(1), Round(2), &[1; 32], Some(Round(0))),
            vote_sign_bytes("c", Height(1), Round(2), VoteKind::Prevote, Some(&[1; 32])),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
    }
}
