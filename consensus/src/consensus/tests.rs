//! Step tables for the state machine: one validator (index 0 unless said otherwise) of a
//! 4-validator set (f = 1, quorum 3), fed hand-made signed messages from the other three.

use super::*;
use crate::timeouts::Timeouts;
use crate::validator_set::Validator;
use ed25519_dalek::SigningKey;

type V = [u8; 32];
const A: V = [0xA; 32];
const B: V = [0xB; 32];
const H: Height = Height(1);
const CHAIN: &str = "test-chain";

struct Fixture {
    keys: Vec<SigningKey>,
    set: ValidatorSet,
}

fn fixture() -> Fixture {
    let keys: Vec<SigningKey> = (0..4u8)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    let set = ValidatorSet::new(
        keys.iter()
            .enumerate()
            .map(|(i, k)| Validator {
                name: format!("v{i}"),
                public_key: k.public_key(),
            })
            .collect(),
    )
    .expect("four distinct keys");
    Fixture { keys, set }
}

impl Fixture {
    fn node(&self, i: usize) -> Consensus<V, SigningKey> {
        Consensus::new(
            Config::default(),
            self.keys[i].clone(),
            self.set.clone(),
            CHAIN,
        )
        .unwrap()
    }

    fn started(&self, i: usize) -> (Consensus<V, SigningKey>, Vec<Output<V>>) {
        let mut c = self.node(i);
        let out = c.handle(Input::StartHeight(H)).unwrap();
        (c, out)
    }

    fn signed_vote(&self, i: u16, r: u32, kind: VoteKind, value: Option<V>) -> SignedVote<V> {
        let vote = Vote {
            height: H,
            round: Round(r),
            kind,
            value,
            validator: i,
        };
        let signature = self.keys[usize::from(i)].sign(&vote.sign_bytes(CHAIN));
        SignedVote { vote, signature }
    }

    fn vote(&self, i: u16, r: u32, kind: VoteKind, value: Option<V>) -> Input<V> {
        Input::VoteReceived(self.signed_vote(i, r, kind, value))
    }

    fn prevote(&self, i: u16, r: u32, value: Option<V>) -> Input<V> {
        self.vote(i, r, VoteKind::Prevote, value)
    }

    fn precommit(&self, i: u16, r: u32, value: Option<V>) -> Input<V> {
        self.vote(i, r, VoteKind::Precommit, value)
    }

    fn signed_proposal(&self, r: u32, value: V, vr: Option<u32>) -> SignedProposal<V> {
        let proposer = self.set.proposer(H, Round(r));
        let proposal = Proposal {
            height: H,
            round: Round(r),
            value,
            valid_round: vr.map(Round),
            proposer,
        };
        let signature = self.keys[usize::from(proposer)].sign(&proposal.sign_bytes(CHAIN));
        SignedProposal {
            proposal,
            signature,
        }
    }

    fn proposal(&self, r: u32, value: V, vr: Option<u32>) -> Input<V> {
        Input::ProposalReceived(self.signed_proposal(r, value, vr))
    }
}

fn valid(value: V) -> Input<V> {
    Input::ValueValidated { value, valid: true }
}

fn timeout(r: u32, step: TimeoutStep) -> Input<V> {
    Input::TimeoutElapsed(Timeout {
        height: H,
        round: Round(r),
        step,
    })
}

/// The votes this batch broadcasts, as (round, kind, value).
fn votes(out: &[Output<V>]) -> Vec<(u32, VoteKind, Option<V>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Broadcast(Message::Vote(v)) => {
                Some((v.vote.round.0, v.vote.kind, v.vote.value))
            }
            _ => None,
        })
        .collect()
}

fn proposals(out: &[Output<V>]) -> Vec<(u32, V, Option<Round>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Broadcast(Message::Proposal(p)) => {
                Some((p.proposal.round.0, p.proposal.value, p.proposal.valid_round))
            }
            _ => None,
        })
        .collect()
}

fn scheduled(out: &[Output<V>]) -> Vec<(u32, TimeoutStep)> {
    out.iter()
        .filter_map(|o| match o {
            Output::ScheduleTimeout { timeout, .. } => Some((timeout.round.0, timeout.step)),
            _ => None,
        })
        .collect()
}

fn persisted(out: &[Output<V>]) -> Option<SafetyState<V>> {
    out.iter().find_map(|o| match o {
        Output::PersistSafety(s) => Some(s.clone()),
        _ => None,
    })
}

