//! EPC pure-identity URNs (GS1 EPC Tag Data Standard): `urn:epc:id:sgtin:`, `sscc`, `sgln`,
//! `giai`, `gsrn`, `gdti`, `grai` and the class URN `urn:epc:class:lgtin:`. The company
//! prefix length is part of the URN, so converting to one needs it; check digits are
//! computed.

use super::check_digit::check_digit;
use super::digital_link::percent_decode;
use super::{Gs1Data, Gs1Error};

/// Characters that the Tag Data Standard requires to be escaped in the URI form of a serial
/// or other alphanumeric component.
const ESCAPED: &[(char, &str)] = &[
    ('"', "%22"),
    ('%', "%25"),
    ('&', "%26"),
    ('/', "%2F"),
    ('<', "%3C"),
    ('>', "%3E"),
    ('?', "%3F"),
];

/// The TDS URI form of an alphanumeric component.
pub(crate) fn epc_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ESCAPED.iter().find(|(c, _)| *c == ch) {
            Some((_, escape)) => out.push_str(escape),
            None => out.push(ch),
        }
    }
    out
}

fn epc_error(message: String) -> Gs1Error {
    Gs1Error::Epc(message)
}

fn digits(what: &str, s: &str) -> Result<(), Gs1Error> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(epc_error(format!("{what} \"{s}\" must be digits")));
    }
    Ok(())
}

/// Checks a company prefix and the reference that completes it to `total` digits.
fn prefix_and_reference(cp: &str, reference: &str, total: usize) -> Result<(), Gs1Error> {
    digits("company prefix", cp)?;
    if !(6..=12).contains(&cp.len()) {
        return Err(epc_error(format!(
            "company prefix {cp} must have 6 to 12 digits"
        )));
    }
    if !reference.is_empty() {
        digits("reference", reference)?;
    }
    if cp.len() + reference.len() != total {
        return Err(epc_error(format!(
            "company prefix {cp} and reference {reference} must have {total} digits together"
        )));
    }
    Ok(())
}

/// `body` completed with its check digit.
fn with_check(body: String) -> String {
    let cd = check_digit(&body);
    format!("{body}{cd}")
}

/// Reads an EPC URN into validated [`Gs1Data`] and the company prefix length it states.
pub fn parse_epc_urn(urn: &str) -> Result<(Gs1Data, usize), Gs1Error> {
    let lower = urn.to_ascii_lowercase();
    let (class, rest) = if lower.starts_with("urn:epc:id:") {
        ("id", &urn[11..])
    } else if lower.starts_with("urn:epc:class:") {
        ("class", &urn[14..])
    } else {
        return Err(epc_error(format!(
            "\"{urn}\" is not an EPC pure identity URN"
        )));
    };
    let (scheme, body) = rest
        .split_once(':')
        .ok_or_else(|| epc_error(format!("\"{urn}\" has no scheme")))?;
    let parts: Vec<&str> = body.splitn(3, '.').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or_default();
    let decode = |s: &str| percent_decode(s, epc_error);
    let (cp, pairs): (&str, Vec<(&str, String)>) = match (class, scheme) {
        ("id", "sgtin") | ("class", "lgtin") => {
            let (cp, ir) = (part(0), part(1));
            prefix_and_reference(cp, ir, 13)?;
            let gtin = with_check(format!("{}{cp}{}", &ir[..1], &ir[1..]));
            let ai = if scheme == "sgtin" { "21" } else { "10" };
            (cp, vec![("01", gtin), (ai, decode(part(2))?)])
        }
        ("id", "sscc") => {
            let (cp, esr) = (part(0), body.split_once('.').map_or("", |(_, r)| r));
            prefix_and_reference(cp, esr, 17)?;
            (
                cp,
                vec![("00", with_check(format!("{}{cp}{}", &esr[..1], &esr[1..])))],
            )
        }
        ("id", "sgln") => {
            let (cp, lr, ext) = (part(0), part(1), part(2));
            prefix_and_reference(cp, lr, 12)?;
            let mut pairs = vec![("414", with_check(format!("{cp}{lr}")))];
            if ext != "0" {
                pairs.push(("254", decode(ext)?));
            }
            (cp, pairs)
        }
        ("id", "giai") => {
            let (cp, asset) = body.split_once('.').unwrap_or((body, ""));
            prefix_and_reference(cp, "", cp.len())?;
            (cp, vec![("8004", format!("{cp}{}", decode(asset)?))])
        }
        ("id", "gsrn") => {
            let (cp, sr) = (part(0), part(1));
            prefix_and_reference(cp, sr, 17)?;
            (cp, vec![("8018", with_check(format!("{cp}{sr}")))])
        }
        ("id", "gdti") | ("id", "grai") => {
            let (cp, kind) = (part(0), part(1));
            prefix_and_reference(cp, kind, 12)?;
            let key = with_check(format!("{cp}{kind}"));
            let serial = decode(part(2))?;
            match scheme {
                "gdti" => (cp, vec![("253", format!("{key}{serial}"))]),
                _ => (cp, vec![("8003", format!("0{key}{serial}"))]),
            }
        }
        _ => {
            return Err(epc_error(format!(
                "scheme urn:epc:{class}:{scheme} is not supported"
            )))
        }
    };
    Ok((Gs1Data::new(pairs)?, cp.len()))
}

