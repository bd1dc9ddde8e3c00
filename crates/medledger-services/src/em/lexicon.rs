//! Phrase matching over note tokens: every rule-file phrase, tokenized with
//! the medledger-text tokenizer and indexed by its first word, built once per
//! engine. A scan finds, per lexicon, the leftmost-longest non-overlapping
//! matches; pseudo phrases take part in that choice and are then dropped.

use std::borrow::Cow;
use std::collections::HashMap;

use medledger_text::{Token, tokenize};

/// Index of a lexicon in the rule set.
pub(crate) type LexId = u16;

#[derive(Debug)]
struct Phrase {
    /// Words as compared: singular forms when `fold`, else exact lower case.
    words: Box<[String]>,
    fold: bool,
    lex: LexId,
    entry: u32,
    pseudo: bool,
}

/// A match: lexicon, entry within a keyed lexicon, token range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub lex: LexId,
    pub entry: u32,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Default)]
pub(crate) struct PhraseMatcher {
    by_first: HashMap<String, Vec<u32>>,
    phrases: Vec<Phrase>,
}

/// Curly apostrophes read as straight ones.
fn exact(lower: &str) -> Cow<'_, str> {
    if lower.contains('\u{2019}') {
        Cow::Owned(lower.replace('\u{2019}', "'"))
    } else {
        Cow::Borrowed(lower)
    }
}

/// The word without a plural "s" ("tests" → "test"; "status", "class",
/// "diagnosis" and short words unchanged).
fn singular(word: &str) -> &str {
    if word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
        && word.is_char_boundary(word.len() - 1)
    {
        &word[..word.len() - 1]
    } else {
        word
    }
}

/// Comparison keys of one note token.
pub(crate) struct TokKey<'a> {
    exact: Cow<'a, str>,
}

impl TokKey<'_> {
    fn single(&self) -> &str {
        singular(&self.exact)
    }
}

/// Keys for every token of a note.
pub(crate) fn keys(tokens: &[Token]) -> Vec<TokKey<'_>> {
    tokens
        .iter()
        .map(|t| TokKey {
            exact: exact(&t.lower),
        })
        .collect()
}

impl PhraseMatcher {
    /// Adds one phrase; an empty phrase is an error.
    pub fn add(
        &mut self,
        phrase: &str,
        lex: LexId,
        entry: u32,
        fold: bool,
        pseudo: bool,
    ) -> Result<(), String> {
        let words: Vec<String> = tokenize(phrase)
            .iter()
            .map(|t| {
                let e = exact(&t.lower);
                if fold {
                    singular(&e).to_string()
                } else {
                    e.into_owned()
                }
            })
            .collect();
        let Some(first) = words.first() else {
            return Err(format!("phrase {phrase:?} has no words"));
        };
        let first = singular(first).to_string();
        if let Some(ids) = self.by_first.get(&first) {
            for &id in ids {
                let p = &self.phrases[id as usize];
                if p.lex == lex && *p.words == *words && p.fold == fold {
                    if p.entry == entry && p.pseudo == pseudo {
                        return Ok(());
                    }
                    return Err(format!("phrase {phrase:?} is listed twice in one lexicon"));
                }
            }
        }
        let id = self.phrases.len() as u32;
        self.phrases.push(Phrase {
            words: words.into_boxed_slice(),
            fold,
            lex,
            entry,
            pseudo,
        });
        self.by_first.entry(first).or_default().push(id);
        Ok(())
    }

