//! Parses every GS1 identifier in GS1's EPCIS 2.0 example documents
//! (`shared/gs1-epcis/examples/*.jsonld`): EPC URNs for SGTIN, SSCC, SGLN and LGTIN, and
//! `https://id.gs1.org/...` Digital Links. Skipped, with a message, when the folder is not
//! there.

// A test reads GS1 reference files from ../shared; the crate itself does no IO.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use custody_ledger::gs1::{parse_gs1, ItemId};

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/gs1-epcis/examples"
);

const PREFIXES: [&str; 5] = [
    "urn:epc:id:sgtin:",
    "urn:epc:id:sscc:",
    "urn:epc:id:sgln:",
    "urn:epc:class:lgtin:",
    "https://id.gs1.org/",
];

/// Every string in `text` that starts with one of the prefixes, up to the closing quote.
fn identifiers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in PREFIXES {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let tail = &rest[at..];
            let end = tail.find('"').unwrap_or(tail.len());
            found.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    found
}

#[test]
fn every_gs1_identifier_in_the_epcis_examples_parses() {
    let Ok(dir) = std::fs::read_dir(EXAMPLES) else {
        println!("skipped: EPCIS examples folder {EXAMPLES} not found");
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in dir {
        let path = entry.expect("directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonld") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable example");
        for id in identifiers(&text) {
            checked += 1;
            if let Err(e) = parse_gs1(&id) {
                failures.push(format!("{}: {id}: {e}", path.display()));
                continue;
            }
            // Serialised units and logistic units must also give an ItemId. (A Digital
            // Link with only a GTIN or GTIN + lot is a class, not an item, and is skipped.)
            let is_item = id.starts_with("urn:epc:id:sgtin:")
                || id.starts_with("urn:epc:id:sscc:")
                || id.contains("/21/")
                || id.contains("/00/");
            if is_item {
                if let Err(e) = ItemId::parse(&id) {
                    failures.push(format!("{}: {id}: not an item: {e}", path.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 20, "only {checked} identifiers found");
    println!("{checked} identifiers parsed");
}

#[test]
fn epcis_example_values() {
    // Spot checks of values that appear in the examples, computed by hand.
    let sgtin = ItemId::parse("urn:epc:id:sgtin:0614141.107346.2017").unwrap();
    assert_eq!(sgtin.to_string(), "(01)10614141073464(21)2017");
    let dl = ItemId::parse("https://id.gs1.org/01/70614141123451/21/2017").unwrap();
    assert_eq!(dl.to_string(), "(01)70614141123451(21)2017");
    let sgln = parse_gs1("urn:epc:id:sgln:952005385.011.scA").unwrap();
    assert_eq!(sgln.get("414"), Some("9520053850113"));
    assert_eq!(sgln.get("254"), Some("scA"));
}
