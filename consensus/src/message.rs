//! What validators send each other: a signed proposal or a signed vote. Plain data.

use crate::height::{Height, Round};
use crate::proposal::SignedProposal;
use crate::validator_set::ValidatorIndex;
use crate::vote::SignedVote;
use serde::{Deserialize, Serialize};

/// A signed consensus message, as broadcast to and received from peers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Message<V> {
    /// A proposer's signed proposal.
    Proposal(SignedProposal<V>),
    /// A validator's signed prevote or precommit.
    Vote(SignedVote<V>),
}

impl<V> Message<V> {
    /// The height the message is for.
    pub fn height(&self) -> Height {
        match self {
            Message::Proposal(p) => p.proposal.height,
            Message::Vote(v) => v.vote.height,
        }
    }

    /// The round the message is for.
    pub fn round(&self) -> Round {
        match self {
            Message::Proposal(p) => p.proposal.round,
            Message::Vote(v) => v.vote.round,
        }
    }

    /// The index of the validator that signed it.
    pub fn signer(&self) -> ValidatorIndex {
        match self {
            Message::Proposal(p) => p.proposal.proposer,
            Message::Vote(v) => v.vote.validator,
        }
    }
}
