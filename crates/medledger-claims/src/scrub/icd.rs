//! An ICD-10-CM release prepared for the scrubber: billable codes in a hash
//! map, and the Excludes1 and "code first" references of every tabular node
//! parsed into packed code ranges, so that checking a claim's diagnoses
//! needs no allocation and no string search.

use std::sync::Arc;

use medledger_codesets::icd10cm::order::OrderFile;
use medledger_codesets::icd10cm::tabular::{Note, NoteKind, Resolution, Tabular};
use rustc_hash::FxHashMap;

use super::keys::{Day, pack, prefix_range};

/// The node is a manifestation code: its title (or an ancestor's) says "in
/// diseases classified elsewhere", or it carries an unconditional "code
/// first underlying ..." note.
pub(crate) const MANIFESTATION: u8 = 1;
/// The node carries (or inherits) a "code first" note with no "if
/// applicable" / "if known" / "any" condition.
pub(crate) const CODE_FIRST_UNCONDITIONAL: u8 = 2;

/// A packed code range named by a note.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefRange {
    pub lo: u64,
    pub hi: u64,
}

impl RefRange {
    #[inline]
    pub fn contains(&self, k: u64) -> bool {
        self.lo <= k && k <= self.hi
    }

    /// The range as written in ICD-10-CM style (`E08.-`, `C00-D49`, `E11.9`).
    pub fn label(&self) -> String {
        let lo = unpack(self.lo);
        let hi_key = unpack_hi(self.hi);
        if prefix_range(&lo).map(|r| r.1) == Some(self.hi) {
            let d = display(&lo);
            if lo.len() == 3 {
                format!("{d}.-")
            } else {
                format!("{d}-")
            }
        } else {
            format!("{}-{}", display(&lo), display(&hi_key))
        }
    }
}

fn unpack(k: u64) -> String {
    k.to_be_bytes()
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect()
}

fn unpack_hi(k: u64) -> String {
    k.to_be_bytes()
        .iter()
        .take_while(|&&b| b != 0xFF && b != 0)
        .map(|&b| b as char)
        .collect()
}

/// Dotted display of a code key.
pub(crate) fn display(key: &str) -> String {
    if key.len() > 3 && key.is_ascii() {
        format!("{}.{}", &key[..3], &key[3..])
    } else {
        key.to_string()
    }
}

/// `(start, len)` into the range pool.
type Span = (u32, u32);

/// Which notes a span holds.
#[derive(Default, Clone, Copy)]
struct NodeRefs {
    excl1: Span,
    code_first: Span,
}

/// Where a reference was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A category, subcategory or code (the code itself or an ancestor).
    Node(u32),
    /// A block (section).
    Section(u32),
    /// A chapter.
    Chapter(u32),
}

/// One ICD-10-CM release, indexed.
pub(crate) struct IcdIndex {
    pub id: String,
    pub release: String,
    pub from: Option<Day>,
    pub to: Option<Day>,
    pub tab: Arc<Tabular>,
    /// Billable code → tabular node.
    codes: FxHashMap<u64, u32>,
    node_flags: Vec<u8>,
    nodes: Vec<NodeRefs>,
    sections: Vec<NodeRefs>,
    chapters: Vec<NodeRefs>,
    ranges: Vec<RefRange>,
}

fn conditional(text: &str) -> bool {
    let l = text.to_ascii_lowercase();
    [
        "if applicable",
        "if known",
        "any ",
        "if present",
        "if desired",
    ]
    .iter()
    .any(|c| l.contains(c))
}

/// Parses the code references in a note: every parenthesised group, split
/// at commas, each item a code, a code with a trailing `-` or `.-`, or a
/// `FIRST-LAST` range.
pub(crate) fn parse_refs(text: &str, out: &mut Vec<RefRange>) {
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(')') else { break };
        for item in after[..close].split([',', ';']) {
            if let Some(r) = parse_ref(item.trim()) {
                out.push(r);
            }
        }
        rest = &after[close + 1..];
    }
}

fn code_key(s: &str) -> Option<String> {
    let k: String = s
        .chars()
        .filter(|c| *c != '.')
        .collect::<String>()
        .to_ascii_uppercase();
    let b = k.as_bytes();
    let ok = (3..=7).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_alphanumeric()
        && b.iter().all(u8::is_ascii_alphanumeric);
    ok.then_some(k)
}

fn parse_ref(item: &str) -> Option<RefRange> {
    let item = item.trim_end_matches(['-', '.']).trim();
    if item.is_empty() {
        return None;
    }
    match item.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (
                code_key(a.trim_end_matches(['.', '-']))?,
                code_key(b.trim_end_matches(['.', '-']))?,
            );
            let (lo, _) = prefix_range(&a)?;
            let (_, hi) = prefix_range(&b)?;
            (lo <= hi).then_some(RefRange { lo, hi })
        }
        None => {
            let k = code_key(item)?;
            let (lo, hi) = prefix_range(&k)?;
            Some(RefRange { lo, hi })
        }
    }
}

