//! Storage: the only module that names sled.
//!
//! A [`Store`] keeps the committed chain (blocks, certificates, transactions) and the
//! ledger state the rules computed (item states, hash-linked histories, shipments,
//! recalls, sequence numbers), plus the indexes the users' questions need (lot, custodian,
//! location, shipment, item history). It sits on a small [`KvBackend`] trait with two
//! implementations, [`SledKv`] (the node) and [`MemKv`] (tests, tools); one conformance
//! suite runs against both.
//!
//! It must never apply ledger rules (the `ledger` crate computes [`Changes`]) and never
//! write a block in more than one [`KvBackend::write_batch`]: a block, its state changes,
//! its indexes and the new head become durable together, or not at all.
//!
//! [`Changes`]: custody_ledger::state::Changes
//!
//! # Key layout
//!
//! One keyspace (one sled tree). The first byte names the record kind. `BE` is big-endian
//! (so heights sort numerically); `lp(x)` is `x` preceded by its length as a 2-byte BE
//! integer (so a variable part never runs into the next); `item` is
//! [`ItemId::key_bytes`](custody_ledger::gs1::ItemId::key_bytes). A variable part that
//! ends the key needs no length. Every value is [`custody_ledger::encoding::encode`]d.
//!
//! | key | value | what |
//! | --- | --- | --- |
//! | `m` `head` | [`Head`] | last committed block |
//! | `m` `genesis` | `Hash32` | genesis the directory was made for |
//! | `m` `format` | `u32` | storage format version ([`FORMAT_VERSION`]) |
//! | `h` height BE8 | `BlockHeader` | block header |
//! | `x` height BE8, index BE4 | `SignedTransaction` | the block's transactions, in order |
//! | `c` height BE8 | `BlockCertificate` | commit certificate |
//! | `t` tx hash (32) | `(u64, u32)` | transaction → (height, index) |
//! | `i` item | `ItemState` | item state |
//! | `e` lp(item), seq BE4 | `ItemEvent` | item history, in order |
//! | `l` lp(gtin), lp(lot), item | empty | index: lot → units (every unit ever commissioned) |
//! | `u` lp(member), item | empty | index: custodian → top-level items not decommissioned |
//! | `g` lp(gln), item | empty | index: location → top-level items not decommissioned |
//! | `p` lp(container), item | empty | index: container → items packed directly in it |
//! | `s` shipment id | `Shipment` | shipment |
//! | `f` lp(member), shipment id | empty | index: shipper or addressee → shipment |
//! | `r` recall id | `RecallRecord` | recall |
//! | `k` lp(gtin), lp(lot) | `LotRecord` | lot: expiry, units, recall |
//! | `q` member | `u64` | member's last sequence number |
//! | `n` node hash (32) | `smt::Node` | state-tree node reachable from the head's `state_root` |
//!
//! Index entries are maintained from each [`ItemChange`](custody_ledger::state::ItemChange):
//! the entries of `before` that `after` no longer has are deleted, the new ones are put.
//!
//! Packed items are indexed by their container only: where they are and who holds them is
//! their outermost container's ([`custody_ledger::state::Effective`]).
//!
//! The state tree (`n`) is the sparse Merkle tree of [`custody_ledger::smt`] over the whole
//! replicated state: items, lots, shipments, recalls and members' sequence numbers
//! ([`custody_ledger::state::StateKey`]). A commit writes the nodes the block's changes create and deletes the ones
//! they replace, in the same batch, so the store holds exactly the tree of the head's
//! `state_root` (proofs are served at the head).

mod head;
mod keys;
mod kv_backend;
mod mem_kv;
mod sled_kv;
mod storage_error;
mod store;

pub use head::Head;
pub use kv_backend::{BatchOp, KvBackend, KvPairs, WriteBatch};
pub use mem_kv::MemKv;
pub use sled_kv::SledKv;
pub use storage_error::StorageError;
pub use store::{Store, FORMAT_VERSION};

#[cfg(test)]
pub(crate) mod tests;
