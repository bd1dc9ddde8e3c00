//! The three MDM elements: what the note shows for each (with evidence) and
//! the level each element reaches under the rules in force.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::Date;

use super::note::{FAMILY, HYPOTHETICAL, Note, NoteHit};
use super::ruleset::{DataKind, Finding, Region, Ruleset};
use super::{ElementRating, MdmElement, MdmGrid, MdmItem, MdmLevel, Setting, StatusKind};

/// One addressed problem.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// Condition indices (distinct).
    pub conditions: Vec<u32>,
    /// Problem class index (effective on the date and setting).
    pub class: usize,
    /// Hit indices of the condition mentions and of the status words.
    pub mentions: Vec<usize>,
    pub statuses: Vec<usize>,
    /// A chronic problem whose status the note does not state.
    pub status_missing: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct DataItem {
    pub kind: DataKind,
    pub count_key: String,
    pub label: String,
    pub rule: String,
    pub spans: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub(crate) struct RiskItem {
    pub class: usize,
    pub rule: String,
    pub spans: Vec<(usize, usize)>,
    pub sent: usize,
}

/// The grid plus what the next-level query needs.
pub(crate) struct Rated {
    pub grid: MdmGrid,
    pub problems: Vec<Problem>,
    pub rule_ids: Vec<String>,
}

struct Group {
    mentions: Vec<usize>,
    statuses: Vec<usize>,
    start: usize,
    end: usize,
}

/// The class a problem class stands for on `dos` in `setting`: a class that
/// replaces it there, or its fallback when it is not in force.
fn effective_class(rules: &Ruleset, class: usize, setting: Setting, dos: Date) -> usize {
    let applies = |c: usize| {
        let pc = &rules.problem_classes[c];
        pc.meta.applies_on(dos) && (pc.settings.is_empty() || pc.settings.contains(&setting))
    };
    let mut c = class;
    for _ in 0..4 {
        if let Some(r) = (0..rules.problem_classes.len())
            .find(|&r| rules.problem_classes[r].replaces == Some(c) && applies(r))
        {
            return r;
        }
        if applies(c) {
            return c;
        }
        match rules.problem_classes[c].fallback {
            Some(f) => c = f,
            None => return c,
        }
    }
    c
}

/// Higher level wins; on equal levels the class listed later in the rule
/// file (chronic after acute) wins.
fn better(rules: &Ruleset, a: usize, b: usize) -> usize {
    let la = rules.problem_classes[a].level;
    let lb = rules.problem_classes[b].level;
    if (lb, b) > (la, a) { b } else { a }
}

/// Problems addressed, and for each sentence the problem whose block it
/// belongs to (for preventive visits, which count only a problem's own work).
pub(crate) fn find_problems(
    note: &Note<'_>,
    rules: &Ruleset,
    setting: Setting,
    dos: Date,
) -> (Vec<Problem>, Vec<Option<usize>>) {
    let lex = &rules.lex;
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of_sentence: Vec<Option<usize>> = Vec::with_capacity(note.sentences.len());
    let mut block: Option<usize> = None;
    let mut block_section: Option<usize> = None;
    for s in 0..note.sentences.len() {
        if !note.in_region(Region::Problems, s) {
            block = None;
            group_of_sentence.push(None);
            continue;
        }
        if note.sent_section[s] != block_section {
            block = None;
            block_section = note.sent_section[s];
        }
        let (h0, h1) = note.sent_hits[s];
        let hits = &note.hits[h0..h1];
        let first_group = groups.len();
        // Everything after "differential includes" is one problem.
        let differential_end = hits
            .iter()
            .filter(|h| h.lex == lex.differential_cue)
            .map(|h| h.end)
            .min();
        for (k, h) in hits.iter().enumerate() {
            if h.lex != lex.condition || !note.passes(h) {
                continue;
            }
            let idx = h0 + k;
            let linked = groups.len() > first_group && {
                let g = &groups[groups.len() - 1];
                differential_end.is_some_and(|d| g.start >= d)
                    || hits.iter().any(|l| {
                        l.lex == lex.problem_link
                            && l.start >= g.end
                            && l.end <= h.start
                            && note.passes(l)
                    })
            };
            if linked {
                let g = groups.last_mut().expect("a group exists when linked");
                g.mentions.push(idx);
                g.end = g.end.max(h.end);
            } else {
                groups.push(Group {
                    mentions: vec![idx],
                    statuses: Vec::new(),
                    start: h.start,
                    end: h.end,
                });
            }
        }
        let in_sentence = first_group..groups.len();
        if in_sentence.is_empty() {
            let preventive = hits
                .iter()
                .any(|h| h.lex == lex.preventive_cue && note.passes(h));
            if note.starts_numbered_item(s) || preventive {
                block = None;
            }
        } else {
            block = Some(groups.len() - 1);
        }
        for (k, h) in hits.iter().enumerate() {
            if h.lex != lex.status || !note.passes(h) {
                continue;
            }
            let target = if in_sentence.is_empty() {
                block
            } else {
                in_sentence.clone().min_by_key(|&g| {
                    let gr = &groups[g];
                    let d = Note::distance((gr.start, gr.end), (h.start, h.end));
                    // Ties go to the problem before the status word.
                    (d, usize::from(gr.start > h.start))
                })
            };
            if let Some(g) = target {
                groups[g].statuses.push(h0 + k);
            }
        }
        group_of_sentence.push(block);
    }

    // Merge groups naming the same condition.
    let mut problems: Vec<Problem> = Vec::new();
    let mut by_condition: HashMap<u32, usize> = HashMap::new();
    let mut group_problem: Vec<usize> = Vec::with_capacity(groups.len());
    for g in &groups {
        let conditions: BTreeSet<u32> = g.mentions.iter().map(|&m| note.hits[m].entry).collect();
        let existing = conditions.iter().find_map(|c| by_condition.get(c).copied());
        let p = match existing {
            Some(p) => p,
            None => {
                problems.push(Problem {
                    conditions: Vec::new(),
                    class: 0,
                    mentions: Vec::new(),
                    statuses: Vec::new(),
                    status_missing: false,
                });
                problems.len() - 1
            }
        };
        for c in conditions {
            by_condition.entry(c).or_insert(p);
            if !problems[p].conditions.contains(&c) {
                problems[p].conditions.push(c);
            }
        }
        problems[p].mentions.extend(&g.mentions);
        problems[p].statuses.extend(&g.statuses);
        group_problem.push(p);
    }

    // Classes: each mention's type with the status words of its group.
    let mut classes: Vec<Option<usize>> = vec![None; problems.len()];
    let mut expects_status = vec![false; problems.len()];
    for (g, &p) in groups.iter().zip(&group_problem) {
        for &m in &g.mentions {
            let Some(cond) = rules.conditions.get(note.hits[m].entry as usize) else {
                continue;
            };
            let ptype = &rules.problem_types[cond.ptype];
            expects_status[p] |= ptype.status_expected;
            // Status words that map replace the default; the highest wins.
            let mut mapped: Option<usize> = None;
            for &st in &g.statuses {
                let Some(kind) = StatusKind::from_index(note.hits[st].entry) else {
                    continue;
                };
                if let Some(c) = ptype.status[kind as usize] {
                    let c = effective_class(rules, c, setting, dos);
                    mapped = Some(mapped.map_or(c, |m| better(rules, m, c)));
                }
            }
            let class =
                mapped.unwrap_or_else(|| effective_class(rules, ptype.default, setting, dos));
            classes[p] = Some(match classes[p] {
                Some(prev) => better(rules, prev, class),
                None => class,
            });
        }
    }
    for (p, prob) in problems.iter_mut().enumerate() {
        prob.class = classes[p].unwrap_or(0);
        prob.status_missing = expects_status[p] && prob.statuses.is_empty();
        prob.mentions.sort_unstable();
        prob.mentions.dedup();
        prob.statuses.sort_unstable();
        prob.statuses.dedup();
    }
    let block_of_sentence = group_of_sentence
        .into_iter()
        .map(|g| g.map(|g| group_problem[g]))
        .collect();
    (problems, block_of_sentence)
}

/// Whether sentence `s` counts, given an optional problem-block filter.
fn counts(s: usize, blocks: Option<&[Option<usize>]>) -> bool {
    blocks.is_none_or(|b| b.get(s).copied().flatten().is_some())
}

/// Data items from tests (ordered, reviewed, independently interpreted) and
/// the data detectors; risk items from the risk detectors.
pub(crate) fn find_data_and_risk(
    note: &Note<'_>,
    rules: &Ruleset,
    dos: Date,
    blocks: Option<&[Option<usize>]>,
) -> (Vec<DataItem>, Vec<RiskItem>) {
    let mut data = find_tests(note, rules, blocks);
    let mut risk: Vec<RiskItem> = Vec::new();
    for s in 0..note.sentences.len() {
        if !counts(s, blocks) {
            continue;
        }
        let hits = note.sentence_hits(s);
        if hits.is_empty() {
            continue;
        }
        for d in &rules.detectors {
            if !note.in_region(d.region, s) {
                continue;
            }
            let Some(used) = detect(note, hits, &d.all_of, &d.none_of, d.seq_max_gap) else {
                continue;
            };
            let spans: Vec<(usize, usize)> = used.iter().map(|h| note.bytes(h)).collect();
            match d.finding {
                Finding::Risk(class) => {
                    if !rules.risk_classes[class].meta.applies_on(dos) {
                        continue;
                    }
                    if risk.iter().any(|r| r.class == class && r.sent == s) {
                        continue;
                    }
                    risk.push(RiskItem {
                        class,
                        rule: d.id.clone(),
                        spans,
                        sent: s,
                    });
                }
                Finding::Data(kind) => {
                    let (count_key, label) = match kind {
                        DataKind::ExternalNote => {
                            (format!("note:{s}"), "external records reviewed".to_string())
                        }
                        DataKind::IndependentHistorian => (
                            "historian".to_string(),
                            "history from an independent historian".to_string(),
                        ),
                        DataKind::ExternalDiscussion => (
                            format!("discussion:{s}"),
                            "management discussed with an external physician or appropriate source"
                                .to_string(),
                        ),
                        other => (
                            format!("{}:{s}", other.as_str()),
                            other.as_str().to_string(),
                        ),
                    };
                    if data
                        .iter()
                        .any(|i| i.kind == kind && i.count_key == count_key)
                    {
                        continue;
                    }
                    data.push(DataItem {
                        kind,
                        count_key,
                        label,
                        rule: d.id.clone(),
                        spans,
                    });
                }
            }
        }
    }
    (data, risk)
}

/// The hits satisfying a detector in one sentence, or `None`.
fn detect<'h>(
    note: &Note<'_>,
    hits: &'h [NoteHit],
    all_of: &[u16],
    none_of: &[u16],
    seq_max_gap: Option<usize>,
) -> Option<Vec<&'h NoteHit>> {
    if none_of
        .iter()
        .any(|&l| hits.iter().any(|h| h.lex == l && note.passes(h)))
    {
        return None;
    }
    let of = |l: u16| hits.iter().filter(move |h| h.lex == l && note.passes(h));
    match seq_max_gap {
        // The tightest cluster: anchor on each hit of the first lexicon and
        // take the nearest hit of every other one.
        None => {
            let first = *all_of.first()?;
            let mut best: Option<(usize, Vec<&NoteHit>)> = None;
            for anchor in of(first) {
                let mut chosen = vec![anchor];
                let mut spread = 0usize;
                for &l in &all_of[1..] {
                    let near = of(l).min_by_key(|h| {
                        Note::distance((anchor.start, anchor.end), (h.start, h.end))
                    })?;
                    spread += Note::distance((anchor.start, anchor.end), (near.start, near.end));
                    chosen.push(near);
                }
                if best.as_ref().is_none_or(|(b, _)| spread < *b) {
                    best = Some((spread, chosen));
                }
            }
            best.map(|(_, c)| c)
        }
        Some(gap) => {
            let first = *all_of.first()?;
            'start: for h0 in of(first) {
                let mut chain = vec![h0];
                for &l in &all_of[1..] {
                    let prev_end = chain.last().map_or(0, |h| h.end);
                    match of(l).find(|h| h.start >= prev_end && h.start - prev_end <= gap) {
                        Some(h) => chain.push(h),
                        None => continue 'start,
                    }
                }
                return Some(chain);
            }
            None
        }
    }
}

