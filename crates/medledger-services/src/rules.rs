//! What every rule file shares: a header naming the rule set, its version
//! and sources; per-rule provenance with effective dates; evidence spans;
//! and TOML parsing with errors that say file, line and column.
//!
//! Dates in rule files are quoted ISO strings (`"2026-01-01"`).

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The `[header]` table every rule file starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleFileHeader {
    /// Rule set name, e.g. `em`.
    pub name: String,
    /// Version of this rule file, e.g. `2026.1`.
    pub version: String,
    /// The publications the rules restate (CPT guideline year, CMS rule).
    pub sources: Vec<String>,
}

/// Provenance and validity of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleMeta {
    /// Stable identifier, quoted in results (`em.office.time.99214`).
    pub id: String,
    /// Where the rule comes from (e.g. `CPT 2024 E/M guidelines`,
    /// `CMS CY2026 PFS final rule`).
    pub source: String,
    /// First date of service the rule applies to.
    pub effective_from: Date,
    /// Last date of service the rule applies to, if it has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Date>,
}

impl RuleMeta {
    /// Whether the rule is in force on `dos`.
    pub fn applies_on(&self, dos: Date) -> bool {
        dos >= self.effective_from && self.effective_to.is_none_or(|end| dos <= end)
    }
}

/// A verbatim piece of the note that supports a finding. `start`/`end`
/// count Unicode code points from the start of the note (end exclusive),
/// as in the coding engine's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Evidence {
    /// Evidence for the byte range `start..end` of `note`, converted to
    /// code-point offsets with `index`.
    pub fn from_bytes(
        note: &str,
        index: &medledger_text::CharIndex,
        start: usize,
        end: usize,
    ) -> Evidence {
        Evidence {
            start: index.char_offset(start),
            end: index.char_offset(end),
            text: note.get(start..end).unwrap_or_default().to_string(),
        }
    }
}

/// Gives a rule struct with `id`, `source`, `effective_from` and
/// `effective_to` fields its [`RuleMeta`] and date check (rule structs keep
/// their fields flat so `deny_unknown_fields` still names a misspelt key).
macro_rules! meta_of {
    ($t:ty) => {
        impl $t {
            fn meta(&self) -> $crate::rules::RuleMeta {
                $crate::rules::RuleMeta {
                    id: self.id.clone(),
                    source: self.source.clone(),
                    effective_from: self.effective_from,
                    effective_to: self.effective_to,
                }
            }
            // Not every kind of rule is filtered by date on its own (some
            // follow the code they belong to).
            #[allow(dead_code)]
            fn applies_on(&self, dos: jiff::civil::Date) -> bool {
                dos >= self.effective_from && self.effective_to.is_none_or(|end| dos <= end)
            }
        }
    };
}
pub(crate) use meta_of;

/// Whether two effective-date ranges (`to` open-ended when `None`) share a
/// day.
pub(crate) fn date_ranges_overlap(a: (Date, Option<Date>), b: (Date, Option<Date>)) -> bool {
    a.0 <= b.1.unwrap_or(Date::MAX) && b.0 <= a.1.unwrap_or(Date::MAX)
}

/// Parses a TOML rule file into `T`, reporting the file, line and column of
/// any error.
pub fn parse_rule_file<T: DeserializeOwned>(text: &str, file: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Error::Rules {
            file: file.to_string(),
            line,
            column,
            message: e.message().to_string(),
        }
    })
}

/// A rule-set invariant failure, reported against `file`.
pub fn invalid(file: &str, message: impl Into<String>) -> Error {
    Error::Rules {
        file: file.to_string(),
        line: None,
        column: None,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        header: RuleFileHeader,
        rule: Vec<RuleMeta>,
    }

    #[test]
    fn parses_header_and_dates() {
        let doc: Doc = parse_rule_file(
            "[header]\nname = \"t\"\nversion = \"1\"\nsources = [\"CMS\"]\n\n[[rule]]\nid = \"a\"\nsource = \"CMS\"\neffective_from = \"2026-01-01\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(doc.header.name, "t");
        let r = &doc.rule[0];
        assert!(r.applies_on(jiff::civil::date(2026, 1, 1)));
        assert!(!r.applies_on(jiff::civil::date(2025, 12, 31)));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let err = parse_rule_file::<Doc>(
            "[header]\nname = \"t\"\nversion = 3\nsources = []\n",
            "bad.toml",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("bad.toml"), "{text}");
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn effective_to_bounds() {
        let r = RuleMeta {
            id: "x".into(),
            source: "s".into(),
            effective_from: jiff::civil::date(2021, 1, 1),
            effective_to: Some(jiff::civil::date(2025, 12, 31)),
        };
        assert!(r.applies_on(jiff::civil::date(2025, 12, 31)));
        assert!(!r.applies_on(jiff::civil::date(2026, 1, 1)));
    }
}
