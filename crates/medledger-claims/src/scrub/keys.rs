//! Allocation-free keys for the hot path: codes packed into integers and
//! dates as day numbers.

use jiff::civil::Date;

/// A code of up to eight ASCII characters packed big-endian into a `u64`
/// (first character in the top byte, zero padded), so that packed keys of
/// codes compare like the codes and a code prefix is a contiguous range.
/// Dots are skipped (`E11.9` packs as `E119`). Returns 0 for an empty,
/// longer or non-ASCII-alphanumeric code.
#[inline]
pub(crate) fn pack(code: &str) -> u64 {
    let mut v = 0u64;
    let mut n = 0u32;
    for &c in code.as_bytes() {
        if c == b'.' {
            continue;
        }
        if !c.is_ascii_alphanumeric() || n == 8 {
            return 0;
        }
        v |= u64::from(c.to_ascii_uppercase()) << (56 - 8 * n);
        n += 1;
    }
    v
}

/// The number of characters a packed key holds.
pub(crate) fn packed_len(k: u64) -> u32 {
    8 - k.trailing_zeros() / 8
}

/// The packed range of every code that starts with `prefix` (itself included).
pub(crate) fn prefix_range(prefix: &str) -> Option<(u64, u64)> {
    let lo = pack(prefix);
    if lo == 0 {
        return None;
    }
    let used = packed_len(lo) * 8;
    let hi = if used >= 64 {
        lo
    } else {
        lo | (u64::MAX >> used)
    };
    Some((lo, hi))
}

/// A five-character CPT/HCPCS code in 32 bits (base 37; 0 is "no code").
#[inline]
pub(crate) fn code32(code: &str) -> u32 {
    let b = code.as_bytes();
    if b.len() != 5 {
        return 0;
    }
    let mut v = 0u32;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0' + 1,
            b'A'..=b'Z' => c - b'A' + 11,
            b'a'..=b'z' => c - b'a' + 11,
            _ => return 0,
        };
        v = v * 37 + u32::from(d);
    }
    v
}

/// The code a `code32` value stands for.
pub(crate) fn unpack32(mut v: u32) -> String {
    let mut out = [b' '; 5];
    for i in (0..5).rev() {
        let d = (v % 37) as u8;
        v /= 37;
        out[i] = match d {
            1..=10 => b'0' + d - 1,
            11..=36 => b'A' + d - 11,
            _ => b'?',
        };
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The key of an ordered pair of `code32` codes.
#[inline]
pub(crate) fn pair(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

/// A civil date as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Day(pub i32);

impl Day {
    /// Far future: "no deletion date".
    pub const MAX: Day = Day(i32::MAX);

    /// From year, month, day (not checked).
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Day {
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = (y - era * 400) as u32;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe as i32 - 719_468)
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = (z - era * 146_097) as u32;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe as i32 + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    /// Strict `YYYY-MM-DD`.
    #[inline]
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i32, m) {
            return None;
        }
        Some(Day::from_ymd(y as i32, m, d))
    }

    /// From a jiff date.
    pub fn from_date(d: Date) -> Day {
        Day::from_ymd(i32::from(d.year()), d.month() as u32, d.day() as u32)
    }

    /// As a jiff date (the epoch when out of range).
    pub fn to_date(self) -> Date {
        let (y, m, d) = self.ymd();
        Date::new(y as i16, m as i8, d as i8).unwrap_or(Date::constant(1970, 1, 1))
    }

    /// Days from `earlier` to `self`.
    pub fn since(self, earlier: Day) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// The date `n` days later (saturating).
    pub fn plus(self, n: i32) -> Day {
        Day(self.0.saturating_add(n))
    }

    /// `(year, month)` as one number, for calendar-month scopes.
    pub fn month_key(self) -> i32 {
        let (y, m, _) = self.ymd();
        y * 12 + m as i32
    }

    /// Whole years from `birth` to `self` (the age on this date).
    pub fn years_since(self, birth: Day) -> i32 {
        let (y1, m1, d1) = birth.ymd();
        let (y2, m2, d2) = self.ymd();
        let mut age = y2 - y1;
        if (m2, d2) < (m1, d1) {
            age -= 1;
        }
        age
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Day::MAX {
            return f.write_str("(none)");
        }
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_compare() {
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
        for s in ["2000-02-29", "2026-04-15", "1899-12-31", "2100-03-01"] {
            let d = Day::parse(s).expect("parses");
            assert_eq!(d.to_string(), s);
            let j: Date = s.parse().expect("jiff");
            assert_eq!(Day::from_date(j), d);
        }
        assert_eq!(Day::parse("2026-02-29"), None);
        assert_eq!(Day::parse("2026-13-01"), None);
        assert_eq!(Day::parse("2026-1-01"), None);
        let (a, b) = (
            Day::parse("2026-03-01").unwrap(),
            Day::parse("2026-02-01").unwrap(),
        );
        assert_eq!(a.since(b), 28);
        assert_eq!(a.years_since(Day::parse("2000-03-02").unwrap()), 25);
        assert_eq!(a.years_since(Day::parse("2000-03-01").unwrap()), 26);
    }

    #[test]
    fn packed_codes_order_like_strings() {
        assert!(pack("E11") < pack("E119"));
        assert!(pack("E119") < pack("E12"));
        let (lo, hi) = prefix_range("S52").unwrap();
        assert!(lo <= pack("S52521A") && pack("S52521A") <= hi);
        assert!(pack("S53") > hi);
        assert_eq!(pack("E11.9"), pack("E119"));
        assert_eq!(pack("E11-9"), 0);
        assert_eq!(unpack32(code32("0001U")), "0001U");
        assert_eq!(unpack32(code32("G0552")), "G0552");
        assert_ne!(code32("99213"), 0);
        assert_ne!(code32("0001U"), code32("0001A"));
        assert_eq!(code32("9921"), 0);
        assert!(code32("70551") < code32("70553"));
    }
}
