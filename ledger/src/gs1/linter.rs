//! `Linter`: the content checks the GS1 syntax dictionary attaches to AI components
//! (`csum`, `yymmd0`, `iso3166`, ...), each implemented here without outside tables except
//! the ISO code lists in `iso_codes`.
//!
//! Limits: `gcppos1`/`gcppos2` check that the GS1 Company Prefix position holds at least four
//! digits (the shortest GCP) — whether that prefix is actually allocated needs GS1's GCP
//! length table, which is out of scope. `packagetype` checks the shape of a UN/ECE
//! Recommendation 21 code (one to three upper-case letters or digits), not the code list.

use super::calendar::{parse_yymmdd, parse_yyyymmdd};
use super::charset::{CSET32, CSET82};
use super::check_digit::verify_check_digit;
use super::iso_codes::{ISO3166_ALPHA2, ISO3166_NUMERIC, ISO4217_NUMERIC};
use super::Gs1Error;

/// A content check on one component of an AI value; names as in the syntax dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Linter {
    /// `csum`: GS1 mod-10 check digit in the last position.
    Csum,
    /// `csumalpha`: alphanumeric check character pair in the last two positions.
    CsumAlpha,
    /// `gcppos1`: a GS1 Company Prefix starts at the first position.
    GcpPos1,
    /// `gcppos2`: a GS1 Company Prefix starts at the second position.
    GcpPos2,
    /// `yymmd0`: date YYMMDD, day 00 allowed (end of month).
    Yymmd0,
    /// `yymmdd`: date YYMMDD.
    Yymmdd,
    /// `yyyymmdd`: date YYYYMMDD.
    Yyyymmdd,
    /// `hhmi`: time HHMM.
    Hhmi,
    /// `hh`: hour 00-23.
    Hh,
    /// `mi`: minute 00-59.
    Mi,
    /// `ss`: second 00-59.
    Ss,
    /// `iso3166`: ISO 3166-1 numeric country code.
    Iso3166,
    /// `iso3166999`: ISO 3166-1 numeric country code or 999.
    Iso3166999,
    /// `iso3166alpha2`: ISO 3166-1 alpha-2 country code.
    Iso3166Alpha2,
    /// `iso4217`: ISO 4217 numeric currency code.
    Iso4217,
    /// `iban`: International Bank Account Number (country, mod-97 check).
    Iban,
    /// `pcenc`: every `%` starts a two-hex-digit escape.
    PcEnc,
    /// `nonzero`: not all zeros.
    NonZero,
    /// `zero`: exactly "0".
    Zero,
    /// `winding`: winding direction 0, 1 or 9.
    Winding,
    /// `pieceoftotal`: NNMM with 1 <= piece NN <= total MM.
    PieceOfTotal,
    /// `yesno`: 0 or 1.
    YesNo,
    /// `latitude`: 0..=1800000000 (tenths of micro-degrees offset by 90).
    Latitude,
    /// `longitude`: 0..=3600000000 (offset by 180).
    Longitude,
    /// `hyphen`: exactly "-".
    Hyphen,
    /// `importeridx`: one of `-`, `_`, 0-9, A-Z, a-z.
    ImporterIdx,
    /// `packagetype`: a package type code (shape only, see the module docs).
    PackageType,
    /// `mediatype`: AIDC media type 01-10 or 80-99.
    MediaType,
    /// `iso5218`: biological sex 0, 1, 2 or 9.
    Iso5218,
    /// `posinseqslash`: "position/total", e.g. "1/2".
    PosInSeqSlash,
    /// `nozeroprefix`: no leading zero (except "0" itself).
    NoZeroPrefix,
    /// `hasnondigit`: at least one non-digit.
    HasNonDigit,
    /// `couponcode`: North American coupon code structure (AI 8110).
    CouponCode,
    /// `couponposoffer`: positive offer file coupon structure (AI 8112).
    CouponPosOffer,
}

