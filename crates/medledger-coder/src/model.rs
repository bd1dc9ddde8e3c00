//! The learned model: term -> code associations mined from coded history,
//! per-code and per-term precision priors, a context policy read off the
//! history, and an L2-regularised logistic re-ranker over candidate features,
//! stored as a versioned, content-hashed JSON file that coding runs record.

use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CoderError, Result};

pub const MODEL_FORMAT: u32 = 1;

/// A learned phrase (stemmed concepts, in order) that names a code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedTerm {
    pub concepts: Vec<String>,
    pub code: String,
    /// Documents containing the phrase that carried the code.
    pub support: u32,
    /// Documents containing the phrase.
    pub df: u32,
    /// Smoothed precision support / (df + 1).
    pub weight: f32,
}

/// Which mentions the coded history codes, read off the history itself:
/// the official guidelines do not code negated or hypothetical mentions and
/// code history and family history with Z codes; some coded corpora code
/// every mention. The policy is learned, recorded and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextPolicy {
    pub code_negated: bool,
    pub code_uncertain: bool,
    pub code_historical_as_condition: bool,
    pub code_family_as_condition: bool,
    pub code_hypothetical: bool,
    /// Observed rates behind the decision: P(coded | flag) and for affirmed.
    pub rates: Vec<(String, f64, u32)>,
}

impl ContextPolicy {
    /// The ICD-10-CM Official Guidelines.
    pub fn official() -> ContextPolicy {
        ContextPolicy {
            code_negated: false,
            code_uncertain: false,
            code_historical_as_condition: false,
            code_family_as_condition: false,
            code_hypothetical: false,
            rates: Vec::new(),
        }
    }
}

/// Precision of dictionary suggestions per code (or per term) in the history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Times the engine proposed it.
    pub proposed: u32,
    /// Times it was in the final codes.
    pub accepted: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: u32,
    /// "medledger-coder-<crate version>/<content hash prefix>".
    pub version: String,
    pub trained_on: String,
    pub documents: usize,
    pub created: String,
    pub feature_names: Vec<String>,
    pub weights: Vec<f64>,
    pub threshold: f64,
    pub policy: ContextPolicy,
    pub learned_terms: Vec<LearnedTerm>,
    pub code_stats: FxHashMap<String, Stat>,
    pub term_stats: FxHashMap<String, Stat>,
    /// Times each code was in the final codes of the history.
    pub code_gold: FxHashMap<String, u32>,
    /// Document-level keyword classifiers for the history's frequent codes.
    #[serde(default)]
    pub classifiers: Vec<CodeClassifier>,
    /// Boosted trees over the same features; when present they score the
    /// candidates instead of the logistic weights (which stay as the
    /// readable linear view of the features).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booster: Option<Booster>,
    /// The history's notes as concept sets with their codes, for the
    /// neighbour-vote features (empty: no votes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<crate::neighbours::NeighbourDoc>,
    /// Neighbours consulted per note.
    #[serde(default)]
    pub neighbour_k: usize,
    pub training: TrainingReport,
}

/// A gradient-boosted ensemble of regression trees (log-odds output),
/// flattened for scoring without the training library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booster {
    pub base_score: f64,
    pub trees: Vec<Vec<TreeNode>>,
    #[serde(skip)]
    flat: Vec<FlatNode>,
    #[serde(skip)]
    roots: Vec<u32>,
}

/// A node of the compiled trees: `feature == LEAF` marks a leaf whose
/// `value` is its output; otherwise `value` is the split, `left` the child
/// for features below it and `left + 1` the other.
#[derive(Debug, Clone, PartialEq)]
struct FlatNode {
    value: f32,
    feature: u16,
    missing_left: bool,
    left: u32,
}

const LEAF: u16 = u16::MAX;

/// Rows walked together by [`Booster::logit_many`].
const LANES: usize = 8;

/// One node of a tree: a leaf with its value, or a split sending features
/// below `split` to `left`, the rest to `right` (NaN to `missing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeNode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<f64>,
    #[serde(default)]
    pub feature: u32,
    #[serde(default)]
    pub split: f64,
    #[serde(default)]
    pub left: u32,
    #[serde(default)]
    pub right: u32,
    #[serde(default)]
    pub missing: u32,
}

