//! Proprietary Laboratory Analyses (PLA, `####U`): recognising PLA codes and
//! lab test names in order text against a user-supplied PLA list, and
//! flagging claims at risk of an "experimental/investigational" denial when
//! the payer profile has no coverage policy for the test.
//!
//! The PLA list is the user's (code, lab, test name) CSV; no AMA descriptor
//! text ships here. Test names are matched token-wise and case-insensitively
//! with one token-level Aho–Corasick automaton ([`PhraseMatcher`]) built once
//! per list, so a scan is linear in the note length plus the matches.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use medledger_text::{CharIndex, Token, TokenKind, tokenize};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rules::Evidence;

/// One row of the user's PLA list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaEntry {
    pub code: String,
    pub lab: String,
    pub test_name: String,
}

/// How a PLA was found in the order text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// An explicit `####U` code.
    Code,
    /// The test name from the PLA list.
    Name,
}

/// A PLA found in order text. `lab` and `test_name` are `None` for a
/// `####U` code that is not in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaMatch {
    pub code: String,
    pub lab: Option<String>,
    pub test_name: Option<String>,
    pub evidence: Evidence,
    pub matched_by: MatchedBy,
}

/// The user's PLA list with its name matcher.
#[derive(Debug, Clone)]
pub struct PlaList {
    entries: Vec<PlaEntry>,
    by_code: HashMap<String, usize>,
    names: PhraseMatcher,
    /// Pattern id in `names` → the entries with that (normalised) name.
    name_entries: Vec<Vec<usize>>,
}

/// Whether `s` is a PLA code: four ASCII digits then `U`.
pub fn is_pla_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'U'
}

