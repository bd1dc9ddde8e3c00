//! Independent validation: 60 generated claims (professional and
//! institutional, self and dependent patients, COB, prior authorisations,
//! replacements and voids, date ranges, NDCs, providers, punctuation to
//! sanitise) written as several interchanges and checked with pyx12 through
//! `scripts/x12-validate.py`. Without pyx12 the test is skipped loudly,
//! unless `MEDLEDGER_REQUIRE_PYX12=1` makes it fail.
//!
//! The throughput figure: `cargo test --release -p medledger-claims --test
//! x837_pyx12 -- --ignored --nocapture throughput`.

use std::path::{Path, PathBuf};
use std::process::Command;

use medledger_claims::model::{
    Address, Claim, ClaimKind, Diagnosis, Frequency, Institutional, OtherPayer, Payer, Person,
    Provider, Responsibility, ServiceLine, Subscriber,
};
use medledger_claims::x837::{Envelope, Receiver, Submitter, bench_write, check_claim, write_837};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A valid NPI from nine digits (Luhn check digit over the 80840 prefix).
fn npi(base: u32) -> String {
    let nine = format!("{:09}", base % 1_000_000_000);
    let digits: Vec<u32> = format!("80840{nine}")
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .collect();
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let v = if i % 2 == 0 { d * 2 } else { *d };
        sum += if v > 9 { v - 9 } else { v };
    }
    format!("{nine}{}", (10 - sum % 10) % 10)
}

const LAST: &[&str] = &[
    "Smith",
    "O'Neil-Smith, Jr.",
    "Müller",
    "D*Angelo",
    "Li:Wei",
    "Garcia~Lopez",
    "  de la Cruz  ",
    "Nguyen",
    "St. John",
    "Brown^II",
    "Ñuñez",
    "Okafor",
];
const FIRST: &[&str] = &[
    "Ann",
    "José",
    "Li",
    "Mary-Kate",
    "Zoë",
    "Omar",
    "Ed (Eddie)",
    "Sam*",
    "Kim",
];
const STREETS: &[&str] = &[
    "Main St",
    "Elm Ave.",
    "Oak Blvd #3",
    "Pine Rd*",
    "Cedar Ln: Rear",
    "Maple Way",
];
const CITIES: &[(&str, &str)] = &[
    ("Springfield", "IL"),
    ("St. Louis", "MO"),
    ("Coeur d'Alene", "ID"),
    ("Austin", "TX"),
    ("Portland", "OR"),
    ("Albany", "NY"),
];
const ICD: &[&str] = &[
    "E119", "I10", "J449", "M545", "R05", "Z0000", "E785", "K219", "F329", "N390", "S62101A",
    "G4733", "R51", "J069", "I2510", "E039", "M170", "L409", "H6590", "B349", "R0602", "Z23",
    "E6601", "K5900",
];
const CPT: &[&str] = &[
    "99213", "99214", "99203", "36415", "85025", "80053", "93000", "71046", "97110", "G0439",
    "81002", "90471",
];
const DRUGS: &[&str] = &["J3301", "J1885", "J0696", "J1100"];
const MODS: &[&str] = &[
    "25", "59", "LT", "RT", "76", "GT", "TC", "26", "XU", "QW", "95", "50",
];
const TAXONOMY: &[&str] = &[
    "207Q00000X",
    "208D00000X",
    "207R00000X",
    "363LF0000X",
    "261QP2300X",
];
const FILING: &[&str] = &["CI", "BL", "MB", "MC", "HM", "12"];
const POS: &[&str] = &["11", "22", "02", "19", "21", "23", "81"];
const REVENUE: &[&str] = &[
    "0300", "0301", "0450", "0636", "0250", "0730", "0320", "0120", "0360",
];

/// An address; the chances are percentages.
fn address(r: &mut Rng, two_lines: usize, zip9: usize) -> Address {
    let (two_lines, zip9) = (r.chance(two_lines), r.chance(zip9));
    let (city, state) = CITIES[r.below(CITIES.len())];
    let mut lines = vec![format!("{} {}", r.range(1, 9999), r.pick(STREETS))];
    if two_lines {
        lines.push(
            r.pick(&["Apt 4B", "Suite 200", "c/o Müller", "Bldg: C", "PO Box 12*"])
                .to_owned(),
        );
    }
    let zip = if zip9 {
        format!("{:05}-{:04}", r.range(10000, 99999), r.range(0, 9999))
    } else {
        format!("{:05}", r.range(10000, 99999))
    };
    Address {
        lines,
        city: city.into(),
        state: state.into(),
        zip,
    }
}

