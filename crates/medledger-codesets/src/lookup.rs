//! Walking the Alphabetic Index the way a coder does: main term, then
//! subterms level by level, following "see" references, ending at a code
//! (or a table cell) that is then checked against the tabular.

use serde::Serialize;

use crate::Date;
use crate::engine::{Engine, Validation};
use crate::error::{Error, Result};
use crate::icd10cm::index::{IndexKind, IndexTree, Term};
use crate::search::words;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookupStep {
    pub term: String,
    pub level: u8,
    pub code: Option<String>,
    /// The term was not named in the path but lies between two named ones
    /// (a "with" or similar connecting subterm).
    pub implied: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableCell {
    pub column: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookupResult {
    pub query: String,
    pub index: IndexKind,
    pub index_release: String,
    pub path: Vec<LookupStep>,
    /// The code the walk ends at ("E11.22"); a trailing "-" means the
    /// index sends the coder to the tabular for more characters.
    pub code: Option<String>,
    pub manifestation: Option<String>,
    /// Table cells of the final term (Neoplasm and Drug tables).
    pub cells: Vec<TableCell>,
    /// "see" references followed on the way.
    pub followed: Vec<String>,
    pub see_also: Option<String>,
    /// Segments of the path that matched nothing at their level.
    pub unmatched: Vec<String>,
    /// Subterms under the final term when the walk stopped above a code.
    pub subterms: Vec<String>,
    /// The code checked against the tabular for the date of service.
    pub validation: Option<Validation>,
}

fn norm(s: &str) -> String {
    words(s).join(" ")
}

/// How well a path segment names a term: 3 exact, 2 one of the comma
/// variants ("Diabetes, diabetic"), 1 every word of the segment is in the
/// title; 0 no match.
fn match_score(segment: &str, term: &Term) -> u8 {
    let seg = norm(segment);
    if seg.is_empty() {
        return 0;
    }
    let title = norm(&term.title);
    if seg == title {
        return 3;
    }
    if term.title.split(',').any(|v| norm(v) == seg) {
        return 2;
    }
    let title_words = words(&term.title);
    let seg_words = words(segment);
    if seg_words.iter().all(|w| {
        title_words
            .iter()
            .any(|t| t == w || (w.len() > 3 && t.starts_with(w.as_str())))
    }) {
        return 1;
    }
    0
}

fn best_child(tree: &IndexTree, parent: u32, segment: &str) -> Option<(u32, u8, Vec<u32>)> {
    let mut best: Option<(u32, u8, Vec<u32>)> = None;
    for c in tree.children(parent) {
        let s = match_score(segment, &tree.terms[c as usize]);
        if s > 0 && best.as_ref().is_none_or(|(_, bs, _)| s > *bs) {
            best = Some((c, s, vec![]));
        }
    }
    if best.is_some() {
        return best;
    }
    // One connecting level down ("with", "due to", "in").
    for c in tree.children(parent) {
        for g in tree.children(c) {
            let s = match_score(segment, &tree.terms[g as usize]);
            if s > 0 && best.as_ref().is_none_or(|(_, bs, _)| s > *bs) {
                best = Some((g, s, vec![c]));
            }
        }
    }
    best
}

/// Column keywords for the tables.
fn column_for(tree: &IndexTree, segment: &str) -> Option<u8> {
    let seg = norm(segment);
    if seg.is_empty() {
        return None;
    }
    let aliases: &[(&str, &[&str])] = match tree.kind {
        IndexKind::Neoplasm => &[
            (
                "malignant primary",
                &[
                    "primary",
                    "malignant",
                    "malignant primary",
                    "cancer",
                    "carcinoma",
                ],
            ),
            (
                "malignant secondary",
                &[
                    "secondary",
                    "metastatic",
                    "malignant secondary",
                    "metastasis",
                ],
            ),
            (
                "ca in situ",
                &["in situ", "ca in situ", "carcinoma in situ"],
            ),
            ("benign", &["benign"]),
            (
                "uncertain behavior",
                &["uncertain", "uncertain behavior", "uncertain behaviour"],
            ),
            (
                "unspecified behavior",
                &[
                    "unspecified",
                    "unspecified behavior",
                    "unspecified behaviour",
                ],
            ),
        ],
        IndexKind::Drug => &[
            (
                "poisoning accidental unintentional",
                &[
                    "accidental",
                    "poisoning",
                    "unintentional",
                    "poisoning accidental",
                ],
            ),
            (
                "poisoning intentional self harm",
                &[
                    "intentional",
                    "self harm",
                    "suicide",
                    "intentional self harm",
                ],
            ),
            ("poisoning assault", &["assault", "homicide"]),
            ("poisoning undetermined", &["undetermined"]),
            (
                "adverse effect",
                &["adverse effect", "adverse", "side effect"],
            ),
            ("underdosing", &["underdosing", "underdose"]),
        ],
        _ => &[],
    };
    for (col, heading) in &tree.headings {
        let h = norm(heading);
        if h == seg {
            return Some(*col);
        }
        if let Some((_, keys)) = aliases.iter().find(|(name, _)| *name == h)
            && keys.iter().any(|k| norm(k) == seg)
        {
            return Some(*col);
        }
    }
    None
}

impl Engine {
    /// Walks `path` ("diabetes, type 2, with, chronic kidney disease") in
    /// the named index, or in every installed index and table until one
    /// matches its main term.
    pub fn lookup(
        &self,
        path: &str,
        kind: Option<IndexKind>,
        dos: Option<Date>,
    ) -> Result<LookupResult> {
        let kinds: Vec<IndexKind> = match kind {
            Some(k) => vec![k],
            None => vec![
                IndexKind::Main,
                IndexKind::Neoplasm,
                IndexKind::Drug,
                IndexKind::ExternalCause,
            ],
        };
        let mut any_index = false;
        let mut best: Option<LookupResult> = None;
        for k in kinds {
            let Some((meta, tree)) = self.index_for(k, dos)? else {
                continue;
            };
            any_index = true;
            if let Some(r) = self.walk(&tree, &meta.release, path, dos, 0)? {
                let better = best.as_ref().is_none_or(|b| {
                    (r.unmatched.len(), r.code.is_none() && r.cells.is_empty())
                        < (b.unmatched.len(), b.code.is_none() && b.cells.is_empty())
                });
                if better {
                    let done = r.unmatched.is_empty() && (r.code.is_some() || !r.cells.is_empty());
                    best = Some(r);
                    if done {
                        break;
                    }
                }
            }
        }
        if !any_index {
            return Err(Error::NotFound(
                "no ICD-10-CM index or table installed".into(),
            ));
        }
        best.ok_or_else(|| {
            let main_missing = kind.is_none() && self.index_for(IndexKind::Main, dos).ok().flatten().is_none();
            let hint = if main_missing {
                "; the main Alphabetic Index (icd10cm_index_YYYY.xml) is not installed, so only the External Cause index and the Neoplasm and Drug tables were searched (try `code search`)"
            } else {
                ""
            };
            Error::NotFound(format!("{path:?}: no main term matches in the installed indexes and tables{hint}"))
        })
    }

    fn walk(
        &self,
        tree: &IndexTree,
        release: &str,
        path: &str,
        dos: Option<Date>,
        depth: u8,
    ) -> Result<Option<LookupResult>> {
        let segments: Vec<&str> = path
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if segments.is_empty() || depth > 4 {
            return Ok(None);
        }
        // Main term: the longest run of leading segments naming one.
        let mut start: Option<(u32, usize, u8)> = None;
        for take in (1..=segments.len().min(4)).rev() {
            let joined = segments[..take].join(", ");
            for m in tree.main_terms() {
                let s = match_score(&joined, &tree.terms[m as usize]);
                if s >= 2 && start.is_none_or(|(_, t, bs)| (take, s) > (t, bs)) {
                    start = Some((m, take, s));
                }
            }
            if start.is_some() {
                break;
            }
        }
        let Some((main, used, _)) = start else {
            return Ok(None);
        };
        let mut result = LookupResult {
            query: path.to_string(),
            index: tree.kind,
            index_release: release.to_string(),
            path: vec![],
            code: None,
            manifestation: None,
            cells: vec![],
            followed: vec![],
            see_also: None,
            unmatched: vec![],
            subterms: vec![],
            validation: None,
        };
        let step = |t: &Term, implied: bool| LookupStep {
            term: t.display(),
            level: t.level,
            code: t.code.clone(),
            implied,
        };
        result.path.push(step(&tree.terms[main as usize], false));
        let mut cur = main;
        let mut column: Option<u8> = None;
        for (i, seg) in segments[used..].iter().enumerate() {
            let is_last = used + i + 1 == segments.len();
            match best_child(tree, cur, seg) {
                Some((c, _, via)) => {
                    for v in via {
                        result.path.push(step(&tree.terms[v as usize], true));
                    }
                    result.path.push(step(&tree.terms[c as usize], false));
                    cur = c;
                }
                None => match column_for(tree, seg) {
                    Some(col) if is_last => column = Some(col),
                    _ => result.unmatched.push(seg.to_string()),
                },
            }
        }
        let term = &tree.terms[cur as usize];
        result.see_also = term.see_also.clone();
        // The code: the deepest matched term with one, else a "see" reference.
        let code = result.path.iter().rev().find_map(|s| s.code.clone());
        if term.code.is_none()
            && term.cells.is_empty()
            && let Some(see) = &term.see
        {
            result.followed.push(see.clone());
            if let Some(inner) = self.walk(tree, release, see, dos, depth + 1)? {
                let mut inner = inner;
                inner.query = path.to_string();
                inner.followed.splice(0..0, result.followed.clone());
                let mut full = result.path.clone();
                full.extend(inner.path);
                inner.path = full;
                return Ok(Some(inner));
            }
        }
        result.code = code;
        result.manifestation = term.manif.clone();
        if !term.cells.is_empty() || column.is_some() {
            // Tables: the cells of the deepest term that has any.
            let holder = std::iter::once(cur)
                .chain(std::iter::successors(term.parent, |p| {
                    tree.terms[*p as usize].parent
                }))
                .find(|t| !tree.terms[*t as usize].cells.is_empty());
            if let Some(h) = holder {
                for (col, value) in &tree.terms[h as usize].cells {
                    if column.is_some_and(|c| c != *col) || value.trim_matches('-').is_empty() {
                        continue;
                    }
                    result.cells.push(TableCell {
                        column: tree.heading(*col).unwrap_or("").to_string(),
                        code: value.clone(),
                    });
                }
            }
            if column.is_some() && result.cells.len() == 1 {
                result.code = Some(result.cells[0].code.clone());
            }
        }
        if result.code.is_none() && result.cells.is_empty()
            || term.code.is_none() && term.cells.is_empty()
        {
            result.subterms = tree
                .children(cur)
                .iter()
                .map(|c| tree.terms[*c as usize].display())
                .take(40)
                .collect();
        }
        if let Some(code) = &result.code {
            let clean = code.trim_end_matches(['-', '.']);
            result.validation =
                Some(self.validate_one(clean, dos, Some(crate::System::Icd10Cm))?);
        }
        Ok(Some(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::icd10cm::index::parse_index;

    #[test]
    fn segment_matching() {
        let xml = r#"<ICD10CM.index><version>2026</version><title>INDEX</title><letter><title>D</title>
          <mainTerm><title>Diabetes, diabetic<nemod>(mellitus)</nemod></title><code>E11.9</code>
            <term level="1"><title>type 2</title><code>E11.9</code>
              <term level="2"><title>with</title>
                <term level="3"><title>chronic kidney disease</title><code>E11.22</code></term>
              </term>
            </term>
          </mainTerm></letter></ICD10CM.index>"#;
        let t = parse_index(xml.as_bytes(), "i.xml").expect("parses");
        assert_eq!(match_score("diabetes", &t.terms[0]), 2);
        assert_eq!(match_score("Diabetes, diabetic", &t.terms[0]), 3);
        assert_eq!(match_score("type 2", &t.terms[1]), 3);
        assert_eq!(match_score("kidney", &t.terms[3]), 1);
        assert_eq!(match_score("liver", &t.terms[3]), 0);
        let (c, _, via) =
            best_child(&t, 1, "chronic kidney disease").expect("found through 'with'");
        assert_eq!(c, 3);
        assert_eq!(via, vec![2]);
    }
}
