//! ICD-11 postcoordination: cluster codes.
//!
//! A cluster links codes into one clinical concept. WHO's syntax (ICD-11
//! Reference Guide, "Code structure" and "Extension codes and
//! postcoordination"): stem codes are joined by `/`, extension codes
//! (chapter X, every code starting with `X`) are attached to the stem before
//! them by `&`. So a cluster is one or more *stem groups* separated by `/`,
//! each a stem code followed by zero or more `&EXTENSION` parts:
//! `DA63/ME24.90&XA9780`, `2C25.0&XK8G`.
//!
//! [`parse`] checks the syntax alone (no release needed) and returns a typed
//! AST with byte offsets; [`validate`] checks the codes against an installed
//! MMS release ([`Icd11Release`]).
//!
//! **What the published data supports.** The simple tabulation lists every
//! code with its chapter, parent, leaf and residual flags; it does *not*
//! publish which extension axes a stem allows or requires (WHO keeps those
//! "postcoordination scales" in the Foundation/MMS API, not in the
//! tabulation). [`validate`] therefore checks exactly these rules:
//!
//! 1. every code exists in the release (`UnknownCode`);
//! 2. a stem position holds a code outside chapter X, an `&` position a
//!    code of chapter X (`NotAStem`, `NotAnExtension`), besides the syntactic
//!    rule that a code starting with `X` never stands first, alone or after
//!    `/` and one that does not never follows `&`;
//! 3. on one stem, two extension codes from the same *scale* (an X-chapter
//!    block whose title ends in "Scale Value", or the "Laterality" block)
//!    contradict each other (`ConflictingScale`): one stem is not both
//!    "Left" and "Right", nor both "Mild" and "Severe";
//! 4. warnings, not errors: a stem with subcategories (WHO codes to the
//!    most specific level, yet its own examples link 3-character stems),
//!    a residual "other specified" (`.Y`) or "unspecified" (`.Z`) stem that
//!    carries extension codes (a more specific stem may exist), and an
//!    extension code that is itself residual or not a leaf.
//!
//! Whether a given stem may carry a given axis (e.g. laterality on a
//! fracture, histopathology on a neoplasm) is not checked: the tabulation
//! does not say.

use serde::Serialize;

use crate::icd11::{Icd11ClassKind, Icd11Release};
use crate::normalize;

/// How a code is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// `/`: links two stem codes.
    Slash,
    /// `&`: attaches an extension code to the stem before it.
    Ampersand,
}

impl Operator {
    /// The operator character.
    pub fn as_char(self) -> char {
        match self {
            Operator::Slash => '/',
            Operator::Ampersand => '&',
        }
    }
}

/// One code of a cluster with its byte span in the parsed text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterCode {
    /// The code in upper case, as written otherwise ("XA9780", "2C25.0").
    pub code: String,
    /// Byte offset of the code's first character.
    pub start: usize,
    /// Byte offset just past the code.
    pub end: usize,
}

/// A stem code and the extension codes attached to it by `&`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StemGroup {
    pub stem: ClusterCode,
    pub extensions: Vec<ClusterCode>,
}

/// A parsed cluster: stem groups in the order written (joined by `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    pub groups: Vec<StemGroup>,
}

/// A cluster that is syntactically or semantically malformed; each names the
/// offending part and its byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClusterError {
    #[error("empty cluster: no codes")]
    Empty,
    #[error("{ch:?} at byte {offset} is not allowed in a cluster (codes, '/' and '&' only)")]
    UnexpectedChar { ch: char, offset: usize },
    #[error("'{op}' at byte {offset} has no code before it")]
    MissingCodeBefore { op: char, offset: usize },
    #[error("'{op}' at byte {offset} has no code after it")]
    MissingCodeAfter { op: char, offset: usize },
    #[error("{part:?} at byte {offset} is not an ICD-11 code ({why})")]
    BadShape {
        part: String,
        offset: usize,
        why: &'static str,
    },
    #[error("{part:?} at byte {offset} is an extension code and cannot start a cluster")]
    ExtensionFirst { part: String, offset: usize },
    #[error(
        "{part:?} at byte {offset} is an extension code: attach it with '&', not '/' (a '/' links stem codes)"
    )]
    ExtensionAfterSlash { part: String, offset: usize },
    #[error(
        "{part:?} at byte {offset} is a stem code: link it with '/', not '&' (an '&' attaches extension codes)"
    )]
    StemAfterAmpersand { part: String, offset: usize },
    #[error("{part:?} at byte {offset} repeats the code at byte {first}")]
    Duplicate {
        part: String,
        offset: usize,
        first: usize,
    },
    #[error("{part:?} at byte {offset} is not an ICD-11 MMS {release} code")]
    UnknownCode {
        part: String,
        offset: usize,
        release: String,
    },
    #[error("{part:?} at byte {offset} is in chapter X (extension codes) and cannot be a stem")]
    NotAStem { part: String, offset: usize },
    #[error(
        "{part:?} at byte {offset} is in chapter {chapter}, not an extension code of chapter X"
    )]
    NotAnExtension {
        part: String,
        offset: usize,
        chapter: String,
    },
    #[error(
        "{part:?} at byte {offset} and {other:?} on the same stem are both values of the scale {scale:?}"
    )]
    ConflictingScale {
        part: String,
        offset: usize,
        other: String,
        scale: String,
    },
}

