//! [`Topic`]: the two gossip channels, and the chain-namespaced names of topics and of the
//! sync protocol. Nodes of different chains (or protocol versions) never share a topic.

use super::network_error::NetworkError;
use libp2p::gossipsub::{IdentTopic, TopicHash};
use libp2p::StreamProtocol;

/// A gossip channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Signed ledger transactions (`custody/<chain>/tx/1`).
    Transactions,
    /// Consensus messages: proposals and votes (`custody/<chain>/consensus/1`).
    Consensus,
}

impl Topic {
    /// Both topics, in a fixed order.
    pub const ALL: [Topic; 2] = [Topic::Transactions, Topic::Consensus];

    /// The topic's name on the wire, e.g. `custody/main/tx/1`, or `custody/tx/1` without a
    /// chain id.
    pub fn name(self, chain_id: Option<&str>) -> String {
        let kind = match self {
            Topic::Transactions => "tx",
            Topic::Consensus => "consensus",
        };
        match chain_id {
            Some(chain) => format!("custody/{chain}/{kind}/1"),
            None => format!("custody/{kind}/1"),
        }
    }
}

/// The concrete gossipsub topics and the sync protocol name of one chain.
#[derive(Debug, Clone)]
pub(crate) struct TopicNames {
    transactions: IdentTopic,
    consensus: IdentTopic,
    sync: StreamProtocol,
    identify: String,
}

impl TopicNames {
    /// Names for `chain_id`, which must be non-empty and made of `[A-Za-z0-9._-]` so it
    /// cannot break out of its path segment.
    pub(crate) fn new(chain_id: Option<&str>) -> Result<Self, NetworkError> {
        if let Some(chain) = chain_id {
            let ok = !chain.is_empty()
                && chain.len() <= 64
                && chain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                return Err(NetworkError::InvalidConfig(format!(
                    "chain id {chain:?} must be 1 to 64 characters of [A-Za-z0-9._-]"
                )));
            }
        }
        let sync = match chain_id {
            Some(chain) => format!("/custody/{chain}/sync/1"),
            None => "/custody/sync/1".to_string(),
        };
        let identify = match chain_id {
            Some(chain) => format!("/custody/{chain}/1"),
            None => "/custody/1".to_string(),
        };
        Ok(Self {
            transactions: IdentTopic::new(Topic::Transactions.name(chain_id)),
            consensus: IdentTopic::new(Topic::Consensus.name(chain_id)),
            sync: StreamProtocol::try_from_owned(sync)
                .map_err(|e| NetworkError::InvalidConfig(format!("sync protocol name: {e}")))?,
            identify,
        })
    }

    /// The gossipsub topic of `topic`.
    pub(crate) fn topic(&self, topic: Topic) -> &IdentTopic {
        match topic {
            Topic::Transactions => &self.transactions,
            Topic::Consensus => &self.consensus,
        }
    }

    /// Which of our topics `hash` is, if any.
    pub(crate) fn classify(&self, hash: &TopicHash) -> Option<Topic> {
        Topic::ALL
            .into_iter()
            .find(|t| &self.topic(*t).hash() == hash)
    }

    /// All topic hashes (for the subscription whitelist and scoring).
    pub(crate) fn hashes(&self) -> impl Iterator<Item = TopicHash> + '_ {
        Topic::ALL.into_iter().map(|t| self.topic(t).hash())
    }

    /// The block-sync request-response protocol, `/custody/<chain>/sync/1`.
    pub(crate) fn sync_protocol(&self) -> StreamProtocol {
        self.sync.clone()
    }

    /// The identify protocol version string, `/custody/<chain>/1`.
    pub(crate) fn identify_version(&self) -> String {
        self.identify.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_namespaced_by_chain() {
        assert_eq!(Topic::Transactions.name(Some("main")), "custody/main/tx/1");
        assert_eq!(Topic::Consensus.name(None), "custody/consensus/1");
        let names = TopicNames::new(Some("main")).unwrap();
        assert_eq!(names.sync_protocol().as_ref(), "/custody/main/sync/1");
        let hash = names.topic(Topic::Consensus).hash();
        assert_eq!(names.classify(&hash), Some(Topic::Consensus));
        let other = TopicNames::new(Some("test")).unwrap();
        assert_eq!(names.classify(&other.topic(Topic::Consensus).hash()), None);
    }

    #[test]
    fn chain_ids_that_break_paths_are_refused() {
        for bad in ["", "a/b", "a b", "ü"] {
            assert!(TopicNames::new(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
