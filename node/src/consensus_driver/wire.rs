//! What validators send each other: proposals with the proposed block's body, votes, and
//! decided blocks with their certificates (for a peer that is behind).

use custody_consensus::{SignedProposal, SignedVote};
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::encoding::{self, DecodeError};
use custody_ledger::hash::Hash32;
use serde::{Deserialize, Serialize};

/// Bytes a proposal message takes beside its block (signature, round numbers, framing, the
/// gossip counter): a consensus message longer than the chain's `max_block_bytes` plus this
/// is invalid, whatever it says.
pub const PROPOSAL_ROOM: usize = 16 * 1024;

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
    /// A decided block and its commit certificate, for a validator that is behind. Served
    /// by block sync (point to point), never gossiped.
    Decided {
        /// The certificate.
        certificate: BlockCertificate,
        /// The block it certifies.
        block: Block,
    },
    /// A proposal without its block: what a validator re-sends while its height is
    /// undecided. A peer that lacks the body asks for it point to point.
    ProposalHeader(SignedProposal<Hash32>),
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
            ConsensusMessage::ProposalHeader(p) => p.proposal.height.0,
        }
    }

    /// The round it is about (a decided block's certificate round).
    pub fn round(&self) -> u64 {
        match self {
            ConsensusMessage::Proposal { proposal, .. }
            | ConsensusMessage::ProposalHeader(proposal) => u64::from(proposal.proposal.round.0),
            ConsensusMessage::Vote(v) => u64::from(v.vote.round.0),
            ConsensusMessage::Decided { certificate, .. } => u64::from(certificate.round.0),
        }
    }

    /// The validator that signed it (`None` for a certificate, signed by many).
    pub fn author(&self) -> Option<u16> {
        match self {
            ConsensusMessage::Proposal { proposal, .. }
            | ConsensusMessage::ProposalHeader(proposal) => Some(proposal.proposal.proposer),
            ConsensusMessage::Vote(v) => Some(v.vote.validator),
            ConsensusMessage::Decided { .. } => None,
        }
    }

    /// What holding it costs, bytes (about its encoded size; bounded queues charge this).
    pub fn cost_bytes(&self) -> usize {
        const SIGNED_PART: usize = 256;
        match self {
            ConsensusMessage::Proposal { block, .. } | ConsensusMessage::Decided { block, .. } => {
                SIGNED_PART + block.encoded_len()
            }
            ConsensusMessage::Vote(_) | ConsensusMessage::ProposalHeader(_) => SIGNED_PART,
        }
    }

    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        encoding::encode(self)
    }

    /// Bytes for gossip: the message and a sender-chosen counter. Gossip networks drop
    /// bytes they have seen recently, but a validator must be able to send a message again
    /// (a peer that was down needs it to make progress): the counter makes each sending
    /// distinct. Receivers ignore it.
    pub fn encode_for_gossip(&self, counter: u64) -> Vec<u8> {
        encoding::encode(&(self, counter))
    }

    /// Reads [`encode_for_gossip`](Self::encode_for_gossip) bytes, with the checks of
    /// [`decode`](Self::decode).
    pub fn decode_from_gossip(bytes: &[u8]) -> Result<ConsensusMessage, WireError> {
        let (m, _counter): (ConsensusMessage, u64) = encoding::decode(bytes)?;
        m.check_body()
    }

    /// Decodes and checks that an attached block is the one signed for.
    pub fn decode(bytes: &[u8]) -> Result<ConsensusMessage, WireError> {
        let m: ConsensusMessage = encoding::decode(bytes)?;
        m.check_body()
    }

    fn check_body(self) -> Result<ConsensusMessage, WireError> {
        let m = self;
        let (found, signed) = match &m {
            ConsensusMessage::Proposal { proposal, block } => {
                (block.hash(), proposal.proposal.value)
            }
            ConsensusMessage::Decided { certificate, block } => (block.hash(), certificate.value),
            ConsensusMessage::Vote(_) | ConsensusMessage::ProposalHeader(_) => return Ok(m),
        };
        if found != signed {
            return Err(WireError::BodyMismatch { found, signed });
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{Height, Round, Vote, VoteKind};
    use custody_ledger::crypto::Signature;

    fn vote() -> ConsensusMessage {
        ConsensusMessage::Vote(SignedVote {
            vote: Vote {
                height: Height(3),
                round: Round(1),
                kind: VoteKind::Prevote,
                value: Some(Hash32([4; 32])),
                validator: 2,
            },
            signature: Signature([9; 64]),
        })
    }

    #[test]
    fn each_gossip_sending_is_distinct_and_decodes_to_the_same_message() {
        let m = vote();
        let (a, b) = (m.encode_for_gossip(0), m.encode_for_gossip(1));
        assert_ne!(
            a, b,
            "a re-sent message must not look like the first sending"
        );
        assert_eq!(ConsensusMessage::decode_from_gossip(&a).unwrap(), m);
        assert_eq!(ConsensusMessage::decode_from_gossip(&b).unwrap(), m);
        assert!(ConsensusMessage::decode_from_gossip(&a[..a.len() - 2]).is_err());
    }

    #[test]
    fn a_block_that_is_not_the_one_signed_for_is_refused() {
        let block = Block::new("c", 1, Hash32::ZERO, 1, 0, vec![]);
        let m = ConsensusMessage::Decided {
            certificate: custody_consensus::CommitCertificate {
                height: Height(1),
                round: Round(0),
                value: Hash32([1; 32]),
                signatures: vec![],
            },
            block,
        };
        assert!(matches!(
            ConsensusMessage::decode(&m.encode()),
            Err(WireError::BodyMismatch { .. })
        ));
    }
}
