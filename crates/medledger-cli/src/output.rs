//! Text and JSON output of every command.

use anyhow::Result;
use medledger_codesets::engine::{CodeDetail, MapResult, PtpAnswer, Validation};
use medledger_codesets::lookup::LookupResult;
use medledger_codesets::search::SearchHit;
use medledger_codesets::store::Manifest;
use medledger_codesets::{Date, Engine, InstallReport, normalize};
use serde::Serialize;

fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn install_report(r: &InstallReport, json: bool) -> Result<()> {
    if json {
        return print_json(r);
    }
    println!(
        "Installed into {} in {:.1} s",
        r.data_dir.display(),
        r.seconds
    );
    for c in &r.installed {
        let from = c
            .effective_from
            .map(|d| format!(" from {d}"))
            .unwrap_or_default();
        println!("  + {:<40} {:>8} items{from}", c.id, c.items);
    }
    for id in &r.unchanged {
        println!("  = {id} (unchanged)");
    }
    println!(
        "  {} published checksums verified; search index: {} documents",
        r.checksums_verified, r.search_documents
    );
    // Group skipped files by folder and reason: a release directory can hold
    // dozens of files that are not code-set releases (HCC, DRG tables).
    let mut groups: Vec<(String, &str, usize)> = Vec::new();
    for (file, why) in &r.skipped {
        let folder = file
            .split_once('/')
            .map(|(d, _)| format!("{d}/"))
            .unwrap_or_default();
        match groups
            .iter_mut()
            .find(|(f, w, _)| *f == folder && *w == why.as_str())
        {
            Some(g) => g.2 += 1,
            None => groups.push((folder, why.as_str(), 1)),
        }
    }
    for (folder, why, n) in groups {
        let what = if n == 1 {
            "1 file".to_string()
        } else {
            format!("{n} files")
        };
        let place = if folder.is_empty() {
            String::new()
        } else {
            format!(" in {folder}")
        };
        println!("  - skipped {what}{place}: {why}");
    }
    for c in &r.checks {
        println!("  ✓ {c}");
    }
    for w in &r.warnings {
        println!("  ! {w}");
    }
    Ok(())
}

pub fn manifest(m: &Manifest, json: bool) -> Result<()> {
    if json {
        return print_json(m);
    }
    for c in &m.components {
        let from = c
            .effective_from
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<44} release {:<10} from {:<10} {:>8} items",
            c.id, c.release, from, c.items
        );
    }
    if let Some(s) = &m.search {
        println!(
            "search index: {} documents from {}",
            s.documents,
            s.built_from.join(", ")
        );
    }
    Ok(())
}

pub fn verify(results: &[(String, bool)], json: bool) -> Result<()> {
    if json {
        let v: Vec<_> = results
            .iter()
            .map(|(f, ok)| serde_json::json!({"file": f, "ok": ok}))
            .collect();
        return print_json(&v);
    }
    for (f, ok) in results {
        println!("{} {f}", if *ok { "ok " } else { "BAD" });
    }
    Ok(())
}

pub fn detail(d: &CodeDetail, json: bool) -> Result<()> {
    if json {
        return print_json(d);
    }
    let billable = match (d.system, d.billable) {
        (medledger_codesets::System::Icd11, true) => "leaf",
        (medledger_codesets::System::Icd11, false) => "has subcategories",
        (_, true) => "billable",
        (_, false) => "not billable",
    };
    println!("{} ({}) {} — {}", d.code, d.system, d.title, billable);
    if let Some(r) = &d.release {
        println!("  release {} ({})", r.id, r.release);
    }
    for p in &d.parents {
        println!("  in {:<12} {}", p.code, p.title);
    }
    for t in &d.inclusion_terms {
        println!("  inclusion: {t}");
    }
    for n in &d.notes {
        for t in n.texts.iter() {
            println!("  {} [{}]: {t}", n.label, n.from);
        }
    }
    if !d.seventh_characters.is_empty() {
        println!(
            "  7th characters (from {}):",
            d.seventh_from.as_deref().unwrap_or("")
        );
        for s in &d.seventh_characters {
            println!("    {} {}", s.character, s.meaning);
        }
    }
    if let Some(p) = &d.placeholder {
        println!("  placeholder: {p}");
    }
    for c in d.children.iter().take(30) {
        println!("  > {:<10} {}", c.code, c.title);
    }
    if let Some(h) = &d.hcpcs {
        println!(
            "  short: {}; coverage {}; added {:?}; terminated {:?}",
            h.short_desc,
            h.coverage_text(),
            h.added,
            h.terminated
        );
    }
    if let Some(m) = &d.icd11 {
        map_lines(m);
    }
    for w in &d.warnings {
        println!("  ! {w}");
    }
    Ok(())
}

pub fn hits(hits: &[SearchHit], json: bool) -> Result<()> {
    if json {
        return print_json(hits);
    }
    for h in hits {
        let b = if h.billable { " " } else { "*" };
        println!(
            "{:<8} {:<10}{b} {:>7.2}  {}",
            h.system.as_str(),
            h.code,
            h.score,
            h.title
        );
    }
    if hits.iter().any(|h| !h.billable) {
        println!(
            "(* not billable as is: a header, a code that needs a 7th character, an ICD-11 non-leaf, or a terminated HCPCS code)"
        );
    }
    Ok(())
}

