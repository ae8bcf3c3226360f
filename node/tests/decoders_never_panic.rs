//! The node's decoders of outside input, fed hostile bytes: consensus messages
//! (`ConsensusMessage::decode` and `decode_from_gossip`), block-sync requests and answers,
//! provenance bundles built by a real node (and the verifier after them), transactions and
//! blocks as peers send them (decoded, then admitted or validated by a node), transactions
//! a member signs with extreme contents (sequence and times at 0 and `u64::MAX`, empty and
//! overlong text, repeated and unknown items: answered with an error, or built into a block
//! that validates and commits), and the HTTP
//! API (arbitrary bytes and JSON posted to `POST /v1/transactions`, odd paths, methods and
//! query strings on every route, through a real listener).
//!
//! Each input is arbitrary or a structured mutation of a valid encoding (bit flips,
//! truncations, inflated length prefixes, overwritten, inserted and appended bytes). Nothing
//! may panic; a decoded value must re-encode canonically; the API must answer every bad
//! request with a 4xx and a JSON `{"error": {"code", "message"}}` body, never a 5xx.
//!
//! Case counts are fixed and small so the file runs in a few seconds under `cargo test`.

// Helpers outside #[test] fns unwrap too: in a test binary a panic is a failed test.
#![allow(clippy::unwrap_used)]

use custody_consensus::{
    CommitCertificate, CommitSignature, Height, Proposal, Round, SignedProposal, SignedVote,
    Signer, Validator, Vote, VoteKind,
};
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::crypto::PublicKey;
use custody_ledger::encoding::{self, DecodeError};
use custody_ledger::genesis::{ChainParams, Genesis, Member, Role};
use custody_ledger::gs1::Sscc;
use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin};
use custody_ledger::proof::{verify_bundle, verify_bundle_bytes, ProofBundle};
use custody_ledger::transaction::{
    Commission, Decommission, DecommissionReason, Move, Pack, Payload, Recall, Receive, Return,
    SetStatus, Ship, ShipmentId, SignedTransaction, StatusChange, Transaction, Unpack,
    TX_FORMAT_VERSION,
};
use custody_node::consensus_driver::ConsensusMessage;
use custody_node::node::Node;
use custody_node::peering::{BodyRequest, BodyResponse, PeerRequest, SyncRequest, SyncResponse};
use custody_node::provenance;
use custody_node::storage::{MemKv, Store};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------
// A node with a short history: commission two units, ship one, receive it.

const GTIN: &str = "10614141000019";

