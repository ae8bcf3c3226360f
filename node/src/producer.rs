//! The block-production task: waits for transactions, then builds, certifies and commits
//! blocks one after another on a blocking thread (commits fsync). A storage failure stops
//! the node: it must not keep acknowledging what it cannot persist.

use crate::node::Node;
use crate::storage::KvBackend;
use std::sync::Arc;

/// Runs until a storage error, which it returns.
pub async fn run<B: KvBackend>(node: Arc<Node<B>>) -> anyhow::Result<()> {
    loop {
        node.wait_for_transactions().await;
        let n = Arc::clone(&node);
        let result = tokio::task::spawn_blocking(move || n.produce_block()).await?;
        match result {
            Ok(Some(c)) if c.txs > 0 => {
                tracing::info!(
                    height = c.height,
                    txs = c.txs,
                    events = c.events,
                    "block committed"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "storage failed: stopping");
                return Err(e.into());
            }
        }
    }
}
