//! GS1 Digital Link URIs on any domain: `https://example.com/any/prefix/01/{gtin}/10/{lot}/21/{serial}?17=270331`.
//! The primary key and its qualifiers (in the order the key's `dlpkey` sequences allow) are
//! path segments; other AIs that are allowed as attributes travel in the query string.

use super::ai_table::lookup_ai;
use super::{Gs1Data, Gs1Error};

/// The resolver GS1 runs; the default base for rendered Digital Links.
pub const GS1_RESOLVER: &str = "https://id.gs1.org";

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; errors on a malformed escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(
    value: &str,
    fail: fn(String) -> Gs1Error,
) -> Result<String, Gs1Error> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(fail(format!("bad percent escape in \"{value}\"")));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| fail(format!("\"{value}\" does not decode to UTF-8")))
}

fn dl_error(message: String) -> Gs1Error {
    Gs1Error::DigitalLink(message)
}

/// Whether the primary key `key` accepts `qualifiers` in this order; the error names the
/// first offending qualifier.
fn check_qualifiers(key: &str, qualifiers: &[&str]) -> Result<(), Gs1Error> {
    if qualifiers.is_empty() {
        return Ok(());
    }
    let sequences = lookup_ai(key).and_then(|e| e.dl_key).unwrap_or(&[]);
    if let Some(q) = qualifiers
        .iter()
        .find(|q| !sequences.iter().any(|seq| seq.contains(q)))
    {
        return Err(dl_error(format!(
            "AI {q} is not a key qualifier of key {key}"
        )));
    }
    let mut order_error = None;
    for seq in sequences
        .iter()
        .filter(|seq| qualifiers.iter().all(|q| seq.contains(q)))
    {
        let positions: Vec<usize> = qualifiers
            .iter()
            .filter_map(|q| seq.iter().position(|s| s == q))
            .collect();
        match positions.windows(2).position(|w| w[0] >= w[1]) {
            None => return Ok(()),
            Some(i) => {
                order_error.get_or_insert(Gs1Error::DigitalLinkOrder {
                    ai: qualifiers[i + 1].to_string(),
                    after: qualifiers[i].to_string(),
                    key: key.to_string(),
                });
            }
        }
    }
    Err(order_error.unwrap_or_else(|| {
        dl_error(format!(
            "qualifiers {} of key {key} mix alternative sequences",
            qualifiers.join(", ")
        ))
    }))
}