fn check_prefix_length(gcp_len: usize) -> Result<(), Gs1Error> {
    if (6..=12).contains(&gcp_len) {
        Ok(())
    } else {
        Err(epc_error(format!(
            "company prefix length {gcp_len} is outside 6..=12"
        )))
    }
}

/// `urn:epc:id:sgtin:` (or `urn:epc:class:lgtin:` with a lot instead of a serial) for a
/// GTIN-14 whose company prefix has `gcp_len` digits.
pub(crate) fn gtin_urn(
    gtin14: &str,
    gcp_len: usize,
    scheme: &str,
    tail: &str,
) -> Result<String, Gs1Error> {
    check_prefix_length(gcp_len)?;
    let class = if scheme == "lgtin" { "class" } else { "id" };
    Ok(format!(
        "urn:epc:{class}:{scheme}:{}.{}{}.{}",
        &gtin14[1..=gcp_len],
        &gtin14[..1],
        &gtin14[gcp_len + 1..13],
        epc_escape(tail)
    ))
}

/// `urn:epc:id:sscc:` for an 18-digit SSCC whose company prefix has `gcp_len` digits.
pub(crate) fn sscc_urn(sscc: &str, gcp_len: usize) -> Result<String, Gs1Error> {
    check_prefix_length(gcp_len)?;
    Ok(format!(
        "urn:epc:id:sscc:{}.{}{}",
        &sscc[1..=gcp_len],
        &sscc[..1],
        &sscc[gcp_len + 1..17]
    ))
}

/// `urn:epc:id:sgln:` for a GLN (extension "0" when there is none).
pub(crate) fn sgln_urn(
    gln: &str,
    gcp_len: usize,
    extension: Option<&str>,
) -> Result<String, Gs1Error> {
    check_prefix_length(gcp_len)?;
    Ok(format!(
        "urn:epc:id:sgln:{}.{}.{}",
        &gln[..gcp_len],
        &gln[gcp_len..12],
        extension.map_or_else(|| "0".to_string(), epc_escape)
    ))
}

