//! `Gs1Form`: the forms GS1 data arrives in, how each is recognised, and `parse_gs1`, which
//! reads any of them.

use serde::Serialize;

use super::check_digit::verify_key;
use super::digital_link::parse_digital_link;
use super::element_string::parse_element_string;
use super::epc_urn::parse_epc_urn;
use super::scan_data::parse_scan_data;
use super::{Gs1Data, Gs1Error};

/// The form a piece of GS1 data was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gs1Form {
    /// Bracketed element string `(01)...(21)...`.
    ElementString,
    /// Raw scan data, with or without symbology identifier, GS as FNC1.
    ScanData,
    /// GS1 Digital Link URI.
    DigitalLink,
    /// EPC pure identity (or LGTIN class) URN.
    EpcUrn,
    /// A bare key: 18 digits (SSCC) or 8, 12, 13 or 14 digits (GTIN).
    PlainKey,
}

/// Parsed data with the form it came in and, for EPC URNs, the company prefix length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedGs1 {
    /// The validated elements.
    pub data: Gs1Data,
    /// The form of the input.
    pub form: Gs1Form,
    /// The GS1 Company Prefix length, when the input stated it (EPC URNs).
    pub gcp_len: Option<usize>,
}

/// Surrounding whitespace a scanner or a shell may add (not GS, which is data).
fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Whether `text` has the shape of a bare key: all digits, 8, 12, 13, 14 or 18 long.
fn looks_like_key(text: &str) -> bool {
    matches!(text.len(), 8 | 12 | 13 | 14 | 18) && text.bytes().all(|b| b.is_ascii_digit())
}

/// A bare key as an element: 18 digits → AI 00, 8/12/13/14 digits → AI 01 as GTIN-14; a
/// wrong check digit is reported for the key ("SSCC check digit should be ...").
fn plain_key(text: &str) -> Result<Gs1Data, Gs1Error> {
    if text.len() == 18 {
        verify_key("SSCC", text, &[18])?;
        Gs1Data::new([("00", text.to_string())])
    } else {
        verify_key("GTIN", text, &[8, 12, 13, 14])?;
        Gs1Data::new([("01", format!("{text:0>14}"))])
    }
}

impl Gs1Form {
    /// Recognises the form of `text` (already trimmed) by its start. All-digit text of a
    /// key's length counts as scan data here; [`parse_gs1_detailed`] reads it as a bare key
    /// when its check digit holds or it is not valid scan data.
    pub fn detect(text: &str) -> Gs1Form {
        let lower = text.get(..14).unwrap_or(text).to_ascii_lowercase();
        if text.starts_with('(') {
            Gs1Form::ElementString
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            Gs1Form::DigitalLink
        } else if lower.starts_with("urn:epc:") {
            Gs1Form::EpcUrn
        } else {
            Gs1Form::ScanData
        }
    }
}

/// Parses GS1 data in any form (see [`Gs1Form`]) and tells which form it was.
pub fn parse_gs1_detailed(text: &str) -> Result<ParsedGs1, Gs1Error> {
    let text = trim(text);
    if text.is_empty() {
        return Err(Gs1Error::Syntax("empty input".to_string()));
    }
    let (data, form, gcp_len) = match Gs1Form::detect(text) {
        Gs1Form::ElementString => (parse_element_string(text)?, Gs1Form::ElementString, None),
        Gs1Form::DigitalLink => (parse_digital_link(text)?, Gs1Form::DigitalLink, None),
        Gs1Form::EpcUrn => {
            let (data, len) = parse_epc_urn(text)?;
            (data, Gs1Form::EpcUrn, Some(len))
        }
        // A bare key with a valid check digit is a key, even where the digits would also read
        // as scan data ("9506000134352" as AI 95). With a wrong check digit, valid scan data
        // ("901234567890", AI 90) stays scan data, and anything else is reported as a key
        // with a wrong check digit.
        Gs1Form::ScanData | Gs1Form::PlainKey if looks_like_key(text) => match plain_key(text) {
            Ok(data) => (data, Gs1Form::PlainKey, None),
            Err(key_error) => match parse_scan_data(text) {
                Ok(data) => (data, Gs1Form::ScanData, None),
                Err(_) => return Err(key_error),
            },
        },
        Gs1Form::ScanData | Gs1Form::PlainKey => (parse_scan_data(text)?, Gs1Form::ScanData, None),
    };
    Ok(ParsedGs1 {
        data,
        form,
        gcp_len,
    })
}

/// Parses GS1 data in any form: bracketed element string, raw scan data (`]d2`, `]Q3`,
/// `]C1`, `]e0` or none; GS as FNC1), GS1 Digital Link URI, EPC URN, or a bare GTIN/SSCC.
pub fn parse_gs1(text: &str) -> Result<Gs1Data, Gs1Error> {
    parse_gs1_detailed(text).map(|parsed| parsed.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_every_form() {
        let cases = [
            ("(01)09506000134352(21)XYZ", Gs1Form::ElementString),
            ("]d2010950600013435221XYZ", Gs1Form::ScanData),
            ("\u{1d}010950600013435221XYZ", Gs1Form::ScanData),
            ("010950600013435221XYZ", Gs1Form::ScanData),
            (
                "HTTPS://id.gs1.org/01/09506000134352/21/XYZ",
                Gs1Form::DigitalLink,
            ),
            ("urn:epc:id:sgtin:950600.0013435.XYZ", Gs1Form::EpcUrn),
            ("09506000134352", Gs1Form::PlainKey),
            ("106141412345678908", Gs1Form::PlainKey),
        ];
        for (text, form) in cases {
            let parsed = parse_gs1_detailed(text).unwrap();
            assert_eq!(parsed.form, form, "{text}");
            assert!(parsed.data.get("01").or(parsed.data.get("00")).is_some());
        }
        assert_eq!(crate::gs1::GS, '\u{1d}');
        assert!(parse_gs1("  \r\n").is_err());
    }

    #[test]
    fn bare_keys_and_their_errors() {
        assert_eq!(
            parse_gs1("09506000134355").unwrap_err().to_string(),
            "GTIN check digit should be 2, got 5"
        );
        assert_eq!(
            parse_gs1("106141412345678901").unwrap_err().to_string(),
            "SSCC check digit should be 8, got 1"
        );
        let gtin13 = parse_gs1(" 9506000134352\r\n").unwrap();
        assert_eq!(gtin13.get("01"), Some("09506000134352"));
        // All digits but valid scan data: AI 90 (internal) stays scan data.
        let parsed = parse_gs1_detailed("901234567890").unwrap();
        assert_eq!(parsed.form, Gs1Form::ScanData);
        assert_eq!(parsed.data.get("90"), Some("1234567890"));
    }
}
