//! ICD-10-CM: tabular list, Alphabetic Index and tables, order file.

pub mod index;
pub mod order;
pub mod tabular;
mod xml;

use crate::Date;

/// The first date of service a release applies to. CDC names the April
/// updates after their date ("icd10cm-tabular-April-1-2026.xml"); other
/// releases start on October 1 before their fiscal year.
pub fn effective_from(file_name: &str, fiscal_year: &str) -> Option<Date> {
    let lower = file_name.to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    for (m, name) in MONTHS.iter().enumerate() {
        if let Some(pos) = lower.find(name) {
            let rest: Vec<&str> = lower[pos + name.len()..]
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .collect();
            if let [day, year, ..] = rest.as_slice()
                && let (Ok(d), Ok(y)) = (day.parse::<i8>(), year.parse::<i16>())
                && let Ok(date) = Date::new(y, m as i8 + 1, d)
            {
                return Some(date);
            }
        }
    }
    let fy: i16 = fiscal_year.trim().parse().ok()?;
    Date::new(fy - 1, 10, 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_dates() {
        assert_eq!(
            effective_from("icd10c-tabular-April-1-2026.xml", "2026"),
            Date::new(2026, 4, 1).ok()
        );
        assert_eq!(
            effective_from("icd10cm_tabular_2026.xml", "2026"),
            Date::new(2025, 10, 1).ok()
        );
        assert_eq!(effective_from("x.xml", "n/a"), None);
    }
}
