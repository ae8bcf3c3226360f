//! Reading item arguments: GS1 identifiers in any form (through `custody_ledger::gs1` only:
//! `ItemId::parse`, `Gtin::parse`, `Sscc::parse`, …), serial lists and ranges, serial files,
//! and splitting serials into transaction-sized batches.
//!
//! The `parse_*` functions are clap value parsers: a bad value becomes clap's usage error
//! (exit 2) with the GS1 parser's own message. Nothing here panics on user input.

use crate::exit::usage;
use anyhow::Context;
use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sscc};
use std::collections::HashSet;
use std::path::Path;

/// The most serials one command may commission (a range or a file).
pub const MAX_SERIALS: usize = 1_000_000;

/// Any GS1 form of a unit (SGTIN) or a case/pallet (SSCC).
pub fn parse_item(s: &str) -> Result<ItemId, String> {
    ItemId::parse(s).map_err(|e| format!("not a GS1 item identifier: {e}"))
}

/// A GTIN (8, 12, 13 or 14 digits, per the GS1 parser).
pub fn parse_gtin(s: &str) -> Result<Gtin, String> {
    Gtin::parse(s).map_err(|e| format!("not a GTIN: {e}"))
}

/// An SSCC: the 18 digits, or any item form that names an SSCC (e.g. `(00)…`).
pub fn parse_sscc(s: &str) -> Result<Sscc, String> {
    match Sscc::parse(s) {
        Ok(sscc) => Ok(sscc),
        Err(e) => match ItemId::parse(s) {
            Ok(ItemId::Sscc(sscc)) => Ok(sscc),
            Ok(ItemId::Sgtin(_)) => {
                Err("this is a unit (SGTIN), not a case or pallet (SSCC)".into())
            }
            Err(_) => Err(format!("not an SSCC: {e}")),
        },
    }
}

/// A GLN (13 digits with check digit).
pub fn parse_gln(s: &str) -> Result<Gln, String> {
    Gln::parse(s).map_err(|e| format!("not a GLN: {e}"))
}

/// A lot / batch number (AI 10).
pub fn parse_lot(s: &str) -> Result<Lot, String> {
    Lot::parse(s).map_err(|e| format!("not a lot number: {e}"))
}

/// An expiry date, YYMMDD (AI 17).
pub fn parse_expiry(s: &str) -> Result<Expiry, String> {
    Expiry::parse(s).map_err(|e| format!("not an expiry date (YYMMDD): {e}"))
}

/// The serials named by one `--serials` value, already expanded and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialList(pub Vec<Serial>);

/// Parses `--serials`: an inclusive numeric range `A..B` (zero padding kept) or a
/// comma-separated list `S1,S2,…`.
pub fn parse_serials(s: &str) -> Result<SerialList, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("no serials given".into());
    }
    let serials = if !s.contains(',') && s.contains("..") {
        expand_range(s)?
    } else {
        let mut out = Vec::new();
        for (i, part) in s.split(',').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("serial #{} of the list is empty", i + 1));
            }
            out.push(Serial::parse(part).map_err(|e| format!("bad serial {part:?}: {e}"))?);
        }
        out
    };
    check_serials(&serials)?;
    Ok(SerialList(serials))
}

