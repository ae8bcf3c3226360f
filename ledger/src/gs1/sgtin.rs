//! `Sgtin`: a serialised GTIN, the identity of one saleable unit.

use std::fmt;

use super::element_string::escape_value;
use super::epc_urn::gtin_urn;
use super::{Gs1Error, Gtin, Serial};

/// GTIN + serial (AI 01 + AI 21).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sgtin {
    /// The trade item.
    pub gtin: Gtin,
    /// The unit's serial.
    pub serial: Serial,
}

impl Sgtin {
    /// Joins a GTIN and a serial.
    pub fn new(gtin: Gtin, serial: Serial) -> Sgtin {
        Sgtin { gtin, serial }
    }

    /// `urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial`, given the length of the GS1
    /// Company Prefix (6 to 12 digits); the serial is escaped as the Tag Data Standard says.
    pub fn to_epc_urn(&self, gcp_len: usize) -> Result<String, Gs1Error> {
        gtin_urn(self.gtin.as_str(), gcp_len, "sgtin", self.serial.as_str())
    }
}

impl fmt::Display for Sgtin {
    /// The element string `(01)GTIN(21)SERIAL` (a `(` in the serial is written `\(`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(01){}(21){}",
            self.gtin,
            escape_value(self.serial.as_str())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_epc() {
        let sgtin = Sgtin::new(
            Gtin::parse("80614141123458").unwrap(),
            Serial::parse("6789").unwrap(),
        );
        assert_eq!(sgtin.to_string(), "(01)80614141123458(21)6789");
        assert_eq!(
            sgtin.to_epc_urn(7).unwrap(),
            "urn:epc:id:sgtin:0614141.812345.6789"
        );
        assert_eq!(
            sgtin.to_epc_urn(12).unwrap(),
            "urn:epc:id:sgtin:061414112345.8.6789"
        );
        assert!(sgtin.to_epc_urn(13).is_err());
    }
}
