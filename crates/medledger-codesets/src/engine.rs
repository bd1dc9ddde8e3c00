//! The query engine over an installed data directory: release selection by
//! date of service, `show`, `validate`, `map`, NCCI look-ups, and the
//! document feed of the search index. Components load lazily on first use.

use std::any::Any;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::icd10cm::index::{IndexKind, IndexTree};
use crate::icd10cm::order::OrderFile;
use crate::icd10cm::tabular::{NoteKind, Resolution, Tabular};
use crate::normalize::{self, System};
use crate::search::{DocInput, SearchHit, SearchIndex, SearchOptions};
use crate::store::{self, ComponentKind, ComponentMeta, Manifest};
use crate::{Date, cpt, hcpcs, icd11, ncci};

/// The open code-set engine.
pub struct Engine {
    dir: PathBuf,
    manifest: Manifest,
    cache: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
    /// ICD-10-CM tabular releases by effective date, with the last date of
    /// service each applies to.
    tabulars: Vec<(ComponentMeta, Option<Date>)>,
}

/// Which release answered, and how well it fits the date of service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseChoice {
    pub id: String,
    pub release: String,
    pub effective_from: Option<Date>,
    /// Last date of service the release applies to, when known.
    pub effective_to: Option<Date>,
    /// Set when the release does not exactly cover the date of service.
    pub warning: Option<String>,
}

fn fiscal_year(d: Date) -> i16 {
    if d.month() >= 10 {
        d.year() + 1
    } else {
        d.year()
    }
}