/// Expands `A..B`, both inclusive and numeric. Zero padding: when `A` and `B` have the same
/// length, or `A` has a leading zero, every serial is padded to `A`'s length
/// (`0001..0100` → `0001`, …, `0100`; `1..100` → `1`, …, `100`).
pub fn expand_range(s: &str) -> Result<Vec<Serial>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?} is not a range A..B"))?;
    let (a, b) = (a.trim(), b.trim());
    let numeric = |x: &str| !x.is_empty() && x.len() <= 20 && x.bytes().all(|c| c.is_ascii_digit());
    if !numeric(a) || !numeric(b) {
        return Err(format!(
            "range {s:?}: both ends must be numbers of 1 to 20 digits (for other serials use a list or --serials-file)"
        ));
    }
    let parse = |x: &str| {
        x.parse::<u128>()
            .map_err(|e| format!("range {s:?}: {x}: {e}"))
    };
    let (start, end) = (parse(a)?, parse(b)?);
    if start > end {
        return Err(format!("range {s:?} is reversed: {a} is greater than {b}"));
    }
    let count = end - start + 1;
    if count > MAX_SERIALS as u128 {
        return Err(format!(
            "range {s:?} has {count} serials; at most {MAX_SERIALS} per command"
        ));
    }
    let padded_a = a.len() > 1 && a.starts_with('0');
    let padded_b = b.len() > 1 && b.starts_with('0');
    let width = if a.len() == b.len() || padded_a {
        a.len()
    } else if padded_b {
        return Err(format!(
            "range {s:?}: zero padding is inconsistent (pad the start, e.g. {:0>w$}..{b})",
            a,
            w = b.len()
        ));
    } else {
        0
    };
    (start..=end)
        .map(|n| {
            let text = format!("{n:0width$}");
            Serial::parse(&text).map_err(|e| format!("bad serial {text:?}: {e}"))
        })
        .collect()
}

/// Refuses more than [`MAX_SERIALS`] serials or a serial listed twice.
pub fn check_serials(serials: &[Serial]) -> Result<(), String> {
    if serials.len() > MAX_SERIALS {
        return Err(format!(
            "{} serials; at most {MAX_SERIALS} per command",
            serials.len()
        ));
    }
    let mut seen = HashSet::with_capacity(serials.len());
    for s in serials {
        if !seen.insert(s.as_str()) {
            return Err(format!("serial {s} is listed twice"));
        }
    }
    Ok(())
}

/// Reads serials from a file: one per line; blank lines and lines starting with `#` are
/// skipped. Unreadable files and bad serials are usage errors (exit 2).
pub fn read_serials_file(path: &Path) -> anyhow::Result<Vec<Serial>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read serials file {}: {e}", path.display())))?;
    parse_serials_text(&text)
        .map_err(usage)
        .with_context(|| format!("in serials file {}", path.display()))
}

/// Parses the text of a serials file (see [`read_serials_file`]).
pub fn parse_serials_text(text: &str) -> Result<Vec<Serial>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if out.len() == MAX_SERIALS {
            return Err(format!("more than {MAX_SERIALS} serials"));
        }
        out.push(
            Serial::parse(line).map_err(|e| format!("line {}: bad serial {line:?}: {e}", n + 1))?,
        );
    }
    if out.is_empty() {
        return Err("no serials in the file".into());
    }
    check_serials(&out)?;
    Ok(out)
}

