//! Typed errors. Locations are FHIRPath-like
//! (`Bundle.entry[3].resource(Patient).birthDate`); messages say what is
//! wrong and never quote the offending value (it may be PHI).

use serde::Serialize;

/// One located problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Where (FHIRPath-like).
    pub location: String,
    /// What is wrong (no values).
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why FHIR input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FhirError {
    /// Not JSON at all (syntax), with the position.
    #[error("not JSON: {reason} at line {line} column {column}")]
    NotJson {
        /// What the JSON reader expected.
        reason: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// An element has the wrong JSON type, a bad value or is missing.
    #[error("{location}: {message}")]
    Element {
        /// Where.
        location: String,
        /// What.
        message: String,
    },
    /// `resourceType` missing or not an R4 resource type.
    #[error("{location}: unknown resourceType")]
    UnknownResourceType {
        /// Where.
        location: String,
    },
    /// A known resource of another type than expected.
    #[error("expected {expected}, found {found}")]
    WrongResource {
        /// What was expected.
        expected: String,
        /// The resourceType found.
        found: String,
    },
    /// The resources parsed, but fail validation (cardinalities, codes,
    /// references). The first issue is shown; all are kept.
    #[error("{} ({} problem(s) in all)", .issues[0], .issues.len())]
    Invalid {
        /// Every problem found (at least one).
        issues: Vec<Issue>,
    },
}

impl FhirError {
    /// The location of the (first) problem, if it has one.
    pub fn location(&self) -> Option<&str> {
        match self {
            FhirError::Element { location, .. } | FhirError::UnknownResourceType { location } => {
                Some(location)
            }
            FhirError::Invalid { issues } => issues.first().map(|i| i.location.as_str()),
            FhirError::NotJson { .. } | FhirError::WrongResource { .. } => None,
        }
    }

    /// The message of the (first) problem.
    pub fn message(&self) -> String {
        match self {
            FhirError::Element { message, .. } => message.clone(),
            FhirError::Invalid { issues } => issues
                .first()
                .map(|i| i.message.clone())
                .unwrap_or_default(),
            other => other.to_string(),
        }
    }

    pub(crate) fn element(location: impl Into<String>, message: impl Into<String>) -> Self {
        FhirError::Element {
            location: location.into(),
            message: message.into(),
        }
    }
}

/// Formats a serde_path_to_error path FHIRPath-style after `prefix`.
fn join_path(prefix: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut s = prefix.to_owned();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                s.push('[');
                s.push_str(&index.to_string());
                s.push(']');
            }
            Segment::Map { key } => {
                s.push('.');
                s.push_str(key);
            }
            Segment::Enum { variant } => {
                s.push('.');
                s.push_str(variant);
            }
            Segment::Unknown => s.push_str(".?"),
        }
    }
    s
}

/// The serde message without its position and without any quoted value.
fn sanitize(msg: &str) -> (Option<String>, String) {
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let expected = |m: &str| {
        m.rfind(", expected ")
            .map(|i| m[i + ", expected ".len()..].to_owned())
            .unwrap_or_else(|| "another value".into())
    };
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`').to_owned();
        return (Some(field), "required element missing".into());
    }
    if let Some(rest) = msg.strip_prefix("duplicate field `") {
        let field = rest.trim_end_matches('`').to_owned();
        return (Some(field), "element given twice".into());
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let found = rest
            .split(['"', '`', ','])
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        return (
            None,
            format!(
                "wrong JSON type: expected {}, found {found}",
                expected(rest)
            ),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        return (None, format!("invalid value: expected {}", expected(rest)));
    }
    if msg.starts_with("invalid length ") {
        return (None, msg.to_owned());
    }
    if msg.starts_with("unknown variant ") {
        return (None, format!("unknown code: expected {}", expected(msg)));
    }
    if msg.starts_with("not a FHIR ") {
        return (None, msg.to_owned());
    }
    (None, "invalid element".into())
}

/// A JSON syntax error (serde_json's syntax messages carry no values).
pub(crate) fn not_json(inner: &serde_json::Error) -> FhirError {
    let text = inner.to_string();
    let reason = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    FhirError::NotJson {
        reason,
        line: inner.line(),
        column: inner.column(),
    }
}

/// Converts a located serde_json error.
pub(crate) fn from_serde(
    prefix: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> FhirError {
    use serde_json::error::Category;
    let inner = e.inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => not_json(inner),
        Category::Data => {
            let (field, message) = sanitize(&inner.to_string());
            let mut location = join_path(prefix, e.path());
            if let Some(f) = field {
                location.push('.');
                location.push_str(&f);
            }
            FhirError::Element { location, message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn messages_never_quote_values() {
        let (f, m) = sanitize("missing field `status` at line 3 column 4");
        assert_eq!(
            (f.as_deref(), m.as_str()),
            (Some("status"), "required element missing")
        );
        let (_, m) = sanitize(
            "invalid type: string \"Jane, expected Doe\", expected a sequence at line 1 column 9",
        );
        assert_eq!(m, "wrong JSON type: expected a sequence, found string");
        let (_, m) = sanitize("invalid type: integer `19910608`, expected a string");
        assert_eq!(m, "wrong JSON type: expected a string, found integer");
        let (_, m) = sanitize("invalid value: integer `-1`, expected u32");
        assert_eq!(m, "invalid value: expected u32");
        let (_, m) = sanitize("something with a secret value 999-59-8153");
        assert_eq!(m, "invalid element");
    }
}
