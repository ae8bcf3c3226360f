//! Calendar arithmetic for GS1 dates: days per month, leap years, and the sliding century
//! rule that turns a two-digit year into a four-digit one. No clock: the reference year is
//! a parameter or the crate's fixed [`REFERENCE_YEAR`].

use super::Gs1Error;

/// The year the GS1 sliding-century rule is applied at when no other is given. The crate has
/// no clock (every node must resolve a date the same way forever), so the "current year" of
/// GS1 General Specifications section 7.12 is fixed here: two-digit years 77..99 are read as
/// 1977..1999 and 00..76 as 2000..2076.
pub const REFERENCE_YEAR: u16 = 2026;

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The number of days in `month` (1..=12) of `year`; 0 for a month outside 1..=12.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// GS1 General Specifications 7.12: the four-digit year for two-digit `yy`, seen from
/// `current_year`. If `yy` is 51 or more years ahead of the current two-digit year it is in the
/// previous century; if 50 or more behind, in the next; otherwise in the current century.
pub fn resolve_century(yy: u8, current_year: u16) -> u16 {
    let century = current_year / 100 * 100;
    let diff = i32::from(yy) - i32::from(current_year % 100);
    if diff >= 51 {
        century.saturating_sub(100) + u16::from(yy)
    } else if diff <= -50 {
        century + 100 + u16::from(yy)
    } else {
        century + u16::from(yy)
    }
}

/// Two ASCII digits at `at` of `s` as a number (callers check digits first).
fn two(s: &str, at: usize) -> u8 {
    s.as_bytes().get(at..at + 2).map_or(0, |d| {
        (d[0].wrapping_sub(b'0')) * 10 + d[1].wrapping_sub(b'0')
    })
}

fn digits_only(ai: &str, s: &str, len: usize) -> Result<(), Gs1Error> {
    if let Some(ch) = s.chars().find(|c| !c.is_ascii_digit()) {
        return Err(Gs1Error::NotDigit {
            what: format!("AI {ai}"),
            ch,
        });
    }
    if s.len() != len {
        return Err(Gs1Error::Length {
            what: format!("AI {ai} date"),
            expected: len.to_string(),
            got: s.len(),
        });
    }
    Ok(())
}

/// Checks a month and day of a resolved year; `day_zero_ok` allows day 00 (end of month).
fn check_month_day(
    ai: &str,
    year: u16,
    month: u8,
    day: u8,
    day_zero_ok: bool,
) -> Result<(), Gs1Error> {
    if !(1..=12).contains(&month) {
        return Err(Gs1Error::Month {
            ai: ai.to_string(),
            month: format!("{month:02}"),
        });
    }
    if (day == 0 && !day_zero_ok) || day > days_in_month(year, month) {
        return Err(Gs1Error::Day {
            ai: ai.to_string(),
            day: format!("{day:02}"),
            year,
            month,
        });
    }
    Ok(())
}

/// Validates a YYMMDD date (`yymmd0` when `day_zero_ok`, else `yymmdd`) and returns
/// (year, month, day) with the year resolved at [`REFERENCE_YEAR`].
pub(crate) fn parse_yymmdd(
    ai: &str,
    s: &str,
    day_zero_ok: bool,
) -> Result<(u16, u8, u8), Gs1Error> {
    digits_only(ai, s, 6)?;
    let year = resolve_century(two(s, 0), REFERENCE_YEAR);
    let (month, day) = (two(s, 2), two(s, 4));
    check_month_day(ai, year, month, day, day_zero_ok)?;
    Ok((year, month, day))
}

/// Validates a YYYYMMDD date.
pub(crate) fn parse_yyyymmdd(ai: &str, s: &str) -> Result<(u16, u8, u8), Gs1Error> {
    digits_only(ai, s, 8)?;
    let year = u16::from(two(s, 0)) * 100 + u16::from(two(s, 2));
    let (month, day) = (two(s, 4), two(s, 6));
    check_month_day(ai, year, month, day, false)?;
    Ok((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_century() {
        assert_eq!(resolve_century(27, 2026), 2027);
        assert_eq!(resolve_century(76, 2026), 2076);
        assert_eq!(resolve_century(77, 2026), 1977);
        assert_eq!(resolve_century(99, 2026), 1999);
        assert_eq!(resolve_century(0, 2026), 2000);
        // Near the end of a century the window moves into the next one.
        assert_eq!(resolve_century(10, 2095), 2110);
        assert_eq!(resolve_century(46, 2095), 2046);
        assert_eq!(resolve_century(45, 2095), 2145);
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000) && is_leap_year(2028));
        assert!(!is_leap_year(2100) && !is_leap_year(2027));
        assert_eq!(days_in_month(2028, 2), 29);
        assert_eq!(days_in_month(2027, 2), 28);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_yymmdd("17", "280200", true).unwrap(), (2028, 2, 0));
        assert_eq!(
            parse_yymmdd("11", "280200", false).unwrap_err().to_string(),
            "AI 11: day 00 does not exist in 2028-02"
        );
        assert_eq!(
            parse_yymmdd("17", "271301", true).unwrap_err().to_string(),
            "AI 17: month 13"
        );
        assert_eq!(parse_yyyymmdd("7250", "20000229").unwrap(), (2000, 2, 29));
        assert!(parse_yyyymmdd("7250", "19000229").is_err());
    }
}
