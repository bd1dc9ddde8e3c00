//! Modifier classes the edits look at.
//!
//! NCCI PTP-associated modifiers, as CMS lists them (Medicare NCCI Policy
//! Manual, Chapter I, section E "Modifiers and modifier indicators"; CMS
//! MLN1783722 "Proper use of modifiers 59, XE, XP, XS, XU"):
//!
//! - anatomic: E1-E4, FA, F1-F9, TA, T1-T9, LT, RT, LC, LD, LM, RC, RI;
//! - global surgery: 24, 25, 57, 58, 78, 79;
//! - other: 27, 59, 91, XE, XP, XS, XU.
//!
//! How the scrubber applies them to a modifier-indicator-1 edit:
//! - a pair with an E/M code (99202-99499) is bypassed only by 25 (minor
//!   procedure, 0/10-day global) or 57 (decision for major surgery, 90-day
//!   global) on the E/M line; 59 and the X modifiers do not apply to E/M
//!   services (NCCI Policy Manual, Chapter XI). Without the Physician Fee
//!   Schedule global-period indicator the scrubber cannot tell minor from
//!   major, so either is accepted;
//! - other pairs are bypassed by 24, 27, 58, 59, 78, 79, 91, XE, XP, XS or
//!   XU on either line, or by anatomic modifiers when both lines carry one
//!   and they name different sites (RT on one line, LT on the other).

/// 59, XE, XP, XS, XU, 24, 27, 58, 78, 79, 91: bypass a non-E/M pair.
pub(crate) const BYPASS: u32 = 1 << 0;
/// 25.
pub(crate) const M25: u32 = 1 << 1;
/// 57.
pub(crate) const M57: u32 = 1 << 2;
/// 95 (synchronous audio-video telehealth).
pub(crate) const M95: u32 = 1 << 3;
/// 93 (synchronous audio-only telehealth).
pub(crate) const M93: u32 = 1 << 4;
/// KX (requirements met; CMS: gender-specific services).
pub(crate) const KX: u32 = 1 << 5;

/// Flags and the anatomic-modifier bit set of one modifier.
#[inline]
pub(crate) fn classify(m: &str) -> (u32, u32) {
    let b = m.as_bytes();
    if b.len() != 2 {
        return (0, 0);
    }
    let (a, c) = (b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase());
    let anat = |bit: u32| (0, 1u32 << bit);
    match (a, c) {
        (b'5', b'9')
        | (b'2', b'4')
        | (b'2', b'7')
        | (b'5', b'8')
        | (b'7', b'8')
        | (b'7', b'9')
        | (b'9', b'1') => (BYPASS, 0),
        (b'X', b'E' | b'P' | b'S' | b'U') => (BYPASS, 0),
        (b'2', b'5') => (M25, 0),
        (b'5', b'7') => (M57, 0),
        (b'9', b'5') => (M95, 0),
        (b'9', b'3') => (M93, 0),
        (b'K', b'X') => (KX, 0),
        (b'E', b'1'..=b'4') => anat(u32::from(c - b'1')),
        (b'F', b'A') => anat(4),
        (b'F', b'1'..=b'9') => anat(5 + u32::from(c - b'1')),
        (b'T', b'A') => anat(14),
        (b'T', b'1'..=b'9') => anat(15 + u32::from(c - b'1')),
        (b'L', b'T') => anat(24),
        (b'R', b'T') => anat(25),
        (b'L', b'C') => anat(26),
        (b'L', b'D') => anat(27),
        (b'L', b'M') => anat(28),
        (b'R', b'C') => anat(29),
        (b'R', b'I') => anat(30),
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for m in [
            "59", "XE", "XP", "XS", "XU", "24", "27", "58", "78", "79", "91",
        ] {
            assert_eq!(classify(m).0, BYPASS, "{m}");
        }
        let mut seen = 0u32;
        for m in [
            "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
            "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "LT", "RT", "LC", "LD",
            "LM", "RC", "RI",
        ] {
            let (f, a) = classify(m);
            assert_eq!((f, a.count_ones()), (0, 1), "{m}");
            assert_eq!(seen & a, 0, "{m} shares a bit");
            seen |= a;
        }
        assert_eq!(classify("25").0, M25);
        assert_eq!(classify("GT"), (0, 0));
    }
}