impl PlaList {
    /// Reads a PLA list: a header row naming the columns `code`, `lab` and
    /// `test_name` (any order, other columns ignored), then one row per
    /// test. Fields may be quoted. Errors name `what` and the line.
    pub fn from_csv<R: Read>(reader: R, what: &str) -> Result<PlaList> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = rdr.headers().map_err(|e| csv_error(what, &e))?.clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
        };
        let (Some(code_col), Some(lab_col), Some(name_col)) =
            (col("code"), col("lab"), col("test_name"))
        else {
            return Err(Error::input(
                format!("{what}: line 1"),
                "the header row must name the columns code, lab and test_name",
            ));
        };
        let mut entries = Vec::new();
        let mut lines = Vec::new();
        for record in rdr.records() {
            let record = record.map_err(|e| csv_error(what, &e))?;
            let line = record.position().map_or(0, csv::Position::line);
            if record.iter().all(str::is_empty) {
                continue;
            }
            let field = |i: usize| record.get(i).unwrap_or("").to_string();
            let entry = PlaEntry {
                code: field(code_col),
                lab: field(lab_col),
                test_name: field(name_col),
            };
            let at = format!("{what}: line {line}");
            if !is_pla_code(&entry.code) {
                return Err(Error::input(
                    at,
                    format!(
                        "code {:?} is not a PLA code (four digits then U, e.g. 0001U)",
                        entry.code
                    ),
                ));
            }
            if entry.lab.is_empty() {
                return Err(Error::input(at, "lab is empty"));
            }
            if phrase_key(&entry.test_name).is_empty() {
                return Err(Error::input(at, "test_name has no words"));
            }
            entries.push(entry);
            lines.push(line);
        }
        PlaList::build(entries, &lines, what)
    }

    /// A list from entries already in memory (validated as in
    /// [`PlaList::from_csv`]; errors name the entry index).
    pub fn from_entries(entries: Vec<PlaEntry>, what: &str) -> Result<PlaList> {
        for (i, e) in entries.iter().enumerate() {
            if !is_pla_code(&e.code) {
                return Err(Error::input(
                    format!("{what}: entry {i}"),
                    format!("code {:?} is not a PLA code", e.code),
                ));
            }
            if phrase_key(&e.test_name).is_empty() {
                return Err(Error::input(
                    format!("{what}: entry {i}"),
                    "test_name has no words",
                ));
            }
        }
        let lines: Vec<u64> = (0..entries.len() as u64).collect();
        PlaList::build(entries, &lines, what)
    }

    fn build(entries: Vec<PlaEntry>, lines: &[u64], what: &str) -> Result<PlaList> {
        let mut by_code = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(&first) = by_code.get(&e.code) {
                let at = |k: usize| lines.get(k).copied().unwrap_or(0);
                return Err(Error::input(
                    format!("{what}: line {}", at(i)),
                    format!(
                        "code {} is listed twice (first on line {})",
                        e.code,
                        at(first)
                    ),
                ));
            }
            by_code.insert(e.code.clone(), i);
        }
        // One pattern per distinct normalised name.
        let mut pattern_of: HashMap<Vec<String>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<String>> = Vec::new();
        let mut name_entries: Vec<Vec<usize>> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let key = phrase_key(&e.test_name);
            let id = *pattern_of.entry(key.clone()).or_insert_with(|| {
                patterns.push(key);
                name_entries.push(Vec::new());
                patterns.len() - 1
            });
            name_entries[id].push(i);
        }
        Ok(PlaList {
            names: PhraseMatcher::from_keys(patterns),
            entries,
            by_code,
            name_entries,
        })
    }

    /// The list's entries in file order.
    pub fn entries(&self) -> &[PlaEntry] {
        &self.entries
    }

    /// The entry for `code`, if listed.
    pub fn get(&self, code: &str) -> Option<&PlaEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// PLA codes and test names in `order_text`, in text order. Explicit
    /// `####U` codes are whole tokens; unknown codes are returned with no
    /// lab or name. Test names match case-insensitively token by token
    /// (punctuation between words is ignored); where names overlap the
    /// leftmost longest wins. Evidence is verbatim, in code points.
    pub fn find_in_text(&self, order_text: &str) -> Vec<PlaMatch> {
        let tokens = tokenize(order_text);
        let index = CharIndex::new(order_text);
        let mut out: Vec<(usize, PlaMatch)> = Vec::new();
        for tok in &tokens {
            let text = order_text.get(tok.start..tok.end).unwrap_or("");
            if tok.kind != TokenKind::Word || !is_pla_code_any_case(text) {
                continue;
            }
            let code = text.to_ascii_uppercase();
            let entry = self.get(&code);
            out.push((
                tok.start,
                PlaMatch {
                    lab: entry.map(|e| e.lab.clone()),
                    test_name: entry.map(|e| e.test_name.clone()),
                    code,
                    evidence: Evidence::from_bytes(order_text, &index, tok.start, tok.end),
                    matched_by: MatchedBy::Code,
                },
            ));
        }
        for hit in leftmost_longest(self.names.find(&tokens)) {
            let (start, end) = (tokens[hit.first].start, tokens[hit.last].end);
            for &i in self.name_entries.get(hit.pattern).into_iter().flatten() {
                let e = &self.entries[i];
                out.push((
                    start,
                    PlaMatch {
                        code: e.code.clone(),
                        lab: Some(e.lab.clone()),
                        test_name: Some(e.test_name.clone()),
                        evidence: Evidence::from_bytes(order_text, &index, start, end),
                        matched_by: MatchedBy::Name,
                    },
                ));
            }
        }
        out.sort_by_key(|(start, m)| (*start, m.matched_by == MatchedBy::Name));
        out.into_iter().map(|(_, m)| m).collect()
    }
}

fn is_pla_code_any_case(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && (b[4] == b'U' || b[4] == b'u')
}

fn csv_error(what: &str, e: &csv::Error) -> Error {
    let line = e.position().map(csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        csv::ErrorKind::Io(io) => format!("cannot read: {io}"),
        _ => "malformed CSV".to_string(),
    };
    match line {
        Some(l) => Error::input(format!("{what}: line {l}"), message),
        None => Error::input(what, message),
    }
}

/// A payer's PLA coverage profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayerProfile {
    pub name: String,
    /// PLA codes the payer has a coverage policy for.
    #[serde(default)]
    pub covered_pla: Vec<String>,
    /// PLA codes the payer explicitly treats as experimental or
    /// investigational (only matters under [`PlaPolicy::Allow`]).
    #[serde(default)]
    pub non_covered_pla: Vec<String>,
    /// What happens to a listed PLA the payer has no policy for.
    #[serde(default)]
    pub pla_policy: PlaPolicy,
}

