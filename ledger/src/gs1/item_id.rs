//! `ItemId`: the identity of one tracked physical thing — a serialised unit (SGTIN) or a
//! logistic unit (SSCC) — parsed from any GS1 form, with a canonical text and storage key.

use std::fmt;

use super::gs1_form::parse_gs1;
use super::{Gs1Data, Gs1Error, Gtin, Serial, Sgtin, Sscc};

/// A tracked item: a unit (GTIN + serial) or a case/pallet (SSCC).
/// Ordered structurally (units before containers, then by GTIN and serial), which is cheap:
/// items are map keys on every hot path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemId {
    /// A serialised trade item.
    Sgtin(Sgtin),
    /// A logistic unit: case, pallet, tote.
    Sscc(Sscc),
}

impl ItemId {
    /// Parses any GS1 form and extracts the item: SSCC when AI 00 is present, SGTIN when
    /// AI 01 and AI 21 are. Other elements (lot, expiry, ...) are validated but not kept.
    /// A bare 18-digit string is an SSCC.
    pub fn parse(text: &str) -> Result<ItemId, Gs1Error> {
        if let Some(id) = Self::parse_canonical(text) {
            return id;
        }
        let data = parse_gs1(text)?;
        ItemId::from_data(&data)
    }

    /// The fast path for the canonical text (`(01)GTIN(21)SERIAL` with no escapes, or
    /// `(00)SSCC`), which is how items travel in JSON and bincode: the same checks as the
    /// general parser, without form detection. `None` when `text` is not in that shape.
    fn parse_canonical(text: &str) -> Option<Result<ItemId, Gs1Error>> {
        if let Some(rest) = text.strip_prefix("(00)") {
            if rest.len() == 18 && rest.bytes().all(|b| b.is_ascii_digit()) {
                return Some(Sscc::parse(rest).map(ItemId::Sscc));
            }
            return None;
        }
        let rest = text.strip_prefix("(01)")?;
        let (gtin, serial) = (rest.get(..14)?, rest.get(14..)?.strip_prefix("(21)")?);
        if serial.is_empty() || serial.contains(['(', '\\']) {
            return None;
        }
        Some(
            Gtin::parse(gtin)
                .and_then(|g| Ok(ItemId::Sgtin(Sgtin::new(g, Serial::parse(serial)?)))),
        )
    }

    /// The item identified by already-parsed data.
    pub fn from_data(data: &Gs1Data) -> Result<ItemId, Gs1Error> {
        if let Some(sscc) = data.get("00") {
            return Ok(ItemId::Sscc(Sscc::parse(sscc)?));
        }
        match (data.get("01"), data.get("21")) {
            (Some(gtin), Some(serial)) => Ok(ItemId::Sgtin(Sgtin::new(
                Gtin::parse(gtin)?,
                Serial::parse(serial)?,
            ))),
            (Some(_), None) => Err(Gs1Error::GtinWithoutSerial),
            _ => Err(Gs1Error::NoItemId(super::to_element_string(data))),
        }
    }

    /// The identifier's elements: `(01)` + `(21)`, or `(00)`.
    pub fn to_gs1_data(&self) -> Gs1Data {
        let pairs: Vec<(&str, &str)> = match self {
            ItemId::Sgtin(s) => vec![("01", s.gtin.as_str()), ("21", s.serial.as_str())],
            ItemId::Sscc(s) => vec![("00", s.as_str())],
        };
        Gs1Data::new(pairs).expect("a valid GTIN + serial or SSCC is a valid GS1 message")
    }

    /// A canonical, unambiguous storage key: `S` + 14 GTIN digits + serial bytes, or `C` +
    /// 18 SSCC digits.
    pub fn key_bytes(&self) -> Vec<u8> {
        match self {
            ItemId::Sgtin(s) => {
                let mut key = Vec::with_capacity(15 + s.serial.as_str().len());
                key.push(b'S');
                key.extend_from_slice(s.gtin.as_str().as_bytes());
                key.extend_from_slice(s.serial.as_str().as_bytes());
                key
            }
            ItemId::Sscc(s) => {
                let mut key = Vec::with_capacity(19);
                key.push(b'C');
                key.extend_from_slice(s.as_str().as_bytes());
                key
            }
        }
    }

    /// The inverse of [`ItemId::key_bytes`].
    pub fn from_key_bytes(bytes: &[u8]) -> Result<ItemId, Gs1Error> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| Gs1Error::KeyBytes("not UTF-8".to_string()))?;
        let wrap = |e: Gs1Error| Gs1Error::KeyBytes(e.to_string());
        match text.split_at_checked(1) {
            Some(("S", rest)) => {
                let (gtin, serial) = rest
                    .split_at_checked(14)
                    .ok_or_else(|| Gs1Error::KeyBytes(format!("\"{text}\" is too short")))?;
                Ok(ItemId::Sgtin(Sgtin::new(
                    Gtin::parse(gtin).map_err(wrap)?,
                    Serial::parse(serial).map_err(wrap)?,
                )))
            }
            Some(("C", rest)) => Ok(ItemId::Sscc(Sscc::parse(rest).map_err(wrap)?)),
            _ => Err(Gs1Error::KeyBytes(format!(
                "\"{text}\" does not start with S or C"
            ))),
        }
    }

    /// Whether the item is a container (SSCC) that can hold other items.
    pub fn is_container(&self) -> bool {
        matches!(self, ItemId::Sscc(_))
    }

    /// The GTIN of a unit; `None` for an SSCC.
    pub fn gtin(&self) -> Option<&Gtin> {
        match self {
            ItemId::Sgtin(s) => Some(&s.gtin),
            ItemId::Sscc(_) => None,
        }
    }

    /// Whether the key's GS1 Company Prefix begins with `prefix`.
    pub fn company_prefix_matches(&self, prefix: &str) -> bool {
        match self {
            ItemId::Sgtin(s) => s.gtin.has_company_prefix(prefix),
            ItemId::Sscc(s) => s.has_company_prefix(prefix),
        }
    }

    /// The EPC pure identity URN, given the company prefix length.
    pub fn to_epc_urn(&self, gcp_len: usize) -> Result<String, Gs1Error> {
        super::to_epc_urn(&self.to_gs1_data(), gcp_len)
    }
}

