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
    /// A bare key: 18 digits (SSCC) or 8/12/13/14 digits (GTIN) with a valid check digit.
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

/// A bare key, if `text` is one: 18 digits → AI 00, 8/12/13/14 digits → AI 01 (as GTIN-14).
/// The check digit must hold, so raw scan data that happens to be all digits is not taken.
fn plain_key(text: &str) -> Option<(&'static str, String)> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.len() {
        18 => verify_key("SSCC", text, &[18])
            .ok()
            .map(|()| ("00", text.to_string())),
        8 | 12 | 13 | 14 => verify_key("GTIN", text, &[8, 12, 13, 14])
            .ok()
            .map(|()| ("01", format!("{text:0>14}"))),
        _ => None,
    }
}

impl Gs1Form {
    /// Recognises the form of `text` (already trimmed).
    pub fn detect(text: &str) -> Gs1Form {
        let lower = text.get(..14).unwrap_or(text).to_ascii_lowercase();
        if text.starts_with('(') {
            Gs1Form::ElementString
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            Gs1Form::DigitalLink
        } else if lower.starts_with("urn:epc:") {
            Gs1Form::EpcUrn
        } else if plain_key(text).is_some() {
            Gs1Form::PlainKey
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
    let form = Gs1Form::detect(text);
    let (data, gcp_len) = match form {
        Gs1Form::ElementString => (parse_element_string(text)?, None),
        Gs1Form::DigitalLink => (parse_digital_link(text)?, None),
        Gs1Form::EpcUrn => {
            let (data, len) = parse_epc_urn(text)?;
            (data, Some(len))
        }
        Gs1Form::PlainKey => {
            let pair = plain_key(text)
                .ok_or_else(|| Gs1Error::Syntax(format!("\"{text}\" is not a GS1 key")))?;
            (Gs1Data::new([pair])?, None)
        }
        Gs1Form::ScanData => (parse_scan_data(text)?, None),
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
}
