//! Claims through the CLI: export-837 (checked by our reader and by pyx12),
//! 835 dry runs and located errors, building a claim from a finalised
//! encounter, posting an 835 and a 277CA to it, scrubbing, benchmarks.

mod common;

use common::{data, json, medledger, shared};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples(dirty: bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("examples/claims"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("dirty-")
                == dirty
        })
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

fn pyx12_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pyx12"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("MEDLEDGER_REQUIRE_PYX12").as_deref() != Ok("1"),
            "MEDLEDGER_REQUIRE_PYX12=1 but pyx12 is not installed"
        );
        eprintln!("!!! pyx12 not installed: the independent X12 validation is skipped");
    }
    ok
}

#[test]
fn export_837_of_the_examples_is_valid_x12() {
    let dir = tempfile::tempdir().unwrap();
    let files = examples(false);
    assert!(files.len() >= 20, "{files:?}");
    let out = dir.path().join("claims.837");
    let mut args = vec!["claim", "export-837"];
    args.extend(files.iter().map(String::as_str));
    args.extend([
        "--out",
        out.to_str().unwrap(),
        "--control-number",
        "4711",
        "--json",
    ]);
    let v = json(&medledger(dir.path(), &args));
    assert_eq!(v["claims"], files.len());
    assert!(
        v["institutional"].as_u64().unwrap() >= 2 && v["professional"].as_u64().unwrap() >= 15,
        "{v}"
    );
    // our reader: one interchange, control numbers and counts consistent, every claim there
    let bytes = std::fs::read(&out).unwrap();
    let ics = medledger_x12::parse_strict(&bytes).unwrap();
    assert_eq!(ics.len(), 1);
    assert_eq!(ics[0].isa.control_number, "000004711");
    let claims = medledger_x12::parse_837(&bytes).unwrap();
    assert_eq!(claims.len(), files.len());
    // the independent validator
    if pyx12_available() {
        let o = std::process::Command::new("python3")
            .arg(repo().join("scripts/x12-validate.py"))
            .arg(&out)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "pyx12 found errors: {text}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            text.contains("\"ok\": true") && text.contains("\"errors\": []"),
            "{text}"
        );
    }
    // a structurally broken claim is refused with its id and the path of the problem
    let bad = examples(true)
        .into_iter()
        .find(|f| f.contains("dirty-diagnoses"))
        .unwrap();
    let o = medledger(
        dir.path(),
        &[
            "claim",
            "export-837",
            &bad,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stdout);
    assert!(
        e.contains("cannot be written") && e.contains("lines["),
        "{e}"
    );
}

#[test]
fn remit_dry_run_reports_claims_and_total_paid() {
    let dir = tempfile::tempdir().unwrap();
    let folder = shared().join("eval/x12/835");
    let mut seen = 0;
    for f in std::fs::read_dir(&folder).unwrap() {
        let path = f.unwrap().path();
        let v = json(&medledger(
            dir.path(),
            &[
                "remit",
                "import",
                path.to_str().unwrap(),
                "--dry-run",
                "--json",
            ],
        ));
        let bytes = std::fs::read(&path).unwrap();
        let remits = medledger_x12::parse_835(&bytes).unwrap();
        let clp: usize = bytes
            .split(|b| *b == b'~')
            .filter(|s| s.trim_ascii_start().starts_with(b"CLP"))
            .count();
        assert_eq!(v["claims"], clp, "{}", path.display());
        let paid: i64 = remits.iter().map(|r| r.total_paid_cents).sum();
        assert_eq!(v["total_paid_cents"], paid);
        assert!((v["total_paid"].as_f64().unwrap() * 100.0 - paid as f64).abs() < 0.5);
        assert_eq!(v["dry_run"], true);
        seen += 1;
    }
    assert!(seen >= 3);
    // hand-checked: managed-care.835 pays 945.00 over two claims
    let v = json(&medledger(
        dir.path(),
        &[
            "remit",
            "import",
            folder.join("managed-care.835").to_str().unwrap(),
            "--dry-run",
            "--json",
        ],
    ));
    assert_eq!(
        (v["claims"].as_u64(), v["total_paid_cents"].as_i64()),
        (Some(2), Some(94_500))
    );
    // nothing was written: a dry run opens no ledger
    assert!(!dir.path().join("ledger.sqlite3").exists());
}

#[test]
fn malformed_remit_is_refused_with_its_location_and_posts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(shared().join("eval/x12/835/managed-care.835")).unwrap();
    let i = src.find("CLP*").unwrap();
    // corrupt CLP04 (the paid amount) of the first claim
    let mut parts: Vec<String> = src[i..].splitn(6, '*').map(str::to_owned).collect();
    parts[4] = "45O.00".into();
    let bad = format!("{}{}", &src[..i], parts.join("*"));
    let f = dir.path().join("bad.835");
    std::fs::write(&f, bad).unwrap();
    for dry in [true, false] {
        let mut args = vec!["remit", "import", f.to_str().unwrap(), "--json"];
        if dry {
            args.push("--dry-run");
        }
        let o = medledger(dir.path(), &args);
        assert!(!o.status.success());
        let e = String::from_utf8_lossy(&o.stdout);
        assert!(
            e.contains("CLP") && e.contains("element 4") && e.contains("45O.00"),
            "{e}"
        );
    }
    // the failed import opened no ledger: nothing posted
    assert!(!dir.path().join("ledger.sqlite3").exists());
}