/// The default for PLA codes without a payer coverage policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaPolicy {
    /// No policy → at risk of an experimental/investigational denial.
    #[default]
    Deny,
    /// No policy → treated as covered.
    Allow,
}

impl PayerProfile {
    /// A profile from JSON; errors name `what`.
    pub fn from_json(text: &str, what: &str) -> Result<PayerProfile> {
        let p: PayerProfile = serde_json::from_str(text).map_err(|e| {
            Error::input(
                format!("{what}: line {} column {}", e.line(), e.column()),
                strip_position(&e.to_string()),
            )
        })?;
        p.validate(what)
    }

    /// A profile from TOML; errors name `what` and the line.
    pub fn from_toml(text: &str, what: &str) -> Result<PayerProfile> {
        let p: PayerProfile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text.get(..s.start).unwrap_or(text).matches('\n').count() + 1);
            let at = match line {
                Some(l) => format!("{what}: line {l}"),
                None => what.to_string(),
            };
            Error::input(at, e.message().to_string())
        })?;
        p.validate(what)
    }

    fn validate(self, what: &str) -> Result<PayerProfile> {
        for (field, list) in [
            ("covered_pla", &self.covered_pla),
            ("non_covered_pla", &self.non_covered_pla),
        ] {
            for (i, code) in list.iter().enumerate() {
                if !is_pla_code(code) {
                    return Err(Error::input(
                        format!("{what}: {field}[{i}]"),
                        format!("{code:?} is not a PLA code"),
                    ));
                }
            }
        }
        Ok(self)
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The denial risk of one PLA on a claim to a payer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaRisk {
    /// No coverage policy: at risk of an experimental/investigational denial.
    ExperimentalInvestigational,
    /// The payer covers it.
    Covered,
    /// A `####U` code that is not in the PLA list.
    UnknownPla,
}

/// One flag per PLA code found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaFlag {
    pub code: String,
    pub risk: PlaRisk,
    pub reason: String,
}

