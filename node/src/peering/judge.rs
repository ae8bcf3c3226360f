//! What of the consensus gossip is worth handing on. Gossipsub forwards what the node
//! `Accept`s, so an accepted message costs every peer of the mesh; this decides, for an
//! authenticated consensus message (its signature already checked), whether it is
//! - a protocol violation no honest validator commits (a proposal from a validator that is not
//!   that round's proposer, a decided block gossiped instead of served by block sync):
//!   `Reject`, which costs the sender gossip score;
//! - stale (a height we have committed), too far ahead (a node that far behind catches up by
//!   block sync), already seen (re-sent copies), or one message too many for its slot (one
//!   validator, height, round and kind: honest validators sign one, an equivocator two — more
//!   only floods): `Ignore`, neither forwarded nor handed to the driver;
//! - otherwise new and useful: forwarded and handed on.
//!
//! Its memory is bounded: it keeps only heights from the next one to the window's end, a
//! bounded number of slots per validator and height, and a bounded number of messages a slot.

use crate::consensus_driver::ConsensusMessage;
use crate::network::Acceptance;
use custody_consensus::{Message, ValidatorSet, VoteKind};
use custody_ledger::encoding;
use custody_ledger::hash::Hash32;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Messages are handed on for heights up to this far above the next one.
pub const FUTURE_HEIGHTS: u64 = 4;
/// Distinct messages kept a slot (validator, height, round, kind): the state machine keeps
/// as many proposals per round, and two conflicting votes are the evidence.
pub const PER_SLOT: usize = 4;
/// Slots a validator may use at one height (an honest one uses at most three a round).
pub const SLOTS_PER_VALIDATOR: usize = 3 * 32;
/// A copy of a message seen this recently is not handed on again; an older one is (the
/// driver may have had no room for the first).
pub const SEEN_FOR: Duration = Duration::from_secs(5);

/// The verdict on one consensus message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Forward it and hand it to the driver or follower; `key` identifies it for
    /// [`ConsensusJudge::forget`].
    Deliver {
        /// Identifies the message.
        key: Hash32,
    },
    /// Neither forward nor hand on, with this verdict for gossipsub.
    Drop(Acceptance),
    /// One message too many for its slot or its validator's height (only a flooding
    /// validator signs that many): neither forwarded nor handed on, and not checked.
    /// `proven` once no honest validator could have signed it: a fifth distinct message
    /// in one slot, or twice the slots an honest validator uses in 32 rounds.
    Flood {
        /// Whether the author is proven to flood.
        proven: bool,
    },
}

#[derive(Default)]
struct HeightBook {
    /// When each message (by key) was last handed on.
    seen: HashMap<Hash32, Instant>,
    /// Distinct messages per slot.
    slots: HashMap<(u16, u32, u8), Vec<Hash32>>,
    /// Slots used per validator.
    per_validator: HashMap<u16, usize>,
    /// Slots refused per validator (past its bound).
    refused: HashMap<u16, usize>,
}

/// Judges consensus gossip for one node (see the module comment).
#[derive(Default)]
pub struct ConsensusJudge {
    heights: BTreeMap<u64, HeightBook>,
}

