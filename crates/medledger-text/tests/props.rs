//! Property tests: no panics and structural invariants on arbitrary input.

use medledger_text::section::section_at;
use medledger_text::{
    CharIndex, ContextAnalyzer, SectionKind, abbrev, morph, sections, sentences, tokenize,
};
use proptest::prelude::*;

fn clinical_text() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            Just("No fever, chills or cough. ".to_string()),
            Just("ASSESSMENT:\n".to_string()),
            Just("Past Medical History: HTN\n".to_string()),
            Just("FH: mother with DM\n".to_string()),
            Just("1. Pneumonia\n".to_string()),
            Just("- r/o PE\n".to_string()),
            Just("Dr. Smith 6.5 mg. ".to_string()),
            Just("\n\n".to_string()),
            Just("Crohn's well-differentiated ".to_string()),
            Just("niño anemia ferropénica 😀 ".to_string()),
            Just(": none ? ; ".to_string()),
            "\\PC{0,20}",
            "[a-zA-Z0-9 .,;:?!\\-\n'’]{0,30}",
        ],
        0..25,
    );
    pieces.prop_map(|v| v.concat())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let toks = tokenize(text);
    let mut prev_end = 0;
    for t in &toks {
        prop_assert!(t.start < t.end && t.end <= text.len());
        prop_assert!(t.start >= prev_end);
        prop_assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
        prop_assert_eq!(&text[t.start..t.end].to_lowercase(), &t.lower);
        prev_end = t.end;
    }
    // Every non-whitespace char is covered by a token.
    let covered: usize = toks
        .iter()
        .map(|t| text[t.start..t.end].chars().count())
        .sum();
    prop_assert_eq!(covered, text.chars().filter(|c| !c.is_whitespace()).count());

    let sents = sentences(text, &toks);
    let mut next = 0;
    let mut last_end = 0;
    for s in &sents {
        prop_assert_eq!(s.tokens.start, next);
        prop_assert!(s.tokens.end > s.tokens.start);
        prop_assert!(s.start >= last_end && s.start <= s.end);
        prop_assert_eq!(s.start, toks[s.tokens.start].start);
        prop_assert_eq!(s.end, toks[s.tokens.end - 1].end);
        next = s.tokens.end;
        last_end = s.end;
    }
    prop_assert_eq!(next, toks.len());

    let secs = sections(text);
    let mut pos = 0;
    for s in &secs {
        if let Some((hs, he)) = s.header {
            prop_assert!(hs >= pos && hs <= he && he <= s.start);
        }
        prop_assert!(s.start <= s.end && s.end <= text.len());
        pos = s.end;
    }
    if let Some(last) = secs.last() {
        prop_assert_eq!(last.end, text.len());
    }

    let an = ContextAnalyzer::new();
    for s in &sents {
        let sec = section_at(&secs, s.start);
        let r = s.tokens.clone();
        for a in r.clone() {
            let b = (a + 2).min(r.end);
            let c = an.analyze(text, &toks, s, a..b, sec);
            for cue in &c.cues {
                prop_assert!(cue.start <= cue.end && cue.end <= text.len());
            }
        }
        let _ = an.analyze(text, &toks, s, 0..usize::MAX, SectionKind::FamilyHistory);
    }
    for t in &toks {
        let _ = morph::stem(&t.lower);
        let _ = morph::alternatives(&t.lower);
        let _ = abbrev::expand(&text[t.start..t.end]);
    }
    let ix = CharIndex::new(text);
    for t in &toks {
        prop_assert_eq!(ix.char_offset(t.start), text[..t.start].chars().count());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode(s in "\\PC{0,200}") {
        check(&s)?;
    }

    #[test]
    fn arbitrary_any(s in any::<String>()) {
        check(&s)?;
    }

    #[test]
    fn clinical_like(s in clinical_text()) {
        check(&s)?;
    }
}
