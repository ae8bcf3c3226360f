//! A small test chain: a genesis with a manufacturer, a distributor and one validator
//! (keys from fixed seeds), and a helper that builds real blocks with the ledger rules
//! (an `Overlay` over the store itself) and certifies them.

use crate::storage::{KvBackend, Store};
use custody_consensus::{CommitCertificate, CommitSignature, Height, Round, Signer, Validator};
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::crypto::public_key;
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin};
use custody_ledger::state::{BlockContext, Changes, Overlay, StateView};
use custody_ledger::transaction::{
    Commission, Decommission, DecommissionReason, Payload, Recall, Receive, Ship, ShipmentId,
    Transaction, TX_FORMAT_VERSION,
};
use ed25519_dalek::SigningKey;

/// Block times start here and advance one second per height.
pub const T0: u64 = 1_700_000_000_000;
/// The test product.
pub const GTIN: &str = "10614141000019";
/// Manufacturer's GLN.
pub const MFR_GLN: &str = "0614141000005";
/// Distributor's GLN.
pub const DIST_GLN: &str = "0614142000004";

pub const MFR: &str = "manufacturer";
pub const DIST: &str = "distributor";

/// The test chain's genesis and keys.
pub struct Fixture {
    pub genesis: Genesis,
    pub manufacturer: SigningKey,
    pub distributor: SigningKey,
    pub validator: SigningKey,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_chain_id("storage-test")
    }

    pub fn with_chain_id(chain_id: &str) -> Fixture {
        let manufacturer = SigningKey::from_bytes(&[11; 32]);
        let distributor = SigningKey::from_bytes(&[12; 32]);
        let validator = SigningKey::from_bytes(&[13; 32]);
        let genesis = Genesis {
            chain_id: chain_id.into(),
            genesis_time_ms: T0 - 1_000,
            validators: vec![Validator {
                name: "validator-0".into(),
                public_key: public_key(&validator),
            }],
            members: vec![
                Member {
                    name: MFR.into(),
                    public_key: public_key(&manufacturer),
                    roles: vec![Role::Manufacturer],
                    company_prefixes: vec!["0614141".into()],
                    glns: vec![gln(MFR_GLN)],
                },
                Member {
                    name: DIST.into(),
                    public_key: public_key(&distributor),
                    roles: vec![Role::Distributor],
                    company_prefixes: vec!["0614142".into()],
                    glns: vec![gln(DIST_GLN)],
                },
            ],
            params: ChainParams::default(),
        };
        genesis.validate().unwrap();
        Fixture {
            genesis,
            manufacturer,
            distributor,
            validator,
        }
    }

    fn key(&self, who: &str) -> &SigningKey {
        match who {
            MFR => &self.manufacturer,
            DIST => &self.distributor,
            _ => panic!("no key for {who}"),
        }
    }

    /// A certificate for `block` signed by the single validator.
    pub fn certify(&self, block: &Block) -> BlockCertificate {
        let mut cert = CommitCertificate {
            height: Height(block.header.height),
            round: Round(0),
            value: block.hash(),
            signatures: vec![],
        };
        let msg = cert.sign_bytes(&self.genesis.chain_id);
        cert.signatures = vec![CommitSignature {
            validator: 0,
            signature: Signer::sign(&self.validator, &msg),
        }];
        cert
    }

    /// Builds the next block on `store`'s head from `(signer, payload)` pairs, applying the
    /// ledger rules over the store (every transaction must be valid).
    pub fn build<B: KvBackend>(
        &self,
        store: &Store<B>,
        txs: &[(&str, Payload)],
    ) -> (Block, BlockCertificate, Changes) {
        let (height, parent) = match store.head().unwrap() {
            Some(h) => (h.height + 1, h.hash),
            None => (1, store.genesis_hash()),
        };
        let time_ms = T0 + height * 1_000;
        let mut overlay = Overlay::new(store);
        let mut signed = Vec::new();
        for (who, payload) in txs {
            let member = MemberId::from(*who);
            let stx = Transaction {
                version: TX_FORMAT_VERSION,
                chain_id: self.genesis.chain_id.clone(),
                signer: member.clone(),
                sequence: overlay.last_sequence(&member).unwrap() + 1,
                event_time_ms: time_ms,
                payload: payload.clone(),
            }
            .sign(self.key(who));
            stx.check_stateless(&self.genesis).unwrap();
            let ctx = BlockContext {
                height,
                time_ms,
                tx_hash: stx.hash(),
                tx_index: signed.len() as u32,
            };
            overlay
                .apply(&self.genesis, &stx, &ctx)
                .unwrap_or_else(|e| panic!("{} by {who} refused: {e}", payload.kind()));
            signed.push(stx);
        }
        let changes = overlay.into_changes();
        let root = store.state_update(&changes).unwrap().root;
        let block = Block::new(&self.genesis.chain_id, height, parent, time_ms, 0, signed)
            .with_state_root(root);
        let cert = self.certify(&block);
        (block, cert, changes)
    }

    /// Builds and commits the next block.
    pub fn commit<B: KvBackend>(
        &self,
        store: &Store<B>,
        txs: &[(&str, Payload)],
    ) -> (Block, BlockCertificate, Changes) {
        let (block, cert, changes) = self.build(store, txs);
        store.commit_block(&block, &cert, &changes).unwrap();
        (block, cert, changes)
    }
}

