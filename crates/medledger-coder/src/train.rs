//! `learn`: fits a model from previously coded notes (text + final codes),
//! and `evaluate`: codes a CodiEsp split and scores it.

use medledger_codesets::Engine;
use medledger_codesets::icd10cm::tabular::Resolution;
use medledger_text::TokenKind;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::coder::{Coder, Encounter, FEATURES, features};
use crate::dict;
use crate::error::Result;
use crate::eval::{self, CodiespSplit, DocPrediction, PredictedCode, Scores};
use crate::matcher::{self, Scratch};
use crate::model::{self, ContextPolicy, MODEL_FORMAT, Model, Stat, TrainingReport};

/// One coded note of the history.
#[derive(Debug, Clone)]
pub struct CodedNote {
    pub id: String,
    pub text: String,
    /// Final codes (any spelling; normalised here).
    pub codes: Vec<String>,
    /// Where each code's evidence lies, as a relative position in [0, 1)
    /// of the note (evidence offsets divided by the length of the text they
    /// point into; may come from another language version of the note).
    pub positions: Vec<(String, f64)>,
    /// Evidence spans in `text` itself (byte ranges), where the history has
    /// them: annotated, accepted by a coder, or projected from another
    /// language version of the note.
    pub spans: Vec<CodedSpan>,
}

/// One code's evidence in a coded note: byte range into the note text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedSpan {
    pub code: String,
    pub start: usize,
    pub end: usize,
}

/// Alignment scores (mean log-probability per word) below this are taken
/// as failed projections and dropped.
pub const MIN_PROJECTION_SCORE: f64 = -4.5;

#[derive(Debug, Clone)]
pub struct LearnOptions {
    pub min_support: u32,
    pub min_precision: f64,
    pub l2: f64,
    pub epochs: usize,
    /// Folds of the cross-fitting that trains the re-ranker.
    pub folds: usize,
    /// Keyword models: for codes in at least this many notes, with this many words.
    pub nb_min_docs: u32,
    pub nb_features: usize,
    /// Fit logistic weights over each keyword model's words (else naive Bayes).
    pub keyword_lr: bool,
    /// Notes an evidence-span phrase must come from to become a term.
    pub span_min_support: u32,
    /// Smoothed precision an evidence-span phrase must reach (lower than
    /// for mined phrases: a span names the words the coder coded).
    pub span_min_precision: f64,
    /// Re-rank with boosted trees (else with the logistic weights alone).
    pub boosted_trees: Option<TreeOptions>,
    /// Neighbours whose codes vote on each candidate (0: no votes).
    pub neighbours: usize,
    pub trained_on: String,
}

/// Size of the boosted-tree re-ranker.
#[derive(Debug, Clone, Copy)]
pub struct TreeOptions {
    pub iterations: usize,
    pub max_depth: usize,
    pub learning_rate: f32,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            iterations: 60,
            max_depth: 5,
            learning_rate: 0.15,
        }
    }
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            min_support: 2,
            min_precision: 0.3,
            l2: 1e-3,
            epochs: 400,
            folds: 5,
            nb_min_docs: 5,
            nb_features: 150,
            keyword_lr: true,
            span_min_support: 1,
            span_min_precision: 0.1,
            boosted_trees: Some(TreeOptions::default()),
            neighbours: crate::neighbours::DEFAULT_K,
            trained_on: String::new(),
        }
    }
}

/// Content concepts of each sentence of a note, with the sentence's
/// relative position range, for term mining.
fn sentence_concepts(text: &str) -> Vec<(Vec<String>, f64, f64)> {
    let toks = medledger_text::tokenize(text);
    let sents = medledger_text::sentences(text, &toks);
    let len = text.len().max(1) as f64;
    sents
        .iter()
        .map(|s| {
            let c = toks[s.tokens.clone()]
                .iter()
                .filter(|t| {
                    t.kind != TokenKind::Punct && !dict::STOPWORDS.contains(&t.lower.as_str())
                })
                .map(|t| dict::concept_of(&t.lower))
                .collect();
            (c, s.start as f64 / len, s.end as f64 / len)
        })
        .collect()
}

