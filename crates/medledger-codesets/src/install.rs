//! `codesets install`: find release files in a directory (loose or zipped,
//! laid out as the publishers ship them), verify them, parse them, and
//! swap them into the data directory in one atomic step.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Position, Result};
use crate::icd10cm::index::{IndexTree, parse_index};
use crate::icd10cm::order::parse_order;
use crate::icd10cm::tabular::{Tabular, parse_tabular};
use crate::icd11::{MapFile, WhoMaps};
use crate::store::{
    self, ComponentKind, ComponentMeta, Manifest, SNAPSHOT_FORMAT, SearchMeta, SourceFile,
};
use crate::{Date, cpt, hcpcs, icd10cm, icd11, ncci, search};

/// Reports progress of long work; the CLI draws it with indicatif.
pub trait Progress: Sync {
    /// A new stage with a total amount of work (bytes or items).
    fn stage(&self, label: &str, total: u64);
    fn advance(&self, amount: u64);
    fn finish_stage(&self);
}

/// Progress that goes nowhere (tests, library use).
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish_stage(&self) {}
}

#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Directory holding release files (zipped or extracted).
    pub from: PathBuf,
    /// A licensed CPT file supplied by the user.
    pub cpt: Option<PathBuf>,
    /// Reinstall components even when their source files are unchanged.
    pub force: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub data_dir: PathBuf,
    /// Components written by this install.
    pub installed: Vec<ComponentMeta>,
    /// Components whose source files were already installed unchanged.
    pub unchanged: Vec<String>,
    /// Files found but not used, with the reason.
    pub skipped: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// Cross-checks between releases (order file against the tabular).
    pub checks: Vec<String>,
    /// Files whose published checksum was verified.
    pub checksums_verified: usize,
    pub search_documents: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Tabular,
    Index,
    Order,
    HcpcsZip,
    HcpcsTxt,
    Icd11Zip,
    Icd11Txt,
    Map(MapFile),
    Ptp,
    Mue,
    Aoc,
}

struct SourceBytes {
    /// Path relative to the install directory; `a.zip!member` for members.
    rel: String,
    kind: Found,
    bytes: Vec<u8>,
    sha256: String,
    verified: bool,
}

/// Reads what a file is from its name and first bytes.
fn classify(name: &str, head: &[u8]) -> Option<Found> {
    let lower = name.to_ascii_lowercase();
    let base = lower
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(&lower)
        .to_string();
    let head = String::from_utf8_lossy(&head[..head.len().min(2048)]).into_owned();
    if base.ends_with(".xml") {
        if head.contains("<ICD10CM.tabular") {
            return Some(Found::Tabular);
        }
        if head.contains("<ICD10CM.index") {
            return Some(Found::Index);
        }
        return None;
    }
    if let Some(kind) = icd11::classify_map_file(&base) {
        return Some(Found::Map(kind));
    }
    let is_ptp = base.starts_with("ccipra") || base.starts_with("ccioph") || base.contains("ptp");
    if base.ends_with(".zip") {
        return None;
    }
    if base.ends_with(".txt") {
        if base.contains("order") && (base.contains("icd10cm") || base.contains("icd-10-cm")) {
            return Some(Found::Order);
        }
        if base.contains("anweb") {
            return Some(Found::HcpcsTxt);
        }
        if base.starts_with("simpletabulation") {
            return Some(Found::Icd11Txt);
        }
        if is_ptp {
            return Some(Found::Ptp);
        }
        if base.contains("mue") {
            return Some(Found::Mue);
        }
        if base.starts_with("aoc") {
            return Some(Found::Aoc);
        }
        return None;
    }
    if base.ends_with(".csv") || base.ends_with(".xlsx") {
        if base.contains("mue") {
            return Some(Found::Mue);
        }
        if base.starts_with("aoc") {
            return Some(Found::Aoc);
        }
        if is_ptp && base.ends_with(".csv") {
            return Some(Found::Ptp);
        }
    }
    None
}

