//! Tokenization with exact byte offsets.

use serde::Serialize;

/// A token of the note. `text[start..end]` is the token text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub lower: String,
    pub kind: TokenKind,
}

/// Kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokenKind {
    /// Letters (any script), possibly mixed with digits ("B12", "T2DM") or with
    /// an internal apostrophe ("Crohn's").
    Word,
    /// Digits with an optional single internal decimal point or comma.
    Number,
    /// Any other single non-whitespace char.
    Punct,
}

#[inline]
fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

#[inline]
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric() || is_combining(c)
    }
}

#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|s| s.chars().next())
}

fn lower_of(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Splits `text` into word, number and punctuation tokens. Never panics; runs
/// in linear time.
pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut out = Vec::with_capacity(n / 5 + 1);
    let mut i = 0usize;
    while i < n {
        let b = bytes[i];
        let c = if b < 0x80 {
            b as char
        } else {
            match char_at(text, i) {
                Some(c) => c,
                None => {
                    i += 1;
                    continue;
                }
            }
        };
        let clen = c.len_utf8();
        if c.is_whitespace() {
            i += clen;
            continue;
        }
        if !is_word_char(c) {
            out.push(Token {
                start: i,
                end: i + clen,
                lower: lower_of(&text[i..i + clen]),
                kind: TokenKind::Punct,
            });
            i += clen;
            continue;
        }
        // Alphanumeric run with internal apostrophes between letters.
        let start = i;
        let mut j = i;
        let mut has_alpha = false;
        let mut prev_alpha = false;
        while j < n {
            let c = if bytes[j] < 0x80 {
                bytes[j] as char
            } else {
                match char_at(text, j) {
                    Some(c) => c,
                    None => break,
                }
            };
            if is_word_char(c) {
                let alpha = !c.is_numeric();
                has_alpha |= alpha;
                prev_alpha = alpha;
                j += c.len_utf8();
            } else if is_apostrophe(c) && prev_alpha {
                // Keep only when followed by a letter.
                let k = j + c.len_utf8();
                match char_at(text, k) {
                    Some(d) if is_word_char(d) && !d.is_numeric() => {
                        j = k;
                        prev_alpha = false;
                    }
                    _ => break,
                }
            } else {
                break;
            }
        }
        let mut kind = if has_alpha {
            TokenKind::Word
        } else {
            TokenKind::Number
        };
        if kind == TokenKind::Number
            && j + 1 < n
            && (bytes[j] == b'.' || bytes[j] == b',')
            && bytes[j + 1].is_ascii_digit()
        {
            // Decimal part: digits only.
            let mut k = j + 1;
            while k < n && bytes[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
            kind = TokenKind::Number;
        }
        out.push(Token {
            start,
            end: j,
            lower: lower_of(&text[start..j]),
            kind,
        });
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(t: &str) -> Vec<(String, TokenKind)> {
        tokenize(t).into_iter().map(|k| (k.lower, k.kind)).collect()
    }

    fn lowers(t: &str) -> Vec<String> {
        tokenize(t).into_iter().map(|k| k.lower).collect()
    }

    #[test]
    fn offsets_are_exact() {
        let t = "Pt w/ HbA1c 6.5%, Crohn's dz; well-differentiated tumor.";
        for tok in tokenize(t) {
            assert_eq!(t[tok.start..tok.end].to_lowercase(), tok.lower);
        }
    }

    #[test]
    fn basic_kinds() {
        use TokenKind::*;
        assert_eq!(
            toks("HbA1c 6.5 1,200 x"),
            vec![
                ("hba1c".into(), Word),
                ("6.5".into(), Number),
                ("1,200".into(), Number),
                ("x".into(), Word)
            ]
        );
    }

    #[test]
    fn decimals_and_sentence_period() {
        assert_eq!(lowers("A1c was 6.5."), vec!["a1c", "was", "6.5", "."]);
        assert_eq!(lowers("fever, chills"), vec!["fever", ",", "chills"]);
        assert_eq!(lowers("1,2,3"), vec!["1,2", ",", "3"]);
        assert_eq!(lowers("6.5mg"), vec!["6.5", "mg"]);
    }

    #[test]
    fn hyphens_split() {
        assert_eq!(
            lowers("well-differentiated"),
            vec!["well", "-", "differentiated"]
        );
        assert_eq!(lowers("Gram-negative"), vec!["gram", "-", "negative"]);
        assert_eq!(lowers("COVID-19"), vec!["covid", "-", "19"]);
    }

    #[test]
    fn apostrophes() {
        assert_eq!(lowers("Crohn's disease"), vec!["crohn's", "disease"]);
        assert_eq!(lowers("Crohn\u{2019}s"), vec!["crohn\u{2019}s"]);
        assert_eq!(lowers("patients' rooms"), vec!["patients", "'", "rooms"]);
        assert_eq!(lowers("'quoted'"), vec!["'", "quoted", "'"]);
        assert_eq!(lowers("can't"), vec!["can't"]);
    }

    #[test]
    fn alnum_mixes() {
        use TokenKind::*;
        for w in ["COVID19", "B12", "T2DM", "HbA1c", "DM2"] {
            let v = tokenize(w);
            assert_eq!(v.len(), 1, "{w}");
            assert_eq!(v[0].kind, Word);
        }
        assert_eq!(tokenize("2024")[0].kind, Number);
    }

    #[test]
    fn non_ascii() {
        let t = "Niño con anemia ferropénica 😀 e\u{301}dema İstanbul";
        let v = tokenize(t);
        for tok in &v {
            assert_eq!(t[tok.start..tok.end].to_lowercase(), tok.lower);
            assert!(t.is_char_boundary(tok.start) && t.is_char_boundary(tok.end));
        }
        let l: Vec<&str> = v.iter().map(|t| t.lower.as_str()).collect();
        assert_eq!(l[0], "niño");
        assert_eq!(l[3], "ferropénica");
        assert_eq!(l[4], "😀");
        assert_eq!(v[4].kind, TokenKind::Punct);
        assert_eq!(l[5], "e\u{301}dema");
    }

    #[test]
    fn empty_and_spaces() {
        assert!(tokenize("").is_empty());
        assert!(tokenize(" \n\t ").is_empty());
    }
}
