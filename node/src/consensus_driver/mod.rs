//! The consensus seam: the node drives the pure `custody-consensus` state machine for every
//! block, a one-validator chain included. The driver owns the timers, persists the
//! validator's safety state to a write-ahead record before anything it covers is sent,
//! offers the mempool as the source of values, validates proposed blocks with the ledger
//! rules and commits decided ones. Peers are reached through the [`Gossip`] trait, so the
//! network stays in `network/`. A node that does not vote runs the [follower](spawn_follower)
//! instead: it checks and commits decided blocks with their certificates.

mod bodies;
mod driver;
mod follower;
mod future;
mod gossip;
mod inbox;
mod safety_wal;
mod suspects;
mod wire;

pub use bodies::ProposalBodies;
pub use driver::{spawn, DriverError, DriverHandle, DriverOptions};
pub use follower::{spawn_follower, FollowerHandle};
pub use gossip::{BodySink, Gossip, NoPeers};
pub use safety_wal::{SafetyWal, WalError, BLOCKS_MAGIC, SAFETY_MAGIC, WAL_FORMAT_VERSION};
pub use wire::{ConsensusMessage, WireError, PROPOSAL_ROOM};
