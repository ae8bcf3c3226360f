//! `Gs1Data`: a validated GS1 message — an ordered list of elements, each checked against
//! the AI table, and the whole checked for duplicates and the `req=`/`ex=` associations.

use std::fmt;

use super::ai_entry::pattern_matches;
use super::ai_table::lookup_ai;
use super::element::Element;
use super::Gs1Error;

/// A validated, ordered list of GS1 elements (AI + value).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gs1Data {
    elements: Vec<Element>,
}

impl Gs1Data {
    /// Validates the elements: every AI known, every value valid for its AI, no AI twice with
    /// different values (an exact repeat is dropped), no excluded pair, every mandatory
    /// association present.
    pub fn new<A, V>(pairs: impl IntoIterator<Item = (A, V)>) -> Result<Gs1Data, Gs1Error>
    where
        A: Into<String>,
        V: Into<String>,
    {
        let mut elements: Vec<Element> = Vec::new();
        for (ai, value) in pairs {
            let element = Element::new(ai, value);
            let entry = lookup_ai(&element.ai).ok_or_else(|| Gs1Error::UnknownAi {
                ai: element.ai.clone(),
            })?;
            entry.validate(&element.ai, &element.value)?;
            if let Some(first) = elements.iter().find(|e| e.ai == element.ai) {
                if first.value != element.value {
                    return Err(Gs1Error::Duplicate {
                        ai: element.ai,
                        first: first.value.clone(),
                        second: element.value,
                    });
                }
                continue;
            }
            elements.push(element);
        }
        if elements.is_empty() {
            return Err(Gs1Error::Syntax("no GS1 elements".to_string()));
        }
        let data = Gs1Data { elements };
        data.check_exclusions()?;
        data.check_requirements()?;
        Ok(data)
    }

    fn check_exclusions(&self) -> Result<(), Gs1Error> {
        for element in &self.elements {
            let Some(entry) = lookup_ai(&element.ai) else {
                continue;
            };
            for other in &self.elements {
                if other.ai != element.ai
                    && entry.excludes.iter().any(|p| pattern_matches(p, &other.ai))
                {
                    let (first, second) = if element.ai < other.ai {
                        (&element.ai, &other.ai)
                    } else {
                        (&other.ai, &element.ai)
                    };
                    return Err(Gs1Error::Excluded {
                        first: first.clone(),
                        second: second.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn check_requirements(&self) -> Result<(), Gs1Error> {
        for element in &self.elements {
            let Some(entry) = lookup_ai(&element.ai) else {
                continue;
            };
            if entry.requires.is_empty() {
                continue;
            }
            let satisfied = entry.requires.iter().any(|group| {
                group
                    .iter()
                    .all(|p| self.elements.iter().any(|e| pattern_matches(p, &e.ai)))
            });
            if !satisfied {
                let alternatives: Vec<String> = entry
                    .requires
                    .iter()
                    .map(|group| group.join(" + "))
                    .collect();
                let requires = match alternatives.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("AI {} or {last}", rest.join(", "))
                    }
                    _ => format!("AI {}", alternatives.join("")),
                };
                return Err(Gs1Error::Requires {
                    ai: element.ai.clone(),
                    requires,
                });
            }
        }
        Ok(())
    }

    /// The elements in the order they were given.
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The elements as (AI, value) pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.elements
            .iter()
            .map(|e| (e.ai.as_str(), e.value.as_str()))
    }

    /// The value of `ai`, if present.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.elements
            .iter()
            .find(|e| e.ai == ai)
            .map(|e| e.value.as_str())
    }

    /// Whether `ai` is present.
    pub fn contains(&self, ai: &str) -> bool {
        self.get(ai).is_some()
    }

    /// The first element that is a GS1 Digital Link primary key (AI 01, 00, 414, ...).
    pub fn primary_key(&self) -> Option<&Element> {
        self.elements
            .iter()
            .find(|e| lookup_ai(&e.ai).is_some_and(|entry| entry.dl_key.is_some()))
    }
}

impl fmt::Display for Gs1Data {
    /// The bracketed element string of all elements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.elements.iter().try_for_each(|e| e.fmt(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> Result<Gs1Data, Gs1Error> {
        Gs1Data::new(pairs.iter().copied())
    }

    #[test]
    fn associations() {
        assert_eq!(
            data(&[("21", "X")]).unwrap_err().to_string(),
            "AI 21 requires AI 01, 03 or 8006"
        );
        assert_eq!(
            data(&[("01", "09506000134352"), ("02", "09506000134352")])
                .unwrap_err()
                .to_string(),
            "AI 01 and AI 02 may not appear together"
        );
        assert_eq!(
            data(&[("00", "106141412345678908"), ("250", "X")])
                .unwrap_err()
                .to_string(),
            "AI 250 requires AI 01 + 21, 03 + 21 or 8006 + 21"
        );
        assert!(data(&[("01", "09506000134352"), ("3103", "000100")]).is_ok());
        assert_eq!(
            data(&[
                ("01", "09506000134352"),
                ("3103", "000100"),
                ("3102", "001000")
            ])
            .unwrap_err()
            .to_string(),
            "AI 3102 and AI 3103 may not appear together"
        );
    }

    #[test]
    fn duplicates() {
        let d = data(&[("01", "09506000134352"), ("01", "09506000134352")]).unwrap();
        assert_eq!(d.elements().len(), 1);
        assert_eq!(d.to_string(), "(01)09506000134352");
        assert_eq!(d.pairs().collect::<Vec<_>>(), [("01", "09506000134352")]);
        assert_eq!(
            data(&[("01", "09506000134352"), ("10", "A"), ("10", "B")])
                .unwrap_err()
                .to_string(),
            "AI 10 appears twice with different values \"A\" and \"B\""
        );
    }

    #[test]
    fn values() {
        assert_eq!(
            data(&[("04", "1")]).unwrap_err().to_string(),
            "unknown AI (04)"
        );
        assert_eq!(
            data(&[("01", "0950600013435")]).unwrap_err().to_string(),
            "AI 01: expected 14 characters, got 13"
        );
        assert_eq!(
            data(&[("01", "09506000134352"), ("10", "123456789012345678901")])
                .unwrap_err()
                .to_string(),
            "AI 10: expected 1 to 20 characters, got 21"
        );
        assert_eq!(
            data(&[("01", "09506000134352"), ("21", "A~")])
                .unwrap_err()
                .to_string(),
            "AI 21: character '~' is not in GS1 character set 82"
        );
        assert_eq!(
            data(&[("01", "09506000134353")]).unwrap_err().to_string(),
            "AI 01 check digit should be 2, got 3"
        );
        assert!(data(&[("00", "106141412345678908"), ("4330", "001234-")]).is_ok());
        assert!(data(&[("01", "09506000134352"), ("423", "2762")]).is_err());
        assert!(data(&[("01", "09506000134352"), ("423", "276840")]).is_ok());
    }
}
