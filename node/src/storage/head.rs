//! The committed head: the last block made durable.

use custody_ledger::hash::Hash32;
use serde::{Deserialize, Serialize};

/// The last committed block: its height, hash, (proposer's) time and state root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Height, from 1.
    pub height: u64,
    /// Block (header) hash.
    pub hash: Hash32,
    /// Block time, Unix milliseconds.
    pub time_ms: u64,
    /// Root of the state tree after the block.
    pub state_root: Hash32,
}
