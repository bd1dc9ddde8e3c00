//! The ICD-10-CM Alphabetic Index XML family (CDC schema `icd10cm-index`):
//! the Index to Diseases and Injuries, the External Cause of Injuries Index,
//! the Table of Neoplasms and the Table of Drugs and Chemicals. All four use
//! the same elements: `letter`, `mainTerm`, `term level=N`, `title` with
//! nonessential modifiers in `nemod`, `code`, `manif`, `see`, `seeAlso`,
//! `seecat`, `subcat`, and for the tables `indexHeading/head` and `cell`.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use super::xml::{as_text, digit_attr, error_at, next_event, resolve_ref, squash, truncated};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum IndexKind {
    /// Index to Diseases and Injuries (the main Alphabetic Index).
    Main,
    /// External Cause of Injuries Index.
    ExternalCause,
    /// Table of Neoplasms.
    Neoplasm,
    /// Table of Drugs and Chemicals.
    Drug,
}

impl IndexKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexKind::Main => "main",
            IndexKind::ExternalCause => "external-cause",
            IndexKind::Neoplasm => "neoplasm",
            IndexKind::Drug => "drug",
        }
    }

    pub fn parse(s: &str) -> Option<IndexKind> {
        match s.to_ascii_lowercase().as_str() {
            "main" | "index" | "diseases" => Some(IndexKind::Main),
            "external" | "external-cause" | "eindex" => Some(IndexKind::ExternalCause),
            "neoplasm" | "neoplasms" => Some(IndexKind::Neoplasm),
            "drug" | "drugs" | "chemical" => Some(IndexKind::Drug),
            _ => None,
        }
    }
}

/// One main term or subterm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// Title without its nonessential modifiers.
    pub title: String,
    /// Nonessential modifiers as printed, e.g. "(mellitus) (sugar)".
    pub nemod: Option<String>,
    /// 0 for a main term, N for `term level=N`.
    pub level: u8,
    pub parent: Option<u32>,
    /// One past the last descendant: the subtree of term `i` is `i + 1 .. end`.
    pub end: u32,
    pub code: Option<String>,
    /// Manifestation code printed in brackets after the code.
    pub manif: Option<String>,
    pub see: Option<String>,
    pub see_also: Option<String>,
    pub see_category: Option<String>,
    pub subcategory: Option<String>,
    /// Table cells: (column number, code or "--").
    pub cells: Vec<(u8, String)>,
}