pub fn gln(s: &str) -> Gln {
    Gln::parse(s).unwrap()
}

pub fn gtin() -> Gtin {
    Gtin::parse(GTIN).unwrap()
}

pub fn lot(s: &str) -> Lot {
    Lot::parse(s).unwrap()
}

/// Unit `serial` of the test product.
pub fn unit(serial: &str) -> ItemId {
    ItemId::Sgtin(Sgtin {
        gtin: gtin(),
        serial: Serial::parse(serial).unwrap(),
    })
}

pub fn commission(lot_: &str, serials: &[&str]) -> Payload {
    Payload::Commission(Commission {
        gtin: gtin(),
        lot: lot(lot_),
        expiry: Expiry::parse("301231").unwrap(),
        serials: serials.iter().map(|s| Serial::parse(s).unwrap()).collect(),
        location: Some(gln(MFR_GLN)),
    })
}

pub fn ship(id: &str, to: &str, serials: &[&str]) -> Payload {
    Payload::Ship(Ship {
        shipment: ShipmentId(id.into()),
        to: to.into(),
        items: serials.iter().map(|s| unit(s)).collect(),
    })
}

pub fn receive(id: &str, at: &str, serials: &[&str]) -> Payload {
    Payload::Receive(Receive {
        shipment: ShipmentId(id.into()),
        accepted: serials.iter().map(|s| unit(s)).collect(),
        rejected: vec![],
        missing: vec![],
        unexpected: vec![],
        location: Some(gln(at)),
        note: String::new(),
    })
}

pub fn destroy(serials: &[&str]) -> Payload {
    Payload::Decommission(Decommission {
        items: serials.iter().map(|s| unit(s)).collect(),
        reason: DecommissionReason::Destroyed,
    })
}

pub fn recall(id: &str, lots: &[&str]) -> Payload {
    Payload::Recall(Recall {
        recall_id: id.into(),
        gtin: gtin(),
        lots: lots.iter().map(|l| lot(l)).collect(),
        reason: "contamination".into(),
    })
}

/// The standard three-block scenario:
/// 1. the manufacturer commissions A1..A5 (lot L1) and B1..B3 (lot L2) at its GLN;
/// 2. it ships A1, A2 to the distributor (SH1) and destroys A5;
/// 3. the distributor receives SH1 at its GLN; the manufacturer recalls lot L2.
pub fn scenario() -> Vec<Vec<(&'static str, Payload)>> {
    vec![
        vec![
            (MFR, commission("L1", &["A1", "A2", "A3", "A4", "A5"])),
            (MFR, commission("L2", &["B1", "B2", "B3"])),
        ],
        vec![
            (MFR, ship("SH1", DIST, &["A1", "A2"])),
            (MFR, destroy(&["A5"])),
        ],
        vec![
            (DIST, receive("SH1", DIST_GLN, &["A1", "A2"])),
            (MFR, recall("R1", &["L2"])),
        ],
    ]
}

/// Every key and value in the store, for "nothing changed" checks.
pub fn dump<B: KvBackend>(store: &Store<B>) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.backend().scan_prefix(&[], usize::MAX).unwrap()
}

/// Sorted item ids.
pub fn units(serials: &[&str]) -> Vec<ItemId> {
    let mut v: Vec<ItemId> = serials.iter().map(|s| unit(s)).collect();
    v.sort();
    v
}