/// Every linter with its dictionary name.
const NAMES: &[(Linter, &str)] = &[
    (Linter::Csum, "csum"),
    (Linter::CsumAlpha, "csumalpha"),
    (Linter::GcpPos1, "gcppos1"),
    (Linter::GcpPos2, "gcppos2"),
    (Linter::Yymmd0, "yymmd0"),
    (Linter::Yymmdd, "yymmdd"),
    (Linter::Yyyymmdd, "yyyymmdd"),
    (Linter::Hhmi, "hhmi"),
    (Linter::Hh, "hh"),
    (Linter::Mi, "mi"),
    (Linter::Ss, "ss"),
    (Linter::Iso3166, "iso3166"),
    (Linter::Iso3166999, "iso3166999"),
    (Linter::Iso3166Alpha2, "iso3166alpha2"),
    (Linter::Iso4217, "iso4217"),
    (Linter::Iban, "iban"),
    (Linter::PcEnc, "pcenc"),
    (Linter::NonZero, "nonzero"),
    (Linter::Zero, "zero"),
    (Linter::Winding, "winding"),
    (Linter::PieceOfTotal, "pieceoftotal"),
    (Linter::YesNo, "yesno"),
    (Linter::Latitude, "latitude"),
    (Linter::Longitude, "longitude"),
    (Linter::Hyphen, "hyphen"),
    (Linter::ImporterIdx, "importeridx"),
    (Linter::PackageType, "packagetype"),
    (Linter::MediaType, "mediatype"),
    (Linter::Iso5218, "iso5218"),
    (Linter::PosInSeqSlash, "posinseqslash"),
    (Linter::NoZeroPrefix, "nozeroprefix"),
    (Linter::HasNonDigit, "hasnondigit"),
    (Linter::CouponCode, "couponcode"),
    (Linter::CouponPosOffer, "couponposoffer"),
];

/// The shortest GS1 Company Prefix.
const GCP_MIN_LENGTH: usize = 4;