impl Booster {
    /// Log-odds for one feature row (NaN features follow the missing
    /// branch). A malformed tree (a child index out of range, a cycle)
    /// contributes nothing rather than panicking.
    pub fn logit(&self, x: &[f64]) -> f64 {
        if !self.flat.is_empty() {
            return self.flat_logit(x);
        }
        let mut z = self.base_score;
        for tree in &self.trees {
            let mut i = 0usize;
            for _ in 0..=tree.len() {
                let Some(n) = tree.get(i) else { break };
                if let Some(v) = n.leaf {
                    z += v;
                    break;
                }
                let f = x.get(n.feature as usize).copied().unwrap_or(f64::NAN);
                i = if f.is_nan() {
                    n.missing
                } else if f < n.split {
                    n.left
                } else {
                    n.right
                } as usize;
            }
        }
        z
    }

    /// Lays every tree out in one compact array (what [`Booster::logit`]
    /// walks when present): scoring runs once per candidate, so the nodes
    /// must sit close together (12 bytes each, a split's children side by
    /// side, splits compared in single precision). Trees that do not fit
    /// that layout (children not adjacent, not after their parent, a
    /// missing-value branch of its own) keep the array empty and the plain
    /// walk in use.
    pub fn compile(&mut self) {
        let mut flat = Vec::with_capacity(self.trees.iter().map(Vec::len).sum());
        let mut roots = Vec::with_capacity(self.trees.len());
        for tree in &self.trees {
            let base = flat.len() as u32;
            roots.push(base);
            for (i, n) in tree.iter().enumerate() {
                let node = match n.leaf {
                    Some(v) => FlatNode {
                        value: v as f32,
                        feature: LEAF,
                        missing_left: false,
                        left: 0,
                    },
                    None => {
                        let fits = (n.left as usize) < tree.len()
                            && n.left as usize > i
                            && n.right == n.left + 1
                            && (n.right as usize) < tree.len()
                            && (n.missing == n.left || n.missing == n.right)
                            && n.feature < u32::from(LEAF);
                        if !fits {
                            self.flat.clear();
                            self.roots.clear();
                            return;
                        }
                        FlatNode {
                            value: n.split as f32,
                            feature: n.feature as u16,
                            missing_left: n.missing == n.left,
                            left: base + n.left,
                        }
                    }
                };
                flat.push(node);
            }
        }
        self.flat = flat;
        self.roots = roots;
    }

    /// [`Booster::logit`] of many rows at once, written to `out`. Rows are
    /// walked through each tree in groups of [`LANES`] in lock step: the
    /// walks are independent, so the processor overlaps their node loads
    /// instead of waiting for one dependent load after another.
    pub fn logit_many(&self, rows: &[Vec<f64>], out: &mut Vec<f64>) {
        out.clear();
        if self.flat.is_empty() {
            out.extend(rows.iter().map(|x| self.logit(x)));
            return;
        }
        out.resize(rows.len(), self.base_score);
        for (group, zs) in rows.chunks(LANES).zip(out.chunks_mut(LANES)) {
            for &root in &self.roots {
                let mut at = [root as usize; LANES];
                let mut live = group.len();
                let mut done = [false; LANES];
                while live > 0 {
                    for lane in 0..group.len() {
                        if done[lane] {
                            continue;
                        }
                        let n = &self.flat[at[lane]];
                        if n.feature == LEAF {
                            zs[lane] += f64::from(n.value);
                            done[lane] = true;
                            live -= 1;
                            continue;
                        }
                        let f = group[lane]
                            .get(usize::from(n.feature))
                            .copied()
                            .unwrap_or(f64::NAN) as f32;
                        let right = if f.is_nan() {
                            !n.missing_left
                        } else {
                            f >= n.value
                        };
                        at[lane] = (n.left + u32::from(right)) as usize;
                    }
                }
            }
        }
    }

