//! `AiEntry`: the project's description of one Application Identifier (or a range of them):
//! format, FNC1 need, Digital Link role, associations, title; and the validation of a value
//! against it.

use super::component::Component;
use super::Gs1Error;

/// One row of the AI table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiEntry {
    /// The first AI of the range (the AI itself for a single AI).
    pub first: &'static str,
    /// The last AI of the range.
    pub last: &'static str,
    /// The data title ("GTIN", "BATCH/LOT"); empty where GS1 gives none.
    pub title: &'static str,
    /// Predefined length: no FNC1 separator needed after it (`*`).
    pub predefined_length: bool,
    /// Allowed as a GS1 Digital Link query attribute (`?`).
    pub dl_attribute: bool,
    /// The value format, component by component.
    pub components: &'static [Component],
    /// `req=`: alternatives, each a set of AI patterns that must all be present.
    pub requires: &'static [&'static [&'static str]],
    /// `ex=`: AI patterns that may not appear with this AI.
    pub excludes: &'static [&'static str],
    /// `dlpkey`: `None` if not a Digital Link primary key; otherwise the alternative ordered
    /// qualifier sequences (empty: a key without qualifiers).
    pub dl_key: Option<&'static [&'static [&'static str]]>,
}

/// Whether the AI `pattern` (digits, `n` = any digit) matches `ai`.
pub fn pattern_matches(pattern: &str, ai: &str) -> bool {
    pattern.len() == ai.len()
        && pattern
            .bytes()
            .zip(ai.bytes())
            .all(|(p, a)| p == a || (p == b'n' && a.is_ascii_digit()))
}

impl AiEntry {
    /// A new entry for the AIs `first..=last` (table builder).
    pub(crate) const fn new(
        first: &'static str,
        last: &'static str,
        title: &'static str,
    ) -> AiEntry {
        AiEntry {
            first,
            last,
            title,
            predefined_length: false,
            dl_attribute: false,
            components: &[],
            requires: &[],
            excludes: &[],
            dl_key: None,
        }
    }

    /// Marks the AI as predefined length (table builder).
    pub(crate) const fn predefined(self) -> AiEntry {
        AiEntry {
            predefined_length: true,
            ..self
        }
    }

    /// Marks the AI as a Digital Link attribute (table builder).
    pub(crate) const fn dl_attr(self) -> AiEntry {
        AiEntry {
            dl_attribute: true,
            ..self
        }
    }

    /// Sets the format (table builder).
    pub(crate) const fn spec(self, components: &'static [Component]) -> AiEntry {
        AiEntry { components, ..self }
    }

    /// Sets the `req=` alternatives (table builder).
    pub(crate) const fn req(self, requires: &'static [&'static [&'static str]]) -> AiEntry {
        AiEntry { requires, ..self }
    }

    /// Sets the `ex=` patterns (table builder).
    pub(crate) const fn ex(self, excludes: &'static [&'static str]) -> AiEntry {
        AiEntry { excludes, ..self }
    }

    /// Makes the AI a Digital Link primary key with these qualifier sequences (table builder).
    pub(crate) const fn dl_key(self, sequences: &'static [&'static [&'static str]]) -> AiEntry {
        AiEntry {
            dl_key: Some(sequences),
            ..self
        }
    }

    /// Whether `ai` is one of this entry's AIs.
    pub fn covers(&self, ai: &str) -> bool {
        ai.len() == self.first.len()
            && ai.bytes().all(|b| b.is_ascii_digit())
            && self.first <= ai
            && ai <= self.last
    }

    /// Whether an FNC1 (GS) must follow the value when more data comes after it.
    pub fn needs_fnc1(&self) -> bool {
        !self.predefined_length
    }

    /// The value length when every component is fixed and mandatory.
    pub fn fixed_length(&self) -> Option<usize> {
        self.components
            .iter()
            .all(|c| c.is_fixed() && !c.optional)
            .then(|| self.components.iter().map(|c| usize::from(c.max)).sum())
    }

    /// Smallest and largest allowed value length.
    pub fn length_range(&self) -> (usize, usize) {
        let min = self
            .components
            .iter()
            .filter(|c| !c.optional)
            .map(|c| usize::from(c.min))
            .sum();
        let max = self.components.iter().map(|c| usize::from(c.max)).sum();
        (min, max)
    }

    /// The format in dictionary notation, e.g. `N14,csum,gcppos2` or `N6 [X1],hyphen`.
    pub fn spec_text(&self) -> String {
        let parts: Vec<String> = self.components.iter().map(ToString::to_string).collect();
        parts.join(" ")
    }

    /// Validates `value` as the value of `ai`: length, character sets, then each component's
    /// linters.
    pub fn validate(&self, ai: &str, value: &str) -> Result<(), Gs1Error> {
        let len = value.chars().count();
        let (min, max) = self.length_range();
        if len < min.max(1) || len > max {
            return Err(Gs1Error::Length {
                what: format!("AI {ai}"),
                expected: if min == max {
                    max.to_string()
                } else {
                    format!("{} to {max}", min.max(1))
                },
                got: len,
            });
        }
        let chars: Vec<char> = value.chars().collect();
        let mut pos = 0;
        for component in self.components {
            let remaining = len - pos;
            if remaining == 0 && component.optional {
                break;
            }
            let take = remaining.min(usize::from(component.max));
            let part: String = chars[pos..pos + take].iter().collect();
            if let Some(ch) = component.charset.first_invalid(&part) {
                return Err(match component.charset {
                    super::charset::Charset::Numeric => Gs1Error::NotDigit {
                        what: format!("AI {ai}"),
                        ch,
                    },
                    set => Gs1Error::Charset {
                        ai: ai.to_string(),
                        ch,
                        set: set.name(),
                    },
                });
            }
            if take < usize::from(component.min) {
                return Err(Gs1Error::Lint {
                    ai: ai.to_string(),
                    message: format!(
                        "component {component} needs {} characters, got {take} (\"{part}\")",
                        component.min
                    ),
                });
            }
            for linter in component.linters {
                linter.check(ai, &part)?;
            }
            pos += take;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("310n", "3105"));
        assert!(pattern_matches("31nn", "3199"));
        assert!(!pattern_matches("310n", "3115"));
        assert!(!pattern_matches("01", "010"));
    }
}