impl Term {
    /// Title with its nonessential modifiers, as printed in the index.
    pub fn display(&self) -> String {
        match &self.nemod {
            Some(n) => format!("{} {}", self.title, n),
            None => self.title.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexTree {
    pub kind: IndexKind,
    /// `<version>`: the fiscal year.
    pub version: String,
    pub title: String,
    pub source_file: String,
    /// Table column headings: (column number, heading).
    pub headings: Vec<(u8, String)>,
    /// Every term in document order.
    pub terms: Vec<Term>,
}

impl IndexTree {
    pub fn main_terms(&self) -> impl Iterator<Item = u32> + '_ {
        self.terms
            .iter()
            .enumerate()
            .filter(|(_, t)| t.level == 0)
            .map(|(i, _)| i as u32)
    }

    /// Direct children of a term.
    pub fn children(&self, idx: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let end = self.terms[idx as usize].end;
        let mut i = idx + 1;
        while i < end {
            out.push(i);
            i = self.terms[i as usize].end;
        }
        out
    }

    pub fn heading(&self, col: u8) -> Option<&str> {
        self.headings
            .iter()
            .find(|(c, _)| *c == col)
            .map(|(_, h)| h.as_str())
    }
}

/// Which part of a title the parser is reading.
#[derive(Clone, Copy, PartialEq)]
enum TitleState {
    Plain,
    Nemod,
    Old,
}

/// Parses an index or table XML document.
pub fn parse_index(bytes: &[u8], file_name: &str) -> Result<IndexTree> {
    let text = as_text(file_name, bytes)?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut open_terms: Vec<u32> = Vec::new();
    let mut tree = IndexTree {
        kind: IndexKind::Main,
        version: String::new(),
        title: String::new(),
        source_file: file_name.to_string(),
        headings: Vec::new(),
        terms: Vec::new(),
    };
    let mut title = String::new();
    let mut nemod = String::new();
    let mut title_state = TitleState::Plain;
    let mut buf = String::new();
    let mut col: u8 = 0;
    let mut saw_root = false;

    loop {
        let (pos, event) = next_event(&mut reader, file_name, bytes, &stack)?;
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if stack.is_empty() {
                    if name != "ICD10CM.index" {
                        return Err(error_at(
                            file_name,
                            bytes,
                            pos,
                            &stack,
                            format!("expected root element <ICD10CM.index>, found <{name}>"),
                        ));
                    }
                    saw_root = true;
                }
                match name.as_str() {
                    "mainTerm" | "term" => {
                        let level = if name == "mainTerm" {
                            0
                        } else {
                            let lv = digit_attr(&e, "level");
                            match lv {
                                Some(l) => l,
                                _ => {
                                    return Err(error_at(
                                        file_name,
                                        bytes,
                                        pos,
                                        &stack,
                                        "<term> without a level attribute between 1 and 9",
                                    ));
                                }
                            }
                        };
                        let parent = open_terms.last().copied();
                        if name == "term" && parent.is_none() {
                            return Err(error_at(
                                file_name,
                                bytes,
                                pos,
                                &stack,
                                "<term> outside a <mainTerm>",
                            ));
                        }
                        tree.terms.push(Term {
                            title: String::new(),
                            nemod: None,
                            level,
                            parent,
                            end: 0,
                            code: None,
                            manif: None,
                            see: None,
                            see_also: None,
                            see_category: None,
                            subcategory: None,
                            cells: Vec::new(),
                        });
                        open_terms.push(tree.terms.len() as u32 - 1);
                    }
                    "title" => {
                        title.clear();
                        nemod.clear();
                        title_state = TitleState::Plain;
                    }
                    "nemod" => title_state = TitleState::Nemod,
                    "old" => title_state = TitleState::Old,
                    "cell" | "head" => {
                        let c = digit_attr(&e, "col");
                        col = match c {
                            Some(c) => c,
                            _ => {
                                return Err(error_at(
                                    file_name,
                                    bytes,
                                    pos,
                                    &stack,
                                    format!("<{name}> without a col attribute between 1 and 9"),
                                ));
                            }
                        };
                        buf.clear();
                    }
                    _ => buf.clear(),
                }
                stack.push(name);
            }
            Event::Text(t) => push_text(
                &mut title,
                &mut nemod,
                &mut buf,
                title_state,
                &stack,
                &t.xml10_content(),
            ),
            Event::CData(t) => push_text(
                &mut title,
                &mut nemod,
                &mut buf,
                title_state,
                &stack,
                &t.xml10_content(),
            ),
            Event::GeneralRef(r) => match resolve_ref(&r) {
                Some(s) => push_text(&mut title, &mut nemod, &mut buf, title_state, &stack, &s),
                None => {
                    return Err(error_at(
                        file_name,
                        bytes,
                        pos,
                        &stack,
                        format!("unknown entity &{};", r.xml10_content()),
                    ));
                }
            },
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                let parent_elem = stack
                    .len()
                    .checked_sub(2)
                    .and_then(|i| stack.get(i))
                    .map(String::as_str);
                let current = open_terms.last().copied();
                let value = squash(&buf);
                match name.as_str() {
                    "nemod" | "old" => title_state = TitleState::Plain,
                    "title" => {
                        let t = squash(&title);
                        let n = squash(&nemod);
                        match parent_elem {
                            Some("mainTerm" | "term") => {
                                if let Some(i) = current {
                                    let term = &mut tree.terms[i as usize];
                                    term.title = t;
                                    term.nemod = (!n.is_empty()).then_some(n);
                                }
                            }
                            Some("ICD10CM.index") => tree.title = t,
                            _ => {}
                        }
                    }
                    "version" if parent_elem == Some("ICD10CM.index") => tree.version = value,
                    "head" => tree.headings.push((col, value)),
                    "cell" => {
                        if let Some(i) = current {
                            tree.terms[i as usize].cells.push((col, value));
                        }
                    }
                    "code" | "manif" | "see" | "seeAlso" | "seecat" | "subcat" => {
                        if let Some(i) = current
                            && matches!(parent_elem, Some("mainTerm" | "term"))
                        {
                            let term = &mut tree.terms[i as usize];
                            let slot = match name.as_str() {
                                "code" => &mut term.code,
                                "manif" => &mut term.manif,
                                "see" => &mut term.see,
                                "seeAlso" => &mut term.see_also,
                                "seecat" => &mut term.see_category,
                                _ => &mut term.subcategory,
                            };
                            *slot = Some(value);
                        }
                    }
                    "mainTerm" | "term" => {
                        if let Some(i) = open_terms.pop() {
                            let end = tree.terms.len() as u32;
                            let term = &mut tree.terms[i as usize];
                            if term.title.is_empty() {
                                return Err(error_at(
                                    file_name,
                                    bytes,
                                    pos,
                                    &stack,
                                    format!("<{name}> without a <title>"),
                                ));
                            }
                            term.end = end;
                        }
                    }
                    _ => {}
                }
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(truncated(file_name, bytes, &stack));
    }
    if !saw_root || tree.terms.is_empty() {
        return Err(error_at(
            file_name,
            bytes,
            0,
            &[],
            "no index terms found: not an ICD-10-CM index file",
        ));
    }
    tree.kind = classify(&tree);
    Ok(tree)
}

fn push_text(
    title: &mut String,
    nemod: &mut String,
    buf: &mut String,
    state: TitleState,
    stack: &[String],
    s: &str,
) {
    let in_title = stack.iter().rev().any(|e| e == "title");
    if in_title {
        match state {
            TitleState::Plain => title.push_str(s),
            TitleState::Nemod => {
                if !nemod.is_empty() {
                    nemod.push(' ');
                }
                nemod.push_str(s);
            }
            TitleState::Old => {}
        }
    } else if !stack.iter().rev().any(|e| e == "old") {
        buf.push_str(s);
    }
}

fn classify(tree: &IndexTree) -> IndexKind {
    let first_heading = tree.heading(1).unwrap_or("").to_ascii_lowercase();
    let title = tree.title.to_ascii_lowercase();
    if first_heading.contains("neoplasm") || title.contains("neoplasm") {
        IndexKind::Neoplasm
    } else if first_heading.contains("substance") || title.contains("drug") {
        IndexKind::Drug
    } else if title.contains("external cause") {
        IndexKind::ExternalCause
    } else {
        IndexKind::Main
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.index>
  <version>2026</version>
  <title>ICD-10-CM INDEX TO DISEASES and INJURIES</title>
  <letter>
    <title>D</title>
    <mainTerm>
      <title>Diabetes, diabetic<nemod>(mellitus) (sugar)</nemod></title>
      <code>E11.9</code>
      <term level="1">
        <title>type 2</title>
        <code>E11.9</code>
        <term level="2">
          <title>with</title>
          <term level="3">
            <title>chronic kidney disease</title>
            <code>E11.22</code>
          </term>
          <term level="3">
            <title>polyneuropathy</title>
            <code>E11.42</code>
            <manif>G63</manif>
          </term>
        </term>
      </term>
      <term level="1">
        <title>brittle</title>
        <see>Diabetes, type 1</see>
      </term>
    </mainTerm>
  </letter>
</ICD10CM.index>"#;

    #[test]
    fn parses_terms_levels_and_references() {
        let t = parse_index(MAIN.as_bytes(), "icd10cm_index_2026.xml").expect("parses");
        assert_eq!(t.kind, IndexKind::Main);
        assert_eq!(t.version, "2026");
        assert_eq!(t.terms.len(), 6);
        assert_eq!(t.terms[0].title, "Diabetes, diabetic");
        assert_eq!(t.terms[0].nemod.as_deref(), Some("(mellitus) (sugar)"));
        assert_eq!(
            t.terms[0].display(),
            "Diabetes, diabetic (mellitus) (sugar)"
        );
        assert_eq!(t.children(0), vec![1, 5]);
        assert_eq!(t.children(2), vec![3, 4]);
        assert_eq!(t.terms[4].manif.as_deref(), Some("G63"));
        assert_eq!(t.terms[5].see.as_deref(), Some("Diabetes, type 1"));
        assert_eq!(t.main_terms().collect::<Vec<_>>(), vec![0]);
    }

    #[test]
    fn parses_table_cells_and_addenda_diffs() {
        let xml = r#"<ICD10CM.index><version>2025</version>
          <indexHeading><head col="1">Neoplasm</head><head col="2">Malignant Primary</head></indexHeading>
          <letter><title>N</title><mainTerm><title>Neoplasm, neoplastic</title><cell col="2">C80.1</cell>
            <term level="1"><title><diff><old>lung</old><new>lung, pulmonary</new></diff></title><cell col="2">C34.9-</cell></term>
          </mainTerm></letter></ICD10CM.index>"#;
        let t = parse_index(xml.as_bytes(), "neo.xml").expect("parses");
        assert_eq!(t.kind, IndexKind::Neoplasm);
        assert_eq!(
            t.headings,
            vec![(1, "Neoplasm".into()), (2, "Malignant Primary".into())]
        );
        assert_eq!(t.terms[1].title, "lung, pulmonary");
        assert_eq!(t.terms[1].cells, vec![(2, "C34.9-".into())]);
    }

    #[test]
    fn errors_name_the_position() {
        let bad = MAIN.replace("<term level=\"2\">", "<term level=\"x\">");
        let err = parse_index(bad.as_bytes(), "idx.xml")
            .expect_err("bad level")
            .to_string();
        assert!(err.starts_with("idx.xml:13"), "{err}");
        assert!(err.contains("level"), "{err}");
        let err = parse_index(&MAIN.as_bytes()[..300], "cut.xml")
            .expect_err("truncated")
            .to_string();
        assert!(err.contains("cut.xml"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
                        cut in 0usize..1000, junk in "[<>/a-z&;\"= ]{0,12}") {
            let _ = parse_index(&bytes, "fuzz.xml");
            let cut = cut.min(MAIN.len());
            let doc = format!("{}{}{}", &MAIN[..cut], junk, &MAIN[cut..]);
            let _ = parse_index(doc.as_bytes(), "fuzz.xml");
        }
    }
}