fn permissive() -> ContextPolicy {
    ContextPolicy {
        code_negated: true,
        code_uncertain: true,
        code_historical_as_condition: true,
        code_family_as_condition: true,
        code_hypothetical: true,
        rates: Vec::new(),
    }
}

/// Normalised, deduplicated final codes of each note.
fn gold_of(notes: &[CodedNote]) -> Vec<Vec<String>> {
    notes
        .iter()
        .map(|n| {
            let mut v: Vec<String> = n.codes.iter().map(|c| eval::norm_code(c)).collect();
            v.sort();
            v.dedup();
            v
        })
        .collect()
}

/// Everything of a model except the re-ranker, learned from `idx` notes:
/// learned terms, keyword classifiers, gold counts (stats come later).
fn parts(
    tab: &medledger_codesets::icd10cm::tabular::Tabular,
    notes: &[CodedNote],
    sents: &[Vec<(Vec<String>, f64, f64)>],
    gold: &[Vec<String>],
    idx: &[usize],
    opts: &LearnOptions,
) -> Model {
    let mining: Vec<(Vec<Vec<String>>, Vec<String>)> = idx
        .iter()
        .map(|&i| {
            (
                sents[i].iter().map(|x| x.0.clone()).collect(),
                gold[i].clone(),
            )
        })
        .collect();
    // The sharpest evidence the history has decides where phrases come
    // from. Evidence spans name the words the coder coded: phrases mined
    // from them alone (co-occurrence in the span's sentence or the note
    // would add the note's other words — doses, ages, drug names — as
    // spurious phrases for the code). Without spans, evidence positions
    // localise the association to a sentence; without either, the note's
    // codes and phrases co-occur at document level.
    let has_spans = idx.iter().any(|&i| !notes[i].spans.is_empty());
    let has_positions = idx.iter().any(|&i| !notes[i].positions.is_empty());
    let mut learned_terms = if has_spans {
        span_terms(notes, sents, idx, opts)
    } else {
        model::mine_terms(&mining, opts.min_support, opts.min_precision, 3)
    };
    if !has_spans && has_positions {
        let local: Vec<model::LocalDoc> = idx
            .iter()
            .map(|&i| model::LocalDoc {
                sentences: sents[i].clone(),
                codes: notes[i]
                    .positions
                    .iter()
                    .map(|(c, r)| (eval::norm_code(c), *r))
                    .collect(),
            })
            .collect();
        let extra = model::mine_local_terms(&local, 1, opts.min_support, opts.min_precision, 3);
        let mut by: FxHashMap<(Vec<String>, String), model::LearnedTerm> = FxHashMap::default();
        for t in learned_terms.into_iter().chain(extra) {
            let k = (t.concepts.clone(), t.code.clone());
            match by.get(&k) {
                Some(old) if old.weight >= t.weight => {}
                _ => {
                    by.insert(k, t);
                }
            }
        }
        learned_terms = by.into_values().collect();
        learned_terms.sort_by(|a, b| a.concepts.cmp(&b.concepts).then(a.code.cmp(&b.code)));
    }
    learned_terms.retain(|t| matches!(tab.resolve(&t.code), Resolution::Billable { .. }));
    let mut code_gold: FxHashMap<String, u32> = FxHashMap::default();
    for &i in idx {
        for c in &gold[i] {
            *code_gold.entry(c.clone()).or_default() += 1;
        }
    }
    let cls_docs: Vec<(FxHashSet<String>, Vec<String>)> = idx
        .iter()
        .map(|&i| {
            (
                sents[i].iter().flat_map(|x| x.0.iter().cloned()).collect(),
                gold[i].clone(),
            )
        })
        .collect();
    Model {
        format: MODEL_FORMAT,
        version: String::new(),
        trained_on: opts.trained_on.clone(),
        documents: idx.len(),
        created: jiff::Timestamp::now().to_string(),
        feature_names: FEATURES.iter().map(|s| s.to_string()).collect(),
        weights: vec![0.0; FEATURES.len()],
        threshold: 0.5,
        policy: permissive(),
        learned_terms,
        code_stats: FxHashMap::default(),
        term_stats: FxHashMap::default(),
        code_gold,
        booster: None,
        neighbours: if opts.neighbours == 0 {
            Vec::new()
        } else {
            crate::neighbours::history_docs(
                idx.iter()
                    .map(|&i| (sents[i].iter().flat_map(|x| x.0.iter()), &gold[i][..])),
            )
        },
        neighbour_k: opts.neighbours,
        classifiers: model::train_classifiers(
            &cls_docs,
            opts.nb_min_docs,
            opts.nb_features,
            opts.keyword_lr,
        ),
        training: TrainingReport::default(),
    }
}

