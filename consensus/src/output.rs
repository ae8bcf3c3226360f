//! Outputs: the commands [`Consensus::handle`](crate::Consensus::handle) gives the node, to be
//! carried out in order. Plain data.

use crate::certificate::CommitCertificate;
use crate::evidence::Evidence;
use crate::height::{Height, Round};
use crate::message::Message;
use crate::safety::SafetyState;
use crate::timeouts::Timeout;

/// A command for the node. Carry them out in the order given (see
/// [`Consensus::handle`](crate::Consensus::handle), `# Correctness`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output<V> {
    /// Durably store this state (replacing the previous one) before carrying out any later
    /// output of the batch. It covers every message broadcast after it.
    PersistSafety(SafetyState<V>),
    /// Send this signed message to every validator (and keep re-gossiping it while the height
    /// is undecided).
    Broadcast(Message<V>),
    /// Feed [`Input::TimeoutElapsed`](crate::Input::TimeoutElapsed)`(timeout)` back after
    /// `duration_ms` milliseconds. Timers are never cancelled; stale ones are ignored.
    ScheduleTimeout {
        /// The timer.
        timeout: Timeout,
        /// Its duration.
        duration_ms: u64,
    },
    /// We propose this round: answer with [`Input::ValueToPropose`](crate::Input::ValueToPropose).
    RequestValue {
        /// The height.
        height: Height,
        /// The round.
        round: Round,
    },
    /// Check this proposed value: answer with
    /// [`Input::ValueValidated`](crate::Input::ValueValidated).
    ValidateValue {
        /// The height.
        height: Height,
        /// The round it was proposed in.
        round: Round,
        /// The value.
        value: V,
    },
    /// The height is decided: commit `value` with its certificate, then start the next height.
    Decide {
        /// The decided height.
        height: Height,
        /// The decided value.
        value: V,
        /// 2f+1 precommits for it, verifiable with [`CommitCertificate::verify`].
        certificate: CommitCertificate<V>,
    },
    /// A validator signed two conflicting messages.
    Equivocation(Evidence<V>),
}
