//! Neighbour votes: the coded notes of the history most like the note being
//! coded (cosine similarity of idf-weighted concept sets) and how many of
//! them carried each candidate's code. A re-ranker feature only: a vote
//! never proposes a code, so every suggestion keeps its own evidence.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::dict::Vocab;

/// Neighbours consulted per note.
pub const DEFAULT_K: usize = 30;

/// Notes of the history kept for neighbour votes (the first ones, in
/// history order): the index stays small and the query time bounded.
pub const MAX_DOCS: usize = 20_000;

/// A concept is kept for a history note only when at least this many
/// history notes have it: a word of one note alone (a name, a record
/// number) never lands in the model file, and rare words weigh little in
/// the similarity anyway.
pub const MIN_CONCEPT_NOTES: u32 = 3;

/// The history's notes as the model keeps them (at most [`MAX_DOCS`]):
/// concepts shared by at least [`MIN_CONCEPT_NOTES`] notes, none with a
/// digit, and the final codes.
pub fn history_docs<'a, C, I>(notes: I) -> Vec<NeighbourDoc>
where
    C: Iterator<Item = &'a String>,
    I: Iterator<Item = (C, &'a [String])>,
{
    let notes: Vec<(Vec<&String>, &[String])> = notes
        .take(MAX_DOCS)
        .map(|(c, g)| {
            let mut c: Vec<&String> = c
                .filter(|w| !w.chars().any(|ch| ch.is_ascii_digit()))
                .collect();
            c.sort_unstable();
            c.dedup();
            (c, g)
        })
        .collect();
    let mut df: FxHashMap<&str, u32> = FxHashMap::default();
    for (c, _) in &notes {
        for w in c {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    notes
        .iter()
        .map(|(c, g)| {
            NeighbourDoc::new(
                c.iter()
                    .filter(|w| df[w.as_str()] >= MIN_CONCEPT_NOTES)
                    .map(|w| (*w).clone()),
                g,
            )
        })
        .collect()
}

/// One coded note of the history as the model keeps it: its distinct
/// content concepts (stems, no text) and its final codes (normalised keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighbourDoc {
    pub concepts: Vec<String>,
    pub codes: Vec<String>,
}

impl NeighbourDoc {
    /// Sorts and deduplicates both lists (the index relies on it).
    pub fn new(concepts: impl IntoIterator<Item = String>, codes: &[String]) -> NeighbourDoc {
        let mut concepts: Vec<String> = concepts.into_iter().collect();
        concepts.sort_unstable();
        concepts.dedup();
        let mut codes = codes.to_vec();
        codes.sort_unstable();
        codes.dedup();
        NeighbourDoc { concepts, codes }
    }
}

/// What the neighbours say about one code.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Vote {
    /// Similarity-weighted share of the neighbours carrying the code.
    pub share: f64,
    /// The same for any code of its 3-character category.
    pub category_share: f64,
    /// Mean similarity of the neighbours (how much the votes are worth).
    pub similarity: f64,
}

/// Inverted index over the history's notes.
#[derive(Debug, Default)]
pub struct NeighbourIndex {
    /// Concept id -> (note, idf weight of the concept / note norm).
    postings: FxHashMap<u32, Vec<(u32, f32)>>,
    idf: FxHashMap<u32, f32>,
    /// Per history note: its code ids and its category ids, sorted.
    codes: Vec<(Vec<u32>, Vec<u32>)>,
    code_ids: FxHashMap<String, u32>,
    category_ids: FxHashMap<String, u32>,
    k: usize,
}

/// The neighbours of one note, with their votes summed once per note.
#[derive(Debug, Clone, Default)]
pub struct Neighbours {
    /// (history note, cosine similarity), best first.
    pub notes: Vec<(u32, f32)>,
    total: f64,
    by_code: FxHashMap<u32, f64>,
    by_category: FxHashMap<u32, f64>,
}

impl NeighbourIndex {
    /// Indexes `docs`, interning their concepts in `vocab` (so that notes'
    /// tokens map onto them).
    pub fn build(docs: &[NeighbourDoc], k: usize, vocab: &mut Vocab) -> NeighbourIndex {
        let mut idx = NeighbourIndex {
            k,
            ..NeighbourIndex::default()
        };
        if docs.is_empty() || k == 0 {
            return idx;
        }
        let ids: Vec<Vec<u32>> = docs
            .iter()
            .map(|d| {
                let mut v: Vec<u32> = d.concepts.iter().map(|c| vocab.id(c)).collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        let mut df: FxHashMap<u32, u32> = FxHashMap::default();
        for v in &ids {
            for &c in v {
                *df.entry(c).or_default() += 1;
            }
        }
        let n = docs.len() as f32;
        // Concepts in every note (or nearly) say nothing about a note's topic.
        idx.idf = df
            .into_iter()
            .map(|(c, d)| (c, ((n + 1.0) / (d as f32 + 0.5)).ln()))
            .filter(|(_, w)| *w > 0.15)
            .collect();
        for (di, v) in ids.iter().enumerate() {
            let norm = v
                .iter()
                .filter_map(|c| idx.idf.get(c))
                .map(|w| w * w)
                .sum::<f32>()
                .sqrt();
            if norm == 0.0 {
                continue;
            }
            for c in v {
                if let Some(w) = idx.idf.get(c) {
                    idx.postings
                        .entry(*c)
                        .or_default()
                        .push((di as u32, w / norm));
                }
            }
        }
        for d in docs {
            let mut own: Vec<u32> = Vec::with_capacity(d.codes.len());
            let mut cats: Vec<u32> = Vec::with_capacity(d.codes.len());
            for c in &d.codes {
                let n = idx.code_ids.len() as u32;
                own.push(*idx.code_ids.entry(c.clone()).or_insert(n));
                let cat = c.get(..3).unwrap_or(c);
                let n = idx.category_ids.len() as u32;
                cats.push(*idx.category_ids.entry(cat.to_string()).or_insert(n));
            }
            own.sort_unstable();
            own.dedup();
            cats.sort_unstable();
            cats.dedup();
            idx.codes.push((own, cats));
        }
        idx
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The `k` history notes most similar to a note with these concepts
    /// (any order, duplicates allowed).
    pub fn query(&self, concepts: &[u32]) -> Neighbours {
        if self.is_empty() {
            return Neighbours::default();
        }
        let mut q: Vec<u32> = concepts
            .iter()
            .copied()
            .filter(|c| self.idf.contains_key(c))
            .collect();
        q.sort_unstable();
        q.dedup();
        let qnorm = q.iter().map(|c| self.idf[c].powi(2)).sum::<f32>().sqrt();
        if qnorm == 0.0 {
            return Neighbours::default();
        }
        let mut scores = vec![0f32; self.codes.len()];
        for c in &q {
            let w = self.idf[c] / qnorm;
            for &(d, dw) in &self.postings[c] {
                scores[d as usize] += w * dw;
            }
        }
        let mut top: Vec<(u32, f32)> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(d, s)| (d as u32, s))
            .collect();
        let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if top.len() > self.k {
            top.select_nth_unstable_by(self.k - 1, by_score);
            top.truncate(self.k);
        }
        top.sort_by(by_score);
        let mut nb = Neighbours::default();
        for &(d, s) in &top {
            let s = f64::from(s);
            nb.total += s;
            let (own, cats) = &self.codes[d as usize];
            for c in own {
                *nb.by_code.entry(*c).or_default() += s;
            }
            for c in cats {
                *nb.by_category.entry(*c).or_default() += s;
            }
        }
        nb.notes = top;
        nb
    }

    /// The neighbours' vote on a code key (normalised, no dot).
    pub fn vote(&self, nb: &Neighbours, key: &str) -> Vote {
        if nb.total == 0.0 {
            return Vote::default();
        }
        let weight = |ids: &FxHashMap<String, u32>, sums: &FxHashMap<u32, f64>, k: &str| {
            ids.get(k).and_then(|i| sums.get(i)).copied().unwrap_or(0.0)
        };
        let cat = key.get(..3).unwrap_or(key);
        Vote {
            share: weight(&self.code_ids, &nb.by_code, key) / nb.total,
            category_share: weight(&self.category_ids, &nb.by_category, cat) / nb.total,
            similarity: nb.total / nb.notes.len() as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(words: &str, codes: &[&str]) -> NeighbourDoc {
        NeighbourDoc::new(
            words.split(' ').map(str::to_string),
            &codes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn nearest_notes_vote_with_their_similarity() {
        let docs = vec![
            doc("renal colic stone ureter pain patient", &["N201", "R52"]),
            doc(
                "renal stone ureter hydronephrosis patient",
                &["N201", "N133"],
            ),
            doc("cough fever pneumonia lung patient", &["J189", "R509"]),
            doc("fever malaria travel patient", &["B54", "R509"]),
        ];
        let mut vocab = Vocab::default();
        let idx = NeighbourIndex::build(&docs, 2, &mut vocab);
        let q: Vec<u32> = ["stone", "ureter", "renal", "patient", "unknownword"]
            .iter()
            .filter_map(|w| vocab.get(w))
            .collect();
        let nb = idx.query(&q);
        assert_eq!(nb.notes.len(), 2, "k neighbours");
        let ids: Vec<u32> = nb.notes.iter().map(|x| x.0).collect();
        assert_eq!(
            ids,
            vec![1, 0],
            "the two stone notes; the one with fewer other words is nearer"
        );
        let v = idx.vote(&nb, "N201");
        assert!((v.share - 1.0).abs() < 1e-9, "both carry N20.1: {v:?}");
        let r52 = idx.vote(&nb, "R52");
        let (s0, s1) = (f64::from(nb.notes[0].1), f64::from(nb.notes[1].1));
        // R52 is the farther note's, N13.3 (category N13) the nearer one's.
        assert!((r52.share - s1 / (s0 + s1)).abs() < 1e-6, "{r52:?}");
        assert!((idx.vote(&nb, "N139").category_share - s0 / (s0 + s1)).abs() < 1e-6);
        assert_eq!(idx.vote(&nb, "J189").share, 0.0);
        assert!(v.similarity > 0.0 && v.similarity <= 1.0 + 1e-6);
        // "patient" is in every note: no weight, no match on it alone.
        let only_common = idx.query(&[vocab.get("patient").unwrap()]);
        assert!(only_common.notes.is_empty());
    }

    #[test]
    fn the_model_keeps_only_words_shared_by_several_notes() {
        let notes: Vec<(Vec<String>, Vec<String>)> = (0..4)
            .map(|i| {
                let words = format!("renal colic stone smithson{i} mrn{i}12 ureter");
                let mut w: Vec<String> = words.split(' ').map(str::to_string).collect();
                if i < 2 {
                    w.push("rarer".into());
                }
                (w, vec!["N23".to_string()])
            })
            .collect();
        let docs = history_docs(notes.iter().map(|(w, g)| (w.iter(), &g[..])));
        assert_eq!(docs.len(), 4);
        for d in &docs {
            assert_eq!(d.concepts, ["colic", "renal", "stone", "ureter"]);
            assert_eq!(d.codes, ["N23"]);
        }
    }

    #[test]
    fn an_empty_history_votes_nothing() {
        let mut vocab = Vocab::default();
        let idx = NeighbourIndex::build(&[], DEFAULT_K, &mut vocab);
        let nb = idx.query(&[1, 2, 3]);
        assert_eq!(idx.vote(&nb, "A00"), Vote::default());
    }
}
