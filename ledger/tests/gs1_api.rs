//! The GS1 module's public contract as the rest of Custody uses it: the known-good examples,
//! the exact error messages, and the JSON shape of `describe`.

use custody_ledger::gs1::{
    check_digit, describe, parse_gs1, to_datamatrix, to_digital_link, to_epc_urn, Expiry, Gln,
    Gs1Error, Gtin, ItemId, Lot, Serial, Sgtin, Sscc, GS1_RESOLVER,
};

fn err(text: &str) -> String {
    parse_gs1(text)
        .expect_err("the input should be rejected")
        .to_string()
}

#[test]
fn known_good_examples() {
    assert_eq!(check_digit("0950600013435"), 2);
    assert_eq!(
        Gtin::parse("09506000134352").unwrap().as_str(),
        "09506000134352"
    );
    assert_eq!(
        Sscc::parse("106141411234567897").unwrap().to_string(),
        "106141411234567897"
    );
    assert!(Gln::parse("0614141000005")
        .unwrap()
        .has_company_prefix("0614141"));

    let id = ItemId::parse("(01)09506000134352(17)201225(10)ABC123(21)12345").unwrap();
    assert_eq!(id.to_string(), "(01)09506000134352(21)12345");
    let ItemId::Sgtin(Sgtin { gtin, serial }) = &id else {
        panic!("expected an SGTIN, got {id:?}");
    };
    assert_eq!(
        (gtin.as_str(), serial.as_str()),
        ("09506000134352", "12345")
    );

    let dl = "https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=270331";
    let data = parse_gs1(dl).unwrap();
    assert_eq!(to_digital_link(&data, GS1_RESOLVER).unwrap(), dl);
    assert_eq!(
        to_datamatrix(&data),
        "]d201095060001343521727033110ABC\u{1d}21XYZ"
    );

    let epc = ItemId::parse("urn:epc:id:sgtin:0614141.812345.6789").unwrap();
    assert_eq!(epc.to_string(), "(01)80614141123458(21)6789");
    assert_eq!(
        epc.to_epc_urn(7).unwrap(),
        "urn:epc:id:sgtin:0614141.812345.6789"
    );
    let sscc = ItemId::parse("urn:epc:id:sscc:0614141.1234567890").unwrap();
    assert_eq!(sscc.to_string(), "(00)106141412345678908");
    assert_eq!(
        to_epc_urn(&sscc.to_gs1_data(), 7).unwrap(),
        "urn:epc:id:sscc:0614141.1234567890"
    );
}

#[test]
fn identifier_types() {
    let expiry = Expiry::parse("270300").unwrap();
    assert_eq!((expiry.year(), expiry.month(), expiry.day()), (2027, 3, 0));
    assert_eq!((expiry.last_day(), expiry.resolved_day()), (31, 31));
    assert_eq!(expiry.to_iso_date(), "2027-03-31");
    assert_eq!(Expiry::parse("240200").unwrap().to_iso_date(), "2024-02-29");
    assert_eq!(Expiry::parse("250200").unwrap().to_iso_date(), "2025-02-28");
    assert_eq!(Lot::parse("L-42").unwrap().as_str(), "L-42");
    assert_eq!(Serial::parse("0001").unwrap().to_string(), "0001");

    let unit = ItemId::parse("]d2010950600013435221XYZ").unwrap();
    assert!(!unit.is_container());
    assert!(unit.company_prefix_matches("950600"));
    assert_eq!(ItemId::from_key_bytes(&unit.key_bytes()).unwrap(), unit);
    let case = ItemId::parse("106141411234567897").unwrap();
    assert!(case.is_container() && case.gtin().is_none());
    assert_eq!(case.key_bytes(), b"C106141411234567897".to_vec());
}

#[test]
fn error_messages() {
    assert_eq!(
        Gtin::parse("09506000134355").unwrap_err().to_string(),
        "GTIN check digit should be 2, got 5"
    );
    assert_eq!(err("(01)09506000134352(17)271301"), "AI 17: month 13");
    assert_eq!(
        err("(01)09506000134352(17)270231"),
        "AI 17: day 31 does not exist in 2027-02"
    );
    assert_eq!(
        err("(01)09506000134352(21)AB~"),
        "AI 21: character '~' is not in GS1 character set 82"
    );
    assert_eq!(
        err("(01)09506000134352(21)123456789012345678901"),
        "AI 21: expected 1 to 20 characters, got 21"
    );
    assert_eq!(
        err("https://id.gs1.org/01/09506000134352/21/XYZ/10/ABC"),
        "Digital Link: AI 10 may not follow AI 21 after key 01"
    );
    assert_eq!(err("(01)09506000134352(99)X(04)Y"), "unknown AI (04)");
    assert_eq!(err("(21)XYZ"), "AI 21 requires AI 01, 03 or 8006");
    assert_eq!(
        err("(01)09506000134352(02)09506000134352(37)5"),
        "AI 01 and AI 37 may not appear together"
    );
    assert_eq!(
        err("(01)09506000134352(02)09506000134352"),
        "AI 01 and AI 02 may not appear together"
    );
    assert_eq!(
        err("(01)09506000134352(21)A(21)B"),
        "AI 21 appears twice with different values \"A\" and \"B\""
    );
    assert!(matches!(
        ItemId::parse("(01)09506000134352(10)ABC"),
        Err(Gs1Error::GtinWithoutSerial)
    ));
    assert_eq!(
        ItemId::parse("https://id.gs1.org/01/09506000134352")
            .unwrap_err()
            .to_string(),
        "GTIN without serial (AI 21) does not identify a unit"
    );
    // A bad check digit fails decoding too.
    assert!(serde_json::from_str::<Sscc>("\"106141411234567890\"").is_err());
    assert!(serde_json::from_str::<ItemId>("\"(00)106141411234567890\"").is_err());
}

#[test]
fn describe_json_shape() {
    let d = describe(
        "https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=270331",
        &["0614141".to_string(), "950600".to_string()],
    )
    .unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["kind"], "sgtin");
    assert_eq!(json["id"], "(01)09506000134352(21)XYZ");
    assert_eq!(
        json["elements"],
        serde_json::json!({"01": "09506000134352", "10": "ABC", "17": "270331", "21": "XYZ"})
    );
    assert_eq!(json["expiry_date"], "2027-03-31");
    assert_eq!(
        json["forms"]["element_string"],
        "(01)09506000134352(10)ABC(21)XYZ(17)270331"
    );
    assert_eq!(
        json["forms"]["datamatrix"],
        "]d201095060001343521727033110ABC\u{1d}21XYZ"
    );
    assert_eq!(
        json["forms"]["digital_link"],
        "https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=270331"
    );
    assert_eq!(
        json["forms"]["epc_urn"],
        "urn:epc:id:sgtin:950600.0013435.XYZ"
    );

    let unknown_prefix = describe("(00)106141411234567897", &[]).unwrap();
    assert_eq!(unknown_prefix.kind, "sscc");
    assert_eq!(unknown_prefix.forms.epc_urn, None);
}
