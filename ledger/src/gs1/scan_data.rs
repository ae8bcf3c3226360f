//! Raw barcode scan data (GS1 DataMatrix, QR, GS1-128, DotCode): optional symbology
//! identifier, AIs back to back, FNC1 as ASCII GS (29) after variable-length values.

use super::ai_table::lookup_ai;
use super::{Gs1Data, Gs1Error};

/// ASCII group separator, how scanners transmit FNC1 inside the data.
pub const GS: char = '\u{1d}';

/// Symbology identifiers of the GS1 carriers: DataMatrix, QR Code, GS1-128, DotCode/DataBar.
const SYMBOLOGY_IDS: [&str; 5] = ["]d2", "]Q3", "]C1", "]e0", "]J1"];

/// Reads raw scan data into validated [`Gs1Data`].
pub fn parse_scan_data(text: &str) -> Result<Gs1Data, Gs1Error> {
    let mut rest = text;
    if rest.starts_with(']') {
        let id = rest.get(..3).unwrap_or(rest);
        if !SYMBOLOGY_IDS.contains(&id) {
            return Err(Gs1Error::Syntax(format!(
                "scan data: symbology identifier {id} does not carry GS1 data"
            )));
        }
        rest = &rest[3..];
    }
    rest = rest.strip_prefix(GS).unwrap_or(rest);
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        let found = (2..=4).find_map(|len| {
            let ai = rest.get(..len)?;
            let digits = ai.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| lookup_ai(ai).map(|entry| (ai, entry)))?
        });
        let Some((ai, entry)) = found else {
            return Err(Gs1Error::NoAiAt {
                rest: rest.chars().take(20).collect(),
            });
        };
        rest = &rest[ai.len()..];
        let end = match entry.fixed_length() {
            Some(len) if entry.predefined_length => {
                // Predefined length: exactly `len` characters; a GS inside is an error the
                // value check reports.
                rest.char_indices().nth(len).map_or(rest.len(), |(i, _)| i)
            }
            _ => rest.find(GS).unwrap_or(rest.len()),
        };
        let value = &rest[..end];
        pairs.push((ai.to_string(), value.to_string()));
        rest = &rest[end..];
        rest = rest.strip_prefix(GS).unwrap_or(rest);
    }
    Gs1Data::new(pairs)
}

/// The data as a GS1 DataMatrix would carry it: `]d2`, predefined-length AIs first, then the
/// others with a GS after each but the last.
pub fn to_datamatrix(data: &Gs1Data) -> String {
    let predefined = |ai: &str| lookup_ai(ai).is_some_and(|e| !e.needs_fnc1());
    let mut ordered: Vec<_> = data.elements().iter().collect();
    ordered.sort_by_key(|e| !predefined(&e.ai));
    let mut out = String::from("]d2");
    for (i, element) in ordered.iter().enumerate() {
        out.push_str(&element.ai);
        out.push_str(&element.value);
        if !predefined(&element.ai) && i + 1 < ordered.len() {
            out.push(GS);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datamatrix() {
        let raw = "]d201095060001343521727033110ABC\u{1d}21XYZ";
        let data = parse_scan_data(raw).unwrap();
        assert_eq!(data.get("01"), Some("09506000134352"));
        assert_eq!(data.get("17"), Some("270331"));
        assert_eq!(data.get("10"), Some("ABC"));
        assert_eq!(data.get("21"), Some("XYZ"));
        assert_eq!(to_datamatrix(&data), raw);
    }

    #[test]
    fn any_order_and_leading_fnc1() {
        let data = parse_scan_data("\u{1d}21XYZ\u{1d}0109506000134352").unwrap();
        assert_eq!(data.get("21"), Some("XYZ"));
        assert_eq!(to_datamatrix(&data), "]d2010950600013435221XYZ");
        assert!(parse_scan_data("]Q3010950600013435221XYZ").is_ok());
    }

    #[test]
    fn errors() {
        assert!(parse_scan_data("]X9010950600013435221XYZ").is_err());
        assert_eq!(
            parse_scan_data("0109506000134352991234\u{1d}04xx")
                .unwrap_err()
                .to_string(),
            "no known AI at the start of \"04xx\""
        );
        assert!(parse_scan_data("01095060001343").is_err());
    }
}