/// The EPC URN of the identifier in `data` (SGTIN, SSCC, SGLN, LGTIN, GIAI, GSRN, GDTI or
/// GRAI), given the length of its company prefix.
pub fn to_epc_urn(data: &Gs1Data, gcp_len: usize) -> Result<String, Gs1Error> {
    check_prefix_length(gcp_len)?;
    let key_too_short = |key: &str| {
        epc_error(format!(
            "key {key} does not start with a {gcp_len}-digit company prefix"
        ))
    };
    if let Some(sscc) = data.get("00") {
        return sscc_urn(sscc, gcp_len);
    }
    if let Some(gtin) = data.get("01") {
        return match (data.get("21"), data.get("10")) {
            (Some(serial), _) => gtin_urn(gtin, gcp_len, "sgtin", serial),
            (None, Some(lot)) => gtin_urn(gtin, gcp_len, "lgtin", lot),
            (None, None) => Err(epc_error(format!(
                "GTIN {gtin} without serial or lot has no EPC pure identity"
            ))),
        };
    }
    if let Some(gln) = data.get("414") {
        return sgln_urn(gln, gcp_len, data.get("254"));
    }
    if let Some(giai) = data.get("8004") {
        let (cp, asset) = giai
            .split_at_checked(gcp_len)
            .filter(|(cp, _)| cp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| key_too_short(giai))?;
        return Ok(format!("urn:epc:id:giai:{cp}.{}", epc_escape(asset)));
    }
    if let Some(gsrn) = data.get("8018") {
        return Ok(format!(
            "urn:epc:id:gsrn:{}.{}",
            &gsrn[..gcp_len],
            &gsrn[gcp_len..17]
        ));
    }
    if let Some(gdti) = data.get("253") {
        return Ok(format!(
            "urn:epc:id:gdti:{}.{}.{}",
            &gdti[..gcp_len],
            &gdti[gcp_len..12],
            epc_escape(&gdti[13..])
        ));
    }
    if let Some(grai) = data.get("8003") {
        return Ok(format!(
            "urn:epc:id:grai:{}.{}.{}",
            &grai[1..=gcp_len],
            &grai[gcp_len + 1..13],
            epc_escape(&grai[14..])
        ));
    }
    Err(epc_error(
        "no identifier with an EPC pure identity URN in the data".to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgtin() {
        let (data, cp) = parse_epc_urn("urn:epc:id:sgtin:0614141.812345.6789").unwrap();
        assert_eq!(cp, 7);
        assert_eq!(data.get("01"), Some("80614141123458"));
        assert_eq!(data.get("21"), Some("6789"));
        assert_eq!(
            to_epc_urn(&data, 7).unwrap(),
            "urn:epc:id:sgtin:0614141.812345.6789"
        );
    }

    #[test]
    fn sscc() {
        let (data, _) = parse_epc_urn("urn:epc:id:sscc:0614141.1234567890").unwrap();
        assert_eq!(data.get("00"), Some("106141412345678908"));
        assert_eq!(
            to_epc_urn(&data, 7).unwrap(),
            "urn:epc:id:sscc:0614141.1234567890"
        );
    }

    #[test]
    fn sgln_and_lgtin() {
        let (data, _) = parse_epc_urn("urn:epc:id:sgln:0614141.07346.1234").unwrap();
        assert_eq!(data.get("414"), Some("0614141073467"));
        assert_eq!(data.get("254"), Some("1234"));
        let (data, _) = parse_epc_urn("urn:epc:id:sgln:0614141.00777.0").unwrap();
        assert_eq!(data.get("254"), None);
        assert_eq!(
            to_epc_urn(&data, 7).unwrap(),
            "urn:epc:id:sgln:0614141.00777.0"
        );
        let (data, _) = parse_epc_urn("urn:epc:class:lgtin:4012345.012345.998877").unwrap();
        assert_eq!(data.get("01"), Some("04012345123456"));
        assert_eq!(data.get("10"), Some("998877"));
    }

    #[test]
    fn escaping() {
        let (data, _) = parse_epc_urn("urn:epc:id:sgtin:0614141.812345.A%2FB%25").unwrap();
        assert_eq!(data.get("21"), Some("A/B%"));
        assert_eq!(
            to_epc_urn(&data, 7).unwrap(),
            "urn:epc:id:sgtin:0614141.812345.A%2FB%25"
        );
    }

    #[test]
    fn errors() {
        assert!(parse_epc_urn("urn:epc:id:sgtin:0614141.81234.6789").is_err());
        assert!(parse_epc_urn("urn:epc:id:sgtin:06141.8123456789.1").is_err());
        assert!(parse_epc_urn("urn:epc:id:foo:1.2.3").is_err());
        assert!(parse_epc_urn("urn:epc:id:sgtin:0614141.812345.").is_err());
        assert!(parse_epc_urn("urn:epc:id:sscc:0614141.").is_err());
    }
}