impl Linter {
    /// The name the syntax dictionary uses.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(l, _)| *l == self)
            .map_or("", |(_, name)| name)
    }

    /// The linter with a dictionary name.
    pub fn from_name(name: &str) -> Option<Linter> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(l, _)| *l)
    }

    /// Every linter.
    pub fn all() -> impl Iterator<Item = Linter> {
        NAMES.iter().map(|(l, _)| *l)
    }

    /// Checks one component `part` of the value of `ai`. The component has already passed
    /// its character-set check, so it is ASCII.
    pub fn check(self, ai: &str, part: &str) -> Result<(), Gs1Error> {
        let fail = |message: String| {
            Err(Gs1Error::Lint {
                ai: ai.to_string(),
                message,
            })
        };
        match self {
            Linter::Csum => verify_check_digit(&format!("AI {ai}"), part),
            Linter::CsumAlpha => match check_pair(part) {
                Some(pair) if part.ends_with(&pair) => Ok(()),
                Some(pair) => fail(format!(
                    "check character pair should be {pair}, got {}",
                    part.get(part.len() - 2..).unwrap_or(part)
                )),
                None => fail(format!("\"{part}\" has no valid check character pair")),
            },
            Linter::GcpPos1 | Linter::GcpPos2 => {
                let start = if self == Linter::GcpPos1 { 0 } else { 1 };
                let gcp = part.get(start..start + GCP_MIN_LENGTH);
                if gcp.is_some_and(|g| g.bytes().all(|b| b.is_ascii_digit())) {
                    Ok(())
                } else {
                    fail(format!(
                        "\"{part}\" must hold a GS1 Company Prefix of at least {GCP_MIN_LENGTH} digits from position {}",
                        start + 1
                    ))
                }
            }
            Linter::Yymmd0 => parse_yymmdd(ai, part, true).map(drop),
            Linter::Yymmdd => parse_yymmdd(ai, part, false).map(drop),
            Linter::Yyyymmdd => parse_yyyymmdd(ai, part).map(drop),
            Linter::Hhmi => {
                let (hh, mi) = (number(part.get(0..2)), number(part.get(2..4)));
                match (hh, mi) {
                    (Some(h), Some(m)) if part.len() == 4 && h <= 23 && m <= 59 => Ok(()),
                    _ => fail(format!("time {part} is not a valid HHMM")),
                }
            }
            Linter::Hh => range(part, 0, 23, "hour", fail),
            Linter::Mi => range(part, 0, 59, "minute", fail),
            Linter::Ss => range(part, 0, 59, "second", fail),
            Linter::Iso3166 => in_list(
                part,
                ISO3166_NUMERIC,
                "an ISO 3166 numeric country code",
                fail,
            ),
            Linter::Iso3166999 if part == "999" => Ok(()),
            Linter::Iso3166999 => in_list(
                part,
                ISO3166_NUMERIC,
                "an ISO 3166 numeric country code or 999",
                fail,
            ),
            Linter::Iso3166Alpha2 => in_list(
                part,
                ISO3166_ALPHA2,
                "an ISO 3166 alpha-2 country code",
                fail,
            ),
            Linter::Iso4217 => in_list(
                part,
                ISO4217_NUMERIC,
                "an ISO 4217 numeric currency code",
                fail,
            ),
            Linter::Iban => check_iban(part).or_else(fail),
            Linter::PcEnc => {
                let bytes = part.as_bytes();
                let bad = bytes.iter().enumerate().any(|(i, &b)| {
                    b == b'%'
                        && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                });
                if bad {
                    fail(format!(
                        "\"{part}\" has a '%' that is not followed by two hex digits"
                    ))
                } else {
                    Ok(())
                }
            }
            Linter::NonZero if part.bytes().all(|b| b == b'0') => {
                fail(format!("{part} must not be zero"))
            }
            Linter::Zero if part != "0" => fail(format!("{part} must be 0")),
            Linter::Winding if !matches!(part, "0" | "1" | "9") => {
                fail(format!("winding direction {part} must be 0, 1 or 9"))
            }
            Linter::PieceOfTotal => {
                let (piece, total) = (number(part.get(0..2)), number(part.get(2..4)));
                match (piece, total) {
                    (Some(p), Some(t)) if part.len() == 4 && p >= 1 && p <= t => Ok(()),
                    _ => fail(format!(
                        "piece of total {part} must be NNMM with 1 <= NN <= MM"
                    )),
                }
            }
            Linter::YesNo if !matches!(part, "0" | "1") => fail(format!("{part} must be 0 or 1")),
            Linter::Latitude => max_number(part, 1_800_000_000, "latitude", fail),
            Linter::Longitude => max_number(part, 3_600_000_000, "longitude", fail),
            Linter::Hyphen if part != "-" => fail(format!("'{part}' must be '-'")),
            Linter::ImporterIdx
                if !(part.len() == 1
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')) =>
            {
                fail(format!(
                    "importer index '{part}' must be one of -, _, 0-9, A-Z, a-z"
                ))
            }
            Linter::PackageType
                if !((1..=3).contains(&part.len())
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())) =>
            {
                fail(format!("package type {part} is not a package type code"))
            }
            Linter::MediaType => match number(Some(part)) {
                Some(1..=10 | 80..=99) if part.len() == 2 => Ok(()),
                _ => fail(format!("media type {part} is not assigned")),
            },
            Linter::Iso5218 if !matches!(part, "0" | "1" | "2" | "9") => {
                fail(format!("sex code {part} must be 0, 1, 2 or 9"))
            }
            Linter::PosInSeqSlash => {
                let ok = part.split_once('/').is_some_and(|(pos, total)| {
                    let p = positive_no_leading_zero(pos);
                    let t = positive_no_leading_zero(total);
                    matches!((p, t), (Some(p), Some(t)) if p <= t)
                });
                if ok {
                    Ok(())
                } else {
                    fail(format!(
                        "\"{part}\" must be position/total with 1 <= position <= total"
                    ))
                }
            }
            Linter::NoZeroPrefix if part.len() > 1 && part.starts_with('0') => {
                fail(format!("{part} must not start with 0"))
            }
            Linter::HasNonDigit if part.bytes().all(|b| b.is_ascii_digit()) => {
                fail(format!("{part} must contain a non-digit"))
            }
            Linter::CouponCode => check_coupon_code(part).or_else(fail),
            Linter::CouponPosOffer => check_coupon_pos_offer(part).or_else(fail),
            _ => Ok(()),
        }
    }
}

