//! Property tests: every form a valid SGTIN or SSCC is rendered in (element string, GS1
//! DataMatrix, Digital Link, EPC URN) parses back to the same identifier, with random
//! company prefix lengths and serials from the whole of CSET 82; and no input makes the
//! parsers panic.

use custody_ledger::gs1::{
    check_digit, describe, parse_epc_urn, parse_gs1, to_datamatrix, to_digital_link,
    to_element_string, to_epc_urn, Gs1Data, ItemId, GS1_RESOLVER,
};
use proptest::prelude::*;

const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn cset82_string(max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = CSET82.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), 1..=max)
        .prop_map(|v| v.into_iter().collect())
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|v| v.iter().map(|d| char::from(b'0' + d)).collect())
}

/// (GCP length, GTIN-14) with a company prefix of 6 to 12 digits.
fn gtin() -> impl Strategy<Value = (usize, String)> {
    (6usize..=12).prop_flat_map(|len| {
        (Just(len), digits(13)).prop_map(|(len, body)| {
            let cd = check_digit(&body);
            (len, format!("{body}{cd}"))
        })
    })
}

/// (GCP length, SSCC).
fn sscc() -> impl Strategy<Value = (usize, String)> {
    (6usize..=12, digits(17)).prop_map(|(len, body)| {
        let cd = check_digit(&body);
        (len, format!("{body}{cd}"))
    })
}

/// A valid YYMMDD expiry, day 00 included.
fn expiry() -> impl Strategy<Value = String> {
    (0u8..100, 1u8..=12, 0u8..=28).prop_map(|(y, m, d)| format!("{y:02}{m:02}{d:02}"))
}

fn sorted(data: &Gs1Data) -> Vec<(String, String)> {
    let mut v: Vec<_> = data
        .elements()
        .iter()
        .map(|e| (e.ai.clone(), e.value.clone()))
        .collect();
    v.sort();
    v
}

proptest! {
    // No regression files: the crate keeps its tests in `gs1_*.rs` only; a failure prints
    // its minimal input.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn sgtin_round_trips_through_every_form(
        (gcp_len, gtin) in gtin(),
        serial in cset82_string(20),
        lot in proptest::option::of(cset82_string(20)),
        exp in proptest::option::of(expiry()),
    ) {
        let mut pairs = vec![("01".to_string(), gtin.clone())];
        if let Some(exp) = &exp { pairs.push(("17".to_string(), exp.clone())); }
        if let Some(lot) = &lot { pairs.push(("10".to_string(), lot.clone())); }
        pairs.push(("21".to_string(), serial.clone()));
        let data = Gs1Data::new(pairs).unwrap();
        let id = ItemId::from_data(&data).unwrap();

        let element_string = to_element_string(&data);
        let datamatrix = to_datamatrix(&data);
        let digital_link = to_digital_link(&data, GS1_RESOLVER).unwrap();
        let epc = to_epc_urn(&ItemId::from_data(&data).unwrap().to_gs1_data(), gcp_len).unwrap();

        for form in [&element_string, &datamatrix, &digital_link] {
            let back = parse_gs1(form).unwrap();
            prop_assert_eq!(sorted(&back), sorted(&data), "{}", form);
            prop_assert_eq!(&ItemId::parse(form).unwrap(), &id, "{}", form);
        }
        prop_assert_eq!(ItemId::parse(&id.to_string()).unwrap(), id.clone());
        let (epc_data, len) = parse_epc_urn(&epc).unwrap();
        prop_assert_eq!(len, gcp_len);
        prop_assert_eq!(ItemId::from_data(&epc_data).unwrap(), id.clone());
        prop_assert_eq!(id.to_epc_urn(gcp_len).unwrap(), epc.clone());

        // Storage key and serde.
        prop_assert_eq!(ItemId::from_key_bytes(&id.key_bytes()).unwrap(), id.clone());
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<ItemId>(&json).unwrap(), id.clone());

        // describe() with the prefix known renders the same EPC URN.
        let prefix = gtin[1..=gcp_len].to_string();
        let d = describe(&element_string, &[prefix]).unwrap();
        prop_assert_eq!(d.forms.epc_urn.as_deref(), Some(epc.as_str()));
    }

    #[test]
    fn sscc_round_trips_through_every_form((gcp_len, sscc) in sscc()) {
        let data = Gs1Data::new([("00", sscc.as_str())]).unwrap();
        let id = ItemId::from_data(&data).unwrap();
        prop_assert!(id.is_container());
        let forms = [
            to_element_string(&data),
            to_datamatrix(&data),
            to_digital_link(&data, "https://example.com/a/b/").unwrap(),
            to_epc_urn(&data, gcp_len).unwrap(),
            sscc.clone(),
        ];
        for form in &forms {
            prop_assert_eq!(&ItemId::parse(form).unwrap(), &id, "{}", form);
        }
        prop_assert!(id.company_prefix_matches(&sscc[1..=gcp_len]));
        prop_assert_eq!(ItemId::from_key_bytes(&id.key_bytes()).unwrap(), id);
    }

    #[test]
    fn parsers_never_panic(text in "(\\]d2|\\(|https://x/|urn:epc:id:sgtin:|\u{1d})?[0-9A-Za-z()%./?=&\u{1d}\\\\-]{0,60}") {
        let _ = parse_gs1(&text);
        let _ = ItemId::parse(&text);
        let _ = describe(&text, &["0614141".to_string()]);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,40}") {
        let _ = parse_gs1(&text);
        let _ = ItemId::from_key_bytes(text.as_bytes());
    }
}
