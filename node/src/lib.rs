//! The Custody node: everything that does IO. Storage (sled) lives in [`storage`], the HTTP
//! API in [`api`], the mempool in [`mempool`], block production behind the consensus seam in
//! [`consensus_driver`] and [`producer`]; [`node`] wires them. The ledger rules and the
//! consensus logic are pure crates this one calls.

pub mod api;
pub mod consensus_driver;
pub mod dev;
pub mod mempool;
pub mod network;
pub mod node;
pub mod producer;
pub mod storage;
