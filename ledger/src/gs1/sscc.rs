//! `Sscc`: a Serial Shipping Container Code (AI 00) identifying a case or pallet.

use std::fmt;

use super::check_digit::verify_key;
use super::epc_urn::sscc_urn;
use super::gtin::prefix_at;
use super::Gs1Error;

/// An SSCC: 18 digits (extension digit, GS1 Company Prefix, serial reference, check digit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sscc(String);

impl Sscc {
    /// Parses 18 digits and checks the check digit.
    pub fn parse(text: &str) -> Result<Sscc, Gs1Error> {
        verify_key("SSCC", text, &[18])?;
        Ok(Sscc(text.to_string()))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the GS1 Company Prefix (after the extension digit, index 1) begins with
    /// `prefix`.
    pub fn has_company_prefix(&self, prefix: &str) -> bool {
        prefix_at(&self.0, 1, prefix)
    }

    /// `urn:epc:id:sscc:CompanyPrefix.ExtensionSerialRef`, given the length of the GS1
    /// Company Prefix (6 to 12 digits).
    pub fn to_epc_urn(&self, gcp_len: usize) -> Result<String, Gs1Error> {
        sscc_urn(&self.0, gcp_len)
    }
}

impl fmt::Display for Sscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::gs1::string_serde!(Sscc);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let sscc = Sscc::parse("106141412345678908").unwrap();
        assert_eq!(sscc.as_str(), "106141412345678908");
        assert!(sscc.has_company_prefix("0614141"));
        assert!(!sscc.has_company_prefix("1061414"));
        assert_eq!(
            Sscc::parse("106141412345678901").unwrap_err().to_string(),
            "SSCC check digit should be 8, got 1"
        );
        assert!(Sscc::parse("10614141234567890").is_err());
        assert_eq!(
            sscc.to_epc_urn(7).unwrap(),
            "urn:epc:id:sscc:0614141.1234567890"
        );
        assert!(sscc.to_epc_urn(5).is_err());
    }
}