impl ClusterError {
    /// Byte offset of the offending part, when there is one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            ClusterError::Empty => None,
            ClusterError::UnexpectedChar { offset, .. }
            | ClusterError::MissingCodeBefore { offset, .. }
            | ClusterError::MissingCodeAfter { offset, .. }
            | ClusterError::BadShape { offset, .. }
            | ClusterError::ExtensionFirst { offset, .. }
            | ClusterError::ExtensionAfterSlash { offset, .. }
            | ClusterError::StemAfterAmpersand { offset, .. }
            | ClusterError::Duplicate { offset, .. }
            | ClusterError::UnknownCode { offset, .. }
            | ClusterError::NotAStem { offset, .. }
            | ClusterError::NotAnExtension { offset, .. }
            | ClusterError::ConflictingScale { offset, .. } => Some(*offset),
        }
    }
}

/// Whether a code (any case) has the shape of a chapter X extension code.
pub fn is_extension_code(code: &str) -> bool {
    code.starts_with(['X', 'x'])
}

fn shape_error(code: &str) -> Option<&'static str> {
    let b = code.as_bytes();
    if is_extension_code(code) {
        if code.contains('.') {
            return Some("extension codes have no dot");
        }
        if !(4..=7).contains(&b.len()) {
            return Some("extension codes have 4 to 7 characters");
        }
        return None;
    }
    let (head, tail) = match code.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (code, None),
    };
    let h = head.as_bytes();
    if h.len() != 4 {
        return Some("a stem code has 4 characters before the dot");
    }
    if !h[1].is_ascii_alphabetic() || !h[2].is_ascii_digit() {
        return Some("a stem code has a letter second and a digit third");
    }
    match tail {
        Some(t) if t.is_empty() || t.len() > 2 || t.contains('.') => {
            Some("one or two characters follow the dot")
        }
        _ => None,
    }
}