/// Flags each distinct PLA code in `matches` (first occurrence order)
/// against the payer's coverage profile.
pub fn assess(matches: &[PlaMatch], payer: &PayerProfile) -> Vec<PlaFlag> {
    let covered: HashSet<&str> = payer.covered_pla.iter().map(String::as_str).collect();
    let non_covered: HashSet<&str> = payer.non_covered_pla.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in matches {
        if !seen.insert(m.code.as_str()) {
            continue;
        }
        let known = matches
            .iter()
            .any(|o| o.code == m.code && o.test_name.is_some());
        let (risk, reason) = if !known {
            (
                PlaRisk::UnknownPla,
                format!(
                    "{} looks like a PLA code but is not in the PLA list; check the code or update the list",
                    m.code
                ),
            )
        } else if non_covered.contains(m.code.as_str()) {
            (
                PlaRisk::ExperimentalInvestigational,
                format!(
                    "{} considers {} experimental or investigational",
                    payer.name, m.code
                ),
            )
        } else if covered.contains(m.code.as_str()) {
            (
                PlaRisk::Covered,
                format!("{} has a coverage policy for {}", payer.name, m.code),
            )
        } else {
            match payer.pla_policy {
                PlaPolicy::Deny => (
                    PlaRisk::ExperimentalInvestigational,
                    format!(
                        "{} has no coverage policy for {}; expect an experimental/investigational denial unless a policy or prior authorization applies",
                        payer.name, m.code
                    ),
                ),
                PlaPolicy::Allow => (
                    PlaRisk::Covered,
                    format!(
                        "{} covers PLA tests without a specific policy by default",
                        payer.name
                    ),
                ),
            }
        };
        out.push(PlaFlag {
            code: m.code.clone(),
            risk,
            reason,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Token-phrase matcher, shared with the telehealth and DMHT note readers.

/// The matching key of one token: its lower-case text with typographic
/// apostrophes folded; punctuation tokens have none.
fn token_key(tok: &Token) -> Option<String> {
    match tok.kind {
        TokenKind::Punct => None,
        _ => Some(tok.lower.replace('\u{2019}', "'")),
    }
}

/// The token keys of a phrase.
pub(crate) fn phrase_key(phrase: &str) -> Vec<String> {
    tokenize(phrase).iter().filter_map(token_key).collect()
}

/// A phrase found by [`PhraseMatcher::find`]: pattern id and the indices of
/// its first and last tokens (inclusive) in the token slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhraseHit {
    pub pattern: usize,
    pub first: usize,
    pub last: usize,
}

/// Finds many phrases at once over a token stream: a token-level
/// Aho–Corasick automaton. Phrases and text are compared key by key
/// (lower case, punctuation tokens skipped), so matches start and end on
/// word boundaries.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhraseMatcher {
    children: Vec<HashMap<Box<str>, u32>>,
    fail: Vec<u32>,
    /// Pattern ending exactly at the node.
    output: Vec<Option<u32>>,
    /// Nearest node on the failure chain with an output.
    dict: Vec<Option<u32>>,
    len: Vec<usize>,
}

impl PhraseMatcher {
    /// A matcher for `phrases`; pattern ids are their indices. Phrases with
    /// no words never match.
    pub fn new<S: AsRef<str>>(phrases: &[S]) -> PhraseMatcher {
        PhraseMatcher::from_keys(phrases.iter().map(|p| phrase_key(p.as_ref())).collect())
    }

    fn from_keys(patterns: Vec<Vec<String>>) -> PhraseMatcher {
        let mut m = PhraseMatcher {
            children: vec![HashMap::new()],
            fail: vec![0],
            output: vec![None],
            dict: vec![None],
            len: Vec::with_capacity(patterns.len()),
        };
        for (id, words) in patterns.iter().enumerate() {
            m.len.push(words.len());
            if words.is_empty() {
                continue;
            }
            let mut node = 0usize;
            for w in words {
                node = match m.children[node].get(w.as_str()) {
                    Some(&next) => next as usize,
                    None => {
                        let next = m.children.len();
                        m.children.push(HashMap::new());
                        m.fail.push(0);
                        m.output.push(None);
                        m.dict.push(None);
                        m.children[node].insert(w.clone().into_boxed_str(), next as u32);
                        next
                    }
                };
            }
            if m.output[node].is_none() {
                m.output[node] = Some(id as u32);
            }
        }
        // Breadth-first failure links.
        let mut queue = std::collections::VecDeque::new();
        let root_children: Vec<u32> = m.children[0].values().copied().collect();
        for c in root_children {
            queue.push_back(c as usize);
        }
        while let Some(node) = queue.pop_front() {
            let edges: Vec<(Box<str>, u32)> = m.children[node]
                .iter()
                .map(|(k, &v)| (k.clone(), v))
                .collect();
            for (word, child) in edges {
                let child = child as usize;
                let mut f = m.fail[node] as usize;
                let target = loop {
                    if let Some(&t) = m.children[f].get(&*word) {
                        break t as usize;
                    }
                    if f == 0 {
                        break 0;
                    }
                    f = m.fail[f] as usize;
                };
                m.fail[child] = target as u32;
                m.dict[child] = if m.output[target].is_some() {
                    Some(target as u32)
                } else {
                    m.dict[target]
                };
                queue.push_back(child);
            }
        }
        m
    }

    fn step(&self, mut node: usize, key: &str) -> usize {
        loop {
            if let Some(&next) = self.children[node].get(key) {
                return next as usize;
            }
            if node == 0 {
                return 0;
            }
            node = self.fail[node] as usize;
        }
    }

    /// Every occurrence of every phrase in `tokens`, ordered by end token.
    pub fn find(&self, tokens: &[Token]) -> Vec<PhraseHit> {
        let mut hits = Vec::new();
        // Positions (token indices) of the word tokens seen so far, to map
        // a pattern length back to its first token.
        let mut words: Vec<usize> = Vec::new();
        let mut node = 0usize;
        for (i, tok) in tokens.iter().enumerate() {
            let Some(key) = token_key(tok) else { continue };
            words.push(i);
            node = self.step(node, &key);
            let mut at = if self.output[node].is_some() {
                Some(node)
            } else {
                self.dict[node].map(|d| d as usize)
            };
            while let Some(n) = at {
                if let Some(p) = self.output[n] {
                    let p = p as usize;
                    let len = self.len[p];
                    if let Some(&first) = words.len().checked_sub(len).and_then(|k| words.get(k)) {
                        hits.push(PhraseHit {
                            pattern: p,
                            first,
                            last: i,
                        });
                    }
                }
                at = self.dict[n].map(|d| d as usize);
            }
        }
        hits
    }
}

/// Keeps the leftmost-longest hits that do not overlap.
pub(crate) fn leftmost_longest(mut hits: Vec<PhraseHit>) -> Vec<PhraseHit> {
    hits.sort_by(|a, b| a.first.cmp(&b.first).then(b.last.cmp(&a.last)));
    let mut out: Vec<PhraseHit> = Vec::with_capacity(hits.len());
    for h in hits {
        if out.last().is_none_or(|prev| h.first > prev.last) {
            out.push(h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> PlaList {
        PlaList::from_csv(
            "code,lab,test_name\n0037U,Foundation Medicine,FoundationOne CDx\n0022U,Thermo Fisher,Oncomine Dx Target Test\n0242U,Guardant Health,Guardant360 CDx\n".as_bytes(),
            "pla.csv",
        )
        .unwrap()
    }

    #[test]
    fn pla_code_shape() {
        assert!(is_pla_code("0001U"));
        assert!(!is_pla_code("123U"));
        assert!(!is_pla_code("0001X"));
        assert!(!is_pla_code("00001U"));
    }

    #[test]
    fn matcher_finds_overlapping_phrases() {
        let m = PhraseMatcher::new(&["a b c", "b c", "c d", "x"]);
        let toks = tokenize("a b c d");
        let hits = m.find(&toks);
        let pats: Vec<usize> = hits.iter().map(|h| h.pattern).collect();
        assert_eq!(pats, vec![0, 1, 2]);
        let kept = leftmost_longest(hits);
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].first, kept[0].last), (0, 2));
    }

    #[test]
    fn matcher_skips_punctuation_between_words() {
        let m = PhraseMatcher::new(&["foundation one"]);
        let toks = tokenize("Foundation-One test");
        let hits = m.find(&toks);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].first, hits[0].last), (0, 2));
    }

    #[test]
    fn matcher_follows_failure_links() {
        let m = PhraseMatcher::new(&["a a b"]);
        let toks = tokenize("a a a b");
        let hits = m.find(&toks);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].first, hits[0].last), (1, 3));
    }

    #[test]
    fn finds_codes_and_names() {
        let l = list();
        let text = "Order: FOUNDATIONONE cdx and 0022U; also 9999U.";
        let found = l.find_in_text(text);
        let got: Vec<(&str, MatchedBy, &str)> = found
            .iter()
            .map(|m| (m.code.as_str(), m.matched_by, m.evidence.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("0037U", MatchedBy::Name, "FOUNDATIONONE cdx"),
                ("0022U", MatchedBy::Code, "0022U"),
                ("9999U", MatchedBy::Code, "9999U"),
            ]
        );
        assert!(found[2].test_name.is_none());
    }

    #[test]
    fn code_needs_word_boundary() {
        let l = list();
        assert!(l.find_in_text("X0022U 0022UU 10022U").is_empty());
    }

    #[test]
    fn duplicate_codes_are_rejected() {
        let err = PlaList::from_csv(
            "code,lab,test_name\n0001U,A,Test A\n0001U,B,Test B\n".as_bytes(),
            "p.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 3") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn payer_policy_defaults_to_deny() {
        let p = PayerProfile::from_json(r#"{"name":"Acme","covered_pla":["0037U"]}"#, "acme.json")
            .unwrap();
        let l = list();
        let flags = assess(&l.find_in_text("0037U and 0022U and 0001U"), &p);
        let risks: Vec<PlaRisk> = flags.iter().map(|f| f.risk).collect();
        assert_eq!(
            risks,
            vec![
                PlaRisk::Covered,
                PlaRisk::ExperimentalInvestigational,
                PlaRisk::UnknownPla
            ]
        );
    }

    #[test]
    fn payer_profile_rejects_bad_codes() {
        let err = PayerProfile::from_toml("name = \"A\"\ncovered_pla = [\"123U\"]\n", "a.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("covered_pla[0]"), "{err}");
        let err = PayerProfile::from_json(r#"{"name":"A","colour":1}"#, "a.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a.json: line 1") && err.contains("colour"),
            "{err}"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "foundationone",
            "CDx",
            "oncomine",
            "Dx",
            "target",
            "test",
            "0037U",
            "0022u",
            "9999U",
            "für",
            "Müller",
            "—",
            ",",
            "-",
            "(",
            ")",
            "123U",
            "a",
            "b",
            "ü",
            "\u{2019}s",
        ];

        fn text() -> impl Strategy<Value = String> {
            prop::collection::vec(
                (
                    prop::sample::select(WORDS),
                    prop::sample::select(&[" ", "", "\n", "-", "  "][..]),
                ),
                0..40,
            )
            .prop_map(|v| v.into_iter().flat_map(|(w, s)| [w, s]).collect())
        }

        fn naive(patterns: &[Vec<String>], keys: &[(usize, String)]) -> Vec<(usize, usize, usize)> {
            let mut out = Vec::new();
            for (p, pat) in patterns.iter().enumerate() {
                if pat.is_empty() || pat.len() > keys.len() {
                    continue;
                }
                for s in 0..=keys.len() - pat.len() {
                    if keys[s..s + pat.len()].iter().map(|k| &k.1).eq(pat.iter()) {
                        out.push((p, keys[s].0, keys[s + pat.len() - 1].0));
                    }
                }
            }
            out.sort();
            out
        }

        proptest! {
            #[test]
            fn matcher_agrees_with_naive_search(
                pats in prop::collection::vec(prop::collection::vec(prop::sample::select(&["a", "b", "c"][..]), 1..4), 1..6),
                words in prop::collection::vec(prop::sample::select(&["a", "b", "c", "-", "d"][..]), 0..30),
            ) {
                let phrases: Vec<String> = pats.iter().map(|p| p.join(" ")).collect();
                let m = PhraseMatcher::new(&phrases);
                let text = words.join(" ");
                let toks = tokenize(&text);
                let keys: Vec<(usize, String)> = toks.iter().enumerate().filter_map(|(i, t)| token_key(t).map(|k| (i, k))).collect();
                let mut got: Vec<(usize, usize, usize)> = m.find(&toks).into_iter().map(|h| (h.pattern, h.first, h.last)).collect();
                got.sort();
                // Duplicate phrases map to their first pattern id.
                let mut want = naive(&pats.iter().map(|p| p.iter().map(|w| w.to_string()).collect()).collect::<Vec<_>>(), &keys);
                want.retain(|(p, _, _)| phrases.iter().position(|q| q == &phrases[*p]) == Some(*p));
                prop_assert_eq!(got, want);
            }

            #[test]
            fn find_in_text_is_verbatim(text in text()) {
                let l = list();
                let chars: Vec<char> = text.chars().collect();
                for m in l.find_in_text(&text) {
                    prop_assert!(m.evidence.start <= m.evidence.end && m.evidence.end <= chars.len());
                    let span: String = chars[m.evidence.start..m.evidence.end].iter().collect();
                    prop_assert_eq!(span, m.evidence.text);
                    prop_assert!(is_pla_code(&m.code));
                }
            }

            #[test]
            fn find_in_text_never_panics(text in "\\PC{0,200}") {
                let l = list();
                for m in l.find_in_text(&text) {
                    let span: String = text.chars().skip(m.evidence.start).take(m.evidence.end - m.evidence.start).collect();
                    prop_assert_eq!(span, m.evidence.text);
                }
            }

            #[test]
            fn from_csv_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
                let _ = PlaList::from_csv(bytes.as_slice(), "fuzz.csv");
            }

            #[test]
            fn from_csv_never_panics_on_csv_like_text(
                rows in prop::collection::vec(prop::collection::vec("[0-9U\",a-z ]{0,8}", 0..5), 0..8),
            ) {
                let mut text = String::from("code,lab,test_name\n");
                for r in rows {
                    text.push_str(&r.join(","));
                    text.push('\n');
                }
                if let Err(e) = PlaList::from_csv(text.as_bytes(), "fuzz.csv") {
                    prop_assert!(e.to_string().starts_with("fuzz.csv"));
                }
            }
        }
    }
}