/// The value of up to ten ASCII digits, or `None` for anything else.
fn number(s: Option<&str>) -> Option<u64> {
    let s = s?;
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn positive_no_leading_zero(s: &str) -> Option<u64> {
    number(Some(s)).filter(|&n| n >= 1 && !s.starts_with('0'))
}

fn range(
    part: &str,
    min: u64,
    max: u64,
    what: &str,
    fail: impl Fn(String) -> Result<(), Gs1Error>,
) -> Result<(), Gs1Error> {
    match number(Some(part)) {
        Some(n) if part.len() == 2 && (min..=max).contains(&n) => Ok(()),
        _ => fail(format!("{what} {part}")),
    }
}

fn max_number(
    part: &str,
    max: u64,
    what: &str,
    fail: impl Fn(String) -> Result<(), Gs1Error>,
) -> Result<(), Gs1Error> {
    match number(Some(part)) {
        Some(n) if n <= max => Ok(()),
        _ => fail(format!("{what} {part} is out of range (at most {max})")),
    }
}

fn in_list(
    part: &str,
    list: &[&str],
    what: &str,
    fail: impl Fn(String) -> Result<(), Gs1Error>,
) -> Result<(), Gs1Error> {
    if list.binary_search(&part).is_ok() {
        Ok(())
    } else {
        fail(format!("{part} is not {what}"))
    }
}

/// The alphanumeric check character pair for the data in front of the last two characters of
/// `value`, or `None` when `value` is too short, too long or not CSET 82.
pub(crate) fn check_pair(value: &str) -> Option<String> {
    // Prime weights, applied from the right of the data.
    const PRIMES: [u32; 97] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181,
        191, 193, 197, 199, 211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281,
        283, 293, 307, 311, 313, 317, 331, 337, 347, 349, 353, 359, 367, 373, 379, 383, 389, 397,
        401, 409, 419, 421, 431, 433, 439, 443, 449, 457, 461, 463, 467, 479, 487, 491, 499, 503,
        509,
    ];
    let data = value.get(..value.len().checked_sub(2)?)?;
    if data.len() > PRIMES.len() {
        return None;
    }
    let mut sum = 0u32;
    for (ch, weight) in data.chars().rev().zip(PRIMES) {
        let index = u32::try_from(CSET82.find(ch)?).ok()?;
        sum += index * weight;
    }
    sum %= 1021;
    let cset32 = CSET32.as_bytes();
    let hi = *cset32.get(usize::try_from(sum >> 5).ok()?)?;
    let lo = *cset32.get(usize::try_from(sum & 31).ok()?)?;
    Some([char::from(hi), char::from(lo)].iter().collect())
}

