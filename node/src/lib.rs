//! The Custody node: everything that does IO. Storage (sled) lives in [`storage`], the HTTP
//! API in [`api`], the mempool in [`mempool`], and the consensus driver (timers, the safety
//! record, block building, validation and commit) in [`consensus_driver`]; [`node`] holds the
//! shared core. The ledger rules and the consensus state machine are pure crates this one
//! drives.

pub mod api;
pub mod consensus_driver;
pub mod dev;
pub mod mempool;
pub mod network;
pub mod node;
pub mod peering;
pub mod peers;
pub mod provenance;
pub mod storage;
