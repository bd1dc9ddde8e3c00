//! The ledger commands end to end through the `medledger` binary: the
//! outside interface of `encounter add` and `audit verify`, database and
//! master-key selection, the review workflow with roles and credentials,
//! the audit packet, tamper detection on the raw SQLite file, PHI never in
//! the clear at rest or in ordinary output, durability under SIGKILL
//! (`encounter import`, `review batch`; SQLite and, when configured,
//! PostgreSQL), key rotation, `bench ledger` and `bench audit`.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json as j};

use common::{data, json, medledger};

#[test]
fn bench_audit_builds_and_verifies_a_signed_chain() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&medledger(
        dir.path(),
        &["bench", "audit", "--entries", "5000", "--json"],
    ));
    assert_eq!(v["ok"], true);
    assert_eq!(v["entries"], 5000);
    // A checkpoint opens the chain and one follows every 1,000 entries.
    assert!(v["checkpoints"].as_u64().unwrap() >= 5, "{v}");
    assert!(v["verified_per_second"].as_f64().unwrap() > 0.0);
    let out = medledger(dir.path(), &["bench", "audit", "--entries", "0", "--json"]);
    assert!(!out.status.success());
}

// ---------------------------------------------------------------- fixtures

/// Environment variables the binary reads; cleared so the tests see only
/// what they pass.
const LEDGER_ENV: [&str; 7] = [
    "MEDLEDGER_DB",
    "MEDLEDGER_MASTER_KEY",
    "MEDLEDGER_USER",
    "MEDLEDGER_ORG",
    "MEDLEDGER_DATA",
    "MEDLEDGER_HCC_MAP",
    "MEDLEDGER_MODEL",
];

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_medledger"));
    for v in LEDGER_ENV {
        c.env_remove(v);
    }
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn both(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A number in `lo..=hi` that differs from run to run (the kill points).
fn jitter(lo: usize, hi: usize, salt: u64) -> usize {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(salt);
    lo + (h.finish() as usize) % (hi - lo + 1)
}

/// A fresh random master key file (mode 0600) in the format medledger writes.
fn write_master_key(path: &Path) {
    use std::hash::{BuildHasher, Hasher};
    let mut hex = String::new();
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write(path.as_os_str().as_encoded_bytes());
        hex.push_str(&format!("{:016x}", h.finish()));
    }
    std::fs::write(path, format!("medledger-master-v1:{hex}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The shared data directory with code sets installed, plus its audit
/// signing key created once up front (so parallel tests never race to
/// create it). Every test gives its own `--db` and `--master-key-file`, so
/// nothing else is written here.
fn coded_data() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    let d = data();
    READY.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("k.key");
        write_master_key(&key);
        let out = bin()
            .arg("--data-dir")
            .arg(d)
            .arg("--db")
            .arg(tmp.path().join("init.sqlite3"))
            .arg("--master-key-file")
            .arg(&key)
            .args(["--json", "user", "list"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", both(&out));
        assert!(d.join("audit-signing.key").exists());
    });
    d
}

/// One ledger: a data directory, a database and a master key file.
struct Env {
    tmp: tempfile::TempDir,
    data: PathBuf,
    db: String,
    key: PathBuf,
}

impl Env {
    /// Its own empty data directory: no code sets, so encounters are stored
    /// without suggestions (fast).
    fn bare() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir(&data).unwrap();
        Env::with(tmp, data)
    }

    /// The shared data directory with code sets: encounters are coded.
    fn coded() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        Env::with(tmp, coded_data().to_path_buf())
    }

    fn with(tmp: tempfile::TempDir, data: PathBuf) -> Env {
        let key = tmp.path().join("master.key");
        write_master_key(&key);
        let db = tmp.path().join("ledger.sqlite3").display().to_string();
        Env { tmp, data, db, key }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn db_path(&self) -> PathBuf {
        PathBuf::from(&self.db)
    }

    fn file(&self, name: &str, body: &str) -> PathBuf {
        let p = self.dir().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn command(&self, user: Option<&str>, args: &[&str]) -> Command {
        let mut c = bin();
        c.arg("--data-dir")
            .arg(&self.data)
            .arg("--db")
            .arg(&self.db)
            .arg("--master-key-file")
            .arg(&self.key);
        if let Some(u) = user {
            c.args(["--as", u]);
        }
        c.args(args);
        c
    }

    fn run(&self, user: Option<&str>, args: &[&str]) -> Output {
        self.command(user, args).output().expect("runs")
    }

    /// Runs with `--json`; must succeed; the whole stdout as JSON.
    fn ok(&self, user: Option<&str>, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        json(&self.run(user, &a))
    }

    /// Runs with `--json`; must fail with exit 1 and `{"error": …}` on stdout.
    fn fails(&self, user: Option<&str>, args: &[&str]) -> String {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.run(user, &a);
        json_error(&out)
    }

    fn add_user(&self, name: &str, display: &str, credential: Option<&str>, roles: &[&str]) {
        let mut a = vec!["user", "add", name, "--name", display];
        if let Some(c) = credential {
            a.extend(["--credential", c]);
        }
        for r in roles {
            a.extend(["--role", r]);
        }
        let u = self.ok(None, &a);
        assert_eq!(u["username"], name, "{u}");
    }

    /// `encounter add` of `note`; the JSON it printed.
    fn add_encounter(&self, note: &str, name: &str, dob: &str, extra: &[&str]) -> Value {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let f = self.dir().join(format!("note-{n}.txt"));
        std::fs::write(&f, note).unwrap();
        let mut a = vec![
            "encounter",
            "add",
            f.to_str().unwrap(),
            "--patient-name",
            name,
            "--patient-dob",
            dob,
            "--dos",
            DOS,
        ];
        a.extend(extra);
        self.ok(None, &a)
    }

    fn verify(&self) -> (Output, Value) {
        let out = self.run(None, &["audit", "verify", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("audit verify: not JSON ({e}): {}", both(&out)));
        (out, v)
    }

    fn assert_verifies(&self) -> Value {
        let (out, v) = self.verify();
        assert!(out.status.success(), "audit verify failed: {}", both(&out));
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["problems"].as_array().map(Vec::len), Some(0), "{v}");
        assert_eq!(v["unreadable"].as_array().map(Vec::len), Some(0), "{v}");
        v
    }

    fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).unwrap()
    }
}

/// A failed `--json` run: exit 1 and `{"error": "..."}` on stdout.
fn json_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "expected exit 1: {}", both(out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("error is not JSON ({e}): {}", both(out)));
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no \"error\" string: {}", both(out)))
        .to_owned()
}

const DOS: &str = "2026-05-04";

/// A note the dictionary coder finds several conditions in, with characters
/// that must be escaped in HTML next to the evidence.
const NOTE: &str = "Follow-up visit. Patient reports A1c <7% & good adherence.\n\
Assessment: type 2 diabetes mellitus. Essential hypertension. Asthma. \
Acute kidney failure.\nPlan: continue metformin and lisinopril.";

fn char_span(note: &str, needle: &str) -> (usize, usize) {
    let b = note
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in note"));
    let start = note[..b].chars().count();
    (start, start + needle.chars().count())
}

fn suggestions_of(view: &Value) -> Vec<Value> {
    view["suggestions"]
        .as_array()
        .unwrap_or_else(|| panic!("no suggestions array: {view}"))
        .clone()
}

// ------------------------------------------------- 1. the outside interface

