//! Every ledger decoder of outside input, fed hostile bytes and text: arbitrary input and
//! structured mutations of valid encodings (bit flips, truncations, inflated length prefixes,
//! overwritten and appended bytes). Each must return an error or a value that re-encodes
//! canonically; none may panic, and none may allocate for a length its input cannot back
//! (a hostile prefix is refused as over the decode limit).
//!
//! Covered: the canonical encoding ([`encoding::decode`]) of signed transactions, blocks,
//! block certificates and certified headers; provenance bundle files
//! ([`ProofBundle::from_bytes`] and the verifier after it); transaction, header and genesis
//! JSON; and the GS1 parsers (element strings, DataMatrix scan data with `]d2` and GS,
//! Digital Link, EPC URNs, `ItemId::parse`, the component parsers and the linters).
//!
//! Case counts are fixed and small so the whole file runs in a few seconds under
//! `cargo test`; no regression files are written (a failure prints its minimal input).

// Helpers outside #[test] fns unwrap too: in a test binary a panic is a failed test.
#![allow(clippy::unwrap_used)]

use custody_consensus::{CommitCertificate, CommitSignature, Height, Round, Signer, Validator};
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::crypto::PublicKey;
use custody_ledger::encoding::{self, DecodeError};
use custody_ledger::genesis::{ChainParams, Genesis, Member, Role};
use custody_ledger::gs1::{
    describe, parse_digital_link, parse_element_string, parse_epc_urn, parse_gs1,
    parse_gs1_detailed, parse_scan_data, to_datamatrix, to_digital_link, to_element_string,
    to_epc_urn, Expiry, Gln, Gtin, ItemId, Linter, Lot, Serial, Sscc, GS1_RESOLVER,
};
use custody_ledger::hash::Hash32;
use custody_ledger::merkle::{self, InclusionProof};
use custody_ledger::proof::{
    verify_bundle, verify_bundle_bytes, verify_header_chain, CertifiedHeader, ProofBundle,
    StateProof,
};
use custody_ledger::smt::{MemNodeStore, Smt, SmtProof};
use custody_ledger::transaction::{
    Commission, Payload, SignedTransaction, Transaction, TX_FORMAT_VERSION,
};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------
// Valid values to mutate.