/// Content concepts of a piece of text, in order.
fn text_concepts(text: &str) -> Vec<String> {
    medledger_text::tokenize(text)
        .iter()
        .filter(|t| t.kind != TokenKind::Punct && !dict::STOPWORDS.contains(&t.lower.as_str()))
        .map(|t| dict::concept_of(&t.lower))
        .collect()
}

/// Longest evidence span, in content words, that becomes a term.
const MAX_SPAN_CONCEPTS: usize = 8;

/// Terms read off the evidence spans of the `idx` notes: each span's content
/// concepts become a phrase for its code. `support` counts the notes whose
/// span carried the code, `df` the notes whose sentences contain the phrase,
/// and the weight is the smoothed precision `support / (df + 1)`.
fn span_terms(
    notes: &[CodedNote],
    sents: &[Vec<(Vec<String>, f64, f64)>],
    idx: &[usize],
    opts: &LearnOptions,
) -> Vec<model::LearnedTerm> {
    let mut support: FxHashMap<(String, String), FxHashSet<usize>> = FxHashMap::default();
    for &i in idx {
        for sp in &notes[i].spans {
            let Some(text) = notes[i].text.get(sp.start..sp.end) else {
                continue;
            };
            let c = text_concepts(text);
            let trivial = c.len() == 1
                && (c[0].chars().count() < 3 || c[0].chars().all(|ch| ch.is_ascii_digit()));
            if c.is_empty() || c.len() > MAX_SPAN_CONCEPTS || trivial {
                continue;
            }
            support
                .entry((c.join(" "), eval::norm_code(&sp.code)))
                .or_default()
                .insert(i);
        }
    }
    let wanted: FxHashSet<&str> = support.keys().map(|(p, _)| p.as_str()).collect();
    let mut df: FxHashMap<&str, u32> = FxHashMap::default();
    for &i in idx {
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for (c, _, _) in &sents[i] {
            for n in 1..=MAX_SPAN_CONCEPTS.min(c.len()) {
                for w in c.windows(n) {
                    let k = w.join(" ");
                    if let Some(&p) = wanted.get(k.as_str()) {
                        seen.insert(p);
                    }
                }
            }
        }
        for p in seen {
            *df.entry(p).or_default() += 1;
        }
    }
    let mut out: Vec<model::LearnedTerm> = support
        .iter()
        .filter_map(|((phrase, code), docs)| {
            let s = docs.len() as u32;
            // A note whose span carried the phrase contains it, but the
            // sentence split may cut a span: count it at least once.
            let d = df.get(phrase.as_str()).copied().unwrap_or(0).max(s);
            let weight = s as f64 / (d as f64 + 1.0);
            (s >= opts.span_min_support && weight >= opts.span_min_precision).then(|| {
                model::LearnedTerm {
                    concepts: phrase.split(' ').map(str::to_string).collect(),
                    code: code.clone(),
                    support: s,
                    df: d,
                    weight: weight as f32,
                }
            })
        })
        .collect();
    out.sort_by(|a, b| a.concepts.cmp(&b.concepts).then(a.code.cmp(&b.code)));
    out
}

