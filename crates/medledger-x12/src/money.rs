//! Money and decimal numbers as X12 writes them (data type R): an
//! optional leading `-`, digits, an optional decimal point. Amounts become
//! integer cents exactly; no floating point anywhere.

/// Why a string is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing there.
    #[error("empty amount")]
    Empty,
    /// A byte other than digits, one `.` and a leading `-`.
    #[error("not an amount: digits, an optional leading '-' and one optional '.' expected")]
    Invalid,
    /// More than two digits after the decimal point.
    #[error("more than 2 decimal places")]
    TooManyDecimals,
    /// More than 18 digits, or beyond the range of cents in an `i64`.
    #[error("amount too large")]
    TooLarge,
}

/// Parses a decimal amount to integer cents: `"-12.5"` → `-1250`,
/// `"945"` → `94500`, `".5"` → `50`. More than two decimals, a `+`,
/// spaces, exponents or a second `.` are errors.
pub fn parse_cents(s: &[u8]) -> Result<i64, MoneyError> {
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let mut whole: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    let mut seen_dot = false;
    let mut n_digits = 0usize;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                n_digits += 1;
                if n_digits > 18 {
                    return Err(MoneyError::TooLarge);
                }
                let d = i64::from(b - b'0');
                if seen_dot {
                    frac_digits += 1;
                    if frac_digits > 2 {
                        return Err(MoneyError::TooManyDecimals);
                    }
                    frac = frac * 10 + d;
                } else {
                    whole = whole
                        .checked_mul(10)
                        .and_then(|w| w.checked_add(d))
                        .ok_or(MoneyError::TooLarge)?;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return Err(MoneyError::Invalid),
        }
    }
    if n_digits == 0 {
        return Err(MoneyError::Invalid);
    }
    if frac_digits == 1 {
        frac *= 10;
    }
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or(MoneyError::TooLarge)?;
    Ok(if neg { -cents } else { cents })
}

/// Whether `s` is an X12 decimal number (any number of decimals), as
/// used for quantities and units.
pub fn is_decimal(s: &[u8]) -> bool {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let mut dots = 0;
    let mut n = 0;
    for &b in digits {
        match b {
            b'0'..=b'9' => n += 1,
            b'.' => dots += 1,
            _ => return false,
        }
    }
    n > 0 && dots <= 1 && n <= 30
}

/// Formats cents as a decimal amount with two places: `-1250` → `"-12.50"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_cents(b"-12.5"), Ok(-1250));
        assert_eq!(parse_cents(b"945.00"), Ok(94500));
        assert_eq!(parse_cents(b"500"), Ok(50000));
        assert_eq!(parse_cents(b".5"), Ok(50));
        assert_eq!(parse_cents(b"7."), Ok(700));
        assert_eq!(parse_cents(b"-0"), Ok(0));
        assert_eq!(parse_cents(b"0.07"), Ok(7));
        assert_eq!(parse_cents(b""), Err(MoneyError::Empty));
        assert_eq!(parse_cents(b"-"), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b"."), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b"1.234"), Err(MoneyError::TooManyDecimals));
        assert_eq!(parse_cents(b"12.500"), Err(MoneyError::TooManyDecimals));
        assert_eq!(parse_cents(b"1,00"), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b"+1"), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b"1e3"), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b"1.2.3"), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b" 1"), Err(MoneyError::Invalid));
        assert_eq!(parse_cents(b"ABC"), Err(MoneyError::Invalid));
        assert_eq!(
            parse_cents(b"999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            parse_cents(b"9999999999999999"),
            Ok(999_999_999_999_999_900)
        );
        assert_eq!(
            parse_cents(b"1234567890123456789"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(format_cents(-1250), "-12.50");
        assert_eq!(format_cents(7), "0.07");
        assert_eq!(format_cents(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn decimals() {
        assert!(is_decimal(b"1.00"));
        assert!(is_decimal(b"-3.125"));
        assert!(!is_decimal(b"1.0.0"));
        assert!(!is_decimal(b""));
        assert!(!is_decimal(b"x"));
    }
}