#[derive(Default)]
struct TestState {
    ordered: bool,
    reviewed: bool,
    spans: Vec<(usize, usize)>,
}

fn find_tests(note: &Note<'_>, rules: &Ruleset, blocks: Option<&[Option<usize>]>) -> Vec<DataItem> {
    let lex = &rules.lex;
    let regions = &rules.regions;
    let mut state: Vec<(u32, TestState)> = Vec::new();
    // (test entry, evidence spans)
    let mut interpreted: Vec<(u32, Vec<(usize, usize)>)> = Vec::new();
    // Last interpretable test kept, per section: (section, hit index).
    let mut last_interpretable: Option<(Option<usize>, usize, usize)> = None;
    for s in 0..note.sentences.len() {
        if note.kind_in(s, &regions.tests_excluded) || !counts(s, blocks) {
            continue;
        }
        let (h0, h1) = note.sent_hits[s];
        let hits = &note.hits[h0..h1];
        let of = |l: u16| hits.iter().filter(move |h| h.lex == l);
        let interp_cue = hits
            .iter()
            .find(|h| h.lex == lex.interpretation_cue && note.passes(h));
        let mut interpretable_here = false;
        for (k, t) in hits.iter().enumerate() {
            if t.lex != lex.test || t.flags & (HYPOTHETICAL | FAMILY) != 0 {
                continue;
            }
            let before =
                of(lex.test_not_done_before).any(|h| h.end <= t.start && t.start - h.end <= 1);
            let after =
                of(lex.test_not_done_after).any(|h| h.start >= t.end && h.start - t.end <= 2);
            if before || after {
                continue;
            }
            let span = (t.start, t.end);
            let nearest = |l: u16| {
                of(l)
                    .filter(|h| h.end <= t.start || h.start >= t.end)
                    .map(|h| {
                        let other = (h.start, h.end);
                        Note::distance(span, other) + 10 * note.count_between(span, other, ";")
                    })
                    .min()
            };
            let order = nearest(lex.test_order);
            let review = nearest(lex.test_review);
            let s_end = note.sentences[s].tokens.end.min(note.tokens.len());
            let is_number = |i: usize| {
                i < s_end
                    && note
                        .tokens
                        .get(i)
                        .is_some_and(|x| x.kind == medledger_text::TokenKind::Number)
            };
            // "BMP in 2 weeks": a future order.
            let future = (t.end..(t.end + 4).min(s_end))
                .any(|i| is_number(i) && of(lex.interval_unit).any(|h| h.start == i + 1));
            // "A1c 8.2", "A1c of 8.2", "TSH: 3.1": a result.
            let value_at = of(lex.test_value_link)
                .find(|h| h.start == t.end)
                .map_or(t.end, |h| h.end);
            let number_after = !future && is_number(value_at);
            let (order, review) = if future {
                (
                    Some(order.unwrap_or(0).min(review.unwrap_or(usize::MAX))),
                    review,
                )
            } else {
                (order, review)
            };
            let (ordered, reviewed) = match (order, review) {
                (Some(o), Some(r)) => (o <= r, r < o),
                (Some(_), None) => (true, false),
                (None, Some(_)) => (false, true),
                (None, None) => {
                    if note.kind_in(s, &regions.test_results) || number_after {
                        (false, true)
                    } else if note.kind_in(s, &regions.test_orders) {
                        (true, false)
                    } else {
                        (false, interp_cue.is_some())
                    }
                }
            };
            let def = &rules.tests[t.entry as usize];
            if def.interpretable {
                interpretable_here = true;
                last_interpretable = Some((note.sent_section[s], h0 + k, s));
                if let Some(cue) = interp_cue
                    && !interpreted.iter().any(|(e, _)| *e == t.entry)
                {
                    interpreted.push((t.entry, vec![note.bytes(t), note.bytes(cue)]));
                }
            }
            if !(ordered || reviewed) {
                continue;
            }
            let pos = match state.iter().position(|(e, _)| *e == t.entry) {
                Some(p) => p,
                None => {
                    state.push((t.entry, TestState::default()));
                    state.len() - 1
                }
            };
            let st = &mut state[pos].1;
            st.ordered |= ordered;
            st.reviewed |= reviewed;
            if st.spans.len() < 3 {
                st.spans.push(note.bytes(t));
            }
        }
        // "I personally reviewed the images" after the sentence naming the
        // study.
        if let Some(cue) = interp_cue
            && !interpretable_here
            && let Some((section, k, ts)) = last_interpretable
            && section == note.sent_section[s]
            && s - ts <= 2
        {
            let t = &note.hits[k];
            if !interpreted.iter().any(|(e, _)| *e == t.entry) {
                interpreted.push((t.entry, vec![note.bytes(t), note.bytes(cue)]));
            }
            if !state.iter().any(|(e, _)| *e == t.entry) {
                state.push((
                    t.entry,
                    TestState {
                        ordered: false,
                        reviewed: true,
                        spans: vec![note.bytes(t)],
                    },
                ));
            }
        }
    }
    // A generic study ("the CT") is the specific one of its family.
    let specific_of = |entry: u32, present: &[u32]| -> u32 {
        let def = &rules.tests[entry as usize];
        if !def.generic {
            return entry;
        }
        present
            .iter()
            .copied()
            .find(|&e| {
                let d = &rules.tests[e as usize];
                !d.generic && d.family.is_some() && d.family == def.family
            })
            .unwrap_or(entry)
    };
    let present: Vec<u32> = state
        .iter()
        .map(|(e, _)| *e)
        .chain(interpreted.iter().map(|(e, _)| *e))
        .collect();
    let mut merged: Vec<(u32, TestState)> = Vec::new();
    for (entry, st) in state {
        let target = specific_of(entry, &present);
        match merged.iter_mut().find(|(e, _)| *e == target) {
            Some((_, m)) => {
                m.ordered |= st.ordered;
                m.reviewed |= st.reviewed;
                m.spans.extend(st.spans);
            }
            None => merged.push((target, st)),
        }
    }
    let mut interpreted_merged: Vec<(u32, Vec<(usize, usize)>)> = Vec::new();
    for (entry, spans) in interpreted {
        let target = specific_of(entry, &present);
        if !interpreted_merged.iter().any(|(e, _)| *e == target) {
            interpreted_merged.push((target, spans));
        }
    }
    let mut out = Vec::new();
    for (entry, st) in merged {
        let key = &rules.tests[entry as usize].key;
        let (kind, label) = if st.ordered {
            (
                DataKind::TestOrdered,
                format!("{key} ordered (its review included)"),
            )
        } else {
            (DataKind::TestResult, format!("{key} result reviewed"))
        };
        out.push(DataItem {
            kind,
            count_key: format!("test:{key}"),
            label,
            rule: format!("em.test.{key}"),
            spans: st.spans,
        });
    }
    for (entry, spans) in interpreted_merged {
        let key = &rules.tests[entry as usize].key;
        out.push(DataItem {
            kind: DataKind::IndependentInterpretation,
            count_key: format!("interp:{key}"),
            label: format!("independent interpretation of {key}"),
            rule: format!("em.test.{key}"),
            spans,
        });
    }
    out
}