struct Fixture {
    genesis: Arc<Genesis>,
    node: Arc<Node<MemKv>>,
    validator: SigningKey,
    /// The last committed block and its certificate.
    block: Block,
    certificate: BlockCertificate,
    /// A transaction as a peer would gossip it.
    tx: SignedTransaction,
    /// The shipped unit's bundle (three events).
    bundle: ProofBundle,
    /// Every committed block with its certificate, as a sync answer carries them.
    decided: Vec<(BlockCertificate, Block)>,
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn unit() -> ItemId {
    ItemId::Sgtin(Sgtin::new(
        Gtin::parse(GTIN).unwrap(),
        Serial::parse("A/1").unwrap(),
    ))
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let manufacturer = SigningKey::from_bytes(&[1; 32]);
        let distributor = SigningKey::from_bytes(&[2; 32]);
        let validator = SigningKey::from_bytes(&[5; 32]);
        let pk = |k: &SigningKey| PublicKey(k.verifying_key().to_bytes());
        let gln = |s: &str| Gln::parse(s).unwrap();
        let genesis = Arc::new(Genesis {
            chain_id: "decoders-chain".into(),
            genesis_time_ms: 0,
            validators: vec![Validator {
                name: "validator-0".into(),
                public_key: pk(&validator),
            }],
            members: vec![
                Member {
                    name: "manufacturer".into(),
                    public_key: pk(&manufacturer),
                    roles: vec![Role::Manufacturer],
                    company_prefixes: vec!["0614141".into()],
                    glns: vec![gln("0614141000005")],
                },
                Member {
                    name: "distributor".into(),
                    public_key: pk(&distributor),
                    roles: vec![Role::Distributor],
                    company_prefixes: vec!["0614142".into()],
                    glns: vec![gln("0614142000004")],
                },
            ],
            params: ChainParams::default(),
        });
        genesis.validate().unwrap();
        let store = Arc::new(Store::in_memory(&genesis));
        let node = Arc::new(Node::new("n0".into(), genesis.clone(), store, 1_000).unwrap());

        let tx = |key: &SigningKey, signer: &str, sequence: u64, payload: Payload| {
            Transaction {
                version: TX_FORMAT_VERSION,
                chain_id: genesis.chain_id.clone(),
                signer: signer.into(),
                sequence,
                event_time_ms: now_ms() - 1_000,
                payload,
            }
            .sign(key)
        };
        let payloads = [
            tx(
                &manufacturer,
                "manufacturer",
                1,
                Payload::Commission(Commission {
                    gtin: Gtin::parse(GTIN).unwrap(),
                    lot: Lot::parse("LOT-7").unwrap(),
                    expiry: Expiry::parse("301231").unwrap(),
                    serials: vec![Serial::parse("A/1").unwrap(), Serial::parse("B2").unwrap()],
                    location: Some(gln("0614141000005")),
                }),
            ),
            tx(
                &manufacturer,
                "manufacturer",
                2,
                Payload::Ship(Ship {
                    shipment: ShipmentId("ASN-1".into()),
                    to: "distributor".into(),
                    items: vec![unit()],
                }),
            ),
            tx(
                &distributor,
                "distributor",
                1,
                Payload::Receive(Receive {
                    shipment: ShipmentId("ASN-1".into()),
                    accepted: vec![unit()],
                    rejected: vec![],
                    missing: vec![],
                    unexpected: vec![],
                    location: Some(gln("0614142000004")),
                    note: "ok".into(),
                }),
            ),
        ];
        let mut decided = Vec::new();
        for stx in payloads.iter().cloned() {
            node.submit(stx).unwrap();
            let (block, outcome) = node.build_block(0).unwrap();
            assert_eq!(block.txs.len(), 1);
            let certificate = certify(&genesis, &validator, &block);
            node.commit(&block, &certificate, &outcome).unwrap();
            decided.push((certificate, block));
        }
        let bundle = provenance::bundle(node.store(), &genesis, &unit()).unwrap();
        let proven = verify_bundle(&genesis, &bundle).unwrap();
        assert_eq!(proven.story.len(), 3);
        let (certificate, block) = decided.last().cloned().unwrap();
        Fixture {
            genesis,
            node,
            validator,
            block,
            certificate,
            tx: payloads[1].clone(),
            bundle,
            decided,
        }
    })
}

fn certify(g: &Genesis, key: &SigningKey, block: &Block) -> BlockCertificate {
    let mut c = CommitCertificate {
        height: Height(block.header.height),
        round: Round(0),
        value: block.hash(),
        signatures: vec![],
    };
    let signature = key.sign(&c.sign_bytes(&g.chain_id));
    c.signatures.push(CommitSignature {
        validator: 0,
        signature,
    });
    c
}