/// Splits `serials` into batches of at most `size` (one transaction each), in order.
pub fn batches(serials: Vec<Serial>, size: usize) -> Vec<Vec<Serial>> {
    let size = size.max(1);
    let mut out = Vec::with_capacity(serials.len().div_ceil(size));
    let mut it = serials.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(size).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[Serial]) -> Vec<&str> {
        v.iter().map(|s| s.as_str()).collect()
    }

    #[test]
    fn range_keeps_zero_padding() {
        let v = expand_range("0001..0100").unwrap();
        assert_eq!(v.len(), 100);
        assert_eq!(v[0].as_str(), "0001");
        assert_eq!(v[9].as_str(), "0010");
        assert_eq!(v[99].as_str(), "0100");
    }

    #[test]
    fn unpadded_range_grows_naturally() {
        let v = expand_range("8..11").unwrap();
        assert_eq!(strs(&v), ["8", "9", "10", "11"]);
        let v = expand_range("098..101").unwrap();
        assert_eq!(strs(&v), ["098", "099", "100", "101"]);
    }

    #[test]
    fn single_element_range() {
        assert_eq!(strs(&expand_range("7..7").unwrap()), ["7"]);
    }

    #[test]
    fn reversed_range_is_refused() {
        let e = expand_range("0100..0001").unwrap_err();
        assert!(e.contains("reversed"), "{e}");
    }

    #[test]
    fn huge_range_is_refused() {
        let e = expand_range("1..1000001").unwrap_err();
        assert!(e.contains("1000001 serials"), "{e}");
        assert_eq!(expand_range("1..1000000").unwrap().len(), MAX_SERIALS);
        assert!(expand_range("0..99999999999999999999").is_err());
    }

    #[test]
    fn non_numeric_and_malformed_ranges_are_refused() {
        for bad in ["A1..A9", "..5", "5..", "1..2..3", "-1..5", "1 .. x"] {
            assert!(expand_range(bad).is_err(), "{bad}");
        }
        assert!(expand_range("1..0100").unwrap_err().contains("padding"));
        assert!(expand_range("123456789012345678901..123456789012345678902").is_err());
    }

    #[test]
    fn serial_lists() {
        let SerialList(v) = parse_serials("A1, B2,C3").unwrap();
        assert_eq!(strs(&v), ["A1", "B2", "C3"]);
        let SerialList(v) = parse_serials("0001..0003").unwrap();
        assert_eq!(strs(&v), ["0001", "0002", "0003"]);
        let SerialList(v) = parse_serials("X9").unwrap();
        assert_eq!(strs(&v), ["X9"]);
        assert!(parse_serials("A1,,B2").unwrap_err().contains("#2"));
        assert!(parse_serials("A1,B2,A1").unwrap_err().contains("twice"));
        assert!(parse_serials("").is_err());
        assert!(parse_serials("123456789012345678901").is_err());
    }

    #[test]
    fn serials_file_text() {
        let v = parse_serials_text("# line serials\nS1\n\n  S2  \nS3\n").unwrap();
        assert_eq!(strs(&v), ["S1", "S2", "S3"]);
        assert!(parse_serials_text("# nothing\n\n").is_err());
        assert!(parse_serials_text("S1\nS1\n")
            .unwrap_err()
            .contains("twice"));
        let e = parse_serials_text("S1\n123456789012345678901\n").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
    }

    #[test]
    fn missing_serials_file_is_a_usage_error() {
        let e = read_serials_file(Path::new("/nonexistent/serials.txt")).unwrap_err();
        assert_eq!(crate::exit::classify(&e), crate::exit::Exit::Usage);
    }

    #[test]
    fn batching() {
        let v = expand_range("1..2500").unwrap();
        let b = batches(v, 1000);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            [1000, 1000, 500]
        );
        assert_eq!(b[1][0].as_str(), "1001");
        assert_eq!(b[2][499].as_str(), "2500");
        assert_eq!(batches(expand_range("1..3").unwrap(), 1000).len(), 1);
        assert_eq!(batches(expand_range("1..4").unwrap(), 2).len(), 2);
        assert_eq!(batches(expand_range("1..3").unwrap(), 1).len(), 3);
        assert!(batches(Vec::new(), 10).is_empty());
    }

    #[test]
    fn item_arguments() {
        let unit = parse_item("(01)09506000134352(21)ABC").unwrap();
        assert!(matches!(unit, ItemId::Sgtin(_)));
        let case = parse_item("(00)106141412345678908").unwrap();
        assert!(matches!(case, ItemId::Sscc(_)));
        let e = parse_item("(01)09506000134353(21)ABC").unwrap_err();
        assert!(e.contains("check digit"), "{e}");
        assert!(parse_item("hello")
            .unwrap_err()
            .starts_with("not a GS1 item"));
        assert!(parse_item("").is_err());
    }

    #[test]
    fn sscc_gln_gtin_arguments() {
        assert!(parse_sscc("106141412345678908").is_ok());
        assert!(parse_sscc("(00)106141412345678908").is_ok());
        assert!(parse_sscc("106141412345678909")
            .unwrap_err()
            .contains("check digit"));
        assert!(parse_sscc("(01)09506000134352(21)ABC")
            .unwrap_err()
            .contains("not a case"));
        assert!(parse_gln("0614141000005").is_ok());
        assert!(parse_gln("0614141000006").is_err());
        assert!(parse_gtin("09506000134352").is_ok());
        assert!(parse_gtin("09506000134353").is_err());
        assert!(parse_lot("L1").is_ok());
        assert!(parse_lot("").is_err());
        assert!(parse_expiry("261231").is_ok());
        assert!(parse_expiry("2026-12-31").is_err());
    }
}