/// A person born between `from` and `from + span - 1`.
fn person(r: &mut Rng, from: usize, span: usize) -> Person {
    let year = from + r.below(span);
    Person {
        last_name: r.pick(LAST).into(),
        first_name: r.pick(FIRST).into(),
        dob: format!("{year}-{:02}-{:02}", r.range(1, 12), r.range(1, 28)),
        sex: r.pick(&["F", "M", "U"]).into(),
        address: None,
    }
}

fn doctor(r: &mut Rng, base: u32) -> Provider {
    Provider {
        npi: npi(base),
        last_or_org_name: r.pick(LAST).into(),
        first_name: Some(r.pick(FIRST).into()),
        taxonomy: if r.chance(70) {
            Some(r.pick(TAXONOMY).into())
        } else {
            None
        },
        tax_id: None,
        address: None,
    }
}

fn date(day: usize) -> String {
    let d = jiff::civil::date(2025, 1, 1) + jiff::Span::new().days(day as i64);
    d.to_string()
}

/// Claim `i` of a varied batch; `billing` picks one of a few billing providers.
fn claim(r: &mut Rng, i: usize) -> Claim {
    let institutional = i % 3 == 2;
    let kind = if institutional {
        ClaimKind::Institutional
    } else {
        ClaimKind::Professional
    };
    let billing_n = (i / 4) % 3;
    let billing = Provider {
        npi: npi(100_000_000 + billing_n as u32 * 7919),
        last_or_org_name: [
            "Riverside Clinic, P.C.",
            "St. Mary's Hospital",
            "Sunrise*Health: West",
        ][billing_n]
            .into(),
        first_name: None,
        taxonomy: if billing_n == 2 {
            None
        } else {
            Some(["207Q00000X", "282N00000X"][billing_n].into())
        },
        tax_id: Some(format!(
            "{:02}-{:07}",
            10 + billing_n,
            1_234_567 + billing_n
        )),
        address: Some(Address {
            lines: vec![format!("{} Hospital Dr", 100 + billing_n), "Suite 1".into()]
                [..1 + billing_n % 2]
                .to_vec(),
            city: "Springfield".into(),
            state: "IL".into(),
            zip: format!("6270{billing_n}1234"),
        }),
    };
    let self_patient = r.chance(55);
    let mut sub_person = person(r, 1950, 50);
    let relationship = if self_patient {
        "18".to_owned()
    } else {
        r.pick(&["01", "19", "G8", "20"]).to_owned()
    };
    let patient = if self_patient {
        sub_person.address = Some(address(r, 40, 0));
        None
    } else {
        if r.chance(50) {
            sub_person.address = Some(address(r, 0, 50));
        }
        let mut p = person(r, 2000, 20);
        p.address = Some(address(r, 40, 30));
        Some(p)
    };
    let secondary = r.chance(30);
    let tertiary = secondary && r.chance(30);
    let responsibility = if tertiary {
        Responsibility::Tertiary
    } else if secondary {
        Responsibility::Secondary
    } else {
        Responsibility::Primary
    };
    let mut other_payers = Vec::new();
    let others: &[Responsibility] = if tertiary {
        &[Responsibility::Primary, Responsibility::Secondary]
    } else if secondary {
        &[Responsibility::Primary]
    } else if r.chance(15) {
        &[Responsibility::Secondary] // a primary claim that names the secondary
    } else {
        &[]
    };
    for (k, resp) in others.iter().enumerate() {
        let mut op = person(r, 1960, 40);
        if r.chance(50) {
            op.address = Some(address(r, 30, 0));
        }
        other_payers.push(OtherPayer {
            responsibility: *resp,
            payer: Payer {
                id: format!("OP{:03}{k}", i),
                name: r
                    .pick(&[
                        "Medicare Part B",
                        "Blue Plan of the West",
                        "Acme Mutual & Co.",
                        "State Medicaid",
                    ])
                    .into(),
                filing_indicator: r.pick(FILING).into(),
            },
            subscriber: Subscriber {
                member_id: format!("OM{i:04}{k}X"),
                group_number: if r.chance(50) {
                    Some(format!("G-{}", r.range(100, 999)))
                } else {
                    None
                },
                person: op,
                relationship: r.pick(&["18", "01", "19", "G8"]).into(),
            },
            paid_cents: if *resp == Responsibility::Secondary && !tertiary && !secondary {
                None
            } else {
                Some(r.range(0, 50_000) as i64)
            },
        });
    }
    let max_dx = if institutional { 25 } else { 12 };
    let n_dx = if i.is_multiple_of(10) {
        max_dx
    } else {
        r.range(1, if institutional { 20 } else { 12 })
    };
    let mut diagnoses: Vec<Diagnosis> = Vec::new();
    while diagnoses.len() < n_dx {
        let code = if diagnoses.len() < ICD.len() {
            ICD[(i + diagnoses.len() * 7) % ICD.len()].to_owned()
        } else {
            format!("Z{:03}", diagnoses.len())
        };
        if diagnoses.iter().any(|d| d.code == code) {
            diagnoses.push(Diagnosis {
                code: format!("R{:03}", 100 + diagnoses.len()),
                poa: None,
            });
            continue;
        }
        diagnoses.push(Diagnosis {
            code,
            poa: if institutional && r.chance(80) {
                Some(r.pick(&["Y", "N", "U", "W", "1"]).into())
            } else {
                None
            },
        });
    }
    let n_lines = if i.is_multiple_of(7) {
        20
    } else {
        r.range(1, 12)
    };
    let start = r.range(0, 300);
    let claim_pos = r.pick(POS);
    let mut lines = Vec::new();
    for k in 0..n_lines {
        let drug = r.chance(12);
        let procedure = if drug {
            Some(r.pick(DRUGS).to_owned())
        } else if institutional && r.chance(25) {
            None // room and board: revenue code only
        } else {
            Some(r.pick(CPT).to_owned())
        };
        let n_mods = if procedure.is_some() {
            [0, 0, 0, 1, 1, 2, 3, 4][r.below(8)]
        } else {
            0
        };
        let mut modifiers: Vec<String> = Vec::new();
        while modifiers.len() < n_mods {
            let m = r.pick(MODS).to_owned();
            if !modifiers.contains(&m) {
                modifiers.push(m);
            }
        }
        let from = start + k / 3;
        let date_to = if r.chance(20) {
            Some(date(from + r.range(1, 5)))
        } else {
            None
        };
        let n_ptrs = r.range(1, n_dx.min(4));
        let mut ptrs: Vec<u8> = Vec::new();
        while ptrs.len() < n_ptrs {
            let p = r.range(1, n_dx) as u8;
            if !ptrs.contains(&p) {
                ptrs.push(p);
            }
        }
        lines.push(ServiceLine {
            procedure,
            modifiers,
            revenue_code: if institutional {
                Some(r.pick(REVENUE).into())
            } else {
                None
            },
            units: [1.0, 1.0, 2.0, 0.5, 1.25, 3.0, 10.0][r.below(7)],
            charge_cents: r.range(0, 250_000) as i64,
            date_from: date(from),
            date_to,
            place_of_service: if !institutional && r.chance(20) {
                Some(r.pick(POS).into())
            } else {
                None
            },
            diagnosis_pointers: if institutional && r.chance(50) {
                vec![]
            } else {
                ptrs
            },
            ndc: if drug {
                Some(format!("{:011}", r.next() % 100_000_000_000))
            } else {
                None
            },
        });
    }
    let frequency = [
        Frequency::Original,
        Frequency::Original,
        Frequency::Replacement,
        Frequency::Void,
    ][r.below(4)];
    let last_day = lines
        .iter()
        .map(|l| l.date_to.clone().unwrap_or_else(|| l.date_from.clone()))
        .max()
        .unwrap();
    let inst = institutional.then(|| {
        let inpatient = r.chance(50);
        Institutional {
            type_of_bill: r.pick(&["11", "13", "011", "131", "85", "71"]).into(),
            admission_date: if inpatient { Some(date(start)) } else { None },
            admission_hour: if inpatient && r.chance(60) {
                Some(format!("{:02}", r.range(0, 23)))
            } else {
                None
            },
            admission_type: if inpatient || r.chance(50) {
                Some(r.pick(&["1", "2", "3", "9"]).into())
            } else {
                None
            },
            admission_source: if inpatient {
                Some(r.pick(&["1", "2", "7", "D"]).into())
            } else {
                None
            },
            discharge_hour: if inpatient && r.chance(50) {
                Some(format!("{:02}", r.range(0, 23)))
            } else {
                None
            },
            patient_status: r.pick(&["01", "02", "06", "30", "20"]).into(),
            statement_from: date(start),
            statement_to: last_day.clone(),
            attending: if r.chance(80) {
                Some(doctor(r, 300_000_000 + i as u32))
            } else {
                None
            },
            drg: if inpatient && r.chance(70) {
                Some(r.pick(&["470", "871", "291", "0192"]).into())
            } else {
                None
            },
        }
    });
    Claim {
        id: format!(
            "{}{:05}-{}",
            if institutional { "UB" } else { "PC" },
            i,
            r.pick(&["A", "B7", "X-9"])
        ),
        kind,
        frequency,
        original_reference: (frequency != Frequency::Original)
            .then(|| format!("PAYERCCN{:08}", r.next() % 100_000_000)),
        encounter: Some(i as i64),
        billing_provider: billing,
        rendering_provider: if r.chance(50) {
            let mut d = doctor(r, 400_000_000 + i as u32);
            if !institutional && r.chance(20) {
                d.first_name = None; // an organisation renders
                d.last_or_org_name = "Group Practice*Associates".into();
            }
            Some(d)
        } else {
            None
        },
        referring_provider: if r.chance(35) {
            Some(doctor(r, 500_000_000 + i as u32))
        } else {
            None
        },
        payer: Payer {
            id: format!("PAY{:02}", i % 5),
            name: [
                "Acme Health",
                "Blue Plan: East",
                "Medicare*B",
                "Medicaid of Texas",
                "Ünited Care",
            ][i % 5]
                .into(),
            filing_indicator: FILING[i % FILING.len()].into(),
        },
        responsibility,
        subscriber: Subscriber {
            member_id: format!("M{:08}", 10_000 + i / 2),
            group_number: if r.chance(60) {
                Some(format!("GRP{}", r.range(1000, 9999)))
            } else {
                None
            },
            person: sub_person,
            relationship,
        },
        patient,
        other_payers,
        prior_authorization: if r.chance(30) {
            Some(format!("PA-{}", r.range(100_000, 999_999)))
        } else {
            None
        },
        place_of_service: if institutional {
            None
        } else {
            Some(claim_pos.into())
        },
        diagnoses,
        lines,
        institutional: inst,
    }
}

