//! Why the state machine refused an input. A [`DropReason`] is a peer's or the application's
//! message that was ignored (log it, maybe penalise the peer, carry on); the other
//! [`ConsensusError`] variants are the node's own mistakes (wrong key, corrupt safety file).

use crate::certificate::CertificateError;
use crate::height::{Height, Round};
use crate::validator_set::ValidatorIndex;
use crate::vote::VoteKind;
use crate::PublicKey;

/// Why an input was ignored. Nothing changed in the state machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    /// The height has not been started yet ([`Input::StartHeight`](crate::Input::StartHeight)).
    #[error("no height started yet")]
    NotStarted,
    /// A message for another height than the current one.
    #[error("message for height {found}, current height is {current}")]
    WrongHeight {
        /// Our height.
        current: Height,
        /// The message's height.
        found: Height,
    },
    /// The current height is already decided; late messages are not needed.
    #[error("height {0} is already decided")]
    AlreadyDecided(Height),
    /// The signer's index is not in the validator set.
    #[error("validator index {index} is not in the set of {set_size}")]
    UnknownValidator {
        /// The claimed index.
        index: ValidatorIndex,
        /// The set's size.
        set_size: usize,
    },
    /// The signature does not verify against the claimed signer's key.
    #[error("bad signature from validator {0}")]
    BadSignature(ValidatorIndex),
    /// A proposal signed by someone who is not the proposer of its round.
    #[error("validator {found} is not the proposer of round {round} (validator {expected} is)")]
    NotProposer {
        /// The round.
        round: Round,
        /// Who proposes that round.
        expected: ValidatorIndex,
        /// Who signed the proposal.
        found: ValidatorIndex,
    },
    /// A proposal whose valid round is not below its round.
    #[error("proposal for round {round} carries valid round {valid_round}, which is not below it")]
    BadValidRound {
        /// The proposal's round.
        round: Round,
        /// Its claimed valid round.
        valid_round: Round,
    },
    /// The exact same message was already received.
    #[error("duplicate {kind} from validator {validator} in round {round}")]
    Duplicate {
        /// The signer.
        validator: ValidatorIndex,
        /// The round.
        round: Round,
        /// What it was.
        kind: MessageKind,
    },
    /// The validator already has messages in as many future rounds as we keep per validator.
    #[error("validator {validator} already has messages in {limit} rounds ahead of ours; round {round} dropped")]
    TooFarAhead {
        /// The signer.
        validator: ValidatorIndex,
        /// The message's round.
        round: Round,
        /// Future rounds kept per validator.
        limit: usize,
    },
    /// The proposer already sent as many different proposals for the round as we keep.
    #[error("proposer {validator} already sent {limit} different proposals for round {round}")]
    TooManyProposals {
        /// The proposer.
        validator: ValidatorIndex,
        /// The round.
        round: Round,
        /// Proposals kept per round.
        limit: usize,
    },
    /// A value to propose arrived when no proposal was pending (stale answer).
    #[error(
        "value to propose arrived, but no proposal is pending at height {height}, round {round}"
    )]
    NoValueRequested {
        /// Our height.
        height: Height,
        /// Our round.
        round: Round,
    },
    /// A validation result for a value nobody asked to validate at this height.
    #[error("validation result for a value with no pending validation at height {0}")]
    NoValidationRequested(Height),
    /// A commit certificate that does not verify.
    #[error("commit certificate rejected: {0}")]
    BadCertificate(CertificateError),
}

/// Names a kind of consensus message in drop reasons and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A proposal.
    Proposal,
    /// A vote of this kind.
    Vote(VoteKind),
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageKind::Proposal => f.write_str("proposal"),
            MessageKind::Vote(VoteKind::Prevote) => f.write_str("prevote"),
            MessageKind::Vote(VoteKind::Precommit) => f.write_str("precommit"),
        }
    }
}

/// Why [`Consensus::handle`](crate::Consensus::handle) or a constructor failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusError {
    /// The input was ignored (a peer's bad or late message, a stale application answer).
    /// Nothing changed; log it and carry on.
    #[error("input dropped: {0}")]
    Dropped(DropReason),
    /// Our own signing key is not in the validator set.
    #[error("signing key {0} is not in the validator set")]
    NotAValidator(PublicKey),
    /// `StartHeight` for a height not above the current one.
    #[error("cannot start height {requested}: already at height {current}")]
    HeightNotAhead {
        /// Our height.
        current: Height,
        /// The height asked for.
        requested: Height,
    },
    /// A persisted [`SafetyState`](crate::SafetyState) that this validator cannot have written.
    #[error("safety state rejected: {0}")]
    CorruptSafetyState(String),
}

impl ConsensusError {
    /// True for [`ConsensusError::Dropped`]: an ignored input, not a fault of this node.
    pub fn is_dropped(&self) -> bool {
        matches!(self, ConsensusError::Dropped(_))
    }
}

impl From<DropReason> for ConsensusError {
    fn from(r: DropReason) -> Self {
        ConsensusError::Dropped(r)
    }
}