impl Engine {
    /// Opens a data directory; fails when nothing is installed there.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Engine> {
        let dir = dir.into();
        let manifest = Manifest::load(&dir)?;
        if manifest.components.is_empty() {
            return Err(Error::NotInstalled(dir));
        }
        Ok(Engine::with_manifest(dir, manifest))
    }

    pub fn with_manifest(dir: PathBuf, manifest: Manifest) -> Engine {
        let mut metas: Vec<ComponentMeta> = manifest
            .of_kind(ComponentKind::Icd10cmTabular)
            .cloned()
            .collect();
        metas.sort_by_key(|m| m.effective_from);
        let ends: Vec<Option<Date>> = (0..metas.len())
            .map(|i| {
                let fy_end = metas[i]
                    .release
                    .parse::<i16>()
                    .ok()
                    .and_then(|y| Date::new(y, 9, 30).ok());
                let next = metas
                    .get(i + 1)
                    .and_then(|n| n.effective_from)
                    .and_then(|d| d.yesterday().ok());
                match (fy_end, next) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            })
            .collect();
        let tabulars = metas.into_iter().zip(ends).collect();
        Engine {
            dir,
            manifest,
            cache: Mutex::new(HashMap::new()),
            tabulars,
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn load<T: DeserializeOwned + Send + Sync + 'static>(&self, file: &str) -> Result<Arc<T>> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(file).cloned())
            && let Ok(v) = hit.downcast::<T>()
        {
            return Ok(v);
        }
        let started = std::time::Instant::now();
        let value: Arc<T> = Arc::new(store::read_snapshot(&self.dir, file)?);
        if std::env::var_os("MEDLEDGER_TIMINGS").is_some() {
            eprintln!(
                "loaded {file} in {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        if let Ok(mut c) = self.cache.lock() {
            c.insert(file.to_string(), value.clone());
        }
        Ok(value)
    }

    fn newest(&self, kind: ComponentKind) -> Option<&ComponentMeta> {
        self.manifest
            .of_kind(kind)
            .max_by(|a, b| (a.effective_from, &a.release).cmp(&(b.effective_from, &b.release)))
    }

    fn load_newest<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        kind: ComponentKind,
    ) -> Result<Option<(ComponentMeta, Arc<T>)>> {
        match self.newest(kind) {
            Some(m) => Ok(Some((m.clone(), self.load::<T>(&m.file)?))),
            None => Ok(None),
        }
    }

    /// The ICD-10-CM tabular for a date of service (the newest when `dos` is
    /// None). A release of the same fiscal year is used, with a warning,
    /// when no installed release starts on or before the date.
    pub fn tabular_for(&self, dos: Option<Date>) -> Result<Option<(ReleaseChoice, Arc<Tabular>)>> {
        let releases = &self.tabulars;
        let choose =
            |i: usize, warning: Option<String>| -> Result<Option<(ReleaseChoice, Arc<Tabular>)>> {
                let (m, end) = &releases[i];
                let t = self.load::<Tabular>(&m.file)?;
                let choice = ReleaseChoice {
                    id: m.id.clone(),
                    release: m.release.clone(),
                    effective_from: m.effective_from,
                    effective_to: *end,
                    warning,
                };
                Ok(Some((choice, t)))
            };
        if releases.is_empty() {
            return Ok(None);
        }
        let Some(dos) = dos else {
            return choose(releases.len() - 1, None);
        };
        for (i, (m, end)) in releases.iter().enumerate().rev() {
            if m.effective_from.is_none_or(|e| e <= dos) && end.is_none_or(|e| dos <= e) {
                return choose(i, None);
            }
        }
        let fy = fiscal_year(dos);
        if let Some(i) = releases
            .iter()
            .rposition(|(m, _)| m.release.parse::<i16>().ok() == Some(fy))
        {
            let m = &releases[i].0;
            let warning = format!(
                "no ICD-10-CM release installed starts on or before {dos}; using FY{fy} release {} (effective {}); codes added in that update may not yet have been valid on {dos}",
                m.id,
                m.effective_from.map(|d| d.to_string()).unwrap_or_default()
            );
            return choose(i, Some(warning));
        }
        Ok(None)
    }

    fn icd10cm_coverage(&self) -> String {
        let list: Vec<String> = self
            .manifest
            .of_kind(ComponentKind::Icd10cmTabular)
            .map(|m| {
                format!(
                    "FY{} from {}",
                    m.release,
                    m.effective_from.map(|d| d.to_string()).unwrap_or_default()
                )
            })
            .collect();
        if list.is_empty() {
            "none installed".into()
        } else {
            list.join(", ")
        }
    }

    pub fn order_file(&self, release: &str) -> Result<Option<Arc<OrderFile>>> {
        match self
            .manifest
            .of_kind(ComponentKind::Icd10cmOrder)
            .filter(|m| m.release == release)
            .max_by_key(|m| m.effective_from)
        {
            Some(m) => Ok(Some(self.load(&m.file)?)),
            None => Ok(None),
        }
    }

    /// The newest index or table of a kind whose fiscal year is not after
    /// the date of service's (the newest of all when none is that old).
    pub fn index_for(
        &self,
        kind: IndexKind,
        dos: Option<Date>,
    ) -> Result<Option<(ComponentMeta, Arc<IndexTree>)>> {
        let mut metas: Vec<&ComponentMeta> = self
            .manifest
            .of_kind(ComponentKind::Icd10cmIndex)
            .filter(|m| m.variant.as_deref() == Some(kind.as_str()))
            .collect();
        metas.sort_by(|a, b| a.release.cmp(&b.release));
        let pick = match dos {
            Some(d) => metas
                .iter()
                .rev()
                .find(|m| m.release.parse::<i16>().is_ok_and(|y| y <= fiscal_year(d)))
                .or(metas.last()),
            None => metas.last(),
        };
        match pick {
            Some(m) => Ok(Some(((*m).clone(), self.load(&m.file)?))),
            None => Ok(None),
        }
    }

    pub fn hcpcs_for(
        &self,
        dos: Option<Date>,
    ) -> Result<Option<(ComponentMeta, Arc<hcpcs::HcpcsRelease>)>> {
        let mut metas: Vec<&ComponentMeta> = self.manifest.of_kind(ComponentKind::Hcpcs).collect();
        metas.sort_by_key(|m| m.effective_from);
        let pick = match dos {
            Some(d) => metas
                .iter()
                .rev()
                .find(|m| m.effective_from.is_none_or(|e| e <= d))
                .or(metas.first()),
            None => metas.last(),
        };
        match pick {
            Some(m) => Ok(Some(((*m).clone(), self.load(&m.file)?))),
            None => Ok(None),
        }
    }

    pub fn icd11(&self) -> Result<Option<(ComponentMeta, Arc<icd11::Icd11Release>)>> {
        self.load_newest(ComponentKind::Icd11Mms)
    }

    pub fn who_maps(&self) -> Result<Option<(ComponentMeta, Arc<icd11::WhoMaps>)>> {
        self.load_newest(ComponentKind::WhoMaps)
    }

    pub fn cpt(&self) -> Result<Option<(ComponentMeta, Arc<cpt::CptTable>)>> {
        self.load_newest(ComponentKind::Cpt)
    }

    pub fn ptp_tables(&self) -> Result<Vec<(ComponentMeta, Arc<ncci::PtpTable>)>> {
        self.manifest
            .of_kind(ComponentKind::NcciPtp)
            .map(|m| Ok((m.clone(), self.load(&m.file)?)))
            .collect()
    }

    pub fn mue_tables(&self) -> Result<Vec<(ComponentMeta, Arc<ncci::MueTable>)>> {
        self.manifest
            .of_kind(ComponentKind::NcciMue)
            .map(|m| Ok((m.clone(), self.load(&m.file)?)))
            .collect()
    }

    pub fn aoc_table(&self) -> Result<Option<(ComponentMeta, Arc<ncci::AocTable>)>> {
        self.load_newest(ComponentKind::NcciAoc)
    }

    pub fn search_index(&self) -> Result<Arc<SearchIndex>> {
        let meta = self
            .manifest
            .search
            .as_ref()
            .ok_or_else(|| Error::NotInstalled(self.dir.clone()))?;
        self.load(&meta.file)
    }

    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<Vec<SearchHit>> {
        self.search_index()?.search(query, opts)
    }

    /// Documents for the search index: the newest release of each system.
    pub fn search_documents(&self) -> Result<(Vec<DocInput>, Vec<String>)> {
        let mut docs = Vec::new();
        let mut from = Vec::new();
        if let Some((choice, tab)) = self.tabular_for(None)? {
            from.push(choice.id.clone());
            let mut by_key: HashMap<String, usize> = HashMap::new();
            for (i, node) in tab.nodes.iter().enumerate() {
                let i = i as u32;
                // Inclusion terms, and the Includes notes written on the
                // code itself, name what the code covers.
                let terms: Vec<String> = node
                    .notes
                    .iter()
                    .filter(|n| matches!(n.kind, NoteKind::InclusionTerm | NoteKind::Includes))
                    .flat_map(|n| n.texts.iter().cloned())
                    .collect();
                let inclusion: Vec<(String, u16)> = terms.iter().map(|t| (t.clone(), 2)).collect();
                by_key.insert(node.key.clone(), docs.len());
                docs.push(DocInput {
                    system: System::Icd10Cm,
                    key: node.key.clone(),
                    title: node.desc.clone(),
                    billable: tab.is_leaf(i) && tab.seven_for(i).is_none(),
                    fields: inclusion,
                    terms,
                });
            }
            let target = |code: &str| -> Option<usize> {
                let mut k = normalize::key(code.trim_end_matches(['-', '.']));
                while k.len() >= 3 {
                    if let Some(&d) = by_key.get(&k) {
                        return Some(d);
                    }
                    k.pop();
                }
                None
            };
            for kind in [
                IndexKind::Main,
                IndexKind::ExternalCause,
                IndexKind::Drug,
                IndexKind::Neoplasm,
            ] {
                let Some((meta, tree)) = self.index_for(kind, None)? else {
                    continue;
                };
                from.push(meta.id.clone());
                let mut path: Vec<String> = Vec::new();
                for term in &tree.terms {
                    path.truncate(term.level as usize);
                    path.push(term.title.clone());
                    let text = path.join(" ");
                    if let Some(code) = &term.code
                        && let Some(d) = target(code)
                    {
                        docs[d].fields.push((text.clone(), 2));
                        if kind == IndexKind::Main {
                            docs[d].terms.push(text.clone());
                        }
                    }
                    for (col, code) in &term.cells {
                        let Some(d) = target(code) else { continue };
                        let heading = tree.heading(*col).unwrap_or("");
                        docs[d].fields.push((format!("{text} {heading}"), 1));
                        // Guideline: a poisoning whose intent is not documented
                        // is coded accidental, so "X poisoning" names column 2.
                        if kind == IndexKind::Drug && *col == 2 {
                            docs[d].fields.push((format!("{text} poisoning"), 1));
                            docs[d].terms.push(format!("{text} poisoning"));
                        }
                    }
                }
            }
        }
        if let Some((meta, h)) = self.hcpcs_for(None)? {
            from.push(meta.id.clone());
            for c in h.codes.iter().chain(h.modifiers.iter()) {
                docs.push(DocInput {
                    system: System::Hcpcs,
                    key: c.code.clone(),
                    title: c.long_desc.clone(),
                    billable: c.terminated.is_none(),
                    fields: vec![(c.short_desc.clone(), 2)],
                    terms: vec![],
                });
            }
        }
        if let Some((meta, r)) = self.icd11()? {
            from.push(meta.id.clone());
            for e in &r.entities {
                if let Some(code) = &e.code {
                    docs.push(DocInput {
                        system: System::Icd11,
                        key: normalize::key(code),
                        title: e.title.clone(),
                        billable: e.is_leaf,
                        fields: vec![],
                        terms: vec![],
                    });
                }
            }
        }
        if let Some((meta, c)) = self.cpt()? {
            from.push(meta.id.clone());
            for code in &c.codes {
                docs.push(DocInput {
                    system: System::Cpt,
                    key: code.code.clone(),
                    title: code.descriptor.clone(),
                    billable: true,
                    fields: vec![],
                    terms: vec![],
                });
            }
        }
        Ok((docs, from))
    }
}