impl IcdIndex {
    /// Indexes a tabular (with its order file, which decides billable status
    /// where it is installed, as the engine's validation does).
    pub fn build(
        id: &str,
        release: &str,
        from: Option<Day>,
        to: Option<Day>,
        tab: Arc<Tabular>,
        order: Option<&OrderFile>,
    ) -> IcdIndex {
        let mut ranges = Vec::new();
        let refs_of = |notes: &[Note], ranges: &mut Vec<RefRange>| -> NodeRefs {
            let mut r = NodeRefs::default();
            let start = ranges.len() as u32;
            for n in notes.iter().filter(|n| n.kind == NoteKind::Excludes1) {
                for t in n.texts.iter() {
                    parse_refs(t, ranges);
                }
            }
            r.excl1 = (start, ranges.len() as u32 - start);
            let start = ranges.len() as u32;
            for n in notes.iter().filter(|n| n.kind == NoteKind::CodeFirst) {
                for t in n.texts.iter() {
                    parse_refs(t, ranges);
                }
            }
            r.code_first = (start, ranges.len() as u32 - start);
            r
        };
        let nodes: Vec<NodeRefs> = tab
            .nodes
            .iter()
            .map(|n| refs_of(&n.notes, &mut ranges))
            .collect();
        let sections: Vec<NodeRefs> = tab
            .sections
            .iter()
            .map(|s| refs_of(&s.notes, &mut ranges))
            .collect();
        let chapters: Vec<NodeRefs> = tab
            .chapters
            .iter()
            .map(|c| refs_of(&c.notes, &mut ranges))
            .collect();

        // Flags: own notes and title, then inherited from the parent (nodes
        // come in document order, parents first).
        let mut node_flags = vec![0u8; tab.nodes.len()];
        for (i, n) in tab.nodes.iter().enumerate() {
            let mut f = 0u8;
            if n.desc
                .to_ascii_lowercase()
                .contains("in diseases classified elsewhere")
            {
                f |= MANIFESTATION;
            }
            for note in n.notes.iter().filter(|n| n.kind == NoteKind::CodeFirst) {
                for t in note.texts.iter() {
                    if !conditional(t) {
                        f |= CODE_FIRST_UNCONDITIONAL;
                        let l = t.trim_start().to_ascii_lowercase();
                        if l.starts_with("underlying") || l.starts_with("the underlying") {
                            f |= MANIFESTATION;
                        }
                    }
                }
            }
            if let Some(p) = n.parent {
                f |= node_flags[p as usize];
            }
            node_flags[i] = f;
        }
        // Block-level unconditional code-first notes apply to every node of the block.
        let sec_flags: Vec<u8> = tab
            .sections
            .iter()
            .map(|sec| {
                let any = sec
                    .notes
                    .iter()
                    .filter(|n| n.kind == NoteKind::CodeFirst)
                    .any(|n| n.texts.iter().any(|t| !conditional(t)));
                if any { CODE_FIRST_UNCONDITIONAL } else { 0 }
            })
            .collect();
        for (i, n) in tab.nodes.iter().enumerate() {
            node_flags[i] |= sec_flags[n.section as usize];
        }

        let mut codes = FxHashMap::default();
        codes.reserve(80_000);
        for i in 0..tab.nodes.len() as u32 {
            if !tab.is_leaf(i) {
                continue;
            }
            match tab.seven_for(i) {
                Some((_, def)) => {
                    let stem = tab.padded_stem(i);
                    let mut buf = String::with_capacity(7);
                    for (c, _) in &def.extensions {
                        buf.clear();
                        buf.push_str(&stem);
                        buf.push(*c);
                        codes.insert(pack(&buf), i);
                    }
                }
                None => {
                    codes.insert(pack(&tab.nodes[i as usize].key), i);
                }
            }
        }
        if let Some(order) = order {
            for e in &order.entries {
                let k = pack(&e.key);
                if e.billable && !codes.contains_key(&k) {
                    let node = match tab.resolve(&e.key) {
                        Resolution::Billable { node, .. }
                        | Resolution::Header { node }
                        | Resolution::NeedsSeventh { node }
                        | Resolution::InvalidSeventh { node, .. }
                        | Resolution::MissingPlaceholder { node, .. } => Some(node),
                        Resolution::Unknown { nearest } => nearest,
                    };
                    if let Some(n) = node {
                        codes.insert(k, n);
                    }
                } else if !e.billable {
                    codes.remove(&k);
                }
            }
        }
        IcdIndex {
            id: id.to_string(),
            release: release.to_string(),
            from,
            to,
            tab,
            codes,
            node_flags,
            nodes,
            sections,
            chapters,
            ranges,
        }
    }

