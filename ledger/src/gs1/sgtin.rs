//! `Sgtin`: a serialised GTIN, the identity of one saleable unit.

use std::fmt;

use super::element_string::escape_value;
use super::{Gtin, Serial};

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
