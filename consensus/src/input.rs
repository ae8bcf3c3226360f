//! Inputs: the facts the node feeds into [`Consensus::handle`](crate::Consensus::handle).
//! Plain data.

use crate::certificate::CommitCertificate;
use crate::height::Height;
use crate::message::Message;
use crate::proposal::SignedProposal;
use crate::timeouts::Timeout;
use crate::vote::SignedVote;

/// Something that happened, for the state machine to react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<V> {
    /// Start (or jump to) this height at round 0; the node calls it once the previous height
    /// is committed (or on first start).
    StartHeight(Height),
    /// A proposal from a peer (not one of our own).
    ProposalReceived(SignedProposal<V>),
    /// A vote from a peer (not one of our own).
    VoteReceived(SignedVote<V>),
    /// A timer from [`Output::ScheduleTimeout`](crate::Output::ScheduleTimeout) fired.
    TimeoutElapsed(crate::timeouts::Timeout),
    /// The application's answer to [`Output::RequestValue`](crate::Output::RequestValue).
    ValueToPropose(V),
    /// The application's answer to [`Output::ValidateValue`](crate::Output::ValidateValue).
    ValueValidated {
        /// The value it checked.
        value: V,
        /// Whether it may be decided (Alg. 1 `valid(v)`).
        valid: bool,
    },
    /// A commit certificate for the current height learnt from a peer (block sync); it
    /// decides the height if it verifies.
    CertificateReceived(CommitCertificate<V>),
}

impl<V> From<Message<V>> for Input<V> {
    fn from(m: Message<V>) -> Self {
        match m {
            Message::Proposal(p) => Input::ProposalReceived(p),
            Message::Vote(v) => Input::VoteReceived(v),
        }
    }
}

impl<V> From<Timeout> for Input<V> {
    fn from(t: Timeout) -> Self {
        Input::TimeoutElapsed(t)
    }
}
