//! `Gs1Error`: every way a GS1 identifier or message can be rejected, with the values needed
//! to see what was wrong.

use thiserror::Error;

/// Why a GS1 identifier, element value or message was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Gs1Error {
    /// A mod-10 (or alphanumeric pair) check digit does not match the data.
    #[error("{what} check digit should be {expected}, got {got}")]
    CheckDigit {
        /// What was checked: "GTIN", "SSCC", "GLN" or "AI 414".
        what: String,
        /// The check digit computed from the data.
        expected: String,
        /// The check digit found.
        got: String,
    },
    /// A value has the wrong length.
    #[error("{what}: expected {expected} characters, got {got}")]
    Length {
        /// What was checked ("GTIN", "AI 17", ...).
        what: String,
        /// The allowed lengths, in words ("14", "8, 12, 13 or 14", "1 to 20").
        expected: String,
        /// The length found.
        got: usize,
    },
    /// A numeric field holds something other than a digit.
    #[error("{what}: character '{ch}' is not a digit")]
    NotDigit {
        /// What was checked.
        what: String,
        /// The offending character.
        ch: char,
    },
    /// A character outside the character set the AI allows.
    #[error("AI {ai}: character '{ch}' is not in GS1 character set {set}")]
    Charset {
        /// The AI.
        ai: String,
        /// The offending character.
        ch: char,
        /// "82", "39" or "64".
        set: &'static str,
    },
    /// A month outside 01..12.
    #[error("AI {ai}: month {month}")]
    Month {
        /// The AI.
        ai: String,
        /// The month as written.
        month: String,
    },
    /// A day that the month does not have.
    #[error("AI {ai}: day {day} does not exist in {year}-{month:02}")]
    Day {
        /// The AI.
        ai: String,
        /// The day as written.
        day: String,
        /// The resolved four-digit year.
        year: u16,
        /// The month.
        month: u8,
    },
    /// Any other content check ("linter") failed.
    #[error("AI {ai}: {message}")]
    Lint {
        /// The AI.
        ai: String,
        /// What is wrong, with the value.
        message: String,
    },
    /// The AI is not in the project's AI table.
    #[error("unknown AI ({ai})")]
    UnknownAi {
        /// The AI as read.
        ai: String,
    },
    /// Raw scan data where no known AI starts.
    #[error("no known AI at the start of \"{rest}\"")]
    NoAiAt {
        /// The unread rest of the data.
        rest: String,
    },
    /// The same AI twice with different values.
    #[error("AI {ai} appears twice with different values \"{first}\" and \"{second}\"")]
    Duplicate {
        /// The AI.
        ai: String,
        /// The first value.
        first: String,
        /// The second value.
        second: String,
    },
    /// An AI whose mandatory association (`req=`) is missing.
    #[error("AI {ai} requires {requires}")]
    Requires {
        /// The AI that has the requirement.
        ai: String,
        /// The alternatives, in words ("AI 01, 03 or 8006").
        requires: String,
    },
    /// Two AIs that may not be used together (`ex=`).
    #[error("AI {first} and AI {second} may not appear together")]
    Excluded {
        /// The lower of the two AIs.
        first: String,
        /// The higher of the two AIs.
        second: String,
    },
    /// A Digital Link key qualifier in the wrong order.
    #[error("Digital Link: AI {ai} may not follow AI {after} after key {key}")]
    DigitalLinkOrder {
        /// The qualifier found out of order.
        ai: String,
        /// The qualifier before it.
        after: String,
        /// The primary key.
        key: String,
    },
    /// Any other problem with a GS1 Digital Link URI.
    #[error("Digital Link: {0}")]
    DigitalLink(String),
    /// A problem with an EPC URN.
    #[error("EPC URN: {0}")]
    Epc(String),
    /// A problem with the syntax of a bracketed element string or raw scan data.
    #[error("{0}")]
    Syntax(String),
    /// A GTIN was given where a unit (serialised item) was needed.
    #[error("GTIN without serial (AI 21) does not identify a unit")]
    GtinWithoutSerial,
    /// The message carries no SGTIN or SSCC.
    #[error("no SGTIN (AI 01 + 21) or SSCC (AI 00) in \"{0}\"")]
    NoItemId(String),
    /// Bytes that are not an `ItemId` storage key.
    #[error("invalid item key bytes: {0}")]
    KeyBytes(String),
}
