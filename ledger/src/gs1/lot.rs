//! `Lot`: a batch or lot number (AI 10).

use std::fmt;

use super::serial::check_cset82_value;
use super::Gs1Error;

/// An AI 10 batch/lot number: 1 to 20 characters of GS1 character set 82.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lot(String);

impl Lot {
    /// Parses and validates an AI 10 value.
    pub fn parse(text: &str) -> Result<Lot, Gs1Error> {
        check_cset82_value("10", text, 20)?;
        Ok(Lot(text.to_string()))
    }

    /// The lot as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Lot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::gs1::string_serde!(Lot);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(Lot::parse("ABC123").unwrap().to_string(), "ABC123");
        assert_eq!(
            Lot::parse("A B").unwrap_err().to_string(),
            "AI 10: character ' ' is not in GS1 character set 82"
        );
    }
}