    /// Number of billable codes.
    pub fn billable(&self) -> usize {
        self.codes.len()
    }

    /// The node of a billable code.
    #[inline]
    pub fn node_of(&self, key: u64) -> Option<u32> {
        self.codes.get(&key).copied()
    }

    #[inline]
    pub fn flags(&self, node: u32) -> u8 {
        self.node_flags[node as usize]
    }

    fn span(&self, s: Span) -> &[RefRange] {
        &self.ranges[s.0 as usize..(s.0 + s.1) as usize]
    }

    /// Walks the Excludes1 (or code-first) references in force at a node:
    /// its own, its ancestors', its block's and its chapter's. Returns the
    /// first `(origin, range)` that contains `key`.
    #[inline]
    pub fn find_ref(&self, node: u32, key: u64, excl1: bool) -> Option<(Origin, RefRange)> {
        let pick = |r: &NodeRefs| if excl1 { r.excl1 } else { r.code_first };
        let mut cur = Some(node);
        while let Some(i) = cur {
            let s = pick(&self.nodes[i as usize]);
            if s.1 > 0
                && let Some(r) = self.span(s).iter().find(|r| r.contains(key))
            {
                return Some((Origin::Node(i), *r));
            }
            cur = self.tab.nodes[i as usize].parent;
        }
        let sec = self.tab.nodes[node as usize].section;
        let s = pick(&self.sections[sec as usize]);
        if s.1 > 0
            && let Some(r) = self.span(s).iter().find(|r| r.contains(key))
        {
            return Some((Origin::Section(sec), *r));
        }
        let ch = self.tab.sections[sec as usize].chapter;
        let s = pick(&self.chapters[ch as usize]);
        if s.1 > 0
            && let Some(r) = self.span(s).iter().find(|r| r.contains(key))
        {
            return Some((Origin::Chapter(ch), *r));
        }
        None
    }

    /// Whether any code-first reference is in force at a node.
    pub fn has_code_first(&self, node: u32) -> bool {
        let mut cur = Some(node);
        while let Some(i) = cur {
            if self.nodes[i as usize].code_first.1 > 0 {
                return true;
            }
            cur = self.tab.nodes[i as usize].parent;
        }
        false
    }

    /// Where an origin is, for messages.
    pub fn origin_label(&self, o: Origin) -> String {
        match o {
            Origin::Node(i) => display(&self.tab.nodes[i as usize].key),
            Origin::Section(s) => format!("block {}", self.tab.sections[s as usize].id),
            Origin::Chapter(c) => format!("chapter {}", self.tab.chapters[c as usize].number),
        }
    }

    /// Whether this release applies to a date of service exactly.
    pub fn covers(&self, d: Day) -> bool {
        self.from.is_none_or(|f| f <= d) && self.to.is_none_or(|t| d <= t)
    }

    /// The fiscal year the release is for (`release` parsed).
    pub fn fiscal_year(&self) -> Option<i32> {
        self.release.parse().ok()
    }
}

/// The US federal fiscal year of a date (October starts the next year).
pub(crate) fn fiscal_year(d: Day) -> i32 {
    let (y, m, _) = d.ymd();
    if m >= 10 { y + 1 } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(t: &str) -> Vec<String> {
        let mut v = Vec::new();
        parse_refs(t, &mut v);
        v.iter().map(RefRange::label).collect()
    }

    #[test]
    fn note_references() {
        assert_eq!(
            refs("diabetes mellitus due to underlying condition (E08.-)"),
            ["E08.-"]
        );
        assert_eq!(refs("neoplasms (C00-D49)"), ["C00-D49"]);
        assert_eq!(refs("gout (M1A.-, M10.-)"), ["M1A.-", "M10.-"]);
        assert_eq!(
            refs("coronary atherosclerosis (I25.1-, I25.7-)"),
            ["I25.1-", "I25.7-"]
        );
        assert_eq!(refs("filariasis (B74.0-B74.9)"), ["B74.0-B74.9"]);
        assert_eq!(refs("enlarged prostate (N40.1)"), ["N40.1-"]);
        assert_eq!(refs("nothing here (see also fever)"), Vec::<String>::new());
        let mut v = Vec::new();
        parse_refs("(E08-E13)", &mut v);
        assert!(
            v[0].contains(pack("E119"))
                && v[0].contains(pack("E08"))
                && !v[0].contains(pack("E14"))
        );
    }
}
