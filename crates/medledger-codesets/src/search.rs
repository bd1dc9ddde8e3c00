//! Code search: ranked across systems, typo tolerant, abbreviations and
//! synonyms understood, word order free.
//!
//! An inverted index built at install time over every code's title,
//! inclusion terms and the Alphabetic Index / table terms that point to it.
//! Words are lower-cased and stemmed (Snowball English); scoring is BM25
//! with field weights, multiplied by the share of the query's concepts a
//! code covers. Misspelled words are matched through a Levenshtein automaton
//! over the vocabulary (an `fst`).

use std::collections::BTreeMap;
use std::path::Path;

use fst::{IntoStreamer, Streamer};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::abbrev;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::normalize::{self, System};
use crate::store::Manifest;

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "in", "is", "of", "on", "or", "the", "to",
];

/// A document to index.
pub struct DocInput {
    pub system: System,
    pub key: String,
    pub title: String,
    pub billable: bool,
    /// Extra text with a weight (title is indexed with weight 4).
    pub fields: Vec<(String, u16)>,
    /// Terms that name the code exactly (inclusion terms, index terms):
    /// a query equal to one of them, or to the title, ranks the code first.
    pub terms: Vec<String>,
}

/// A term without its parenthesised and bracketed words (the tabular's and
/// index's nonessential modifiers and abbreviations).
pub fn strip_bracketed(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain
}

