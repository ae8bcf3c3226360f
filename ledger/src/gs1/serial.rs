//! `Serial`: the serial number of a trade item (AI 21).

use std::fmt;

use super::charset::Charset;
use super::Gs1Error;

/// An AI 21 serial: 1 to 20 characters of GS1 character set 82.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serial(String);

impl Serial {
    /// Parses and validates an AI 21 value.
    pub fn parse(text: &str) -> Result<Serial, Gs1Error> {
        check_cset82_value("21", text, 20)?;
        Ok(Serial(text.to_string()))
    }

    /// The serial as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks an "X..max" value: 1..=max characters, all in CSET 82.
pub(crate) fn check_cset82_value(ai: &str, text: &str, max: usize) -> Result<(), Gs1Error> {
    let len = text.chars().count();
    if len == 0 || len > max {
        return Err(Gs1Error::Length {
            what: format!("AI {ai}"),
            expected: format!("1 to {max}"),
            got: len,
        });
    }
    if let Some(ch) = Charset::Cset82.first_invalid(text) {
        return Err(Gs1Error::Charset {
            ai: ai.to_string(),
            ch,
            set: "82",
        });
    }
    Ok(())
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::gs1::string_serde!(Serial);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(Serial::parse("AB-12/x").unwrap().as_str(), "AB-12/x");
        assert_eq!(
            Serial::parse("ab~c").unwrap_err().to_string(),
            "AI 21: character '~' is not in GS1 character set 82"
        );
        assert_eq!(
            Serial::parse("123456789012345678901")
                .unwrap_err()
                .to_string(),
            "AI 21: expected 1 to 20 characters, got 21"
        );
        assert!(Serial::parse("").is_err());
        assert!(Serial::parse("é").is_err());
    }
}