/// One valid message of each kind, signed by the validator.
fn messages() -> Vec<ConsensusMessage> {
    let f = fixture();
    let chain = &f.genesis.chain_id;
    let next = Block::new(
        chain,
        f.block.header.height + 1,
        f.block.hash(),
        f.block.header.time_ms + 1,
        0,
        vec![f.tx.clone()],
    );
    let proposal = Proposal {
        height: Height(next.header.height),
        round: Round(0),
        value: next.hash(),
        valid_round: None,
        proposer: 0,
    };
    let vote = Vote {
        height: Height(next.header.height),
        round: Round(1),
        kind: VoteKind::Precommit,
        value: Some(next.hash()),
        validator: 0,
    };
    let signed = SignedProposal {
        signature: f.validator.sign(&proposal.sign_bytes(chain)),
        proposal,
    };
    vec![
        ConsensusMessage::ProposalHeader(signed.clone()),
        ConsensusMessage::Proposal {
            proposal: signed,
            block: next,
        },
        ConsensusMessage::Vote(SignedVote {
            signature: f.validator.sign(&vote.sign_bytes(chain)),
            vote,
        }),
        ConsensusMessage::Decided {
            certificate: f.certificate.clone(),
            block: f.block.clone(),
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Mutations (the same kinds as the ledger's decoder tests).

#[derive(Clone, Debug)]
enum Mutation {
    Flip(Index, u8),
    Truncate(Index),
    Inflate(Index, bool, u64),
    Overwrite(Index, Vec<u8>),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bytes = proptest::collection::vec(any::<u8>(), 1..12);
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), any::<bool>(), any::<u64>())
            .prop_map(|(i, wide, n)| Mutation::Inflate(i, wide, n)),
        1 => (any::<Index>(), bytes.clone()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
        1 => (any::<Index>(), bytes.clone()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| Mutation::Remove(i, n)),
        1 => bytes.prop_map(Mutation::Append),
    ]
}

fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(mutation(), 1..4).prop_map(move |ms| {
        let mut b = valid.clone();
        for m in ms {
            apply(&mut b, m);
        }
        b
    })
}

fn apply(b: &mut Vec<u8>, m: Mutation) {
    if b.is_empty() {
        if let Mutation::Append(x) | Mutation::Insert(_, x) | Mutation::Overwrite(_, x) = m {
            b.extend(x);
        }
        return;
    }
    match m {
        Mutation::Flip(i, bit) => {
            let at = i.index(b.len());
            b[at] ^= 1 << bit;
        }
        Mutation::Truncate(i) => b.truncate(i.index(b.len())),
        Mutation::Inflate(i, wide, n) => {
            let at = i.index(b.len());
            let len = (b.len() as u64).saturating_add(n % (1 << 40));
            let prefix: Vec<u8> = if wide {
                std::iter::once(0xFD).chain(len.to_le_bytes()).collect()
            } else {
                let len = u32::try_from(len % (1 << 32)).unwrap_or(u32::MAX);
                std::iter::once(0xFC).chain(len.to_le_bytes()).collect()
            };
            b.splice(at..=at, prefix);
        }
        Mutation::Overwrite(i, x) => {
            let at = i.index(b.len());
            for (k, byte) in x.into_iter().enumerate() {
                if let Some(slot) = b.get_mut(at + k) {
                    *slot = byte;
                }
            }
        }
        Mutation::Insert(i, x) => {
            let at = i.index(b.len() + 1);
            b.splice(at..at, x);
        }
        Mutation::Remove(i, n) => {
            let at = i.index(b.len());
            let end = (at + n).min(b.len());
            b.drain(at..end);
        }
        Mutation::Append(x) => b.extend(x),
    }
}

fn mutated_text(valid: String) -> impl Strategy<Value = String> {
    let edit = (
        0u8..4,
        any::<Index>(),
        prop_oneof![
            proptest::char::any(),
            proptest::sample::select(
                "\"{}[]:,0123456789-+.eE\\nultrfas"
                    .chars()
                    .collect::<Vec<_>>()
            ),
        ],
    );
    proptest::collection::vec(edit, 1..4).prop_map(move |edits| {
        let mut chars: Vec<char> = valid.chars().collect();
        for (kind, i, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let at = i.index(chars.len());
            match kind {
                0 => chars[at] = c,
                1 => chars.insert(at, c),
                2 => {
                    chars.remove(at);
                }
                _ => chars.truncate(at),
            }
        }
        chars.into_iter().collect()
    })
}

/// Decodes to an error (an over-limit length named with the input's limit) or a value whose
/// canonical encoding decodes back to it.
fn decodes_sanely<T>(bytes: &[u8]) -> Result<Option<T>, TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    match encoding::decode::<T>(bytes) {
        Ok(v) => {
            let canonical = encoding::encode(&v);
            let back: T = encoding::decode(&canonical)
                .map_err(|e| TestCaseError::fail(format!("re-encoding does not decode: {e}")))?;
            prop_assert_eq!(&back, &v);
            Ok(Some(v))
        }
        Err(DecodeError::OverLimit(limit)) => {
            prop_assert_eq!(limit, encoding::decode_limit(bytes.len()));
            Ok(None)
        }
        Err(_) => Ok(None),
    }
}

