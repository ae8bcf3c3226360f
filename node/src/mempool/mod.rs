//! The mempool: transactions accepted but not yet committed, kept in admission order.
//!
//! Every pending transaction has been applied, in order, on top of the committed state, so
//! a transaction that breaks a rule is refused at submission with its reason, and a member
//! may submit several dependent transactions (commission, then ship) without waiting for
//! blocks. The pool is bounded and says so when full. It does no IO itself: the node passes
//! in the committed state to apply against.

mod early;
mod pool;

pub use early::{EarlyTxs, MAX_AHEAD, MAX_EARLY_BYTES};
pub use pool::{Admission, Mempool, MempoolError, PendingTx};
