//! `medledger report` through the binary: reports over a serialized
//! history (compared with the library's figures), over a ledger with one
//! claim built, paid and reported, the prior-authorisation register and
//! the gold card, role checks, charts, and the bench command.

mod common;

use common::{data, json, medledger};
use medledger_analytics::metrics::clean_claims;
use medledger_analytics::spec::{GroupBy, Spec, parse_day};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(d: &Path, g: &[&str], args: &[&str]) -> serde_json::Value {
    json(&medledger(d, &[g, args].concat()))
}

#[test]
fn reports_over_a_serialized_history_match_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let h = medledger_analytics::bench::synthetic(20_000, 3);
    let file = tmp.path().join("history.json");
    std::fs::write(&file, serde_json::to_string(&h).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let v = run(
        tmp.path(),
        &[],
        &[
            "report",
            "clean-claims",
            "--history",
            f,
            "--by",
            "payer",
            "--as-of",
            "2026-01-01",
            "--json",
        ],
    );
    let spec = Spec {
        by: GroupBy::Payer,
        ..Spec::all(parse_day("x", "2026-01-01").unwrap())
    };
    let lib = clean_claims(&h, &spec);
    assert_eq!(v["groups"].as_array().unwrap().len(), lib.groups.len());
    assert_eq!(v["total"]["claims"], lib.total.claims);
    assert_eq!(v["total"]["clean"], lib.total.clean);
    assert_eq!(v["groups"][0]["key"], "PAYER00");

    let svg = tmp.path().join("d.svg");
    let png = tmp.path().join("d.png");
    let v = run(
        tmp.path(),
        &[],
        &[
            "report",
            "denials",
            "--history",
            f,
            "--by",
            "month",
            "--svg",
            svg.to_str().unwrap(),
            "--png",
            png.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(v["reasons"].as_array().unwrap().len() >= 5, "{v}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");

    let v = run(
        tmp.path(),
        &[],
        &[
            "report",
            "ar",
            "--history",
            f,
            "--as-of",
            "2025-03-01",
            "--json",
        ],
    );
    let buckets: i64 = v["total"]["aging_cents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .sum();
    assert_eq!(buckets, v["total"]["open_balance_cents"].as_i64().unwrap());

    // Text tables for people.
    let o = medledger(
        tmp.path(),
        &["report", "clean-claims", "--history", f, "--by", "week"],
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("clean 1st pass"));

    // Bad input names the flag; a broken file names the file.
    let o = medledger(
        tmp.path(),
        &["report", "ar", "--history", f, "--by", "fortnight"],
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--by"));
    std::fs::write(&file, "{\"claims\": [}").unwrap();
    let o = medledger(tmp.path(), &["report", "ar", "--history", f]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("history.json"));
}

#[test]
fn bench_command_times_every_report() {
    let tmp = tempfile::tempdir().unwrap();
    let v = run(
        tmp.path(),
        &[],
        &[
            "report",
            "bench",
            "--lines",
            "50000",
            "--generator",
            "synthetic",
            "--json",
        ],
    );
    assert_eq!(v["lines"], 50_000);
    assert_eq!(v["source"], "bench generator");
    assert_eq!(v["timings"].as_array().unwrap().len(), 16);
    assert!(v["peak_rss_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn ledger_reports_prior_auth_and_roles() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(data())
        .arg(&d)
        .status()
        .unwrap();
    assert!(status.success());
    let db = tmp.path().join("ledger.sqlite3");
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
            "Report Test",
            "--patient-dob",
            "1950-01-02",
            "--dos",
            "2026-03-02",
            "--json",
        ],
    );
    let enc = added["encounter"].as_i64().unwrap();
    let mut decided = 0;
    for s in added["suggestions"].as_array().unwrap() {
        let id = s["id"].as_i64().unwrap().to_string();
        let r = run(&d, &g, &["--as", "cora", "review", "accept", &id, "--json"]);
        decided += 1;
        if !r["finalised"].is_null() {
            break;
        }
    }
    let template = repo().join("examples/claims/office-visit-established.json");
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
            "--json",
        ],
    );
    let pcn = built["control_number"].as_str().unwrap().to_owned();
    let charge = built["total_charge_cents"].as_i64().unwrap();
    // Paid: 80.00, patient 20.00, the rest CO-45 (contractual).
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
    run(
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

    // A coder sees no reports.
    let o = medledger(
        &d,
        &[
            &g[..],
            &["--as", "cora", "report", "clean-claims", "--json"],
        ]
        .concat(),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stdout).contains("view_reports"));

    let v = run(
        &d,
        &g,
        &["--as", "bill", "report", "clean-claims", "--json"],
    );
    // One claim, never acknowledged, paid on first adjudication → clean 1/1.
    assert_eq!(
        (v["total"]["claims"].as_u64(), v["total"]["clean"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let v = run(&d, &g, &["--as", "bill", "report", "ar", "--json"]);
    let t = &v["total"];
    assert_eq!(t["charges_cents"].as_i64(), Some(charge));
    assert_eq!(t["paid_cents"].as_i64(), Some(8_000));
    assert_eq!(t["contractual_cents"].as_i64(), Some(charge - 10_000));
    // NCR = 80.00 / (charge − (charge − 100.00)) = 0.8; paid and closed → no A/R.
    assert!(
        (t["net_collection_rate"].as_f64().unwrap() - 0.8).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(t["open_claims"], 0);
    let v = run(&d, &g, &["--as", "bill", "report", "denials", "--json"]);
    assert_eq!(v["report"]["total"]["denied"], 0);

    // Drift: every decided suggestion was accepted → precision 1 in every family.
    let v = run(&d, &g, &["--as", "bill", "report", "drift", "--json"]);
    let weeks = v["weeks"].as_array().unwrap();
    assert!(!weeks.is_empty(), "{v}");
    let total: u64 = weeks
        .iter()
        .filter(|w| w["level"] != "category")
        .map(|w| w["decided"].as_u64().unwrap())
        .sum();
    assert_eq!(total, decided);
    assert!(
        weeks
            .iter()
            .all(|w| w["decided"] == 0 || w["precision"] == 1.0)
    );

    // Prior authorisations: add, decide, import, list, gold card.
    let a = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "report",
            "prior-auth",
            "add",
            "--payer",
            "ACME",
            "--program",
            "TX",
            "--provider",
            "1900000013",
            "--code",
            "72148",
            "--requested",
            "2026-02-01",
            "--json",
        ],
    );
    let id = a["id"].as_i64().unwrap().to_string();
    run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "report",
            "prior-auth",
            "decide",
            &id,
            "--approved",
            "--on",
            "2026-02-03",
            "--json",
        ],
    );
    let csv = tmp.path().join("pa.csv");
    let mut text = String::from("payer,program,provider,code,requested_on,decided_on,approved\n");
    for i in 0..5 {
        text += &format!(
            "ACME,TX,1900000013,72148,2026-03-0{},2026-03-20,{}\n",
            i + 1,
            i != 0
        );
    }
    std::fs::write(&csv, text).unwrap();
    let v = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "report",
            "prior-auth",
            "import",
            csv.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(v["imported"], 5);
    let list = run(
        &d,
        &g,
        &["--as", "bill", "report", "prior-auth", "list", "--json"],
    );
    assert_eq!(list.as_array().unwrap().len(), 6);
    let gc = run(
        &d,
        &g,
        &[
            "--as",
            "bill",
            "report",
            "gold-card",
            "--as-of",
            "2026-04-01",
            "--json",
        ],
    );
    let s = &gc["standings"][0];
    // Jul 1 2026 projection: 5 approved of 6 = 83.3 % < 90 %.
    assert_eq!(
        (
            s["projected"]["approved"].as_u64(),
            s["projected"]["denied"].as_u64()
        ),
        (Some(5), Some(1))
    );
    assert_eq!(s["projected"]["status"], "not_exempt");
    // A bad CSV names its line.
    std::fs::write(
        &csv,
        "payer,program,provider,code,requested_on\nACME,TX,1,72148,2026-13-01\n",
    )
    .unwrap();
    let o = medledger(
        &d,
        &[
            &g[..],
            &[
                "--as",
                "bill",
                "report",
                "prior-auth",
                "import",
                csv.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("line 2"));
}

#[test]
fn report_bench_times_every_report_over_simulated_claims() {
    let d = data();
    let v = json(&medledger(
        d,
        &["--json", "report", "bench", "--lines", "20000"],
    ));
    assert_eq!(v["source"], "simulator", "{v}");
    let lines = v["lines"].as_u64().unwrap();
    // whole claims: at least the lines asked for, a few percent more at most
    assert!((20_000..21_000).contains(&lines), "{v}");
    assert!(v["claims"].as_u64().unwrap() < lines, "{v}");
    let timings = v["timings"].as_array().unwrap();
    assert_eq!(timings.len(), 16, "{v}");
    assert!(timings.iter().all(|t| t["millis"].as_f64().unwrap() >= 0.0));
    let out = medledger(d, &["report", "bench", "--generator", "lottery"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected simulator or synthetic"));
}