/// The micro-F1-maximising cut over scored rows (`gold_total` counts every
/// final code, found or not) and that F1. The cut lies halfway to the next
/// score below; with nothing below, at most 0.5 (a history with no rejected
/// candidate says little about where to cut).
fn best_cut(scores: &[f64], y: &[bool], gold_total: usize) -> (f64, f64) {
    let mut scored: Vec<(f64, bool)> = scores.iter().copied().zip(y.iter().copied()).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut best_f1, mut best_k) = (0usize, 0.0f64, None);
    for (i, (_, l)) in scored.iter().enumerate() {
        tp += usize::from(*l);
        let prec = tp as f64 / (i + 1) as f64;
        let rec = tp as f64 / gold_total.max(1) as f64;
        let f1 = if prec + rec > 0.0 {
            2.0 * prec * rec / (prec + rec)
        } else {
            0.0
        };
        if f1 > best_f1 {
            best_f1 = f1;
            best_k = Some(i);
        }
    }
    let cut = match best_k {
        Some(i) => match scored.get(i + 1) {
            Some((next, _)) => (scored[i].0 + next) / 2.0,
            None => scored[i].0.min(0.5),
        },
        None => 0.5,
    };
    (best_f1, cut)
}

fn candidates_of(
    coder: &Coder,
    notes: &[CodedNote],
    idx: &[usize],
    scratch: &mut Scratch,
    progress: &dyn Fn(usize, usize),
) -> Vec<Vec<crate::coder::Candidate>> {
    let enc = Encounter::default();
    idx.iter()
        .map(|&i| {
            let note = matcher::annotate(&notes[i].text, &coder.dict, scratch);
            let mentions = coder.mentions(&note, scratch, &enc);
            progress(1, 0);
            coder.candidates(&note, &mentions, &enc).0
        })
        .collect()
}

/// Per-code and per-term precision of the engine's proposals in a history.
fn stats(
    cands: &[Vec<crate::coder::Candidate>],
    gold: &[Vec<String>],
    idx: &[usize],
) -> (FxHashMap<String, Stat>, FxHashMap<String, Stat>) {
    let mut code_stats: FxHashMap<String, Stat> = FxHashMap::default();
    let mut term_stats: FxHashMap<String, Stat> = FxHashMap::default();
    for (cs, &i) in cands.iter().zip(idx) {
        let g = &gold[i];
        let mut seen_terms: FxHashSet<&str> = FxHashSet::default();
        for c in cs {
            let y = g.binary_search(&c.key).is_ok();
            let s = code_stats.entry(c.key.clone()).or_default();
            s.proposed += 1;
            s.accepted += u32::from(y);
            if seen_terms.insert(&c.term_key) {
                let t = term_stats.entry(c.term_key.clone()).or_default();
                t.proposed += 1;
                t.accepted += u32::from(y);
            }
        }
    }
    (code_stats, term_stats)
}

