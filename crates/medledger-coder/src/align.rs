//! Word alignment between two language versions of the same notes, used to
//! carry evidence spans annotated on one version onto the other.
//!
//! A coded history may hold its evidence spans in another language than the
//! text the engine learns from (CodiEsp: spans point into the Spanish
//! originals, the engine codes the English translations). The [`Aligner`]
//! learns word translation probabilities from the parallel notes themselves
//! with IBM Model 1 (expectation-maximisation, both directions), pairing
//! sentences by their relative position in the note; [`Aligner::project`]
//! then finds, near a span's position in the other version, the contiguous
//! run of words that best translates the span in both directions.

use std::ops::Range;

use medledger_text::TokenKind;
use rustc_hash::FxHashMap;

/// Word translation tables in both directions, learned from parallel notes.
#[derive(Debug, Default)]
pub struct Aligner {
    src_vocab: FxHashMap<String, u32>,
    tgt_vocab: FxHashMap<String, u32>,
    /// p(source word | target word); target id `NULL` is the empty word.
    src_given_tgt: FxHashMap<(u32, u32), f32>,
    /// p(target word | source word); source id `NULL` is the empty word.
    tgt_given_src: FxHashMap<(u32, u32), f32>,
}

const NULL: u32 = u32::MAX;
/// Probability floor for unseen word pairs.
const FLOOR: f64 = 1e-7;

/// A word of a note: lowercase text and byte range.
#[derive(Debug, Clone)]
pub struct Word {
    pub lower: String,
    pub range: Range<usize>,
}

/// The words (letters and digits; punctuation dropped) of `text`.
pub fn words(text: &str) -> Vec<Word> {
    medledger_text::tokenize(text)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Punct)
        .map(|t| Word {
            lower: t.lower,
            range: t.start..t.end,
        })
        .collect()
}

/// Sentences of `text` as byte ranges.
fn sentence_ranges(text: &str) -> Vec<Range<usize>> {
    let toks = medledger_text::tokenize(text);
    medledger_text::sentences(text, &toks)
        .into_iter()
        .map(|s| s.start..s.end)
        .collect()
}