pub fn validations(v: &[Validation], json: bool) -> Result<()> {
    if json {
        return print_json(v);
    }
    for r in v {
        let mark = if r.valid { "VALID  " } else { "INVALID" };
        println!("{mark} {:<10} {} — {}", r.code, r.reason, r.message);
        if !r.completions.is_empty() {
            let more = if r.completions_total > r.completions.len() {
                format!(" … ({} in all)", r.completions_total)
            } else {
                String::new()
            };
            println!("        completions: {}{more}", r.completions.join(" "));
        }
        for w in &r.warnings {
            println!("        ! {w}");
        }
    }
    Ok(())
}

fn map_lines(m: &MapResult) {
    println!("  {} map ({}):", m.to_system, m.maps_version);
    if let Some(p) = &m.primary {
        println!(
            "    -> {} {} [{}]",
            p.code.as_deref().unwrap_or("(block)"),
            p.title,
            m.equivalence.as_deref().unwrap_or("no equivalence given")
        );
    }
    for c in &m.choices {
        println!(
            "    ?  {} {}",
            c.code.as_deref().unwrap_or("(block)"),
            c.title
        );
    }
    println!("    {}", m.note);
    println!("    {}", m.attribution);
}

pub fn map(m: &MapResult, json: bool) -> Result<()> {
    if json {
        return print_json(m);
    }
    println!("{} ({})", m.from, m.from_system);
    map_lines(m);
    Ok(())
}

pub fn lookup(r: &LookupResult, json: bool) -> Result<()> {
    if json {
        return print_json(r);
    }
    println!("{} index FY{}", r.index.as_str(), r.index_release);
    for s in &r.path {
        let indent = "  ".repeat(s.level as usize + 1);
        let code = s
            .code
            .as_deref()
            .map(|c| format!("  {c}"))
            .unwrap_or_default();
        let implied = if s.implied { " (implied)" } else { "" };
        println!("{indent}{}{implied}{code}", s.term);
    }
    for f in &r.followed {
        println!("  see: {f}");
    }
    for c in &r.cells {
        println!("  {:<40} {}", c.column, c.code);
    }
    match &r.code {
        Some(c) => {
            let manif = r
                .manifestation
                .as_deref()
                .map(|m| format!(" [{m}]"))
                .unwrap_or_default();
            println!("=> {c}{manif}");
        }
        None => println!("=> no code at this level"),
    }
    if let Some(v) = &r.validation {
        println!("   tabular check: {} — {}", v.reason, v.message);
    }
    for u in &r.unmatched {
        println!("  ! no subterm matches {u:?}");
    }
    if !r.subterms.is_empty() {
        println!("  subterms: {}", r.subterms.join("; "));
    }
    Ok(())
}

pub fn ptp(a: &PtpAnswer, json: bool) -> Result<()> {
    if json {
        return print_json(a);
    }
    println!("{}", a.message);
    for (table, e) in &a.edits {
        let del = e
            .deleted
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "  {table}: {} / {} effective {} deleted {del} modifier {} ({})",
            e.column1, e.column2, e.effective, e.modifier_indicator, e.rationale
        );
    }
    Ok(())
}

pub fn mue(engine: &Engine, code: &str, json: bool) -> Result<()> {
    let key = normalize::key(code);
    let tables = engine.mue_tables()?;
    if tables.is_empty() {
        anyhow::bail!("no NCCI MUE table installed");
    }
    let found: Vec<_> = tables
        .iter()
        .filter_map(|(m, t)| t.get(&key).map(|e| (m.id.clone(), e.clone())))
        .collect();
    if json {
        return print_json(
            &serde_json::json!({ "code": key, "mue": found.iter().map(|(id, e)| serde_json::json!({"table": id, "entry": e})).collect::<Vec<_>>() }),
        );
    }
    if found.is_empty() {
        println!("{key}: no MUE in the installed tables");
    }
    for (id, e) in found {
        println!(
            "{id}: {key} at most {} units (MAI {} {}; {})",
            e.value, e.adjudication_indicator, e.adjudication_text, e.rationale
        );
    }
    Ok(())
}

pub fn aoc(engine: &Engine, code: &str, dos: Option<Date>, json: bool) -> Result<()> {
    let key = normalize::key(code);
    let Some((meta, t)) = engine.aoc_table()? else {
        anyhow::bail!("no NCCI add-on code table installed")
    };
    let dos = dos.unwrap_or_else(|| jiff::Zoned::now().date());
    let edits: Vec<_> = t.primaries_for(&key, dos).into_iter().cloned().collect();
    if json {
        return print_json(
            &serde_json::json!({ "code": key, "table": meta.id, "is_addon": t.is_addon(&key), "dos": dos, "primaries": edits }),
        );
    }
    if !t.is_addon(&key) {
        println!("{key} is not an add-on code in {}", meta.id);
        return Ok(());
    }
    println!(
        "{key}: add-on code (type {}), {} primary codes active on {dos}",
        edits.first().map(|e| e.edit_type).unwrap_or(0),
        edits.len()
    );
    let list: Vec<&str> = edits.iter().map(|e| e.primary_code.as_str()).collect();
    println!("  {}", list.join(" "));
    Ok(())
}