    fn flat_logit(&self, x: &[f64]) -> f64 {
        let mut z = self.base_score;
        for &root in &self.roots {
            let mut n = &self.flat[root as usize];
            // Children lie after their parents (checked in `compile`), so
            // the walk ends.
            while n.feature != LEAF {
                let f = x.get(usize::from(n.feature)).copied().unwrap_or(f64::NAN) as f32;
                let right = if f.is_nan() {
                    !n.missing_left
                } else {
                    f >= n.value
                };
                n = &self.flat[(n.left + u32::from(right)) as usize];
            }
            z += f64::from(n.value);
        }
        z
    }

    /// Fits `iterations` trees of at most `max_depth` on `(x, y)` with
    /// logistic loss.
    pub fn fit(
        x: &[Vec<f64>],
        y: &[bool],
        iterations: usize,
        max_depth: usize,
        learning_rate: f32,
    ) -> Option<Booster> {
        let rows = x.len();
        let cols = x.first()?.len();
        if rows == 0 || cols == 0 || !y.iter().any(|v| *v) || y.iter().all(|v| *v) {
            return None;
        }
        // Column-major, as the training library reads it.
        let mut data = vec![0.0; rows * cols];
        for (r, row) in x.iter().enumerate() {
            for (c, v) in row.iter().enumerate().take(cols) {
                data[c * rows + r] = *v;
            }
        }
        let m = forust_ml::Matrix::new(&data, rows, cols);
        let labels: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v))).collect();
        let mut gb = forust_ml::GradientBooster::default()
            .set_objective_type(forust_ml::objective::ObjectiveType::LogLoss)
            .set_iterations(iterations)
            .set_max_depth(max_depth)
            .set_learning_rate(learning_rate)
            .set_parallel(false);
        gb.fit_unweighted(&m, &labels, None).ok()?;
        // Early stopping is off, so every fitted tree predicts.
        let trees = gb
            .trees
            .iter()
            .map(|t| {
                t.nodes
                    .iter()
                    .map(|n| TreeNode {
                        leaf: n.is_leaf.then_some(n.weight_value as f64),
                        feature: n.split_feature as u32,
                        split: n.split_value,
                        left: n.left_child as u32,
                        right: n.right_child as u32,
                        missing: n.missing_node as u32,
                    })
                    .collect()
            })
            .collect();
        let mut b = Booster {
            base_score: gb.base_score,
            trees,
            flat: Vec::new(),
            roots: Vec::new(),
        };
        b.compile();
        Some(b)
    }
}

/// A per-code keyword model over the concepts of a document: naive-Bayes
/// word selection (counts kept) with optional fitted logistic weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeClassifier {
    pub code: String,
    /// Documents with / without the code.
    pub pos: u32,
    pub neg: u32,
    /// (concept, documents with the code containing it, documents without).
    pub features: Vec<(String, u32, u32)>,
    /// Logistic weights over the same features (bias first), fitted on the
    /// documents; when present they score instead of the naive-Bayes counts.
    #[serde(default)]
    pub lr: Option<Vec<f64>>,
}

pub const NB_ALPHA: f64 = 0.5;

impl CodeClassifier {
    /// Log-odds of the code given the present features.
    pub fn logit(&self, present: &[usize]) -> f64 {
        self.bias() + present.iter().map(|&i| self.feature_weight(i)).sum::<f64>()
    }

    /// Log-odds with no feature present.
    pub fn bias(&self) -> f64 {
        match &self.lr {
            Some(w) => w.first().copied().unwrap_or(0.0),
            None => ((self.pos as f64 + NB_ALPHA) / (self.neg as f64 + NB_ALPHA)).ln(),
        }
    }

    /// What feature `i` adds to the log-odds when present: the fitted
    /// logistic weight, or the naive-Bayes log-ratio from the counts.
    pub fn feature_weight(&self, i: usize) -> f64 {
        match &self.lr {
            Some(w) => w.get(i + 1).copied().unwrap_or(0.0),
            None => {
                let (_, pf, nf) = &self.features[i];
                let a = NB_ALPHA;
                ((*pf as f64 + a) / (self.pos as f64 + 2.0 * a)).ln()
                    - ((*nf as f64 + a) / (self.neg as f64 + 2.0 * a)).ln()
            }
        }
    }
}

