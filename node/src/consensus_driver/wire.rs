//! What validators send each other: proposals with the proposed block's body, votes, and
//! decided blocks with their certificates (for a peer that is behind).

use custody_consensus::{SignedProposal, SignedVote};
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::encoding::{self, DecodeError};
use custody_ledger::hash::Hash32;
use serde::{Deserialize, Serialize};

/// A consensus message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsensusMessage {
    /// A proposal and the block it proposes (the proposal signs only the block hash).
    Proposal {
        /// The signed proposal.
        proposal: SignedProposal<Hash32>,
        /// The proposed block.
        block: Block,
    },
    /// A prevote or precommit.
    Vote(SignedVote<Hash32>),
    /// A decided block and its commit certificate, for a validator that is behind.
    Decided {
        /// The certificate.
        certificate: BlockCertificate,
        /// The block it certifies.
        block: Block,
    },
}

/// A message that cannot be taken in.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Not a consensus message.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The attached block is not the one signed for.
    #[error("the attached block's hash {found} is not the {signed} signed for")]
    BodyMismatch {
        /// Hash of the attached block.
        found: Hash32,
        /// Hash in the signed proposal or certificate.
        signed: Hash32,
    },
}

impl ConsensusMessage {
    /// The height it is about.
    pub fn height(&self) -> u64 {
        match self {
            ConsensusMessage::Proposal { proposal, .. } => proposal.proposal.height.0,
            ConsensusMessage::Vote(v) => v.vote.height.0,
            ConsensusMessage::Decided { certificate, .. } => certificate.height.0,
        }
    }

    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        encoding::encode(self)
    }

    /// Decodes and checks that an attached block is the one signed for.
    pub fn decode(bytes: &[u8]) -> Result<ConsensusMessage, WireError> {
        let m: ConsensusMessage = encoding::decode(bytes)?;
        let (found, signed) = match &m {
            ConsensusMessage::Proposal { proposal, block } => {
                (block.hash(), proposal.proposal.value)
            }
            ConsensusMessage::Decided { certificate, block } => (block.hash(), certificate.value),
            ConsensusMessage::Vote(_) => return Ok(m),
        };
        if found != signed {
            return Err(WireError::BodyMismatch { found, signed });
        }
        Ok(m)
    }
}