/// The order-free key of a term with its nonessential modifiers removed:
/// parenthesised words, "NOS", "NEC" and comma-separated qualifiers that
/// only say the term is unspecified ("Pneumonia, unspecified organism",
/// "Urinary tract infection, site not specified") do not change what a
/// term names.
pub fn term_key(text: &str) -> String {
    let plain = strip_bracketed(text);
    let unspecific = |seg: &str| {
        let l = seg.to_lowercase();
        l.contains("unspecified")
            || l.contains("not specified")
            || l.contains("not elsewhere classified")
    };
    let mut segments: Vec<&str> = plain.split(',').collect();
    if segments.len() > 1 {
        segments.retain(|seg| !unspecific(seg));
    }
    let kept = segments.join(" ");
    let mut stems: Vec<String> = words(&kept)
        .iter()
        .filter(|w| !matches!(w.as_str(), "nos" | "nec" | "unspecified"))
        .map(|w| stem(w))
        .collect();
    stems.sort();
    stems.dedup();
    stems.join(" ")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    pub system: System,
    pub key: String,
    pub title: String,
    pub billable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchIndex {
    pub built_from: Vec<String>,
    docs: Vec<Doc>,
    /// fst map: stemmed word -> word id.
    vocab: Vec<u8>,
    /// fst map: surface word form -> id of its stem, for typo matching.
    surface: Vec<u8>,
    /// word id -> first posting; `offsets[w + 1]` ends it.
    offsets: Vec<u32>,
    post_doc: Vec<u32>,
    post_tf: Vec<u16>,
    doc_len: Vec<u16>,
    avg_len: f32,
    /// (term key, doc), sorted: exact-term matches.
    phrases: Vec<(String, u32)>,
    /// Docs sorted by code key, for code and code-prefix queries.
    by_key: Vec<u32>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub code: String,
    pub system: System,
    pub title: String,
    pub billable: bool,
    pub score: f32,
    /// The query words (after expansion) this code matched.
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    pub systems: Vec<System>,
    pub limit: usize,
    pub billable_only: bool,
}

/// A query concept: the word and its alternatives in the vocabulary
/// (word id, weight).
type Concept = (String, Vec<(u64, f32)>, Option<String>);

thread_local! {
    static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
}

fn stem(word: &str) -> String {
    STEMMER.with(|s| s.stem(word).into_owned())
}

/// Lower-cased words of a text, without stopwords.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

fn tokens(text: &str) -> Vec<String> {
    words(text).iter().map(|w| stem(w)).collect()
}

impl SearchIndex {
    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    pub fn build(inputs: Vec<DocInput>, built_from: Vec<String>) -> Result<SearchIndex> {
        let mut vocab: BTreeMap<String, Vec<(u32, u16)>> = BTreeMap::new();
        let mut forms: BTreeMap<String, String> = BTreeMap::new();
        let mut docs = Vec::with_capacity(inputs.len());
        let mut doc_len = Vec::with_capacity(inputs.len());
        let mut phrases: Vec<(String, u32)> = Vec::new();
        for (d, input) in inputs.into_iter().enumerate() {
            let mut tf: BTreeMap<String, u32> = BTreeMap::new();
            let mut len = 0u32;
            let mut add = |text: &str, weight: u16| {
                for w in words(text) {
                    let t = match forms.get(&w) {
                        Some(t) => t.clone(),
                        None => {
                            let t = stem(&w);
                            forms.insert(w, t.clone());
                            t
                        }
                    };
                    *tf.entry(t).or_default() += u32::from(weight);
                    len += u32::from(weight);
                }
            };
            add(&input.title, 4);
            for t in std::iter::once(&input.title).chain(input.terms.iter()) {
                let k = term_key(t);
                if !k.is_empty() {
                    phrases.push((k, d as u32));
                }
            }
            for (text, w) in &input.fields {
                add(text, *w);
            }
            for (t, n) in tf {
                vocab
                    .entry(t)
                    .or_default()
                    .push((d as u32, n.min(u32::from(u16::MAX)) as u16));
            }
            doc_len.push(len.min(u32::from(u16::MAX)) as u16);
            docs.push(Doc {
                system: input.system,
                key: input.key,
                title: input.title,
                billable: input.billable,
            });
        }
        let mut builder = fst::MapBuilder::memory();
        let mut offsets = Vec::with_capacity(vocab.len() + 1);
        let ids: BTreeMap<&str, u64> = vocab
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i as u64))
            .collect();
        let mut surface = fst::MapBuilder::memory();
        for (form, t) in &forms {
            if let Some(id) = ids.get(t.as_str()) {
                surface
                    .insert(form, *id)
                    .map_err(|e| Error::Invalid(format!("search vocabulary: {e}")))?;
            }
        }
        let surface = surface
            .into_inner()
            .map_err(|e| Error::Invalid(format!("search vocabulary: {e}")))?;
        drop(ids);
        let mut post_doc = Vec::new();
        let mut post_tf = Vec::new();
        for (id, (word, postings)) in vocab.into_iter().enumerate() {
            builder
                .insert(&word, id as u64)
                .map_err(|e| Error::Invalid(format!("search vocabulary: {e}")))?;
            offsets.push(post_doc.len() as u32);
            for (d, n) in postings {
                post_doc.push(d);
                post_tf.push(n);
            }
        }
        offsets.push(post_doc.len() as u32);
        phrases.sort();
        phrases.dedup();
        let vocab = builder
            .into_inner()
            .map_err(|e| Error::Invalid(format!("search vocabulary: {e}")))?;
        let avg_len = if doc_len.is_empty() {
            1.0
        } else {
            doc_len.iter().map(|&l| f32::from(l)).sum::<f32>() / doc_len.len() as f32
        };
        let mut by_key: Vec<u32> = (0..docs.len() as u32).collect();
        by_key.sort_by(|a, b| docs[*a as usize].key.cmp(&docs[*b as usize].key));
        Ok(SearchIndex {
            built_from,
            docs,
            vocab,
            surface,
            offsets,
            post_doc,
            post_tf,
            doc_len,
            avg_len,
            by_key,
            phrases,
        })
    }

    /// Builds the index over the newest release of each system named in the
    /// manifest.
    pub fn build_from_store(data_dir: &Path, manifest: &Manifest) -> Result<SearchIndex> {
        let engine = Engine::with_manifest(data_dir.to_path_buf(), manifest.clone());
        let (inputs, built_from) = engine.search_documents()?;
        SearchIndex::build(inputs, built_from)
    }

    fn vocab_map(&self) -> Result<fst::Map<&[u8]>> {
        fst::Map::new(self.vocab.as_slice())
            .map_err(|e| Error::Invalid(format!("search vocabulary: {e}")))
    }

    fn postings(&self, word: u64) -> impl Iterator<Item = (u32, u16)> + '_ {
        let w = word as usize;
        let (a, b) = (self.offsets[w] as usize, self.offsets[w + 1] as usize);
        self.post_doc[a..b]
            .iter()
            .copied()
            .zip(self.post_tf[a..b].iter().copied())
    }

    /// The query's concepts: each is a set of alternative stemmed words with
    /// a weight (exact 1.0, synonym 0.9, fuzzy 0.6).
    fn concepts(&self, query: &str) -> Result<Vec<Concept>> {
        let map = self.vocab_map()?;
        let mut raw: Vec<String> = Vec::new();
        let lowered = query.to_lowercase();
        let mut text = lowered.clone();
        for (phrase, replacement) in abbrev::SYNONYMS.iter().filter(|(p, _)| p.contains(' ')) {
            if text.contains(phrase) {
                text = text.replace(phrase, replacement);
            }
        }
        for w in words(&text) {
            match abbrev::expand_abbreviation(&w) {
                Some(expansion) => raw.extend(words(expansion)),
                None => raw.push(w),
            }
        }
        let mut out: Vec<Concept> = Vec::new();
        for w in raw {
            if out.iter().any(|(seen, _, _)| *seen == w) {
                continue;
            }
            let mut alts: Vec<(u64, f32)> = Vec::new();
            let s = stem(&w);
            let mut best = None;
            if let Some(id) = map.get(&s) {
                alts.push((id, 1.0));
                best = Some(s.clone());
            }
            if let Some(syn) = abbrev::synonym(&w) {
                for sw in tokens(syn) {
                    if let Some(id) = map.get(&sw) {
                        alts.push((id, 0.9));
                    }
                }
            }
            let n = w.chars().count();
            if alts.is_empty() && n >= 4 && !w.chars().all(|c| c.is_ascii_digit()) {
                let surface = fst::Map::new(self.surface.as_slice())
                    .map_err(|e| Error::Invalid(format!("search vocabulary: {e}")))?;
                let df =
                    |id: u64| (self.offsets[id as usize + 1] - self.offsets[id as usize]) as usize;
                let mut cands: Vec<(u64, usize, String)> = Vec::new();
                // Swapped neighbours first: cheap, and the commonest typo.
                let chars: Vec<char> = w.chars().collect();
                for i in 0..chars.len().saturating_sub(1) {
                    let mut v = chars.clone();
                    v.swap(i, i + 1);
                    let form: String = v.into_iter().collect();
                    if let Some(id) = surface.get(&form)
                        && !cands.iter().any(|(c, _, _)| *c == id)
                    {
                        cands.push((id, df(id), stem(&form)));
                    }
                }
                for distance in [1u32, 2] {
                    if !cands.is_empty() || (distance == 2 && n < 8) {
                        break;
                    }
                    let Ok(lev) = fst::automaton::Levenshtein::new(&w, distance) else {
                        break;
                    };
                    let mut stream = surface.search(lev).into_stream();
                    while let Some((form, id)) = stream.next() {
                        if !cands.iter().any(|(c, _, _)| *c == id) {
                            cands.push((id, df(id), stem(&String::from_utf8_lossy(form))));
                        }
                    }
                }
                cands.sort_by_key(|c| std::cmp::Reverse(c.1));
                best = cands.first().map(|c| c.2.clone());
                alts.extend(cands.into_iter().take(3).map(|(id, _, _)| (id, 0.6)));
            }
            out.push((w, alts, best));
        }
        Ok(out)
    }

    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<Vec<SearchHit>> {
        let limit = if opts.limit == 0 { 20 } else { opts.limit };
        let n_docs = self.docs.len();
        let allowed = |d: &Doc| {
            (opts.systems.is_empty() || opts.systems.contains(&d.system))
                && (!opts.billable_only || d.billable)
        };
        let mut hits: Vec<SearchHit> = Vec::new();

        // A code typed as the query: exact and prefix matches first.
        let q = query.trim();
        let key = normalize::key(q);
        if !q.contains(' ') && !normalize::candidate_systems(q).is_empty()
            || (key.len() >= 3 && normalize::looks_icd10cm(&key))
        {
            let start = self
                .by_key
                .partition_point(|&d| self.docs[d as usize].key.as_str() < key.as_str());
            let mut exact: Vec<&Doc> = self.by_key[start..]
                .iter()
                .map(|&d| &self.docs[d as usize])
                .take_while(|d| d.key.starts_with(&key))
                .filter(|d| allowed(d))
                .collect();
            exact.sort_by(|a, b| (a.key.len(), &a.key).cmp(&(b.key.len(), &b.key)));
            for (i, d) in exact.into_iter().take(limit).enumerate() {
                hits.push(SearchHit {
                    code: normalize::display(d.system, &d.key),
                    system: d.system,
                    title: d.title.clone(),
                    billable: d.billable,
                    score: 1000.0 - i as f32,
                    matched: vec![key.clone()],
                });
            }
            if !hits.is_empty() {
                return Ok(hits);
            }
        }

        let concepts = self.concepts(query)?;
        if concepts.is_empty() {
            return Ok(hits);
        }
        let mut score = vec![0f32; n_docs];
        let mut covered = vec![0u64; n_docs];
        let mut touched: Vec<u32> = Vec::new();
        let (k1, b) = (1.2f32, 0.5f32);
        for (ci, (_, alts, _)) in concepts.iter().enumerate().take(64) {
            for &(word, weight) in alts {
                let df = (self.offsets[word as usize + 1] - self.offsets[word as usize]) as f32;
                let idf = ((n_docs as f32 - df + 0.5) / (df + 0.5) + 1.0).ln();
                for (d, tf) in self.postings(word) {
                    let di = d as usize;
                    let tf = f32::from(tf) / 4.0;
                    let norm =
                        1.0 - b + b * f32::from(self.doc_len[di]) / 4.0 / (self.avg_len / 4.0);
                    let s = weight * idf * tf * (k1 + 1.0) / (tf + k1 * norm);
                    if score[di] == 0.0 {
                        touched.push(d);
                    }
                    score[di] += s;
                    covered[di] |= 1 << ci;
                }
            }
        }
        let n_concepts = concepts.len().min(64) as f32;
        let phrase = words(&query.to_lowercase()).join(" ");
        // Docs that one of their terms names exactly.
        let mut exact_key: Vec<String> =
            concepts.iter().filter_map(|(_, _, b)| b.clone()).collect();
        exact_key.sort();
        exact_key.dedup();
        let exact_key = exact_key.join(" ");
        let start = self
            .phrases
            .partition_point(|(k, _)| k.as_str() < exact_key.as_str());
        let exact: Vec<u32> = self.phrases[start..]
            .iter()
            .take_while(|(k, _)| *k == exact_key)
            .map(|(_, d)| *d)
            .collect();
        let mut ranked: Vec<(f32, u32)> = touched
            .into_iter()
            .filter(|&d| allowed(&self.docs[d as usize]))
            .map(|d| {
                let doc = &self.docs[d as usize];
                let coverage = covered[d as usize].count_ones() as f32 / n_concepts;
                let mut s = score[d as usize] * coverage * coverage;
                // ICD-11 extension codes (chapter X) never stand alone, and a
                // terminated HCPCS code cannot be billed: both rank low.
                let secondary = (doc.system == System::Icd11 && doc.key.starts_with('X'))
                    || (doc.system == System::Hcpcs && !doc.billable);
                if secondary {
                    s *= 0.3;
                } else if exact.contains(&d) {
                    s *= 20.0;
                }
                if doc.billable {
                    s *= 1.05;
                }
                (s, d)
            })
            .collect();
        // Only the best candidates get the (costlier) phrase check.
        let by_score = |a: &(f32, u32), b: &(f32, u32)| {
            b.0.total_cmp(&a.0).then_with(|| {
                self.docs[a.1 as usize]
                    .key
                    .cmp(&self.docs[b.1 as usize].key)
            })
        };
        let keep = (limit * 4).max(64);
        if ranked.len() > keep {
            ranked.select_nth_unstable_by(keep, by_score);
            ranked.truncate(keep);
        }
        if !phrase.is_empty() {
            for (s, d) in ranked.iter_mut() {
                if words(&self.docs[*d as usize].title)
                    .join(" ")
                    .contains(&phrase)
                {
                    *s *= 1.3;
                }
            }
        }
        ranked.sort_by(by_score);
        for (s, d) in ranked.into_iter().take(limit) {
            let doc = &self.docs[d as usize];
            let matched = concepts
                .iter()
                .enumerate()
                .filter(|(ci, _)| covered[d as usize] & (1 << ci) != 0)
                .map(|(_, (w, _, _))| w.clone())
                .collect();
            hits.push(SearchHit {
                code: normalize::display(doc.system, &doc.key),
                system: doc.system,
                title: doc.title.clone(),
                billable: doc.billable,
                score: s,
                matched,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(key: &str, title: &str) -> DocInput {
        DocInput {
            system: System::Icd10Cm,
            key: key.into(),
            title: title.into(),
            billable: true,
            fields: vec![],
            terms: vec![],
        }
    }

    fn index() -> SearchIndex {
        SearchIndex::build(
            vec![
                doc(
                    "E1122",
                    "Type 2 diabetes mellitus with diabetic chronic kidney disease",
                ),
                doc(
                    "E1121",
                    "Type 2 diabetes mellitus with diabetic nephropathy",
                ),
                doc("E119", "Type 2 diabetes mellitus without complications"),
                DocInput {
                    terms: vec![
                        "hypertension (arterial) (benign) (essential)".into(),
                        "high blood pressure".into(),
                    ],
                    ..doc("I10", "Essential (primary) hypertension")
                },
                doc("I1A0", "Resistant hypertension"),
                doc("N183", "Chronic kidney disease, stage 3 (moderate)"),
                doc("J449", "Chronic obstructive pulmonary disease, unspecified"),
            ],
            vec!["test".into()],
        )
        .expect("builds")
    }

    fn top(q: &str) -> String {
        let hits = index()
            .search(
                q,
                &SearchOptions {
                    limit: 5,
                    ..Default::default()
                },
            )
            .expect("search");
        hits.first().map(|h| h.code.clone()).unwrap_or_default()
    }

    #[test]
    fn ranks_full_matches_first_in_any_word_order() {
        assert_eq!(top("type 2 diabetes with kidney disease"), "E11.22");
        assert_eq!(top("kidney disease diabetes type 2"), "E11.22");
    }

    #[test]
    fn understands_abbreviations_synonyms_and_typos() {
        assert_eq!(top("HTN"), "I10");
        assert_eq!(top("COPD"), "J44.9");
        assert_eq!(top("T2DM renal disease"), "E11.22");
        assert_eq!(top("diabetis mellitus nephropaty"), "E11.21");
        assert_eq!(top("hypertensoin"), "I10");
    }

    #[test]
    fn a_term_named_exactly_ranks_first() {
        assert_eq!(
            term_key("Hypertension (arterial) (benign) NOS"),
            "hypertens"
        );
        assert_eq!(top("hypertension"), "I10");
        assert_eq!(top("high blood pressure"), "I10");
    }

    #[test]
    fn a_typed_code_finds_itself_and_its_children() {
        let hits = index()
            .search("e11.2", &SearchOptions::default())
            .expect("search");
        let codes: Vec<_> = hits.iter().map(|h| h.code.as_str()).collect();
        assert_eq!(codes, vec!["E11.21", "E11.22"]);
        assert_eq!(top("I10"), "I10");
    }

    #[test]
    fn filters_by_system() {
        let opts = SearchOptions {
            systems: vec![System::Hcpcs],
            limit: 5,
            billable_only: false,
        };
        assert!(
            index()
                .search("diabetes", &opts)
                .expect("search")
                .is_empty()
        );
    }
}
