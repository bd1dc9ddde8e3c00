//! Attachment text: base64 decoding, charsets (UTF-8 default, US-ASCII,
//! ISO-8859-1, windows-1252) and HTML to plain text.
//!
//! HTML: comments, `<script>`/`<style>` bodies and tags are removed
//! (quoted attribute values may contain `>`), block elements (`p`, `div`,
//! `br`, `li`, `tr`, headings, …) become line breaks, character references
//! are decoded (decimal, hex and the common named ones; an unknown named
//! reference is kept as written), and runs of spaces are collapsed.

use base64::Engine;

/// Why an attachment gave no text (PHI-free).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextError {
    Base64,
    Charset(String),
    Encoding,
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::Base64 => write!(f, "data is not valid base64"),
            TextError::Charset(c) => write!(f, "unsupported charset {c}"),
            TextError::Encoding => write!(f, "bytes are not valid in the declared charset"),
        }
    }
}

/// Media type (lower case) and charset parameter (lower case) of a contentType.
pub(crate) fn media_type(ct: &str) -> (String, Option<String>) {
    let mut parts = ct.split(';');
    let mt = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    });
    (mt, charset)
}

pub(crate) fn decode_base64(data: &str) -> Result<Vec<u8>, TextError> {
    let cleaned: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(cleaned).map_err(|_| TextError::Base64)
}

const CP1252: [char; 32] = [
    '\u{20AC}', '\u{FFFD}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{FFFD}', '\u{017D}', '\u{FFFD}',
    '\u{FFFD}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{FFFD}', '\u{017E}', '\u{0178}',
];

/// Bytes in `charset` (absent: UTF-8) → text.
pub(crate) fn decode_charset(bytes: Vec<u8>, charset: Option<&str>) -> Result<String, TextError> {
    match charset.unwrap_or("utf-8") {
        "utf-8" | "utf8" => {
            let s = String::from_utf8(bytes).map_err(|_| TextError::Encoding)?;
            Ok(s.strip_prefix('\u{FEFF}').map(str::to_owned).unwrap_or(s))
        }
        "us-ascii" | "ascii" => {
            if bytes.is_ascii() {
                Ok(String::from_utf8(bytes).map_err(|_| TextError::Encoding)?)
            } else {
                Err(TextError::Encoding)
            }
        }
        "iso-8859-1" | "latin1" | "iso_8859-1" | "l1" => {
            Ok(bytes.iter().map(|b| char::from(*b)).collect())
        }
        "windows-1252" | "cp1252" => Ok(bytes
            .iter()
            .map(|b| match b {
                0x80..=0x9F => CP1252[usize::from(b - 0x80)],
                _ => char::from(*b),
            })
            .collect()),
        other => Err(TextError::Charset(other.to_owned())),
    }
}

const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "blockquote",
    "dt",
    "dd",
    "hr",
    "title",
];

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "deg" => '°',
        "plusmn" => '±',
        "micro" => 'µ',
        "times" => '×',
        "divide" => '÷',
        "le" => '≤',
        "ge" => '≥',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "sup2" => '²',
        "sup3" => '³',
        "frac12" => '½',
        "frac14" => '¼',
        "frac34" => '¾',
        _ => return None,
    })
}

fn decode_entities(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1);
        let decoded = end.filter(|e| rest[*e..].starts_with(';')).and_then(|e| {
            let name = &rest[1..e];
            let c = if let Some(num) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(num, 16).ok().and_then(char::from_u32)
            } else if let Some(num) = name.strip_prefix('#') {
                num.parse::<u32>().ok().and_then(char::from_u32)
            } else {
                named_entity(name)
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

/// HTML (or XHTML) → plain text.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let b = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        decode_entities(&html[text_start..i], &mut raw);
        if html[i..].starts_with("<!--") {
            i = html[i + 4..].find("-->").map_or(b.len(), |e| i + 4 + e + 3);
            text_start = i;
            continue;
        }
        // find the tag end, honouring quoted attribute values
        let mut j = i + 1;
        let mut quote = None;
        while j < b.len() {
            match (quote, b[j]) {
                (None, b'"' | b'\'') => quote = Some(b[j]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        let tag = &html[i + 1..j.min(b.len())];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        i = (j + 1).min(b.len());
        if !closing && (name == "script" || name == "style") {
            let close = format!("</{name}");
            let lower = html[i..].to_ascii_lowercase();
            i = lower.find(&close).map_or(b.len(), |e| {
                let k = i + e;
                html[k..].find('>').map_or(b.len(), |g| k + g + 1)
            });
        }
        if BLOCK.contains(&name.as_str()) {
            raw.push('\n');
        } else if name == "td" || name == "th" {
            raw.push(' ');
        }
        text_start = i;
    }
    if text_start < b.len() {
        decode_entities(&html[text_start..], &mut raw);
    }
    // collapse spaces within lines, at most one blank line
    let mut out = String::with_capacity(raw.len());
    let mut blank = 0;
    for line in raw.lines() {
        let l = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if l.is_empty() {
            blank += 1;
            if blank == 1 && !out.is_empty() {
                out.push('\n');
            }
        } else {
            blank = 0;
            out.push_str(&l);
            out.push('\n');
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html() {
        let h = "<html><head><title>T</title><style>p{x:1}</style><script>if(a<b){}</script></head>\
                 <body><!-- c <p>no</p> --><p class=\"a>b\">Pain &amp; fever&nbsp;3&#x2d;4 days &unknown; x</p>\
                 <ul><li>one</li><li>two&#8212;</li></ul>BP&lt;140</body></html>";
        assert_eq!(
            html_to_text(h),
            "T\n\nPain & fever 3-4 days &unknown; x\n\none\n\ntwo—\n\nBP<140"
        );
        assert_eq!(html_to_text("a<br/>b"), "a\nb");
        assert_eq!(html_to_text("unterminated <b"), "unterminated");
    }

    #[test]
    fn charsets() {
        assert_eq!(
            decode_charset(vec![0x63, 0x61, 0x66, 0xE9], Some("iso-8859-1")).unwrap(),
            "café"
        );
        assert_eq!(
            decode_charset(vec![0x93, 0x61, 0x94], Some("windows-1252")).unwrap(),
            "“a”"
        );
        assert_eq!(decode_charset("\u{FEFF}ok".into(), None).unwrap(), "ok");
        assert_eq!(decode_charset(vec![0xE9], None), Err(TextError::Encoding));
        assert!(matches!(
            decode_charset(vec![1], Some("utf-16")),
            Err(TextError::Charset(_))
        ));
        assert_eq!(
            media_type("Text/Plain; Charset=\"ISO-8859-1\""),
            ("text/plain".into(), Some("iso-8859-1".into()))
        );
        assert_eq!(decode_base64("aGVs\nbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("***"), Err(TextError::Base64));
    }
}