/// Reads a GS1 Digital Link URI (any host, any path prefix) into validated [`Gs1Data`].
pub fn parse_digital_link(uri: &str) -> Result<Gs1Data, Gs1Error> {
    let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
    let after_scheme = if lower.starts_with("https://") {
        &uri[8..]
    } else if lower.starts_with("http://") {
        &uri[7..]
    } else {
        return Err(dl_error(format!("\"{uri}\" is not an http(s) URI")));
    };
    let without_fragment = after_scheme.split('#').next().unwrap_or_default();
    let (authority_and_path, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = authority_and_path
        .split_once('/')
        .map_or("", |(_, path)| path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    let is_ai = |s: &str| s.bytes().all(|b| b.is_ascii_digit()) && lookup_ai(s).is_some();
    let start = (0..segments.len()).find(|&i| {
        lookup_ai(segments[i]).is_some_and(|e| e.dl_key.is_some())
            && segments[i].bytes().all(|b| b.is_ascii_digit())
            && (segments.len() - i).is_multiple_of(2)
            && segments[i..].iter().step_by(2).all(|s| is_ai(s))
    });
    let Some(start) = start else {
        return Err(dl_error(format!(
            "no primary key (such as /01/{{gtin}} or /00/{{sscc}}) in the path of \"{uri}\""
        )));
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in segments[start..].chunks(2) {
        let value = percent_decode(pair[1], dl_error)?;
        pairs.push((pair[0].to_string(), value));
    }
    let key = segments[start];
    let qualifiers: Vec<&str> = segments[start + 2..].iter().step_by(2).copied().collect();
    check_qualifiers(key, &qualifiers)?;
    // The Digital Link standard allows GTIN-8, -12 and -13 in the path; AI 01 holds 14 digits.
    if let Some((_, gtin)) = pairs.first_mut().filter(|(ai, _)| ai == "01") {
        if matches!(gtin.len(), 8 | 12 | 13) {
            *gtin = format!("{gtin:0>14}");
        }
    }
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let name = percent_decode(name, dl_error)?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue; // non-AI parameters (linkType, context, ...) are not GS1 data
        }
        let entry = lookup_ai(&name).ok_or_else(|| Gs1Error::UnknownAi { ai: name.clone() })?;
        if !entry.dl_attribute {
            return Err(dl_error(format!(
                "AI {name} is not allowed as a query attribute"
            )));
        }
        pairs.push((name, percent_decode(value, dl_error)?));
    }
    Gs1Data::new(pairs)
}

/// The GS1 Digital Link URI of `data` under `base` (e.g. [`GS1_RESOLVER`]): the primary key
/// and the qualifiers present in the path, every other element as a query attribute.
pub fn to_digital_link(data: &Gs1Data, base: &str) -> Result<String, Gs1Error> {
    let key = data
        .primary_key()
        .ok_or_else(|| dl_error("no primary key to put in the path".to_string()))?;
    let sequences = lookup_ai(&key.ai).and_then(|e| e.dl_key).unwrap_or(&[]);
    let best = sequences
        .iter()
        .max_by_key(|seq| {
            (
                seq.iter().filter(|q| data.contains(q)).count(),
                std::cmp::Reverse(seq.len()),
            )
        })
        .copied()
        .unwrap_or(&[]);
    let mut uri = format!(
        "{}/{}/{}",
        base.trim_end_matches('/'),
        key.ai,
        percent_encode(&key.value)
    );
    let mut in_path = vec![key.ai.as_str()];
    for q in best {
        if let Some(value) = data.get(q) {
            uri.push_str(&format!("/{q}/{}", percent_encode(value)));
            in_path.push(q);
        }
    }
    let mut separator = '?';
    for element in data
        .elements()
        .iter()
        .filter(|e| !in_path.contains(&e.ai.as_str()))
    {
        if !lookup_ai(&element.ai).is_some_and(|e| e.dl_attribute) {
            return Err(dl_error(format!(
                "AI {} cannot be carried in a Digital Link with key {}",
                element.ai, key.ai
            )));
        }
        uri.push(separator);
        uri.push_str(&format!(
            "{}={}",
            element.ai,
            percent_encode(&element.value)
        ));
        separator = '&';
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_domain() {
        let data = parse_digital_link(
            "https://example.com/anything/01/09506000134352/10/ABC/21/XYZ?17=270331&linkType=all",
        )
        .unwrap();
        assert_eq!(data.get("01"), Some("09506000134352"));
        assert_eq!(data.get("10"), Some("ABC"));
        assert_eq!(data.get("21"), Some("XYZ"));
        assert_eq!(data.get("17"), Some("270331"));
        assert_eq!(
            to_digital_link(&data, GS1_RESOLVER).unwrap(),
            "https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=270331"
        );
    }

    #[test]
    fn percent_and_short_gtin() {
        let data = parse_digital_link("http://x.org/01/9506000134352/21/A%2FB%25").unwrap();
        assert_eq!(data.get("01"), Some("09506000134352"));
        assert_eq!(data.get("21"), Some("A/B%"));
        assert_eq!(
            to_digital_link(&data, "https://id.gs1.org/").unwrap(),
            "https://id.gs1.org/01/09506000134352/21/A%2FB%25"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_digital_link("https://id.gs1.org/01/09506000134352/21/XYZ/10/ABC")
                .unwrap_err()
                .to_string(),
            "Digital Link: AI 10 may not follow AI 21 after key 01"
        );
        assert!(parse_digital_link("https://id.gs1.org/01/09506000134352/17/270331").is_err());
        assert_eq!(
            parse_digital_link("https://id.gs1.org/01/09506000134352?21=X")
                .unwrap_err()
                .to_string(),
            "Digital Link: AI 21 is not allowed as a query attribute"
        );
        assert!(parse_digital_link("https://id.gs1.org/10/ABC").is_err());
        assert!(parse_digital_link("https://id.gs1.org/01/09506000134352/21/%ZZ").is_err());
        assert!(parse_digital_link("ftp://id.gs1.org/01/09506000134352").is_err());
    }

    #[test]
    fn sscc_and_gln() {
        let data = parse_digital_link("https://id.gs1.org/00/106141412345678908").unwrap();
        assert_eq!(data.get("00"), Some("106141412345678908"));
        let data = parse_digital_link("https://id.gs1.org/414/0614141000005/254/A1").unwrap();
        assert_eq!(data.get("254"), Some("A1"));
    }
}
