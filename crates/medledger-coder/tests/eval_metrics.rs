//! CodiEsp reader and scorer: real-corpus checks (train/dev in the shared
//! folder) and temp-dir layout fixtures.

use std::fs;
use std::path::{Path, PathBuf};

use medledger_coder::eval::{
    CodiespSplit, DocPrediction, EvalError, PredictedCode, TextLang, norm_code, read_codiesp, score,
};
use proptest::prelude::*;

/// `$MEDLEDGER_SHARED/eval/codiesp`, default `<workspace>/../shared/eval/codiesp`.
fn corpus_root() -> Option<PathBuf> {
    let shared = std::env::var_os("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let root = shared.join("eval/codiesp");
    if root.join("dev").is_dir() {
        Some(root)
    } else {
        eprintln!("CodiEsp corpus not found at {}; skipping", root.display());
        None
    }
}

fn all_valid(_: &str) -> bool {
    true
}

/// Gold codes in file order, each with the fragments of its first gold span.
fn perfect_predictions(split: &CodiespSplit) -> Vec<DocPrediction> {
    split
        .docs
        .iter()
        .map(|d| DocPrediction {
            id: d.id.clone(),
            ranked: d
                .gold
                .iter()
                .map(|code| PredictedCode {
                    code: code.clone(),
                    fragments: d
                        .spans
                        .iter()
                        .find(|s| &s.code == code)
                        .map(|s| s.fragments.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

#[test]
fn dev_and_train_counts() {
    let Some(root) = corpus_root() else { return };
    let dev = read_codiesp(&root, "dev", TextLang::Spanish).unwrap();
    assert_eq!(dev.name, "dev");
    assert_eq!(dev.docs.len(), 250);
    // 2,677 D rows; they contain no duplicate (doc, code) pairs.
    assert_eq!(dev.docs.iter().map(|d| d.gold.len()).sum::<usize>(), 2677);
    assert!(dev.docs.iter().all(|d| !d.gold.is_empty()));
    assert_eq!(dev.docs.iter().map(|d| d.spans.len()).sum::<usize>(), 3431);
    assert!(dev.docs.windows(2).all(|w| w[0].id < w[1].id));
    assert!(dev.spans_align());
    assert_eq!(dev.span_mismatches(), 0);
    let first = &dev.docs[0];
    assert_eq!(first.id, "S0004-06142005000900016-1");
    assert_eq!(&first.gold[..3], ["Q6211", "N2889", "N390"]);
    assert!(first.gold.iter().all(|g| *g == norm_code(g)));

    let train = read_codiesp(&root, "train", TextLang::Spanish).unwrap();
    assert_eq!(train.docs.len(), 500);
    assert_eq!(train.docs.iter().map(|d| d.gold.len()).sum::<usize>(), 5639);
    assert_eq!(
        train.docs.iter().map(|d| d.spans.len()).sum::<usize>(),
        7209
    );
    // The one known bad offset: "IMC > 40 kg/m2" at 1047 1062 in S1130-63432016000100009-1.
    assert_eq!(train.span_mismatches(), 1);
}

#[test]
fn perfect_prediction_on_dev_scores_one() {
    let Some(root) = corpus_root() else { return };
    let dev = read_codiesp(&root, "dev", TextLang::Spanish).unwrap();
    let sc = score(&dev, &perfect_predictions(&dev), &all_valid);
    assert_eq!(sc.documents, 250);
    assert_eq!(sc.gold_codes, 2677);
    assert_eq!(sc.predicted_codes, 2677);
    assert_eq!(sc.micro_precision, 1.0);
    assert_eq!(sc.micro_recall, 1.0);
    assert_eq!(sc.micro_f1, 1.0);
    assert_eq!(sc.category_micro_f1, 1.0);
    assert!((sc.map - 1.0).abs() < 1e-12, "{}", sc.map);
    assert_eq!(sc.evidence_precision, Some(1.0));
    assert_eq!(sc.evidence_recall, Some(1.0));
    assert_eq!(sc.evidence_f1, Some(1.0));

    // Reversed order: same set metrics, lower MAP.
    let mut rev = perfect_predictions(&dev);
    for p in &mut rev {
        p.ranked.reverse();
        p.ranked.insert(
            0,
            PredictedCode {
                code: "zzz.9".into(),
                fragments: vec![],
            },
        );
    }
    let sc = score(&dev, &rev, &all_valid);
    assert_eq!(sc.micro_recall, 1.0);
    assert!(sc.micro_precision < 1.0);
    assert!(sc.map < 1.0 && sc.map > 0.5, "{}", sc.map);
    // Evidence: the extra code carries no fragment, so evidence stays perfect.
    assert_eq!(sc.evidence_f1, Some(1.0));
    // Dropping it as invalid restores micro precision.
    let sc = score(&dev, &rev, &|c: &str| c != "ZZZ9");
    assert_eq!(sc.micro_precision, 1.0);
}

#[test]
fn english_dev_has_no_evidence_scores() {
    let Some(root) = corpus_root() else { return };
    let en = read_codiesp(&root.join("dev"), "dev", TextLang::English).unwrap();
    let es = read_codiesp(&root, "dev", TextLang::Spanish).unwrap();
    assert_eq!(en.docs.len(), 250);
    assert!(!en.spans_align());
    assert_eq!(en.span_mismatches(), 0);
    assert_eq!(en.docs[0].id, es.docs[0].id);
    assert_ne!(en.docs[0].text, es.docs[0].text);
    assert_eq!(en.docs[0].gold, es.docs[0].gold);
    let sc = score(&en, &perfect_predictions(&en), &all_valid);
    assert_eq!(sc.micro_f1, 1.0);
    assert_eq!(sc.evidence_precision, None);
    assert_eq!(sc.evidence_recall, None);
    assert_eq!(sc.evidence_f1, None);
}

fn write(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// A split folder `foo/` with three docs (one without gold).
fn fixture(root: &Path) -> PathBuf {
    let sdir = root.join("foo");
    write(&sdir.join("text_files/b.txt"), "niño con fiebre y tos");
    write(&sdir.join("text_files/a.txt"), "dolor torácico");
    write(&sdir.join("text_files/c.txt"), "sin hallazgos");
    write(&sdir.join("text_files/notes.md"), "not a document");
    write(&sdir.join("text_files_en/a.txt"), "chest pain");
    write(
        &sdir.join("text_files_en/b.txt"),
        "child with fever and cough",
    );
    write(&sdir.join("text_files_en/c.txt"), "no findings");
    write(
        &sdir.join("fooD.tsv"),
        "b\tr50.9\nb\tr05\na\tr07.9\nb\tR50.9\n\n",
    );
    write(
        &sdir.join("fooX.tsv"),
        "b\tDIAGNOSTICO\tr50.9\tfiebre\t9 15\n\
         b\tDIAGNOSTICO\tr05\ttos\t18 21\n\
         b\tPROCEDIMIENTO\tbw03\tniño\t0 4\n\
         a\tDIAGNOSTICO\tr07.9\tdolor torácico\t0 5;6 14\n\
         a\tDIAGNOSTICO\tr07.9\tdolor\t1 6\n",
    );
    sdir
}

#[test]
fn fixture_layout_split_folder_given_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let sdir = fixture(tmp.path());
    let direct = read_codiesp(&sdir, "foo", TextLang::Spanish).unwrap();
    let nested = read_codiesp(tmp.path(), "foo", TextLang::Spanish).unwrap();
    assert_eq!(direct.docs, nested.docs);

    let ids: Vec<&str> = direct.docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let (a, b, c) = (&direct.docs[0], &direct.docs[1], &direct.docs[2]);
    assert_eq!(a.gold, ["R079"]);
    assert_eq!(b.gold, ["R509", "R05"]);
    assert!(c.gold.is_empty() && c.spans.is_empty());
    assert_eq!(b.text, "niño con fiebre y tos");
    assert_eq!(b.spans.len(), 2, "PROCEDIMIENTO rows are not spans");
    assert_eq!(b.spans[0].code, "R509");
    assert_eq!(b.spans[0].fragments, [(9, 15)]);
    assert_eq!(b.spans[0].text, "fiebre");
    assert_eq!(a.spans[0].fragments, [(0, 5), (6, 14)]);
    // a's second span (1 6 -> "olor ") does not match its evidence "dolor".
    assert_eq!(direct.span_mismatches(), 1);
    assert!(direct.spans_align());

    // Hand-computed scores on the fixture.
    let preds = vec![
        DocPrediction {
            id: "b".into(),
            ranked: vec![
                PredictedCode {
                    code: "R05".into(),
                    fragments: vec![(16, 22)],
                },
                PredictedCode {
                    code: "R50.0".into(),
                    fragments: vec![(9, 15)],
                },
                PredictedCode {
                    code: "r50.9".into(),
                    fragments: vec![(9, 15)],
                },
            ],
        },
        DocPrediction {
            id: "c".into(),
            ranked: vec![PredictedCode {
                code: "Z00.00".into(),
                fragments: vec![],
            }],
        },
    ];
    let sc = score(&direct, &preds, &all_valid);
    assert_eq!(sc.documents, 3);
    assert_eq!(sc.gold_codes, 3);
    assert_eq!(sc.predicted_codes, 4);
    // TP R05, R509.
    assert_eq!(sc.micro_precision, 0.5);
    assert!((sc.micro_recall - 2.0 / 3.0).abs() < 1e-12);
    // Categories: b [R05, R50] vs {R50, R05}: 2 TP; c [Z00]; a gold {R07}.
    assert!((sc.category_micro_precision - 2.0 / 3.0).abs() < 1e-12);
    assert!((sc.category_micro_recall - 2.0 / 3.0).abs() < 1e-12);
    // MAP over a (AP 0) and b (AP (1/1 + 2/3)/2); c has no gold.
    assert!((sc.map - (1.0 + 2.0 / 3.0) / 4.0).abs() < 1e-12);
    // Evidence: gold pairs a:R079, b:R509, b:R05 = 3; predicted with fragments
    // b: R05, R500, R509 = 3. R05 (16,22) covers (18,21) with 2/1 spare: hit.
    // R509 (9,15) exact: hit.
    assert!((sc.evidence_precision.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert!((sc.evidence_recall.unwrap() - 2.0 / 3.0).abs() < 1e-12);

    let en = read_codiesp(&sdir, "foo", TextLang::English).unwrap();
    assert_eq!(en.docs[1].text, "child with fever and cough");
    assert_eq!(score(&en, &preds, &all_valid).evidence_f1, None);
}

#[test]
fn malformed_d_row_is_a_format_error_with_line_number() {
    let tmp = tempfile::tempdir().unwrap();
    let sdir = fixture(tmp.path());
    write(&sdir.join("fooD.tsv"), "b\tr50.9\n\na r07.9\n");
    match read_codiesp(&sdir, "foo", TextLang::Spanish) {
        Err(EvalError::Format { path, line, .. }) => {
            assert_eq!(line, 3);
            assert!(path.ends_with("fooD.tsv"), "{path}");
        }
        other => panic!("expected a Format error, got {other:?}"),
    }
    let err = read_codiesp(&sdir, "foo", TextLang::Spanish).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");

    write(&sdir.join("fooD.tsv"), "b\tr50.9\nzz\tr07.9\n");
    assert!(matches!(
        read_codiesp(&sdir, "foo", TextLang::Spanish),
        Err(EvalError::Format { line: 2, .. })
    ));
}

#[test]
fn malformed_x_rows_are_format_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let sdir = fixture(tmp.path());
    write(
        &sdir.join("fooX.tsv"),
        "b\tDIAGNOSTICO\tr05\ttos\t18 21\nb\tOTRO\tr05\ttos\t18 21\n",
    );
    assert!(matches!(
        read_codiesp(&sdir, "foo", TextLang::Spanish),
        Err(EvalError::Format { line: 2, .. })
    ));
    write(&sdir.join("fooX.tsv"), "b\tDIAGNOSTICO\tr05\ttos\t21 18\n");
    assert!(matches!(
        read_codiesp(&sdir, "foo", TextLang::Spanish),
        Err(EvalError::Format { line: 1, .. })
    ));
    // Without an X file there are no spans and evidence is not scored.
    fs::remove_file(sdir.join("fooX.tsv")).unwrap();
    let split = read_codiesp(&sdir, "foo", TextLang::Spanish).unwrap();
    assert!(!split.spans_align());
    assert_eq!(score(&split, &[], &all_valid).evidence_f1, None);
}

#[test]
fn bad_layout_is_a_layout_error() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(
        read_codiesp(tmp.path(), "dev", TextLang::Spanish),
        Err(EvalError::Layout(_))
    ));
    let sdir = fixture(tmp.path());
    fs::remove_dir_all(sdir.join("text_files_en")).unwrap();
    assert!(matches!(
        read_codiesp(&sdir, "foo", TextLang::English),
        Err(EvalError::Layout(_))
    ));
    assert!(matches!(
        read_codiesp(&tmp.path().join("missing"), "foo", TextLang::Spanish),
        Err(EvalError::Layout(_))
    ));
}

fn toy_split() -> CodiespSplit {
    let tmp = tempfile::tempdir().unwrap();
    let sdir = fixture(tmp.path());
    read_codiesp(&sdir, "foo", TextLang::Spanish).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn scores_are_bounded(
        picks in proptest::collection::vec(
            (0usize..3, 0usize..6, proptest::option::of((0usize..30, 0usize..10))),
            0..12,
        )
    ) {
        const CODES: [&str; 6] = ["r50.9", "R05", "r07.9", "R50.0", "Z00", "r079"];
        let split = toy_split();
        let preds: Vec<DocPrediction> = picks
            .iter()
            .map(|&(d, c, frag)| DocPrediction {
                id: split.docs[d].id.clone(),
                ranked: vec![PredictedCode {
                    code: CODES[c].to_string(),
                    fragments: frag.map(|(s, l)| vec![(s, s + l)]).unwrap_or_default(),
                }],
            })
            .collect();
        let sc = score(&split, &preds, &all_valid);
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        prop_assert!(unit(sc.micro_precision) && unit(sc.micro_recall) && unit(sc.micro_f1));
        prop_assert!(unit(sc.category_micro_precision) && unit(sc.category_micro_recall));
        prop_assert!(unit(sc.map));
        prop_assert!(sc.category_micro_recall + 1e-12 >= sc.micro_recall);
        prop_assert!(sc.evidence_recall.unwrap() <= sc.micro_recall + 1e-12);
        // 5 distinct keys after normalization ("r07.9" = "r079"), 3 docs.
        prop_assert!(sc.predicted_codes <= 15);
        let none = score(&split, &preds, &|_: &str| false);
        prop_assert_eq!(none.predicted_codes, 0);
        prop_assert_eq!(none.map, 0.0);
    }
}