    /// Orders candidates longest first (stable, so earlier entries win ties).
    pub fn finish(&mut self) {
        let phrases = &self.phrases;
        for ids in self.by_first.values_mut() {
            ids.sort_by_key(|&id| std::cmp::Reverse(phrases[id as usize].words.len()));
        }
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    fn matches_at(&self, p: &Phrase, keys: &[TokKey<'_>], i: usize) -> bool {
        let Some(window) = keys.get(i..i + p.words.len()) else {
            return false;
        };
        window.iter().zip(p.words.iter()).all(|(k, w)| {
            if p.fold {
                k.single() == w.as_str()
            } else {
                k.exact.as_ref() == w.as_str()
            }
        })
    }

    /// All leftmost-longest matches per lexicon, pseudo phrases removed,
    /// ordered by start token then lexicon.
    pub fn scan(&self, keys: &[TokKey<'_>]) -> Vec<Hit> {
        // (hit, pseudo)
        let mut raw: Vec<(Hit, bool)> = Vec::new();
        for i in 0..keys.len() {
            let Some(ids) = self.by_first.get(keys[i].single()) else {
                continue;
            };
            for &id in ids {
                let p = &self.phrases[id as usize];
                if self.matches_at(p, keys, i) {
                    raw.push((
                        Hit {
                            lex: p.lex,
                            entry: p.entry,
                            start: i,
                            end: i + p.words.len(),
                        },
                        p.pseudo,
                    ));
                }
            }
        }
        // Leftmost-longest within each lexicon; the stable sort keeps the
        // rule file's order among equal spans.
        raw.sort_by_key(|(h, _)| (h.lex, h.start, std::cmp::Reverse(h.end)));
        let mut out = Vec::with_capacity(raw.len());
        let mut cur_lex = LexId::MAX;
        let mut last_end = 0usize;
        for (h, pseudo) in raw {
            if h.lex != cur_lex {
                cur_lex = h.lex;
                last_end = 0;
            }
            if h.start < last_end {
                continue;
            }
            last_end = h.end;
            if !pseudo {
                out.push(h);
            }
        }
        out.sort_by_key(|h| (h.start, h.lex, h.end));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(m: &PhraseMatcher, text: &str) -> Vec<(LexId, u32, String)> {
        let tokens = tokenize(text);
        let k = keys(&tokens);
        m.scan(&k)
            .into_iter()
            .map(|h| {
                let s = tokens[h.start].start;
                let e = tokens[h.end - 1].end;
                (h.lex, h.entry, text[s..e].to_string())
            })
            .collect()
    }

    #[test]
    fn longest_match_wins_within_a_lexicon() {
        let mut m = PhraseMatcher::default();
        m.add("ct", 1, 0, true, false).unwrap();
        m.add("ct head", 1, 1, true, false).unwrap();
        m.add("head", 2, 0, false, false).unwrap();
        m.finish();
        let hits = scan(&m, "CT head ordered");
        assert_eq!(
            hits,
            vec![(1, 1, "CT head".to_string()), (2, 0, "head".to_string())]
        );
    }

    #[test]
    fn pseudo_phrases_block_shorter_matches() {
        let mut m = PhraseMatcher::default();
        m.add("admit", 3, 0, false, false).unwrap();
        m.add("admitted with", 3, 0, false, true).unwrap();
        m.add("admitted", 3, 0, false, false).unwrap();
        m.finish();
        assert!(scan(&m, "was admitted with pneumonia").is_empty());
        assert_eq!(scan(&m, "will admit").len(), 1);
    }

    #[test]
    fn plural_folding_only_where_asked() {
        let mut m = PhraseMatcher::default();
        m.add("lipid panel", 1, 0, true, false).unwrap();
        m.add("admit", 3, 0, false, false).unwrap();
        m.finish();
        assert_eq!(scan(&m, "lipid panels drawn").len(), 1);
        assert!(scan(&m, "patient admits to drinking").is_empty());
    }

    #[test]
    fn duplicate_phrase_with_another_entry_is_an_error() {
        let mut m = PhraseMatcher::default();
        m.add("echo", 1, 0, true, false).unwrap();
        assert!(m.add("echo", 1, 0, true, false).is_ok());
        assert!(m.add("echo", 1, 5, true, false).is_err());
        assert!(m.add("  ", 1, 5, true, false).is_err());
    }
}