fn claims(n: usize, seed: u64) -> Vec<Claim> {
    let mut r = Rng(seed);
    let mut out: Vec<Claim> = (0..n).map(|i| claim(&mut r, i)).collect();
    // a run of claims for one subscriber, to share levels
    if n > 12 {
        let base = out[10].clone();
        for c in &mut out[11..13] {
            if c.kind == base.kind {
                c.subscriber = base.subscriber.clone();
                c.patient = base.patient.clone();
                c.payer = base.payer.clone();
                c.responsibility = base.responsibility;
                c.billing_provider = base.billing_provider.clone();
                c.other_payers
                    .retain(|o| o.responsibility != base.responsibility);
            }
        }
    }
    out
}

fn envelope(control: u32) -> Envelope {
    let mut env = Envelope::new(
        "MEDLEDGER",
        "CLEARINGHOUSE1",
        Submitter {
            name: "Medledger Billing Services, LLC".into(),
            id: "MLB0001".into(),
            contact_name: "EDI Desk".into(),
            phone: Some("555-555-0100".into()),
            email: if control.is_multiple_of(2) {
                Some("edi@medledger.example".into())
            } else {
                None
            },
        },
        Receiver {
            name: "Clearing House: Main".into(),
            id: "CH0001".into(),
        },
        jiff::civil::date(2026, 1, 2).at(3, 4, 0, 0),
    );
    env.interchange_control_number = control;
    env.group_control_number = control * 10;
    env.first_transaction_control_number = control * 100;
    env.batch_reference = format!("BATCH{control}");
    env.newline = control % 2 == 1;
    env
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/x12-validate.py")
}