/// Parses a cluster (syntax only). Offsets are bytes into `text`.
pub fn parse(text: &str) -> Result<Cluster, ClusterError> {
    // Lex: codes and operators.
    enum Lex {
        Code(usize, usize),
        Op(Operator, usize),
    }
    let mut lex = Vec::new();
    let mut code_start: Option<usize> = None;
    for (i, ch) in text.char_indices() {
        let op = match ch {
            '/' => Some(Operator::Slash),
            '&' => Some(Operator::Ampersand),
            c if c.is_ascii_alphanumeric() || c == '.' => None,
            c => return Err(ClusterError::UnexpectedChar { ch: c, offset: i }),
        };
        match op {
            Some(op) => {
                if let Some(s) = code_start.take() {
                    lex.push(Lex::Code(s, i));
                }
                lex.push(Lex::Op(op, i));
            }
            None => {
                code_start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = code_start {
        lex.push(Lex::Code(s, text.len()));
    }
    if lex.is_empty() {
        return Err(ClusterError::Empty);
    }
    let mut groups: Vec<StemGroup> = Vec::new();
    let mut pending: Option<(Operator, usize)> = None;
    let mut seen: Vec<(String, usize)> = Vec::new();
    for item in lex {
        match item {
            Lex::Op(op, at) => {
                if let Some((prev, p)) = pending {
                    return Err(ClusterError::MissingCodeAfter {
                        op: prev.as_char(),
                        offset: p,
                    });
                }
                if groups.is_empty() {
                    return Err(ClusterError::MissingCodeBefore {
                        op: op.as_char(),
                        offset: at,
                    });
                }
                pending = Some((op, at));
            }
            Lex::Code(s, e) => {
                let raw = &text[s..e];
                if let Some(why) = shape_error(raw) {
                    return Err(ClusterError::BadShape {
                        part: raw.to_string(),
                        offset: s,
                        why,
                    });
                }
                let code = ClusterCode {
                    code: raw.to_ascii_uppercase(),
                    start: s,
                    end: e,
                };
                if let Some((_, first)) =
                    seen.iter().find(|(k, _)| *k == normalize::key(&code.code))
                {
                    return Err(ClusterError::Duplicate {
                        part: code.code,
                        offset: s,
                        first: *first,
                    });
                }
                seen.push((normalize::key(&code.code), s));
                let ext = is_extension_code(raw);
                match (pending.take(), groups.last_mut()) {
                    (None, _) => {
                        if ext {
                            return Err(ClusterError::ExtensionFirst {
                                part: code.code,
                                offset: s,
                            });
                        }
                        groups.push(StemGroup {
                            stem: code,
                            extensions: Vec::new(),
                        });
                    }
                    (Some((Operator::Slash, _)), _) => {
                        if ext {
                            return Err(ClusterError::ExtensionAfterSlash {
                                part: code.code,
                                offset: s,
                            });
                        }
                        groups.push(StemGroup {
                            stem: code,
                            extensions: Vec::new(),
                        });
                    }
                    (Some((Operator::Ampersand, _)), Some(g)) => {
                        if !ext {
                            return Err(ClusterError::StemAfterAmpersand {
                                part: code.code,
                                offset: s,
                            });
                        }
                        g.extensions.push(code);
                    }
                    (Some((Operator::Ampersand, at)), None) => {
                        return Err(ClusterError::MissingCodeBefore {
                            op: '&',
                            offset: at,
                        });
                    }
                }
            }
        }
    }
    if let Some((op, at)) = pending {
        return Err(ClusterError::MissingCodeAfter {
            op: op.as_char(),
            offset: at,
        });
    }
    Ok(Cluster { groups })
}

impl Cluster {
    /// Canonical text: upper-case codes, `/` between stem groups, `&` before
    /// each extension code.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(&g.stem.code);
            for x in &g.extensions {
                out.push('&');
                out.push_str(&x.code);
            }
        }
        out
    }

    /// Every code in written order.
    pub fn codes(&self) -> impl Iterator<Item = &ClusterCode> {
        self.groups
            .iter()
            .flat_map(|g| std::iter::once(&g.stem).chain(g.extensions.iter()))
    }
}

/// Where an extension code sits in chapter X.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionAxis {
    /// The top-level X-chapter block: "Severity Scale Value", "Temporality",
    /// "Topology Scale Value", "Anatomy and topography", "Histopathology", ...
    pub axis: String,
    /// The nearest enclosing block ("Laterality", "Course", ...); equal to
    /// `axis` for codes directly under it.
    pub group: String,
}

/// A validated code with what the release says about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidatedCode {
    pub code: String,
    pub start: usize,
    pub end: usize,
    pub title: String,
    pub chapter: String,
    pub is_leaf: bool,
    pub is_residual: bool,
    /// For extension codes: their axis.
    pub axis: Option<ExtensionAxis>,
}

/// A stem group after validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidatedGroup {
    pub stem: ValidatedCode,
    pub extensions: Vec<ValidatedCode>,
}

/// A warning on a valid cluster (see the module docs for the rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterWarning {
    pub code: String,
    pub offset: usize,
    pub message: String,
}

/// A cluster that passed [`validate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidatedCluster {
    /// Canonical text ([`Cluster::render`]).
    pub cluster: String,
    pub release: String,
    pub groups: Vec<ValidatedGroup>,
    pub warnings: Vec<ClusterWarning>,
}

/// The axis of an entity of chapter X: its top-level block under the
/// chapter and its nearest block.
pub fn extension_axis(release: &Icd11Release, idx: u32) -> Option<ExtensionAxis> {
    let blocks: Vec<&str> = release
        .ancestors(idx)
        .into_iter()
        .filter_map(|a| release.entities.get(a as usize))
        .filter(|e| e.class_kind == Icd11ClassKind::Block)
        .map(|e| e.title.as_str())
        .collect();
    Some(ExtensionAxis {
        axis: blocks.last()?.to_string(),
        group: blocks.first()?.to_string(),
    })
}

fn is_scale(group: &str) -> bool {
    group.ends_with("Scale Value") || group == "Laterality"
}

fn lookup(release: &Icd11Release, c: &ClusterCode) -> Result<(u32, ValidatedCode), ClusterError> {
    let idx = release
        .index_of(&c.code)
        .ok_or_else(|| ClusterError::UnknownCode {
            part: c.code.clone(),
            offset: c.start,
            release: release.version.clone(),
        })?;
    let e = &release.entities[idx as usize];
    Ok((
        idx,
        ValidatedCode {
            code: e.code.clone().unwrap_or_else(|| c.code.clone()),
            start: c.start,
            end: c.end,
            title: e.title.clone(),
            chapter: e.chapter.clone(),
            is_leaf: e.is_leaf,
            is_residual: e.is_residual,
            axis: None,
        },
    ))
}

