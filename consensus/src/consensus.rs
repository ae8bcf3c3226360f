//! The Tendermint state machine (Buchman, Kwon, Milosevic, "The latest gossip on BFT
//! consensus", 2018, Algorithm 1) for one validator, driven by [`Consensus::handle`].
//!
//! It verifies incoming messages, counts them in a [`VoteKeeper`], applies the paper's
//! `upon` rules until none is enabled, and signs through the [`SafetyState`] guard. Match
//! arms and helpers cite the paper's line numbers.
//!
//! It must never do IO, read a clock, draw randomness, spawn threads or block: every effect
//! is an [`Output`] the node carries out, and every fact (a message, a timer, the
//! application's answer) comes back as an [`Input`]. Given the same inputs it produces the
//! same outputs.

use crate::certificate::{CommitCertificate, CommitSignature};
use crate::error::{ConsensusError, DropReason, MessageKind};
use crate::evidence::Evidence;
#[cfg(any(test, feature = "fault-injection"))]
use crate::fault::Fault;
use crate::height::{Height, Round};
use crate::input::Input;
use crate::message::Message;
use crate::output::Output;
use crate::proposal::{Proposal, SignedProposal};
use crate::safety::{RoundValue, SafetyState, SignCheck, Step};
use crate::signing::{Ed25519Verifier, Signer, Verifier};
use crate::timeouts::{Config, Timeout, TimeoutStep};
use crate::validator_set::{ValidatorIndex, ValidatorSet};
use crate::vote::{SignedVote, Vote, VoteKind};
use crate::vote_keeper::{AddVote, VoteKeeper};
use crate::Signature;
use std::collections::BTreeMap;
use std::fmt::Debug;

/// How many rounds ahead of ours we keep messages from one validator. Enough for the round
/// skip (line 55) to work, bounded so a faulty validator cannot fill our memory with
/// messages for ever higher rounds.
pub const MAX_FUTURE_ROUNDS_PER_VALIDATOR: usize = 2;

/// How many different proposals of one equivocating proposer we keep per round (the first is
/// the one we prevote on; the others let us lock or decide on whichever gets a quorum).
pub const MAX_PROPOSALS_PER_ROUND: usize = 4;

/// How much one instance keeps for its current height: what a peer's messages can make it
/// hold. Every figure is bounded by the validator set's size and the current round (see
/// [`Consensus::retained`]); tests and metrics read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retained {
    /// Rounds with any proposal or vote kept.
    pub rounds: usize,
    /// Proposals kept, all rounds.
    pub proposals: usize,
    /// The most proposals kept for one round (at most [`MAX_PROPOSALS_PER_ROUND`]).
    pub max_proposals_in_a_round: usize,
    /// Votes kept, all rounds and kinds.
    pub votes: usize,
    /// Values whose validity is known or asked.
    pub values: usize,
    /// Rounds above the current one with anything kept (at most
    /// [`MAX_FUTURE_ROUNDS_PER_VALIDATOR`] per validator).
    pub future_rounds: usize,
}

/// What the application said about a proposed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Validity {
    /// Asked, no answer yet.
    Pending,
    Valid,
    Invalid,
}

/// `upon ... for the first time` flags of the current round.
#[derive(Clone, Copy, Debug, Default)]
struct RoundFlags {
    /// Line 34: timeoutPrevote scheduled.
    prevote_timeout: bool,
    /// Line 36: polka for the round's proposal handled.
    polka_value: bool,
    /// Line 47: timeoutPrecommit scheduled.
    precommit_timeout: bool,
}

/// Outputs being collected during one `handle` call.
struct Batch<V> {
    outputs: Vec<Output<V>>,
    broadcasts: Vec<Message<V>>,
    persist: bool,
}

impl<V: Clone> Batch<V> {
    fn new() -> Self {
        Batch {
            outputs: Vec::new(),
            broadcasts: Vec::new(),
            persist: false,
        }
    }

    /// The outputs in contract order: everything else, then the one `PersistSafety` covering
    /// every message signed in this batch, then the broadcasts.
    fn finish(self, state: &SafetyState<V>) -> Vec<Output<V>> {
        let mut out = self.outputs;
        if self.persist {
            out.push(Output::PersistSafety(state.clone()));
        }
        out.extend(self.broadcasts.into_iter().map(Output::Broadcast));
        out
    }
}

/// One validator's consensus instance. See the [module doc](self) and [`Consensus::handle`].
pub struct Consensus<V, S, Ve = Ed25519Verifier> {
    config: Config,
    signer: S,
    verifier: Ve,
    set: ValidatorSet,
    chain_id: String,
    me: ValidatorIndex,
    started: bool,
    /// `h_p`, `round_p`, `step_p`, lock, valid value and our signed messages.
    state: SafetyState<V>,
    votes: VoteKeeper<V>,
    /// Proposals of this height from each round's proposer, in arrival order, distinct values.
    proposals: BTreeMap<Round, Vec<SignedProposal<V>>>,
    validity: BTreeMap<V, Validity>,
    /// The round for which we asked the application for a value and await it.
    value_requested: Option<Round>,
    flags: RoundFlags,
    #[cfg(any(test, feature = "fault-injection"))]
    fault: Option<Fault>,
}

