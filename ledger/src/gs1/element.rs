//! `Element`: one AI and its value, the unit every GS1 form is made of.

use std::fmt;

use super::element_string::escape_value;

/// One element string: an Application Identifier and its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element {
    /// The AI, 2 to 4 digits.
    pub ai: String,
    /// The value, as carried in a barcode (no escaping).
    pub value: String,
}

impl Element {
    /// An element from an AI and a value (not validated; see [`super::Gs1Data::new`]).
    pub fn new(ai: impl Into<String>, value: impl Into<String>) -> Element {
        Element {
            ai: ai.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for Element {
    /// `(AI)value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}){}", self.ai, escape_value(&self.value))
    }
}