/// Learns a model from coded notes.
///
/// 1. The context policy is read off the history (which kinds of mention
///    its coders coded).
/// 2. The re-ranker is trained by K-fold cross-fitting: for each fold, the
///    learned terms, keyword models and precision priors are learned from the
///    other folds only, and the fold's candidates become training rows, so
///    no row's features saw its own note. The decision threshold maximises
///    micro-F1 over those out-of-fold rows.
/// 3. The shipped terms, keyword models and priors are learned from all notes.
pub fn learn(
    engine: &Engine,
    notes: &[CodedNote],
    opts: &LearnOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Model> {
    let gold = gold_of(notes);
    let sents: Vec<Vec<(Vec<String>, f64, f64)>> =
        notes.iter().map(|n| sentence_concepts(&n.text)).collect();
    let tab = Coder::new(engine, None, None)?.tab.clone();
    let all: Vec<usize> = (0..notes.len()).collect();
    let mut scratch = Scratch::default();
    let done = std::cell::Cell::new(0usize);
    let k = opts.folds.clamp(2, notes.len().max(2));
    let total_steps = notes.len() * (k + 2);
    let tick = |_: usize, _: usize| {
        done.set(done.get() + 1);
        progress(done.get(), total_steps);
    };
    // 1. Policy, from candidates with every context kept.
    let mut full = parts(&tab, notes, &sents, &gold, &all, opts);
    let mut coder = Coder::new(engine, None, Some(full.clone()))?;
    coder.policy = permissive();
    let first = candidates_of(&coder, notes, &all, &mut scratch, &tick);
    let rate = |f: &dyn Fn(&crate::coder::Candidate) -> bool| -> (f64, u32) {
        let (mut n, mut pos) = (0u32, 0u32);
        for (cs, g) in first.iter().zip(&gold) {
            for c in cs.iter().filter(|c| f(c)) {
                n += 1;
                pos += u32::from(g.binary_search(&c.key).is_ok());
            }
        }
        (if n == 0 { 0.0 } else { pos as f64 / n as f64 }, n)
    };
    let (aff, naff) = rate(&|c| c.affirmed);
    type Pred = fn(&crate::coder::Candidate) -> bool;
    let kinds: [(&str, Pred); 5] = [
        ("negated", |c| !c.affirmed && c.ctx.negated),
        ("uncertain", |c| {
            !c.affirmed && c.ctx.uncertain && !c.ctx.negated
        }),
        ("historical", |c| !c.affirmed && c.ctx.historical),
        ("family", |c| !c.affirmed && c.ctx.family),
        ("hypothetical", |c| !c.affirmed && c.ctx.hypothetical),
    ];
    let mut rates = vec![("affirmed".to_string(), aff, naff)];
    let mut keep = [false; 5];
    for (i, (name, f)) in kinds.iter().enumerate() {
        let (r, n) = rate(f);
        rates.push((name.to_string(), r, n));
        // Coded at least half as often as affirmed mentions, on enough cases.
        keep[i] = n >= 20 && r >= 0.5 * aff;
    }
    rates.sort_by(|a, b| a.0.cmp(&b.0));
    let policy = ContextPolicy {
        code_negated: keep[0],
        code_uncertain: keep[1],
        code_historical_as_condition: keep[2],
        code_family_as_condition: keep[3],
        code_hypothetical: keep[4],
        rates,
    };
    drop(coder);
    // 2. Cross-fitted training rows.
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut row_fold = Vec::new();
    let mut covered = 0usize;
    let gold_total: usize = gold.iter().map(Vec::len).sum();
    for fold in 0..k {
        let held: Vec<usize> = all.iter().copied().filter(|i| i % k == fold).collect();
        let rest: Vec<usize> = all.iter().copied().filter(|i| i % k != fold).collect();
        let mut m = parts(&tab, notes, &sents, &gold, &rest, opts);
        m.policy = policy.clone();
        let coder = Coder::new(engine, None, Some(m.clone()))?;
        let rest_c = candidates_of(&coder, notes, &rest, &mut scratch, &|_, _| {});
        let (cs, ts) = stats(&rest_c, &gold, &rest);
        m.code_stats = cs;
        m.term_stats = ts;
        let held_c = candidates_of(&coder, notes, &held, &mut scratch, &tick);
        for (cands, &i) in held_c.iter().zip(&held) {
            let g = &gold[i];
            let mut keys: FxHashSet<&str> = FxHashSet::default();
            for c in cands {
                let label = g.binary_search(&c.key).is_ok();
                if label {
                    keys.insert(&c.key);
                }
                let e = &coder.dict.entries[c.best_entry as usize];
                x.push(features(c, e, Some(&m)));
                y.push(label);
                row_fold.push(fold);
            }
            covered += keys.len();
        }
    }
    let (w, loss) = model::fit_logistic(&x, &y, opts.l2, opts.epochs);
    full.weights = w;
    full.policy = policy;
    // Scores of the rows by a re-ranker that did not see them: the trees are
    // refitted per fold (they would memorise their own rows); the logistic
    // weights are few enough to score their training rows. The trees are
    // kept only where they beat the weights on those scores (small
    // histories are better served by the linear model).
    let lr_scores: Vec<f64> = x.iter().map(|f| full.score(f)).collect();
    let (mut best_f1, mut cut) = best_cut(&lr_scores, &y, gold_total);
    let logistic_micro_f1 = best_f1;
    if let Some(t) = opts.boosted_trees {
        let mut s = vec![0.0; x.len()];
        let mut fitted = true;
        for fold in 0..k {
            let (tr_x, tr_y): (Vec<Vec<f64>>, Vec<bool>) = x
                .iter()
                .zip(&y)
                .zip(&row_fold)
                .filter(|(_, f)| **f != fold)
                .map(|((r, l), _)| (r.clone(), *l))
                .unzip();
            let Some(b) =
                model::Booster::fit(&tr_x, &tr_y, t.iterations, t.max_depth, t.learning_rate)
            else {
                fitted = false;
                break;
            };
            for (i, r) in x.iter().enumerate().filter(|(i, _)| row_fold[*i] == fold) {
                s[i] = model::sigmoid(b.logit(r));
            }
        }
        if fitted {
            let (f1, c) = best_cut(&s, &y, gold_total);
            if f1 > best_f1 {
                full.booster =
                    model::Booster::fit(&x, &y, t.iterations, t.max_depth, t.learning_rate);
                if full.booster.is_some() {
                    (best_f1, cut) = (f1, c);
                }
            }
        }
    }
    full.threshold = cut;
    // 4. The shipped priors, from every note.
    let coder = Coder::new(engine, None, Some(full.clone()))?;
    let all_c = candidates_of(&coder, notes, &all, &mut scratch, &tick);
    let (cs, ts) = stats(&all_c, &gold, &all);
    full.code_stats = cs;
    full.term_stats = ts;
    full.training = TrainingReport {
        candidates: x.len(),
        positives: y.iter().filter(|v| **v).count(),
        gold_codes: gold_total,
        candidate_recall: covered as f64 / gold_total.max(1) as f64,
        train_micro_f1_at_threshold: best_f1,
        logistic_micro_f1,
        reranker: if full.booster.is_some() {
            "boosted trees".into()
        } else {
            "logistic".into()
        },
        epochs: opts.epochs,
        final_loss: loss,
    };
    Ok(full)
}

/// The coded history of a CodiEsp split: English texts with their document
/// codes, and each code's evidence position read from the CodiEsp-X spans of
/// the Spanish original (relative offset, since the translation keeps the
/// order of the text but not its offsets).
pub fn codiesp_history(dir: &std::path::Path, split: &str) -> Result<Vec<CodedNote>> {
    let en = eval::read_codiesp(dir, split, eval::TextLang::English)
        .map_err(|e| crate::error::CoderError::Invalid(e.to_string()))?;
    let es = eval::read_codiesp(dir, split, eval::TextLang::Spanish).ok();
    let es_by_id: FxHashMap<&str, &eval::CodiespDoc> = es
        .as_ref()
        .map(|es| es.docs.iter().map(|d| (d.id.as_str(), d)).collect())
        .unwrap_or_default();
    // Word translations learned from the split's own parallel texts carry
    // the Spanish evidence spans onto the English translation.
    let parallel: Vec<(&str, &str)> = en
        .docs
        .iter()
        .filter_map(|d| {
            es_by_id
                .get(d.id.as_str())
                .map(|s| (s.text.as_str(), d.text.as_str()))
        })
        .collect();
    let aligner = (!parallel.is_empty()).then(|| crate::align::Aligner::train(&parallel, 6));
    Ok(en
        .docs
        .iter()
        .map(|d| {
            let mut positions = Vec::new();
            let mut spans = Vec::new();
            if let Some(src) = es_by_id.get(d.id.as_str()) {
                let chars = medledger_text::CharIndex::new(&src.text);
                let len = chars.total_chars().max(1) as f64;
                for g in &src.spans {
                    let Some(f) = g.fragments.first() else {
                        continue;
                    };
                    positions.push((g.code.clone(), f.0 as f64 / len));
                    let (Some(a), Some(al)) = (chars.byte_offset(f.0), aligner.as_ref()) else {
                        continue;
                    };
                    if let Some((r, score)) = al.project(&src.text, &d.text, a, &g.text)
                        && score >= MIN_PROJECTION_SCORE
                    {
                        spans.push(CodedSpan {
                            code: g.code.clone(),
                            start: r.start,
                            end: r.end,
                        });
                    }
                }
            }
            CodedNote {
                id: d.id.clone(),
                text: d.text.clone(),
                codes: d.gold.clone(),
                positions,
                spans,
            }
        })
        .collect())
}

/// Scores of one evaluation run: the CodiEsp scores of the suggestions,
/// with `map` over the full ranked list (suggestions, then candidates under
/// the threshold).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub split: String,
    pub model: Option<String>,
    #[serde(flatten)]
    pub scores: Scores,
    /// MAP over the suggestions alone.
    pub map_suggestions_only: f64,
    /// Recall of the whole ranked list (suggestions and listed candidates):
    /// the ceiling any threshold could reach.
    pub ranked_list_recall: f64,
    /// Gold codes that are not billable in the release used (cannot be suggested).
    pub gold_not_billable: usize,
    pub release: String,
    pub errors: Vec<String>,
}

