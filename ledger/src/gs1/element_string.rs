//! Bracketed GS1 element strings, `(01)09506000134352(21)XYZ`: parsing and rendering.
//! A `(` inside a value is written `\(` (as the GS1 Barcode Syntax Engine does); a bare `(`
//! that does not start `(` + two to four digits + `)` is also read as data.

use super::{Gs1Data, Gs1Error};

/// A value as written inside an element string: `(` becomes `\(` so it cannot be read as the
/// start of the next AI.
pub(crate) fn escape_value(value: &str) -> String {
    value.replace('(', "\\(")
}

/// The element string of all elements in order, e.g. `(01)09506000134352(10)ABC`.
pub fn to_element_string(data: &Gs1Data) -> String {
    data.to_string()
}

/// If `rest` starts with `(AI)` (two to four digits), the AI and the length of `(AI)`.
/// Whether the AI is known is checked later, so an unknown one is reported as such.
fn ai_at(rest: &str) -> Option<(&str, usize)> {
    let inner = rest.strip_prefix('(')?;
    let close = inner.find(')')?;
    let ai = &inner[..close];
    ((2..=4).contains(&ai.len()) && ai.bytes().all(|b| b.is_ascii_digit()))
        .then_some((ai, close + 2))
}

/// Reads a bracketed element string into validated [`Gs1Data`].
pub fn parse_element_string(text: &str) -> Result<Gs1Data, Gs1Error> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some((ai, skip)) = ai_at(rest) else {
            let shown: String = rest.chars().take(8).collect();
            return Err(Gs1Error::Syntax(format!(
                "element string: expected \"(AI)\" at \"{shown}\""
            )));
        };
        rest = &rest[skip..];
        let mut value = String::new();
        loop {
            if let Some(after) = rest.strip_prefix("\\(") {
                value.push('(');
                rest = after;
                continue;
            }
            if rest.is_empty() || ai_at(rest).is_some() {
                break;
            }
            let mut chars = rest.chars();
            if let Some(ch) = chars.next() {
                value.push(ch);
            }
            rest = chars.as_str();
        }
        pairs.push((ai.to_string(), value));
    }
    Gs1Data::new(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text = "(01)09506000134352(17)201225(10)ABC123(21)12345";
        let data = parse_element_string(text).unwrap();
        assert_eq!(data.get("17"), Some("201225"));
        assert_eq!(data.get("21"), Some("12345"));
        assert_eq!(to_element_string(&data), text);
    }

    #[test]
    fn escaped_bracket() {
        let data = parse_element_string("(01)09506000134352(21)A\\(10)B(10)(X").unwrap();
        assert_eq!(data.get("21"), Some("A(10)B"));
        assert_eq!(data.get("10"), Some("(X"));
        assert_eq!(
            to_element_string(&data),
            "(01)09506000134352(21)A\\(10)B(10)\\(X"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_element_string("(01)09506000134352(04)1")
                .unwrap_err()
                .to_string(),
            "unknown AI (04)"
        );
        assert!(parse_element_string("01)0950").is_err());
        assert_eq!(
            parse_element_string("(01)09506000134352(17)271301")
                .unwrap_err()
                .to_string(),
            "AI 17: month 13"
        );
    }
}