/// Trains keyword classifiers: for each code in at least `min_docs`
/// documents, the concepts most indicative of it (present in at least two of
/// its documents, at least twice as frequent with it as without), best
/// `max_features` by log-odds.
pub fn train_classifiers(
    docs: &[(FxHashSet<String>, Vec<String>)],
    min_docs: u32,
    max_features: usize,
    fit_lr: bool,
) -> Vec<CodeClassifier> {
    let n = docs.len() as u32;
    let mut code_docs: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, (_, codes)) in docs.iter().enumerate() {
        for c in codes {
            code_docs.entry(c.as_str()).or_default().push(i);
        }
    }
    let mut df: FxHashMap<&str, u32> = FxHashMap::default();
    for (concepts, _) in docs {
        for c in concepts {
            *df.entry(c.as_str()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    let mut codes: Vec<(&str, Vec<usize>)> = code_docs
        .into_iter()
        .filter(|(_, d)| d.len() as u32 >= min_docs)
        .collect();
    codes.sort_by(|a, b| a.0.cmp(b.0));
    for (code, ds) in codes {
        let pos = ds.len() as u32;
        let neg = n - pos;
        let mut pf: FxHashMap<&str, u32> = FxHashMap::default();
        for &d in &ds {
            for c in &docs[d].0 {
                *pf.entry(c.as_str()).or_default() += 1;
            }
        }
        let a = NB_ALPHA;
        let mut feats: Vec<(String, u32, u32, f64)> = pf
            .into_iter()
            .filter(|(_, p)| *p >= 2)
            .map(|(c, p)| {
                let nf = df[c] - p;
                let w = ((p as f64 + a) / (pos as f64 + 2.0 * a)).ln()
                    - ((nf as f64 + a) / (neg as f64 + 2.0 * a)).ln();
                (c.to_string(), p, nf, w)
            })
            .filter(|f| f.3 >= std::f64::consts::LN_2)
            .collect();
        feats.sort_by(|x, y| y.3.total_cmp(&x.3).then(x.0.cmp(&y.0)));
        feats.truncate(max_features);
        if feats.is_empty() {
            continue;
        }
        let lr = fit_lr.then(|| {
            let index: FxHashMap<&str, usize> = feats
                .iter()
                .enumerate()
                .map(|(i, f)| (f.0.as_str(), i))
                .collect();
            let mut x = Vec::with_capacity(docs.len());
            let mut y = Vec::with_capacity(docs.len());
            for (concepts, codes) in docs {
                let mut row = vec![0.0; feats.len() + 1];
                row[0] = 1.0;
                for c in concepts {
                    if let Some(&i) = index.get(c.as_str()) {
                        row[i + 1] = 1.0;
                    }
                }
                x.push(row);
                y.push(codes.iter().any(|c| c == code));
            }
            fit_logistic(&x, &y, 1e-2, 150).0
        });
        out.push(CodeClassifier {
            code: code.to_string(),
            pos,
            neg,
            features: feats.into_iter().map(|(c, p, nf, _)| (c, p, nf)).collect(),
            lr,
        });
    }
    out
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub candidates: usize,
    pub positives: usize,
    pub gold_codes: usize,
    /// Share of gold codes the candidate generator proposed at all.
    pub candidate_recall: f64,
    pub train_micro_f1_at_threshold: f64,
    /// Out-of-fold micro-F1 of the logistic weights alone (the trees are
    /// shipped only when they beat it).
    #[serde(default)]
    pub logistic_micro_f1: f64,
    /// `boosted trees` or `logistic`: which re-ranker scores.
    #[serde(default)]
    pub reranker: String,
    pub epochs: usize,
    pub final_loss: f64,
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Model {
    /// [`Model::score`] of many feature rows (the same numbers, faster).
    pub fn score_many(&self, rows: &[Vec<f64>]) -> Vec<f64> {
        let mut out = Vec::with_capacity(rows.len());
        match &self.booster {
            Some(b) => {
                b.logit_many(rows, &mut out);
                out.iter_mut().for_each(|z| *z = sigmoid(*z));
            }
            None => out.extend(rows.iter().map(|x| self.score(x))),
        }
        out
    }

    pub fn score(&self, features: &[f64]) -> f64 {
        if let Some(b) = &self.booster {
            return sigmoid(b.logit(features));
        }
        let z: f64 = self.weights.iter().zip(features).map(|(w, x)| w * x).sum();
        sigmoid(z)
    }

    /// Sets `version` from the hash of the model's content (no I/O).
    pub fn seal(&mut self) {
        self.version = String::new();
        let body = serde_json::to_vec(self).unwrap_or_default();
        let hash = hex::encode(Sha256::digest(&body));
        self.version = format!(
            "medledger-coder-{}/{}",
            env!("CARGO_PKG_VERSION"),
            &hash[..12]
        );
    }

    pub fn save(&mut self, path: &Path) -> Result<()> {
        self.seal();
        let body = serde_json::to_vec(self).map_err(|e| CoderError::Model {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, body)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| CoderError::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    }

    pub fn load(path: &Path) -> Result<Model> {
        let bytes = std::fs::read(path).map_err(|e| CoderError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut m: Model = serde_json::from_slice(&bytes).map_err(|e| CoderError::Model {
            path: path.to_path_buf(),
            message: format!("not a medledger model file: {e}"),
        })?;
        if m.format != MODEL_FORMAT {
            return Err(CoderError::Model {
                path: path.to_path_buf(),
                message: format!(
                    "model format {} is not supported (this build reads format {MODEL_FORMAT}); retrain with `medledger learn`",
                    m.format
                ),
            });
        }
        if m.weights.len() != m.feature_names.len() {
            return Err(CoderError::Model {
                path: path.to_path_buf(),
                message: "weights and feature names differ in length".into(),
            });
        }
        if let Some(b) = &mut m.booster {
            b.compile();
        }
        Ok(m)
    }
}

/// Mines learned terms: phrases of 1-3 content concepts (in order, within a
/// sentence) whose documents carry a code more often than chance.
/// `docs` holds, per document, its sentences as concept sequences and its
/// final codes (keys).
/// Candidate phrases of a sentence: runs of 1-3 concepts, not all digits,
/// single concepts of at least four letters.
fn phrases(concepts: &[String]) -> impl Iterator<Item = String> + '_ {
    (1..=3usize).flat_map(move |n| {
        concepts.windows(n).filter_map(move |w| {
            let digits = w.iter().all(|c| c.chars().all(|ch| ch.is_ascii_digit()));
            let short = n == 1 && w[0].chars().count() < 4;
            (!digits && !short).then(|| w.join(" "))
        })
    })
}

/// The strongest `max` codes of each phrase, in a stable order.
fn best_per_phrase(groups: impl Iterator<Item = Vec<LearnedTerm>>, max: usize) -> Vec<LearnedTerm> {
    let mut out: Vec<LearnedTerm> = Vec::new();
    for mut v in groups {
        v.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.code.cmp(&b.code)));
        v.truncate(max);
        out.extend(v);
    }
    out.sort_by(|a, b| a.concepts.cmp(&b.concepts).then(a.code.cmp(&b.code)));
    out
}

/// How many times the code's base rate a learned phrase must reach.
pub const MIN_LIFT: f64 = 3.0;

pub fn mine_terms(
    docs: &[(Vec<Vec<String>>, Vec<String>)],
    min_support: u32,
    min_precision: f64,
    max_per_phrase: usize,
) -> Vec<LearnedTerm> {
    let phrases_of = |sents: &Vec<Vec<String>>| -> Vec<String> {
        let mut out: Vec<String> = sents.iter().flat_map(|s| phrases(s)).collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let per_doc: Vec<Vec<String>> = docs.iter().map(|(s, _)| phrases_of(s)).collect();
    let mut df: FxHashMap<&str, u32> = FxHashMap::default();
    for p in &per_doc {
        for ph in p {
            *df.entry(ph.as_str()).or_default() += 1;
        }
    }
    let mut pair: FxHashMap<(&str, &str), u32> = FxHashMap::default();
    for (p, (_, codes)) in per_doc.iter().zip(docs) {
        for ph in p {
            if df[ph.as_str()] < min_support {
                continue;
            }
            for c in codes {
                *pair.entry((ph.as_str(), c.as_str())).or_default() += 1;
            }
        }
    }
    // A phrase must predict the code well above the code's base rate.
    let mut base: FxHashMap<&str, f64> = FxHashMap::default();
    for (_, codes) in docs {
        for c in codes {
            *base.entry(c.as_str()).or_default() += 1.0 / docs.len().max(1) as f64;
        }
    }
    let mut by_phrase: FxHashMap<&str, Vec<LearnedTerm>> = FxHashMap::default();
    for ((ph, code), n) in pair {
        let d = df[ph];
        let weight = n as f64 / (d as f64 + 1.0);
        let lift_ok = weight >= MIN_LIFT * base.get(code).copied().unwrap_or(0.0);
        if n >= min_support && weight >= min_precision && lift_ok {
            by_phrase.entry(ph).or_default().push(LearnedTerm {
                concepts: ph.split(' ').map(str::to_string).collect(),
                code: code.to_string(),
                support: n,
                df: d,
                weight: weight as f32,
            });
        }
    }
    best_per_phrase(by_phrase.into_values(), max_per_phrase)
}

/// One document for local term mining: sentences (concepts and relative
/// position range in the document) and codes with the relative positions of
/// their evidence.
pub struct LocalDoc {
    pub sentences: Vec<(Vec<String>, f64, f64)>,
    pub codes: Vec<(String, f64)>,
}

/// Mines learned terms from evidence positions: a sentence is labelled with
/// the codes whose evidence falls in it (or in a neighbouring sentence, as
/// positions carried over from another language are approximate), and a
/// phrase's weight is the share of the sentences containing it that carry
/// the code. `support` counts documents.
pub fn mine_local_terms(
    docs: &[LocalDoc],
    neighbours: usize,
    min_support: u32,
    min_precision: f64,
    max_per_phrase: usize,
) -> Vec<LearnedTerm> {
    let mut df: FxHashMap<String, u32> = FxHashMap::default();
    let mut df_docs: FxHashMap<String, u32> = FxHashMap::default();
    let mut pos: FxHashMap<(String, String), (u32, u32)> = FxHashMap::default();
    for d in docs {
        let n = d.sentences.len();
        // Codes of each sentence.
        let mut labels: Vec<Vec<&str>> = vec![Vec::new(); n];
        for (code, r) in &d.codes {
            let at = d
                .sentences
                .iter()
                .position(|(_, a, b)| *r >= *a && *r < *b)
                .unwrap_or(n.saturating_sub(1));
            for l in labels
                .iter_mut()
                .take((at + neighbours + 1).min(n))
                .skip(at.saturating_sub(neighbours))
            {
                l.push(code.as_str());
            }
        }
        let mut doc_phrases: FxHashMap<String, FxHashSet<&str>> = FxHashMap::default();
        for ((concepts, _, _), labs) in d.sentences.iter().zip(&labels) {
            let mut seen: FxHashSet<String> = FxHashSet::default();
            {
                for ph in phrases(concepts) {
                    if !seen.insert(ph.clone()) {
                        continue;
                    }
                    *df.entry(ph.clone()).or_default() += 1;
                    let e = doc_phrases.entry(ph.clone()).or_default();
                    for l in labs {
                        e.insert(l);
                        pos.entry((ph.clone(), l.to_string())).or_default().0 += 1;
                    }
                }
            }
        }
        for (ph, codes) in doc_phrases {
            *df_docs.entry(ph.clone()).or_default() += 1;
            for c in codes {
                pos.entry((ph.clone(), c.to_string())).or_default().1 += 1;
            }
        }
    }
    let total_sentences: usize = docs.iter().map(|d| d.sentences.len()).sum();
    let mut labelled: FxHashMap<String, f64> = FxHashMap::default();
    for d in docs {
        for (c, _) in &d.codes {
            *labelled.entry(c.clone()).or_default() +=
                (2 * neighbours + 1) as f64 / total_sentences.max(1) as f64;
        }
    }
    let mut by_phrase: FxHashMap<String, Vec<LearnedTerm>> = FxHashMap::default();
    for ((ph, code), (n_sent, n_docs)) in pos {
        let d = df[&ph];
        let weight = n_sent as f64 / (d as f64 + 1.0);
        let lift_ok = weight >= MIN_LIFT * labelled.get(&code).copied().unwrap_or(0.0);
        if n_docs >= min_support && weight >= min_precision && lift_ok {
            by_phrase.entry(ph.clone()).or_default().push(LearnedTerm {
                concepts: ph.split(' ').map(str::to_string).collect(),
                code,
                support: n_docs,
                df: df_docs[&ph],
                weight: weight as f32,
            });
        }
    }
    best_per_phrase(by_phrase.into_values(), max_per_phrase)
}

/// Fits an L2-regularised logistic regression by full-batch gradient descent
/// with Adam steps. Returns the weights and the final mean log-loss.
pub fn fit_logistic(x: &[Vec<f64>], y: &[bool], l2: f64, epochs: usize) -> (Vec<f64>, f64) {
    let d = x.first().map(Vec::len).unwrap_or(0);
    let mut w = vec![0.0f64; d];
    let (mut m, mut v) = (vec![0.0f64; d], vec![0.0f64; d]);
    let (b1, b2, lr, eps) = (0.9, 0.999, 0.05, 1e-8);
    let n = x.len().max(1) as f64;
    let mut loss = 0.0;
    for epoch in 1..=epochs {
        let mut grad = vec![0.0f64; d];
        loss = 0.0;
        for (xi, &yi) in x.iter().zip(y) {
            let p = sigmoid(w.iter().zip(xi).map(|(a, b)| a * b).sum());
            let t = if yi { 1.0 } else { 0.0 };
            loss -= if yi {
                p.max(1e-12).ln()
            } else {
                (1.0 - p).max(1e-12).ln()
            };
            for (g, xv) in grad.iter_mut().zip(xi) {
                *g += (p - t) * xv;
            }
        }
        loss /= n;
        for j in 0..d {
            let reg = if j == 0 { 0.0 } else { l2 * w[j] };
            let g = grad[j] / n + reg;
            m[j] = b1 * m[j] + (1.0 - b1) * g;
            v[j] = b2 * v[j] + (1.0 - b2) * g * g;
            let mh = m[j] / (1.0 - b1.powi(epoch as i32));
            let vh = v[j] / (1.0 - b2.powi(epoch as i32));
            w[j] -= lr * mh / (vh.sqrt() + eps);
        }
    }
    (w, loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_regression_separates_a_linear_rule() {
        // y = x1 > 0.5, with a bias column.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let v = i as f64 / 200.0;
            x.push(vec![1.0, v]);
            y.push(v > 0.5);
        }
        let (w, loss) = fit_logistic(&x, &y, 0.0, 2000);
        assert!(loss < 0.2, "loss {loss}");
        assert!(sigmoid(w[0] + w[1] * 0.9) > 0.8);
        assert!(sigmoid(w[0] + w[1] * 0.1) < 0.2);
    }

    #[test]
    fn keyword_classifier_counts_and_log_odds() {
        let doc = |w: &[&str], c: &[&str]| {
            (
                w.iter()
                    .map(|s| s.to_string())
                    .collect::<FxHashSet<String>>(),
                c.iter().map(|s| s.to_string()).collect::<Vec<String>>(),
            )
        };
        let docs = vec![
            doc(&["enol", "liver"], &["F1010"]),
            doc(&["enol", "cirrhosi"], &["F1010"]),
            doc(&["enol"], &["F1010"]),
            doc(&["fever"], &[]),
            doc(&["liver"], &[]),
        ];
        let cls = train_classifiers(&docs, 2, 10, false);
        assert_eq!(cls.len(), 1);
        let c = &cls[0];
        assert_eq!((c.pos, c.neg), (3, 2));
        let enol = c
            .features
            .iter()
            .position(|f| f.0 == "enol")
            .expect("enol kept");
        assert_eq!((c.features[enol].1, c.features[enol].2), (3, 0));
        // Hand-computed: ln(3.5/2.5) + ln(3.5/4) - ln(0.5/3).
        let want = (3.5f64 / 2.5).ln() + (3.5f64 / 4.0).ln() - (0.5f64 / 3.0).ln();
        assert!((c.logit(&[enol]) - want).abs() < 1e-9);
        assert!(
            c.logit(&[enol]) > c.logit(&[]),
            "a present keyword raises the log-odds"
        );
    }

    #[test]
    fn mining_finds_a_phrase_that_predicts_a_code() {
        let doc = |words: &[&str], codes: &[&str]| {
            (
                vec![words.iter().map(|s| s.to_string()).collect::<Vec<_>>()],
                codes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        let mut docs = vec![
            doc(&["renal", "colic", "right"], &["N23"]),
            doc(&["renal", "colic"], &["N23", "R52"]),
            doc(&["renal", "colic", "left"], &["N23"]),
            doc(&["fever", "right"], &["R509"]),
        ];
        // Notes without the code: its base rate is 3 in 20.
        for _ in 0..16 {
            docs.push(doc(&["cough"], &["R059"]));
        }
        let terms = mine_terms(&docs, 2, 0.5, 3);
        let t = terms
            .iter()
            .find(|t| t.concepts == ["renal", "colic"] && t.code == "N23")
            .expect("renal colic -> N23 learned");
        assert_eq!(t.support, 3);
        assert_eq!(t.df, 3);
        assert!((t.weight - 0.75).abs() < 1e-6);
        // "right" occurs with different codes: not above the precision bar for R509.
        assert!(
            !terms
                .iter()
                .any(|t| t.concepts == ["right"] && t.code == "R509")
        );
    }

    #[test]
    fn boosted_trees_learn_an_interaction_and_compile_to_the_same_scores() {
        // y = a XOR b: no linear model separates it, two-level trees do.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..400 {
            let a = f64::from(u8::from(i % 2 == 0));
            let b = f64::from(u8::from(i % 3 == 0));
            x.push(vec![a, b, (i % 7) as f64 / 7.0]);
            y.push((a > 0.5) != (b > 0.5));
        }
        let mut bst = Booster::fit(&x, &y, 30, 3, 0.3).expect("fits");
        for (r, l) in x.iter().zip(&y) {
            assert_eq!(bst.logit(r) > 0.0, *l, "{r:?}");
        }
        assert!(
            !bst.flat.is_empty(),
            "the fitted trees fit the compact layout"
        );
        let compiled: Vec<f64> = x.iter().map(|r| bst.logit(r)).collect();
        // Rows scored together (lock-step lanes, a ragged last group) score
        // exactly as one by one.
        let mut many = Vec::new();
        for n in [0, 1, 7, 8, 9, x.len()] {
            bst.logit_many(&x[..n], &mut many);
            assert_eq!(many, compiled[..n].to_vec(), "{n} rows");
        }
        bst.flat.clear();
        bst.roots.clear();
        let walked: Vec<f64> = x.iter().map(|r| bst.logit(r)).collect();
        for (a, b) in compiled.iter().zip(&walked) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        bst.logit_many(&x, &mut many);
        assert_eq!(many, walked, "the plain walk serves rows together too");
        // Serialised and read back, the trees score the same once compiled.
        let mut back: Booster =
            serde_json::from_str(&serde_json::to_string(&bst).unwrap()).unwrap();
        back.compile();
        assert!((back.logit(&x[0]) - compiled[0]).abs() < 1e-9);
    }

    #[test]
    fn malformed_trees_do_not_panic() {
        let node = |left, right| TreeNode {
            leaf: None,
            feature: 7,
            split: 0.5,
            left,
            right,
            missing: left,
        };
        let mut b = Booster {
            base_score: 0.25,
            // A cycle, and a child out of range.
            trees: vec![vec![node(0, 0)], vec![node(5, 9)]],
            flat: Vec::new(),
            roots: Vec::new(),
        };
        b.compile();
        assert!(b.flat.is_empty(), "bad trees are not compiled");
        assert_eq!(b.logit(&[0.0, 1.0]), 0.25);
        assert!(Booster::fit(&[], &[], 10, 3, 0.1).is_none());
        assert!(Booster::fit(&[vec![1.0]], &[true], 10, 3, 0.1).is_none());
    }
}