// ---------------------------------------------------------------- show

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeRef {
    pub code: String,
    pub title: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteOut {
    pub kind: NoteKind,
    pub label: &'static str,
    /// Where the note is written: the code itself, an ancestor, the block
    /// or the chapter.
    pub from: String,
    pub texts: Arc<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeventhOut {
    pub character: char,
    pub meaning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeDetail {
    pub code: String,
    pub system: System,
    pub title: String,
    pub kind: String,
    pub billable: bool,
    pub release: Option<ReleaseChoice>,
    /// From the chapter down to the direct parent.
    pub parents: Vec<CodeRef>,
    pub children: Vec<CodeRef>,
    pub inclusion_terms: Vec<String>,
    pub notes: Vec<NoteOut>,
    /// 7th characters in force, and the code that declares them.
    pub seventh_characters: Vec<SeventhOut>,
    pub seventh_from: Option<String>,
    /// Placeholder rule when the code is shorter than six characters and
    /// takes a 7th character.
    pub placeholder: Option<String>,
    pub icd11: Option<MapResult>,
    pub hcpcs: Option<hcpcs::HcpcsCode>,
    pub icd11_entity: Option<icd11::Icd11Entity>,
    /// WHO's credit line, for ICD-11 codes.
    pub attribution: Option<String>,
    pub warnings: Vec<String>,
}

fn icd10cm_kind(tab: &Tabular, idx: u32) -> &'static str {
    let node = tab.node(idx);
    if node.parent.is_none() {
        "category"
    } else if tab.is_leaf(idx) {
        "code"
    } else {
        "subcategory"
    }
}

impl Engine {
    /// Everything about one code. `system` forces the code system.
    pub fn show(&self, raw: &str, system: Option<System>, dos: Option<Date>) -> Result<CodeDetail> {
        let key = normalize::key(raw);
        let systems = match system {
            Some(s) => vec![s],
            None => normalize::candidate_systems(raw),
        };
        for s in systems {
            let found = match s {
                System::Icd10Cm => self.show_icd10cm(&key, dos)?,
                System::Hcpcs => self.show_hcpcs(&key, dos)?,
                System::Icd11 => self.show_icd11(&key)?,
                System::Cpt => self.show_cpt(&key)?,
            };
            if let Some(d) = found {
                return Ok(d);
            }
        }
        Err(Error::NotFound(format!(
            "{raw}: no such code in the installed code sets"
        )))
    }

    fn empty_detail(
        code: String,
        system: System,
        title: String,
        kind: &str,
        billable: bool,
    ) -> CodeDetail {
        CodeDetail {
            code,
            system,
            title,
            kind: kind.into(),
            billable,
            release: None,
            parents: vec![],
            children: vec![],
            inclusion_terms: vec![],
            notes: vec![],
            seventh_characters: vec![],
            seventh_from: None,
            placeholder: None,
            icd11: None,
            hcpcs: None,
            icd11_entity: None,
            attribution: None,
            warnings: vec![],
        }
    }

    fn show_icd10cm(&self, key: &str, dos: Option<Date>) -> Result<Option<CodeDetail>> {
        let Some((choice, tab)) = self.tabular_for(dos)? else {
            return Ok(None);
        };
        let (idx, seventh, billable) = match tab.resolve(key) {
            Resolution::Billable { node, seventh } => (node, seventh, true),
            Resolution::Header { node } | Resolution::NeedsSeventh { node } => (node, None, false),
            _ => return Ok(None),
        };
        let node = tab.node(idx);
        let code = match seventh {
            Some(c) => format!("{}{}", tab.padded_stem(idx), c),
            None => node.key.clone(),
        };
        let mut d = Self::empty_detail(
            normalize::icd10cm_display(&code),
            System::Icd10Cm,
            tab.describe(idx, seventh),
            if seventh.is_some() {
                "code"
            } else {
                icd10cm_kind(&tab, idx)
            },
            billable,
        );
        let section = &tab.sections[node.section as usize];
        let chapter = &tab.chapters[section.chapter as usize];
        d.parents.push(CodeRef {
            code: format!("Chapter {}", chapter.number),
            title: chapter.desc.clone(),
            kind: "chapter".into(),
        });
        d.parents.push(CodeRef {
            code: section.id.clone(),
            title: section.desc.clone(),
            kind: "block".into(),
        });
        let ancestors = tab.ancestors(idx);
        for &a in ancestors.iter().rev() {
            d.parents.push(CodeRef {
                code: normalize::icd10cm_display(&tab.node(a).key),
                title: tab.node(a).desc.clone(),
                kind: icd10cm_kind(&tab, a).into(),
            });
        }
        if seventh.is_some() {
            d.parents.push(CodeRef {
                code: normalize::icd10cm_display(&node.key),
                title: node.desc.clone(),
                kind: icd10cm_kind(&tab, idx).into(),
            });
        } else {
            let mut i = idx + 1;
            while i < node.end {
                let c = tab.node(i);
                d.children.push(CodeRef {
                    code: normalize::icd10cm_display(&c.key),
                    title: c.desc.clone(),
                    kind: icd10cm_kind(&tab, i).into(),
                });
                i = c.end;
            }
        }
        for n in &node.notes {
            if n.kind == NoteKind::InclusionTerm {
                d.inclusion_terms.extend(n.texts.iter().cloned());
            } else {
                d.notes.push(NoteOut {
                    kind: n.kind,
                    label: n.kind.label(),
                    from: normalize::icd10cm_display(&node.key),
                    texts: n.texts.clone(),
                });
            }
        }
        for &a in &ancestors {
            for n in tab.node(a).notes.iter().filter(|n| n.kind.is_inherited()) {
                d.notes.push(NoteOut {
                    kind: n.kind,
                    label: n.kind.label(),
                    from: normalize::icd10cm_display(&tab.node(a).key),
                    texts: n.texts.clone(),
                });
            }
        }
        for n in section.notes.iter().filter(|n| n.kind.is_inherited()) {
            d.notes.push(NoteOut {
                kind: n.kind,
                label: n.kind.label(),
                from: format!("block {}", section.id),
                texts: n.texts.clone(),
            });
        }
        for n in chapter.notes.iter().filter(|n| n.kind.is_inherited()) {
            d.notes.push(NoteOut {
                kind: n.kind,
                label: n.kind.label(),
                from: format!("chapter {}", chapter.number),
                texts: n.texts.clone(),
            });
        }
        if let Some((from, def)) = tab.seven_for(idx) {
            d.seventh_characters = def
                .extensions
                .iter()
                .map(|(c, m)| SeventhOut {
                    character: *c,
                    meaning: m.clone(),
                })
                .collect();
            d.seventh_from = Some(normalize::icd10cm_display(&tab.node(from).key));
            if let Some(note) = tab
                .node(from)
                .notes
                .iter()
                .find(|n| n.kind == NoteKind::SevenChrNote)
                && from != idx
            {
                d.notes.push(NoteOut {
                    kind: note.kind,
                    label: note.kind.label(),
                    from: normalize::icd10cm_display(&tab.node(from).key),
                    texts: note.texts.clone(),
                });
            }
            if tab.is_leaf(idx) && node.key.len() < 6 {
                d.placeholder = Some(format!(
                    "{} is shorter than six characters: fill with the placeholder X before the 7th character ({}A)",
                    normalize::icd10cm_display(&node.key),
                    normalize::icd10cm_display(&tab.padded_stem(idx))
                ));
            }
        }
        if let Some(order) = self.order_file(&choice.release)?
            && let Some(e) = order.get(&code)
            && e.billable != billable
        {
            d.billable = e.billable;
            d.warnings.push(format!(
                "the order file marks {} as {}",
                d.code,
                if e.billable { "billable" } else { "a header" }
            ));
        }
        if let Some(w) = &choice.warning {
            d.warnings.push(w.clone());
        }
        d.release = Some(choice);
        d.icd11 = self.map_icd10cm_to_icd11(&code).ok().flatten();
        Ok(Some(d))
    }

    fn show_hcpcs(&self, key: &str, dos: Option<Date>) -> Result<Option<CodeDetail>> {
        let Some((meta, h)) = self.hcpcs_for(dos)? else {
            return Ok(None);
        };
        let Some(c) = h.get(key).or_else(|| h.modifier(key)) else {
            return Ok(None);
        };
        let kind = if key.len() == 2 { "modifier" } else { "code" };
        // Billable on the date of service, or (no date) not terminated.
        let billable = match dos {
            Some(d) => c.is_active_on(d),
            None => c.terminated.is_none(),
        };
        let mut d = Self::empty_detail(
            c.code.clone(),
            System::Hcpcs,
            c.long_desc.clone(),
            kind,
            billable,
        );
        d.release = Some(ReleaseChoice {
            id: meta.id.clone(),
            release: meta.release.clone(),
            effective_from: meta.effective_from,
            effective_to: None,
            warning: None,
        });
        if let Some(t) = c.terminated {
            d.warnings.push(format!("terminated {t}"));
        }
        d.hcpcs = Some(c.clone());
        Ok(Some(d))
    }

    fn show_icd11(&self, key: &str) -> Result<Option<CodeDetail>> {
        let Some((meta, r)) = self.icd11()? else {
            return Ok(None);
        };
        let Some(idx) = r.index_of(key) else {
            return Ok(None);
        };
        let e = &r.entities[idx as usize];
        let mut d = Self::empty_detail(
            e.code.clone().unwrap_or_default(),
            System::Icd11,
            e.title.clone(),
            "category",
            e.is_leaf,
        );
        for a in r.ancestors(idx).into_iter().rev() {
            let p = &r.entities[a as usize];
            let code = p
                .code
                .clone()
                .or_else(|| p.block_id.clone())
                .unwrap_or_else(|| format!("Chapter {}", p.chapter));
            d.parents.push(CodeRef {
                code,
                title: p.title.clone(),
                kind: format!("{:?}", p.class_kind).to_lowercase(),
            });
        }
        for c in r.children(idx) {
            let p = &r.entities[c as usize];
            d.children.push(CodeRef {
                code: p.code.clone().unwrap_or_default(),
                title: p.title.clone(),
                kind: format!("{:?}", p.class_kind).to_lowercase(),
            });
        }
        d.release = Some(ReleaseChoice {
            id: meta.id.clone(),
            release: meta.release.clone(),
            effective_from: None,
            effective_to: None,
            warning: None,
        });
        d.icd11_entity = Some(e.clone());
        d.attribution = Some(icd11::attribution(&meta.release));
        Ok(Some(d))
    }

    fn show_cpt(&self, key: &str) -> Result<Option<CodeDetail>> {
        let Some((meta, t)) = self.cpt()? else {
            return Ok(None);
        };
        let Some(c) = t.get(key) else { return Ok(None) };
        let mut d = Self::empty_detail(
            c.code.clone(),
            System::Cpt,
            c.descriptor.clone(),
            "code",
            true,
        );
        d.release = Some(ReleaseChoice {
            id: meta.id.clone(),
            release: meta.release.clone(),
            effective_from: None,
            effective_to: None,
            warning: None,
        });
        Ok(Some(d))
    }
}

// ---------------------------------------------------------------- validate

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// The code as given.
    pub input: String,
    /// Normalised display form.
    pub code: String,
    pub system: Option<System>,
    /// Valid and billable on the date of service.
    pub valid: bool,
    /// Machine-readable reason: valid, header, missing_7th_character,
    /// missing_placeholder, invalid_7th_character, not_yet_effective,
    /// terminated, unknown, no_release, not_installed, malformed.
    pub reason: String,
    pub message: String,
    pub title: Option<String>,
    pub dos: Option<Date>,
    pub release: Option<String>,
    /// Valid codes that complete this one, first 25.
    pub completions: Vec<String>,
    pub completions_total: usize,
    pub warnings: Vec<String>,
}

impl Validation {
    fn new(input: &str, system: Option<System>, dos: Option<Date>) -> Validation {
        let key = normalize::key(input);
        Validation {
            input: input.to_string(),
            code: system.map(|s| normalize::display(s, &key)).unwrap_or(key),
            system,
            valid: false,
            reason: String::new(),
            message: String::new(),
            title: None,
            dos,
            release: None,
            completions: vec![],
            completions_total: 0,
            warnings: vec![],
        }
    }

    fn set(mut self, valid: bool, reason: &str, message: String) -> Validation {
        self.valid = valid;
        self.reason = reason.into();
        self.message = message;
        self
    }
}

const COMPLETIONS: usize = 25;

impl Engine {
    pub fn validate(
        &self,
        codes: &[String],
        dos: Option<Date>,
        system: Option<System>,
    ) -> Result<Vec<Validation>> {
        codes
            .iter()
            .map(|c| self.validate_one(c, dos, system))
            .collect()
    }

    pub fn validate_one(
        &self,
        raw: &str,
        dos: Option<Date>,
        system: Option<System>,
    ) -> Result<Validation> {
        let systems = match system {
            Some(s) => vec![s],
            None => normalize::candidate_systems(raw),
        };
        if systems.is_empty() {
            return Ok(Validation::new(raw, None, dos).set(
                false,
                "malformed",
                format!("{raw:?} has the shape of no supported code system (ICD-10-CM, ICD-11, HCPCS, CPT)"),
            ));
        }
        let mut first: Option<Validation> = None;
        for s in systems {
            let v = match s {
                System::Icd10Cm => self.validate_icd10cm(raw, dos)?,
                System::Hcpcs => self.validate_hcpcs(raw, dos)?,
                System::Icd11 => self.validate_icd11(raw)?,
                System::Cpt => self.validate_cpt(raw)?,
            };
            if v.valid || !matches!(v.reason.as_str(), "unknown" | "not_installed") {
                return Ok(v);
            }
            first.get_or_insert(v);
        }
        Ok(first.unwrap_or_else(|| Validation::new(raw, None, dos)))
    }

    fn validate_icd10cm(&self, raw: &str, dos: Option<Date>) -> Result<Validation> {
        let key = normalize::key(raw);
        let v = Validation::new(raw, Some(System::Icd10Cm), dos);
        if !normalize::looks_icd10cm(&key) {
            return Ok(v.set(
                false,
                "malformed",
                format!("{raw:?} is not shaped like an ICD-10-CM code"),
            ));
        }
        let Some((choice, tab)) = self.tabular_for(dos)? else {
            let m = format!(
                "no installed ICD-10-CM release covers {}; installed: {}",
                dos.map(|d| d.to_string()).unwrap_or_default(),
                self.icd10cm_coverage()
            );
            let reason = if self
                .manifest
                .of_kind(ComponentKind::Icd10cmTabular)
                .next()
                .is_some()
            {
                "no_release"
            } else {
                "not_installed"
            };
            return Ok(v.set(false, reason, m));
        };
        let mut v = v;
        v.release = Some(choice.id.clone());
        if let Some(w) = &choice.warning {
            v.warnings.push(w.clone());
        }
        let display = normalize::icd10cm_display;
        let completions = |v: &mut Validation, idx: u32| {
            let (codes, total) = tab.billable_under(idx, COMPLETIONS);
            v.completions = codes.iter().map(|c| display(c)).collect();
            v.completions_total = total;
        };
        // The CDC order file, when installed, is the authority on billable status.
        let order = self.order_file(&choice.release)?;
        let mut out = match tab.resolve(&key) {
            Resolution::Billable { node, seventh } => {
                v.title = Some(tab.describe(node, seventh));
                let mut valid = true;
                let mut reason = "valid";
                let mut message = format!(
                    "{} is a billable code in ICD-10-CM FY{}",
                    display(&key),
                    choice.release
                );
                if let Some(order) = &order
                    && let Some(e) = order.get(&key)
                    && !e.billable
                {
                    valid = false;
                    reason = "header";
                    message = format!(
                        "{} is a header in the order file, not billable",
                        display(&key)
                    );
                }
                v.set(valid, reason, message)
            }
            Resolution::Header { node } => {
                v.title = Some(tab.node(node).desc.clone());
                completions(&mut v, node);
                let n = v.completions_total;
                v.set(false, "header", format!("{} is a category or subcategory, not billable: choose one of its {n} codes", display(&key)))
            }
            Resolution::NeedsSeventh { node } => {
                v.title = Some(tab.node(node).desc.clone());
                completions(&mut v, node);
                let from = tab
                    .seven_for(node)
                    .map(|(f, _)| display(&tab.node(f).key))
                    .unwrap_or_default();
                let stem = tab.padded_stem(node);
                let pad = if stem != key {
                    format!(" (with placeholder X: {}_)", display(&stem))
                } else {
                    String::new()
                };
                v.set(
                    false,
                    "missing_7th_character",
                    format!(
                        "{} requires a 7th character (rule at {from}){pad}",
                        display(&key)
                    ),
                )
            }
            Resolution::MissingPlaceholder { node, suggestion } => {
                v.title = Some(tab.node(node).desc.clone());
                v.completions = vec![display(&suggestion)];
                v.completions_total = 1;
                v.set(
                    false,
                    "missing_placeholder",
                    format!(
                        "{} is missing the placeholder X: did you mean {}?",
                        display(&key),
                        display(&suggestion)
                    ),
                )
            }
            Resolution::InvalidSeventh { node, seventh } => {
                v.title = Some(tab.node(node).desc.clone());
                completions(&mut v, node);
                v.set(
                    false,
                    "invalid_7th_character",
                    format!(
                        "{seventh:?} is not a valid 7th character for {}",
                        display(&tab.node(node).key)
                    ),
                )
            }
            Resolution::Unknown { nearest } => {
                if let Some(n) = nearest {
                    completions(&mut v, n);
                }
                // Is the code valid in another installed release?
                let mut elsewhere = None;
                for m in self.manifest.of_kind(ComponentKind::Icd10cmTabular) {
                    if m.id == choice.id {
                        continue;
                    }
                    let other = self.load::<Tabular>(&m.file)?;
                    if matches!(other.resolve(&key), Resolution::Billable { .. }) {
                        elsewhere = Some(m.clone());
                        break;
                    }
                }
                match elsewhere {
                    Some(m) if m.effective_from > choice.effective_from => v.set(
                        false,
                        "not_yet_effective",
                        format!(
                            "{} is not valid on this date: it takes effect with the release of {}",
                            display(&key),
                            m.effective_from.map(|d| d.to_string()).unwrap_or_default()
                        ),
                    ),
                    Some(m) => v.set(
                        false,
                        "terminated",
                        format!(
                            "{} was valid in release {} but is deleted in FY{}",
                            display(&key),
                            m.id,
                            choice.release
                        ),
                    ),
                    None => v.set(
                        false,
                        "unknown",
                        format!(
                            "{} is not an ICD-10-CM code in FY{}",
                            display(&key),
                            choice.release
                        ),
                    ),
                }
            }
        };
        if !out.valid
            && matches!(
                out.reason.as_str(),
                "header" | "missing_7th_character" | "unknown"
            )
            && let Some(e) = order.as_ref().and_then(|o| o.get(&key))
            && e.billable
        {
            let derived = std::mem::replace(&mut out.reason, "valid".into());
            out.valid = true;
            out.message = format!("{} is billable per the installed order file", display(&key));
            out.warnings
                .push(format!("the tabular alone would say {derived}"));
            out.title = Some(e.long_desc.clone());
            out.completions.clear();
            out.completions_total = 0;
        }
        Ok(out)
    }

    fn validate_hcpcs(&self, raw: &str, dos: Option<Date>) -> Result<Validation> {
        let key = normalize::key(raw);
        let mut v = Validation::new(raw, Some(System::Hcpcs), dos);
        let Some((meta, h)) = self.hcpcs_for(dos)? else {
            return Ok(v.set(false, "not_installed", "no HCPCS release installed".into()));
        };
        v.release = Some(meta.id.clone());
        let Some(c) = h.get(&key).or_else(|| h.modifier(&key)) else {
            return Ok(v.set(
                false,
                "unknown",
                format!("{key} is not in HCPCS release {}", meta.release),
            ));
        };
        v.title = Some(c.long_desc.clone());
        if let (Some(d), Some(added)) = (dos, c.added)
            && d < added
        {
            return Ok(v.set(
                false,
                "not_yet_effective",
                format!("{key} was added effective {added}, after {d}"),
            ));
        }
        if let Some(t) = c.terminated
            && dos.is_none_or(|d| d > t)
        {
            let xref = if c.cross_references.is_empty() {
                String::new()
            } else {
                format!("; see {}", c.cross_references.join(", "))
            };
            v.completions = c.cross_references.clone();
            v.completions_total = v.completions.len();
            return Ok(v.set(
                false,
                "terminated",
                format!("{key} was terminated {t}{xref}"),
            ));
        }
        if let (Some(d), Some(from)) = (dos, meta.effective_from)
            && d >= from
                .checked_add(jiff::Span::new().months(3))
                .unwrap_or(from)
        {
            v.warnings.push(format!("HCPCS release {} is older than the quarter of {d}: a newer quarterly file may change this answer", meta.release));
        }
        if c.coverage == Some('I') || c.coverage == Some('M') || c.coverage == Some('S') {
            v.warnings
                .push(format!("Medicare coverage: {}", c.coverage_text()));
        }
        Ok(v.set(
            true,
            "valid",
            format!("{key} is an active HCPCS Level II code"),
        ))
    }

    fn validate_icd11(&self, raw: &str) -> Result<Validation> {
        let mut v = Validation::new(raw, Some(System::Icd11), None);
        let Some((meta, r)) = self.icd11()? else {
            return Ok(v.set(
                false,
                "not_installed",
                "no ICD-11 MMS release installed".into(),
            ));
        };
        v.release = Some(meta.id.clone());
        let Some(idx) = r.index_of(&normalize::key(raw)) else {
            return Ok(v.set(
                false,
                "unknown",
                format!("{raw} is not an ICD-11 MMS {} code", meta.release),
            ));
        };
        let e = &r.entities[idx as usize];
        v.title = Some(e.title.clone());
        v.code = e.code.clone().unwrap_or(v.code);
        if !e.is_leaf {
            let kids: Vec<String> = r
                .children(idx)
                .iter()
                .filter_map(|c| r.entities[*c as usize].code.clone())
                .collect();
            v.completions_total = kids.len();
            v.completions = kids.into_iter().take(COMPLETIONS).collect();
            let m = format!(
                "{} has subcategories: code to the most specific level",
                v.code
            );
            return Ok(v.set(false, "header", m));
        }
        let m = format!("{} is a leaf ICD-11 MMS code", v.code);
        Ok(v.set(true, "valid", m))
    }

    fn validate_cpt(&self, raw: &str) -> Result<Validation> {
        let key = normalize::key(raw);
        let mut v = Validation::new(raw, Some(System::Cpt), None);
        let Some((meta, t)) = self.cpt()? else {
            return Ok(v.set(
                false,
                "not_installed",
                format!("{key} has the shape of a CPT code, but no licensed CPT file is installed (codesets install --cpt FILE)"),
            ));
        };
        v.release = Some(meta.id.clone());
        match t.get(&key) {
            Some(c) => {
                v.title = Some(c.descriptor.clone());
                Ok(v.set(true, "valid", format!("{key} is in the installed CPT file")))
            }
            None => Ok(v.set(
                false,
                "unknown",
                format!("{key} is not in the installed CPT file"),
            )),
        }
    }
}

// ---------------------------------------------------------------- map

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapTarget {
    pub code: Option<String>,
    pub title: String,
    pub kind: String,
    pub uri: Option<String>,
    /// For maps back to ICD-10: whether the WHO ICD-10 code exists in the
    /// ICD-10-CM tabular and whether it is billable there.
    pub in_icd10cm: Option<bool>,
    pub icd10cm_billable: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapResult {
    pub from: String,
    pub from_system: System,
    pub to_system: System,
    /// The WHO ICD-10 code the map was read at, when it differs from the
    /// ICD-10-CM code (ICD-10-CM extends WHO ICD-10).
    pub via: Option<String>,
    pub equivalence: Option<String>,
    pub primary: Option<MapTarget>,
    /// One-to-many choices for the auditor; never picked silently.
    pub choices: Vec<MapTarget>,
    pub maps_version: String,
    pub note: String,
    /// WHO's credit line for the ICD-11 content.
    pub attribution: String,
}

/// A target straight from a published 10-to-11 table row.
fn target_from_cells(c: &[&str]) -> MapTarget {
    let get = |i: usize| c.get(i).copied().unwrap_or("");
    MapTarget {
        code: Some(get(9).to_string()).filter(|s| !s.is_empty()),
        title: get(11).to_string(),
        kind: get(5).to_string(),
        uri: Some(get(8).to_string()),
        in_icd10cm: None,
        icd10cm_billable: None,
    }
}

impl Engine {
    pub fn map(&self, raw: &str, to: System) -> Result<MapResult> {
        let key = normalize::key(raw);
        match to {
            System::Icd11 => self.map_icd10cm_to_icd11(&key)?.ok_or_else(|| {
                Error::NotFound(format!(
                    "{raw}: no ICD-11 map found (is the code and are the WHO maps installed?)"
                ))
            }),
            System::Icd10Cm => self.map_icd11_to_icd10(&key),
            other => Err(Error::Invalid(format!(
                "maps go between icd10cm and icd11, not to {other}"
            ))),
        }
    }

    pub fn map_icd10cm_to_icd11(&self, key: &str) -> Result<Option<MapResult>> {
        let Some((meta, maps)) = self.who_maps()? else {
            return Ok(None);
        };
        // Candidate WHO ICD-10 codes: the code, then its ancestors.
        for len in (3..=key.len()).rev() {
            let Some(cand) = key.get(..len) else { continue };
            let one = maps.to_icd11_one.find(cand);
            let multi = maps.to_icd11_multiple.find(cand);
            if one.is_empty() && multi.is_empty() {
                continue;
            }
            let via = (len < key.len()).then(|| normalize::icd10cm_display(cand));
            let mut note = match &via {
                Some(v) => format!(
                    "{} is an ICD-10-CM extension of WHO ICD-10 {v}: the map is read at {v} and may be broader than the ICD-10-CM code",
                    normalize::icd10cm_display(key)
                ),
                None => "read directly from the WHO ICD-10 to ICD-11 map".to_string(),
            };
            // A single row in the one-to-many table is not a choice.
            let choices: Vec<MapTarget> = if multi.len() > 1 {
                multi
                    .iter()
                    .map(|&r| target_from_cells(&maps.to_icd11_multiple.row(r)))
                    .collect()
            } else {
                Vec::new()
            };
            if choices.len() > 1 {
                note = format!(
                    "{note}; {} candidate targets: the auditor chooses",
                    choices.len()
                );
            }
            let equivalence = match &via {
                Some(_) => Some("broader (via WHO ICD-10 ancestor)".to_string()),
                None => maps
                    .foundation
                    .find(cand)
                    .first()
                    .and_then(|&r| maps.foundation.row(r).get(7).map(|s| s.to_string())),
            };
            return Ok(Some(MapResult {
                from: normalize::icd10cm_display(key),
                from_system: System::Icd10Cm,
                to_system: System::Icd11,
                equivalence,
                via,
                primary: one
                    .first()
                    .map(|&r| target_from_cells(&maps.to_icd11_one.row(r))),
                choices,
                maps_version: meta.release.clone(),
                note,
                attribution: icd11::attribution(&meta.release),
            }));
        }
        Ok(None)
    }

    fn map_icd11_to_icd10(&self, key: &str) -> Result<MapResult> {
        let Some((meta, maps)) = self.who_maps()? else {
            return Err(Error::NotFound(
                "no WHO ICD-10/ICD-11 maps installed".into(),
            ));
        };
        let rows = maps.icd11_to_icd10(key);
        if rows.is_empty() {
            return Err(Error::NotFound(format!(
                "{}: no ICD-10 map in the WHO tables",
                normalize::icd11_display(key)
            )));
        }
        let tab = self.tabular_for(None)?.map(|(_, t)| t);
        let mut targets = Vec::new();
        for r in &rows {
            let k = normalize::key(&r.icd10_code);
            let (in_cm, billable) = match &tab {
                Some(t) => match t.resolve(&k) {
                    Resolution::Billable { .. } => (Some(true), Some(true)),
                    Resolution::Unknown { .. } => (Some(false), Some(false)),
                    _ => (Some(true), Some(false)),
                },
                None => (None, None),
            };
            targets.push(MapTarget {
                code: Some(r.icd10_code.clone()),
                title: r.icd10_title.clone(),
                kind: "icd10".into(),
                uri: None,
                in_icd10cm: in_cm,
                icd10cm_billable: billable,
            });
        }
        let primary = targets.first().cloned();
        let note = if targets.iter().any(|t| t.icd10cm_billable == Some(false)) {
            "WHO ICD-10 targets; ICD-10-CM often needs more characters: validate and pick a billable ICD-10-CM code".to_string()
        } else {
            "WHO ICD-10 target, also billable in ICD-10-CM".to_string()
        };
        Ok(MapResult {
            from: normalize::icd11_display(key),
            from_system: System::Icd11,
            to_system: System::Icd10Cm,
            via: None,
            equivalence: None,
            primary,
            choices: if targets.len() > 1 { targets } else { vec![] },
            maps_version: meta.release.clone(),
            note,
            attribution: icd11::attribution(&meta.release),
        })
    }
}

// ---------------------------------------------------------------- NCCI

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PtpAnswer {
    pub column1: String,
    pub column2: String,
    pub dos: Date,
    pub edits: Vec<(String, ncci::PtpEdit)>,
    pub message: String,
}

impl Engine {
    /// NCCI procedure-to-procedure edits between two codes on a date, in
    /// both orders, from every installed PTP table.
    pub fn ptp(&self, a: &str, b: &str, dos: Date) -> Result<PtpAnswer> {
        let (a, b) = (normalize::key(a), normalize::key(b));
        let tables = self.ptp_tables()?;
        if tables.is_empty() {
            return Err(Error::NotFound("no NCCI PTP table installed".into()));
        }
        let mut edits = Vec::new();
        for (meta, t) in &tables {
            for (c1, c2) in [(&a, &b), (&b, &a)] {
                if let Some(e) = t.active_edit(c1, c2, dos) {
                    edits.push((meta.id.clone(), e.clone()));
                }
            }
        }
        let message = match edits.first() {
            None => format!("no active PTP edit between {a} and {b} on {dos}"),
            Some((_, e)) => format!(
                "{} is column 2 to {}: {}",
                e.column2,
                e.column1,
                match e.modifier_indicator {
                    0 => "never billable together (modifier indicator 0)",
                    1 => "billable together only with an NCCI-associated modifier (indicator 1)",
                    _ => "edit not applicable (indicator 9)",
                }
            ),
        };
        Ok(PtpAnswer {
            column1: a,
            column2: b,
            dos,
            edits,
            message,
        })
    }
}