#[test]
fn encounter_add_prints_one_object_and_audit_verify_passes() {
    let env = Env::coded();
    let note = env.file("note.txt", NOTE);
    // Exactly the documented interface.
    let out = env.run(
        None,
        &[
            "encounter",
            "add",
            note.to_str().unwrap(),
            "--patient-name",
            "Ada Interface",
            "--patient-dob",
            "1950-04-01",
            "--dos",
            DOS,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", both(&out));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.trim_end().lines().count(),
        1,
        "one JSON object on one line: {stdout}"
    );
    let added: Value = serde_json::from_str(&stdout).expect("JSON object");
    let enc = added["encounter"]
        .as_i64()
        .unwrap_or_else(|| panic!("integer encounter: {added}"));
    assert!(enc >= 1, "{added}");
    let listed = suggestions_of(&added);
    assert!(
        listed.len() >= 3,
        "code sets are installed: expected suggestions for {NOTE:?}: {added}"
    );
    let codes: Vec<&str> = listed.iter().filter_map(|s| s["code"].as_str()).collect();
    assert!(codes.contains(&"I10"), "{codes:?}");
    for s in &listed {
        assert!(s["id"].as_i64().is_some(), "{s}");
    }
    // Each suggestion has evidence that quotes the note at its code-point offsets.
    let view = env.ok(None, &["encounter", "show", &enc.to_string()]);
    assert_eq!(view["note"], NOTE, "{view}");
    let chars: Vec<char> = NOTE.chars().collect();
    let shown = suggestions_of(&view);
    assert_eq!(shown.len(), listed.len(), "{view}");
    for s in &shown {
        let ev = s["evidence"].as_array().unwrap();
        assert!(!ev.is_empty(), "suggestion without evidence: {s}");
        for e in ev {
            let (a, b) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            let got: String = chars[a..b].iter().collect();
            assert_eq!(got, e["text"].as_str().unwrap(), "{s}");
        }
    }
    // audit verify: ok, entries, exit 0.
    let v = env.assert_verifies();
    assert!(v["entries"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["checkpoints"].as_u64().unwrap() >= 1, "{v}");
    // A wrong master key: a clear error, no PHI in it.
    let other = env.dir().join("other.key");
    write_master_key(&other);
    let out = env
        .command(None, &["encounter", "show", &enc.to_string(), "--json"])
        .arg("--master-key-file")
        .arg(&other)
        .output()
        .unwrap();
    let err = json_error(&out);
    assert!(
        err.contains("master key"),
        "the error should say the master key is wrong: {err}"
    );
    for phi in ["Ada Interface", "1950-04-01", "diabetes", "Follow-up visit"] {
        assert!(
            !both(&out).contains(phi),
            "PHI {phi:?} in error: {}",
            both(&out)
        );
    }
    // Text mode: on stderr, exit 1.
    let out = env
        .command(None, &["encounter", "show", &enc.to_string()])
        .arg("--master-key-file")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("master key"), "{}", both(&out));
    assert!(!both(&out).contains("Ada Interface"), "{}", both(&out));
}

#[test]
fn db_urls_env_and_master_key_file_select_the_ledger() {
    let env = Env::bare();
    let note = env.file("n.txt", "Short synthetic note about a cough.");
    let add = |db: &str, name: &str| -> Value {
        let out = bin()
            .arg("--data-dir")
            .arg(&env.data)
            .args(["--db", db, "--master-key-file"])
            .arg(&env.key)
            .args(["--json", "encounter", "add"])
            .arg(&note)
            .args(["--patient-name", name, "--patient-dob", "1970-01-02"])
            .args(["--dos", DOS])
            .output()
            .unwrap();
        json(&out)
    };
    let show = |db: &str, enc: i64| -> Value {
        let out = bin()
            .arg("--data-dir")
            .arg(&env.data)
            .args(["--db", db, "--master-key-file"])
            .arg(&env.key)
            .args(["--json", "encounter", "show", &enc.to_string()])
            .output()
            .unwrap();
        json(&out)
    };
    // sqlite://PATH
    let a = env.dir().join("a.sqlite3");
    let a_url = format!("sqlite://{}", a.display());
    let ea = add(&a_url, "Url Patient")["encounter"].as_i64().unwrap();
    assert!(a.exists(), "sqlite:// creates the file");
    // The same file as a plain path is the same ledger.
    let v = show(a.to_str().unwrap(), ea);
    assert_eq!(v["patient_name"], "Url Patient", "{v}");
    assert_eq!(v["note"], "Short synthetic note about a cough.", "{v}");
    // A plain path.
    let b = env.dir().join("b.sqlite3");
    let eb = add(b.to_str().unwrap(), "Path Patient")["encounter"]
        .as_i64()
        .unwrap();
    assert!(b.exists());
    assert_eq!(
        show(&format!("sqlite://{}", b.display()), eb)["patient_name"],
        "Path Patient"
    );
    // The two files are separate ledgers: a's encounter is not in b twice.
    let only_b = json(
        &bin()
            .arg("--data-dir")
            .arg(&env.data)
            .args(["--db", b.to_str().unwrap(), "--master-key-file"])
            .arg(&env.key)
            .args(["--json", "review", "list", "--status", "all"])
            .output()
            .unwrap(),
    );
    assert_eq!(only_b.as_array().map(Vec::len), Some(1), "{only_b}");
    // MEDLEDGER_DB.
    let c = env.dir().join("c.sqlite3");
    let out = bin()
        .env("MEDLEDGER_DB", &c)
        .arg("--data-dir")
        .arg(&env.data)
        .arg("--master-key-file")
        .arg(&env.key)
        .args(["--json", "encounter", "add"])
        .arg(&note)
        .args([
            "--patient-name",
            "Env Patient",
            "--patient-dob",
            "1980-05-06",
        ])
        .args(["--dos", DOS])
        .output()
        .unwrap();
    let ec = json(&out)["encounter"].as_i64().unwrap();
    assert!(
        c.exists(),
        "MEDLEDGER_DB names the database: {}",
        both(&out)
    );
    assert!(
        !env.data.join("ledger.sqlite3").exists(),
        "no default database when one is named"
    );
    assert_eq!(show(c.to_str().unwrap(), ec)["patient_name"], "Env Patient");
    // --master-key-file: no master.key was created in the data dir.
    assert!(!env.data.join("master.key").exists());
    // An unknown URL scheme is refused.
    let out = bin()
        .arg("--data-dir")
        .arg(&env.data)
        .args(["--db", "mysql://u:secret@h/db", "--json", "user", "list"])
        .arg("--master-key-file")
        .arg(&env.key)
        .output()
        .unwrap();
    let err = json_error(&out);
    assert!(!err.contains("secret"), "credentials in the error: {err}");
}

#[test]
fn master_key_is_created_once_with_mode_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = |args: &[&str]| {
        bin()
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--json", "user", "list"]);
    assert!(out.status.success(), "{}", both(&out));
    let key = data.join("master.key");
    assert!(key.exists(), "{}", both(&out));
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "master.key mode {mode:o}");
    let err = text(&out.stderr);
    assert_eq!(
        err.matches(key.to_str().unwrap()).count(),
        1,
        "the new key's path is printed once on stderr: {err}"
    );
    assert!(
        !text(&out.stdout).contains("master.key"),
        "stdout stays JSON: {}",
        both(&out)
    );
    let body = std::fs::read_to_string(&key).unwrap();
    assert!(body.starts_with("medledger-master-v1:"), "key format");
    // Second run: the same key, nothing printed about it.
    let note = tmp.path().join("n.txt");
    std::fs::write(&note, "Synthetic note, one line.").unwrap();
    let out = run(&[
        "--json",
        "encounter",
        "add",
        note.to_str().unwrap(),
        "--patient-name",
        "Keyed Patient",
        "--patient-dob",
        "1990-01-01",
        "--dos",
        DOS,
    ]);
    let enc = json(&out)["encounter"].as_i64().unwrap();
    assert!(
        !text(&out.stderr).contains("master.key"),
        "printed again on the second run: {}",
        both(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        body,
        "key unchanged"
    );
    let v = json(&run(&["--json", "encounter", "show", &enc.to_string()]));
    assert_eq!(v["patient_name"], "Keyed Patient", "{v}");
    // MEDLEDGER_MASTER_KEY: no file is created.
    let data2 = tmp.path().join("data2");
    let out = bin()
        .env("MEDLEDGER_MASTER_KEY", format!("{:064x}", 0xfeed_u64))
        .arg("--data-dir")
        .arg(&data2)
        .args(["--json", "user", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(!data2.join("master.key").exists(), "{}", both(&out));
}

// ---------------------------------------------------- 2. the review workflow

#[test]
fn review_workflow_roles_decisions_finalisation_and_packet() {
    let env = Env::coded();
    env.add_user("coder1", "Cora Coder", Some("CPC"), &["coder"]);
    env.add_user("auditor1", "Aud Itor", Some("CCS"), &["auditor"]);
    env.add_user("biller1", "Bill Er", None, &["biller"]);
    env.add_user("nocred", "No Credential", None, &["coder"]);
    let users = env.ok(None, &["user", "list"]);
    assert_eq!(users.as_array().map(Vec::len), Some(4), "{users}");
    let coder = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "coder1")
        .unwrap();
    assert_eq!(coder["credential"], "CPC", "{coder}");
    assert_eq!(coder["roles"], j!(["coder"]), "{coder}");

    let added = env.add_encounter(NOTE, "Zoë O'Hara", "1948-02-29", &["--payer", "ACME"]);
    let enc = added["encounter"].as_i64().unwrap();
    let es = enc.to_string();
    assert_eq!(added["status"], "needs_review", "{added}");

    // The queue shows it (no PHI needed: the operator and a biller may list).
    for user in [None, Some("biller1")] {
        let q = env.ok(user, &["review", "list"]);
        let item = q
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["encounter"] == enc)
            .unwrap_or_else(|| panic!("encounter {enc} not in the queue: {q}"));
        assert_eq!(item["status"], "needs_review", "{item}");
        assert_eq!(item["payer"], "ACME", "{item}");
        assert!(item["pending_required"].as_i64().unwrap() >= 3, "{item}");
        assert!(!q.to_string().contains("O'Hara"), "PHI in the queue: {q}");
    }
    let q = env.ok(None, &["review", "list", "--payer", "OTHER"]);
    assert_eq!(q, j!([]), "payer filter");

    // review show: the note and the suggestions.
    let view = env.ok(Some("coder1"), &["review", "show", &es]);
    assert_eq!(view["note"], NOTE, "{view}");
    assert_eq!(view["patient_name"], "Zoë O'Hara", "{view}");
    let sugg = suggestions_of(&view);
    let required: Vec<&Value> = sugg
        .iter()
        .filter(|s| s["requires_review"] == true)
        .collect();
    assert!(
        required.len() >= 3,
        "need three suggestions routed to a human: {view}"
    );
    let sid = |i: usize| required[i]["id"].as_i64().unwrap().to_string();

    // Who may not.
    let e = env.fails(Some("biller1"), &["review", "show", &es]);
    assert!(e.contains("may not view_phi"), "{e}");
    let e = env.fails(Some("biller1"), &["review", "accept", &sid(0)]);
    assert!(e.contains("may not decide"), "{e}");
    let e = env.fails(None, &["review", "accept", &sid(0)]);
    assert!(e.contains("operator may not decide"), "{e}");
    let e = env.fails(Some("nocred"), &["review", "accept", &sid(0)]);
    assert!(e.contains("credential"), "{e}");
    let e = env.fails(Some("coder1"), &["audit", "packet", &es]);
    assert!(e.contains("may not export_packet"), "{e}");
    let e = env.fails(Some("nobody"), &["review", "list"]);
    assert!(e.contains("user nobody not found"), "{e}");
    let e = env.fails(Some("auditor1"), &["review", "finalise", &es]);
    assert!(e.contains("not decided yet"), "{e}");

    // accept (with a comment that needs escaping), reject, edit with evidence.
    let comment = "Confirmed <b>in</b> chart & labs";
    let o = env.ok(
        Some("coder1"),
        &["review", "accept", &sid(0), "--comment", comment],
    );
    assert_eq!(o["status"], "accepted", "{o}");
    assert_eq!(o["encounter"], enc, "{o}");
    let d_accept = o["decision"].as_i64().unwrap();
    let o = env.ok(
        Some("auditor1"),
        &["review", "reject", &sid(1), "--reason", "not_documented"],
    );
    assert_eq!(o["status"], "rejected", "{o}");
    let (a, b) = char_span(NOTE, "type 2 diabetes mellitus");
    let span = format!("{a}..{b}");
    let o = env.ok(
        Some("coder1"),
        &[
            "review",
            "edit",
            &sid(2),
            "--code",
            "e11.65",
            "--evidence",
            &span,
        ],
    );
    assert_eq!(o["status"], "edited", "{o}");
    // An edit with evidence outside the note is refused.
    let e = env.fails(
        Some("coder1"),
        &[
            "review",
            "edit",
            &sid(2),
            "--code",
            "E11.9",
            "--evidence",
            "0..100000",
        ],
    );
    assert!(e.contains("outside the note"), "{e}");
    let e = env.fails(
        Some("coder1"),
        &["review", "reject", &sid(1), "--reason", "other"],
    );
    assert!(e.contains("needs a comment"), "{e}");

    // The rest of the required suggestions; the last one finalises.
    let mut last = o;
    for s in &required[3..] {
        last = env.ok(
            Some("auditor1"),
            &["review", "accept", &s["id"].as_i64().unwrap().to_string()],
        );
    }
    assert_eq!(last["pending_required"], 0, "{last}");
    let fin = &last["finalised"];
    assert_eq!(fin["encounter"], enc, "the last decision finalises: {last}");
    assert_eq!(fin["mode"], "human", "{last}");
    let final_codes: Vec<&str> = fin["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    let code_of = |i: usize| required[i]["code"].as_str().unwrap();
    assert!(final_codes.contains(&code_of(0)), "{final_codes:?}");
    assert!(
        final_codes.contains(&"E11.65"),
        "edited code: {final_codes:?}"
    );
    assert!(
        !final_codes.contains(&code_of(1)) || code_of(1) == code_of(0),
        "rejected code is final: {final_codes:?}"
    );
    let q = env.ok(None, &["review", "list", "--status", "finalised"]);
    assert!(
        q.as_array().unwrap().iter().any(|i| i["encounter"] == enc),
        "{q}"
    );
    assert_eq!(
        env.ok(None, &["review", "list"]),
        j!([]),
        "open queue empty"
    );
    let q = env.ok(
        None,
        &["review", "list", "--status", "all", "--reviewer", "coder1"],
    );
    assert_eq!(q.as_array().map(Vec::len), Some(1), "{q}");
    let e = env.fails(Some("coder1"), &["review", "accept", &sid(1)]);
    assert!(e.contains("finalised"), "{e}");
    let e = env.fails(Some("coder1"), &["review", "finalise", &es]);
    assert!(e.contains("already finalised"), "{e}");

    // The packet: JSON on stdout, HTML in a file.
    let html = env.dir().join("packet.html");
    let pk = env.ok(
        Some("auditor1"),
        &["audit", "packet", &es, "--html", html.to_str().unwrap()],
    );
    assert_eq!(pk["encounter"], enc, "{pk}");
    assert_eq!(pk["status"], "finalised", "{pk}");
    assert_eq!(pk["chain"]["ok"], true, "{pk}");
    assert_eq!(pk["finalisation"]["mode"], "human", "{pk}");
    let codes = pk["codes"].as_array().unwrap();
    let by_id = |id: &str| {
        codes
            .iter()
            .find(|c| c["suggestion"].as_i64().unwrap().to_string() == id)
            .unwrap_or_else(|| panic!("suggestion {id} not in packet: {pk}"))
    };
    let c0 = by_id(&sid(0));
    assert_eq!(c0["outcome"], "final", "{c0}");
    assert_eq!(c0["final_code"], code_of(0), "{c0}");
    let v0 = &c0["verifications"][0];
    assert_eq!(v0["decision"], d_accept, "{c0}");
    assert_eq!(v0["reviewer"], "coder1", "{c0}");
    assert_eq!(v0["reviewer_name"], "Cora Coder", "{c0}");
    assert_eq!(v0["credential"], "CPC", "{c0}");
    assert_eq!(v0["comment"], comment, "{c0}");
    assert!(!c0["evidence"].as_array().unwrap().is_empty(), "{c0}");
    let c1 = by_id(&sid(1));
    assert_eq!(c1["outcome"], "rejected", "{c1}");
    assert_eq!(c1["verifications"][0]["credential"], "CCS", "{c1}");
    assert_eq!(c1["verifications"][0]["reason"], "not_documented", "{c1}");
    let c2 = by_id(&sid(2));
    assert_eq!(c2["final_code"], "E11.65", "{c2}");
    assert_eq!(c2["verifications"][0]["action"], "edit", "{c2}");
    let ev = &c2["evidence"][0];
    assert_eq!(ev["start"], a, "the reviewer's evidence: {c2}");
    assert_eq!(ev["end"], b, "{c2}");
    assert_eq!(ev["text"], "type 2 diabetes mellitus", "{c2}");
    assert!(
        ev["before"].as_str().unwrap().ends_with("Assessment: "),
        "{ev}"
    );
    let att = pk["attestation"].as_str().unwrap();
    assert!(att.contains("Cora Coder (CPC)"), "{att}");
    assert!(att.contains("Aud Itor (CCS)"), "{att}");
    assert!(
        pk["audit_trail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "finalisation"),
        "{pk}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(
        page.contains("<td>CPC</td>"),
        "reviewer credential in the page"
    );
    assert!(
        page.contains("<td>CCS</td>"),
        "auditor credential in the page"
    );
    assert!(
        page.contains("Confirmed &lt;b&gt;in&lt;/b&gt; chart &amp; labs"),
        "comment escaped"
    );
    assert!(!page.contains("<b>in</b>"), "unescaped comment in the page");
    assert!(page.contains("O&#39;Hara"), "patient name escaped");
    assert!(
        page.contains("A1c &lt;7% &amp; good"),
        "note context escaped"
    );
    assert!(!page.contains("A1c <7%"), "unescaped note text in the page");
    // --out writes the same packet to a file.
    let out_f = env.dir().join("packet.json");
    let out = env.run(
        Some("auditor1"),
        &[
            "audit",
            "packet",
            &es,
            "--out",
            out_f.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", both(&out));
    let pk2: Value = serde_json::from_str(&std::fs::read_to_string(&out_f).unwrap()).unwrap();
    assert_eq!(pk2["codes"], pk["codes"]);
    // The audit trail still verifies.
    env.assert_verifies();
}

// ------------------------------------------------------------- 3. tampering

/// A small ledger whose audit trail has a checkpoint and a dozen entries.
fn tamper_fixture() -> Env {
    let env = Env::bare();
    env.add_user("coder1", "Cora Coder", Some("CPC"), &["coder"]);
    env.add_user("auditor1", "Aud Itor", Some("CCS"), &["auditor"]);
    for i in 0..4 {
        let e = env.add_encounter(
            &format!("Tamper fixture note {i}."),
            &format!("Tamper Patient {i}"),
            "1960-01-01",
            &[],
        );
        env.ok(
            Some("coder1"),
            &["encounter", "show", &e["encounter"].to_string()],
        );
    }
    let v = env.assert_verifies();
    assert!(v["entries"].as_u64().unwrap() >= 10, "{v}");
    env
}

fn drop_triggers(c: &rusqlite::Connection) {
    c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
}

/// Non-checkpoint seqs of the audit trail.
fn plain_seqs(c: &rusqlite::Connection) -> Vec<i64> {
    let mut st = c
        .prepare("SELECT seq FROM audit_log WHERE kind <> 'checkpoint' ORDER BY seq")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn problems_at(v: &Value, seq: i64) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems array: {v}"))
        .iter()
        .filter(|p| p["seq"] == seq)
        .map(|p| p["kind"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// `audit verify` fails (exit 1, `ok: false`) with each `(seq, kind)` among
/// its problems and no problem before the first tampered entry.
fn assert_tampered(env: &Env, expected: &[(i64, &str)], what: &str) {
    let (out, v) = env.verify();
    assert_eq!(out.status.code(), Some(1), "{what}: {}", both(&out));
    assert_eq!(v["ok"], false, "{what}: {v}");
    for (seq, kind) in expected {
        let at = problems_at(&v, *seq);
        assert!(
            at.iter().any(|k| k == kind),
            "{what}: expected a {kind} problem at seq {seq}: {v}"
        );
    }
    let first = expected.iter().map(|e| e.0).min().unwrap();
    for p in v["problems"].as_array().unwrap() {
        assert!(
            p["seq"].as_i64().unwrap() >= first,
            "{what}: a problem before seq {first}: {p}"
        );
    }
    // Text mode says so too.
    let out = env.run(None, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{what}: {}", both(&out));
    assert!(
        text(&out.stdout).contains(&format!("entry {first}")),
        "{what}: {}",
        both(&out)
    );
}

#[test]
fn audit_verify_detects_a_changed_row() {
    let env = tamper_fixture();
    let c = env.sqlite();
    let seqs = plain_seqs(&c);
    let k = seqs[seqs.len() / 2];
    let detail: String = c
        .query_row("SELECT detail FROM audit_log WHERE seq = ?1", [k], |r| {
            r.get(0)
        })
        .unwrap();
    let mut d: Value = serde_json::from_str(&detail).unwrap();
    d["tampered"] = j!(true);
    drop_triggers(&c);
    let n = c
        .execute(
            "UPDATE audit_log SET detail = ?1 WHERE seq = ?2",
            rusqlite::params![d.to_string(), k],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(c);
    assert_tampered(&env, &[(k, "hash_mismatch")], "changed detail");
}

#[test]
fn audit_verify_detects_a_deleted_row() {
    let env = tamper_fixture();
    let c = env.sqlite();
    let seqs = plain_seqs(&c);
    let k = seqs[seqs.len() / 2];
    drop_triggers(&c);
    assert_eq!(
        c.execute("DELETE FROM audit_log WHERE seq = ?1", [k])
            .unwrap(),
        1
    );
    drop(c);
    // The gap shows at the entry after the deleted one.
    assert_tampered(
        &env,
        &[(k + 1, "sequence_gap"), (k + 1, "broken_link")],
        "deleted row",
    );
}

#[test]
fn audit_verify_detects_swapped_rows() {
    let env = tamper_fixture();
    let c = env.sqlite();
    let seqs = plain_seqs(&c);
    let (a, b) = (seqs[2], seqs[seqs.len() - 2]);
    assert!(a < b);
    drop_triggers(&c);
    // Swap everything but seq: the two entries trade places.
    c.execute_batch(&format!(
        "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN ({a}, {b});
         UPDATE audit_log SET (at, org, actor, kind, subject, detail, prev_hash, hash, signature, key_id) =
           (SELECT at, org, actor, kind, subject, detail, prev_hash, hash, signature, key_id FROM t
            WHERE t.seq = CASE audit_log.seq WHEN {a} THEN {b} ELSE {a} END)
         WHERE seq IN ({a}, {b});"
    ))
    .unwrap();
    let moved: String = c
        .query_row("SELECT hash FROM audit_log WHERE seq = ?1", [a], |r| {
            r.get::<_, Vec<u8>>(0).map(hex_of)
        })
        .unwrap();
    let orig: String = c
        .query_row("SELECT hash FROM t WHERE seq = ?1", [b], |r| {
            r.get::<_, Vec<u8>>(0).map(hex_of)
        })
        .unwrap();
    assert_eq!(moved, orig, "the swap happened");
    drop(c);
    // Each moved entry no longer hashes at its place, and the links break.
    assert_tampered(
        &env,
        &[
            (a, "hash_mismatch"),
            (a + 1, "broken_link"),
            (b, "hash_mismatch"),
            (b + 1, "broken_link"),
        ],
        "swapped rows",
    );
}

fn hex_of(b: Vec<u8>) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ----------------------------------------------------------- 4. raw storage

const SECRET_NAME: &str = "Zebulon Quixote-Marchbanks";
const SECRET_DOB: &str = "1937-08-19";
const SECRET_NOTE: &str = "Zebulon came in after falling off his velocipede near the lighthouse.\n\
Assessment: type 2 diabetes mellitus. Essential hypertension. Asthma.\n\
He keeps seventeen parakeets named after Byzantine emperors at home.";
const SECRET_PHRASES: [&str; 4] = [
    "falling off his velocipede",
    "velocipede near the lighthouse",
    "seventeen parakeets named after",
    "Byzantine emperors at home",
];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn assert_no_phi_in_files(env: &Env, when: &str) -> usize {
    let mut checked = 0;
    for suffix in ["", "-wal"] {
        let p = PathBuf::from(format!("{}{suffix}", env.db));
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        checked += bytes.len();
        let mut needles: Vec<String> = vec![
            SECRET_NAME.into(),
            SECRET_NAME.to_lowercase(),
            "Quixote".into(),
            "Marchbanks".into(),
            SECRET_DOB.into(),
        ];
        needles.extend(SECRET_PHRASES.iter().map(|s| s.to_string()));
        for n in &needles {
            assert!(
                !contains(&bytes, n.as_bytes()),
                "{when}: {n:?} in the clear in {}",
                p.display()
            );
        }
    }
    checked
}

#[test]
fn phi_is_never_stored_or_printed_in_the_clear() {
    let env = Env::coded();
    env.add_user("coder1", "Cora Coder", Some("CPC"), &["coder"]);
    env.add_user("auditor1", "Aud Itor", Some("CCS"), &["auditor"]);
    // Hold a connection open so the CLI's commits stay in the WAL file
    // (the last connection to close would checkpoint and delete it).
    let holder = env.sqlite();
    let _: i64 = holder
        .query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))
        .unwrap();
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut record = |label: &str, out: Output| {
        outputs.push((label.to_owned(), out));
    };
    let note = env.file("secret.txt", SECRET_NOTE);
    let nd = env.file(
        "secret.ndjson",
        &format!(
            "{}\n",
            j!({"note": SECRET_NOTE, "patient_name": SECRET_NAME, "patient_dob": SECRET_DOB, "dos": DOS, "payer": "ACME"})
        ),
    );
    let add_args = [
        "encounter",
        "add",
        note.to_str().unwrap(),
        "--patient-name",
        SECRET_NAME,
        "--patient-dob",
        SECRET_DOB,
        "--dos",
        DOS,
    ];
    let out = env.run(None, &[&add_args[..], &["--json"]].concat());
    let added = json(&out);
    record("encounter add --json", out);
    record("encounter add", env.run(None, &add_args));
    record(
        "encounter import --json",
        env.run(
            None,
            &["encounter", "import", nd.to_str().unwrap(), "--json"],
        ),
    );
    record(
        "encounter import",
        env.run(None, &["encounter", "import", nd.to_str().unwrap()]),
    );
    let enc = added["encounter"].as_i64().unwrap().to_string();
    let sugg = suggestions_of(&added);
    assert!(sugg.len() >= 3, "{added}");
    let s = |i: usize| sugg[i]["id"].as_i64().unwrap().to_string();
    let (a, b) = char_span(SECRET_NOTE, "falling off his velocipede");
    for (label, user, args) in [
        ("review list", None, vec!["review", "list"]),
        ("review list --json", None, vec!["review", "list", "--json"]),
        (
            "review accept",
            Some("coder1"),
            vec![
                "review",
                "accept",
                &s(0),
                "--comment",
                "seen: falling off his velocipede near the lighthouse",
            ],
        ),
        (
            "review reject --json",
            Some("coder1"),
            vec![
                "review",
                "reject",
                &s(1),
                "--reason",
                "other",
                "--comment",
                "Byzantine emperors at home is not a diagnosis",
                "--json",
            ],
        ),
        (
            "review edit",
            Some("coder1"),
            vec![
                "review",
                "edit",
                &s(2),
                "--code",
                "W00.0XXA",
                "--evidence",
                &format!("{a}..{b}"),
            ],
        ),
        ("user list", None, vec!["user", "list"]),
        ("policy show --json", None, vec!["policy", "show", "--json"]),
        ("audit verify", None, vec!["audit", "verify"]),
        (
            "audit verify --json",
            None,
            vec!["audit", "verify", "--json"],
        ),
        (
            "audit packet --out",
            Some("auditor1"),
            vec![
                "audit",
                "packet",
                &enc,
                "--out",
                env.dir().join("p.json").to_str().unwrap(),
            ],
        ),
    ] {
        let out = env.run(user, &args);
        assert!(out.status.success(), "{label}: {}", both(&out));
        record(label, out);
    }
    // Failures must not quote PHI either.
    let wrong = env.dir().join("wrong.key");
    write_master_key(&wrong);
    let out = env
        .command(Some("coder1"), &["encounter", "show", &enc])
        .arg("--master-key-file")
        .arg(&wrong)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", both(&out));
    record("encounter show, wrong key", out);
    let bad = env.file(
        "bad.ndjson",
        &format!(
            "{}\n",
            j!({"note": SECRET_NOTE, "patient_name": SECRET_NAME, "patient_dob": "1937-02-30", "dos": DOS})
        ),
    );
    let out = env.run(None, &["encounter", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "bad dob accepted: {}", both(&out));
    assert!(text(&out.stderr).contains("patient_dob"), "{}", both(&out));
    record("encounter import, bad dob", out);
    for (label, out) in &outputs {
        let all = both(out);
        for n in [SECRET_NAME, "Quixote", SECRET_DOB] {
            assert!(!all.contains(n), "{label}: {n:?} in its output: {all}");
        }
        for p in SECRET_PHRASES {
            assert!(
                !all.contains(p),
                "{label}: note text {p:?} in its output: {all}"
            );
        }
    }
    // The packet file does hold PHI (on purpose) - so the checks above are
    // not vacuous for the PHI-showing paths.
    let pk = std::fs::read_to_string(env.dir().join("p.json")).unwrap();
    assert!(pk.contains(SECRET_NAME), "the packet names the patient");
    // Shown on purpose: review show decrypts it.
    let v = env.ok(Some("coder1"), &["review", "show", &enc]);
    assert_eq!(v["patient_name"], SECRET_NAME);
    assert_eq!(v["patient_dob"], SECRET_DOB);
    // Raw bytes, with the WAL held open, then after the last close.
    let wal = PathBuf::from(format!("{}-wal", env.db));
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0,
        "expected a WAL file while a connection is open"
    );
    assert!(assert_no_phi_in_files(&env, "with the WAL") > 0);
    let tables: i64 = holder
        .query_row(
            "SELECT COUNT(*) FROM patients p JOIN documents d ON 1 = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(tables >= 1, "rows are there to check");
    drop(holder);
    assert!(assert_no_phi_in_files(&env, "after checkpoint") > 0);
    // And the same PHI in a copy of the rows read through SQLite: the
    // columns that are not *_enc carry none of it.
    let c = env.sqlite();
    let dump: String = c
        .query_row("SELECT group_concat(detail, ' ') FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    for p in SECRET_PHRASES {
        assert!(!dump.contains(p), "audit detail holds note text {p:?}");
    }
    assert!(!dump.contains("Quixote"), "audit detail holds the name");
    assert!(
        !dump.contains(SECRET_DOB),
        "audit detail holds the date of birth"
    );
}

// --------------------------------------------------------------- 5. kills

/// Runs `cmd` (which prints one JSON line per commit), reads its stdout as
/// it comes, and SIGKILLs it once `after` lines have been read. Returns the
/// lines read (the acknowledged commits) and whether it was killed (rather
/// than having finished first).
fn run_and_kill(mut cmd: Command, after: usize, stderr: &Path) -> (Vec<Value>, bool) {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(stderr).unwrap()));
    let mut child = cmd.spawn().expect("spawns");
    let out = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "not a JSON line ({e}): {line}\n{}",
                std::fs::read_to_string(stderr).unwrap_or_default()
            )
        });
        acked.push(v);
        if acked.len() >= after {
            break;
        }
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    (acked, status.signal() == Some(9))
}

/// Read-only SQL over SQLite or PostgreSQL (integer or text columns).
trait Sql {
    fn ints(&mut self, q: &str) -> Vec<Vec<i64>>;
    fn texts(&mut self, q: &str) -> Vec<String>;
}

impl Sql for rusqlite::Connection {
    fn ints(&mut self, q: &str) -> Vec<Vec<i64>> {
        let mut st = self.prepare(q).unwrap();
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get::<_, i64>(i)).collect())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
    fn texts(&mut self, q: &str) -> Vec<String> {
        let mut st = self.prepare(q).unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

impl Sql for postgres::Client {
    fn ints(&mut self, q: &str) -> Vec<Vec<i64>> {
        self.query(q, &[])
            .unwrap()
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get::<_, i64>(i)).collect())
            .collect()
    }
    fn texts(&mut self, q: &str) -> Vec<String> {
        self.query(q, &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect()
    }
}

/// Every acknowledged encounter is stored whole; no stored encounter is
/// half written (one document, one coding run whose suggestion_count is the
/// number of suggestion rows, and its audit entry).
fn check_encounters(db: &mut dyn Sql, acked: &[Value]) -> usize {
    let rows = db.ints(
        "SELECT e.id, \
         (SELECT COUNT(*) FROM documents d WHERE d.encounter_id = e.id), \
         (SELECT COUNT(*) FROM coding_runs r WHERE r.encounter_id = e.id), \
         (SELECT COALESCE(MAX(r.suggestion_count), -1) FROM coding_runs r WHERE r.encounter_id = e.id), \
         (SELECT COUNT(*) FROM suggestions s WHERE s.encounter_id = e.id), \
         (SELECT COUNT(*) FROM suggestions s JOIN coding_runs r ON r.id = s.run_id WHERE s.encounter_id = e.id) \
         FROM encounters e ORDER BY e.id",
    );
    let audited: BTreeSet<String> = db
        .texts("SELECT subject FROM audit_log WHERE kind = 'coding_run'")
        .into_iter()
        .collect();
    let mut stored = std::collections::BTreeMap::new();
    for r in &rows {
        let (id, docs, runs, count, sugg, linked) = (r[0], r[1], r[2], r[3], r[4], r[5]);
        assert_eq!(docs, 1, "encounter {id}: {docs} documents");
        assert_eq!(runs, 1, "encounter {id}: {runs} coding runs");
        assert_eq!(
            count, sugg,
            "encounter {id}: run says {count}, {sugg} stored"
        );
        assert_eq!(linked, sugg, "encounter {id}: suggestions of another run");
        assert!(
            audited.contains(&format!("encounter:{id}")),
            "encounter {id} has no coding_run audit entry"
        );
        stored.insert(id, sugg);
    }
    assert_eq!(
        audited.len(),
        rows.len(),
        "audit entries for missing encounters"
    );
    for a in acked {
        let id = a["encounter"]
            .as_i64()
            .unwrap_or_else(|| panic!("acknowledged line without encounter: {a}"));
        assert!(a["line"].as_u64().is_some(), "{a}");
        let n = stored
            .get(&id)
            .unwrap_or_else(|| panic!("acknowledged encounter {id} is not stored: {a}"));
        assert_eq!(
            *n as usize,
            a["suggestions"].as_array().map_or(0, Vec::len),
            "encounter {id}"
        );
    }
    rows.len()
}

/// Every acknowledged decision is stored; every stored decision has its
/// audit entry and moved its suggestion out of `pending`.
fn check_decisions(db: &mut dyn Sql, acked: &[Value]) -> usize {
    let ids: BTreeSet<i64> = db
        .ints("SELECT id FROM decisions")
        .into_iter()
        .map(|r| r[0])
        .collect();
    let audited: BTreeSet<i64> = db
        .texts("SELECT detail FROM audit_log WHERE kind = 'suggestion_decision'")
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["decision_id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, audited, "decisions and their audit entries differ");
    let pending = db.ints(
        "SELECT COUNT(*) FROM decisions d JOIN suggestions s ON s.id = d.suggestion_id WHERE s.status = 'pending'",
    );
    assert_eq!(pending[0][0], 0, "a decided suggestion is still pending");
    for a in acked {
        let id = a["decision"]
            .as_i64()
            .unwrap_or_else(|| panic!("acknowledged line without decision: {a}"));
        assert!(
            ids.contains(&id),
            "acknowledged decision {id} is not stored: {a}"
        );
    }
    ids.len()
}

/// `n` NDJSON encounters for `encounter import` whose notes are `note(i)`.
fn import_lines(n: usize, tag: &str, note: impl Fn(usize) -> String) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(
            &j!({"note": note(i), "patient_name": format!("Kill Patient {tag} {i}"),
                 "patient_dob": "1955-03-04", "dos": DOS, "payer": "ACME"})
            .to_string(),
        );
        s.push('\n');
    }
    s
}

/// Imports (far more lines than are ever reached) killed after 30-60
/// acknowledged commits, `rounds` times into the same ledger; after each,
/// every acknowledged encounter is whole and the audit trail verifies.
fn import_kill_rounds(env: &Env, db: &mut dyn FnMut() -> Box<dyn Sql>, rounds: usize) {
    let nd = env.file(
        "kill.ndjson",
        &import_lines(1000, "k", |i| {
            format!("Kill test visit {i}: short synthetic note.")
        }),
    );
    let mut acked_all = Vec::new();
    for round in 0..rounds {
        let after = jitter(30, 60, round as u64);
        eprintln!("import kill round {round}: after {after} lines");
        let err = env.dir().join(format!("import-{round}.err"));
        let cmd = env.command(
            None,
            &["encounter", "import", nd.to_str().unwrap(), "--json"],
        );
        let (acked, killed) = run_and_kill(cmd, after, &err);
        assert_eq!(
            acked.len(),
            after,
            "round {round}: the import ended early: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        assert!(
            killed,
            "round {round}: the import finished before the kill; make it longer"
        );
        acked_all.extend(acked);
        let stored = check_encounters(&mut *db(), &acked_all);
        assert!(stored >= acked_all.len(), "{stored} < {}", acked_all.len());
        env.assert_verifies();
    }
    // The ledger goes on working after the kills.
    let v = env.ok(
        None,
        &["review", "list", "--status", "all", "--limit", "100000"],
    );
    assert_eq!(
        v.as_array().unwrap().len(),
        check_encounters(&mut *db(), &acked_all)
    );
}

#[test]
fn killed_import_keeps_every_acknowledged_encounter_whole() {
    let env = Env::bare();
    let path = env.db_path();
    import_kill_rounds(
        &env,
        &mut || Box::new(rusqlite::Connection::open(&path).unwrap()),
        3,
    );
}

/// A schema of its own on the test PostgreSQL server, dropped at the end.
struct PgSchema {
    base: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

#[test]
fn killed_import_on_postgres_keeps_every_acknowledged_encounter_whole() {
    let Some(base) = std::env::var("MEDLEDGER_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("!!! skipped: MEDLEDGER_TEST_PG_URL not set");
        return;
    };
    let schema = format!("cli_kill_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to MEDLEDGER_TEST_PG_URL: {e}"));
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let guard = PgSchema {
        base: base.clone(),
        schema: schema.clone(),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let mut env = Env::bare();
    env.db = url.clone();
    import_kill_rounds(
        &env,
        &mut || Box::new(postgres::Client::connect(&url, postgres::NoTls).unwrap()),
        3,
    );
    // The rows are in the test's schema, not elsewhere.
    let n = admin
        .query_one(&format!("SELECT COUNT(*) FROM {schema}.encounters"), &[])
        .unwrap()
        .get::<_, i64>(0);
    assert!(n >= 90, "{n} encounters in {schema}");
    drop(guard);
}

/// Batch lines over the suggestions the policy routes to a human in open
/// encounters: every one of a small encounter's (so it is finalised along
/// the way), then all but one of each large encounter's, repeated (a
/// suggestion may be decided again until its encounter is final) until the
/// file is far longer than a run ever gets: the command's output then fills
/// the pipe, so it cannot finish before the kill. Returns the lines and how
/// many distinct suggestions they decide.
fn batch_lines(db: &mut dyn Sql) -> (String, usize) {
    let rows = db.ints(
        "SELECT s.id, s.encounter_id, \
         (SELECT COUNT(*) FROM suggestions x WHERE x.encounter_id = s.encounter_id AND x.requires_review = 1) \
         FROM suggestions s JOIN encounters e ON e.id = s.encounter_id \
         WHERE s.requires_review = 1 AND e.status <> 'finalised' \
         ORDER BY 3, s.encounter_id, s.id",
    );
    let mut small = Vec::new();
    let mut large = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let last_of_encounter = rows.get(i + 1).is_none_or(|n| n[1] != r[1]);
        if r[2] <= 5 {
            small.push(r[0]);
        } else if !last_of_encounter {
            large.push(r[0]);
        }
    }
    let distinct = small.len() + large.len();
    let mut ids = small;
    while !large.is_empty() && ids.len() < 3000 {
        ids.extend(&large);
    }
    let mut s = String::new();
    for (i, id) in ids.iter().enumerate() {
        let line = match i % 3 {
            0 => j!({"suggestion": id, "action": "accept"}),
            1 => j!({"suggestion": id, "action": "reject", "reason": "not_documented"}),
            _ => j!({"suggestion": id, "action": "edit", "code": "E11.65"}),
        };
        s.push_str(&line.to_string());
        s.push('\n');
    }
    (s, distinct)
}

/// A note the dictionary coder finds about fifty conditions in.
const LONG_NOTE: &str = "Assessment: type 2 diabetes mellitus. Essential hypertension. Asthma. \
Acute kidney failure. Hyperlipidemia. Chronic obstructive pulmonary disease. Atrial fibrillation. \
Hypothyroidism. Gastro-esophageal reflux disease. Osteoarthritis of knee. Major depressive disorder. \
Anxiety disorder. Obesity. Iron deficiency anemia. Migraine. Gout. Pneumonia. Urinary tract infection. \
Cough. Fever. Headache. Low back pain. Constipation. Insomnia. Allergic rhinitis. Psoriasis. Hematuria. \
Renal colic. Chest pain. Dizziness. Fatigue. Nausea. Heart failure. Hypokalemia. Dehydration. \
Cellulitis. Sinusitis. Pharyngitis. Conjunctivitis. Otitis media. Vitamin D deficiency. Osteoporosis. \
Rheumatoid arthritis. Epilepsy. Parkinson disease. Alzheimer disease. Glaucoma. Cataract. \
Hemorrhoids. Diverticulosis.";

#[test]
fn killed_review_batch_keeps_every_acknowledged_decision() {
    let env = Env::coded();
    env.add_user("coder1", "Cora Coder", Some("CPC"), &["coder"]);
    // A coded import, killed too: small encounters, then large ones.
    let nd = env.file(
        "enc.ndjson",
        &import_lines(9, "b", |i| match i {
            3..=5 => format!("Visit {i}. {LONG_NOTE}"),
            _ => {
                format!("Visit {i}. Assessment: type 2 diabetes mellitus. Essential hypertension.")
            }
        }),
    );
    let cmd = env.command(
        None,
        &["encounter", "import", nd.to_str().unwrap(), "--json"],
    );
    let err = env.dir().join("import.err");
    let (imported, killed) = run_and_kill(cmd, 6, &err);
    assert_eq!(
        imported.len(),
        6,
        "{}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    assert!(killed, "the coded import finished before the kill");
    let mut db = env.sqlite();
    check_encounters(&mut db, &imported);
    let total: usize = imported
        .iter()
        .map(|a| a["suggestions"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(total >= 140, "only {total} suggestions: {imported:?}");
    env.assert_verifies();

    let mut acked_all = Vec::new();
    let mut prev_stored = 0;
    let mut finalised_before = 0;
    for (round, chunk) in [1usize, 10].into_iter().enumerate() {
        let (body, n) = batch_lines(&mut db);
        let after = jitter(25, 45, 100 + round as u64);
        assert!(n >= after + 4 * chunk, "only {n} suggestions to decide");
        assert!(body.lines().count() >= 3000, "a long batch");
        eprintln!("batch kill: --chunk {chunk}, {n} suggestions, kill after {after}");
        let f = env.file(&format!("batch-{chunk}.ndjson"), &body);
        let err = env.dir().join(format!("batch-{chunk}.err"));
        let cmd = env.command(
            Some("coder1"),
            &[
                "review",
                "batch",
                f.to_str().unwrap(),
                "--chunk",
                &chunk.to_string(),
                "--json",
            ],
        );
        let (acked, killed) = run_and_kill(cmd, after, &err);
        assert_eq!(
            acked.len(),
            after,
            "--chunk {chunk}: the batch ended early: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        assert!(killed, "--chunk {chunk}: finished before the kill");
        for a in &acked {
            assert!(a["pending_required"].is_i64(), "{a}");
            assert!(a["suggestion"].is_i64(), "{a}");
        }
        let finalised = acked.iter().filter(|a| !a["finalised"].is_null()).count();
        acked_all.extend(acked);
        let stored = check_decisions(&mut db, &acked_all);
        assert!(stored >= acked_all.len(), "{stored} < {}", acked_all.len());
        // Commits are whole chunks.
        let in_this_round = stored - prev_stored;
        assert_eq!(
            in_this_round % chunk,
            0,
            "--chunk {chunk}: a partial chunk committed ({in_this_round} decisions)"
        );
        prev_stored = stored;
        let now_final = db.ints("SELECT COUNT(*) FROM encounters WHERE status = 'finalised'")[0][0];
        assert!(
            now_final as usize >= finalised_before + finalised,
            "acknowledged finalisations are stored"
        );
        finalised_before = now_final as usize;
        env.assert_verifies();
        check_encounters(&mut db, &[]);
    }
    assert!(finalised_before >= 3, "the small encounters were finalised");
    // Finalised encounters have their final codes and nothing pending.
    let bad = db.ints(
        "SELECT COUNT(*) FROM encounters e WHERE e.status = 'finalised' AND (\
         NOT EXISTS (SELECT 1 FROM final_codes f WHERE f.encounter_id = e.id) \
         AND EXISTS (SELECT 1 FROM suggestions s WHERE s.encounter_id = e.id AND s.status <> 'rejected') \
         OR EXISTS (SELECT 1 FROM suggestions s WHERE s.encounter_id = e.id AND s.requires_review = 1 AND s.status = 'pending'))",
    );
    assert_eq!(bad[0][0], 0, "inconsistent finalised encounters");
}

/// The documented date format is YYYY-MM-DD; the same patient given with
/// another spelling of the same date must not become a second patient
/// (matching is by name and date of birth).
#[test]
fn patient_dob_in_basic_format_is_refused_or_matches_the_patient() {
    let env = Env::bare();
    let first = env.add_encounter("Synthetic note one.", "Dob Patient", "1937-08-19", &[]);
    let p = first["patient"].as_i64().unwrap();
    let note = env.file("n.txt", "Synthetic note two.");
    let out = env.run(
        None,
        &[
            "encounter",
            "add",
            note.to_str().unwrap(),
            "--patient-name",
            "Dob Patient",
            "--patient-dob",
            "19370819",
            "--dos",
            DOS,
            "--json",
        ],
    );
    if out.status.success() {
        let v = json(&out);
        assert_eq!(v["patient"], p, "a second patient for the same person: {v}");
        assert_eq!(v["new_patient"], false, "{v}");
    } else {
        assert!(json_error(&out).contains("patient_dob"), "{}", both(&out));
    }
}

// ---------------------------------------------------------- 6. key rotation

#[test]
fn keys_rotate_data_key_and_master_key() {
    let env = Env::bare();
    env.add_user("coder1", "Cora Coder", Some("CPC"), &["coder"]);
    env.add_user("admin1", "Ad Min", None, &["admin"]);
    let note = "Rotation note: synthetic text that must survive every rotation.";
    let enc = env.add_encounter(note, "Rota Patient", "1966-06-06", &[])["encounter"]
        .as_i64()
        .unwrap()
        .to_string();
    let e = env.fails(Some("coder1"), &["keys", "rotate"]);
    assert!(e.contains("may not rotate_keys"), "{e}");
    let r = env.ok(None, &["keys", "rotate"]);
    assert_eq!(r["data_key_version"], 2, "{r}");
    assert!(r["resealed"].as_u64().unwrap() >= 3, "name, dob, note: {r}");
    let r = env.ok(Some("admin1"), &["keys", "rotate"]);
    assert_eq!(r["data_key_version"], 3, "{r}");
    let v = env.ok(Some("coder1"), &["review", "show", &enc]);
    assert_eq!(v["note"], note, "{v}");
    assert_eq!(v["patient_name"], "Rota Patient", "{v}");
    // Master key rotation.
    let new = env.dir().join("new-master.key");
    let r = env.ok(
        None,
        &[
            "keys",
            "rotate",
            "--new-master-key-file",
            new.to_str().unwrap(),
        ],
    );
    assert!(r["rewrapped"].as_u64().unwrap() >= 1, "{r}");
    assert!(new.exists());
    let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "new key mode {mode:o}");
    let with_key = |key: &Path, args: &[&str]| {
        env.command(Some("coder1"), args)
            .arg("--master-key-file")
            .arg(key)
            .arg("--json")
            .output()
            .unwrap()
    };
    let v = json(&with_key(&new, &["review", "show", &enc]));
    assert_eq!(v["note"], note, "{v}");
    let e = json_error(&with_key(&env.key, &["review", "show", &enc]));
    assert!(
        e.contains("master key"),
        "the old key no longer opens it: {e}"
    );
    assert!(!e.contains("Rota Patient"), "{e}");
    // New writes with the new key, and the trail verifies.
    let out = with_key(&new, &["review", "list"]);
    assert_eq!(json(&out).as_array().map(Vec::len), Some(1));
    let out = env
        .command(None, &["audit", "verify", "--json"])
        .arg("--master-key-file")
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(json(&out)["ok"], true);
    // The new key file must not exist yet.
    let out = env
        .command(
            None,
            &[
                "keys",
                "rotate",
                "--new-master-key-file",
                new.to_str().unwrap(),
                "--json",
            ],
        )
        .arg("--master-key-file")
        .arg(&new)
        .output()
        .unwrap();
    let e = json_error(&out);
    assert!(e.contains("exists"), "{e}");
}

// ------------------------------------------------------------ 7. the bench

#[test]
fn bench_ledger_reports_throughput_and_a_verified_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("--data-dir")
        .arg(tmp.path())
        .args([
            "bench",
            "ledger",
            "--decisions",
            "300",
            "--single",
            "50",
            "--batch",
            "50",
            "--json",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["audit_ok"], true, "{v}");
    assert!(v["single_per_second"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["batched_per_second"].as_f64().unwrap() > 0.0, "{v}");
    assert_eq!(v["single_decisions"], 50, "{v}");
    assert_eq!(v["batched_decisions"], 250, "{v}");
    assert_eq!(v["batch_size"], 50, "{v}");
    assert_eq!(v["encounters"], 60, "{v}");
    assert_eq!(v["finalised"], 60, "every encounter fully decided: {v}");
    assert!(v["audit_entries"].as_u64().unwrap() > 300, "{v}");
    let out = bin()
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["bench", "ledger", "--decisions", "0", "--json"])
        .output()
        .unwrap();
    let e = json_error(&out);
    assert!(e.contains("--decisions"), "{e}");
}

// ------------------------------------------------------- 8. error messages

#[test]
fn unknown_role_and_reason_list_the_valid_ones() {
    let env = Env::bare();
    let e = env.fails(None, &["user", "add", "x", "--role", "superuser"]);
    assert!(e.contains("superuser"), "{e}");
    for r in ["coder", "auditor", "biller", "admin", "read_only"] {
        assert!(e.contains(r), "role {r} not listed: {e}");
    }
    let users = env.ok(None, &["user", "list"]);
    assert_eq!(users, j!([]), "nothing was added");
    env.add_user("coder1", "Cora Coder", Some("CPC"), &["coder"]);
    let e = env.fails(
        Some("coder1"),
        &["review", "reject", "1", "--reason", "bogus"],
    );
    assert!(e.contains("bogus"), "{e}");
    for r in [
        "not_documented",
        "negated",
        "uncertain",
        "historical_only",
        "family_history",
        "wrong_code",
        "wrong_specificity",
        "duplicate",
        "guideline_conflict",
        "not_billable",
        "other",
    ] {
        assert!(e.contains(r), "reason {r} not listed: {e}");
    }
    // Text mode: the same message on stderr.
    let out = env.run(None, &["user", "add", "y", "--role", "root"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("read_only"), "{}", both(&out));
    // Unknown queue status lists the valid ones too.
    let e = env.fails(None, &["review", "list", "--status", "done"]);
    assert!(e.contains("finalised"), "{e}");
}