/// The output-order contract: a PersistSafety listing each newly broadcast message precedes it.
fn assert_persist_before_broadcast(out: &[Output<V>], before: &SafetyState<V>) {
    let mut persisted: Option<&SafetyState<V>> = None;
    for o in out {
        match o {
            Output::PersistSafety(s) => persisted = Some(s),
            Output::Broadcast(m) if !before.signed.contains(m) => {
                let s = persisted.expect("a new message is broadcast before any PersistSafety");
                assert!(s.signed.contains(m), "persisted state does not list {m:?}");
            }
            _ => {}
        }
    }
}

/// Drives validator 0 to a polka on A in round 0: it prevotes A and then sees two more.
fn lock_on_a_in_round_0(fx: &Fixture) -> (Consensus<V, SigningKey>, Vec<Output<V>>) {
    let (mut c, _) = fx.started(0);
    let out = c.handle(fx.proposal(0, A, None)).unwrap();
    assert!(out.contains(&Output::ValidateValue {
        height: H,
        round: Round(0),
        value: A
    }));
    assert!(
        votes(&out).is_empty(),
        "no prevote before valid(v) is known"
    );
    let out = c.handle(valid(A)).unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Prevote, Some(A))]);
    c.handle(fx.prevote(1, 0, Some(A))).unwrap();
    let before = c.safety_state().clone();
    let out = c.handle(fx.prevote(2, 0, Some(A))).unwrap();
    assert_persist_before_broadcast(&out, &before);
    (c, out)
}

#[test]
fn locks_on_a_polka() {
    let fx = fixture();
    let (c, out) = lock_on_a_in_round_0(&fx);
    // Alg. 1 lines 36-43.
    assert_eq!(votes(&out), vec![(0, VoteKind::Precommit, Some(A))]);
    assert_eq!(c.step(), Step::Precommit);
    let lock = Some(RoundValue {
        value: A,
        round: Round(0),
    });
    assert_eq!(c.safety_state().locked, lock);
    assert_eq!(c.safety_state().valid, lock);
    assert_eq!(
        persisted(&out).unwrap().locked,
        lock,
        "the lock is persisted with the precommit"
    );
}

/// Round 0 ends with A locked; the precommit timeout moves validator 0 to round 1.
fn locked_on_a_in_round_1(fx: &Fixture) -> Consensus<V, SigningKey> {
    let (mut c, _) = lock_on_a_in_round_0(fx);
    c.handle(fx.precommit(1, 0, None)).unwrap();
    let out = c.handle(fx.precommit(2, 0, None)).unwrap();
    assert_eq!(scheduled(&out), vec![(0, TimeoutStep::Precommit)]);
    let out = c.handle(timeout(0, TimeoutStep::Precommit)).unwrap();
    assert_eq!(scheduled(&out), vec![(1, TimeoutStep::Propose)]);
    assert_eq!((c.round(), c.step()), (Round(1), Step::Propose));
    c
}

#[test]
fn a_lock_refuses_a_new_value_then_relocks_on_a_later_polka() {
    let fx = fixture();
    let mut c = locked_on_a_in_round_1(&fx);
    // Lines 22-27: PROPOSAL(B, −1) while locked on A: prevote nil.
    c.handle(fx.proposal(1, B, None)).unwrap();
    let out = c.handle(valid(B)).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Prevote, None)]);
    // Lines 36-43: a polka for B in round 1 while in prevote: relock on B, precommit B.
    c.handle(fx.prevote(1, 1, Some(B))).unwrap();
    c.handle(fx.prevote(2, 1, Some(B))).unwrap();
    let out = c.handle(fx.prevote(3, 1, Some(B))).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Precommit, Some(B))]);
    let lock = Some(RoundValue {
        value: B,
        round: Round(1),
    });
    assert_eq!(c.safety_state().locked, lock);
    assert_eq!(c.safety_state().valid, lock);
}

