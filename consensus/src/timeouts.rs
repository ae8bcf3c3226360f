//! Timeouts: which step a timer guards, and how long it lasts in a round. Durations grow
//! linearly with the round (`base + delta * round`) so that, after GST, some round is long
//! enough for every honest validator to hear every other. This module only computes numbers:
//! it never reads a clock or sleeps; the node owns the timers.

use crate::height::{Height, Round};
use serde::{Deserialize, Serialize};

/// The step a timeout guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TimeoutStep {
    /// `timeoutPropose`: waiting for the round's proposal (Alg. 1 lines 21, 57).
    Propose,
    /// `timeoutPrevote`: waiting for a prevote quorum on one value (lines 34, 61).
    Prevote,
    /// `timeoutPrecommit`: waiting for a precommit quorum on one value (lines 47, 65).
    Precommit,
}

/// A timer the node must fire back as [`Input::TimeoutElapsed`](crate::Input::TimeoutElapsed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timeout {
    /// The height it was scheduled at.
    pub height: Height,
    /// The round it was scheduled in.
    pub round: Round,
    /// The step it guards.
    pub step: TimeoutStep,
}

/// Timeout durations in milliseconds: `base + delta * round` per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// `timeoutPropose` in round 0.
    pub propose_ms: u64,
    /// Added to `timeoutPropose` per round.
    pub propose_delta_ms: u64,
    /// `timeoutPrevote` in round 0.
    pub prevote_ms: u64,
    /// Added to `timeoutPrevote` per round.
    pub prevote_delta_ms: u64,
    /// `timeoutPrecommit` in round 0.
    pub precommit_ms: u64,
    /// Added to `timeoutPrecommit` per round.
    pub precommit_delta_ms: u64,
}

impl Default for Timeouts {
    /// Tendermint's defaults: 3 s to propose, 1 s for each vote step, +0.5 s per round.
    fn default() -> Self {
        Timeouts {
            propose_ms: 3000,
            propose_delta_ms: 500,
            prevote_ms: 1000,
            prevote_delta_ms: 500,
            precommit_ms: 1000,
            precommit_delta_ms: 500,
        }
    }
}

impl Timeouts {
    /// How long the `step` timeout of `round` lasts: `base + delta * round`, saturating.
    pub fn duration_ms(&self, step: TimeoutStep, round: Round) -> u64 {
        let (base, delta) = match step {
            TimeoutStep::Propose => (self.propose_ms, self.propose_delta_ms),
            TimeoutStep::Prevote => (self.prevote_ms, self.prevote_delta_ms),
            TimeoutStep::Precommit => (self.precommit_ms, self.precommit_delta_ms),
        };
        base.saturating_add(delta.saturating_mul(u64::from(round.0)))
    }
}

/// What the node passes in when it builds a [`Consensus`](crate::Consensus).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Timeout durations (from the genesis file).
    pub timeouts: Timeouts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_grow_with_the_round() {
        let t = Timeouts::default();
        assert_eq!(t.duration_ms(TimeoutStep::Propose, Round(0)), 3000);
        assert_eq!(t.duration_ms(TimeoutStep::Prevote, Round(2)), 2000);
        assert_eq!(t.duration_ms(TimeoutStep::Precommit, Round(4)), 3000);
        let huge = Timeouts {
            propose_delta_ms: u64::MAX,
            ..t
        };
        assert_eq!(
            huge.duration_ms(TimeoutStep::Propose, Round(u32::MAX)),
            u64::MAX
        );
    }
}