fn check_iban(part: &str) -> Result<(), String> {
    if !(5..=34).contains(&part.len()) {
        return Err(format!("IBAN {part} must have 5 to 34 characters"));
    }
    if let Some(ch) = part
        .chars()
        .find(|c| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
    {
        return Err(format!("IBAN character '{ch}' is not 0-9 or A-Z"));
    }
    let country = part.get(0..2).unwrap_or_default();
    if ISO3166_ALPHA2.binary_search(&country).is_err() {
        return Err(format!(
            "IBAN country {country} is not an ISO 3166 alpha-2 code"
        ));
    }
    if !part
        .get(2..4)
        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "IBAN {part} must have two check digits after the country"
        ));
    }
    // Mod 97 over the rearranged IBAN, letters as 10..35.
    let rearranged = part.chars().skip(4).chain(part.chars().take(4));
    let remainder = rearranged.fold(0u32, |acc, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    });
    if remainder == 1 {
        Ok(())
    } else {
        Err(format!("IBAN {part} fails its mod-97 check"))
    }
}

/// A cursor over an all-digit coupon value.
struct Digits<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Digits<'a> {
    fn digit(&mut self, field: &str) -> Result<u8, String> {
        let (&d, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| format!("{} is missing its {field}", self.what))?;
        self.rest = rest;
        Ok(d - b'0')
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("{} has a truncated {field}", self.what));
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn vli(
        &mut self,
        field: &str,
        allowed: std::ops::RangeInclusive<u8>,
        plus: usize,
    ) -> Result<(), String> {
        let v = self.digit(&format!("{field} length"))?;
        if !allowed.contains(&v) {
            return Err(format!(
                "{} has an invalid {field} length indicator {v}",
                self.what
            ));
        }
        self.take(usize::from(v) + plus, field).map(drop)
    }

    fn code(&mut self, field: &str, ok: impl Fn(u8) -> bool) -> Result<u8, String> {
        let v = self.digit(field)?;
        if ok(v) {
            Ok(v)
        } else {
            Err(format!("{} has an invalid {field} {v}", self.what))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().map(|d| d - b'0')
    }

    fn date(&mut self, field: &str) -> Result<&'a [u8], String> {
        let date = self.take(6, field)?;
        let text = std::str::from_utf8(date).unwrap_or_default();
        parse_yymmdd("8110", text, false)
            .map_err(|_| format!("{} has an invalid {field} {text}", self.what))?;
        Ok(date)
    }

    fn gcp(&mut self, field: &str, len: usize) -> Result<(), String> {
        let gcp = self.take(len, field)?;
        if gcp.len() < GCP_MIN_LENGTH {
            return Err(format!(
                "{} has a {field} shorter than a GS1 Company Prefix",
                self.what
            ));
        }
        Ok(())
    }
}

fn all_digits<'a>(part: &'a str, what: &'static str) -> Result<Digits<'a>, String> {
    if let Some(ch) = part.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!("{what} character '{ch}' is not a digit"));
    }
    Ok(Digits {
        rest: part.as_bytes(),
        what,
    })
}