/// For each source sentence, the target sentences whose relative position
/// in the note overlaps it (widened by `margin`, a share of the note).
fn paired(
    src: &str,
    tgt: &str,
    src_sents: &[Range<usize>],
    tgt_sents: &[Range<usize>],
    margin: f64,
) -> Vec<Vec<usize>> {
    let (ls, lt) = (src.len().max(1) as f64, tgt.len().max(1) as f64);
    src_sents
        .iter()
        .map(|s| {
            let (a, b) = (s.start as f64 / ls - margin, s.end as f64 / ls + margin);
            tgt_sents
                .iter()
                .enumerate()
                .filter(|(_, t)| {
                    let (c, d) = (t.start as f64 / lt, t.end as f64 / lt);
                    c.max(a) < d.min(b)
                })
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

fn intern(vocab: &mut FxHashMap<String, u32>, w: &str) -> u32 {
    let n = vocab.len() as u32;
    *vocab.entry(w.to_string()).or_insert(n)
}

/// IBM Model 1: p(f | e) over sentence pairs `(f words, e words)`.
fn model1(pairs: &[(Vec<u32>, Vec<u32>)], iterations: usize) -> FxHashMap<(u32, u32), f32> {
    let mut t: FxHashMap<(u32, u32), f64> = FxHashMap::default();
    let uniform = 1e-2;
    for it in 0..iterations {
        let mut count: FxHashMap<(u32, u32), f64> = FxHashMap::default();
        let mut total: FxHashMap<u32, f64> = FxHashMap::default();
        for (f, e) in pairs {
            for &fw in f {
                let prob = |ew: u32| {
                    if it == 0 {
                        uniform
                    } else {
                        t.get(&(fw, ew)).copied().unwrap_or(FLOOR)
                    }
                };
                let z: f64 = e.iter().map(|&ew| prob(ew)).sum::<f64>() + prob(NULL);
                if z <= 0.0 {
                    continue;
                }
                for &ew in e.iter().chain(std::iter::once(&NULL)) {
                    let c = prob(ew) / z;
                    *count.entry((fw, ew)).or_default() += c;
                    *total.entry(ew).or_default() += c;
                }
            }
        }
        t = count
            .into_iter()
            .map(|((f, e), c)| ((f, e), c / total[&e]))
            .collect();
    }
    t.into_iter()
        .filter(|(_, p)| *p >= 1e-4)
        .map(|(k, p)| (k, p as f32))
        .collect()
}

impl Aligner {
    /// Learns from parallel notes `(source text, target text)`.
    pub fn train(notes: &[(&str, &str)], iterations: usize) -> Aligner {
        let mut a = Aligner::default();
        let mut fe: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        for (src, tgt) in notes {
            let (sw, tw) = (words(src), words(tgt));
            let (ss, ts) = (sentence_ranges(src), sentence_ranges(tgt));
            let pairs = paired(src, tgt, &ss, &ts, 0.0);
            for (s, targets) in ss.iter().zip(&pairs) {
                let f: Vec<u32> = sw
                    .iter()
                    .filter(|w| w.range.start >= s.start && w.range.end <= s.end)
                    .map(|w| intern(&mut a.src_vocab, &w.lower))
                    .collect();
                let e: Vec<u32> = targets
                    .iter()
                    .flat_map(|&i| {
                        let t = ts[i].clone();
                        tw.iter()
                            .filter(move |w| w.range.start >= t.start && w.range.end <= t.end)
                    })
                    .map(|w| intern(&mut a.tgt_vocab, &w.lower))
                    .collect();
                if !f.is_empty() && !e.is_empty() {
                    fe.push((f, e));
                }
            }
        }
        a.src_given_tgt = model1(&fe, iterations);
        let ef: Vec<(Vec<u32>, Vec<u32>)> = fe.into_iter().map(|(f, e)| (e, f)).collect();
        a.tgt_given_src = model1(&ef, iterations);
        a
    }

    fn p_src(&self, f: Option<u32>, e: Option<u32>) -> f64 {
        match (f, e) {
            (Some(f), e) => self
                .src_given_tgt
                .get(&(f, e.unwrap_or(NULL)))
                .map_or(FLOOR, |p| *p as f64),
            _ => FLOOR,
        }
    }

    fn p_tgt(&self, e: Option<u32>, f: Option<u32>) -> f64 {
        match (e, f) {
            (Some(e), f) => self
                .tgt_given_src
                .get(&(e, f.unwrap_or(NULL)))
                .map_or(FLOOR, |p| *p as f64),
            _ => FLOOR,
        }
    }

    /// Where the source-language span `span_text`, whose first byte lies at
    /// `span_start` of `src`, is rendered in `tgt`: the target byte range
    /// and the mean log-probability per word of the alignment (higher is
    /// better; around -1 is a clean word-for-word rendering, below -4 is
    /// usually a miss). Looks in the target sentences at the same relative
    /// position as the source sentence holding the span.
    pub fn project(
        &self,
        src: &str,
        tgt: &str,
        span_start: usize,
        span_text: &str,
    ) -> Option<(Range<usize>, f64)> {
        let f: Vec<Option<u32>> = words(span_text)
            .iter()
            .map(|w| self.src_vocab.get(&w.lower).copied())
            .collect();
        if f.is_empty() {
            return None;
        }
        let (ss, ts) = (sentence_ranges(src), sentence_ranges(tgt));
        let at = ss.iter().position(|s| s.contains(&span_start))?;
        let pairs = paired(src, tgt, &ss[at..=at], &ts, 0.02);
        let tw = words(tgt);
        let mut best: Option<(Range<usize>, f64)> = None;
        for &i in &pairs[0] {
            let sent = ts[i].clone();
            let cand: Vec<(&Word, Option<u32>)> = tw
                .iter()
                .filter(|w| w.range.start >= sent.start && w.range.end <= sent.end)
                .map(|w| (w, self.tgt_vocab.get(&w.lower).copied()))
                .collect();
            let max_len = (f.len() + 3).min(10);
            for s in 0..cand.len() {
                for n in 1..=max_len.min(cand.len() - s) {
                    let e = &cand[s..s + n];
                    let mut score = 0.0;
                    for &fw in &f {
                        let p: f64 = e.iter().map(|(_, ew)| self.p_src(fw, *ew)).sum::<f64>()
                            + self.p_src(fw, None);
                        score += (p / (n + 1) as f64).ln();
                    }
                    for (_, ew) in e {
                        let p: f64 = f.iter().map(|fw| self.p_tgt(*ew, *fw)).sum::<f64>()
                            + self.p_tgt(*ew, None);
                        score += (p / (f.len() + 1) as f64).ln();
                    }
                    let per_word = score / (f.len() + n) as f64;
                    if best.as_ref().is_none_or(|b| per_word > b.1) {
                        best = Some((e[0].0.range.start..e[n - 1].0.range.end, per_word));
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "Paciente con fiebre alta. Presenta dolor abdominal.",
                "Patient with high fever. He has abdominal pain.",
            ),
            (
                "Refiere fiebre y tos. Sin dolor.",
                "Reports fever and cough. No pain.",
            ),
            (
                "Dolor torácico intenso. Tos seca.",
                "Severe chest pain. Dry cough.",
            ),
            (
                "Fiebre de tres días. Dolor abdominal difuso.",
                "Fever for three days. Diffuse abdominal pain.",
            ),
            ("Tos productiva y fiebre.", "Productive cough and fever."),
        ]
    }

    #[test]
    fn learns_word_translations_and_projects_spans() {
        let c = corpus();
        let a = Aligner::train(&c, 8);
        let (src, tgt) = c[0];
        let at = src.find("dolor abdominal").unwrap();
        let (r, score) = a.project(src, tgt, at, "dolor abdominal").unwrap();
        assert_eq!(&tgt[r], "abdominal pain");
        assert!(score > -4.0, "{score}");
        let at = src.find("fiebre").unwrap();
        let (r, _) = a.project(src, tgt, at, "fiebre").unwrap();
        assert_eq!(&tgt[r], "fever");
    }

    #[test]
    fn unknown_or_empty_spans_do_not_panic() {
        let a = Aligner::train(&corpus(), 3);
        assert!(a.project("", "", 0, "fiebre").is_none());
        assert!(a.project("abc", "def", 0, "").is_none());
        let r = a.project(
            "palabra desconocida",
            "unknown word",
            0,
            "palabra desconocida",
        );
        if let Some((r, _)) = r {
            assert!("unknown word".get(r).is_some());
        }
    }
}