fn level_label(rules: &Ruleset, element: MdmElement, level: MdmLevel) -> String {
    let labels = match element {
        MdmElement::Problems => &rules.mdm.problem_labels,
        MdmElement::Data => &rules.mdm.data_labels,
        MdmElement::Risk => &rules.mdm.risk_labels,
    };
    labels.get(level).to_string()
}

fn item_evidence(note: &Note<'_>, spans: &[(usize, usize)]) -> Vec<super::Evidence> {
    let mut spans = spans.to_vec();
    spans.sort_unstable();
    spans.dedup();
    spans.into_iter().map(|s| note.evidence(s)).collect()
}

/// Rates the problems element.
fn rate_problems(
    note: &Note<'_>,
    rules: &Ruleset,
    problems: &[Problem],
    dos: Date,
) -> ElementRating {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for p in problems {
        *counts.entry(p.class).or_default() += 1;
    }
    let applicable: Vec<_> = rules
        .problem_rules
        .iter()
        .filter(|r| r.meta.applies_on(dos))
        .collect();
    let mut chosen = None;
    for r in &applicable {
        for (classes, min) in &r.any_of {
            let n: usize = classes
                .iter()
                .map(|c| counts.get(c).copied().unwrap_or(0))
                .sum();
            if n >= *min {
                let names: Vec<&str> = classes
                    .iter()
                    .map(|&c| rules.problem_classes[c].label.as_str())
                    .collect();
                chosen = Some((r, format!("{n} × {}", names.join(" / "))));
                break;
            }
        }
        if chosen.is_some() {
            break;
        }
    }
    let (rule, reason) = match chosen {
        Some((r, why)) => (Some(*r), why),
        None => (
            applicable
                .iter()
                .find(|r| r.level == MdmLevel::Straightforward)
                .copied(),
            if problems.is_empty() {
                "no problem recognised in the assessment and plan".to_string()
            } else {
                format!("{} minor problem(s)", problems.len())
            },
        ),
    };
    let level = rule.map_or(MdmLevel::Straightforward, |r| r.level);
    let items = problems
        .iter()
        .map(|p| {
            let class = &rules.problem_classes[p.class];
            let names: Vec<&str> = p
                .conditions
                .iter()
                .filter_map(|&c| rules.conditions.get(c as usize).map(|c| c.key.as_str()))
                .collect();
            let mut spans: Vec<(usize, usize)> = p
                .mentions
                .iter()
                .take(3)
                .map(|&m| note.bytes(&note.hits[m]))
                .collect();
            spans.extend(
                p.statuses
                    .iter()
                    .take(3)
                    .map(|&s| note.bytes(&note.hits[s])),
            );
            MdmItem {
                kind: class.id.clone(),
                label: format!("{}: {}", names.join(" / "), class.label),
                rule: format!(
                    "em.condition.{}",
                    names
                        .first()
                        .copied()
                        .unwrap_or("unknown")
                        .replace(' ', "_")
                ),
                evidence: item_evidence(note, &spans),
            }
        })
        .collect();
    ElementRating {
        level,
        label: level_label(rules, MdmElement::Problems, level),
        rule: rule.map_or_else(String::new, |r| r.meta.id.clone()),
        reason,
        items,
    }
}