/// North American Coupon Code (AI 8110): mandatory GCP, offer code, save value and first
/// purchase requirement, then optional fields 1-6 and 9 in order.
fn check_coupon_code(part: &str) -> Result<(), String> {
    let mut d = all_digits(part, "coupon code")?;
    let gcp_vli = d.code("GCP length indicator", |v| v <= 6)?;
    d.gcp("GCP", usize::from(gcp_vli) + 6)?;
    d.take(6, "offer code")?;
    d.vli("save value", 1..=5, 0)?;
    d.vli("1st purchase requirement", 1..=5, 0)?;
    d.code("1st purchase requirement code", |v| v <= 4 || v == 9)?;
    d.take(3, "1st purchase family code")?;
    if d.peek() == Some(1) {
        d.digit("field")?;
        d.code("additional purchase rules code", |v| v <= 3)?;
        d.vli("2nd purchase requirement", 1..=5, 0)?;
        d.code("2nd purchase requirement code", |v| v <= 4 || v == 9)?;
        d.take(3, "2nd purchase family code")?;
        let v = d.code("2nd purchase GCP length indicator", |v| v <= 6 || v == 9)?;
        if v != 9 {
            d.gcp("2nd purchase GCP", usize::from(v) + 6)?;
        }
    }
    if d.peek() == Some(2) {
        d.digit("field")?;
        d.vli("3rd purchase requirement", 1..=5, 0)?;
        d.code("3rd purchase requirement code", |v| v <= 4 || v == 9)?;
        d.take(3, "3rd purchase family code")?;
        let v = d.code("3rd purchase GCP length indicator", |v| v <= 6 || v == 9)?;
        if v != 9 {
            d.gcp("3rd purchase GCP", usize::from(v) + 6)?;
        }
    }
    let mut expiry = None;
    if d.peek() == Some(3) {
        d.digit("field")?;
        expiry = Some(d.date("expiration date")?);
    }
    if d.peek() == Some(4) {
        d.digit("field")?;
        let start = d.date("start date")?;
        if expiry.is_some_and(|e| start > e) {
            return Err("coupon code expires before it starts".to_string());
        }
    }
    if d.peek() == Some(5) {
        d.digit("field")?;
        d.vli("serial number", 0..=9, 6)?;
    }
    if d.peek() == Some(6) {
        d.digit("field")?;
        let v = d.code("retailer GCP/GLN length indicator", |v| {
            (1..=7).contains(&v)
        })?;
        d.gcp("retailer GCP/GLN", usize::from(v) + 6)?;
    }
    if d.peek() == Some(9) {
        d.digit("field")?;
        d.code("save value code", |v| matches!(v, 0 | 1 | 2 | 5 | 6))?;
        d.code("save value applies to item", |v| v <= 2)?;
        d.digit("store coupon flag")?;
        d.code("don't multiply flag", |v| v <= 1)?;
    }
    if d.rest.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "coupon code has {} unexpected trailing digits",
            d.rest.len()
        ))
    }
}

