//! `Charset`: the GS1 character sets an AI component may use (digits, CSET 82, CSET 39,
//! CSET 64) and membership tests for them.

/// The character set of one AI component (the N/X/Y/Z of the syntax dictionary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// "N": digits 0-9.
    Numeric,
    /// "X": GS1 AI encodable character set 82.
    Cset82,
    /// "Y": GS1 AI encodable character set 39.
    Cset39,
    /// "Z": GS1 AI encodable character set 64 (base64url, `=` padding at the end).
    Cset64,
}

/// Every character of CSET 82, in the order that gives their values in the alphanumeric
/// check character pair.
pub(crate) const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// The 32 characters used for the alphanumeric check character pair.
pub(crate) const CSET32: &str = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

impl Charset {
    /// The letter the syntax dictionary uses for this set.
    pub fn letter(self) -> char {
        match self {
            Charset::Numeric => 'N',
            Charset::Cset82 => 'X',
            Charset::Cset39 => 'Y',
            Charset::Cset64 => 'Z',
        }
    }

    /// The set for a syntax-dictionary letter.
    pub fn from_letter(letter: char) -> Option<Charset> {
        match letter {
            'N' => Some(Charset::Numeric),
            'X' => Some(Charset::Cset82),
            'Y' => Some(Charset::Cset39),
            'Z' => Some(Charset::Cset64),
            _ => None,
        }
    }

    /// The name used in error messages ("82", "39", "64"; "N" for digits).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Charset::Numeric => "N",
            Charset::Cset82 => "82",
            Charset::Cset39 => "39",
            Charset::Cset64 => "64",
        }
    }

    /// Whether `ch` belongs to the set. For CSET 64 `=` is accepted here; its position
    /// (only as trailing padding) is checked by [`Charset::first_invalid`].
    pub fn contains(self, ch: char) -> bool {
        match self {
            Charset::Numeric => ch.is_ascii_digit(),
            Charset::Cset82 => is_cset82(ch),
            Charset::Cset39 => ch.is_ascii_digit() || ch.is_ascii_uppercase() || "#-/".contains(ch),
            Charset::Cset64 => ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '=',
        }
    }

    /// The first character of `value` that the set does not allow, if any.
    pub fn first_invalid(self, value: &str) -> Option<char> {
        if let Some(ch) = value.chars().find(|&c| !self.contains(c)) {
            return Some(ch);
        }
        if self == Charset::Cset64 {
            // '=' is padding: only at the end, at most two.
            let body = value.trim_end_matches('=');
            if body.contains('=') || value.len() - body.len() > 2 {
                return Some('=');
            }
        }
        None
    }
}

/// Whether `ch` is in GS1 AI encodable character set 82.
pub fn is_cset82(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cset82_is_82_characters() {
        assert_eq!(CSET82.chars().count(), 82);
        assert!(CSET82.chars().all(is_cset82));
        assert_eq!(
            (0u8..=127).filter(|&b| is_cset82(char::from(b))).count(),
            82
        );
        assert!(!is_cset82('~') && !is_cset82(' ') && !is_cset82('#'));
    }

    #[test]
    fn cset64_padding_only_at_end() {
        assert_eq!(Charset::Cset64.first_invalid("abc-_=="), None);
        assert_eq!(Charset::Cset64.first_invalid("ab=c"), Some('='));
        assert_eq!(Charset::Cset64.first_invalid("ab+"), Some('+'));
    }

    #[test]
    fn cset39() {
        assert_eq!(Charset::Cset39.first_invalid("AB-12/#"), None);
        assert_eq!(Charset::Cset39.first_invalid("ab"), Some('a'));
    }
}