/// Validates a parsed cluster against an installed MMS release.
pub fn validate(
    cluster: &Cluster,
    release: &Icd11Release,
) -> Result<ValidatedCluster, ClusterError> {
    let mut groups = Vec::new();
    let mut warnings = Vec::new();
    for g in &cluster.groups {
        let (_, stem) = lookup(release, &g.stem)?;
        if stem.chapter == "X" {
            return Err(ClusterError::NotAStem {
                part: stem.code,
                offset: stem.start,
            });
        }
        if !stem.is_leaf {
            warnings.push(ClusterWarning {
                code: stem.code.clone(),
                offset: stem.start,
                message: format!(
                    "{} has subcategories: code the stem to the most specific level where documented",
                    stem.code
                ),
            });
        }
        if stem.is_residual && !g.extensions.is_empty() {
            let which = if stem.code.ends_with('Z') {
                "an unspecified"
            } else {
                "an other specified"
            };
            warnings.push(ClusterWarning {
                code: stem.code.clone(),
                offset: stem.start,
                message: format!(
                    "{} is {which} residual category carrying extension codes: check whether a more specific stem exists",
                    stem.code
                ),
            });
        }
        let mut exts: Vec<ValidatedCode> = Vec::new();
        for x in &g.extensions {
            let (idx, mut v) = lookup(release, x)?;
            if v.chapter != "X" {
                return Err(ClusterError::NotAnExtension {
                    part: v.code,
                    offset: v.start,
                    chapter: v.chapter,
                });
            }
            v.axis = extension_axis(release, idx);
            if let Some(ax) = &v.axis
                && is_scale(&ax.group)
                && let Some(other) = exts
                    .iter()
                    .find(|o| o.axis.as_ref().is_some_and(|a| a.group == ax.group))
            {
                return Err(ClusterError::ConflictingScale {
                    part: v.code,
                    offset: v.start,
                    other: other.code.clone(),
                    scale: ax.group.clone(),
                });
            }
            if v.is_residual || !v.is_leaf {
                warnings.push(ClusterWarning {
                    code: v.code.clone(),
                    offset: v.start,
                    message: format!(
                        "extension code {} is {}",
                        v.code,
                        if v.is_residual {
                            "a residual (other/unspecified) value"
                        } else {
                            "not a leaf: a more specific value exists"
                        }
                    ),
                });
            }
            exts.push(v);
        }
        groups.push(ValidatedGroup {
            stem,
            extensions: exts,
        });
    }
    Ok(ValidatedCluster {
        cluster: cluster.render(),
        release: release.version.clone(),
        groups,
        warnings,
    })
}

/// Parses and validates in one step.
pub fn parse_and_validate(
    text: &str,
    release: &Icd11Release,
) -> Result<ValidatedCluster, ClusterError> {
    validate(&parse(text)?, release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_and_offsets() {
        let c = parse("DA63/ME24.90&XA9780").expect("parses");
        assert_eq!(c.groups.len(), 2);
        assert_eq!(c.groups[0].stem.code, "DA63");
        assert_eq!((c.groups[1].stem.start, c.groups[1].stem.end), (5, 12));
        assert_eq!(c.groups[1].extensions[0].code, "XA9780");
        assert_eq!(c.groups[1].extensions[0].start, 13);
        assert_eq!(c.render(), "DA63/ME24.90&XA9780");
        assert_eq!(
            parse("2c25.0&xk8g").expect("lower case").render(),
            "2C25.0&XK8G"
        );
    }

    #[test]
    fn syntax_errors_name_part_and_offset() {
        let e = |s: &str| parse(s).expect_err(s).to_string();
        assert_eq!(
            e("XS8H&2C25.0"),
            "\"XS8H\" at byte 0 is an extension code and cannot start a cluster"
        );
        assert_eq!(e("2C25.0&&XK8G"), "'&' at byte 6 has no code after it");
        assert_eq!(e("2C25.0/"), "'/' at byte 6 has no code after it");
        assert_eq!(e("/2C25.0"), "'/' at byte 0 has no code before it");
        assert_eq!(e(""), "empty cluster: no codes");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }

        #[test]
        fn render_round_trips(s in "[0-9A-Z]{4}(\\.[0-9A-Z]{1,2})?([/&][0-9A-Z]{4,6}(\\.[0-9A-Z]{1,2})?){0,5}") {
            if let Ok(ast) = parse(&s) {
                let again = parse(&ast.render()).expect("rendered cluster parses");
                proptest::prop_assert_eq!(again, ast);
            }
        }
    }
}