/// What a node does with a consensus message's contents that arrive from a peer.
fn exercise_message(m: &ConsensusMessage) {
    let f = fixture();
    let chain = &f.genesis.chain_id;
    let set = f.genesis.validator_set().unwrap();
    let _ = m.height();
    let _ = m.encode_for_gossip(u64::MAX);
    match m {
        ConsensusMessage::Proposal { proposal, block } => {
            let _ = proposal.proposal.sign_bytes(chain);
            let _ = f.node.validate_block(block);
        }
        ConsensusMessage::Vote(v) => {
            let _ = set.get(v.vote.validator);
            let _ = v.vote.sign_bytes(chain);
        }
        ConsensusMessage::Decided { certificate, block } => {
            let _ = certificate.verify(chain, &set, &custody_consensus::Ed25519Verifier);
            let _ = f.node.validate_block(block);
        }
        ConsensusMessage::ProposalHeader(proposal) => {
            let _ = proposal.proposal.sign_bytes(chain);
            let _ = m.author();
        }
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Consensus messages, sync, gossiped transactions, bundles.

#[test]
fn the_valid_messages_decode() {
    for m in messages() {
        assert_eq!(ConsensusMessage::decode(&m.encode()).unwrap(), m);
        assert_eq!(
            ConsensusMessage::decode_from_gossip(&m.encode_for_gossip(7)).unwrap(),
            m
        );
    }
    let f = fixture();
    let resp = SyncResponse {
        head: 3,
        blocks: f.decided.clone(),
    };
    assert_eq!(
        encoding::decode::<SyncResponse>(&encoding::encode(&resp)).unwrap(),
        resp
    );
    verify_bundle_bytes(&f.genesis, &f.bundle.to_bytes()).unwrap();
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn mutated_consensus_messages_never_panic(
        (which, counter) in (0usize..3, any::<u64>()),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let valid = messages().swap_remove(which);
        for gossip in [false, true] {
            let mut bytes = if gossip { valid.encode_for_gossip(counter) } else { valid.encode() };
            for m in mutations.clone() {
                apply(&mut bytes, m);
            }
            let decoded = if gossip {
                ConsensusMessage::decode_from_gossip(&bytes)
            } else {
                ConsensusMessage::decode(&bytes)
            };
            if let Ok(m) = decoded {
                // The attached block is the one signed for, and it re-encodes canonically.
                prop_assert_eq!(ConsensusMessage::decode(&m.encode()).unwrap(), m.clone());
                exercise_message(&m);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_are_no_consensus_or_sync_message(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        if let Ok(m) = ConsensusMessage::decode(&bytes) { exercise_message(&m); }
        if let Ok(m) = ConsensusMessage::decode_from_gossip(&bytes) { exercise_message(&m); }
        decodes_sanely::<PeerRequest>(&bytes)?;
        decodes_sanely::<SyncResponse>(&bytes)?;
        decodes_sanely::<BodyResponse>(&bytes)?;
        if let Some(tx) = decodes_sanely::<SignedTransaction>(&bytes)? {
            let _ = fixture().node.admit_from_peer(tx);
        }
    }

    #[test]
    fn mutated_sync_messages_never_panic(
        request in mutated(encoding::encode(&PeerRequest::Blocks(SyncRequest { from: 3, max: 64 }))),
        body_request in mutated(encoding::encode(&PeerRequest::Body(BodyRequest { height: 3, value: fixture().block.hash() }))),
        body in mutated(encoding::encode(&BodyResponse { block: Some(fixture().block.clone()) })),
        response in mutated(encoding::encode(&SyncResponse {
            head: 3,
            blocks: fixture().decided.clone(),
        })),
    ) {
        decodes_sanely::<PeerRequest>(&request)?;
        decodes_sanely::<PeerRequest>(&body_request)?;
        if let Some(BodyResponse { block: Some(b) }) = decodes_sanely::<BodyResponse>(&body)? {
            let _ = b.check_body();
            let _ = fixture().node.validate_block(&b);
        }
        if let Some(r) = decodes_sanely::<SyncResponse>(&response)? {
            let set = fixture().genesis.validator_set().unwrap();
            for (c, b) in &r.blocks {
                let _ = c.verify(&fixture().genesis.chain_id, &set, &custody_consensus::Ed25519Verifier);
                let _ = b.check_body();
                let _ = fixture().node.validate_block(b);
            }
        }
    }

    #[test]
    fn mutated_gossiped_transactions_never_panic(bytes in mutated(encoding::encode(&fixture().tx))) {
        if let Some(tx) = decodes_sanely::<SignedTransaction>(&bytes)? {
            // The valid original is committed; anything else that decodes is forged.
            let admitted = fixture().node.admit_from_peer(tx);
            prop_assert!(admitted.is_err(), "{:?}", admitted);
        }
    }

}

proptest! {
    // Every byte of a bundle is checked: many cases, each cheap.
    #![proptest_config(config(1024))]

    #[test]
    fn mutated_real_bundles_never_panic_or_verify(bytes in mutated(fixture().bundle.to_bytes())) {
        let g = &fixture().genesis;
        if let Ok(p) = verify_bundle_bytes(g, &bytes) {
            // Only the canonical encoding is read, and every byte of it is checked: the one
            // file that verifies is the original.
            prop_assert_eq!(bytes, fixture().bundle.to_bytes(), "a changed bundle verified: {:?}", p);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Signed transactions with hostile contents: a member's signature does not make extreme
// values safe. A node of its own (the shared fixture's state stays as the other tests
// expect), which admits, builds, validates and commits whatever applies.

fn sandbox() -> &'static Node<MemKv> {
    static N: OnceLock<Node<MemKv>> = OnceLock::new();
    N.get_or_init(|| {
        let g = Arc::clone(&fixture().genesis);
        Node::new(
            "sandbox".into(),
            g.clone(),
            Arc::new(Store::in_memory(&g)),
            100,
        )
        .unwrap()
    })
}

/// Serials the sandbox's transactions name: few, so that later cases meet earlier ones'
/// items.
const SERIALS: [&str; 5] = ["A/1", "B2", "C", "D9", "E"];

fn item_pool() -> Vec<ItemId> {
    let mut v: Vec<ItemId> = SERIALS
        .iter()
        .map(|s| {
            ItemId::Sgtin(Sgtin::new(
                Gtin::parse(GTIN).unwrap(),
                Serial::parse(s).unwrap(),
            ))
        })
        .collect();
    v.push(ItemId::Sscc(Sscc::parse("106141410000000019").unwrap()));
    v.push(ItemId::Sscc(Sscc::parse("006141420000000011").unwrap()));
    v
}

fn hostile_payload() -> impl Strategy<Value = Payload> {
    // Mostly well-formed (distinct items, short text) so the ledger rules are reached; now
    // and then empty, overlong or odd.
    let items = || proptest::sample::subsequence(item_pool(), 0..=4);
    let text = || {
        prop_oneof![
            6 => "[A-Za-z0-9-]{1,12}",
            1 => "\\PC{0,8}",
            1 => "x{500,600}",
            1 => Just(String::new()),
        ]
    };
    let gln = || {
        proptest::sample::select(vec!["0614141000005", "0614142000004", "0614143000003"])
            .prop_map(|g| Gln::parse(g).unwrap())
    };
    let sscc = || Just(Sscc::parse("106141410000000019").unwrap());
    let serials = proptest::sample::subsequence(SERIALS.to_vec(), 0..=3)
        .prop_map(|v| v.into_iter().map(|s| Serial::parse(s).unwrap()).collect());
    prop_oneof![
        3 => (serials, proptest::option::of(gln())).prop_map(|(serials, location)| {
            Payload::Commission(Commission {
                gtin: Gtin::parse(GTIN).unwrap(),
                lot: Lot::parse("LOT-7").unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials,
                location,
            })
        }),
        1 => (sscc(), items()).prop_map(|(parent, children)| Payload::Pack(Pack { parent, children })),
        1 => (sscc(), items())
            .prop_map(|(parent, children)| Payload::Unpack(Unpack { parent, children })),
        1 => (
            text(),
            proptest::sample::select(vec!["distributor", "manufacturer", "nobody", ""]),
            items()
        )
            .prop_map(|(s, to, items)| Payload::Ship(Ship {
                shipment: ShipmentId(s),
                to: to.into(),
                items,
            })),
        1 => (
            text(),
            items(),
            items(),
            items(),
            items(),
            proptest::option::of(gln()),
            text()
        )
            .prop_map(|(s, accepted, rejected, missing, unexpected, location, note)| {
                Payload::Receive(Receive {
                    shipment: ShipmentId(s),
                    accepted,
                    rejected,
                    missing,
                    unexpected,
                    location,
                    note,
                })
            }),
        1 => (items(), gln()).prop_map(|(items, to)| Payload::Move(Move { items, to })),
        1 => (items(), text()).prop_map(|(items, reason)| Payload::SetStatus(SetStatus {
            items,
            status: StatusChange::Suspect,
            reason,
        })),
        1 => (text(), text()).prop_map(|(recall_id, reason)| Payload::Recall(Recall {
            recall_id,
            gtin: Gtin::parse(GTIN).unwrap(),
            // Not the lot commissioned: a recall would stop every later commission.
            lots: vec![Lot::parse("LOT-R").unwrap()],
            reason,
        })),
        1 => items().prop_map(|items| Payload::Decommission(Decommission {
            items,
            reason: DecommissionReason::Dispensed,
        })),
        1 => (items(), text()).prop_map(|(items, reason)| Payload::Return(Return { items, reason })),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn signed_hostile_transactions_are_answered_not_panicked_on(
        txs in proptest::collection::vec(
            (
                any::<bool>(),
                // `None`: the signer's next sequence (most cases, so that rules are reached).
                prop_oneof![
                    6 => Just(None),
                    1 => prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()].prop_map(Some),
                ],
                // `None`: now.
                prop_oneof![
                    4 => Just(None),
                    1 => prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()].prop_map(Some),
                ],
                hostile_payload(),
            ),
            1..6,
        ),
    ) {
        let node = sandbox();
        let keys = [SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32])];
        for (distributor, sequence, event_time_ms, payload) in txs {
            let (signer, key) = if distributor {
                ("distributor", &keys[1])
            } else {
                ("manufacturer", &keys[0])
            };
            let sequence = match sequence {
                Some(n) => n,
                None => node.next_sequence(&signer.into()).unwrap(),
            };
            let stx = Transaction {
                version: TX_FORMAT_VERSION,
                chain_id: node.genesis().chain_id.clone(),
                signer: signer.into(),
                sequence,
                event_time_ms: event_time_ms.unwrap_or_else(now_ms),
                payload,
            }
            .sign(key);
            let _ = serde_json::to_string(&stx).unwrap();
            let _ = node.submit(stx.clone());
            let _ = node.admit_from_peer(stx);
        }
        // Whatever was admitted goes into a block that validates and commits.
        let (block, outcome) = node.build_block(0).unwrap();
        if !block.txs.is_empty() {
            node.validate_block(&block).unwrap();
            let certificate = certify(node.genesis(), &fixture().validator, &block);
            node.commit(&block, &certificate, &outcome).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The HTTP API through a real listener.

/// The API of the fixture's node on a local port (started once).
fn api() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let node = Arc::clone(&fixture().node);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, custody_node::api::router(node))
                    .await
                    .unwrap();
            });
        });
        addr
    })
}

