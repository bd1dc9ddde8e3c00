//! Byte offset to Unicode code point offset conversion.

/// Converts byte offsets of a text into code point (char) offsets in O(1)
/// per lookup after an O(n) build.
///
/// Internally a bitmap of char-start bytes is kept in 64-byte blocks together
/// with the number of chars before each block. Pure ASCII text needs no table.
#[derive(Debug, Clone, Default)]
pub struct CharIndex {
    len: usize,
    total_chars: usize,
    ascii: bool,
    /// Number of chars that start before block `k` (block = 64 bytes).
    prefix: Vec<usize>,
    /// Bit `i` of `masks[k]` is set when byte `64 * k + i` starts a char.
    masks: Vec<u64>,
}

impl CharIndex {
    /// Builds the index for `text`.
    pub fn new(text: &str) -> CharIndex {
        let bytes = text.as_bytes();
        let len = bytes.len();
        if text.is_ascii() {
            return CharIndex {
                len,
                total_chars: len,
                ascii: true,
                prefix: Vec::new(),
                masks: Vec::new(),
            };
        }
        let blocks = len / 64 + 1;
        let mut prefix = Vec::with_capacity(blocks);
        let mut masks = Vec::with_capacity(blocks);
        let mut count = 0usize;
        for chunk in bytes.chunks(64) {
            prefix.push(count);
            let mut mask = 0u64;
            for (i, &b) in chunk.iter().enumerate() {
                // Continuation bytes are 0b10xx_xxxx.
                if (b & 0xC0) != 0x80 {
                    mask |= 1u64 << i;
                }
            }
            count += mask.count_ones() as usize;
            masks.push(mask);
        }
        if len.is_multiple_of(64) {
            // Block for the position `len` itself.
            prefix.push(count);
            masks.push(0);
        }
        CharIndex {
            len,
            total_chars: count,
            ascii: false,
            prefix,
            masks,
        }
    }

    /// Number of Unicode code points before `byte`. `byte` should be a char
    /// boundary or `text.len()`; larger values are clamped to the text length
    /// and a non-boundary offset counts the chars that start before it.
    pub fn char_offset(&self, byte: usize) -> usize {
        if byte >= self.len {
            return self.total_chars;
        }
        if self.ascii {
            return byte;
        }
        let block = byte / 64;
        let bit = byte % 64;
        let below = if bit == 0 {
            0
        } else {
            self.masks[block] & (u64::MAX >> (64 - bit))
        };
        self.prefix[block] + below.count_ones() as usize
    }

    /// Total number of code points in the text.
    pub fn total_chars(&self) -> usize {
        self.total_chars
    }

    /// The byte offset where code point `char` starts (`text.len()` for
    /// `char == total_chars()`); `None` past the end. The inverse of
    /// [`CharIndex::char_offset`] on char boundaries.
    pub fn byte_offset(&self, char: usize) -> Option<usize> {
        if char > self.total_chars {
            return None;
        }
        if char == self.total_chars {
            return Some(self.len);
        }
        if self.ascii {
            return Some(char);
        }
        // The last block starting at or before the char; it holds it, since
        // every block of a non-empty text has char starts.
        let block = self.prefix.partition_point(|&p| p <= char).checked_sub(1)?;
        let mut mask = self.masks[block];
        for _ in 0..char - self.prefix[block] {
            mask &= mask - 1;
        }
        (mask != 0).then(|| block * 64 + mask.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(text: &str, byte: usize) -> usize {
        text[..byte].chars().count()
    }

    #[test]
    fn ascii_identity() {
        let t = "hello world";
        let ix = CharIndex::new(t);
        for b in 0..=t.len() {
            assert_eq!(ix.char_offset(b), b);
        }
        assert_eq!(ix.char_offset(1000), t.len());
    }

    #[test]
    fn non_ascii() {
        let t = "Paciente con diabetes y anemia ñ ü é 😀 fin. ".repeat(5);
        let ix = CharIndex::new(&t);
        for (b, _) in t.char_indices() {
            assert_eq!(ix.char_offset(b), naive(&t, b));
        }
        assert_eq!(ix.char_offset(t.len()), t.chars().count());
        assert_eq!(ix.total_chars(), t.chars().count());
    }

    #[test]
    fn exact_block_multiple() {
        let t = "é".repeat(64); // 128 bytes
        let ix = CharIndex::new(&t);
        assert_eq!(ix.char_offset(t.len()), 64);
        assert_eq!(ix.char_offset(64), 32);
        assert_eq!(ix.char_offset(0), 0);
        assert_eq!(CharIndex::new("").char_offset(0), 0);
    }

    proptest! {
        #[test]
        fn matches_naive(s in "\\PC{0,300}") {
            let ix = CharIndex::new(&s);
            for (b, _) in s.char_indices() {
                prop_assert_eq!(ix.char_offset(b), naive(&s, b));
            }
            prop_assert_eq!(ix.char_offset(s.len()), s.chars().count());
        }

        #[test]
        fn byte_offset_inverts_char_offset(s in "\\PC{0,300}") {
            let ix = CharIndex::new(&s);
            for (c, (b, _)) in s.char_indices().enumerate() {
                prop_assert_eq!(ix.byte_offset(c), Some(b));
            }
            let n = s.chars().count();
            prop_assert_eq!(ix.byte_offset(n), Some(s.len()));
            prop_assert_eq!(ix.byte_offset(n + 1), None);
        }
    }
}