#[test]
fn a_proposal_with_a_later_valid_round_unlocks() {
    let fx = fixture();
    let mut c = locked_on_a_in_round_1(&fx);
    // Round 1 ends with nothing for validator 0 (it prevotes nil on a timeout), but the others
    // saw a polka for B in round 1.
    c.handle(timeout(1, TimeoutStep::Propose)).unwrap();
    for i in 1..=3 {
        c.handle(fx.prevote(i, 1, Some(B))).unwrap();
    }
    // No proposal for B in round 1 was seen: no relock.
    assert_eq!(c.safety_state().locked.as_ref().unwrap().value, A);
    c.handle(fx.precommit(1, 1, Some(B))).unwrap();
    c.handle(fx.precommit(2, 1, None)).unwrap();
    c.handle(timeout(1, TimeoutStep::Prevote)).unwrap();
    c.handle(timeout(1, TimeoutStep::Precommit)).unwrap();
    assert_eq!(c.round(), Round(2));
    // Lines 28-33: PROPOSAL(B, vr = 1) with 2f+1 PREVOTE(1, B); lockedRound 0 ≤ 1: prevote B.
    c.handle(fx.proposal(2, B, Some(1))).unwrap();
    let out = c.handle(valid(B)).unwrap();
    assert_eq!(votes(&out), vec![(2, VoteKind::Prevote, Some(B))]);
}

#[test]
fn a_valid_round_without_its_polka_waits_for_the_timeout() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    // Skip to round 2 (f+1 = 2 validators are there).
    c.handle(fx.precommit(2, 2, None)).unwrap();
    c.handle(fx.precommit(3, 2, None)).unwrap();
    assert_eq!(c.round(), Round(2));
    c.handle(fx.proposal(2, B, Some(1))).unwrap();
    let out = c.handle(valid(B)).unwrap();
    assert!(votes(&out).is_empty(), "line 28 needs the polka at vr");
    let out = c.handle(timeout(2, TimeoutStep::Propose)).unwrap();
    assert_eq!(votes(&out), vec![(2, VoteKind::Prevote, None)]);
}

#[test]
fn skips_to_a_round_that_f_plus_one_validators_are_in() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    // f = 1 message of round 5 proves nothing.
    let out = c.handle(fx.prevote(1, 5, None)).unwrap();
    assert!(out.is_empty());
    assert_eq!(c.round(), Round(0));
    // Line 55: f+1 = 2 validators in round 5.
    let out = c.handle(fx.precommit(2, 5, None)).unwrap();
    assert_eq!(c.round(), Round(5));
    assert_eq!(scheduled(&out), vec![(5, TimeoutStep::Propose)]);
    let d = Timeouts::default();
    assert!(out.contains(&Output::ScheduleTimeout {
        timeout: Timeout {
            height: H,
            round: Round(5),
            step: TimeoutStep::Propose
        },
        duration_ms: d.propose_ms + 5 * d.propose_delta_ms
    }));
}

/// A byzantine validator's body never reached us, so the node never answered
/// `ValidateValue`; the validators that had it locked on it. When an honest proposer
/// re-proposes it (with the body this time) we must be asked again, or we can never prevote
/// it and, with the byzantine validator silent, the locked ones never reach a quorum.
#[test]
fn an_unanswered_validation_is_asked_again_when_the_value_is_reproposed() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    let asked = |out: &[Output<V>], r: u32| {
        out.contains(&Output::ValidateValue {
            height: H,
            round: Round(r),
            value: A,
        })
    };
    let out = c.handle(fx.proposal(0, A, None)).unwrap();
    assert!(asked(&out, 0));
    // No answer: timeoutPropose, then the others' polka and precommits on A.
    let out = c.handle(timeout(0, TimeoutStep::Propose)).unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Prevote, None)]);
    for i in 1..=3 {
        c.handle(fx.prevote(i, 0, Some(A))).unwrap();
    }
    let out = c.handle(timeout(0, TimeoutStep::Prevote)).unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Precommit, None)]);
    c.handle(fx.precommit(1, 0, Some(A))).unwrap();
    c.handle(fx.precommit(2, 0, Some(A))).unwrap();
    c.handle(timeout(0, TimeoutStep::Precommit)).unwrap();
    assert_eq!(c.round(), Round(1));
    // Lines 14-15 at validator 2: A again, with validRound 0.
    let out = c.handle(fx.proposal(1, A, Some(0))).unwrap();
    assert!(asked(&out, 1), "a still unanswered value is asked again");
    let out = c.handle(valid(A)).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Prevote, Some(A))]);
    // An answered value is not asked again.
    let out = c.handle(fx.proposal(3, A, Some(0))).unwrap_or_default();
    assert!(!asked(&out, 3));
}