/// Positive offer file coupon (AI 8112): format code, funder ID, offer code, serial number.
fn check_coupon_pos_offer(part: &str) -> Result<(), String> {
    let mut d = all_digits(part, "coupon")?;
    d.code("format code", |v| v <= 1)?;
    let funder = d.code("funder ID length indicator", |v| v <= 6)?;
    d.take(usize::from(funder) + 6, "funder ID")?;
    d.take(6, "offer code")?;
    d.vli("serial number", 0..=9, 6)?;
    if d.rest.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "coupon has {} unexpected trailing digits",
            d.rest.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(l: Linter, s: &str) -> bool {
        l.check("99", s).is_ok()
    }

    #[test]
    fn names_round_trip() {
        for l in Linter::all() {
            assert_eq!(Linter::from_name(l.name()), Some(l));
        }
        assert_eq!(Linter::from_name("nope"), None);
    }

    #[test]
    fn csumalpha_reference_values() {
        assert!(ok(Linter::CsumAlpha, "1987654Ad4X4bL5ttr2310c2K"));
        assert!(ok(Linter::CsumAlpha, "12345678901234567890123NT"));
        assert!(ok(Linter::CsumAlpha, "12345_!\"%&'()*+,-./LC"));
        assert!(ok(Linter::CsumAlpha, "22"));
        assert!(!ok(Linter::CsumAlpha, "1987654Ad4X4bL5ttr2310cXK"));
        assert!(!ok(Linter::CsumAlpha, "2"));
    }

    #[test]
    fn simple_linters() {
        assert!(ok(Linter::Csum, "09506000134352") && !ok(Linter::Csum, "09506000134353"));
        assert!(ok(Linter::GcpPos2, "09506000134352") && !ok(Linter::GcpPos1, "ABC12345"));
        assert!(ok(Linter::GcpPos1, "1234ABC") && !ok(Linter::GcpPos1, "123"));
        assert!(ok(Linter::Hhmi, "2359") && !ok(Linter::Hhmi, "2400") && !ok(Linter::Hhmi, "1260"));
        assert!(ok(Linter::Hh, "23") && !ok(Linter::Hh, "24"));
        assert!(ok(Linter::Mi, "59") && !ok(Linter::Ss, "60"));
        assert!(ok(Linter::Iso3166, "276") && !ok(Linter::Iso3166, "999"));
        assert!(ok(Linter::Iso3166999, "999") && ok(Linter::Iso3166999, "840"));
        assert!(ok(Linter::Iso3166Alpha2, "DE") && !ok(Linter::Iso3166Alpha2, "XX"));
        assert!(ok(Linter::Iso4217, "978") && !ok(Linter::Iso4217, "000"));
        assert!(ok(Linter::Iban, "GB82WEST12345698765432"));
        assert!(!ok(Linter::Iban, "GB82WEST12345698765433"));
        assert!(!ok(Linter::Iban, "XX82WEST12345698765432"));
        assert!(
            ok(Linter::PcEnc, "a%20b") && !ok(Linter::PcEnc, "a%2") && !ok(Linter::PcEnc, "%G0")
        );
        assert!(ok(Linter::NonZero, "0010") && !ok(Linter::NonZero, "0000"));
        assert!(ok(Linter::Zero, "0") && !ok(Linter::Zero, "1"));
        assert!(ok(Linter::Winding, "9") && !ok(Linter::Winding, "2"));
        assert!(ok(Linter::PieceOfTotal, "0102") && !ok(Linter::PieceOfTotal, "0302"));
        assert!(!ok(Linter::PieceOfTotal, "0000"));
        assert!(ok(Linter::YesNo, "1") && !ok(Linter::YesNo, "2"));
        assert!(ok(Linter::Latitude, "1800000000") && !ok(Linter::Latitude, "1800000001"));
        assert!(ok(Linter::Longitude, "3600000000") && !ok(Linter::Longitude, "3600000001"));
        assert!(ok(Linter::Hyphen, "-") && !ok(Linter::Hyphen, "+"));
        assert!(ok(Linter::ImporterIdx, "_") && !ok(Linter::ImporterIdx, "!"));
        assert!(ok(Linter::PackageType, "PX") && !ok(Linter::PackageType, "px"));
        assert!(ok(Linter::MediaType, "10") && ok(Linter::MediaType, "80"));
        assert!(!ok(Linter::MediaType, "00") && !ok(Linter::MediaType, "11"));
        assert!(ok(Linter::Iso5218, "9") && !ok(Linter::Iso5218, "3"));
        assert!(ok(Linter::PosInSeqSlash, "1/2") && !ok(Linter::PosInSeqSlash, "3/2"));
        assert!(!ok(Linter::PosInSeqSlash, "0/2") && !ok(Linter::PosInSeqSlash, "12/"));
        assert!(ok(Linter::NoZeroPrefix, "0") && !ok(Linter::NoZeroPrefix, "01"));
        assert!(ok(Linter::HasNonDigit, "12A") && !ok(Linter::HasNonDigit, "123"));
    }

    #[test]
    fn coupons() {
        assert!(ok(Linter::CouponCode, "012345612345611110123"));
        assert!(!ok(Linter::CouponCode, "0123456123456"));
        assert!(!ok(Linter::CouponCode, "71234567890123"));
        assert!(ok(Linter::CouponPosOffer, "001234561234560123456"));
        assert!(ok(
            Linter::CouponPosOffer,
            "061234567890121234569123456789012345"
        ));
        assert!(!ok(Linter::CouponPosOffer, "0012345612345601234567"));
        assert!(!ok(Linter::CouponPosOffer, "201234561234560123456"));
    }

    #[test]
    fn date_messages() {
        assert_eq!(
            Linter::Yymmd0
                .check("17", "271301")
                .unwrap_err()
                .to_string(),
            "AI 17: month 13"
        );
        assert!(Linter::Yymmdd.check("7006", "270300").is_err());
        assert!(Linter::Yyyymmdd.check("7250", "20240229").is_ok());
    }
}
