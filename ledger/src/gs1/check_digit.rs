//! The GS1 mod-10 check digit shared by every numeric key (GTIN, SSCC, GLN, GRAI, GSRN, ...).

use super::Gs1Error;

/// GS1 mod-10 check digit of `digits` (the data without its check digit): from the right,
/// weights 3, 1, 3, 1, ...; the check digit brings the sum to a multiple of ten.
/// Non-digit characters count as zero; callers validate digits first.
pub fn check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                0
            };
            if i % 2 == 0 {
                d * 3
            } else {
                d
            }
        })
        .sum();
    // `sum % 10` is below 10, so the result fits a u8.
    ((10 - sum % 10) % 10) as u8
}

/// Checks that `value` is all digits, has one of `lengths`, and ends in its check digit.
/// `what` names the key in errors ("GTIN", "AI 414").
pub(crate) fn verify_key(what: &str, value: &str, lengths: &[usize]) -> Result<(), Gs1Error> {
    if let Some(ch) = value.chars().find(|c| !c.is_ascii_digit()) {
        return Err(Gs1Error::NotDigit {
            what: what.to_string(),
            ch,
        });
    }
    if !lengths.contains(&value.len()) {
        return Err(Gs1Error::Length {
            what: what.to_string(),
            expected: list_in_words(lengths),
            got: value.len(),
        });
    }
    verify_check_digit(what, value)
}

/// Checks the last digit of the all-digit `value` against the check digit of the rest.
pub(crate) fn verify_check_digit(what: &str, value: &str) -> Result<(), Gs1Error> {
    // Split before the last character, not the last byte: a linter may be handed any text,
    // and a multi-byte last character must be an error, not a panic.
    let Some((body, last)) = value
        .char_indices()
        .next_back()
        .map(|(n, _)| value.split_at(n))
    else {
        return Err(Gs1Error::Length {
            what: what.to_string(),
            expected: "at least 1".to_string(),
            got: 0,
        });
    };
    let expected = check_digit(body);
    if last != expected.to_string() {
        return Err(Gs1Error::CheckDigit {
            what: what.to_string(),
            expected: expected.to_string(),
            got: last.to_string(),
        });
    }
    Ok(())
}

/// "14", "13 or 14", "8, 12, 13 or 14".
fn list_in_words(lengths: &[usize]) -> String {
    let words: Vec<String> = lengths.iter().map(ToString::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_check_digits() {
        // GTIN 09506000134352: check digit 2.
        assert_eq!(check_digit("0950600013435"), 2);
        // GS1 General Specifications example SSCC 106141411234567897.
        assert_eq!(check_digit("10614141123456789"), 7);
        // GLN 0614141000005? computed by hand: weights 3/1 from the right.
        assert_eq!(check_digit("061414100000"), 5);
        assert_eq!(check_digit(""), 0);
    }

    #[test]
    fn wrong_check_digit_message() {
        let err = verify_key("GTIN", "09506000134355", &[14]).unwrap_err();
        assert_eq!(err.to_string(), "GTIN check digit should be 2, got 5");
    }

    #[test]
    fn length_message() {
        let err = verify_key("GTIN", "123", &[8, 12, 13, 14]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "GTIN: expected 8, 12, 13 or 14 characters, got 3"
        );
    }
}