/// Others saw 2f+1 precommits of round 0 before we saw anything of it: timeoutPrecommit
/// moves us on, and we prevote and precommit nil in round 0 as we leave it, so that peers
/// still in round 0, who do not get the others' precommits relayed, can complete their
/// quorum with ours. The same on a round skip; a vote already signed is not signed again.
#[test]
fn leaving_a_round_votes_nil_where_it_has_not_voted() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    for i in 1..=3 {
        c.handle(fx.precommit(i, 0, Some(A))).unwrap();
    }
    let before = c.safety_state().clone();
    let out = c.handle(timeout(0, TimeoutStep::Precommit)).unwrap();
    assert_persist_before_broadcast(&out, &before);
    assert_eq!(
        votes(&out),
        vec![(0, VoteKind::Prevote, None), (0, VoteKind::Precommit, None)]
    );
    assert_eq!((c.round(), c.step()), (Round(1), Step::Propose));
    // Round 1: a nil prevote on timeoutPropose, then a skip to round 3.
    c.handle(timeout(1, TimeoutStep::Propose)).unwrap();
    c.handle(fx.prevote(1, 3, None)).unwrap();
    let out = c.handle(fx.prevote(2, 3, None)).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Precommit, None)]);
    assert_eq!(c.round(), Round(3));
}

/// A flooder signs junk prevotes in round 0 before its prevote for A, which completes the
/// polka the honest validators 1 and 2 are in. That prevote must still count here, or the
/// re-proposal of A with validRound 0 is never accepted (found by the simulation's flood,
/// n=4 seed 46: the validators locked in different rounds never got together again).
#[test]
fn a_flooders_junk_votes_do_not_hide_its_part_in_a_polka() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    for junk in 0..5u8 {
        let _ = c.handle(fx.prevote(3, 0, Some([0x40 + junk; 32])));
    }
    c.handle(fx.prevote(1, 0, Some(A))).unwrap();
    c.handle(fx.prevote(2, 0, Some(A))).unwrap();
    c.handle(fx.prevote(3, 0, Some(A))).unwrap();
    c.handle(timeout(0, TimeoutStep::Propose)).unwrap();
    c.handle(timeout(0, TimeoutStep::Prevote)).unwrap();
    c.handle(fx.precommit(1, 0, None)).unwrap();
    c.handle(fx.precommit(2, 0, None)).unwrap();
    c.handle(timeout(0, TimeoutStep::Precommit)).unwrap();
    assert_eq!(c.round(), Round(1));
    c.handle(fx.proposal(1, A, Some(0))).unwrap();
    let out = c.handle(valid(A)).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Prevote, Some(A))]);
}

/// The proposer of some rounds sends hundreds of signed proposals: rounds it proposes and
/// not, past and future, fresh values, bogus valid rounds. We keep at most
/// MAX_PROPOSALS_PER_ROUND per round, in a bounded number of rounds, and ask to validate
/// only what we keep.
#[test]
fn a_proposal_flood_keeps_a_bounded_state() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    // Move to round 4 so that there are past rounds too.
    c.handle(fx.prevote(2, 4, None)).unwrap();
    c.handle(fx.prevote(3, 4, None)).unwrap();
    assert_eq!(c.round(), Round(4));
    // Validator 1 proposes rounds 0, 4, 8, ... at height 1.
    let mut validations = 0;
    for k in 0..400u32 {
        let round = [0, 3, 4, 8, 12, 16, 1_000][(k % 7) as usize];
        let mut value = [0u8; 32];
        value[..4].copy_from_slice(&k.to_be_bytes());
        let valid_round = match k % 3 {
            0 => None,
            1 => Some(Round(round / 2)),
            _ => Some(Round(round + 1)),
        };
        let proposal = Proposal {
            height: H,
            round: Round(round),
            value,
            valid_round,
            proposer: 1,
        };
        let signature = fx.keys[1].sign(&proposal.sign_bytes(CHAIN));
        if let Ok(out) = c.handle(Input::ProposalReceived(SignedProposal {
            proposal,
            signature,
        })) {
            validations += out
                .iter()
                .filter(|o| matches!(o, Output::ValidateValue { .. }))
                .count();
        }
    }
    let kept = c.retained();
    assert_eq!(kept.max_proposals_in_a_round, MAX_PROPOSALS_PER_ROUND);
    // Rounds 0 and 4 (ours), then 8 and 12: one validator's messages are kept in at most
    // MAX_FUTURE_ROUNDS_PER_VALIDATOR rounds ahead of ours; 16 and 1000 are dropped.
    assert_eq!(kept.proposals, 4 * MAX_PROPOSALS_PER_ROUND, "{kept:?}");
    assert_eq!(
        kept.future_rounds, MAX_FUTURE_ROUNDS_PER_VALIDATOR,
        "{kept:?}"
    );
    assert_eq!(validations, kept.proposals);
    assert!(kept.values <= kept.proposals, "{kept:?}");
}

