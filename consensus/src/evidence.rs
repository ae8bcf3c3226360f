//! Equivocation evidence: two messages one validator signed that no honest validator would
//! sign both of. The state machine reports it; punishing is the node's and the ledger's job.
//! Evidence is self-contained and can be checked by anyone holding the validator set.

use crate::proposal::SignedProposal;
use crate::signing::Verifier;
use crate::validator_set::{ValidatorIndex, ValidatorSet};
use crate::vote::SignedVote;
use serde::{Deserialize, Serialize};

/// Proof that one validator signed two conflicting messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Evidence<V> {
    /// Two votes of the same validator, height, round and kind for different values.
    ConflictingVotes {
        /// The vote received first (the one that was counted).
        first: SignedVote<V>,
        /// The conflicting vote received later.
        second: SignedVote<V>,
    },
    /// Two different proposals of the same proposer, height and round.
    ConflictingProposals {
        /// The proposal received first.
        first: SignedProposal<V>,
        /// The conflicting proposal received later.
        second: SignedProposal<V>,
    },
}

impl<V: AsRef<[u8]> + Eq> Evidence<V> {
    /// The validator that equivocated.
    pub fn validator(&self) -> ValidatorIndex {
        match self {
            Evidence::ConflictingVotes { first, .. } => first.vote.validator,
            Evidence::ConflictingProposals { first, .. } => first.proposal.proposer,
        }
    }

    /// True when both messages are signed by the accused validator of `set`, agree on height,
    /// round (and kind) and signer, and differ: that is, the evidence proves an equivocation.
    pub fn verify(&self, chain_id: &str, set: &ValidatorSet, verifier: &impl Verifier) -> bool {
        let Some(accused) = set.get(self.validator()) else {
            return false;
        };
        let key = &accused.public_key;
        match self {
            Evidence::ConflictingVotes { first, second } => {
                let (a, b) = (&first.vote, &second.vote);
                a.height == b.height
                    && a.round == b.round
                    && a.kind == b.kind
                    && a.validator == b.validator
                    && a.value != b.value
                    && verifier.verify(key, &a.sign_bytes(chain_id), &first.signature)
                    && verifier.verify(key, &b.sign_bytes(chain_id), &second.signature)
            }
            Evidence::ConflictingProposals { first, second } => {
                let (a, b) = (&first.proposal, &second.proposal);
                a.height == b.height
                    && a.round == b.round
                    && a.proposer == b.proposer
                    && a != b
                    && verifier.verify(key, &a.sign_bytes(chain_id), &first.signature)
                    && verifier.verify(key, &b.sign_bytes(chain_id), &second.signature)
            }
        }
    }
}
