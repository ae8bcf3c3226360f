//! The vote keeper: the votes of one height, counted per round, kind and value, one vote per
//! validator per round and kind. It answers the threshold questions of Alg. 1 ("2f+1
//! PREVOTE(h, r, id(v))", "f+1 messages of round r") and spots equivocations. It does not
//! verify signatures (the caller does, before adding) and decides nothing.

use crate::height::Round;
use crate::validator_set::ValidatorIndex;
use crate::vote::{SignedVote, VoteKind};
use std::collections::{BTreeMap, BTreeSet};

/// What happened to a vote given to [`VoteKeeper::add`].
#[derive(Debug, PartialEq, Eq)]
pub enum AddVote<V> {
    /// Counted.
    Added,
    /// The same vote (same value) was already counted.
    Duplicate,
    /// The validator already voted for another value in this round and kind. `first` is its
    /// earliest vote there; `counted` says whether this one was counted too (for its value).
    Conflicting {
        /// The validator's first vote in this round and kind.
        first: SignedVote<V>,
        /// Whether the new vote was counted for its own value.
        counted: bool,
    },
}

/// How many different values (nil included) we count per validator, round and kind, beyond
/// the values another validator voted for first. An honest validator votes once; an
/// equivocator's votes are counted per value (at most once per value), so a polka it helped
/// build elsewhere is still visible to us — counting a validator once per value keeps every
/// quorum argument intact, because two quorums for different values still share an honest
/// validator, who votes once.
///
/// The bound keeps an equivocator from filling our memory, but must not hide its part in a
/// quorum: an equivocator that signs many values could fill its first slots with junk, and
/// its vote in a polka that honest validators saw would never count here (a re-proposal with
/// that `validRound` would never be accepted). Every quorum holds an honest vote, which is
/// its voter's first (and only) vote in the round and kind; so a vote beyond the bound is
/// still counted when its value is another validator's first vote there. That makes at most
/// `MAX_VALUES_PER_VOTER + n - 1` values per voter, round and kind.
pub const MAX_VALUES_PER_VOTER: usize = 3;

/// The votes of one kind in one round.
#[derive(Debug, Clone)]
struct Tally<V> {
    /// Votes per value, one per validator and value.
    per_value: BTreeMap<Option<V>, BTreeMap<ValidatorIndex, SignedVote<V>>>,
    /// Each voter's votes in arrival order (one per value).
    by_validator: BTreeMap<ValidatorIndex, Vec<SignedVote<V>>>,
}

impl<V> Default for Tally<V> {
    fn default() -> Self {
        Tally {
            per_value: BTreeMap::new(),
            by_validator: BTreeMap::new(),
        }
    }
}

/// Everything heard in one round.
#[derive(Debug, Clone)]
struct RoundVotes<V> {
    prevotes: Tally<V>,
    precommits: Tally<V>,
    /// Validators that sent any message (vote or proposal) in this round (line 55).
    senders: BTreeSet<ValidatorIndex>,
}

impl<V> Default for RoundVotes<V> {
    fn default() -> Self {
        RoundVotes {
            prevotes: Tally::default(),
            precommits: Tally::default(),
            senders: BTreeSet::new(),
        }
    }
}

impl<V> RoundVotes<V> {
    fn tally(&self, kind: VoteKind) -> &Tally<V> {
        match kind {
            VoteKind::Prevote => &self.prevotes,
            VoteKind::Precommit => &self.precommits,
        }
    }
}

/// Counts the votes of one height (see the module doc).
#[derive(Debug, Clone)]
pub struct VoteKeeper<V> {
    quorum: usize,
    rounds: BTreeMap<Round, RoundVotes<V>>,
}

impl<V: Clone + Ord> VoteKeeper<V> {
    /// An empty keeper for a validator set whose quorum is `quorum` (2f+1).
    pub fn new(quorum: usize) -> Self {
        VoteKeeper {
            quorum,
            rounds: BTreeMap::new(),
        }
    }

