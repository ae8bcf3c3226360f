//! Custody's consensus: a round-robin BFT in the style of Tendermint, written as a pure,
//! deterministic state machine.
//!
//! This crate must never do IO, read a clock, draw randomness or spawn tasks: the node owns
//! all of that and feeds facts in. It depends on nothing else of Custody's, so the ledger's
//! offline verifier can use its [`CommitCertificate`] check without pulling in a runtime.

pub mod bytes;
pub mod certificate;
pub mod height;
pub mod signing;
pub mod validator_set;
pub mod vote;

pub use bytes::{PublicKey, Signature};
pub use certificate::{CertificateError, CommitCertificate, CommitSignature};
pub use height::{Height, Round};
pub use signing::{Ed25519Verifier, Signer, Verifier};
pub use validator_set::{Validator, ValidatorIndex, ValidatorSet};
pub use vote::{vote_sign_bytes, VoteKind};