#[test]
fn keeps_only_a_few_future_rounds_per_validator() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(fx.prevote(1, 5, None)).unwrap();
    c.handle(fx.prevote(1, 6, None)).unwrap();
    c.handle(fx.precommit(1, 6, None)).unwrap();
    assert!(matches!(
        c.handle(fx.prevote(1, 7, None)),
        Err(ConsensusError::Dropped(DropReason::TooFarAhead {
            validator: 1,
            ..
        }))
    ));
}

#[test]
fn nil_prevote_on_timeout_propose() {
    let fx = fixture();
    let (mut c, out) = fx.started(0);
    assert_eq!(scheduled(&out), vec![(0, TimeoutStep::Propose)]);
    // Lines 57-60.
    let out = c.handle(timeout(0, TimeoutStep::Propose)).unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Prevote, None)]);
    assert_eq!(c.step(), Step::Prevote);
    // A stale timer does nothing.
    assert!(c
        .handle(timeout(0, TimeoutStep::Propose))
        .unwrap()
        .is_empty());
}

#[test]
fn nil_precommit_on_timeout_prevote() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(timeout(0, TimeoutStep::Propose)).unwrap();
    c.handle(fx.prevote(1, 0, Some(A))).unwrap();
    // Lines 34-35: 2f+1 prevotes for anything: arm timeoutPrevote, once.
    let out = c.handle(fx.prevote(2, 0, Some(B))).unwrap();
    assert_eq!(scheduled(&out), vec![(0, TimeoutStep::Prevote)]);
    let out = c.handle(fx.prevote(3, 0, Some(B))).unwrap();
    assert!(scheduled(&out).is_empty());
    // Lines 61-64.
    let out = c.handle(timeout(0, TimeoutStep::Prevote)).unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Precommit, None)]);
}

#[test]
fn nil_polka_precommits_nil_at_once() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(timeout(0, TimeoutStep::Propose)).unwrap();
    c.handle(fx.prevote(1, 0, None)).unwrap();
    // Lines 44-46.
    let out = c.handle(fx.prevote(2, 0, None)).unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Precommit, None)]);
}

#[test]
fn a_nil_precommit_quorum_starts_the_next_round_at_once() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(timeout(0, TimeoutStep::Propose)).unwrap();
    for i in 1..3 {
        c.handle(fx.prevote(i, 0, None)).unwrap();
    }
    c.handle(fx.precommit(1, 0, None)).unwrap();
    // Ours and two more: 2f+1 nil precommits, nothing can be decided in round 0.
    let out = c.handle(fx.precommit(2, 0, None)).unwrap();
    assert_eq!(c.round(), Round(1), "no wait for timeoutPrecommit");
    assert!(!scheduled(&out).contains(&(0, TimeoutStep::Precommit)));
    assert!(scheduled(&out).contains(&(1, TimeoutStep::Propose)));
}

#[test]
fn an_invalid_value_gets_a_nil_prevote() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(fx.proposal(0, A, None)).unwrap();
    let out = c
        .handle(Input::ValueValidated {
            value: A,
            valid: false,
        })
        .unwrap();
    assert_eq!(votes(&out), vec![(0, VoteKind::Prevote, None)]);
    // And a polka on it changes nothing: valid(v) is part of line 36.
    c.handle(fx.prevote(1, 0, Some(A))).unwrap();
    c.handle(fx.prevote(2, 0, Some(A))).unwrap();
    assert_eq!(c.safety_state().locked, None);
}

