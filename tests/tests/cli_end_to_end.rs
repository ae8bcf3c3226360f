//! A unit's whole life through the real binaries: `custody-node dev` and the `custody` CLI.
//! Commission 1,000 serials, pack them into cases and a pallet, ship the pallet, receive it
//! at the distributor with one rejected and one unexpected item, ship on to the pharmacy,
//! dispense one unit, and check states and histories through the CLI's JSON output.

use custody_ledger::gs1::check_digit;
use custody_tests::{custody, DevNode};

const GTIN: &str = "10614141000019";

fn unit(serial: u32) -> String {
    format!("(01){GTIN}(21){serial}")
}

/// An SSCC with extension digit 1 and the given company prefix and serial reference.
fn sscc(prefix: &str, n: u64) -> String {
    let body = format!("1{prefix}{n:0width$}", width = 16 - prefix.len());
    format!("{body}{}", check_digit(&body))
}

#[test]
fn a_pallet_travels_from_manufacturer_to_pharmacy() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(&dir.path().join("dev")).unwrap();

    // Commission 1,000 serials in one command (batched into transactions).
    let out = custody(
        &node,
        Some("manufacturer"),
        &[
            "--json",
            "commission",
            "--gtin",
            GTIN,
            "--lot",
            "LOT-A",
            "--expiry",
            "301231",
            "--serials",
            "1000..1999",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(out["status"], "committed", "{out}");
    assert_eq!(out["serials"], 1000);

    // Ten cases of 100 units, then one pallet of ten cases.
    let pallet = sscc("0614141", 9_000);
    let mut cases = Vec::new();
    for c in 0..10u32 {
        let case = sscc("0614141", u64::from(c) + 1);
        let items: Vec<String> = (0..100).map(|i| unit(1000 + c * 100 + i)).collect();
        let mut args = vec!["--json", "pack", "--sscc", case.as_str()];
        args.extend(items.iter().map(String::as_str));
        let r = custody(&node, Some("manufacturer"), &args)
            .expect_code(0)
            .json();
        assert_eq!(r["status"], "committed", "{r}");
        cases.push(case);
    }
    let mut args = vec!["--json", "pack", "--sscc", pallet.as_str()];
    args.extend(cases.iter().map(String::as_str));
    custody(&node, Some("manufacturer"), &args).expect_code(0);

    let show = |item: &str| {
        custody(&node, None, &["--json", "show", item])
            .expect_code(0)
            .json()
    };
    assert_eq!(show(&unit(1000))["parent"], cases[0].as_str());
    assert_eq!(show(&cases[0])["parent"], pallet.as_str());

    // Ship the pallet to the distributor: everything in it travels.
    let r = custody(
        &node,
        Some("manufacturer"),
        &[
            "--json",
            "ship",
            "--to",
            "distributor",
            "--shipment",
            "ASN-1",
            &pallet,
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(r["status"], "committed", "{r}");
    assert_eq!(show(&unit(1500))["status"], "in_transit");

    // The distributor may not ship what it does not hold yet.
    let r = custody(
        &node,
        Some("distributor"),
        &[
            "--json",
            "ship",
            "--to",
            "pharmacy",
            "--shipment",
            "ASN-X",
            &pallet,
        ],
    );
    assert_eq!(r.code, 3, "stdout: {} stderr: {}", r.stdout, r.stderr);

    // Receive with one damaged unit rejected and one unexpected (unknown) serial.
    let rejected = unit(1042);
    let unexpected = unit(5555);
    let r = custody(
        &node,
        Some("distributor"),
        &[
            "--json",
            "receive",
            "--shipment",
            "ASN-1",
            "--reject",
            &rejected,
            "--unexpected",
            &unexpected,
            "--location",
            "0614142000004",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(r["status"], "committed", "{r}");

    let accepted = show(&unit(1500));
    assert_eq!(accepted["custodian"], "distributor");
    assert_eq!(accepted["status"], "active");
    assert_eq!(accepted["location"], "0614142000004");
    let rej = show(&rejected);
    assert_eq!(rej["custodian"], "manufacturer");
    assert_eq!(rej["hold"]["kind"], "quarantine");
    assert!(
        rej["parent"].is_null(),
        "a rejected unit leaves its case: {rej}"
    );
    let shipment = custody(&node, None, &["--json", "shipment", "ASN-1"])
        .expect_code(0)
        .json();
    assert_eq!(shipment["status"], "received");
    // The pallet is what was accepted, with the 999 units still in its cases.
    assert_eq!(shipment["receipt"]["accepted"], 1);
    assert_eq!(shipment["receipt"]["units"], 999);
    assert_eq!(shipment["receipt"]["rejected"][0], rejected.as_str());
    assert_eq!(shipment["receipt"]["unexpected"][0], unexpected.as_str());
    // An unexpected serial that was never commissioned stays unknown: a counterfeit signal.
    assert_eq!(
        custody(&node, None, &["--json", "show", &unexpected]).code,
        4
    );

    // Ship on to the pharmacy, which receives, unpacks and dispenses one unit.
    custody(
        &node,
        Some("distributor"),
        &[
            "--json",
            "ship",
            "--to",
            "pharmacy",
            "--shipment",
            "ASN-2",
            &pallet,
        ],
    )
    .expect_code(0);
    custody(
        &node,
        Some("pharmacy"),
        &["--json", "receive", "--shipment", "ASN-2"],
    )
    .expect_code(0);
    custody(
        &node,
        Some("pharmacy"),
        &["--json", "unpack", "--sscc", &pallet],
    )
    .expect_code(0);
    custody(
        &node,
        Some("pharmacy"),
        &["--json", "unpack", "--sscc", &cases[1]],
    )
    .expect_code(0);
    let dispensed = unit(1100);
    let r = custody(
        &node,
        Some("pharmacy"),
        &[
            "--json",
            "decommission",
            "--reason",
            "dispensed",
            &dispensed,
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(r["status"], "committed", "{r}");

    let d = show(&dispensed);
    assert_eq!(d["custodian"], "pharmacy");
    assert_eq!(d["status"], "dispensed");
    assert_eq!(
        d["route"],
        serde_json::json!(["manufacturer", "distributor", "pharmacy"])
    );

    // A dispensed unit cannot be dispensed again (an already-dispensed serial is a clone).
    let again = custody(
        &node,
        Some("pharmacy"),
        &[
            "--json",
            "decommission",
            "--reason",
            "dispensed",
            &dispensed,
        ],
    );
    assert_eq!(again.code, 3, "{}", again.stdout);

    // Its history tells the whole story: its own events, hash-linked, and its case's and
    // pallet's while it was inside (the pallet's shipments wrote nothing to the unit).
    let h = custody(&node, None, &["--json", "history", &dispensed])
        .expect_code(0)
        .json();
    let events = h["events"].as_array().unwrap();
    let actions: Vec<(String, serde_json::Value)> = events
        .iter()
        .map(|e| {
            let action = match &e["action"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => o.keys().next().unwrap().clone(),
                other => panic!("unexpected action {other}"),
            };
            (action, e["via"].clone())
        })
        .collect();
    let (none, case, pal) = (
        serde_json::Value::Null,
        serde_json::json!(cases[1]),
        serde_json::json!(pallet),
    );
    let expected: Vec<(String, serde_json::Value)> = [
        ("commissioned", &none),
        ("packed", &none),
        ("packed", &case),
        ("shipped", &pal),
        ("received", &pal),
        ("shipped", &pal),
        ("received", &pal),
        ("unpacked", &case),
        ("unpacked", &none),
        ("decommissioned", &none),
    ]
    .iter()
    .map(|(a, v)| (a.to_string(), (*v).clone()))
    .collect();
    assert_eq!(actions, expected);
    let own: Vec<&serde_json::Value> = events.iter().filter(|e| e["via"].is_null()).collect();
    for w in own.windows(2) {
        assert_eq!(w[1]["prev"], w[0]["hash"]);
    }
    assert_eq!(own.last().unwrap()["hash"], d["history_head"]);
}
