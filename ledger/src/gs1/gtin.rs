//! `Gtin`: a Global Trade Item Number, always held as 14 digits with a valid check digit.

use std::fmt;

use super::check_digit::verify_key;
use super::Gs1Error;

/// A GTIN (AI 01), normalised to GTIN-14: GTIN-8, -12 and -13 get leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gtin(String);

impl Gtin {
    /// Parses a GTIN-8, -12, -13 or -14 (digits only) and checks its check digit.
    pub fn parse(text: &str) -> Result<Gtin, Gs1Error> {
        verify_key("GTIN", text, &[8, 12, 13, 14])?;
        Ok(Gtin(format!("{text:0>14}")))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The indicator digit (first of the 14).
    pub fn indicator(&self) -> char {
        self.0.chars().next().unwrap_or('0')
    }

    /// Whether the GS1 Company Prefix (which starts after the indicator digit, at index 1 of
    /// the 14 digits) begins with `prefix`. An empty or non-numeric prefix never matches.
    pub fn has_company_prefix(&self, prefix: &str) -> bool {
        prefix_at(&self.0, 1, prefix)
    }
}

/// Whether `key[start..]` begins with the non-empty all-digit `prefix`.
pub(crate) fn prefix_at(key: &str, start: usize, prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_digit())
        && key
            .get(start..)
            .is_some_and(|rest| rest.starts_with(prefix))
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::gs1::string_serde!(Gtin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(
            Gtin::parse("09506000134352").unwrap().as_str(),
            "09506000134352"
        );
        assert_eq!(
            Gtin::parse("9506000134352").unwrap().as_str(),
            "09506000134352"
        );
        // GTIN-12 (UPC-A) 614141000036 and GTIN-8 95010106.
        assert_eq!(
            Gtin::parse("614141000036").unwrap().as_str(),
            "00614141000036"
        );
        assert_eq!(
            Gtin::parse("95010106").unwrap().to_string(),
            "00000095010106"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            Gtin::parse("09506000134355").unwrap_err().to_string(),
            "GTIN check digit should be 2, got 5"
        );
        assert_eq!(
            Gtin::parse("09506000134").unwrap_err().to_string(),
            "GTIN: expected 8, 12, 13 or 14 characters, got 11"
        );
        assert!(Gtin::parse("0950600013435A").is_err());
        assert!(Gtin::parse("").is_err());
    }

    #[test]
    fn company_prefix_after_indicator() {
        let gtin = Gtin::parse("10614141000019").unwrap();
        assert!(gtin.has_company_prefix("0614141"));
        assert!(!gtin.has_company_prefix("1061414"));
        assert!(!gtin.has_company_prefix(""));
        let gtin13 = Gtin::parse("9506000134352").unwrap();
        assert!(gtin13.has_company_prefix("950600"));
    }

    #[test]
    fn serde_validates() {
        let gtin = Gtin::parse("09506000134352").unwrap();
        let json = serde_json::to_string(&gtin).unwrap();
        assert_eq!(json, "\"09506000134352\"");
        assert_eq!(serde_json::from_str::<Gtin>(&json).unwrap(), gtin);
        assert!(serde_json::from_str::<Gtin>("\"09506000134355\"").is_err());
    }
}
