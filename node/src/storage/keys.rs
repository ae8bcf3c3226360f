//! Key encoding: one keyspace, a one-byte prefix per record kind (see the table in the
//! [module docs](crate::storage)). Fixed-width numbers are big-endian so keys sort
//! numerically; every variable-length part that is followed by another part carries a
//! 2-byte big-endian length, so no two different records share a key or a scan prefix.
//! A variable part at the very end of a key needs no length.

use crate::storage::storage_error::StorageError;
use custody_ledger::genesis::MemberId;
use custody_ledger::gs1::{Gln, Gtin, ItemId, Lot};
use custody_ledger::hash::Hash32;
use custody_ledger::transaction::ShipmentId;

/// Record kinds: the first byte of every key.
pub mod prefix {
    /// Meta records: head, genesis hash, format version.
    pub const META: u8 = b'm';
    /// Block header by height.
    pub const HEADER: u8 = b'h';
    /// Block transaction by height and index.
    pub const BLOCK_TX: u8 = b'x';
    /// Commit certificate by height.
    pub const CERTIFICATE: u8 = b'c';
    /// Transaction location by hash.
    pub const TX_INDEX: u8 = b't';
    /// Item state by item key.
    pub const ITEM: u8 = b'i';
    /// Item history event by item key and sequence.
    pub const EVENT: u8 = b'e';
    /// Index: GTIN + lot → item.
    pub const LOT_ITEM: u8 = b'l';
    /// Index: custodian → item.
    pub const CUSTODIAN_ITEM: u8 = b'u';
    /// Index: location GLN → item.
    pub const LOCATION_ITEM: u8 = b'g';
    /// Shipment by id.
    pub const SHIPMENT: u8 = b's';
    /// Index: member (shipper or addressee) → shipment.
    pub const MEMBER_SHIPMENT: u8 = b'f';
    /// Recall by id.
    pub const RECALL: u8 = b'r';
    /// Lot record by GTIN + lot.
    pub const LOT: u8 = b'k';
    /// Index: container → item packed directly in it.
    pub const CONTAINER_ITEM: u8 = b'p';
    /// A member's last sequence number.
    pub const SEQUENCE: u8 = b'q';
    /// A node of the state tree, by its hash.
    pub const SMT_NODE: u8 = b'n';
}

/// The longest variable key part that can be length-prefixed.
pub const MAX_PART: usize = u16::MAX as usize;

fn key(p: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(48);
    k.push(p);
    k
}

/// Appends `part` with a 2-byte big-endian length.
fn push_part(k: &mut Vec<u8>, part: &[u8], what: &'static str) -> Result<(), StorageError> {
    let len = u16::try_from(part.len()).map_err(|_| StorageError::KeyTooLong {
        what,
        len: part.len(),
        max: MAX_PART,
    })?;
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(part);
    Ok(())
}

fn meta(name: &str) -> Vec<u8> {
    let mut k = key(prefix::META);
    k.extend_from_slice(name.as_bytes());
    k
}

/// A state-tree node.
pub fn smt_node(hash: &Hash32) -> Vec<u8> {
    let mut k = key(prefix::SMT_NODE);
    k.extend_from_slice(&hash.0);
    k
}

/// The committed head.
pub fn head() -> Vec<u8> {
    meta("head")
}

/// The genesis hash the directory was made for.
pub fn genesis() -> Vec<u8> {
    meta("genesis")
}

/// The storage format version.
pub fn format() -> Vec<u8> {
    meta("format")
}

/// A block header.
pub fn header(height: u64) -> Vec<u8> {
    let mut k = key(prefix::HEADER);
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// Prefix of every transaction of the block at `height`.
pub fn block_txs(height: u64) -> Vec<u8> {
    let mut k = key(prefix::BLOCK_TX);
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// The `index`th transaction of the block at `height`.
pub fn block_tx(height: u64, index: u32) -> Vec<u8> {
    let mut k = block_txs(height);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// A commit certificate.
pub fn certificate(height: u64) -> Vec<u8> {
    let mut k = key(prefix::CERTIFICATE);
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// A transaction's (height, index).
pub fn tx_index(hash: &Hash32) -> Vec<u8> {
    let mut k = key(prefix::TX_INDEX);
    k.extend_from_slice(&hash.0);
    k
}

/// An item's state.
pub fn item(id: &ItemId) -> Vec<u8> {
    let mut k = key(prefix::ITEM);
    k.extend_from_slice(&id.key_bytes());
    k
}

/// Prefix of an item's history events.
pub fn events(id: &ItemId) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::EVENT);
    push_part(&mut k, &id.key_bytes(), "item key")?;
    Ok(k)
}

/// One history event.
pub fn event(id: &ItemId, seq: u32) -> Result<Vec<u8>, StorageError> {
    let mut k = events(id)?;
    k.extend_from_slice(&seq.to_be_bytes());
    Ok(k)
}

/// Prefix of the lot index for one GTIN and lot.
pub fn lot_items(gtin: &Gtin, lot: &Lot) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::LOT_ITEM);
    push_part(&mut k, gtin.as_str().as_bytes(), "GTIN")?;
    push_part(&mut k, lot.as_str().as_bytes(), "lot")?;
    Ok(k)
}

