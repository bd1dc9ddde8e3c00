//! The coding commands' stable interface: `code-notes INPUT... --out FILE`
//! (one JSON object per note with `id` and `suggestions`, evidence in code
//! points), bad notes skipped, and `eval codiesp --json` on any directory of
//! the CodiEsp layout.

use std::path::Path;

use serde_json::Value;

mod common;

use common::{data, medledger, shared};

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn code_notes_writes_one_object_per_note_and_skips_bad_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(
        notes.join("a.txt"),
        "Señora de 70 años. Assessment: type 2 diabetes mellitus. Hypertension.",
    )
    .unwrap();
    std::fs::write(notes.join("b.txt"), b"fever \xff\xfe broken").unwrap();
    std::fs::write(notes.join("c.txt"), "   ").unwrap();
    let nd = dir.path().join("more.ndjson");
    std::fs::write(&nd, "{\"id\": 7, \"text\": \"Acute kidney failure. No fever.\", \"setting\": \"inpatient\"}\nnot json\n").unwrap();
    let out = dir.path().join("coded.ndjson");
    let summary: Value = serde_json::from_str(&ok(&medledger(
        data(),
        &[
            "--json",
            "code-notes",
            notes.to_str().unwrap(),
            nd.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-model",
        ],
    )))
    .expect("summary JSON");
    assert_eq!(summary["coded"], 2, "{summary}");
    assert_eq!(summary["failed"], 3, "{summary}");
    let errors = summary["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["id"] == "b" && e["error"].as_str().unwrap().contains("UTF-8"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e["id"] == "c" && e["error"].as_str().unwrap().contains("empty"))
    );
    let body = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    let a = lines.iter().find(|l| l["id"] == "a").expect("note a");
    let text: Vec<char> = std::fs::read_to_string(notes.join("a.txt"))
        .unwrap()
        .chars()
        .collect();
    let sugg = a["suggestions"].as_array().unwrap();
    let codes: Vec<&str> = sugg.iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert!(
        codes.contains(&"E11.9") && codes.contains(&"I10"),
        "{codes:?}"
    );
    for s in sugg {
        assert_eq!(s["system"], "icd10cm");
        assert!(s["confidence"].as_f64().unwrap() <= 1.0);
        for e in s["evidence"].as_array().unwrap() {
            let (st, en) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            let got: String = text[st..en].iter().collect();
            assert_eq!(
                got,
                e["text"].as_str().unwrap(),
                "code points, not bytes (the note has ñ)"
            );
        }
    }
    let seven = lines.iter().find(|l| l["id"] == "7").expect("ndjson note");
    let c7: Vec<&str> = seven["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert!(c7.contains(&"N17.9") && !c7.contains(&"R50.9"), "{c7:?}");
}

/// A folder of symbolic links (how a corpus split is often assembled) is
/// coded like a folder of files.
#[cfg(unix)]
#[test]
fn code_notes_follows_symlinked_notes_in_folders() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let linked = dir.path().join("linked");
    std::fs::create_dir(&store).unwrap();
    std::fs::create_dir(&linked).unwrap();
    for (id, text) in [
        ("n1", "Acute kidney failure."),
        ("n2", "Type 2 diabetes mellitus."),
    ] {
        std::fs::write(store.join(format!("{id}.txt")), text).unwrap();
        std::os::unix::fs::symlink(
            store.join(format!("{id}.txt")),
            linked.join(format!("{id}.txt")),
        )
        .unwrap();
    }
    let out = dir.path().join("coded.ndjson");
    let summary: Value = serde_json::from_str(&ok(&medledger(
        data(),
        &[
            "--json",
            "code-notes",
            linked.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-model",
        ],
    )))
    .expect("summary JSON");
    assert_eq!(summary["coded"], 2, "{summary}");
    let body = std::fs::read_to_string(&out).unwrap();
    let ids: Vec<String> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["n1", "n2"], "sorted by file name");
}