fn run(data: &Path, extra: &[&str], args: &[&str]) -> serde_json::Value {
    let mut all: Vec<&str> = extra.to_vec();
    all.extend_from_slice(args);
    json(&medledger(data, &all))
}

#[test]
fn build_a_claim_from_an_encounter_export_it_and_post_the_payment() {
    let tmp = tempfile::tempdir().unwrap();
    // a private copy of the installed code sets: this test writes keys and a ledger
    let d = tmp.path().join("data");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(data())
        .arg(&d)
        .status()
        .unwrap();
    assert!(status.success());
    let db = tmp.path().join("ledger.sqlite3");
    // the master key is created (0600) in the private data directory on first use
    let g = ["--db", db.to_str().unwrap()];
    run(
        &d,
        &g,
        &[
            "user",
            "add",
            "cora",
            "--credential",
            "CPC",
            "--role",
            "coder",
            "--json",
        ],
    );
    run(
        &d,
        &g,
        &["user", "add", "bill", "--role", "biller", "--json"],
    );
    let note = tmp.path().join("note.txt");
    std::fs::write(&note, "Assessment: essential hypertension, well controlled. Type 2 diabetes mellitus without complications.\nPlan: continue lisinopril.").unwrap();
    let added = run(
        &d,
        &g,
        &[
            "encounter",
            "add",
            note.to_str().unwrap(),
            "--patient-name",
            "Claim Test",
            "--patient-dob",
            "1950-01-02",
            "--dos",
            "2026-03-02",
            "--json",
        ],
    );
    let enc = added["encounter"].as_i64().unwrap();
    let sugg = added["suggestions"].as_array().unwrap();
    assert!(!sugg.is_empty(), "{added}");
    // not finalised yet: no claim
    let template = repo().join("examples/claims/office-visit-established.json");
    let o = medledger(
        &d,
        &[
            &g[..],
            &[
                "--as",
                "bill",
                "claim",
                "build",
                &enc.to_string(),
                "--template",
                template.to_str().unwrap(),
                "--json",
            ],
        ]
        .concat(),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stdout).contains("not finalised"));
    let mut accepted = Vec::new();
    for s in sugg {
        let id = s["id"].as_i64().unwrap().to_string();
        let r = run(&d, &g, &["--as", "cora", "review", "accept", &id, "--json"]);
        accepted.push(s["code"].as_str().unwrap().replace('.', ""));
        if !r["finalised"].is_null() {
            break;
        }
    }
    let listed = run(
        &d,
        &g,
        &["review", "list", "--status", "finalised", "--json"],
    );
    assert_eq!(listed[0]["encounter"], enc, "{listed}");
    // a coder may not build claims
    let o = medledger(
        &d,
        &[
            &g[..],
            &[
                "--as",
                "cora",
                "claim",
                "build",
                &enc.to_string(),
                "--template",
                template.to_str().unwrap(),
                "--json",
            ],
        ]
        .concat(),
    );
    assert!(!o.status.success());
    let claim_json = tmp.path().join("claim.json");
    let built = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "claim",
            "build",
            &enc.to_string(),
            "--template",
            template.to_str().unwrap(),
            "--out",
            claim_json.to_str().unwrap(),
            "--json",
        ],
    );
    let pcn = built["control_number"].as_str().unwrap().to_owned();
    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&claim_json).unwrap()).unwrap();
    let dx: Vec<&str> = body["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(
        dx.iter().all(|c| accepted.iter().any(|a| a == c)),
        "{dx:?} vs {accepted:?}"
    );
    assert_eq!(body["lines"][0]["date_from"], "2026-03-02");
    assert_eq!(body["encounter"], enc);
    // export it
    let x837 = tmp.path().join("out.837");
    let v = run(
        &d,
        &[],
        &[
            "claim",
            "export-837",
            claim_json.to_str().unwrap(),
            "--out",
            x837.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(v["claims"], 1);
    // the payer pays: an 835 quoting our control number
    let charge = built["total_charge_cents"].as_i64().unwrap();
    let remit = format!(
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*MEDLEDGER      *260310*1200*^*00501*000000031*0*T*:~\
GS*HP*PAYER*MEDLEDGER*20260310*1200*31*X*005010X221A1~ST*835*0001~BPR*I*80*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999999999*DA*654321*20260310~\
TRN*1*EFT0001*1512345678~DTM*405*20260310~N1*PR*ACME HEALTH~N3*1 PAYER WAY~N4*SPRINGFIELD*IL*627011234~N1*PE*RIVERBEND FAMILY MEDICINE*XX*1900000013~\
CLP*{pcn}*1*{}*80*20*12*PAYERCLAIM1~CAS*CO*45*{}~CAS*PR*2*20~NM1*QC*1*TEST*CLAIM~SE*13*0001~GE*1*31~IEA*1*000000031~",
        medledger_x12::format_cents(charge),
        medledger_x12::format_cents(charge - 10_000),
    );
    let rf = tmp.path().join("pay.835");
    std::fs::write(&rf, remit).unwrap();
    // a coder may not post money
    assert!(
        !medledger(
            &d,
            &[
                &g[..],
                &[
                    "--as",
                    "cora",
                    "remit",
                    "import",
                    rf.to_str().unwrap(),
                    "--json"
                ]
            ]
            .concat()
        )
        .status
        .success()
    );
    let posted = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "remit",
            "import",
            rf.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(posted["claims"], 1, "{posted}");
    assert_eq!(posted["unmatched"].as_array().unwrap().len(), 0, "{posted}");
    let p = &posted["posted"][0];
    assert_eq!(
        (
            p["paid_cents"].as_i64(),
            p["patient_responsibility_cents"].as_i64()
        ),
        (Some(8_000), Some(2_000)),
        "{posted}"
    );
    assert_eq!(p["status"], "paid");
    // an unknown claim is reported, not posted
    let other = std::fs::read_to_string(&rf)
        .unwrap()
        .replace(&format!("CLP*{pcn}*"), "CLP*NOT-OURS*");
    std::fs::write(&rf, other).unwrap();
    let posted = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "remit",
            "import",
            rf.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(posted["unmatched"][0], "NOT-OURS");
    // the acknowledgement sample parses; a dry run records nothing
    let ca = std::fs::read_dir(shared().join("eval/x12/277CA"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let v = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "ack",
            "import",
            ca.to_str().unwrap(),
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(v["ack"]["type"], "277CA");
    assert_eq!(v["recorded"], 0);
    let ack999 = std::fs::read_dir(shared().join("eval/x12/999"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let v = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "ack",
            "import",
            ack999.to_str().unwrap(),
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(v["ack"]["type"], "999");
    assert!(
        !v["ack"]["transaction_sets"].as_array().unwrap().is_empty(),
        "{v}"
    );
    // the trail holds the claim events and verifies
    let a = run(&d, &g, &["audit", "verify", "--json"]);
    assert_eq!(a["ok"], true, "{a}");
}

#[test]
fn scrub_reports_findings_and_can_fail_on_reject() {
    // dirty-ncci-mue needs the NCCI PTP and MUE tables, which ../shared does
    // not carry (the claims crate's tests cover it on fixture tables)
    let dirty: Vec<String> = examples(true)
        .into_iter()
        .filter(|f| !f.contains("ncci-mue"))
        .collect();
    let mut args = vec!["claim", "scrub"];
    args.extend(dirty.iter().map(String::as_str));
    args.extend(["--today", "2026-07-01", "--json"]);
    let v = json(&medledger(data(), &args));
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), dirty.len());
    assert!(claims.iter().all(|c| c["clean"] == false), "{v}");
    for c in claims {
        for f in c["findings"].as_array().unwrap() {
            for k in [
                "edit_id",
                "severity",
                "message",
                "location",
                "suggested_fix",
                "source",
            ] {
                assert!(f.get(k).is_some(), "{k} missing in {f}");
            }
        }
    }
    let mut args2 = vec![
        "claim",
        "scrub",
        dirty[0].as_str(),
        "--today",
        "2026-07-01",
        "--fail-on-reject",
    ];
    let o = medledger(data(), &args2);
    assert_eq!(o.status.code(), Some(2));
    // clean examples are clean
    let clean = examples(false);
    args2 = vec!["claim", "scrub"];
    args2.extend(clean.iter().map(String::as_str));
    args2.extend(["--today", "2026-07-01", "--json"]);
    let v = json(&medledger(data(), &args2));
    let dirty_clean: Vec<&serde_json::Value> = v["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["clean"] != true)
        .collect();
    assert!(dirty_clean.is_empty(), "{dirty_clean:?}");
}

#[test]
fn bench_claims_reports_all_three_rates() {
    let x12 = std::fs::read_dir(shared().join("eval/x12/837P"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let v = json(&medledger(
        data(),
        &[
            "bench",
            "claims",
            repo().join("examples/claims").to_str().unwrap(),
            "--rounds",
            "20",
            "--x12",
            x12.to_str().unwrap(),
            "--json",
        ],
    ));
    assert!(v["scrub_lines_per_second"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["write_claims_per_second"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["x12"]["mb_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["scrub_lines"].as_u64().unwrap() >= 20 * 30);
}