/// Prefix of the custodian index for one member.
pub fn custodian_items(member: &MemberId) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::CUSTODIAN_ITEM);
    push_part(&mut k, member.0.as_bytes(), "member name")?;
    Ok(k)
}

/// Prefix of the location index for one GLN.
pub fn location_items(gln: &Gln) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::LOCATION_ITEM);
    push_part(&mut k, gln.as_str().as_bytes(), "GLN")?;
    Ok(k)
}

/// Prefix of the contents index for one container.
pub fn container_items(container: &ItemId) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::CONTAINER_ITEM);
    push_part(&mut k, &container.key_bytes(), "item key")?;
    Ok(k)
}

/// An index prefix followed by an item key (the item key is the tail).
pub fn with_item(mut index_prefix: Vec<u8>, id: &ItemId) -> Vec<u8> {
    index_prefix.extend_from_slice(&id.key_bytes());
    index_prefix
}

/// A shipment.
pub fn shipment(id: &ShipmentId) -> Vec<u8> {
    let mut k = key(prefix::SHIPMENT);
    k.extend_from_slice(id.0.as_bytes());
    k
}

/// Prefix of the shipments a member sent or receives.
pub fn member_shipments(member: &MemberId) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::MEMBER_SHIPMENT);
    push_part(&mut k, member.0.as_bytes(), "member name")?;
    Ok(k)
}

/// One entry of the member → shipment index.
pub fn member_shipment(member: &MemberId, id: &ShipmentId) -> Result<Vec<u8>, StorageError> {
    let mut k = member_shipments(member)?;
    k.extend_from_slice(id.0.as_bytes());
    Ok(k)
}

/// A recall.
pub fn recall(recall_id: &str) -> Vec<u8> {
    let mut k = key(prefix::RECALL);
    k.extend_from_slice(recall_id.as_bytes());
    k
}

/// A lot's record.
pub fn lot(gtin: &Gtin, lot: &Lot) -> Result<Vec<u8>, StorageError> {
    let mut k = key(prefix::LOT);
    push_part(&mut k, gtin.as_str().as_bytes(), "GTIN")?;
    push_part(&mut k, lot.as_str().as_bytes(), "lot")?;
    Ok(k)
}

/// A member's last sequence number.
pub fn sequence(member: &MemberId) -> Vec<u8> {
    let mut k = key(prefix::SEQUENCE);
    k.extend_from_slice(member.0.as_bytes());
    k
}

/// Parses the item key that ends an index key starting with `index_prefix`.
pub fn item_suffix(index_prefix: &[u8], k: &[u8]) -> Result<ItemId, StorageError> {
    let tail = k.get(index_prefix.len()..).unwrap_or_default();
    ItemId::from_key_bytes(tail)
        .map_err(|e| StorageError::corrupt(format!("index key {}", hex::encode(k)), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_sort_numerically() {
        assert!(header(255) < header(256));
        assert!(block_tx(1, u32::MAX) < block_tx(2, 0));
        assert!(block_tx(7, 1).starts_with(&block_txs(7)));
    }

    #[test]
    fn length_prefixes_keep_members_apart() {
        // "ab" must not be a scan prefix of "abc"'s entries.
        let a = custodian_items(&"ab".into()).unwrap();
        let b = custodian_items(&"abc".into()).unwrap();
        assert!(!b.starts_with(&a));
        let l1 = lot(
            &Gtin::parse("10614141000019").unwrap(),
            &Lot::parse("L1").unwrap(),
        );
        let l12 = lot(
            &Gtin::parse("10614141000019").unwrap(),
            &Lot::parse("L12").unwrap(),
        );
        assert_ne!(l1.unwrap(), l12.unwrap());
    }

    #[test]
    fn too_long_part_is_an_error() {
        let long = MemberId("x".repeat(MAX_PART + 1));
        assert!(matches!(
            custodian_items(&long),
            Err(StorageError::KeyTooLong { .. })
        ));
    }
}
