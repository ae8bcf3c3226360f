//! `Expiry`: a use-by / expiry date (AI 17, YYMMDD, day 00 = last day of the month).

use std::cmp::Ordering;
use std::fmt;

use super::calendar::{days_in_month, parse_yymmdd, resolve_century};
use super::Gs1Error;

/// An AI 17 date. Keeps the text as written ("270300") and the resolved date.
///
/// The century comes from the GS1 sliding-century rule applied at the crate's fixed
/// [`REFERENCE_YEAR`](super::calendar::REFERENCE_YEAR) (the crate has no clock, and every
/// node must read a date the same way); [`Expiry::year_at`] applies it at another year.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expiry {
    text: String,
    year: u16,
    month: u8,
    day: u8,
}

impl Expiry {
    /// Parses YYMMDD; day `00` means the last day of the month.
    pub fn parse(text: &str) -> Result<Expiry, Gs1Error> {
        let (year, month, day) = parse_yymmdd("17", text, true)?;
        Ok(Expiry {
            text: text.to_string(),
            year,
            month,
            day,
        })
    }

    /// The six digits as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The four-digit year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The four-digit year by the sliding-century rule seen from `current_year`.
    pub fn year_at(&self, current_year: u16) -> u16 {
        resolve_century((self.year % 100) as u8, current_year)
    }

    /// The month, 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day as written: 0 means "end of month".
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The last day of the expiry month (28..=31).
    pub fn last_day(&self) -> u8 {
        days_in_month(self.year, self.month)
    }

    /// The day the item expires on: the written day, or the month's last day for `00`.
    pub fn resolved_day(&self) -> u8 {
        if self.day == 0 {
            self.last_day()
        } else {
            self.day
        }
    }

    /// The resolved date as ISO 8601, e.g. "2027-03-31" for "270300".
    pub fn to_iso_date(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.year,
            self.month,
            self.resolved_day()
        )
    }

    fn sort_key(&self) -> (u16, u8, u8, &str) {
        (self.year, self.month, self.resolved_day(), &self.text)
    }
}

impl Ord for Expiry {
    /// Chronological by resolved date; "270300" and "270331" (same day) by their text.
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Expiry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

crate::gs1::string_serde!(Expiry);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_month() {
        let e = Expiry::parse("270300").unwrap();
        assert_eq!(e.as_str(), "270300");
        assert_eq!((e.year(), e.month(), e.day()), (2027, 3, 0));
        assert_eq!(e.to_iso_date(), "2027-03-31");
        assert_eq!(Expiry::parse("270200").unwrap().to_iso_date(), "2027-02-28");
        assert_eq!(Expiry::parse("280200").unwrap().to_iso_date(), "2028-02-29");
        assert_eq!(Expiry::parse("000200").unwrap().to_iso_date(), "2000-02-29");
        assert_eq!(Expiry::parse("270430").unwrap().to_iso_date(), "2027-04-30");
    }

    #[test]
    fn errors() {
        assert_eq!(
            Expiry::parse("271301").unwrap_err().to_string(),
            "AI 17: month 13"
        );
        assert_eq!(
            Expiry::parse("270001").unwrap_err().to_string(),
            "AI 17: month 00"
        );
        assert_eq!(
            Expiry::parse("270231").unwrap_err().to_string(),
            "AI 17: day 31 does not exist in 2027-02"
        );
        assert_eq!(
            Expiry::parse("270229").unwrap_err().to_string(),
            "AI 17: day 29 does not exist in 2027-02"
        );
        assert!(Expiry::parse("280229").is_ok());
        assert!(Expiry::parse("27033").is_err());
        assert!(Expiry::parse("2703a1").is_err());
    }

    #[test]
    fn century_and_order() {
        assert_eq!(Expiry::parse("990101").unwrap().year(), 1999);
        assert_eq!(Expiry::parse("990101").unwrap().year_at(2080), 2099);
        let a = Expiry::parse("270300").unwrap();
        let b = Expiry::parse("270331").unwrap();
        let c = Expiry::parse("270401").unwrap();
        assert!(a < c && b < c && a != b);
    }
}
