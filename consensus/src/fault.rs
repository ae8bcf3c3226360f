//! Deliberate bugs for testing the tests. Compiled only under `cfg(test)` or the
//! `fault-injection` feature, never in a production build: the simulation enables one on a
//! single "honest" validator and must then report a safety violation.

/// A bug to plant in one validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Prevote the round's proposal whatever the lock (the "amnesia" bug: Alg. 1 lines 22-33
    /// without the `lockedRound`/`lockedValue` condition).
    IgnoreLock,
}
