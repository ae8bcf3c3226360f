//! The Custody node: everything that does IO. Storage (sled) lives in [`storage`], the HTTP
//! API in `api`, the mempool in `mempool`, and the block producer drives consensus and
//! commits blocks. The ledger rules and consensus logic are pure crates this one calls.

pub mod storage;
