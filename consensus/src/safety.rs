//! The safety state: everything a validator must remember across a crash so that it never
//! signs two conflicting messages — its height, round and step, its lock and valid value
//! (with the polka that justifies it), and every message it has signed at this height. The node persists it durably when asked
//! ([`Output::PersistSafety`](crate::Output::PersistSafety)) and hands it back to
//! [`Consensus::restore`](crate::Consensus::restore) on start.
//!
//! This module also holds the signing guard ([`SafetyState::check_vote`],
//! [`SafetyState::check_proposal`]). It never signs, persists or talks to anyone itself.

use crate::height::{Height, Round};
use crate::message::Message;
use crate::proposal::{Proposal, SignedProposal};
use crate::vote::{SignedVote, Vote, VoteKind};
use serde::{Deserialize, Serialize};

/// The step of a round (Alg. 1 `step_p`), plus `Commit` once the height is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Step {
    /// Waiting for the round's proposal.
    Propose,
    /// Prevoted; waiting for prevotes.
    Prevote,
    /// Precommitted; waiting for precommits.
    Precommit,
    /// The height is decided; waiting for the node to start the next one.
    Commit,
}

/// A value together with the round it was locked or validated in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundValue<V> {
    /// The value.
    pub value: V,
    /// The round of the polka that justified it.
    pub round: Round,
}

/// What this validator must never forget (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyState<V> {
    /// The current height (`h_p`).
    pub height: Height,
    /// The current round (`round_p`).
    pub round: Round,
    /// The current step (`step_p`).
    pub step: Step,
    /// `lockedValue` / `lockedRound`; `None` is the paper's `nil` / `-1`.
    pub locked: Option<RoundValue<V>>,
    /// `validValue` / `validRound`; `None` is the paper's `nil` / `-1`.
    pub valid: Option<RoundValue<V>>,
    /// The 2f+1 prevotes for `valid` in its round (the proof of lock). Kept so that after a
    /// restart this validator can still justify re-proposing `valid` (Alg. 1 line 28) and
    /// peers can be sent the polka; without it a restarted validator loses liveness.
    pub valid_polka: Vec<SignedVote<V>>,
    /// Every proposal and vote this validator signed at `height`, in signing order.
    pub signed: Vec<Message<V>>,
}

/// What the signing guard says about a message we are about to sign.
#[derive(Debug, PartialEq, Eq)]
pub enum SignCheck<'a, V> {
    /// Nothing conflicting was signed: sign it.
    Fresh,
    /// This exact message was signed before: re-send that one, do not sign again.
    AlreadySigned(&'a Message<V>),
    /// A different message for the same slot was signed: signing would equivocate.
    Conflicts(&'a Message<V>),
}

impl<V: PartialEq> SafetyState<V> {
    /// The state at the start of `height`: round 0, propose step, no lock, nothing signed.
    pub fn new(height: Height) -> Self {
        SafetyState {
            height,
            round: Round(0),
            step: Step::Propose,
            locked: None,
            valid: None,
            valid_polka: Vec::new(),
            signed: Vec::new(),
        }
    }

    /// Checks `vote` against the votes already signed for its height, round and kind.
    pub fn check_vote(&self, vote: &Vote<V>) -> SignCheck<'_, V> {
        for m in &self.signed {
            if let Message::Vote(SignedVote { vote: old, .. }) = m {
                if old.height == vote.height && old.round == vote.round && old.kind == vote.kind {
                    return if old == vote {
                        SignCheck::AlreadySigned(m)
                    } else {
                        SignCheck::Conflicts(m)
                    };
                }
            }
        }
        SignCheck::Fresh
    }

    /// Checks `proposal` against the proposals already signed for its height and round.
    pub fn check_proposal(&self, proposal: &Proposal<V>) -> SignCheck<'_, V> {
        for m in &self.signed {
            if let Message::Proposal(SignedProposal { proposal: old, .. }) = m {
                if old.height == proposal.height && old.round == proposal.round {
                    return if old == proposal {
                        SignCheck::AlreadySigned(m)
                    } else {
                        SignCheck::Conflicts(m)
                    };
                }
            }
        }
        SignCheck::Fresh
    }

    /// The vote of `kind` this validator signed in `round`, if any.
    pub fn signed_vote(&self, round: Round, kind: VoteKind) -> Option<&SignedVote<V>> {
        self.signed.iter().find_map(|m| match m {
            Message::Vote(v) if v.vote.round == round && v.vote.kind == kind => Some(v),
            _ => None,
        })
    }
}