    /// Counts `vote` for its value unless its validator already has a vote for that value in
    /// that round and kind (see [`MAX_VALUES_PER_VOTER`] for equivocators).
    pub fn add(&mut self, vote: SignedVote<V>) -> AddVote<V> {
        let rv = self.rounds.entry(vote.vote.round).or_default();
        let tally = match vote.vote.kind {
            VoteKind::Prevote => &mut rv.prevotes,
            VoteKind::Precommit => &mut rv.precommits,
        };
        let who = vote.vote.validator;
        // Another validator's first vote in this round and kind is for this value.
        let supported = tally.per_value.get(&vote.vote.value).is_some_and(|voters| {
            voters.keys().any(|w| {
                *w != who
                    && tally
                        .by_validator
                        .get(w)
                        .and_then(|l| l.first())
                        .is_some_and(|f| f.vote.value == vote.vote.value)
            })
        });
        let mine = tally.by_validator.entry(who).or_default();
        if mine.iter().any(|v| v.vote.value == vote.vote.value) {
            return AddVote::Duplicate;
        }
        let first = mine.first().cloned();
        let counted = mine.len() < MAX_VALUES_PER_VOTER || supported;
        if counted {
            mine.push(vote.clone());
            rv.senders.insert(who);
            tally
                .per_value
                .entry(vote.vote.value.clone())
                .or_default()
                .insert(who, vote);
        }
        match first {
            None => AddVote::Added,
            Some(first) => AddVote::Conflicting { first, counted },
        }
    }

    /// True when exactly this vote's validator, round, kind and value are already counted.
    pub fn contains(&self, vote: &crate::vote::Vote<V>) -> bool {
        self.rounds.get(&vote.round).is_some_and(|rv| {
            rv.tally(vote.kind)
                .by_validator
                .get(&vote.validator)
                .is_some_and(|l| l.iter().any(|v| v.vote.value == vote.value))
        })
    }

    /// Records that `validator` sent a (verified) proposal in `round`, for line 55.
    pub fn add_sender(&mut self, round: Round, validator: ValidatorIndex) {
        self.rounds
            .entry(round)
            .or_default()
            .senders
            .insert(validator);
    }

    /// Validators that voted `kind` in `round` for `value` (`None` counts nil votes).
    pub fn count(&self, round: Round, kind: VoteKind, value: Option<&V>) -> usize {
        let Some(rv) = self.rounds.get(&round) else {
            return 0;
        };
        rv.tally(kind)
            .per_value
            .iter()
            .find_map(|(k, voters)| (k.as_ref() == value).then_some(voters.len()))
            .unwrap_or(0)
    }

    /// Distinct validators that voted `kind` in `round`, for anything (`2f+1 ⟨*, h, r, *⟩`).
    pub fn total(&self, round: Round, kind: VoteKind) -> usize {
        self.rounds
            .get(&round)
            .map_or(0, |rv| rv.tally(kind).by_validator.len())
    }

    /// True when `value` has 2f+1 votes of `kind` in `round`.
    pub fn has_quorum(&self, round: Round, kind: VoteKind, value: Option<&V>) -> bool {
        self.count(round, kind, value) >= self.quorum
    }

    /// The value (or nil) with 2f+1 votes of `kind` in `round`. With at most f faulty
    /// validators there is at most one: two quorums share an honest validator.
    pub fn quorum_value(&self, round: Round, kind: VoteKind) -> Option<Option<&V>> {
        let rv = self.rounds.get(&round)?;
        rv.tally(kind)
            .per_value
            .iter()
            .find(|(_, voters)| voters.len() >= self.quorum)
            .map(|(v, _)| v.as_ref())
    }

    /// Rounds with 2f+1 precommits for one (non-nil) value, lowest round first.
    pub fn precommit_quorums(&self) -> Vec<(Round, &V)> {
        self.rounds
            .keys()
            .filter_map(|r| match self.quorum_value(*r, VoteKind::Precommit) {
                Some(Some(v)) => Some((*r, v)),
                _ => None,
            })
            .collect()
    }