/// A response as read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// Sends one raw HTTP/1.1 request (`target` as given, unencoded) and reads the answer.
fn send(method: &str, target: &str, body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(api()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head for {method} {target}: {raw:?}"));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let mut body = raw[split + 4..].to_vec();
    if header("transfer-encoding").eq_ignore_ascii_case("chunked") {
        body = dechunk(&body);
    }
    Answer {
        status,
        content_type: header("content-type"),
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// A bad request's answer: a 4xx with the API's JSON error (a stable code and a message).
fn is_json_error(a: &Answer, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        (400..500).contains(&a.status),
        "{what}: status {} body {}",
        a.status,
        String::from_utf8_lossy(&a.body)
    );
    let v: Value = serde_json::from_slice(&a.body).map_err(|e| {
        TestCaseError::fail(format!(
            "{what}: {} answer is not JSON ({e}): {:?}",
            a.status,
            String::from_utf8_lossy(&a.body)
        ))
    })?;
    prop_assert!(
        v["error"]["code"].is_string() && v["error"]["message"].is_string(),
        "{what}: {v}"
    );
    Ok(())
}

/// Any answer to a request that may be good or bad: no 5xx, and JSON unless it is the
/// dashboard page or a binary bundle.
fn is_sane(a: &Answer, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        a.status < 500,
        "{what}: {} {:?}",
        a.status,
        String::from_utf8_lossy(&a.body)
    );
    if a.status >= 400 {
        return is_json_error(a, what);
    }
    if a.content_type.starts_with("application/json") {
        prop_assert!(serde_json::from_slice::<Value>(&a.body).is_ok(), "{what}");
    } else {
        prop_assert!(
            a.content_type.starts_with("text/html")
                || a.content_type.starts_with("application/octet-stream"),
            "{what}: content type {:?}",
            a.content_type
        );
    }
    Ok(())
}

/// Percent-encodes every byte outside the unreserved set.
fn encode_all(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Path segment text: anything percent-encoded, or raw characters a request target may
/// hold, including stray `%` escapes that decode to invalid UTF-8.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,30}".prop_map(|s| encode_all(&s)),
        "[A-Za-z0-9()%._~!$&'*+,;=:@-]{0,30}",
        proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect::<String>()),
        Just("%FF%FE".to_string()),
        Just("%".to_string()),
        Just("%(01)".to_string()),
        Just("latest".to_string()),
        Just("18446744073709551616".to_string()),
        Just(encode_all("(01)10614141000019(21)A/1")),
    ]
}