/// Rates the data element.
fn rate_data(note: &Note<'_>, rules: &Ruleset, items: &[DataItem], dos: Date) -> ElementRating {
    let applicable: Vec<_> = rules
        .data_rules
        .iter()
        .filter(|r| r.meta.applies_on(dos))
        .collect();
    let mut chosen = None;
    for r in &applicable {
        let met: Vec<String> = r
            .categories
            .iter()
            .filter_map(|c| {
                let keys: BTreeSet<&str> = items
                    .iter()
                    .filter(|i| c.kinds.contains(&i.kind))
                    .map(|i| i.count_key.as_str())
                    .collect();
                (keys.len() >= c.min).then(|| format!("{} ({})", c.name, keys.len()))
            })
            .collect();
        if met.len() >= r.categories_needed {
            let why = if met.is_empty() {
                if items.is_empty() {
                    "no data reviewed or ordered found".to_string()
                } else {
                    format!("{} data item(s), below the limited level", items.len())
                }
            } else {
                format!("met: {}", met.join("; "))
            };
            chosen = Some((*r, why));
            break;
        }
    }
    let level = chosen
        .as_ref()
        .map_or(MdmLevel::Straightforward, |(r, _)| r.level);
    ElementRating {
        level,
        label: level_label(rules, MdmElement::Data, level),
        rule: chosen
            .as_ref()
            .map_or_else(String::new, |(r, _)| r.meta.id.clone()),
        reason: chosen.map_or_else(String::new, |(_, why)| why),
        items: items
            .iter()
            .map(|i| MdmItem {
                kind: i.kind.as_str().to_string(),
                label: i.label.clone(),
                rule: i.rule.clone(),
                evidence: item_evidence(note, &i.spans),
            })
            .collect(),
    }
}