/// A tiny corpus in the CodiEsp layout, written for the test.
fn fixture_corpus(root: &Path) {
    for (split, docs) in [
        (
            "train",
            vec![
                ("t1", "Renal colic and hematuria.", vec!["n23", "r31.9"]),
                ("t2", "Renal colic, fever.", vec!["n23", "r50.9"]),
                ("t3", "Fever and cough.", vec!["r50.9", "r05.9"]),
            ],
        ),
        (
            "dev",
            vec![
                ("d1", "Renal colic with fever.", vec!["n23", "r50.9"]),
                ("d2", "Hypertension.", vec!["i10"]),
            ],
        ),
    ] {
        let base = root.join(split);
        std::fs::create_dir_all(base.join("text_files_en")).unwrap();
        std::fs::create_dir_all(base.join("text_files")).unwrap();
        let mut d = String::new();
        for (id, text, codes) in &docs {
            std::fs::write(base.join("text_files_en").join(format!("{id}.txt")), text).unwrap();
            std::fs::write(base.join("text_files").join(format!("{id}.txt")), text).unwrap();
            for c in codes {
                d.push_str(&format!("{id}\t{c}\n"));
            }
        }
        std::fs::write(base.join(format!("{split}D.tsv")), d).unwrap();
    }
}

#[test]
fn eval_codiesp_json_has_the_stable_keys_on_any_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    fixture_corpus(dir.path());
    let root = dir.path().to_str().unwrap();
    let v: Value = serde_json::from_str(&ok(&medledger(
        data(),
        &["--json", "eval", "codiesp", "--dir", root, "--split", "dev"],
    )))
    .expect("JSON");
    for k in [
        "micro_precision",
        "micro_recall",
        "micro_f1",
        "category_micro_f1",
        "map",
    ] {
        let x = v[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {v}"));
        assert!((0.0..=1.0).contains(&x), "{k} = {x}");
    }
    assert!(v["evidence_f1"].is_null(), "English text: no aligned spans");
    assert_eq!(v["documents"], 2);
    assert!(
        v["learned_for_this_run"].is_string(),
        "learned from the train split of DIR: {v}"
    );
    assert!(v["micro_recall"].as_f64().unwrap() > 0.5, "{v}");
    let d: Value = serde_json::from_str(&ok(&medledger(
        data(),
        &[
            "--json",
            "eval",
            "codiesp",
            "--dir",
            root,
            "--split",
            "dev",
            "--no-model",
        ],
    )))
    .expect("JSON");
    assert!(d["model"].is_null());
    // The real dev split reads too.
    let real = shared().join("eval/codiesp");
    let r: Value = serde_json::from_str(&ok(&medledger(
        data(),
        &[
            "--json",
            "eval",
            "codiesp",
            "--dir",
            real.to_str().unwrap(),
            "--split",
            "dev",
            "--no-model",
        ],
    )))
    .expect("JSON");
    assert_eq!(r["documents"], 250);
    assert!(r["micro_f1"].as_f64().unwrap() > 0.2, "{r}");
}

#[test]
fn code_notes_lists_as_many_candidates_as_asked() {
    let dir = tempfile::tempdir().expect("tmp");
    let note = dir.path().join("n.txt");
    std::fs::write(
        &note,
        "Chest pain, shortness of breath, anemia, hypothyroidism, cataract, acute kidney failure.",
    )
    .unwrap();
    let out = dir.path().join("coded.ndjson");
    let candidates = |extra: &[&str]| -> usize {
        let mut args = vec![
            "--json",
            "code-notes",
            note.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-model",
        ];
        args.extend_from_slice(extra);
        ok(&medledger(data(), &args));
        let line: Value =
            serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
        line["candidates"].as_array().unwrap().len()
    };
    assert_eq!(candidates(&["--candidates", "0"]), 0);
    let one = candidates(&["--candidates", "1"]);
    assert_eq!(one, 1);
    let all = candidates(&["--candidates", "1000", "--candidates-floor", "0"]);
    assert!(all > one, "{all}");
    let bad = medledger(
        data(),
        &[
            "code-notes",
            note.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--candidates-floor",
            "2",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--candidates-floor"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