impl ConsensusJudge {
    /// A judge with nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Judges `msg`, the node's next height being `next`. The cheap checks come first;
    /// `authentic` (the signature check) runs only for a message that passes them, and
    /// only an authentic message is remembered (so forgeries cannot use up a validator's
    /// slots). A forgery is `Reject`ed.
    pub fn judge(
        &mut self,
        msg: &ConsensusMessage,
        set: &ValidatorSet,
        next: u64,
        now: Instant,
        authentic: impl FnOnce() -> bool,
    ) -> Judgement {
        // Heights below the next one are done with.
        while let Some(entry) = self.heights.first_entry() {
            if *entry.key() >= next {
                break;
            }
            entry.remove();
        }
        let (author, kind, signed, body) = match msg {
            // Block sync serves decided blocks point to point; no honest node gossips one.
            ConsensusMessage::Decided { .. } => return Judgement::Drop(Acceptance::Reject),
            ConsensusMessage::Proposal { proposal, .. }
            | ConsensusMessage::ProposalHeader(proposal) => {
                let p = &proposal.proposal;
                if p.proposer != set.proposer(p.height, p.round) {
                    return Judgement::Drop(Acceptance::Reject);
                }
                let body = matches!(msg, ConsensusMessage::Proposal { .. });
                let signed = encoding::encode(&Message::Proposal(proposal.clone()));
                (p.proposer, 0u8, signed, body)
            }
            ConsensusMessage::Vote(v) => {
                let kind = match v.vote.kind {
                    VoteKind::Prevote => 1,
                    VoteKind::Precommit => 2,
                };
                let signed = encoding::encode(&Message::Vote(v.clone()));
                (v.vote.validator, kind, signed, false)
            }
        };
        let h = msg.height();
        if h < next || h > next.saturating_add(FUTURE_HEIGHTS) {
            return Judgement::Drop(Acceptance::Ignore);
        }
        let key = Hash32::tagged(
            if body {
                "custody/gossip-seen/body"
            } else {
                "custody/gossip-seen"
            },
            &[&signed],
        );
        let book = self.heights.entry(h).or_default();
        if book
            .seen
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < SEEN_FOR)
        {
            return Judgement::Drop(Acceptance::Ignore);
        }
        // The slot counts signed messages, with or without a body.
        let signed_key = Hash32::tagged("custody/gossip-seen", &[&signed]);
        let round = msg.round() as u32;
        let slot = (author, round, kind);
        let new_slot = !book.slots.contains_key(&slot);
        if new_slot && book.per_validator.get(&author).copied().unwrap_or(0) >= SLOTS_PER_VALIDATOR
        {
            let refused = book.refused.entry(author).or_default();
            *refused += 1;
            return Judgement::Flood {
                proven: *refused > SLOTS_PER_VALIDATOR,
            };
        }
        let known_already = book
            .slots
            .get(&slot)
            .is_some_and(|k| k.contains(&signed_key));
        if !known_already && book.slots.get(&slot).is_some_and(|k| k.len() >= PER_SLOT) {
            return Judgement::Flood { proven: true };
        }
        if !authentic() {
            return Judgement::Drop(Acceptance::Reject);
        }
        if !known_already {
            book.slots.entry(slot).or_default().push(signed_key);
        }
        if new_slot {
            *book.per_validator.entry(author).or_default() += 1;
        }
        book.seen.insert(key, now);
        Judgement::Deliver { key }
    }

    /// Forgets that the message `key` at `height` was handed on (the driver had no room):
    /// its next copy is handed on again.
    pub fn forget(&mut self, height: u64, key: &Hash32) {
        if let Some(book) = self.heights.get_mut(&height) {
            book.seen.remove(key);
        }
    }

    /// Messages remembered now, across heights (for tests of its bound).
    pub fn remembered(&self) -> usize {
        self.heights.values().map(|b| b.seen.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{
        Height, Proposal, PublicKey, Round, SignedProposal, SignedVote, Validator, Vote,
    };
    use custody_ledger::block::Block;
    use custody_ledger::crypto::Signature;

    fn set() -> ValidatorSet {
        ValidatorSet::new(
            (0..4)
                .map(|i| Validator {
                    name: format!("v{i}"),
                    public_key: PublicKey([i; 32]),
                })
                .collect(),
        )
        .unwrap()
    }

    fn vote(h: u64, r: u32, who: u16, value: u8) -> ConsensusMessage {
        ConsensusMessage::Vote(SignedVote {
            vote: Vote {
                height: Height(h),
                round: Round(r),
                kind: VoteKind::Prevote,
                value: Some(Hash32([value; 32])),
                validator: who,
            },
            signature: Signature([0; 64]),
        })
    }

    fn proposal(h: u64, r: u32, who: u16, time: u64, body: bool) -> ConsensusMessage {
        let block = Block::new("c", h, Hash32::ZERO, time, who, vec![]);
        let proposal = SignedProposal {
            proposal: Proposal {
                height: Height(h),
                round: Round(r),
                value: block.hash(),
                valid_round: None,
                proposer: who,
            },
            signature: Signature([0; 64]),
        };
        if body {
            ConsensusMessage::Proposal { proposal, block }
        } else {
            ConsensusMessage::ProposalHeader(proposal)
        }
    }

    fn delivered(j: Judgement) -> bool {
        matches!(j, Judgement::Deliver { .. })
    }

    #[test]
    fn stale_far_future_and_repeated_messages_are_not_handed_on() {
        let (set, now) = (set(), Instant::now());
        let mut j = ConsensusJudge::new();
        assert!(delivered(j.judge(
            &vote(10, 0, 1, 1),
            &set,
            10,
            now,
            || true
        )));
        assert_eq!(
            j.judge(&vote(10, 0, 1, 1), &set, 10, now, || true),
            Judgement::Drop(Acceptance::Ignore),
            "a re-sent copy"
        );
        assert!(
            delivered(j.judge(&vote(10, 0, 1, 1), &set, 10, now + SEEN_FOR, || true)),
            "an old copy again: the first may have been lost"
        );
        assert_eq!(
            j.judge(&vote(9, 0, 1, 1), &set, 10, now, || true),
            Judgement::Drop(Acceptance::Ignore),
            "stale"
        );
        assert_eq!(
            j.judge(
                &vote(10 + FUTURE_HEIGHTS + 1, 0, 1, 1),
                &set,
                10,
                now,
                || true
            ),
            Judgement::Drop(Acceptance::Ignore),
            "too far ahead"
        );
        assert!(delivered(j.judge(
            &vote(10 + FUTURE_HEIGHTS, 0, 1, 1),
            &set,
            10,
            now,
            || true
        )));
    }

    #[test]
    fn a_proposal_from_a_validator_that_is_not_the_proposer_is_rejected() {
        let (set, now) = (set(), Instant::now());
        let mut j = ConsensusJudge::new();
        // Height 8, round 0: validator 0 proposes.
        assert!(delivered(j.judge(
            &proposal(8, 0, 0, 1, true),
            &set,
            8,
            now,
            || true
        )));
        assert_eq!(
            j.judge(&proposal(8, 0, 3, 1, true), &set, 8, now, || true),
            Judgement::Drop(Acceptance::Reject)
        );
        assert_eq!(
            j.judge(&proposal(8, 0, 3, 1, false), &set, 8, now, || true),
            Judgement::Drop(Acceptance::Reject)
        );
    }

    #[test]
    fn a_header_after_its_full_proposal_is_handed_on_once_and_a_flood_is_cut_off() {
        let (set, now) = (set(), Instant::now());
        let mut j = ConsensusJudge::new();
        // Height 5, round 2: validator (5 + 2) mod 4 = 3 proposes; it equivocates a lot.
        assert!(delivered(j.judge(
            &proposal(5, 2, 3, 1, true),
            &set,
            5,
            now,
            || true
        )));
        assert!(delivered(j.judge(
            &proposal(5, 2, 3, 1, false),
            &set,
            5,
            now,
            || true
        )));
        assert!(!delivered(j.judge(
            &proposal(5, 2, 3, 1, false),
            &set,
            5,
            now,
            || true
        )));
        let handed: usize = (2..1_000)
            .filter(|t| delivered(j.judge(&proposal(5, 2, 3, *t, true), &set, 5, now, || true)))
            .count();
        assert_eq!(handed, PER_SLOT - 1, "at most {PER_SLOT} proposals a slot");
        assert_eq!(
            j.judge(&proposal(5, 2, 3, 5_000, true), &set, 5, now, || true),
            Judgement::Flood { proven: true }
        );
        // Votes over many rounds: bounded per validator and height.
        let votes: usize = (0..10_000)
            .filter(|r| delivered(j.judge(&vote(5, *r, 2, 1), &set, 5, now, || true)))
            .count();
        assert_eq!(votes, SLOTS_PER_VALIDATOR);
        // Past the bound it is a flood, proven once twice the bound is used.
        assert_eq!(
            j.judge(&vote(5, 20_000, 2, 1), &set, 5, now, || true),
            Judgement::Flood { proven: true },
            "{} refused slots so far",
            10_000 - SLOTS_PER_VALIDATOR
        );
        assert!(j.remembered() <= 2 * PER_SLOT + SLOTS_PER_VALIDATOR);
        // Another validator is not crowded out.
        assert!(delivered(j.judge(&vote(5, 0, 1, 1), &set, 5, now, || true)));
        // A gossiped decided block is a protocol violation.
        let block = Block::new("c", 5, Hash32::ZERO, 1, 0, vec![]);
        let decided = ConsensusMessage::Decided {
            certificate: custody_consensus::CommitCertificate {
                height: Height(5),
                round: Round(0),
                value: block.hash(),
                signatures: vec![],
            },
            block,
        };
        assert_eq!(
            j.judge(&decided, &set, 5, now, || true),
            Judgement::Drop(Acceptance::Reject)
        );
        // Moving on forgets the heights passed.
        assert!(delivered(j.judge(&vote(6, 0, 1, 1), &set, 6, now, || true)));
        assert_eq!(j.remembered(), 1);
    }

    #[test]
    fn forgeries_are_rejected_and_take_no_room() {
        let (set, now) = (set(), Instant::now());
        let mut j = ConsensusJudge::new();
        for t in 0..10 {
            assert_eq!(
                j.judge(&proposal(5, 2, 3, t, true), &set, 5, now, || false),
                Judgement::Drop(Acceptance::Reject)
            );
        }
        assert_eq!(j.remembered(), 0);
        assert!(delivered(j.judge(
            &proposal(5, 2, 3, 99, true),
            &set,
            5,
            now,
            || true
        )));
        // Stale or too far ahead: not even checked.
        let never = || -> bool { panic!("no signature check for a stale message") };
        assert_eq!(
            j.judge(&vote(4, 0, 1, 1), &set, 5, now, never),
            Judgement::Drop(Acceptance::Ignore)
        );
    }

    #[test]
    fn forgotten_messages_are_handed_on_again() {
        let (set, now) = (set(), Instant::now());
        let mut j = ConsensusJudge::new();
        let Judgement::Deliver { key } = j.judge(&vote(3, 0, 1, 1), &set, 3, now, || true) else {
            panic!("first copy is delivered");
        };
        j.forget(3, &key);
        assert!(delivered(j.judge(&vote(3, 0, 1, 1), &set, 3, now, || true)));
    }
}