/// Rates the risk element.
fn rate_risk(note: &Note<'_>, rules: &Ruleset, items: &[RiskItem], dos: Date) -> ElementRating {
    let top = items
        .iter()
        .map(|i| rules.risk_classes[i.class].level)
        .max()
        .unwrap_or(MdmLevel::Straightforward);
    let rule = rules
        .risk_rules
        .iter()
        .filter(|r| r.meta.applies_on(dos))
        .find(|r| r.level <= top);
    let level = rule.map_or(MdmLevel::Straightforward, |r| r.level);
    let mut reasons: Vec<&str> = Vec::new();
    for i in items
        .iter()
        .filter(|i| rules.risk_classes[i.class].level == top)
    {
        let label = rules.risk_classes[i.class].label.as_str();
        if !reasons.contains(&label) {
            reasons.push(label);
        }
    }
    ElementRating {
        level,
        label: level_label(rules, MdmElement::Risk, level),
        rule: rule.map_or_else(String::new, |r| r.meta.id.clone()),
        reason: if reasons.is_empty() {
            "no management with more than minimal risk found".to_string()
        } else {
            reasons.join("; ")
        },
        items: items
            .iter()
            .map(|i| MdmItem {
                kind: rules.risk_classes[i.class].id.clone(),
                label: rules.risk_classes[i.class].label.clone(),
                rule: i.rule.clone(),
                evidence: item_evidence(note, &i.spans),
            })
            .collect(),
    }
}

