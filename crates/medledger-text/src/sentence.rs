//! Sentence splitting over tokens.

use std::ops::Range;

use serde::Serialize;

use crate::section::all_headers;
use crate::token::{Token, TokenKind};

/// A sentence: byte range (trimmed) and the range of token indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub tokens: Range<usize>,
    pub list_item: bool,
}

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "dr", "drs", "mr", "mrs", "ms", "messrs", "prof", "st", "sr", "jr", "vs", "approx", "appt",
    "apt", "al", "fig", "figs", "vol", "pp", "ref", "cf", "pt", "pts", "dept", "esp", "incl", "sp",
    "spp", "ca", "min", "max",
];

/// Common words that start a sentence; used to decide whether "X." after a
/// single letter is an initial or the end of a sentence.
const SENTENCE_STARTERS: &[&str] = &[
    "the",
    "he",
    "she",
    "patient",
    "pt",
    "this",
    "there",
    "it",
    "we",
    "his",
    "her",
    "they",
    "a",
    "an",
    "in",
    "on",
    "at",
    "no",
    "i",
    "will",
    "plan",
    "after",
    "on",
    "during",
    "she's",
    "he's",
    "these",
    "those",
    "both",
    "blood",
    "physical",
    "laboratory",
    "labs",
    "follow",
    "continue",
    "start",
    "today",
];

fn is_terminal(t: &Token) -> bool {
    t.kind == TokenKind::Punct && matches!(t.lower.as_str(), "." | "!" | "?" | ";" | "…")
}

fn is_closer(t: &Token) -> bool {
    t.kind == TokenKind::Punct
        && matches!(
            t.lower.as_str(),
            ")" | "]" | "\"" | "'" | "\u{201d}" | "\u{2019}"
        )
}

fn starts_upper_or_digit(text: &str, t: &Token) -> bool {
    match text.get(t.start..).and_then(|s| s.chars().next()) {
        Some(c) => {
            c.is_uppercase()
                || c.is_ascii_digit()
                || matches!(c, '"' | '(' | '[' | '\u{201c}' | '-' | '*' | '•')
        }
        None => false,
    }
}

fn starts_upper(text: &str, t: &Token) -> bool {
    text.get(t.start..)
        .and_then(|s| s.chars().next())
        .is_some_and(|c| c.is_uppercase())
}

fn is_single_letter(t: &Token) -> bool {
    t.kind == TokenKind::Word && t.lower.chars().count() == 1
}

/// Whether the period at token `i` belongs to an abbreviation (so it does
/// not end the sentence before token `i + 1`).
fn period_is_abbreviation(text: &str, tokens: &[Token], i: usize) -> bool {
    if tokens[i].lower != "." || i == 0 {
        return false;
    }
    let prev = &tokens[i - 1];
    if prev.end != tokens[i].start || prev.kind != TokenKind::Word {
        return false;
    }
    let next = tokens.get(i + 1);
    let next_is_starter = next.is_some_and(|n| SENTENCE_STARTERS.contains(&n.lower.as_str()));
    if ABBREVIATIONS.contains(&prev.lower.as_str()) {
        return true;
    }
    if prev.lower == "no" || prev.lower == "nos" {
        return next.is_some_and(|n| n.kind == TokenKind::Number);
    }
    if is_single_letter(prev) {
        // "e.g.", "i.e.", "b.i.d.": a dotted sequence.
        if i >= 2 && tokens[i - 2].lower == "." && tokens[i - 2].end == prev.start {
            return !next_is_starter;
        }
        // Initials: "J. Smith".
        if starts_upper(text, prev) {
            return !next_is_starter;
        }
        // "e." at the start of "e.g." handled above; a lone lowercase letter
        // such as "vitamin d." ends the sentence.
    }
    false
}

fn integer_like(t: &Token) -> bool {
    t.kind == TokenKind::Number && t.lower.len() <= 3 && t.lower.bytes().all(|b| b.is_ascii_digit())
}