impl From<Sgtin> for ItemId {
    fn from(value: Sgtin) -> Self {
        ItemId::Sgtin(value)
    }
}

impl From<Sscc> for ItemId {
    fn from(value: Sscc) -> Self {
        ItemId::Sscc(value)
    }
}

impl fmt::Display for ItemId {
    /// The canonical element string: `(01)GTIN(21)SERIAL` or `(00)SSCC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemId::Sgtin(s) => s.fmt(f),
            ItemId::Sscc(s) => write!(f, "(00){s}"),
        }
    }
}

impl serde::Serialize for ItemId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ItemId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        ItemId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMS: [&str; 5] = [
        "(01)09506000134352(17)270331(10)ABC(21)XYZ",
        "]d201095060001343521727033110ABC\u{1d}21XYZ",
        "https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=270331",
        "https://example.com/anything/01/09506000134352/10/ABC/21/XYZ?17=270331",
        "urn:epc:id:sgtin:950600.0013435.XYZ",
    ];

    #[test]
    fn every_form_gives_the_same_sgtin() {
        for form in FORMS {
            let id = ItemId::parse(form).unwrap();
            assert_eq!(id.to_string(), "(01)09506000134352(21)XYZ", "{form}");
            assert!(!id.is_container());
            assert_eq!(id.gtin().map(Gtin::as_str), Some("09506000134352"));
        }
    }

    #[test]
    fn sscc_forms() {
        for form in [
            "106141412345678908",
            "(00)106141412345678908",
            "]d200106141412345678908",
            "urn:epc:id:sscc:0614141.1234567890",
            "https://id.gs1.org/00/106141412345678908",
        ] {
            let id = ItemId::parse(form).unwrap();
            assert_eq!(id.to_string(), "(00)106141412345678908", "{form}");
            assert!(id.is_container() && id.company_prefix_matches("0614141"));
        }
    }

    #[test]
    fn gtin_alone_is_not_a_unit() {
        assert_eq!(
            ItemId::parse("(01)09506000134352").unwrap_err().to_string(),
            "GTIN without serial (AI 21) does not identify a unit"
        );
        assert_eq!(
            ItemId::parse("09506000134352").unwrap_err().to_string(),
            "GTIN without serial (AI 21) does not identify a unit"
        );
        assert!(ItemId::parse("(414)0614141000005").is_err());
    }

    #[test]
    fn key_bytes_round_trip() {
        for form in ["(01)09506000134352(21)X\\(Y", "(00)106141412345678908"] {
            let id = ItemId::parse(form).unwrap();
            let key = id.key_bytes();
            assert_eq!(ItemId::from_key_bytes(&key).unwrap(), id);
        }
        assert_eq!(
            ItemId::parse("(01)09506000134352(21)AB")
                .unwrap()
                .key_bytes(),
            b"S09506000134352AB".to_vec()
        );
        assert!(ItemId::from_key_bytes(b"S0950600013435").is_err());
        assert!(ItemId::from_key_bytes(b"X106141412345678908").is_err());
        assert!(ItemId::from_key_bytes(b"C106141412345678901").is_err());
        assert!(ItemId::from_key_bytes(&[0xff]).is_err());
    }

    #[test]
    fn serde() {
        let id: ItemId = serde_json::from_str(&format!("{:?}", FORMS[2])).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"(01)09506000134352(21)XYZ\"");
        assert_eq!(serde_json::from_str::<ItemId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ItemId>("\"(01)09506000134353(21)XYZ\"").is_err());
        let bytes = bincode::serde::encode_to_vec(&id, bincode::config::standard()).unwrap();
        let (back, _): (ItemId, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn order_is_structural_units_first() {
        let sscc = ItemId::parse("(00)106141412345678908").unwrap();
        let a = ItemId::parse("(01)09506000134352(21)A").unwrap();
        let b = ItemId::parse("(01)09506000134352(21)B").unwrap();
        assert!(a < b && b < sscc);
    }

    #[test]
    fn canonical_fast_path_agrees_with_the_general_parser() {
        for text in [
            "(01)09506000134352(21)XYZ",
            "(00)106141412345678908",
            "(01)09506000134353(21)XYZ",
            "(01)09506000134352(21)",
            "(01)09506000134352(21)A B",
            "(01)0950600013435(21)X",
            "(00)10614141234567890",
        ] {
            let fast = ItemId::parse_canonical(text);
            let general = parse_gs1(text).and_then(|d| ItemId::from_data(&d));
            if let Some(fast) = fast {
                assert_eq!(fast.is_ok(), general.is_ok(), "{text}");
                if let (Ok(f), Ok(g)) = (fast, general) {
                    assert_eq!(f, g, "{text}");
                }
            }
        }
    }
}