/// The overall MDM level from the three element levels: the highest level
/// that `needed` elements meet or exceed.
pub(crate) fn overall(levels: [MdmLevel; 3], needed: usize) -> MdmLevel {
    let mut sorted = levels;
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted[needed.clamp(1, 3) - 1]
}

/// Finds and rates the three elements (for a preventive visit, only the work
/// inside the problems' own blocks counts).
pub(crate) fn rate(
    note: &Note<'_>,
    rules: &Ruleset,
    setting: Setting,
    dos: Date,
    preventive: bool,
) -> Rated {
    let (problems, blocks) = find_problems(note, rules, setting, dos);
    let filter = preventive.then_some(blocks.as_slice());
    let (data, risk) = find_data_and_risk(note, rules, dos, filter);
    let p = rate_problems(note, rules, &problems, dos);
    let d = rate_data(note, rules, &data, dos);
    let r = rate_risk(note, rules, &risk, dos);
    let level = overall([p.level, d.level, r.level], rules.mdm.elements_needed);
    let decided_by: Vec<MdmElement> = [
        (MdmElement::Problems, p.level),
        (MdmElement::Data, d.level),
        (MdmElement::Risk, r.level),
    ]
    .into_iter()
    .filter(|(_, l)| *l >= level)
    .map(|(e, _)| e)
    .collect();
    let rule_ids = vec![
        rules.mdm.meta.id.clone(),
        p.rule.clone(),
        d.rule.clone(),
        r.rule.clone(),
    ];
    Rated {
        grid: MdmGrid {
            level,
            label: rules.mdm.labels.get(level).to_string(),
            decided_by,
            rule: rules.mdm.meta.id.clone(),
            problems: p,
            data: d,
            risk: r,
        },
        problems,
        rule_ids,
    }
}

/// Whether a lexicon of "affirmed" mode has a passing hit in sentences that
/// satisfy `keep`.
pub(crate) fn has_cue(note: &Note<'_>, lex: u16, keep: impl Fn(usize) -> bool) -> Option<NoteHit> {
    note.first_hit(lex, keep).copied()
}
