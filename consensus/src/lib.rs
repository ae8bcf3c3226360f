//! Custody's consensus: a round-robin BFT in the style of Tendermint, written as a pure,
//! deterministic state machine.
//!
//! This crate must never do IO, read a clock, draw randomness or spawn tasks: the node owns
//! all of that and feeds facts in. It depends on nothing else of Custody's, so the ledger's
//! offline verifier can use its [`CommitCertificate`] check without pulling in a runtime.
//!
//! Code map: [`Consensus`] (`consensus.rs`) applies Algorithm 1 of "The latest gossip on BFT
//! consensus" to [`Input`]s and returns [`Output`]s; [`vote_keeper`] counts votes;
//! [`safety`] holds what must survive a crash and the guard that refuses to equivocate;
//! [`proposal`], [`vote`], [`message`] are the signed messages; [`certificate`] is the
//! commit certificate third parties verify; [`evidence`] proves equivocation.

pub mod bytes;
pub mod certificate;
pub mod consensus;
pub mod error;
pub mod evidence;
#[cfg(any(test, feature = "fault-injection"))]
pub mod fault;
pub mod height;
pub mod input;
pub mod message;
pub mod output;
pub mod proposal;
pub mod safety;
pub mod signing;
pub mod timeouts;
pub mod validator_set;
pub mod vote;
pub mod vote_keeper;

pub use bytes::{PublicKey, Signature};
pub use certificate::{CertificateError, CommitCertificate, CommitSignature};
pub use consensus::{Consensus, Retained};
pub use error::{ConsensusError, DropReason, MessageKind};
pub use evidence::Evidence;
#[cfg(any(test, feature = "fault-injection"))]
pub use fault::Fault;
pub use height::{Height, Round};
pub use input::Input;
pub use message::Message;
pub use output::Output;
pub use proposal::{proposal_sign_bytes, Proposal, SignedProposal};
pub use safety::{RoundValue, SafetyState, SignCheck, Step};
pub use signing::{Ed25519Verifier, Signer, Verifier};
pub use timeouts::{Config, Timeout, TimeoutStep, Timeouts};
pub use validator_set::{Validator, ValidatorIndex, ValidatorSet};
pub use vote::{vote_sign_bytes, SignedVote, Vote, VoteKind};