#[test]
fn proposer_proposes_the_requested_value() {
    let fx = fixture();
    // Validator 1 proposes height 1, round 0.
    let (mut c, out) = fx.started(1);
    assert!(out.contains(&Output::RequestValue {
        height: H,
        round: Round(0)
    }));
    let before = c.safety_state().clone();
    let out = c.handle(Input::ValueToPropose(A)).unwrap();
    assert_persist_before_broadcast(&out, &before);
    assert_eq!(proposals(&out), vec![(0, A, None)]);
    // It prevotes its own proposal (lines 22-27) in the same batch.
    assert_eq!(votes(&out), vec![(0, VoteKind::Prevote, Some(A))]);
    // A second answer is stale.
    assert!(matches!(
        c.handle(Input::ValueToPropose(B)),
        Err(ConsensusError::Dropped(DropReason::NoValueRequested { .. }))
    ));
}

#[test]
fn proposer_reproposes_its_valid_value() {
    let fx = fixture();
    // Validator 0 proposes height 1, round 3 ((1 + 3) mod 4 = 0).
    let (mut c, _) = lock_on_a_in_round_0(&fx);
    c.handle(fx.prevote(1, 3, None)).unwrap();
    let out = c.handle(fx.prevote(2, 3, None)).unwrap();
    assert_eq!(c.round(), Round(3));
    // Lines 14-15, 19: proposal ← validValue with validRound 0; no RequestValue.
    assert_eq!(proposals(&out), vec![(3, A, Some(Round(0)))]);
    assert!(!out.iter().any(|o| matches!(o, Output::RequestValue { .. })));
    // Lines 28-33 on its own proposal: it holds the polka of round 0.
    assert_eq!(votes(&out), vec![(3, VoteKind::Prevote, Some(A))]);
}

#[test]
fn a_second_proposal_in_a_round_is_evidence_not_a_second_prevote() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(fx.proposal(0, A, None)).unwrap();
    c.handle(valid(A)).unwrap();
    let out = c.handle(fx.proposal(0, B, None)).unwrap();
    assert!(votes(&out).is_empty());
    let evidence = out
        .iter()
        .find_map(|o| match o {
            Output::Equivocation(e) => Some(e.clone()),
            _ => None,
        })
        .expect("evidence");
    assert_eq!(evidence.validator(), 1);
    assert!(evidence.verify(CHAIN, &fx.set, &Ed25519Verifier));
    let out = c.handle(valid(B)).unwrap();
    assert!(votes(&out).is_empty(), "still one prevote in round 0");
    let prevotes = c
        .safety_state()
        .signed
        .iter()
        .filter(|m| matches!(m, Message::Vote(v) if v.vote.kind == VoteKind::Prevote))
        .count();
    assert_eq!(prevotes, 1);
}

#[test]
fn conflicting_votes_are_evidence_and_count_once_per_value() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    c.handle(fx.prevote(1, 0, Some(A))).unwrap();
    let out = c.handle(fx.prevote(1, 0, Some(B))).unwrap();
    let [Output::Equivocation(e)] = out.as_slice() else {
        panic!("expected one evidence, got {out:?}");
    };
    assert!(e.verify(CHAIN, &fx.set, &Ed25519Verifier));
    // Each value counts the equivocator once; the round counts it once.
    assert_eq!(c.votes.count(Round(0), VoteKind::Prevote, Some(&A)), 1);
    assert_eq!(c.votes.count(Round(0), VoteKind::Prevote, Some(&B)), 1);
    assert_eq!(c.votes.total(Round(0), VoteKind::Prevote), 1);
}

