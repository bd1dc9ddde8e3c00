//! Small helpers over quick-xml shared by the tabular and index parsers.

use quick_xml::events::BytesRef;

use crate::error::{Error, Position, line_of};

/// Resolves an entity reference event (`&amp;`, `&#233;`) to its text.
pub(crate) fn resolve_ref(r: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.xml10_content();
    let s = match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    };
    Some(s.to_string())
}

/// A parse error at a byte offset of an XML document, with its line number
/// and the path of open elements.
pub(crate) fn error_at(
    file: &str,
    xml: &[u8],
    offset: u64,
    stack: &[String],
    message: impl Into<String>,
) -> Error {
    let at = Position::file(file)
        .line(line_of(xml, offset as usize))
        .byte(offset)
        .element(if stack.is_empty() {
            "document".to_string()
        } else {
            stack.join("/")
        });
    Error::parse(at, message)
}

/// Collapses runs of whitespace into one space and trims.
pub(crate) fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The document as UTF-8 text, without a byte-order mark.
pub(crate) fn as_text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let off = e.valid_up_to();
        Error::parse(
            Position::file(file)
                .line(line_of(bytes, off))
                .byte(off as u64),
            "file is not valid UTF-8",
        )
    })
}

/// An attribute's value, if present.
pub(crate) fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .map(|a| a.value.trim().to_string())
}

/// A numeric attribute between 1 and 9 (index `level`, table `col`).
pub(crate) fn digit_attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<u8> {
    attr(e, name)
        .and_then(|v| v.parse::<u8>().ok())
        .filter(|n| (1..=9).contains(n))
}

/// Reads the next event, turning a syntax error into a positioned error;
/// returns the byte offset where the event starts.
pub(crate) fn next_event<'a>(
    reader: &mut quick_xml::Reader<&'a [u8]>,
    file: &str,
    xml: &[u8],
    stack: &[String],
) -> Result<(u64, quick_xml::events::Event<'a>), Error> {
    let pos = reader.buffer_position();
    match reader.read_event() {
        Ok(ev) => Ok((pos, ev)),
        Err(e) => Err(error_at(
            file,
            xml,
            reader.error_position(),
            stack,
            format!("malformed XML: {e}"),
        )),
    }
}

/// The error for a document whose elements are still open at its end.
pub(crate) fn truncated(file: &str, xml: &[u8], stack: &[String]) -> Error {
    error_at(
        file,
        xml,
        xml.len() as u64,
        stack,
        "file ends before its elements are closed (truncated?)",
    )
}