/// Query strings: arbitrary keys the routes know with odd values, raw bytes, repeats.
fn query() -> impl Strategy<Value = String> {
    let key = proptest::sample::select(vec![
        "wait_ms",
        "format",
        "from",
        "limit",
        "custodian",
        "location",
        "after",
        "x",
    ]);
    let value = prop_oneof![
        segment(),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("json".to_string()),
        Just("0".to_string()),
    ];
    proptest::collection::vec((key, value), 0..4).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

const GET_ROUTES: &[&str] = &[
    "/v1/status",
    "/v1/genesis",
    "/v1/members",
    "/v1/members/{}",
    "/v1/peers",
    "/v1/evidence",
    "/v1/transactions/{}",
    "/v1/items/{}",
    "/v1/items/{}/history",
    "/v1/items/{}/proof",
    "/v1/blocks/{}",
    "/v1/headers",
    "/v1/shipments/{}",
    "/v1/recalls/{}",
    "/v1/lots/{}/{}",
    "/v1/inventory",
    "/v1/{}",
    "/{}",
];

#[test]
fn the_api_answers_good_requests() {
    let f = fixture();
    let id = encode_all(&unit().to_string());
    for target in [
        "/v1/status".to_string(),
        format!("/v1/items/{id}"),
        format!("/v1/items/{id}/history"),
        format!("/v1/items/{id}/proof"),
        "/v1/blocks/latest".to_string(),
        "/v1/headers?from=1&limit=2".to_string(),
        "/v1/inventory?custodian=distributor".to_string(),
    ] {
        let a = send("GET", &target, b"");
        assert_eq!(
            a.status,
            200,
            "{target}: {:?}",
            String::from_utf8_lossy(&a.body)
        );
        is_sane(&a, &target).unwrap();
    }
    let a = send("GET", &format!("/v1/items/{id}/proof"), b"");
    assert_eq!(ProofBundle::from_bytes(&a.body).unwrap(), f.bundle);
    // A valid transaction already committed: refused as a duplicate or a sequence error, in
    // JSON.
    let body = serde_json::to_vec(&f.tx).unwrap();
    let a = send("POST", "/v1/transactions", &body);
    is_json_error(&a, "replayed transaction").unwrap();
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn arbitrary_bodies_are_refused_in_json(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "\\PC{0,200}".prop_map(String::into_bytes),
        ],
    ) {
        let a = send("POST", "/v1/transactions", &body);
        is_json_error(&a, "arbitrary body")?;
    }

    #[test]
    fn mutated_transaction_json_is_refused_in_json(
        text in mutated_text(serde_json::to_string(&fixture().tx).unwrap()),
    ) {
        let a = send("POST", "/v1/transactions", text.as_bytes());
        // Nothing but the committed original carries its signature.
        is_json_error(&a, &text)?;
    }

    #[test]
    fn arbitrary_json_values_are_refused_in_json(v in json_value()) {
        let a = send("POST", "/v1/transactions", v.to_string().as_bytes());
        is_json_error(&a, &v.to_string())?;
    }

    #[test]
    fn odd_paths_and_queries_get_sane_answers(
        route in proptest::sample::select(GET_ROUTES.to_vec()),
        seg in segment(),
        seg2 in segment(),
        q in query(),
    ) {
        let mut path = route.replacen("{}", &seg, 1).replacen("{}", &seg2, 1);
        if !q.is_empty() {
            path = format!("{path}?{q}");
        }
        let a = send("GET", &path, b"");
        is_sane(&a, &path)?;
    }

    #[test]
    fn wrong_methods_get_json_errors(
        route in proptest::sample::select(GET_ROUTES.to_vec()),
        method in proptest::sample::select(vec!["POST", "PUT", "DELETE", "PATCH"]),
    ) {
        let path = route.replace("{}", "x");
        let a = send(method, &path, b"{}");
        let what = format!("{method} {path}");
        // A route that exists answers 405, the fallback the API's 404: JSON either way.
        prop_assert!(a.status == 405 || a.status == 404, "{}", what);
        is_json_error(&a, &what)?;
    }
}

#[test]
fn an_oversized_body_without_a_length_is_cut_off_with_a_json_413() {
    // Chunked, so no Content-Length announces it: read up to the limit, then refused.
    let mut s = TcpStream::connect(api()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(
        b"POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let limit = custody_node::api::MAX_BODY_BYTES;
    for _ in 0..(limit / chunk.len() + 2) {
        // The server may answer and close before everything is sent.
        if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"payload_too_large\""), "{text}");
}

/// Arbitrary JSON values, shaped a little like a signed transaction.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        Just(Value::String("ab".repeat(32))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = proptest::sample::select(vec![
            "tx",
            "signature",
            "version",
            "chain_id",
            "signer",
            "sequence",
            "event_time_ms",
            "payload",
            "commission",
            "ship",
            "gtin",
            "serials",
            "items",
            "x",
        ]);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key.prop_map(String::from), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