#[test]
fn bad_messages_are_dropped_with_a_reason() {
    let fx = fixture();
    let mut fresh = fx.node(0);
    assert_eq!(
        fresh.handle(fx.prevote(1, 0, None)),
        Err(ConsensusError::Dropped(DropReason::NotStarted))
    );
    let (mut c, _) = fx.started(0);
    c.handle(fx.prevote(1, 0, Some(A))).unwrap();
    assert!(matches!(
        c.handle(fx.prevote(1, 0, Some(A))),
        Err(ConsensusError::Dropped(DropReason::Duplicate {
            validator: 1,
            ..
        }))
    ));
    let mut forged = fx.signed_vote(2, 0, VoteKind::Prevote, Some(A));
    forged.vote.value = Some(B);
    assert_eq!(
        c.handle(Input::VoteReceived(forged)),
        Err(ConsensusError::Dropped(DropReason::BadSignature(2)))
    );
    let mut stranger = fx.signed_vote(2, 0, VoteKind::Prevote, Some(A));
    stranger.vote.validator = 9;
    assert!(matches!(
        c.handle(Input::VoteReceived(stranger)),
        Err(ConsensusError::Dropped(DropReason::UnknownValidator {
            index: 9,
            ..
        }))
    ));
    let mut other_height = fx.signed_vote(2, 0, VoteKind::Prevote, Some(A));
    other_height.vote.height = Height(2);
    assert!(matches!(
        c.handle(Input::VoteReceived(other_height)),
        Err(ConsensusError::Dropped(DropReason::WrongHeight { .. }))
    ));
    // A proposal signed by someone who is not the round's proposer.
    let mut wrong = fx.signed_proposal(0, A, None);
    wrong.proposal.proposer = 2;
    wrong.signature = fx.keys[2].sign(&wrong.proposal.sign_bytes(CHAIN));
    assert!(matches!(
        c.handle(Input::ProposalReceived(wrong)),
        Err(ConsensusError::Dropped(DropReason::NotProposer { .. }))
    ));
    assert!(matches!(
        c.handle(valid(A)),
        Err(ConsensusError::Dropped(DropReason::NoValidationRequested(
            _
        )))
    ));
    assert!(matches!(
        c.handle(Input::StartHeight(H)),
        Err(ConsensusError::HeightNotAhead { .. })
    ));
}

/// Validator 0 sees proposal A, a polka and 2f+1 precommits for A in round 0.
#[test]
fn decides_with_a_certificate_that_verifies() {
    let fx = fixture();
    let (mut c, _) = lock_on_a_in_round_0(&fx);
    c.handle(fx.precommit(3, 0, Some(A))).unwrap();
    let out = c.handle(fx.precommit(1, 0, Some(A))).unwrap();
    let Some(Output::Decide {
        height,
        value,
        certificate,
    }) = out.iter().find(|o| matches!(o, Output::Decide { .. }))
    else {
        panic!("no decision in {out:?}");
    };
    assert_eq!((*height, *value), (H, A));
    let signers: Vec<u16> = certificate.signatures.iter().map(|s| s.validator).collect();
    assert_eq!(signers, vec![0, 1, 3]);
    certificate
        .verify_for(CHAIN, &fx.set, &Ed25519Verifier, H, &A)
        .unwrap();
    assert_eq!(c.step(), Step::Commit);
    assert!(matches!(
        c.handle(fx.precommit(2, 0, Some(A))),
        Err(ConsensusError::Dropped(DropReason::AlreadyDecided(_)))
    ));
    // A lagging validator decides from the certificate alone.
    let (mut lagging, _) = fx.started(2);
    let out = lagging
        .handle(Input::CertificateReceived(certificate.clone()))
        .unwrap();
    assert!(matches!(out.as_slice(), [Output::Decide { value, .. }] if *value == A));
}

#[test]
fn restore_resumes_and_never_signs_differently() {
    let fx = fixture();
    let (c, out) = lock_on_a_in_round_0(&fx);
    let saved = persisted(&out).unwrap();
    assert_eq!(&saved, c.safety_state());
    drop(c);

    let (mut r, out) = Consensus::restore(
        Config::default(),
        fx.keys[0].clone(),
        fx.set.clone(),
        CHAIN,
        saved.clone(),
    )
    .unwrap();
    assert_eq!(
        (r.height(), r.round(), r.step()),
        (H, Round(0), Step::Precommit)
    );
    // It re-sends exactly what it signed, and signs nothing new.
    assert!(persisted(&out).is_none());
    let resent: Vec<&Message<V>> = out
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(resent, saved.signed.iter().collect::<Vec<_>>());
    // Timers of the round before the crash do not make it vote again.
    for step in [TimeoutStep::Propose, TimeoutStep::Prevote] {
        assert!(votes(&r.handle(timeout(0, step)).unwrap()).is_empty());
    }
    // Its own votes still count: with the proposal gossiped again (the lock proves A valid,
    // so no new validation), two more precommits for A decide.
    let out = r.handle(fx.proposal(0, A, None)).unwrap();
    assert!(out.is_empty(), "{out:?}");
    r.handle(fx.precommit(1, 0, Some(A))).unwrap();
    let out = r.handle(fx.precommit(2, 0, Some(A))).unwrap();
    assert!(out.iter().any(|o| matches!(o, Output::Decide { .. })));

    // Restored again, it keeps its lock into the next round.
    let (mut r, _) = Consensus::restore(
        Config::default(),
        fx.keys[0].clone(),
        fx.set.clone(),
        CHAIN,
        saved.clone(),
    )
    .unwrap();
    r.handle(fx.precommit(1, 0, None)).unwrap();
    r.handle(fx.precommit(2, 0, None)).unwrap();
    r.handle(timeout(0, TimeoutStep::Precommit)).unwrap();
    r.handle(fx.proposal(1, B, None)).unwrap();
    let out = r.handle(valid(B)).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Prevote, None)]);

    // A safety state of another validator is refused.
    assert!(matches!(
        Consensus::restore(
            Config::default(),
            fx.keys[1].clone(),
            fx.set.clone(),
            CHAIN,
            saved
        ),
        Err(ConsensusError::CorruptSafetyState(_))
    ));
}

