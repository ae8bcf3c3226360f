//! Where each kind of replicated record sits in the state tree: one key space, a domain tag
//! per kind, so an item, a lot, a shipment, a recall and a member's sequence number can
//! never share a key, and two replicas that differ in any of them have different roots.

use crate::genesis::MemberId;
use crate::gs1::{Gtin, ItemId, Lot};
use crate::hash::Hash32;
use crate::smt::Smt;
use crate::transaction::ShipmentId;

/// A record of the replicated state, named for its state-tree key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKey<'a> {
    /// An item's state.
    Item(&'a ItemId),
    /// A lot's record.
    Lot(&'a Gtin, &'a Lot),
    /// A shipment.
    Shipment(&'a ShipmentId),
    /// A recall.
    Recall(&'a str),
    /// A member's last sequence number.
    Sequence(&'a MemberId),
}

fn part(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u64).to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

impl StateKey<'_> {
    /// The state-tree key.
    pub fn hash(&self) -> Hash32 {
        match self {
            StateKey::Item(id) => Smt::item_key(id),
            StateKey::Lot(gtin, lot) => Hash32::tagged(
                "custody/smt-key/lot/v1",
                &[&part(gtin.as_str()), &part(lot.as_str())],
            ),
            StateKey::Shipment(id) => {
                Hash32::tagged("custody/smt-key/shipment/v1", &[id.0.as_bytes()])
            }
            StateKey::Recall(id) => Hash32::tagged("custody/smt-key/recall/v1", &[id.as_bytes()]),
            StateKey::Sequence(m) => {
                Hash32::tagged("custody/smt-key/sequence/v1", &[m.0.as_bytes()])
            }
        }
    }
}