impl<V, S> Consensus<V, S, Ed25519Verifier>
where
    V: Clone + Eq + Ord + Debug + AsRef<[u8]>,
    S: Signer,
{
    /// A fresh instance that verifies with ed25519; feed it [`Input::StartHeight`] next.
    pub fn new(
        config: Config,
        signer: S,
        validator_set: ValidatorSet,
        chain_id: impl Into<String>,
    ) -> Result<Self, ConsensusError> {
        Self::with_verifier(config, signer, Ed25519Verifier, validator_set, chain_id)
    }

    /// Resumes from the last persisted [`SafetyState`], at its height and round, verifying
    /// with ed25519. See [`Consensus::restore_with_verifier`].
    pub fn restore(
        config: Config,
        signer: S,
        validator_set: ValidatorSet,
        chain_id: impl Into<String>,
        safety: SafetyState<V>,
    ) -> Result<(Self, Vec<Output<V>>), ConsensusError> {
        Self::restore_with_verifier(
            config,
            signer,
            Ed25519Verifier,
            validator_set,
            chain_id,
            safety,
        )
    }
}

impl<V, S, Ve> Consensus<V, S, Ve>
where
    V: Clone + Eq + Ord + Debug + AsRef<[u8]>,
    S: Signer,
    Ve: Verifier,
{
    /// A fresh instance with a chosen signature verifier; feed it [`Input::StartHeight`] next.
    pub fn with_verifier(
        config: Config,
        signer: S,
        verifier: Ve,
        validator_set: ValidatorSet,
        chain_id: impl Into<String>,
    ) -> Result<Self, ConsensusError> {
        let key = signer.public_key();
        let me = validator_set
            .index_of(&key)
            .ok_or(ConsensusError::NotAValidator(key))?;
        let quorum = validator_set.quorum();
        Ok(Consensus {
            config,
            signer,
            verifier,
            set: validator_set,
            chain_id: chain_id.into(),
            me,
            started: false,
            state: SafetyState::new(Height(0)),
            votes: VoteKeeper::new(quorum),
            proposals: BTreeMap::new(),
            validity: BTreeMap::new(),
            value_requested: None,
            flags: RoundFlags::default(),
            #[cfg(any(test, feature = "fault-injection"))]
            fault: None,
        })
    }

    /// Resumes from the last persisted [`SafetyState`]: same height, same round, same lock,
    /// and every message signed at this height counted again. Returns the instance and the
    /// outputs to carry out now: the re-broadcast of those messages (identical bytes, so
    /// never a conflict) and the current step's timer or proposal duty.
    ///
    /// # Correctness
    /// `safety` must be the latest state the node persisted. Because the node persists
    /// before it broadcasts, any message peers may hold from us is in `safety.signed`, and
    /// the guard refuses to sign anything that conflicts with it.
    pub fn restore_with_verifier(
        config: Config,
        signer: S,
        verifier: Ve,
        validator_set: ValidatorSet,
        chain_id: impl Into<String>,
        safety: SafetyState<V>,
    ) -> Result<(Self, Vec<Output<V>>), ConsensusError> {
        let mut c = Self::with_verifier(config, signer, verifier, validator_set, chain_id)?;
        for m in &safety.signed {
            if m.signer() != c.me || m.height() != safety.height || m.round() > safety.round {
                return Err(ConsensusError::CorruptSafetyState(format!(
                    "signed message of validator {} at height {} round {} does not fit state at height {} round {} of validator {}",
                    m.signer(),
                    m.height(),
                    m.round(),
                    safety.height,
                    safety.round,
                    c.me
                )));
            }
            let ok = match m {
                Message::Proposal(p) => {
                    c.signature_ok(c.me, &p.proposal.sign_bytes(&c.chain_id), &p.signature)
                }
                Message::Vote(v) => {
                    c.signature_ok(c.me, &v.vote.sign_bytes(&c.chain_id), &v.signature)
                }
            };
            if !ok {
                return Err(ConsensusError::CorruptSafetyState(format!(
                    "signature of a signed message at round {} does not verify",
                    m.round()
                )));
            }
        }
        for v in &safety.valid_polka {
            let fits = safety.valid.as_ref().is_some_and(|rv| {
                v.vote.height == safety.height
                    && v.vote.round == rv.round
                    && v.vote.kind == VoteKind::Prevote
                    && v.vote.value.as_ref() == Some(&rv.value)
            });
            if !fits
                || !c.signature_ok(
                    v.vote.validator,
                    &v.vote.sign_bytes(&c.chain_id),
                    &v.signature,
                )
            {
                return Err(ConsensusError::CorruptSafetyState(format!(
                    "a prevote of validator {} in the valid value's polka does not fit or verify",
                    v.vote.validator
                )));
            }
        }
        let mut safety = safety;
        // A decision is re-derived from votes (or a certificate) after a restart: the node
        // may have crashed before committing it. Precommit is the step that signs nothing
        // more in this round.
        if safety.step == Step::Commit {
            safety.step = Step::Precommit;
        }
        c.started = true;
        c.state = safety;
        for v in c.state.valid_polka.clone() {
            c.votes.add(v);
        }
        let mut b = Batch::new();
        for m in c.state.signed.clone() {
            b.broadcasts.push(m.clone());
            match m {
                Message::Proposal(p) => {
                    c.validity.insert(p.proposal.value.clone(), Validity::Valid);
                    c.votes.add_sender(p.proposal.round, c.me);
                    c.proposals.entry(p.proposal.round).or_default().push(p);
                }
                Message::Vote(v) => {
                    c.votes.add(v);
                }
            }
        }
        for rv in [c.state.locked.clone(), c.state.valid.clone()]
            .into_iter()
            .flatten()
        {
            c.validity.insert(rv.value, Validity::Valid);
        }
        if c.state.step == Step::Propose {
            c.schedule(TimeoutStep::Propose, &mut b);
            let round = c.state.round;
            let proposed = c
                .proposals
                .get(&round)
                .is_some_and(|l| l.iter().any(|p| p.proposal.proposer == c.me));
            if !proposed {
                c.propose_or_request(&mut b);
            }
        }
        c.progress(&mut b);
        let out = b.finish(&c.state);
        Ok((c, out))
    }

    /// Applies one input and returns the commands to carry out, in order.
    ///
    /// An `Err` means the input was refused and nothing changed:
    /// [`ConsensusError::Dropped`] for a peer's invalid, duplicate or late message or a stale
    /// application answer (log it and carry on), other variants for the node's own mistakes.
    /// Conflicting votes or proposals are not errors: they yield [`Output::Equivocation`].
    ///
    /// # Correctness
    /// Carry out the outputs **in the order given**. Every batch that contains a
    /// [`Output::Broadcast`] of a newly signed message contains, before it, an
    /// [`Output::PersistSafety`] whose state lists that message; the node must make that
    /// state durable before it sends anything after it. Then a crash at any point leaves on
    /// disk every message a peer may have seen from us, and [`Consensus::restore`] never
    /// signs a conflicting one. (Re-broadcasts of already persisted messages may come without
    /// a `PersistSafety`.)
    pub fn handle(&mut self, input: Input<V>) -> Result<Vec<Output<V>>, ConsensusError> {
        let mut b = Batch::new();
        match input {
            Input::StartHeight(h) => self.on_start_height(h, &mut b)?,
            Input::ProposalReceived(p) => self.on_proposal(p, &mut b)?,
            Input::VoteReceived(v) => self.on_vote(v, &mut b)?,
            Input::TimeoutElapsed(t) => self.on_timeout(t, &mut b),
            Input::ValueToPropose(v) => self.on_value_to_propose(v, &mut b)?,
            Input::ValueValidated { value, valid } => self.on_value_validated(value, valid)?,
            Input::CertificateReceived(c) => self.on_certificate(c, &mut b)?,
        }
        self.progress(&mut b);
        Ok(b.finish(&self.state))
    }

    /// The current height (`h_p`).
    pub fn height(&self) -> Height {
        self.state.height
    }

    /// The current round (`round_p`).
    pub fn round(&self) -> Round {
        self.state.round
    }

    /// The current step (`step_p`).
    pub fn step(&self) -> Step {
        self.state.step
    }

    /// The state [`Output::PersistSafety`] would persist now.
    pub fn safety_state(&self) -> &SafetyState<V> {
        &self.state
    }

    /// The 2f+1 prevotes that justify `validValue`/`validRound` (Tendermint's proof of lock),
    /// empty without a valid value. The node keeps gossiping them during the height: a
    /// proposal that carries `validRound` (line 28) is only accepted by peers that hold
    /// this polka, and peers locked in an earlier round need it to move on.
    pub fn polka_for_valid_value(&self) -> &[SignedVote<V>] {
        &self.state.valid_polka
    }

    /// How much this instance keeps for the current height. With `n` validators and round
    /// `r`: `rounds ≤ r + 1 + MAX_FUTURE_ROUNDS_PER_VALIDATOR · n`, `proposals ≤
    /// MAX_PROPOSALS_PER_ROUND · rounds`, `votes ≤ 2 · (MAX_VALUES_PER_VOTER + n - 1) · n · rounds` and
    /// `values ≤ proposals + 2` (our own value, and a lock or valid value restored without its
    /// proposal), whatever peers send.
    ///
    /// [`MAX_VALUES_PER_VOTER`]: crate::vote_keeper::MAX_VALUES_PER_VOTER
    pub fn retained(&self) -> Retained {
        // Every kept proposal's round is in the vote keeper too: `accept_proposal` records
        // its proposer as a sender there.
        Retained {
            rounds: self.votes.round_count(),
            proposals: self.proposals.values().map(Vec::len).sum(),
            max_proposals_in_a_round: self.proposals.values().map(Vec::len).max().unwrap_or(0),
            votes: self.votes.len(),
            values: self.validity.len(),
            future_rounds: self.votes.rounds_above(self.state.round),
        }
    }

    /// Our index in the validator set.
    pub fn validator_index(&self) -> ValidatorIndex {
        self.me
    }

    /// The validator set.
    pub fn validator_set(&self) -> &ValidatorSet {
        &self.set
    }

    /// The chain id all signatures are bound to.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Plants a deliberate bug in this instance (tests only).
    #[cfg(any(test, feature = "fault-injection"))]
    pub fn inject_fault(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }

    #[cfg(any(test, feature = "fault-injection"))]
    fn ignores_lock(&self) -> bool {
        self.fault == Some(Fault::IgnoreLock)
    }

    #[cfg(not(any(test, feature = "fault-injection")))]
    fn ignores_lock(&self) -> bool {
        false
    }

    // ---- inputs ------------------------------------------------------------------------

    /// Alg. 1 lines 1-10 (initialisation) and the `h_p ← h_p + 1; reset` of line 54.
    fn on_start_height(&mut self, h: Height, b: &mut Batch<V>) -> Result<(), ConsensusError> {
        if self.started && h <= self.state.height {
            return Err(ConsensusError::HeightNotAhead {
                current: self.state.height,
                requested: h,
            });
        }
        self.started = true;
        self.state = SafetyState::new(h);
        self.votes = VoteKeeper::new(self.set.quorum());
        self.proposals.clear();
        self.validity.clear();
        b.persist = true;
        self.start_round(Round(0), b);
        Ok(())
    }

    fn on_proposal(&mut self, sp: SignedProposal<V>, b: &mut Batch<V>) -> Result<(), DropReason> {
        self.check_current(sp.proposal.height)?;
        let p = &sp.proposal;
        self.known_validator(p.proposer)?;
        let expected = self.set.proposer(p.height, p.round);
        if p.proposer != expected {
            return Err(DropReason::NotProposer {
                round: p.round,
                expected,
                found: p.proposer,
            });
        }
        if let Some(vr) = p.valid_round {
            if vr >= p.round {
                return Err(DropReason::BadValidRound {
                    round: p.round,
                    valid_round: vr,
                });
            }
        }
        let known = self.proposals.get(&p.round);
        if known.is_some_and(|l| l.iter().any(|q| q.proposal == *p)) {
            return Err(DropReason::Duplicate {
                validator: p.proposer,
                round: p.round,
                kind: MessageKind::Proposal,
            });
        }
        self.check_future_round(p.proposer, p.round)?;
        if !self.signature_ok(p.proposer, &p.sign_bytes(&self.chain_id), &sp.signature) {
            return Err(DropReason::BadSignature(p.proposer));
        }
        if let Some(list) = known {
            if let Some(first) = list.first() {
                // A second, different proposal for the same round: equivocation. Keep it too
                // (bounded) if its value is new, so a quorum on it can still be acted on.
                let new_value = list.iter().all(|q| q.proposal.value != p.value);
                let room = list.len() < MAX_PROPOSALS_PER_ROUND;
                b.outputs
                    .push(Output::Equivocation(Evidence::ConflictingProposals {
                        first: first.clone(),
                        second: sp.clone(),
                    }));
                if !(new_value && room) {
                    return Ok(());
                }
            }
        }
        self.accept_proposal(sp, b);
        Ok(())
    }

    fn on_vote(&mut self, sv: SignedVote<V>, b: &mut Batch<V>) -> Result<(), DropReason> {
        self.check_current(sv.vote.height)?;
        let v = &sv.vote;
        self.known_validator(v.validator)?;
        if self.votes.contains(v) {
            return Err(DropReason::Duplicate {
                validator: v.validator,
                round: v.round,
                kind: MessageKind::Vote(v.kind),
            });
        }
        self.check_future_round(v.validator, v.round)?;
        if !self.signature_ok(v.validator, &v.sign_bytes(&self.chain_id), &sv.signature) {
            return Err(DropReason::BadSignature(v.validator));
        }
        match self.votes.add(sv.clone()) {
            AddVote::Added => Ok(()),
            AddVote::Duplicate => Err(DropReason::Duplicate {
                validator: sv.vote.validator,
                round: sv.vote.round,
                kind: MessageKind::Vote(sv.vote.kind),
            }),
            // Counted for its value all the same (bounded): see `vote_keeper`.
            AddVote::Conflicting { first, .. } => {
                b.outputs
                    .push(Output::Equivocation(Evidence::ConflictingVotes {
                        first,
                        second: sv,
                    }));
                Ok(())
            }
        }
    }

    /// Stale timers (another height or round, or a step already left) are ignored silently:
    /// timers are never cancelled, so they are expected.
    fn on_timeout(&mut self, t: Timeout, b: &mut Batch<V>) {
        if !self.started || t.height != self.state.height || t.round != self.state.round {
            return;
        }
        match (t.step, self.state.step) {
            // Alg. 1 lines 57-60: OnTimeoutPropose while step = propose: prevote nil.
            (TimeoutStep::Propose, Step::Propose) => {
                self.state.step = Step::Prevote;
                self.sign_vote(VoteKind::Prevote, None, b);
            }
            // Lines 61-64: OnTimeoutPrevote while step = prevote: precommit nil.
            (TimeoutStep::Prevote, Step::Prevote) => {
                self.state.step = Step::Precommit;
                self.sign_vote(VoteKind::Precommit, None, b);
            }
            // Lines 65-67: OnTimeoutPrecommit: StartRound(round_p + 1).
            (TimeoutStep::Precommit, Step::Propose | Step::Prevote | Step::Precommit) => {
                self.leave_round(b);
                self.start_round(self.state.round.next(), b);
            }
            _ => {}
        }
    }

    /// Line 16: the answer to `getValue()`.
    fn on_value_to_propose(&mut self, value: V, b: &mut Batch<V>) -> Result<(), DropReason> {
        if !self.started
            || self.value_requested != Some(self.state.round)
            || self.state.step != Step::Propose
        {
            return Err(DropReason::NoValueRequested {
                height: self.state.height,
                round: self.state.round,
            });
        }
        self.value_requested = None;
        // Our own application built it: it is valid by definition.
        self.validity.insert(value.clone(), Validity::Valid);
        // Lines 18-19: proposal ← getValue(); broadcast PROPOSAL(h_p, round_p, proposal, −1).
        self.propose(value, None, b);
        Ok(())
    }

    /// The answer to `valid(v)`.
    fn on_value_validated(&mut self, value: V, valid: bool) -> Result<(), DropReason> {
        match self.validity.get_mut(&value) {
            Some(v @ Validity::Pending) => {
                *v = if valid {
                    Validity::Valid
                } else {
                    Validity::Invalid
                };
                Ok(())
            }
            _ => Err(DropReason::NoValidationRequested(self.state.height)),
        }
    }

    /// A certificate learnt by block sync decides the height like line 49 would: it holds
    /// 2f+1 precommits, so at least f+1 honest validators validated and precommitted it.
    fn on_certificate(
        &mut self,
        certificate: CommitCertificate<V>,
        b: &mut Batch<V>,
    ) -> Result<(), DropReason> {
        self.check_current(certificate.height)?;
        certificate
            .verify(&self.chain_id, &self.set, &self.verifier)
            .map_err(DropReason::BadCertificate)?;
        self.state.step = Step::Commit;
        b.outputs.push(Output::Decide {
            height: certificate.height,
            value: certificate.value.clone(),
            certificate,
        });
        Ok(())
    }

    // ---- the upon rules ----------------------------------------------------------------

    /// Applies the enabled `upon` rules until none is. Each rule that fires changes the step,
    /// the round or a once-per-round flag, so the loop ends.
    fn progress(&mut self, b: &mut Batch<V>) {
        while self.started && self.state.step != Step::Commit {
            let fired = self.try_decide(b)
                || self.try_nil_precommit_quorum(b)
                || self.try_round_skip(b)
                || self.try_prevote_on_proposal(b)
                || self.try_schedule_prevote_timeout(b)
                || self.try_polka_on_value(b)
                || self.try_polka_on_nil(b)
                || self.try_schedule_precommit_timeout(b);
            if !fired {
                break;
            }
        }
    }

    /// Alg. 1 lines 49-54: upon PROPOSAL(h_p, r, v, *) from proposer(h_p, r) AND 2f+1
    /// PRECOMMIT(h_p, r, id(v)) while decision_p[h_p] = nil: if valid(v), decide v. Any round r.
    fn try_decide(&mut self, b: &mut Batch<V>) -> bool {
        let quorums: Vec<(Round, V)> = self
            .votes
            .precommit_quorums()
            .into_iter()
            .map(|(r, v)| (r, v.clone()))
            .collect();
        for (round, value) in quorums {
            let proposed = self
                .proposals
                .get(&round)
                .is_some_and(|l| l.iter().any(|p| p.proposal.value == value));
            if proposed && self.validity.get(&value) == Some(&Validity::Valid) {
                let certificate = self.certificate(round, &value);
                self.state.step = Step::Commit;
                b.outputs.push(Output::Decide {
                    height: self.state.height,
                    value,
                    certificate,
                });
                return true;
            }
        }
        false
    }

    /// Lines 55-56: upon f+1 ⟨*, h_p, round, *, *⟩ with round > round_p: StartRound(round).
    fn try_round_skip(&mut self, b: &mut Batch<V>) -> bool {
        match self
            .votes
            .highest_round_with_senders_above(self.state.round, self.set.honest_threshold())
        {
            Some(round) => {
                self.leave_round(b);
                self.start_round(round, b);
                true
            }
            None => false,
        }
    }

    /// Lines 22-33: the first proposal of the round from its proposer, while step = propose.
    fn try_prevote_on_proposal(&mut self, b: &mut Batch<V>) -> bool {
        if self.state.step != Step::Propose {
            return false;
        }
        let Some(p) = self
            .proposals
            .get(&self.state.round)
            .and_then(|l| l.first())
            .map(|sp| sp.proposal.clone())
        else {
            return false;
        };
        let valid = match self.validity.get(&p.value) {
            Some(Validity::Valid) => true,
            Some(Validity::Invalid) => false,
            // valid(v) is not known yet: wait (timeoutPropose still runs).
            Some(Validity::Pending) | None => return false,
        };
        let ignore_lock = self.ignores_lock();
        let locked = self.state.locked.as_ref();
        let prevote_value = match p.valid_round {
            // Lines 22-27: PROPOSAL(h_p, round_p, v, −1): prevote v if
            // valid(v) ∧ (lockedRound_p = −1 ∨ lockedValue_p = v), else nil.
            None => valid && (ignore_lock || locked.is_none_or(|l| l.value == p.value)),
            // Lines 28-33: PROPOSAL(h_p, round_p, v, vr) AND 2f+1 PREVOTE(h_p, vr, id(v)),
            // vr < round_p: prevote v if valid(v) ∧ (lockedRound_p ≤ vr ∨ lockedValue_p = v).
            Some(vr) => {
                if !self.votes.has_quorum(vr, VoteKind::Prevote, Some(&p.value)) {
                    return false;
                }
                valid && (ignore_lock || locked.is_none_or(|l| l.round <= vr || l.value == p.value))
            }
        };
        self.state.step = Step::Prevote;
        self.sign_vote(VoteKind::Prevote, prevote_value.then_some(p.value), b);
        true
    }

    /// Lines 34-35: upon 2f+1 PREVOTE(h_p, round_p, *) while step = prevote for the first
    /// time: schedule OnTimeoutPrevote.
    fn try_schedule_prevote_timeout(&mut self, b: &mut Batch<V>) -> bool {
        if self.state.step != Step::Prevote
            || self.flags.prevote_timeout
            || self.votes.total(self.state.round, VoteKind::Prevote) < self.set.quorum()
        {
            return false;
        }
        self.flags.prevote_timeout = true;
        self.schedule(TimeoutStep::Prevote, b);
        true
    }

    /// Lines 36-43: upon PROPOSAL(h_p, round_p, v, *) AND 2f+1 PREVOTE(h_p, round_p, id(v))
    /// while valid(v) ∧ step ≥ prevote for the first time: if step = prevote, lock v and
    /// precommit it; in both cases validValue ← v, validRound ← round_p.
    fn try_polka_on_value(&mut self, b: &mut Batch<V>) -> bool {
        if self.flags.polka_value || !matches!(self.state.step, Step::Prevote | Step::Precommit) {
            return false;
        }
        let round = self.state.round;
        let Some(Some(value)) = self
            .votes
            .quorum_value(round, VoteKind::Prevote)
            .map(|v| v.cloned())
        else {
            return false;
        };
        let proposed = self
            .proposals
            .get(&round)
            .is_some_and(|l| l.iter().any(|p| p.proposal.value == value));
        if !proposed || self.validity.get(&value) != Some(&Validity::Valid) {
            return false;
        }
        self.flags.polka_value = true;
        if self.state.step == Step::Prevote {
            // Lines 38-41.
            self.state.locked = Some(RoundValue {
                value: value.clone(),
                round,
            });
            self.state.step = Step::Precommit;
            self.sign_vote(VoteKind::Precommit, Some(value.clone()), b);
        }
        // Lines 42-43, keeping the polka (persisted) for re-proposals after a restart.
        let valid = RoundValue { value, round };
        if self.state.valid.as_ref() != Some(&valid) {
            self.state.valid_polka = self
                .votes
                .votes_for(round, VoteKind::Prevote, &valid.value)
                .cloned()
                .collect();
            self.state.valid = Some(valid);
            b.persist = true;
        }
        true
    }

    /// Lines 44-46: upon 2f+1 PREVOTE(h_p, round_p, nil) while step = prevote: precommit nil.
    fn try_polka_on_nil(&mut self, b: &mut Batch<V>) -> bool {
        if self.state.step != Step::Prevote
            || !self
                .votes
                .has_quorum(self.state.round, VoteKind::Prevote, None)
        {
            return false;
        }
        self.state.step = Step::Precommit;
        self.sign_vote(VoteKind::Precommit, None, b);
        true
    }

    /// Lines 47-48: upon 2f+1 PRECOMMIT(h_p, round_p, *) for the first time: schedule
    /// OnTimeoutPrecommit.
    /// Not in Algorithm 1: upon 2f+1 PRECOMMIT(h_p, round_p, nil), StartRound(round_p + 1) at
    /// once instead of after timeoutPrecommit (line 47). No value can be decided in this
    /// round any more (2f+1 precommits for a value would need f+1 correct validators that
    /// also precommitted nil), so waiting only costs time — a whole precommit timeout for
    /// every round a faulty proposer spoils. Safety never rests on timeouts.
    fn try_nil_precommit_quorum(&mut self, b: &mut Batch<V>) -> bool {
        if !self
            .votes
            .has_quorum(self.state.round, VoteKind::Precommit, None)
        {
            return false;
        }
        self.start_round(self.state.round.next(), b);
        true
    }

    fn try_schedule_precommit_timeout(&mut self, b: &mut Batch<V>) -> bool {
        if self.flags.precommit_timeout
            || self.votes.total(self.state.round, VoteKind::Precommit) < self.set.quorum()
        {
            return false;
        }
        self.flags.precommit_timeout = true;
        self.schedule(TimeoutStep::Precommit, b);
        true
    }

    // ---- helpers -----------------------------------------------------------------------

    /// Before leaving the current round, prevotes and precommits nil in it if we have not
    /// voted there yet (not in Algorithm 1; a nil vote is always safe, lines 57-64 sign the
    /// same).
    ///
    /// Algorithm 1 assumes every message a correct process receives is eventually received
    /// by every correct process; a node that re-gossips only its own messages does not relay
    /// others'. Then a validator that left a round on 2f+1 precommits it alone received
    /// (timeoutPrecommit, line 65) or on a round skip (line 55) would leave the others of
    /// that round waiting for its vote forever: with f silent byzantine validators the
    /// remaining 2f+1 are all needed for the quorum that arms their timeoutPrecommit. With
    /// this rule every correct validator votes in every round it leaves, so the correct
    /// validators' own messages always complete those quorums.
    fn leave_round(&mut self, b: &mut Batch<V>) {
        for kind in [VoteKind::Prevote, VoteKind::Precommit] {
            if self.state.signed_vote(self.state.round, kind).is_none() {
                self.sign_vote(kind, None, b);
            }
        }
    }

    /// Lines 11-21: StartRound(round).
    fn start_round(&mut self, round: Round, b: &mut Batch<V>) {
        self.state.round = round;
        self.state.step = Step::Propose;
        self.flags = RoundFlags::default();
        self.value_requested = None;
        // Persist the new round so a validator restarted now rejoins this round, not the
        // last one it signed in (safety does not need it; catching up with peers does).
        b.persist = true;
        // Line 21 arms timeoutPropose only for non-proposers; we arm it for the proposer too,
        // so a slow application cannot hold it in the propose step (a nil prevote is safe).
        self.schedule(TimeoutStep::Propose, b);
        self.propose_or_request(b);
    }

    /// Lines 12-19 for the proposer: re-propose validValue with its validRound, or ask the
    /// application for a fresh value.
    fn propose_or_request(&mut self, b: &mut Batch<V>) {
        let (height, round) = (self.state.height, self.state.round);
        if self.set.proposer(height, round) != self.me {
            return;
        }
        match self.state.valid.clone() {
            // Lines 14-15: proposal ← validValue_p (with validRound_p).
            Some(RoundValue { value, round: vr }) => self.propose(value, Some(vr), b),
            // Line 17: proposal ← getValue().
            None => {
                self.value_requested = Some(round);
                b.outputs.push(Output::RequestValue { height, round });
            }
        }
    }

    /// Line 19: broadcast ⟨PROPOSAL, h_p, round_p, proposal, validRound⟩ — through the guard.
    fn propose(&mut self, value: V, valid_round: Option<Round>, b: &mut Batch<V>) {
        let proposal = Proposal {
            height: self.state.height,
            round: self.state.round,
            value,
            valid_round,
            proposer: self.me,
        };
        match self.state.check_proposal(&proposal) {
            SignCheck::Fresh => {
                let signature = self.signer.sign(&proposal.sign_bytes(&self.chain_id));
                let sp = SignedProposal {
                    proposal,
                    signature,
                };
                self.state.signed.push(Message::Proposal(sp.clone()));
                b.persist = true;
                b.broadcasts.push(Message::Proposal(sp.clone()));
                // We receive our own proposal like everybody else (lines 22/28 apply to us).
                self.accept_proposal(sp, b);
            }
            SignCheck::AlreadySigned(m) => b.broadcasts.push(m.clone()),
            // Signing would equivocate: never. (Unreachable while the rules are right.)
            SignCheck::Conflicts(_) => {}
        }
    }

    /// Signs and counts our vote of `kind` for `value` in the current round — through the
    /// guard: an identical earlier vote is re-sent, a conflicting one is never signed.
    fn sign_vote(&mut self, kind: VoteKind, value: Option<V>, b: &mut Batch<V>) {
        let vote = Vote {
            height: self.state.height,
            round: self.state.round,
            kind,
            value,
            validator: self.me,
        };
        match self.state.check_vote(&vote) {
            SignCheck::Fresh => {
                let signature = self.signer.sign(&vote.sign_bytes(&self.chain_id));
                let sv = SignedVote { vote, signature };
                self.state.signed.push(Message::Vote(sv.clone()));
                b.persist = true;
                b.broadcasts.push(Message::Vote(sv.clone()));
                self.votes.add(sv);
            }
            SignCheck::AlreadySigned(m) => b.broadcasts.push(m.clone()),
            SignCheck::Conflicts(_) => {}
        }
    }

    /// Stores a verified proposal from the round's proposer and asks for `valid(v)` if the
    /// value is new to us — or asks again if an earlier request is still unanswered: the
    /// node cannot validate a block whose body never reached it and does not answer, and a
    /// re-proposal (lines 14-15) is how the body reaches it later. Without asking again, a
    /// validator that missed the body when a byzantine proposer first sent the value could
    /// never prevote it, and the validators locked on it could never get a quorum.
    fn accept_proposal(&mut self, sp: SignedProposal<V>, b: &mut Batch<V>) {
        let (round, proposer) = (sp.proposal.round, sp.proposal.proposer);
        self.votes.add_sender(round, proposer);
        let known = self.validity.get(&sp.proposal.value).copied();
        if matches!(known, None | Some(Validity::Pending)) {
            self.validity
                .insert(sp.proposal.value.clone(), Validity::Pending);
            b.outputs.push(Output::ValidateValue {
                height: sp.proposal.height,
                round,
                value: sp.proposal.value.clone(),
            });
        }
        self.proposals.entry(round).or_default().push(sp);
    }

    /// The commit certificate from the precommits for `value` in `round`, by validator index.
    fn certificate(&self, round: Round, value: &V) -> CommitCertificate<V> {
        CommitCertificate {
            height: self.state.height,
            round,
            value: value.clone(),
            signatures: self
                .votes
                .votes_for(round, VoteKind::Precommit, value)
                .map(|v| CommitSignature {
                    validator: v.vote.validator,
                    signature: v.signature,
                })
                .collect(),
        }
    }

    fn schedule(&self, step: TimeoutStep, b: &mut Batch<V>) {
        let timeout = Timeout {
            height: self.state.height,
            round: self.state.round,
            step,
        };
        b.outputs.push(Output::ScheduleTimeout {
            timeout,
            duration_ms: self.config.timeouts.duration_ms(step, self.state.round),
        });
    }

    /// Messages are accepted for the current, undecided height only.
    fn check_current(&self, height: Height) -> Result<(), DropReason> {
        if !self.started {
            return Err(DropReason::NotStarted);
        }
        if height != self.state.height {
            return Err(DropReason::WrongHeight {
                current: self.state.height,
                found: height,
            });
        }
        if self.state.step == Step::Commit {
            return Err(DropReason::AlreadyDecided(height));
        }
        Ok(())
    }

    fn known_validator(&self, index: ValidatorIndex) -> Result<(), DropReason> {
        match self.set.get(index) {
            Some(_) => Ok(()),
            None => Err(DropReason::UnknownValidator {
                index,
                set_size: self.set.len(),
            }),
        }
    }

    /// Keeps a validator's messages in at most [`MAX_FUTURE_ROUNDS_PER_VALIDATOR`] rounds
    /// above ours.
    fn check_future_round(
        &self,
        validator: ValidatorIndex,
        round: Round,
    ) -> Result<(), DropReason> {
        if round <= self.state.round {
            return Ok(());
        }
        let ahead = self.votes.rounds_above_from(self.state.round, validator);
        if ahead.contains(&round) || ahead.len() < MAX_FUTURE_ROUNDS_PER_VALIDATOR {
            Ok(())
        } else {
            Err(DropReason::TooFarAhead {
                validator,
                round,
                limit: MAX_FUTURE_ROUNDS_PER_VALIDATOR,
            })
        }
    }

    fn signature_ok(&self, who: ValidatorIndex, msg: &[u8], sig: &Signature) -> bool {
        self.set
            .get(who)
            .is_some_and(|v| self.verifier.verify(&v.public_key, msg, sig))
    }
}

#[cfg(test)]
mod tests;