/// Published checksums: every `SHA256SUMS` file in the tree, keyed by the
/// path relative to the install directory.
fn published_checksums(from: &Path) -> BTreeMap<String, String> {
    let mut sums = BTreeMap::new();
    for entry in walkdir::WalkDir::new(from)
        .max_depth(3)
        .into_iter()
        .flatten()
    {
        if entry.file_name() != "SHA256SUMS" {
            continue;
        }
        let dir = entry.path().parent().unwrap_or(from);
        let prefix = dir
            .strip_prefix(from)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(hash), Some(file)) = (parts.next(), parts.next()) {
                let file = file.trim_start_matches('*').trim_start_matches("./");
                let rel = if prefix.is_empty() {
                    file.to_string()
                } else {
                    format!("{prefix}/{file}")
                };
                sums.insert(rel, hash.to_ascii_lowercase());
            }
        }
    }
    sums
}

fn discover(
    from: &Path,
    skipped: &mut Vec<(String, String)>,
) -> Result<Vec<(String, PathBuf, Option<Found>)>> {
    if !from.is_dir() {
        return Err(Error::NotFound(format!(
            "{}: not a directory of release files",
            from.display()
        )));
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::Invalid(format!("{}: {e}", from.display())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(from)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let lower = rel.to_ascii_lowercase();
        if lower.ends_with(".zip") {
            out.push((rel, entry.path().to_path_buf(), None));
            continue;
        }
        let mut head = vec![0u8; 2048];
        let n = std::fs::File::open(entry.path())
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| Error::io(entry.path(), e))?;
        head.truncate(n);
        match classify(&rel, &head) {
            Some(kind) => out.push((rel, entry.path().to_path_buf(), Some(kind))),
            None => skipped.push((rel, "not a release file this version installs".into())),
        }
    }
    Ok(out)
}

fn zip_members(bytes: &[u8], rel: &str) -> Result<Vec<String>> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::parse(
            Position::file(rel),
            format!("not a readable zip archive: {e}"),
        )
    })?;
    Ok(archive
        .file_names()
        .filter_map(|n| n.ok())
        .map(|n| n.into_owned())
        .collect())
}

fn read_member(bytes: &[u8], rel: &str, member: &str) -> Result<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::parse(
            Position::file(rel),
            format!("not a readable zip archive: {e}"),
        )
    })?;
    let mut file = archive
        .by_name(member)
        .map_err(|e| Error::parse(Position::file(format!("{rel}!{member}")), e.to_string()))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).map_err(|e| {
        Error::parse(
            Position::file(format!("{rel}!{member}")),
            format!("damaged zip member: {e}"),
        )
    })?;
    Ok(out)
}