    /// The votes of `kind` in `round` for `value`, by increasing validator index.
    pub fn votes_for<'a>(
        &'a self,
        round: Round,
        kind: VoteKind,
        value: &'a V,
    ) -> impl Iterator<Item = &'a SignedVote<V>> + 'a {
        self.rounds
            .get(&round)
            .into_iter()
            .flat_map(move |rv| rv.tally(kind).per_value.iter())
            .filter(move |(k, _)| k.as_ref() == Some(value))
            .flat_map(|(_, voters)| voters.values())
    }

    /// How many distinct validators sent anything in `round`.
    pub fn senders(&self, round: Round) -> usize {
        self.rounds.get(&round).map_or(0, |rv| rv.senders.len())
    }

    /// The highest round above `round` in which at least `threshold` validators sent
    /// something (Alg. 1 line 55 with `threshold = f+1`).
    pub fn highest_round_with_senders_above(
        &self,
        round: Round,
        threshold: usize,
    ) -> Option<Round> {
        self.rounds
            .range(Round(round.0.saturating_add(1))..)
            .rev()
            .find(|(_, rv)| rv.senders.len() >= threshold)
            .map(|(r, _)| *r)
    }

    /// How many rounds have anything kept (a vote, or a proposal's sender).
    pub fn round_count(&self) -> usize {
        self.rounds.len()
    }

    /// How many rounds above `round` have anything kept.
    pub fn rounds_above(&self, round: Round) -> usize {
        self.rounds
            .range(Round(round.0.saturating_add(1))..)
            .count()
    }

    /// How many votes are kept, all rounds and kinds.
    pub fn len(&self) -> usize {
        self.rounds
            .values()
            .flat_map(|rv| [&rv.prevotes, &rv.precommits])
            .flat_map(|t| t.by_validator.values())
            .map(Vec::len)
            .sum()
    }

    /// True when no vote is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rounds above `round` in which `validator` sent something.
    pub fn rounds_above_from(&self, round: Round, validator: ValidatorIndex) -> BTreeSet<Round> {
        self.rounds
            .range(Round(round.0.saturating_add(1))..)
            .filter(|(_, rv)| rv.senders.contains(&validator))
            .map(|(r, _)| *r)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::height::Height;
    use crate::vote::Vote;
    use crate::Signature;

    fn vote(validator: u16, round: u32, kind: VoteKind, value: Option<u8>) -> SignedVote<[u8; 1]> {
        SignedVote {
            vote: Vote {
                height: Height(1),
                round: Round(round),
                kind,
                value: value.map(|v| [v]),
                validator,
            },
            signature: Signature([0; 64]),
        }
    }

    #[test]
    fn counts_one_vote_per_validator_and_spots_conflicts() {
        let mut k = VoteKeeper::new(3);
        assert_eq!(
            k.add(vote(0, 0, VoteKind::Prevote, Some(1))),
            AddVote::Added
        );
        assert_eq!(
            k.add(vote(0, 0, VoteKind::Prevote, Some(1))),
            AddVote::Duplicate
        );
        assert_eq!(
            k.add(vote(0, 0, VoteKind::Prevote, None)),
            AddVote::Conflicting {
                first: vote(0, 0, VoteKind::Prevote, Some(1)),
                counted: true
            }
        );
        assert_eq!(k.count(Round(0), VoteKind::Prevote, None), 1);
        assert_eq!(k.total(Round(0), VoteKind::Prevote), 1);
        // At most MAX_VALUES_PER_VOTER values per voter are counted.
        k.add(vote(0, 0, VoteKind::Prevote, Some(2)));
        assert!(matches!(
            k.add(vote(0, 0, VoteKind::Prevote, Some(3))),
            AddVote::Conflicting { counted: false, .. }
        ));
        assert_eq!(k.add(vote(0, 0, VoteKind::Precommit, None)), AddVote::Added);
        assert_eq!(
            k.add(vote(1, 0, VoteKind::Prevote, Some(1))),
            AddVote::Added
        );
        assert_eq!(k.quorum_value(Round(0), VoteKind::Prevote), None);
        assert_eq!(
            k.add(vote(2, 0, VoteKind::Prevote, Some(1))),
            AddVote::Added
        );
        assert_eq!(
            k.quorum_value(Round(0), VoteKind::Prevote),
            Some(Some(&[1]))
        );
        assert_eq!(k.count(Round(0), VoteKind::Prevote, Some(&[1])), 3);
        assert_eq!(k.total(Round(0), VoteKind::Precommit), 1);
        assert_eq!(k.senders(Round(0)), 3);
    }

    /// An equivocator fills its first slots with junk, then votes for the value of a polka
    /// that another (honest) validator is part of: that vote still counts, so the polka can
    /// be seen here too. A vote for a value nobody else voted for first does not.
    #[test]
    fn an_equivocator_cannot_hide_its_part_in_a_quorum_behind_junk_votes() {
        let mut k = VoteKeeper::new(3);
        for junk in 10..10 + MAX_VALUES_PER_VOTER as u8 {
            k.add(vote(0, 2, VoteKind::Prevote, Some(junk)));
        }
        assert!(matches!(
            k.add(vote(0, 2, VoteKind::Prevote, Some(99))),
            AddVote::Conflicting { counted: false, .. }
        ));
        // Validators 1 and 2 prevote 7; the equivocator's prevote for 7 arrives last.
        k.add(vote(1, 2, VoteKind::Prevote, Some(7)));
        k.add(vote(2, 2, VoteKind::Prevote, Some(7)));
        assert!(matches!(
            k.add(vote(0, 2, VoteKind::Prevote, Some(7))),
            AddVote::Conflicting { counted: true, .. }
        ));
        assert!(k.has_quorum(Round(2), VoteKind::Prevote, Some(&[7])));
        // Supported only by its own first vote: not enough.
        assert!(matches!(
            k.add(vote(0, 2, VoteKind::Prevote, Some(98))),
            AddVote::Conflicting { counted: false, .. }
        ));
    }

    #[test]
    fn finds_rounds_ahead_with_enough_senders() {
        let mut k = VoteKeeper::new(3);
        k.add(vote(0, 5, VoteKind::Prevote, None));
        k.add(vote(1, 3, VoteKind::Precommit, None));
        k.add_sender(Round(3), 2);
        assert_eq!(
            k.highest_round_with_senders_above(Round(0), 2),
            Some(Round(3))
        );
        assert_eq!(
            k.highest_round_with_senders_above(Round(0), 1),
            Some(Round(5))
        );
        assert_eq!(k.highest_round_with_senders_above(Round(5), 1), None);
        assert_eq!(k.rounds_above_from(Round(2), 0).len(), 1);
    }

    proptest::proptest! {
        /// Against a simple model: each value counts each voter once (up to the per-voter
        /// cap), and with at most f equivocators no two values reach a quorum in a round.
        #[test]
        fn counts_match_a_model_and_quorums_are_unique(
            n in 4usize..11,
            raw in proptest::collection::vec((0u16..10, 0u32..3, proptest::bool::ANY, 0u8..4), 0..200),
        ) {
            let f = (n - 1) / 3;
            let quorum = n - f;
            let mut k = VoteKeeper::new(quorum);
            // Validators below f may equivocate; the others vote once per round and kind.
            let mut honest_votes: BTreeMap<(u16, u32, bool), u8> = BTreeMap::new();
            let mut model: BTreeMap<(u32, bool, u8), BTreeSet<u16>> = BTreeMap::new();
            let mut per_voter: BTreeMap<(u16, u32, bool), BTreeSet<u8>> = BTreeMap::new();
            let mut first_vote: BTreeMap<(u16, u32, bool), u8> = BTreeMap::new();
            for (who, round, pre, value) in raw {
                let who = who % n as u16;
                if usize::from(who) >= f && *honest_votes.entry((who, round, pre)).or_insert(value) != value {
                    continue;
                }
                let kind = if pre { VoteKind::Prevote } else { VoteKind::Precommit };
                let v = (value > 0).then_some(value);
                k.add(vote(who, round, kind, v));
                let supported = first_vote
                    .iter()
                    .any(|((w, r, p), f)| *w != who && (*r, *p, *f) == (round, pre, value));
                let mine = per_voter.entry((who, round, pre)).or_default();
                if mine.contains(&value) || mine.len() < MAX_VALUES_PER_VOTER || supported {
                    mine.insert(value);
                    first_vote.entry((who, round, pre)).or_insert(value);
                    model.entry((round, pre, value)).or_default().insert(who);
                }
            }
            for ((round, pre, value), voters) in &model {
                let kind = if *pre { VoteKind::Prevote } else { VoteKind::Precommit };
                let v = (*value > 0).then_some([*value]);
                proptest::prop_assert_eq!(k.count(Round(*round), kind, v.as_ref()), voters.len());
            }
            for round in 0..3 {
                for kind in [VoteKind::Prevote, VoteKind::Precommit] {
                    let with_quorum = (0u8..4)
                        .filter(|value| {
                            let v = (*value > 0).then_some([*value]);
                            k.has_quorum(Round(round), kind, v.as_ref())
                        })
                        .count();
                    proptest::prop_assert!(with_quorum <= 1);
                }
            }
        }
    }
}