/// Writes straight to the process's stderr, past the test harness's
/// capture, so a skip shows in every log.
fn loud(message: &str) {
    use std::io::Write;
    let bar = "=".repeat(72);
    let _ = writeln!(std::io::stderr().lock(), "\n{bar}\n{message}\n{bar}");
}

fn pyx12_available() -> bool {
    Command::new("python3")
        .args(["-c", "import pyx12"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn generated_claims_pass_pyx12() {
    let all = claims(60, 0x05ee_d837);
    for c in &all {
        assert!(check_claim(c).is_empty(), "{}: {:?}", c.id, check_claim(c));
    }
    // the batch covers what it should
    let inst = all
        .iter()
        .filter(|c| c.kind == ClaimKind::Institutional)
        .count();
    assert!(inst >= 15 && all.len() - inst >= 30);
    assert!(
        all.iter()
            .any(|c| c.patient.is_some() && c.subscriber.relationship != "18")
    );
    assert!(all.iter().any(|c| c.other_payers.len() == 2));
    assert!(all.iter().any(|c| c.frequency == Frequency::Void));
    assert!(all.iter().any(|c| c.frequency == Frequency::Replacement));
    assert!(all.iter().any(|c| c.lines.iter().any(|l| l.ndc.is_some())));
    assert!(all.iter().any(|c| c.lines.len() == 20));
    assert!(
        all.iter()
            .any(|c| c.diagnoses.len() == 12 && c.kind == ClaimKind::Professional)
    );
    assert!(all.iter().any(|c| c.diagnoses.len() == 25));
    assert!(
        all.iter()
            .any(|c| c.lines.iter().any(|l| l.modifiers.len() == 4))
    );

    // MEDLEDGER_X837_OUT=DIR keeps the files there for a look
    let tmp = tempfile::tempdir().unwrap();
    let dir =
        std::env::var_os("MEDLEDGER_X837_OUT").map_or_else(|| tmp.path().to_owned(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    // interchanges of different shapes: mixed, professional only,
    // institutional only, one claim, everything
    let prof: Vec<Claim> = all
        .iter()
        .filter(|c| c.kind == ClaimKind::Professional)
        .cloned()
        .collect();
    let inst: Vec<Claim> = all
        .iter()
        .filter(|c| c.kind == ClaimKind::Institutional)
        .cloned()
        .collect();
    let batches: Vec<(&str, Vec<Claim>)> = vec![
        ("mixed-a", all[..20].to_vec()),
        ("mixed-b", all[20..45].to_vec()),
        ("mixed-c", all[45..].to_vec()),
        ("professional", prof),
        ("institutional", inst),
        ("single", all[..1].to_vec()),
        ("all", all.clone()),
    ];
    for (k, (name, batch)) in batches.iter().enumerate() {
        let bytes =
            write_837(batch, &envelope(k as u32 + 1)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = dir.join(format!("{name}.837"));
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }

    if !pyx12_available() {
        if std::env::var("MEDLEDGER_REQUIRE_PYX12").as_deref() == Ok("1") {
            panic!(
                "MEDLEDGER_REQUIRE_PYX12=1 but `python3 -c \"import pyx12\"` fails: python3 -m pip install pyx12==4.0.0"
            );
        }
        loud(
            "SKIPPED generated_claims_pass_pyx12: pyx12 is not installed, the 837 files were NOT validated.\n\
             Install it with: python3 -m pip install pyx12==4.0.0\n\
             (MEDLEDGER_REQUIRE_PYX12=1 makes this a failure)",
        );
        return;
    }
    let out = Command::new("python3")
        .arg(script())
        .args(&files)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        checked += 1;
        let errors = v["errors"].as_array().map_or(0, Vec::len);
        if v["ok"] != serde_json::Value::Bool(true) || errors > 0 {
            failures.push(line.to_owned());
        }
    }
    assert!(
        failures.is_empty(),
        "pyx12 found errors:\n{}\nstderr: {}",
        failures.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        checked,
        files.len(),
        "one result per file; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "exit status {:?}", out.status);
}

/// pyx12 really rejects broken files through the script (so a pass means something).
#[test]
fn pyx12_rejects_a_broken_file() {
    if !pyx12_available() {
        loud(
            "SKIPPED pyx12_rejects_a_broken_file: pyx12 is not installed (python3 -m pip install pyx12==4.0.0)",
        );
        if std::env::var("MEDLEDGER_REQUIRE_PYX12").as_deref() == Ok("1") {
            panic!("MEDLEDGER_REQUIRE_PYX12=1 but pyx12 is missing");
        }
        return;
    }
    let all = claims(3, 7);
    let good = String::from_utf8(write_837(&all, &envelope(9)).unwrap()).unwrap();
    // a wrong SE01
    let bad = good.replacen("\nSE*", "\nSE*9", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.837");
    std::fs::write(&path, bad).unwrap();
    let out = Command::new("python3")
        .arg(script())
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(v["ok"], serde_json::Value::Bool(false));
    assert!(!v["errors"].as_array().unwrap().is_empty());
}

/// This thread's time on a CPU (Linux), to tell the writer's speed from a
/// busy machine's.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Claims a second over `repeats` runs of `rounds` interchanges: (median, best).
fn measure(batch: &[Claim], rounds: usize, repeats: usize) -> (f64, f64) {
    let mut rates: Vec<f64> = (0..repeats)
        .map(|_| {
            let (n, secs) = bench_write(batch, rounds).unwrap();
            n as f64 / secs
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], rates[rates.len() - 1])
}

/// Claims written per second (run in release; see the module docs). Two
/// mixes: the varied batch of the pyx12 test (1 to 20 lines, up to 25
/// diagnoses) and a typical one (1 to 4 lines, up to 4 diagnoses). Each
/// figure is the median and the best of 7 runs of 20 interchanges of 1,000
/// claims; the on-CPU share tells a busy machine from a slow writer.
#[test]
#[ignore = "throughput figure; run in release"]
fn throughput() {
    let varied = claims(1000, 42);
    let typical: Vec<Claim> = varied
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut c = c.clone();
            c.lines.truncate(1 + i % 4);
            c.diagnoses.truncate(4);
            for l in &mut c.lines {
                l.diagnosis_pointers.retain(|&p| p <= 4);
                if l.diagnosis_pointers.is_empty() && c.kind == ClaimKind::Professional {
                    l.diagnosis_pointers.push(1);
                }
            }
            c
        })
        .collect();
    let (n, _) = bench_write(&varied, 1).unwrap(); // warm-up
    assert_eq!(n, 1000);
    for (name, batch) in [("varied", &varied), ("typical", &typical)] {
        let lines = batch.iter().map(|c| c.lines.len()).sum::<usize>() as f64 / batch.len() as f64;
        let bytes = write_837(batch, &envelope(1)).unwrap().len() as f64 / batch.len() as f64;
        let wall0 = std::time::Instant::now();
        let cpu0 = thread_cpu_seconds();
        let (median, best) = measure(batch, 20, 7);
        let on_cpu = match (cpu0, thread_cpu_seconds()) {
            (Some(a), Some(b)) => {
                format!("{:.0}%", 100.0 * (b - a) / wall0.elapsed().as_secs_f64())
            }
            _ => "unknown".into(),
        };
        eprintln!(
            "x837 throughput, {name} claims ({lines:.1} lines, {bytes:.0} bytes a claim): \
             median {median:.0} claims/s, best {best:.0} claims/s (on a CPU {on_cpu} of the time)"
        );
    }
    // how much of it is checking (Claim::validate and the 837's own checks)
    let start = std::time::Instant::now();
    let mut problems = 0;
    for _ in 0..20 {
        for c in &varied {
            problems += std::hint::black_box(check_claim(c)).len();
        }
    }
    assert_eq!(problems, 0);
    eprintln!(
        "x837 checks alone (Claim::validate and the 837's own), varied claims: {:.0} claims/s",
        20_000.0 / start.elapsed().as_secs_f64()
    );
}