fn predicted(s: &crate::coder::Suggestion) -> PredictedCode {
    PredictedCode {
        code: s.code.clone(),
        fragments: s.evidence.iter().map(|e| (e.start, e.end)).collect(),
    }
}

/// The ranked code list a coding result submits to a ranking task: the
/// suggestions and the candidates below the threshold, by confidence. The
/// task ranks by likelihood, not by the clinical sequencing of the
/// suggestions (principal diagnosis first); the sort is stable, so ties
/// keep that order.
pub fn ranked_by_confidence(r: &crate::coder::CodingResult) -> Vec<PredictedCode> {
    let mut all: Vec<&crate::coder::Suggestion> =
        r.suggestions.iter().chain(&r.candidates).collect();
    all.sort_by(|x, y| y.confidence.total_cmp(&x.confidence));
    all.into_iter().map(predicted).collect()
}

/// Codes every document of the split and scores it. MAP ranks every
/// candidate the engine listed (set `coder.options.max_candidates` high).
pub fn evaluate(coder: &Coder, split: &CodiespSplit) -> EvalReport {
    let mut scratch = Scratch::default();
    let enc = Encounter::default();
    let mut above = Vec::new();
    let mut full = Vec::new();
    let mut errors = Vec::new();
    for d in &split.docs {
        match coder.code(&d.id, &d.text, &enc, &mut scratch) {
            Ok(r) => {
                let a: Vec<PredictedCode> = r.suggestions.iter().map(predicted).collect();
                let f = ranked_by_confidence(&r);
                above.push(DocPrediction {
                    id: d.id.clone(),
                    ranked: a,
                });
                full.push(DocPrediction {
                    id: d.id.clone(),
                    ranked: f,
                });
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let tab = &coder.tab;
    let valid =
        |k: &str| tab.find(k).is_some() || matches!(tab.resolve(k), Resolution::Billable { .. });
    let mut s: Scores = eval::score(split, &above, &valid);
    let f: Scores = eval::score(split, &full, &valid);
    let map_suggestions_only = s.map;
    s.map = f.map;
    let gold_not_billable = split
        .docs
        .iter()
        .flat_map(|d| d.gold.iter())
        .filter(|k| {
            !matches!(
                tab.resolve(&eval::norm_code(k)),
                Resolution::Billable { .. }
            )
        })
        .count();
    EvalReport {
        split: split.name.clone(),
        model: coder.model_version(),
        scores: s,
        map_suggestions_only,
        ranked_list_recall: f.micro_recall,
        gold_not_billable,
        release: coder.release.clone(),
        errors,
    }
}