/// Whether token `j` starts a list item ("1.", "2)", "-", "*", "•", "(3)", "a)").
pub(crate) fn is_list_marker(text: &str, tokens: &[Token], j: usize) -> bool {
    let Some(t) = tokens.get(j) else { return false };
    let followed_by_space = |end: usize| -> bool {
        match text.get(end..).and_then(|s| s.chars().next()) {
            None => true,
            Some(c) => c.is_whitespace(),
        }
    };
    if integer_like(t) || (is_single_letter(t) && t.lower.is_ascii()) {
        if let Some(p) = tokens.get(j + 1) {
            let ok_punct = if integer_like(t) {
                matches!(p.lower.as_str(), "." | ")")
            } else {
                p.lower == ")"
            };
            return ok_punct && p.start == t.end && followed_by_space(p.end);
        }
        return false;
    }
    if t.kind == TokenKind::Punct {
        if matches!(
            t.lower.as_str(),
            "-" | "*" | "•" | "·" | "–" | "—" | "▪" | "◦" | "+"
        ) {
            return followed_by_space(t.end);
        }
        if let (true, Some(n), Some(c)) = (t.lower == "(", tokens.get(j + 1), tokens.get(j + 2)) {
            return integer_like(n) && c.lower == ")" && n.start == t.end && c.start == n.end;
        }
    }
    false
}

/// The number of an integer list marker at token `j` ("3." or "3)").
fn list_number(text: &str, tokens: &[Token], j: usize) -> Option<u32> {
    let t = tokens.get(j)?;
    if integer_like(t) && is_list_marker(text, tokens, j) {
        t.lower.parse().ok()
    } else {
        None
    }
}

/// Layout statistics deciding how single newlines are treated.
struct Layout {
    one_per_line: bool,
    max_line: usize,
}

fn layout(text: &str) -> Layout {
    let mut lines = 0usize;
    let mut terminal = 0usize;
    // Lines that do not end a sentence and are continued by a line starting
    // in lower case: evidence of hard-wrapped prose.
    let mut wraps = 0usize;
    let mut max_line = 0usize;
    let mut prev_open = false;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            prev_open = false;
            continue;
        }
        lines += 1;
        max_line = max_line.max(l.len());
        if prev_open && l.chars().next().is_some_and(|c| c.is_lowercase()) {
            wraps += 1;
        }
        let ends = l.ends_with(['.', '!', '?', ':', ';']);
        if ends {
            terminal += 1;
        }
        prev_open = !ends;
    }
    let one_per_line = lines >= 3 && terminal * 10 >= lines * 6 && wraps * 50 < lines;
    Layout {
        one_per_line,
        max_line,
    }
}

fn line_start_before(text: &str, pos: usize) -> usize {
    let b = text.as_bytes();
    let mut p = pos.min(b.len());
    while p > 0 && b[p - 1] != b'\n' {
        p -= 1;
    }
    p
}

fn line_len_at(text: &str, line_start: usize) -> usize {
    let rest = text.get(line_start..).unwrap_or("");
    let end = rest.find('\n').unwrap_or(rest.len());
    rest[..end].trim().len()
}

/// Splits the note into sentences. Every token belongs to exactly one
/// sentence; sentences are ordered and trimmed.
pub fn sentences(text: &str, tokens: &[Token]) -> Vec<Sentence> {
    sentences_with_headers(text, tokens, &all_headers(text))
}

/// Sentences and sections of a note, finding its headers once.
pub fn sentences_and_sections(
    text: &str,
    tokens: &[Token],
) -> (Vec<Sentence>, Vec<crate::Section>) {
    let headers = all_headers(text);
    (
        sentences_with_headers(text, tokens, &headers),
        crate::section::sections_with_headers(text, &headers),
    )
}