#[test]
fn restored_proposer_reproposes_the_same_proposal() {
    let fx = fixture();
    let (mut c, _) = fx.started(1);
    let out = c.handle(Input::ValueToPropose(A)).unwrap();
    let saved = persisted(&out).unwrap();
    let (_, out) = Consensus::restore(
        Config::default(),
        fx.keys[1].clone(),
        fx.set.clone(),
        CHAIN,
        saved,
    )
    .unwrap();
    // Re-sent identically; no new request for a value, no second proposal.
    assert_eq!(proposals(&out), vec![(0, A, None)]);
    assert!(!out.iter().any(|o| matches!(o, Output::RequestValue { .. })));
}

#[test]
fn the_guard_refuses_a_conflicting_vote() {
    let fx = fixture();
    let (c, _) = lock_on_a_in_round_0(&fx);
    let mut nil = fx.signed_vote(0, 0, VoteKind::Precommit, None).vote;
    assert!(matches!(
        c.safety_state().check_vote(&nil),
        SignCheck::Conflicts(_)
    ));
    nil.value = Some(A);
    assert!(matches!(
        c.safety_state().check_vote(&nil),
        SignCheck::AlreadySigned(_)
    ));
    nil.round = Round(1);
    assert_eq!(c.safety_state().check_vote(&nil), SignCheck::Fresh);
}

#[test]
fn the_ignore_lock_fault_prevotes_against_the_lock() {
    let fx = fixture();
    let mut c = locked_on_a_in_round_1(&fx);
    c.inject_fault(Fault::IgnoreLock);
    c.handle(fx.proposal(1, B, None)).unwrap();
    let out = c.handle(valid(B)).unwrap();
    assert_eq!(votes(&out), vec![(1, VoteKind::Prevote, Some(B))]);
}

#[test]
fn a_restored_proposer_can_still_justify_its_valid_value() {
    let fx = fixture();
    let (c, out) = lock_on_a_in_round_0(&fx);
    let saved = persisted(&out).unwrap();
    assert_eq!(
        saved.valid_polka.len(),
        3,
        "the polka is persisted with the valid value"
    );
    assert_eq!(c.polka_for_valid_value(), saved.valid_polka.as_slice());
    drop(c);
    let (mut r, _) = Consensus::restore(
        Config::default(),
        fx.keys[0].clone(),
        fx.set.clone(),
        CHAIN,
        saved,
    )
    .unwrap();
    r.handle(fx.prevote(1, 3, None)).unwrap();
    let out = r.handle(fx.prevote(2, 3, None)).unwrap();
    // Lines 14-15 and 28-33 after the restart: it re-proposes A with validRound 0 and, holding
    // the polka of round 0 again, prevotes it.
    assert_eq!(proposals(&out), vec![(3, A, Some(Round(0)))]);
    assert_eq!(votes(&out), vec![(3, VoteKind::Prevote, Some(A))]);
}

#[test]
fn a_new_round_is_persisted_so_a_restart_rejoins_it() {
    let fx = fixture();
    let (mut c, _) = fx.started(0);
    // Skipping to round 5 signs nothing, but the round is persisted.
    c.handle(fx.prevote(1, 5, None)).unwrap();
    let out = c.handle(fx.precommit(2, 5, None)).unwrap();
    let state = persisted(&out).expect("the new round is persisted");
    assert_eq!((state.height, state.round), (H, Round(5)));
    let (restored, _) = Consensus::restore(
        Config::default(),
        fx.keys[0].clone(),
        fx.set.clone(),
        CHAIN,
        state,
    )
    .unwrap();
    assert_eq!((restored.height(), restored.round()), (H, Round(5)));
}