/// Loads the files to install, checking published checksums.
fn load_sources(
    from: &Path,
    progress: &dyn Progress,
    skipped: &mut Vec<(String, String)>,
) -> Result<(Vec<SourceBytes>, usize)> {
    let found = discover(from, skipped)?;
    let sums = published_checksums(from);
    let total: u64 = found
        .iter()
        .filter_map(|(_, p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    progress.stage("reading and verifying release files", total);
    let mut sources = Vec::new();
    let mut verified = 0;
    for (rel, path, kind) in found {
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        progress.advance(bytes.len() as u64);
        let sha256 = store::sha256_hex(&bytes);
        let mut ok = false;
        if let Some(expected) = sums.get(&rel) {
            if *expected != sha256 {
                return Err(Error::Checksum {
                    file: rel,
                    expected: expected.clone(),
                    found: sha256,
                });
            }
            ok = true;
            verified += 1;
        }
        match kind {
            Some(kind) => sources.push(SourceBytes {
                rel,
                kind,
                bytes,
                sha256,
                verified: ok,
            }),
            None => {
                let members = zip_members(&bytes, &rel)?;
                let lower: Vec<String> = members.iter().map(|m| m.to_ascii_lowercase()).collect();
                if lower
                    .iter()
                    .any(|m| m.contains("anweb") && m.ends_with(".txt"))
                {
                    sources.push(SourceBytes {
                        rel,
                        kind: Found::HcpcsZip,
                        bytes,
                        sha256,
                        verified: ok,
                    });
                } else if lower
                    .iter()
                    .any(|m| m.contains("simpletabulation") && m.ends_with(".txt"))
                {
                    sources.push(SourceBytes {
                        rel,
                        kind: Found::Icd11Zip,
                        bytes,
                        sha256,
                        verified: ok,
                    });
                } else {
                    let mut used = false;
                    for member in members {
                        // Publishers' zips also carry PDFs and spreadsheets of addenda.
                        let lower = member.to_ascii_lowercase();
                        if ![".xml", ".txt", ".csv", ".xlsx"]
                            .iter()
                            .any(|ext| lower.ends_with(ext))
                        {
                            continue;
                        }
                        let data = read_member(&bytes, &rel, &member)?;
                        let member_rel = format!("{rel}!{member}");
                        if let Some(kind) = classify(&member_rel, &data) {
                            let sha256 = store::sha256_hex(&data);
                            sources.push(SourceBytes {
                                rel: member_rel,
                                kind,
                                bytes: data,
                                sha256,
                                verified: ok,
                            });
                            used = true;
                        }
                    }
                    if !used {
                        skipped.push((
                            rel,
                            "zip holds no release file this version installs".into(),
                        ));
                    }
                }
            }
        }
    }
    progress.finish_stage();
    Ok((sources, verified))
}

fn source_meta(s: &SourceBytes) -> SourceFile {
    SourceFile {
        path: s.rel.clone(),
        bytes: s.bytes.len() as u64,
        sha256: s.sha256.clone(),
        checksum_verified: s.verified,
    }
}

/// A parsed component waiting to be written.
pub(crate) enum Parsed {
    Tabular(Box<Tabular>),
    Index(Box<IndexTree>),
    Order(Box<icd10cm::order::OrderFile>),
    Hcpcs(Box<hcpcs::HcpcsRelease>),
    Icd11(Box<icd11::Icd11Release>),
    Maps(Box<WhoMaps>),
    Ptp(Box<ncci::PtpTable>),
    Mue(Box<ncci::MueTable>),
    Aoc(Box<ncci::AocTable>),
    Cpt(Box<cpt::CptTable>),
}

struct Pending {
    meta: ComponentMeta,
    parsed: Parsed,
}

fn base_name(rel: &str) -> &str {
    rel.rsplit(['/', '!']).next().unwrap_or(rel)
}

fn meta(
    kind: ComponentKind,
    variant: Option<String>,
    release: String,
    effective_from: Option<Date>,
    sources: Vec<SourceFile>,
    items: u64,
) -> ComponentMeta {
    let mut id = kind.as_str().to_string();
    if let Some(v) = &variant {
        id.push('-');
        id.push_str(v);
    }
    id.push('-');
    id.push_str(
        &effective_from
            .map(|d| d.to_string())
            .unwrap_or_else(|| release.clone()),
    );
    ComponentMeta {
        id,
        kind,
        variant,
        release,
        effective_from,
        sources,
        file: String::new(),
        file_sha256: String::new(),
        items,
    }
}

fn parse_all(
    sources: &[SourceBytes],
    cpt_file: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Vec<Pending>> {
    let total: u64 = sources.iter().map(|s| s.bytes.len() as u64).sum();
    progress.stage("parsing", total);
    let mut out = Vec::new();
    let mut maps: Option<(WhoMaps, Vec<SourceFile>)> = None;
    let mut ptp: BTreeMap<String, (ncci::PtpTable, Vec<SourceFile>)> = BTreeMap::new();
    for s in sources {
        let name = base_name(&s.rel);
        let src = vec![source_meta(s)];
        match s.kind {
            Found::Tabular => {
                let t = parse_tabular(&s.bytes, &s.rel)?;
                let eff = icd10cm::effective_from(name, &t.version).ok_or_else(|| {
                    Error::parse(
                        Position::file(&s.rel).element("version"),
                        format!("cannot read a fiscal year from {:?}", t.version),
                    )
                })?;
                let items = t.billable_codes().len() as u64;
                out.push(Pending {
                    meta: meta(
                        ComponentKind::Icd10cmTabular,
                        None,
                        t.version.clone(),
                        Some(eff),
                        src,
                        items,
                    ),
                    parsed: Parsed::Tabular(Box::new(t)),
                });
            }
            Found::Index => {
                let t = parse_index(&s.bytes, &s.rel)?;
                let eff = icd10cm::effective_from(name, &t.version);
                let m = meta(
                    ComponentKind::Icd10cmIndex,
                    Some(t.kind.as_str().into()),
                    t.version.clone(),
                    eff,
                    src,
                    t.terms.len() as u64,
                );
                out.push(Pending {
                    meta: m,
                    parsed: Parsed::Index(Box::new(t)),
                });
            }
            Found::Order => {
                let o = parse_order(&s.bytes, &s.rel)?;
                let year: String = name
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>();
                let year = year
                    .get(year.len().saturating_sub(4)..)
                    .unwrap_or("")
                    .to_string();
                let eff = icd10cm::effective_from(name, &year);
                let m = meta(
                    ComponentKind::Icd10cmOrder,
                    None,
                    year,
                    eff,
                    src,
                    o.entries.len() as u64,
                );
                out.push(Pending {
                    meta: m,
                    parsed: Parsed::Order(Box::new(o)),
                });
            }
            Found::HcpcsZip | Found::HcpcsTxt => {
                let h = if s.kind == Found::HcpcsZip {
                    hcpcs::parse_hcpcs_zip(&s.bytes, &s.rel)?
                } else {
                    hcpcs::parse_hcpcs_txt(&s.bytes, &s.rel)?
                };
                let items = (h.codes.len() + h.modifiers.len()) as u64;
                let m = meta(
                    ComponentKind::Hcpcs,
                    None,
                    h.release.clone(),
                    Some(h.effective_from),
                    src,
                    items,
                );
                out.push(Pending {
                    meta: m,
                    parsed: Parsed::Hcpcs(Box::new(h)),
                });
            }
            Found::Icd11Zip | Found::Icd11Txt => {
                let r = if s.kind == Found::Icd11Zip {
                    icd11::parse_simple_tabulation_zip(&s.bytes, &s.rel)?
                } else {
                    icd11::parse_simple_tabulation(&s.bytes, &s.rel)?
                };
                let m = meta(
                    ComponentKind::Icd11Mms,
                    None,
                    r.version.clone(),
                    None,
                    src,
                    r.entities.len() as u64,
                );
                out.push(Pending {
                    meta: m,
                    parsed: Parsed::Icd11(Box::new(r)),
                });
            }
            Found::Map(kind) => {
                let (m, files) = maps.get_or_insert_with(|| (WhoMaps::default(), Vec::new()));
                icd11::parse_map_file(kind, &s.bytes, &s.rel, m)?;
                files.extend(src);
            }
            Found::Ptp => {
                let t = ncci::parse_ptp(&s.bytes, &s.rel)?;
                let setting = format!("{:?}", t.setting).to_ascii_lowercase();
                let version = name
                    .split(['-', '_', '.'])
                    .find(|p| {
                        p.starts_with('v')
                            && p.len() > 1
                            && p[1..2].chars().all(|c| c.is_ascii_digit())
                    })
                    .unwrap_or("unversioned")
                    .to_string();
                let key = format!("{setting}-{version}");
                match ptp.get_mut(&key) {
                    Some((table, files)) => {
                        table.merge(t);
                        files.extend(src);
                    }
                    None => {
                        ptp.insert(key, (t, src));
                    }
                }
            }
            Found::Mue => {
                let t = ncci::parse_mue(&s.bytes, &s.rel)?;
                let setting = format!("{:?}", t.setting).to_ascii_lowercase();
                let release = t
                    .effective_from
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| name.to_string());
                let m = meta(
                    ComponentKind::NcciMue,
                    Some(setting),
                    release,
                    t.effective_from,
                    src,
                    t.entries.len() as u64,
                );
                out.push(Pending {
                    meta: m,
                    parsed: Parsed::Mue(Box::new(t)),
                });
            }
            Found::Aoc => {
                let t = ncci::parse_aoc(&s.bytes, &s.rel)?;
                let release = name
                    .split(['_', '-', '.'])
                    .nth(1)
                    .unwrap_or("unversioned")
                    .to_string();
                let m = meta(
                    ComponentKind::NcciAoc,
                    None,
                    release,
                    None,
                    src,
                    t.edits.len() as u64,
                );
                out.push(Pending {
                    meta: m,
                    parsed: Parsed::Aoc(Box::new(t)),
                });
            }
        }
        progress.advance(s.bytes.len() as u64);
    }
    if let Some((m, files)) = maps {
        let items = (m.to_icd11_one.len()
            + m.to_icd11_multiple.len()
            + m.to_icd10.len()
            + m.foundation.len()) as u64;
        let meta = meta(
            ComponentKind::WhoMaps,
            None,
            m.version.clone(),
            None,
            files,
            items,
        );
        out.push(Pending {
            meta,
            parsed: Parsed::Maps(Box::new(m)),
        });
    }
    for (key, (table, files)) in ptp {
        let (setting, version) = key.split_once('-').unwrap_or((key.as_str(), ""));
        let m = meta(
            ComponentKind::NcciPtp,
            Some(setting.to_string()),
            version.to_string(),
            None,
            files,
            table.edits.len() as u64,
        );
        out.push(Pending {
            meta: m,
            parsed: Parsed::Ptp(Box::new(table)),
        });
    }
    if let Some(path) = cpt_file {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = cpt::parse_cpt(&bytes, &name)?;
        let sha = store::sha256_hex(&bytes);
        let src = vec![SourceFile {
            path: path.display().to_string(),
            bytes: bytes.len() as u64,
            sha256: sha.clone(),
            checksum_verified: false,
        }];
        let mut m = meta(
            ComponentKind::Cpt,
            None,
            "user".into(),
            None,
            src,
            table.codes.len() as u64,
        );
        m.id = "cpt-user".into();
        out.push(Pending {
            meta: m,
            parsed: Parsed::Cpt(Box::new(table)),
        });
    }
    progress.finish_stage();
    Ok(out)
}

fn write_parsed(data_dir: &Path, stem: &str, parsed: &Parsed) -> Result<(String, String)> {
    match parsed {
        Parsed::Tabular(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Index(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Order(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Hcpcs(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Icd11(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Maps(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Ptp(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Mue(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Aoc(v) => store::write_snapshot(data_dir, stem, v),
        Parsed::Cpt(v) => store::write_snapshot(data_dir, stem, v),
    }
}

/// Installs everything found in `opts.from` into `data_dir`.
///
/// All-or-nothing: every file is read, verified and parsed before anything
/// is written, and the manifest is replaced last by an atomic rename. An
/// error leaves the previous installation as it was.
pub fn install(
    data_dir: &Path,
    opts: &InstallOptions,
    progress: &dyn Progress,
) -> Result<InstallReport> {
    let started = Instant::now();
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let previous = Manifest::load(data_dir)?;
    let mut skipped = Vec::new();
    let (sources, checksums_verified) = load_sources(&opts.from, progress, &mut skipped)?;
    if sources.is_empty() && opts.cpt.is_none() {
        return Err(Error::NotFound(format!(
            "{}: no release files found",
            opts.from.display()
        )));
    }
    let pending = parse_all(&sources, opts.cpt.as_deref(), progress)?;
    drop(sources);

    let mut manifest = Manifest {
        format: SNAPSHOT_FORMAT,
        components: previous.components.clone(),
        search: previous.search.clone(),
    };
    let mut installed = Vec::new();
    let mut unchanged = Vec::new();
    let mut warnings = Vec::new();
    progress.stage("writing the installed index", pending.len() as u64);
    for p in &pending {
        let same_sources = |old: &ComponentMeta| {
            old.sources.len() == p.meta.sources.len()
                && old
                    .sources
                    .iter()
                    .zip(&p.meta.sources)
                    .all(|(a, b)| a.sha256 == b.sha256)
        };
        if let Some(old) = previous.get(&p.meta.id)
            && same_sources(old)
            && !opts.force
            && data_dir.join(&old.file).exists()
        {
            unchanged.push(p.meta.id.clone());
            progress.advance(1);
            continue;
        }
        let (file, sha) = write_parsed(data_dir, &format!("components/{}", p.meta.id), &p.parsed)?;
        let mut m = p.meta.clone();
        m.file = file;
        m.file_sha256 = sha;
        manifest.components.retain(|c| c.id != m.id);
        manifest.components.push(m.clone());
        installed.push(m);
        progress.advance(1);
    }
    progress.finish_stage();
    manifest.components.sort_by(|a, b| {
        (a.kind, &a.variant, a.effective_from, &a.release).cmp(&(
            b.kind,
            &b.variant,
            b.effective_from,
            &b.release,
        ))
    });

    // Index versions older than the tabular they will be used with.
    let newest_tab = manifest
        .of_kind(ComponentKind::Icd10cmTabular)
        .map(|c| c.release.clone())
        .max();
    if let Some(tab) = &newest_tab {
        for c in manifest.of_kind(ComponentKind::Icd10cmIndex) {
            if &c.release < tab {
                warnings.push(format!(
                    "{} is FY{} but the newest tabular is FY{tab}: index and table look-ups are validated against the tabular of the date of service",
                    c.id, c.release
                ));
            }
        }
        if manifest
            .of_kind(ComponentKind::Icd10cmOrder)
            .next()
            .is_none()
        {
            warnings.push("no ICD-10-CM order file installed: billable status is derived from the tabular (leaf codes and 7th-character rules)".into());
        }
        if !manifest
            .of_kind(ComponentKind::Icd10cmIndex)
            .any(|c| c.variant.as_deref() == Some("main"))
        {
            warnings.push("no main Alphabetic Index installed: index look-ups cover the installed tables and indexes only; search uses tabular titles and inclusion terms".into());
        }
    }

    let checks = cross_check_order_files(data_dir, &manifest)?;

    let search_documents;
    if !installed.is_empty() || manifest.search.is_none() || opts.force {
        progress.stage("building the search index", 1);
        let index = search::SearchIndex::build_from_store(data_dir, &manifest)?;
        search_documents = index.documents() as u64;
        let (file, _) = store::write_snapshot(data_dir, "search", &index)?;
        manifest.search = Some(SearchMeta {
            file,
            built_from: index.built_from.clone(),
            documents: search_documents,
        });
        progress.advance(1);
        progress.finish_stage();
    } else {
        search_documents = manifest.search.as_ref().map(|s| s.documents).unwrap_or(0);
    }
    manifest.save(data_dir)?;
    store::collect_garbage(data_dir, &manifest)?;
    Ok(InstallReport {
        data_dir: data_dir.to_path_buf(),
        installed,
        unchanged,
        skipped,
        warnings,
        checks,
        checksums_verified,
        search_documents,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Compares each order file with the billable codes its tabular defines
/// (same release, same effective date). The order file decides where they
/// differ; the differences are reported.
fn cross_check_order_files(data_dir: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for order_meta in manifest.of_kind(ComponentKind::Icd10cmOrder) {
        let Some(tab_meta) = manifest.of_kind(ComponentKind::Icd10cmTabular).find(|t| {
            t.release == order_meta.release && t.effective_from == order_meta.effective_from
        }) else {
            out.push(format!(
                "{}: no tabular of the same release and date to compare with",
                order_meta.id
            ));
            continue;
        };
        let tab: Tabular = store::read_snapshot(data_dir, &tab_meta.file)?;
        let order: icd10cm::order::OrderFile = store::read_snapshot(data_dir, &order_meta.file)?;
        let derived: std::collections::BTreeSet<String> =
            tab.billable_codes().into_iter().collect();
        let listed: std::collections::BTreeSet<String> = order
            .entries
            .iter()
            .filter(|e| e.billable)
            .map(|e| e.key.clone())
            .collect();
        let only_tabular: Vec<&String> = derived.difference(&listed).collect();
        let only_order: Vec<&String> = listed.difference(&derived).collect();
        if only_tabular.is_empty() && only_order.is_empty() {
            out.push(format!(
                "{} agrees with {}: {} billable codes",
                order_meta.id,
                tab_meta.id,
                listed.len()
            ));
        } else {
            let sample = |v: &[&String]| {
                v.iter()
                    .take(5)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(format!(
                "{} and {} disagree: {} codes billable only by the tabular ({}), {} only in the order file ({}); the order file decides",
                order_meta.id,
                tab_meta.id,
                only_tabular.len(),
                sample(&only_tabular),
                only_order.len(),
                sample(&only_order)
            ));
        }
    }
    Ok(out)
}

/// Removes installed components by id (or by id prefix, e.g.
/// "icd10cm-tabular-2025"); rebuilds the search index. Returns the ids
/// removed. Like install, the manifest is replaced last, atomically.
pub fn remove(data_dir: &Path, ids: &[String], progress: &dyn Progress) -> Result<Vec<String>> {
    let mut manifest = Manifest::load(data_dir)?;
    let removed: Vec<String> = manifest
        .components
        .iter()
        .filter(|c| {
            ids.iter()
                .any(|id| c.id == *id || (id.len() >= 6 && c.id.starts_with(id.as_str())))
        })
        .map(|c| c.id.clone())
        .collect();
    if removed.is_empty() {
        let known: Vec<&str> = manifest.components.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::NotFound(format!(
            "no installed component matches {ids:?}; installed: {}",
            known.join(", ")
        )));
    }
    manifest.components.retain(|c| !removed.contains(&c.id));
    progress.stage("rebuilding the search index", 1);
    manifest.search = if manifest.components.is_empty() {
        None
    } else {
        let index = search::SearchIndex::build_from_store(data_dir, &manifest)?;
        let documents = index.documents() as u64;
        let (file, _) = store::write_snapshot(data_dir, "search", &index)?;
        Some(SearchMeta {
            file,
            built_from: index.built_from.clone(),
            documents,
        })
    };
    progress.finish_stage();
    manifest.save(data_dir)?;
    store::collect_garbage(data_dir, &manifest)?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_release_files_by_name_and_content() {
        assert_eq!(
            classify(
                "icd10cm/icd10c-tabular-April-1-2026.xml",
                b"<?xml?><ICD10CM.tabular>"
            ),
            Some(Found::Tabular)
        );
        assert_eq!(
            classify("x/icd-10-cm-drug-2025.xml", b"<ICD10CM.index>"),
            Some(Found::Index)
        );
        assert_eq!(classify("x/icd10cm-table-index.xsd", b""), None);
        assert_eq!(
            classify("icd10cm_order_2026.txt", b"00001 A00"),
            Some(Found::Order)
        );
        assert_eq!(classify("ncci/ccipra-v321r0-f1.txt", b""), Some(Found::Ptp));
        assert_eq!(
            classify("ncci/MCR_MUE_PractitionerServices_Eff_04-01-2026.csv", b""),
            Some(Found::Mue)
        );
        assert_eq!(
            classify("ncci/AOC_V2026Q2-MCR.xlsx", b"PK"),
            Some(Found::Aoc)
        );
        assert_eq!(classify("README.md", b"#"), None);
    }
}
