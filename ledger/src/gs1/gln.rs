//! `Gln`: a Global Location Number (AI 414 and friends) identifying a party or location.

use std::fmt;

use super::check_digit::verify_key;
use super::epc_urn::sgln_urn;
use super::gtin::prefix_at;
use super::Gs1Error;

/// A GLN: 13 digits (GS1 Company Prefix, location reference, check digit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gln(String);

impl Gln {
    /// Parses 13 digits and checks the check digit.
    pub fn parse(text: &str) -> Result<Gln, Gs1Error> {
        verify_key("GLN", text, &[13])?;
        Ok(Gln(text.to_string()))
    }

    /// The 13 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the GS1 Company Prefix (from index 0) begins with `prefix`.
    pub fn has_company_prefix(&self, prefix: &str) -> bool {
        prefix_at(&self.0, 0, prefix)
    }

    /// `urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension`, given the length of the GS1
    /// Company Prefix; the extension (AI 254) is `0` when there is none.
    pub fn to_sgln_urn(&self, gcp_len: usize, extension: Option<&str>) -> Result<String, Gs1Error> {
        sgln_urn(&self.0, gcp_len, extension)
    }
}

impl fmt::Display for Gln {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::gs1::string_serde!(Gln);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let gln = Gln::parse("0614141000005").unwrap();
        assert!(gln.has_company_prefix("0614141"));
        assert_eq!(
            Gln::parse("0614141000001").unwrap_err().to_string(),
            "GLN check digit should be 5, got 1"
        );
        assert!(Gln::parse("061414100000").is_err());
        assert_eq!(
            gln.to_sgln_urn(7, None).unwrap(),
            "urn:epc:id:sgln:0614141.00000.0"
        );
        assert_eq!(
            gln.to_sgln_urn(7, Some("A/1")).unwrap(),
            "urn:epc:id:sgln:0614141.00000.A%2F1"
        );
    }
}
