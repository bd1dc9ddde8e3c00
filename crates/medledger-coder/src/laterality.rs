//! Laterality (OCG I.B.13): a code for an unspecified side is refined to the
//! right, left or bilateral code of the same subcategory when the note says
//! which side, next to the mention.
//!
//! The side codes are read off the tabular itself: siblings whose titles
//! differ from the unspecified code's title only by the side words
//! ("Ocular pain, unspecified eye" / "Ocular pain, right eye" / "Ocular
//! pain, bilateral").

use medledger_codesets::icd10cm::tabular::Tabular;
use rustc_hash::FxHashMap;

use crate::matcher::Annotated;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Right = 0,
    Left = 1,
    Bilateral = 2,
}

impl Side {
    const ALL: [Side; 3] = [Side::Right, Side::Left, Side::Bilateral];

    pub fn name(self) -> &'static str {
        match self {
            Side::Right => "right",
            Side::Left => "left",
            Side::Bilateral => "bilateral",
        }
    }
}

/// The side codes of one unspecified-side code (tabular node indices), by
/// [`Side`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sides([Option<u32>; 3]);

impl Sides {
    pub fn get(&self, s: Side) -> Option<u32> {
        self.0[s as usize]
    }
}

/// Words that name a side, or the lack of one, in a title.
const SIDE_WORDS: &[&str] = &[
    "right",
    "left",
    "bilateral",
    "unspecified",
    "eye",
    "eyes",
    "side",
    "sides",
    "sided",
];

fn words(desc: &str) -> Vec<String> {
    desc.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The side a title names: exactly one of right, left, bilateral.
fn title_side(ws: &[String]) -> Option<Side> {
    let mut named = Side::ALL
        .into_iter()
        .filter(|s| ws.iter().any(|w| w == s.name()));
    match (named.next(), named.next()) {
        (Some(s), None) => Some(s),
        _ => None,
    }
}

/// Unspecified-side codes of the tabular and their side siblings.
#[derive(Debug, Default)]
pub struct Laterality {
    by_node: FxHashMap<u32, Sides>,
}

impl Laterality {
    pub fn build(tab: &Tabular) -> Laterality {
        let mut children: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (i, n) in tab.nodes.iter().enumerate() {
            let leaf = n.end as usize == i + 1;
            if let (true, Some(p)) = (leaf, n.parent) {
                children.entry(p).or_default().push(i as u32);
            }
        }
        let mut by_node = FxHashMap::default();
        for kids in children.values().filter(|k| k.len() >= 2) {
            // Each sibling's words, and its title without the side words.
            let described: Vec<(u32, Vec<String>, Vec<String>)> = kids
                .iter()
                .map(|&k| {
                    let ws = words(&tab.node(k).desc);
                    let rest = ws
                        .iter()
                        .filter(|w| !SIDE_WORDS.contains(&w.as_str()))
                        .cloned()
                        .collect();
                    (k, ws, rest)
                })
                .collect();
            for (u, uw, key) in &described {
                let names_a_side = Side::ALL.iter().any(|s| uw.iter().any(|w| w == s.name()));
                if names_a_side || !uw.iter().any(|w| w == "unspecified") {
                    continue;
                }
                let mut sides = Sides::default();
                for (s, sw, rest) in &described {
                    if s != u
                        && rest == key
                        && let Some(side) = title_side(sw)
                    {
                        sides.0[side as usize] = Some(*s);
                    }
                }
                if sides != Sides::default() {
                    by_node.insert(*u, sides);
                }
            }
        }
        Laterality { by_node }
    }

    pub fn sides(&self, node: u32) -> Option<&Sides> {
        self.by_node.get(&node)
    }

    pub fn is_empty(&self) -> bool {
        self.by_node.is_empty()
    }
}

/// How far (in tokens) from a mention a side word still qualifies it.
pub const SIDE_WINDOW: u32 = 6;

/// The side word nearest to the mention tokens `lo..=hi` of sentence
/// `sentence`, within [`SIDE_WINDOW`] tokens: (side, token). Eye codes also
/// read OD / OS / OU (and OI, the Spanish "ojo izquierdo").
pub fn side_near(
    note: &Annotated,
    sentence: usize,
    lo: u32,
    hi: u32,
    eye: bool,
) -> Option<(Side, u32)> {
    let s = note.sentences.get(sentence)?;
    let (start, end) = (s.tokens.start as u32, s.tokens.end as u32);
    let from = lo.saturating_sub(SIDE_WINDOW).max(start);
    let to = (hi + SIDE_WINDOW + 1).min(end);
    let mut best: Option<(u32, Side, u32)> = None;
    for t in from..to {
        let tok = &note.tokens[t as usize];
        let original = note.text.get(tok.start..tok.end).unwrap_or("");
        let upper = original.chars().all(|c| c.is_uppercase());
        let side = match tok.lower.as_str() {
            "right" => Side::Right,
            "left" => Side::Left,
            "bilateral" | "bilaterally" | "both" => Side::Bilateral,
            "od" if eye && upper => Side::Right,
            "os" | "oi" if eye && upper => Side::Left,
            "ou" if eye && upper => Side::Bilateral,
            _ => continue,
        };
        let dist = if t < lo { lo - t } else { t.saturating_sub(hi) };
        if best.is_none_or(|(d, _, _)| dist < d) {
            best = Some((dist, side, t));
        }
    }
    best.map(|(_, s, t)| (s, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_sides() {
        let w = words("Ocular pain, right eye");
        assert_eq!(title_side(&w), Some(Side::Right));
        assert_eq!(
            title_side(&words("Ocular pain, bilateral")),
            Some(Side::Bilateral)
        );
        assert_eq!(title_side(&words("Ocular pain, unspecified eye")), None);
        assert_eq!(title_side(&words("Pain in right and left knee")), None);
    }
}