/// A genesis like the crate's demo: a manufacturer (prefix 0614141) and one validator.
struct Fixture {
    genesis: Genesis,
    manufacturer: SigningKey,
    validator: SigningKey,
    tx: SignedTransaction,
    block: Block,
    certificate: BlockCertificate,
    headers: Vec<CertifiedHeader>,
    bundle: ProofBundle,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let manufacturer = SigningKey::from_bytes(&[1; 32]);
        let validator = SigningKey::from_bytes(&[5; 32]);
        let pk = |k: &SigningKey| PublicKey(k.verifying_key().to_bytes());
        let genesis = Genesis {
            chain_id: "test-chain".into(),
            genesis_time_ms: 0,
            validators: vec![Validator {
                name: "validator-0".into(),
                public_key: pk(&validator),
            }],
            members: vec![Member {
                name: "manufacturer".into(),
                public_key: pk(&manufacturer),
                roles: vec![Role::Manufacturer],
                company_prefixes: vec!["0614141".into()],
                glns: vec![Gln::parse("0614141000005").unwrap()],
            }],
            params: ChainParams::default(),
        };
        let tx = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: genesis.chain_id.clone(),
            signer: "manufacturer".into(),
            sequence: 1,
            event_time_ms: 1_700_000_000_000,
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse("10614141000019").unwrap(),
                lot: Lot::parse("LOT-7").unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials: vec![Serial::parse("A1").unwrap(), Serial::parse("B/2").unwrap()],
                location: Some(Gln::parse("0614141000005").unwrap()),
            }),
        }
        .sign(&manufacturer);
        tx.check_stateless(&genesis).unwrap();

        // Three empty blocks, then one with the transaction, each certified.
        let mut headers = Vec::new();
        let mut parent = genesis.hash();
        let mut block = None;
        for h in 1..=4u64 {
            let txs = if h == 4 { vec![tx.clone()] } else { vec![] };
            let b = Block::new(&genesis.chain_id, h, parent, 1_000 + h, 0, txs);
            let certificate = certify(&genesis, &validator, &b);
            parent = b.hash();
            headers.push(CertifiedHeader {
                header: b.header.clone(),
                certificate,
            });
            block = Some(b);
        }
        let block = block.unwrap();
        let certificate = headers[3].certificate.clone();

        // A proof that a serial was never commissioned, against empty state roots.
        let item = ItemId::parse("(01)10614141000019(21)NEVER").unwrap();
        let proof = Smt::prove(
            &MemNodeStore::new(),
            Smt::empty_root(),
            &Smt::item_key(&item),
        )
        .unwrap();
        let bundle = ProofBundle {
            version: custody_ledger::proof::VERSION,
            chain_id: genesis.chain_id.clone(),
            genesis_hash: genesis.hash(),
            item,
            headers: headers[..3].to_vec(),
            state: StateProof {
                height: 3,
                state: None,
                proof,
            },
            events: vec![],
            containers: vec![],
            lot: None,
            transactions: vec![],
        };
        verify_bundle(&genesis, &bundle).unwrap();

        Fixture {
            genesis,
            manufacturer,
            validator,
            tx,
            block,
            certificate,
            headers,
            bundle,
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

// ---------------------------------------------------------------------------------------
// Mutations.

/// One change to a valid encoding.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flip one bit.
    Flip(Index, u8),
    /// Keep only a prefix.
    Truncate(Index),
    /// Replace one byte by a varint announcing a huge length (u32 or u64 form).
    Inflate(Index, bool, u64),
    /// Overwrite a few bytes.
    Overwrite(Index, Vec<u8>),
    /// Insert bytes.
    Insert(Index, Vec<u8>),
    /// Remove a few bytes.
    Remove(Index, usize),
    /// Append bytes at the end.
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

/// `valid` with one to three mutations applied.
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
            // A length somewhere between "just past the input" and "everything".
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

/// Text with one to three character-level changes (for JSON and GS1 forms).
fn mutated_text(valid: String) -> impl Strategy<Value = String> {
    let edit = (
        0u8..4,
        any::<Index>(),
        prop_oneof![
            proptest::char::any(),
            proptest::sample::select(
                "\"{}[]:,0123456789-+.eE\\u()%/?=&#\u{1d}]d2 \u{0}\u{ffff}nultrfas"
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

// ---------------------------------------------------------------------------------------
// Checks.

/// `bytes` decodes to an error or to a value whose canonical encoding decodes back to it.
/// Returns the value for further checks.
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
            prop_assert_eq!(encoding::encode(&back), canonical);
            Ok(Some(v))
        }
        Err(DecodeError::OverLimit(limit)) => {
            prop_assert_eq!(limit, encoding::decode_limit(bytes.len()));
            Ok(None)
        }
        Err(_) => Ok(None),
    }
}

/// Every check a node or verifier runs on a decoded transaction: none may panic.
fn exercise_tx(tx: &SignedTransaction) {
    let g = &fixture().genesis;
    let _ = tx.hash();
    let _ = tx.check_stateless(g);
    let _ = tx.tx.check_form(&g.params);
    let _ = tx.tx.payload.item_count();
    let _ = serde_json::to_string(tx).unwrap();
}

fn exercise_block(b: &Block) {
    let _ = b.hash();
    let _ = b.check_body();
    for tx in &b.txs {
        exercise_tx(tx);
    }
}

fn exercise_certificate(c: &BlockCertificate) {
    let g = &fixture().genesis;
    let set = g.validator_set().unwrap();
    let _ = c.verify(&g.chain_id, &set, &custody_consensus::Ed25519Verifier);
}

fn exercise_headers(hs: &[CertifiedHeader]) {
    let g = &fixture().genesis;
    let _ = verify_header_chain(g, g.hash(), 0, 0, hs);
    // The CLI continues from the last height it verified: any height, up to the last.
    for parent_height in [u64::MAX - 1, u64::MAX] {
        assert!(verify_header_chain(g, g.hash(), parent_height, 0, hs).is_err() || hs.is_empty());
    }
}

/// Every GS1 entry point on `text`; a parsed item must print and re-parse to itself.
fn exercise_gs1(text: &str) -> Result<(), TestCaseError> {
    let _ = parse_gs1(text);
    let _ = parse_gs1_detailed(text);
    let _ = parse_element_string(text);
    let _ = parse_scan_data(text);
    let _ = parse_digital_link(text);
    let _ = parse_epc_urn(text);
    let _ = describe(text, &["0614141".to_string(), String::new()]);
    let _ = Gtin::parse(text);
    let _ = Sscc::parse(text);
    let _ = Gln::parse(text);
    let _ = Serial::parse(text);
    let _ = Lot::parse(text);
    let _ = Expiry::parse(text);
    let _ = ItemId::from_key_bytes(text.as_bytes());
    for l in Linter::all() {
        let _ = l.check("01", text);
    }
    if let Ok(data) = parse_gs1(text) {
        // Whatever parses renders in every form without panicking.
        let _ = to_element_string(&data);
        let _ = to_datamatrix(&data);
        let _ = to_digital_link(&data, GS1_RESOLVER);
        for gcp in [0, 6, 7, 12, 40] {
            let _ = to_epc_urn(&data, gcp);
        }
    }
    if let Ok(id) = ItemId::parse(text) {
        let canonical = id.to_string();
        prop_assert_eq!(ItemId::parse(&canonical).unwrap(), id.clone());
        prop_assert_eq!(ItemId::from_key_bytes(&id.key_bytes()).unwrap(), id.clone());
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<ItemId>(&json).unwrap(), id.clone());
        for gcp in [6, 7, 12] {
            if let Ok(urn) = id.to_epc_urn(gcp) {
                let (data, _) = parse_epc_urn(&urn).unwrap();
                prop_assert_eq!(ItemId::from_data(&data).unwrap(), id.clone());
            }
        }
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The canonical encoding.

#[test]
fn the_fixtures_round_trip() {
    let f = fixture();
    assert_eq!(
        encoding::decode::<SignedTransaction>(&encoding::encode(&f.tx)).unwrap(),
        f.tx
    );
    assert_eq!(
        encoding::decode::<Block>(&encoding::encode(&f.block)).unwrap(),
        f.block
    );
    f.block.check_body().unwrap();
    exercise_certificate(&f.certificate);
    let g = &f.genesis;
    verify_header_chain(g, g.hash(), 0, 0, &f.headers).unwrap();
    verify_bundle_bytes(g, &f.bundle.to_bytes()).unwrap();
    let _ = &f.manufacturer;
    let _ = &f.validator;
}

#[test]
fn inflated_length_prefixes_are_refused_before_allocating() {
    // Every single-byte position of a valid transaction replaced by a 2^40-byte length:
    // each is refused (never decoded by allocating that much), most as over the limit.
    let valid = encoding::encode(&fixture().tx);
    let mut over_limit = 0;
    for at in 0..valid.len() {
        let mut b = valid.clone();
        b.splice(
            at..=at,
            std::iter::once(0xFD).chain((1u64 << 40).to_le_bytes()),
        );
        match encoding::decode::<SignedTransaction>(&b) {
            // Where the byte was an integer (the sequence, a time), the bytes are a valid
            // encoding of another transaction, which the signature no longer covers.
            Ok(tx) => assert!(tx.check_stateless(&fixture().genesis).is_err(), "{at}"),
            Err(DecodeError::OverLimit(_)) => over_limit += 1,
            Err(_) => {}
        }
    }
    // At least the chain id, signer and each serial's length prefixes are lengths.
    assert!(over_limit >= 4, "only {over_limit} positions hit the limit");
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Some(tx) = decodes_sanely::<SignedTransaction>(&bytes)? { exercise_tx(&tx); }
        if let Some(b) = decodes_sanely::<Block>(&bytes)? { exercise_block(&b); }
        if let Some(c) = decodes_sanely::<BlockCertificate>(&bytes)? { exercise_certificate(&c); }
        if let Some(h) = decodes_sanely::<Vec<CertifiedHeader>>(&bytes)? { exercise_headers(&h); }
        decodes_sanely::<ItemId>(&bytes)?;
        let _ = ProofBundle::from_bytes(&bytes);
        let mut with_magic = custody_ledger::proof::MAGIC.to_vec();
        with_magic.extend_from_slice(&bytes);
        if let Ok(b) = ProofBundle::from_bytes(&with_magic) {
            let _ = verify_bundle(&fixture().genesis, &b);
        }
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn mutated_transactions_never_panic(bytes in mutated(encoding::encode(&fixture().tx))) {
        if let Some(tx) = decodes_sanely::<SignedTransaction>(&bytes)? {
            exercise_tx(&tx);
            // A changed transaction that still decodes must not keep the valid signature
            // unless it is the same transaction.
            if tx != fixture().tx {
                prop_assert!(tx.check_stateless(&fixture().genesis).is_err());
            }
        }
    }

    #[test]
    fn mutated_blocks_never_panic(bytes in mutated(encoding::encode(&fixture().block))) {
        if let Some(b) = decodes_sanely::<Block>(&bytes)? {
            exercise_block(&b);
        }
    }

    #[test]
    fn mutated_certificates_never_panic(
        bytes in mutated(encoding::encode(&fixture().certificate)),
    ) {
        if let Some(c) = decodes_sanely::<BlockCertificate>(&bytes)? {
            exercise_certificate(&c);
        }
    }

    #[test]
    fn mutated_header_chains_never_panic(bytes in mutated(encoding::encode(&fixture().headers))) {
        if let Some(hs) = decodes_sanely::<Vec<CertifiedHeader>>(&bytes)? {
            exercise_headers(&hs);
        }
    }

    #[test]
    fn mutated_bundles_never_panic(bytes in mutated(fixture().bundle.to_bytes())) {
        let g = &fixture().genesis;
        match ProofBundle::from_bytes(&bytes) {
            Ok(b) => {
                // Only the canonical encoding is read.
                prop_assert_eq!(b.to_bytes(), bytes.clone());
                let _ = verify_bundle(g, &b);
            }
            Err(_) => prop_assert!(verify_bundle_bytes(g, &bytes).is_err()),
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Inclusion and state proofs are checked against hostile counts, indices and bitmaps.
    #[test]
    fn hostile_proofs_verify_to_false_not_a_panic(
        index in any::<u32>(),
        leaf_count in prop_oneof![any::<u32>(), (1u32 << 31)..=u32::MAX, 0u32..8],
        lemmas in proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash32), 0..40),
        smt_bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let tx = fixture().tx.hash();
        let root = fixture().block.header.tx_root;
        let proof = InclusionProof { index, leaf_count, lemmas };
        let ok = merkle::verify(&root, &tx, &proof);
        prop_assert!(!ok || (proof.index == 0 && proof.leaf_count == 1));
        if let Some(p) = decodes_sanely::<SmtProof>(&smt_bytes)? {
            let key = Smt::item_key(&fixture().bundle.item);
            let _ = p.verify(&Smt::empty_root(), &key);
            let _ = p.verify_absent(&root, &key);
            let _ = p.siblings();
        }
    }
}

#[test]
fn an_inclusion_proof_past_half_of_u32_is_refused() {
    let tx = fixture().tx.hash();
    let root = fixture().block.header.tx_root;
    for (index, leaf_count) in [(u32::MAX - 1, u32::MAX), (1 << 31, (1 << 31) + 1), (5, 3)] {
        let proof = InclusionProof {
            index,
            leaf_count,
            lemmas: vec![],
        };
        assert!(!merkle::verify(&root, &tx, &proof));
    }
    let good = merkle::prove(&[tx], 0).unwrap();
    assert!(merkle::verify(&root, &tx, &good));
}

// ---------------------------------------------------------------------------------------
// JSON.

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn mutated_transaction_json_never_panics(
        text in mutated_text(serde_json::to_string(&fixture().tx).unwrap()),
    ) {
        if let Ok(tx) = serde_json::from_str::<SignedTransaction>(&text) {
            exercise_tx(&tx);
            let again: SignedTransaction =
                serde_json::from_str(&serde_json::to_string(&tx).unwrap()).unwrap();
            prop_assert_eq!(again, tx);
        }
    }

    #[test]
    fn arbitrary_json_is_no_transaction_or_genesis(text in "\\PC{0,200}") {
        if let Ok(tx) = serde_json::from_str::<SignedTransaction>(&text) { exercise_tx(&tx); }
        if let Ok(g) = Genesis::from_json(&text) { let _ = g.validator_set(); }
        let _ = serde_json::from_str::<Vec<CertifiedHeader>>(&text);
    }

    #[test]
    fn mutated_genesis_json_never_panics(text in mutated_text(fixture().genesis.to_json())) {
        if let Ok(g) = Genesis::from_json(&text) {
            // from_json validates: what it returns is a usable genesis.
            prop_assert!(g.validate().is_ok());
            let _ = g.validator_set();
            let _ = g.hash();
            prop_assert_eq!(Genesis::from_json(&g.to_json()).unwrap(), g);
        }
    }

    #[test]
    fn mutated_header_json_never_panics(
        text in mutated_text(serde_json::to_string(&fixture().headers).unwrap()),
    ) {
        if let Ok(hs) = serde_json::from_str::<Vec<CertifiedHeader>>(&text) {
            exercise_headers(&hs);
        }
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    for open in ["[", "{\"tx\":", "{\"tx\":{\"payload\":"] {
        let text = open.repeat(100_000);
        assert!(serde_json::from_str::<SignedTransaction>(&text).is_err());
        assert!(Genesis::from_json(&text).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// GS1.

/// Valid item identifiers in every form the parsers read.
fn gs1_forms() -> Vec<String> {
    let unit = ItemId::parse("(01)10614141000019(21)A/1%x").unwrap();
    let lot = parse_gs1("(01)10614141000019(17)301231(10)LOT-7(21)XYZ").unwrap();
    let sscc = ItemId::parse("(00)106141410000000019").unwrap();
    let mut out = vec![
        unit.to_string(),
        sscc.to_string(),
        to_element_string(&lot),
        to_datamatrix(&lot),
        format!("]d2{}", to_datamatrix(&lot).trim_start_matches("]d2")),
        to_digital_link(&lot, GS1_RESOLVER).unwrap(),
        to_digital_link(&lot, "https://example.com/a/b/").unwrap(),
        unit.to_epc_urn(7).unwrap(),
        sscc.to_epc_urn(7).unwrap(),
        "106141410000000019".to_string(),
        "urn:epc:id:sgln:0614141.00001.0".to_string(),
    ];
    out.push(format!("{}?linkType=all", out[5]));
    out
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn mutated_gs1_forms_never_panic(
        text in proptest::sample::select(gs1_forms()).prop_flat_map(mutated_text),
    ) {
        exercise_gs1(&text)?;
    }

    #[test]
    fn arbitrary_bytes_as_gs1_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        exercise_gs1(&String::from_utf8_lossy(&bytes))?;
        // Scan data arrives as bytes from a scanner: some with the ]d2 symbology prefix.
        let mut scan = b"]d2".to_vec();
        scan.extend_from_slice(&bytes);
        exercise_gs1(&String::from_utf8_lossy(&scan))?;
        let _ = ItemId::from_key_bytes(&bytes);
    }

    #[test]
    fn gs1_shaped_text_never_panics(
        text in "(\\]d2|\\]Q3|https?://[a-z.]{0,8}/|urn:epc:id:(sgtin|sscc|sgln|grai|giai):|\\(0?1?\\))?\
                 [0-9A-Za-z()%./:?=&#+\u{1d}\\\\-]{0,60}",
    ) {
        exercise_gs1(&text)?;
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // the test, not the ledger, reads the clock
fn long_gs1_input_parses_in_bounded_time() {
    // Quadratic behaviour on long input would show here (debug build, generous bound).
    let started = std::time::Instant::now();
    for text in [
        "(01)".repeat(20_000),
        format!("]d2{}", "\u{1d}10ABC".repeat(10_000)),
        format!(
            "https://id.gs1.org/01/10614141000019/21/{}",
            "%41".repeat(20_000)
        ),
        format!("urn:epc:id:sgtin:0614141.010000.{}", "%2F".repeat(20_000)),
        "9".repeat(100_000),
    ] {
        exercise_gs1(&text).unwrap();
    }
    let took = started.elapsed();
    assert!(took.as_secs() < 10, "long inputs took {took:?}");
}