fn sentences_with_headers(
    text: &str,
    tokens: &[Token],
    headers: &[crate::section::HeaderMatch],
) -> Vec<Sentence> {
    let mut out = Vec::new();
    if tokens.is_empty() {
        return out;
    }
    let lay = layout(text);
    let mut cur_line_start = line_start_before(text, tokens[0].start);
    let mut hp = 0usize;
    let mut sent_first = 0usize;
    let push = |out: &mut Vec<Sentence>, a: usize, b: usize| {
        out.push(Sentence {
            start: tokens[a].start,
            end: tokens[b - 1].end.max(tokens[a].start),
            tokens: a..b,
            list_item: is_list_marker(text, tokens, a),
        });
    };
    // Number of the current integer list item ("1." -> 1), for inline
    // enumerations such as "1. HTN 2. DM".
    let mut list_num: Option<u32> = list_number(text, tokens, 0);
    for i in 0..tokens.len() - 1 {
        let cur = &tokens[i];
        let next = &tokens[i + 1];
        let gap = if cur.end <= next.start {
            text.get(cur.end..next.start).unwrap_or("")
        } else {
            ""
        };
        let newlines = gap.bytes().filter(|&b| b == b'\n').count();
        // Headers start a sentence and end their own sentence.
        while hp < headers.len() && headers[hp].body_start <= cur.start {
            hp += 1;
        }
        let (header_begin, header_end) = match headers.get(hp) {
            Some(h) => (
                cur.end <= h.start && next.start >= h.start,
                cur.start >= h.start && next.start >= h.body_start,
            ),
            None => (false, false),
        };
        let terminal = is_terminal(cur)
            || (is_closer(cur)
                && i > 0
                && is_terminal(&tokens[i - 1])
                && tokens[i - 1].end == cur.start);
        // The "." or ")" of a list marker at the start of the sentence.
        let marker_punct = i == sent_first + 1 && is_list_marker(text, tokens, sent_first);
        let abbrev = marker_punct || period_is_abbreviation(text, tokens, i);
        let brk = if newlines >= 1 {
            let next_line_start = cur.end + gap.rfind('\n').map(|p| p + 1).unwrap_or(0);
            let hard = newlines >= 2 || is_list_marker(text, tokens, i + 1) || lay.one_per_line;
            let ended = (terminal || cur.lower == ":") && !abbrev;
            // A short line followed by a capitalized line was ended on
            // purpose; long lines are probably wrapped prose.
            let short_line = starts_upper_or_digit(text, next) && {
                let len = line_len_at(text, cur_line_start);
                lay.max_line < 50 || len * 4 < lay.max_line * 3
            };
            cur_line_start = next_line_start;
            header_begin || header_end || hard || ended || short_line
        } else {
            let ended = terminal && !gap.is_empty() && !abbrev && starts_upper_or_digit(text, next);
            let next_item = !gap.is_empty()
                && list_num.is_some()
                && list_number(text, tokens, i + 1) == list_num.map(|n| n + 1);
            // Splitting after a comma before "1." in flattened lists.
            let comma_item = cur.lower == ","
                && cur.end == next.start
                && list_number(text, tokens, i + 1).is_some();
            header_begin || header_end || ended || next_item || comma_item
        };
        if brk {
            push(&mut out, sent_first, i + 1);
            sent_first = i + 1;
            list_num = list_number(text, tokens, i + 1);
        }
    }
    push(&mut out, sent_first, tokens.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    fn split(text: &str) -> Vec<String> {
        let toks = tokenize(text);
        sentences(text, &toks)
            .iter()
            .map(|s| text[s.start..s.end].to_string())
            .collect()
    }

    #[test]
    fn basic_split() {
        assert_eq!(
            split("He has pain. She is fine! Why? Yes; No"),
            vec!["He has pain.", "She is fine!", "Why?", "Yes;", "No"]
        );
        assert_eq!(split("fever. then cough"), vec!["fever. then cough"]);
    }

    #[test]
    fn abbreviations_and_decimals() {
        assert_eq!(
            split("Seen by Dr. Smith today. A1c was 6.5 today."),
            vec!["Seen by Dr. Smith today.", "A1c was 6.5 today."]
        );
        assert_eq!(
            split("Mr. Jones and Mrs. Lee came."),
            vec!["Mr. Jones and Mrs. Lee came."]
        );
        assert_eq!(
            split("Use e.g. Tylenol for pain."),
            vec!["Use e.g. Tylenol for pain."]
        );
        assert_eq!(
            split("Pneumonia vs. Atelectasis noted."),
            vec!["Pneumonia vs. Atelectasis noted."]
        );
        assert_eq!(
            split("Weight approx. 70 kg."),
            vec!["Weight approx. 70 kg."]
        );
        assert_eq!(split("See No. 5 below."), vec!["See No. 5 below."]);
        assert_eq!(
            split("Seen by J. Smith yesterday."),
            vec!["Seen by J. Smith yesterday."]
        );
        assert_eq!(
            split("Temp 38.5 C. The patient improved."),
            vec!["Temp 38.5 C.", "The patient improved."]
        );
        assert_eq!(
            split("Lisinopril 10 mg. Metformin 500 mg."),
            vec!["Lisinopril 10 mg.", "Metformin 500 mg."]
        );
    }

    #[test]
    fn list_items() {
        let t = "ASSESSMENT:\n1. Hypertension\n2. Diabetes mellitus type 2\n3) CKD stage 3\n- Obesity\n* Gout\n• Asthma";
        let toks = tokenize(t);
        let s = sentences(t, &toks);
        let texts: Vec<&str> = s.iter().map(|x| &t[x.start..x.end]).collect();
        assert_eq!(
            texts,
            vec![
                "ASSESSMENT:",
                "1. Hypertension",
                "2. Diabetes mellitus type 2",
                "3) CKD stage 3",
                "- Obesity",
                "* Gout",
                "• Asthma"
            ]
        );
        let flags: Vec<bool> = s.iter().map(|x| x.list_item).collect();
        assert_eq!(flags, vec![false, true, true, true, true, true, true]);
        assert_eq!(
            split("1. HTN 2. DM type 2 3. CKD"),
            vec!["1. HTN", "2. DM type 2", "3. CKD"]
        );
        assert_eq!(split("Take 2. Then 5 more"), vec!["Take 2.", "Then 5 more"]);
    }

    #[test]
    fn header_inline() {
        assert_eq!(
            split("ASSESSMENT: Pneumonia. PLAN: antibiotics"),
            vec!["ASSESSMENT:", "Pneumonia.", "PLAN:", "antibiotics"]
        );
        assert_eq!(
            split(
                "DISCHARGE DIAGNOSES:,1.  Pneumonia.,2.  COPD exacerbation.,HOSPITAL COURSE: Admitted."
            ),
            vec![
                "DISCHARGE DIAGNOSES:",
                ",",
                "1.  Pneumonia.,",
                "2.  COPD exacerbation.,",
                "HOSPITAL COURSE:",
                "Admitted."
            ]
        );
        assert_eq!(
            split("CHIEF COMPLAINT: cough\nHPI: 3 days of cough"),
            vec!["CHIEF COMPLAINT:", "cough", "HPI:", "3 days of cough"]
        );
    }

    #[test]
    fn one_sentence_per_line() {
        let t = "Paciente de 45 años con fiebre.\nSe realizó una radiografía\nLa radiografía mostró neumonía.\nSe inició tratamiento antibiótico.\nEvolución favorable.";
        assert_eq!(split(t).len(), 5);
    }

    #[test]
    fn wrapped_prose_joined() {
        let t = "The patient is a 64 year old man with a long history of poorly controlled\nhypertension and type 2 diabetes who presents today with worsening dyspnea on\nexertion over the last three weeks and bilateral lower extremity edema noted.";
        assert_eq!(split(t).len(), 1);
    }

    #[test]
    fn wrapped_note_not_one_per_line() {
        let t = "CHIEF COMPLAINT: Chest pain.\nHPI: The patient is a 64 year old man who presents with\nsubsternal chest pain. No fever.\nPMH: HTN.\nPSH: none.\nMeds: aspirin.\nAllergies: none.";
        let s = split(t);
        assert!(
            s.contains(
                &"The patient is a 64 year old man who presents with\nsubsternal chest pain."
                    .to_string()
            ),
            "{s:?}"
        );
    }

    #[test]
    fn blank_lines_split() {
        assert_eq!(
            split("Cough and fever\n\nno rash"),
            vec!["Cough and fever", "no rash"]
        );
    }

    #[test]
    fn covers_all_tokens() {
        let t = "  Hello there.  New one?\n\n- item\n";
        let toks = tokenize(t);
        let s = sentences(t, &toks);
        let mut next = 0;
        for x in &s {
            assert_eq!(x.tokens.start, next);
            next = x.tokens.end;
            assert_eq!(x.start, toks[x.tokens.start].start);
            assert_eq!(x.end, toks[x.tokens.end - 1].end);
        }
        assert_eq!(next, toks.len());
        assert!(sentences("", &[]).is_empty());
    }
}
