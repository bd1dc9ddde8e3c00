//! The code tables the scrubber reads, prepared once for fast look-ups:
//! ICD-10-CM releases, NCCI PTP (by setting), MUE (by setting and
//! quarter), the NCCI add-on code table and HCPCS Level II releases.
//!
//! Build them from an installed [`Engine`] with [`ScrubTables::from_engine`],
//! or add parsed tables one by one (the `add_*` methods), e.g. tables
//! parsed with `medledger_codesets::ncci::parse_ptp` from fixture files.

use std::sync::Arc;

use medledger_codesets::Engine;
use medledger_codesets::engine::ReleaseChoice;
use medledger_codesets::hcpcs::HcpcsRelease;
use medledger_codesets::icd10cm::order::OrderFile;
use medledger_codesets::icd10cm::tabular::Tabular;
use medledger_codesets::ncci::{AocTable, MueTable, NcciSetting, PtpTable};
use medledger_codesets::store::ComponentKind;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::ScrubError;
use super::icd::{IcdIndex, fiscal_year};
use super::keys::{Day, code32, pair};

/// Which NCCI table family applies to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NcciFamily {
    /// Practitioner tables (837P).
    Practitioner,
    /// Hospital outpatient tables (837I outpatient bill types).
    OutpatientHospital,
}

impl NcciFamily {
    fn of(setting: NcciSetting) -> Option<NcciFamily> {
        match setting {
            NcciSetting::Practitioner | NcciSetting::Unknown => Some(NcciFamily::Practitioner),
            NcciSetting::OutpatientHospital => Some(NcciFamily::OutpatientHospital),
            NcciSetting::Dme => None,
        }
    }

    fn index(self) -> usize {
        match self {
            NcciFamily::Practitioner => 0,
            NcciFamily::OutpatientHospital => 1,
        }
    }

    /// Plain-language name for sources.
    pub fn label(self) -> &'static str {
        match self {
            NcciFamily::Practitioner => "practitioner",
            NcciFamily::OutpatientHospital => "hospital outpatient",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PtpRow {
    pub effective: Day,
    pub deleted: Day,
    pub indicator: u8,
    pub table: u16,
}

#[derive(Default)]
pub(crate) struct PtpIndex {
    rows: Vec<(u64, PtpRow)>,
    map: FxHashMap<u64, (u32, u32)>,
    pub tables: Vec<String>,
}

impl PtpIndex {
    fn rebuild(&mut self) {
        self.rows.sort_by_key(|(k, r)| (*k, r.effective, r.deleted));
        self.rows
            .dedup_by_key(|(k, r)| (*k, r.effective, r.deleted, r.indicator));
        self.map.clear();
        self.map.reserve(self.rows.len());
        let mut i = 0;
        while i < self.rows.len() {
            let k = self.rows[i].0;
            let mut j = i + 1;
            while j < self.rows.len() && self.rows[j].0 == k {
                j += 1;
            }
            self.map.insert(k, (i as u32, (j - i) as u32));
            i = j;
        }
    }

    /// The edit with `col1` in column 1 and `col2` in column 2 in force on
    /// `dos`: effective on or before it, deleted after it.
    #[inline]
    pub fn active(&self, col1: u32, col2: u32, dos: Day) -> Option<PtpRow> {
        let &(s, n) = self.map.get(&pair(col1, col2))?;
        self.rows[s as usize..(s + n) as usize]
            .iter()
            .rev()
            .map(|(_, r)| *r)
            .find(|r| r.effective <= dos && dos < r.deleted)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

pub(crate) struct MueIndex {
    pub id: String,
    pub family: NcciFamily,
    pub from: Option<Day>,
    pub map: FxHashMap<u32, (u32, u8)>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct AocRow {
    pub primary: u32,
    pub effective: Day,
    pub deleted: Day,
    pub edit_type: u8,
}

pub(crate) struct AocIndex {
    pub id: String,
    pub map: FxHashMap<u32, (u32, u32)>,
    pub rows: Vec<AocRow>,
}

impl AocIndex {
    #[inline]
    pub fn rows_for(&self, addon: u32) -> &[AocRow] {
        match self.map.get(&addon) {
            Some(&(s, n)) => &self.rows[s as usize..(s + n) as usize],
            None => &[],
        }
    }
}

pub(crate) struct HcpcsIndex {
    pub id: String,
    pub from: Day,
    /// code → (added, terminated: last valid date).
    pub map: FxHashMap<u32, (Day, Day)>,
}

/// Prepared code tables.
#[derive(Default)]
pub struct ScrubTables {
    pub(crate) icd: Vec<IcdIndex>,
    pub(crate) ptp: [PtpIndex; 2],
    pub(crate) mue: Vec<MueIndex>,
    pub(crate) aoc: Option<AocIndex>,
    pub(crate) hcpcs: Vec<HcpcsIndex>,
}

/// What a [`ScrubTables`] holds (for reports and the CLI).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablesSummary {
    /// ICD-10-CM releases: (id, billable codes).
    pub icd10cm: Vec<(String, usize)>,
    /// PTP edits: (family, table ids, rows).
    pub ptp: Vec<(NcciFamily, Vec<String>, usize)>,
    /// MUE tables: (id, family, codes).
    pub mue: Vec<(String, NcciFamily, usize)>,
    /// The add-on code table: (id, rows).
    pub aoc: Option<(String, usize)>,
    /// HCPCS releases: (id, codes).
    pub hcpcs: Vec<(String, usize)>,
}

fn day(d: Option<jiff::civil::Date>) -> Option<Day> {
    d.map(Day::from_date)
}

impl ScrubTables {
    /// No tables: only the edits that need none run.
    pub fn new() -> ScrubTables {
        ScrubTables::default()
    }

    /// Every table installed in the engine's data directory: each ICD-10-CM
    /// tabular (with its order file), the PTP, MUE and add-on code tables
    /// and the HCPCS releases.
    pub fn from_engine(engine: &Engine) -> Result<ScrubTables, ScrubError> {
        let mut t = ScrubTables::new();
        let mut starts: Vec<Option<jiff::civil::Date>> = engine
            .manifest()
            .of_kind(ComponentKind::Icd10cmTabular)
            .map(|m| m.effective_from)
            .collect();
        starts.sort();
        starts.dedup();
        for start in starts {
            if let Some((choice, tab)) = engine.tabular_for(start)? {
                if t.icd.iter().any(|i| i.id == choice.id) {
                    continue;
                }
                let order = engine.order_file(&choice.release)?;
                t.add_icd10cm(&choice, tab, order.as_deref());
            }
        }
        for (meta, table) in engine.ptp_tables()? {
            t.add_ptp(&meta.id, &table);
        }
        for (meta, table) in engine.mue_tables()? {
            t.add_mue(&meta.id, &table);
        }
        if let Some((meta, table)) = engine.aoc_table()? {
            t.set_aoc(&meta.id, &table);
        }
        let mut hcpcs: Vec<_> = engine
            .manifest()
            .of_kind(ComponentKind::Hcpcs)
            .map(|m| m.effective_from)
            .collect();
        hcpcs.sort();
        hcpcs.dedup();
        for from in hcpcs {
            if let Some((meta, rel)) = engine.hcpcs_for(from)?
                && !t.hcpcs.iter().any(|h| h.id == meta.id)
            {
                t.add_hcpcs(&meta.id, &rel);
            }
        }
        Ok(t)
    }

    /// Adds an ICD-10-CM release as the engine chose it.
    pub fn add_icd10cm(
        &mut self,
        choice: &ReleaseChoice,
        tab: Arc<Tabular>,
        order: Option<&OrderFile>,
    ) {
        let idx = IcdIndex::build(
            &choice.id,
            &choice.release,
            day(choice.effective_from),
            day(choice.effective_to),
            tab,
            order,
        );
        self.icd.push(idx);
        self.icd.sort_by_key(|i| i.from);
    }

    /// Adds a PTP table (merged with others of its family; identical rows
    /// of several quarters count once).
    pub fn add_ptp(&mut self, id: &str, table: &PtpTable) {
        let Some(fam) = NcciFamily::of(table.setting) else {
            return;
        };
        let ix = &mut self.ptp[fam.index()];
        let tno = ix.tables.len() as u16;
        ix.tables.push(id.to_string());
        ix.rows.reserve(table.edits.len());
        for e in &table.edits {
            let (a, b) = (code32(&e.column1), code32(&e.column2));
            if a == 0 || b == 0 {
                continue;
            }
            ix.rows.push((
                pair(a, b),
                PtpRow {
                    effective: Day::from_date(e.effective),
                    deleted: e.deleted.map(Day::from_date).unwrap_or(Day::MAX),
                    indicator: e.modifier_indicator,
                    table: tno,
                },
            ));
        }
        ix.rebuild();
    }

    /// Adds an MUE table.
    pub fn add_mue(&mut self, id: &str, table: &MueTable) {
        let Some(family) = NcciFamily::of(table.setting) else {
            return;
        };
        let mut map = FxHashMap::default();
        map.reserve(table.entries.len());
        for e in &table.entries {
            let c = code32(&e.code);
            if c != 0 {
                map.insert(c, (e.value, e.adjudication_indicator));
            }
        }
        self.mue.push(MueIndex {
            id: id.to_string(),
            family,
            from: day(table.effective_from),
            map,
        });
        self.mue.sort_by_key(|m| m.from);
    }

    /// Sets the add-on code table.
    pub fn set_aoc(&mut self, id: &str, table: &AocTable) {
        let mut rows: Vec<(u32, AocRow)> = table
            .edits
            .iter()
            .filter_map(|e| {
                let (a, p) = (code32(&e.addon_code), code32(&e.primary_code));
                (a != 0).then(|| {
                    (
                        a,
                        AocRow {
                            primary: p,
                            effective: Day::from_date(e.effective),
                            deleted: e.deleted.map(Day::from_date).unwrap_or(Day::MAX),
                            edit_type: e.edit_type,
                        },
                    )
                })
            })
            .collect();
        rows.sort_by_key(|(a, r)| (*a, r.primary));
        let mut map = FxHashMap::default();
        let mut i = 0;
        while i < rows.len() {
            let mut j = i + 1;
            while j < rows.len() && rows[j].0 == rows[i].0 {
                j += 1;
            }
            map.insert(rows[i].0, (i as u32, (j - i) as u32));
            i = j;
        }
        self.aoc = Some(AocIndex {
            id: id.to_string(),
            map,
            rows: rows.into_iter().map(|(_, r)| r).collect(),
        });
    }

    /// Adds a HCPCS Level II release.
    pub fn add_hcpcs(&mut self, id: &str, rel: &HcpcsRelease) {
        let mut map = FxHashMap::default();
        map.reserve(rel.codes.len());
        for c in &rel.codes {
            let k = code32(&c.code);
            if k != 0 {
                map.insert(
                    k,
                    (
                        c.added.map(Day::from_date).unwrap_or(Day(i32::MIN)),
                        c.terminated.map(Day::from_date).unwrap_or(Day::MAX),
                    ),
                );
            }
        }
        self.hcpcs.push(HcpcsIndex {
            id: id.to_string(),
            from: Day::from_date(rel.effective_from),
            map,
        });
        self.hcpcs.sort_by_key(|h| h.from);
    }

    /// What is loaded.
    pub fn summary(&self) -> TablesSummary {
        TablesSummary {
            icd10cm: self
                .icd
                .iter()
                .map(|i| (i.id.clone(), i.billable()))
                .collect(),
            ptp: [NcciFamily::Practitioner, NcciFamily::OutpatientHospital]
                .into_iter()
                .filter(|f| self.ptp[f.index()].len() > 0)
                .map(|f| {
                    (
                        f,
                        self.ptp[f.index()].tables.clone(),
                        self.ptp[f.index()].len(),
                    )
                })
                .collect(),
            mue: self
                .mue
                .iter()
                .map(|m| (m.id.clone(), m.family, m.map.len()))
                .collect(),
            aoc: self.aoc.as_ref().map(|a| (a.id.clone(), a.rows.len())),
            hcpcs: self
                .hcpcs
                .iter()
                .map(|h| (h.id.clone(), h.map.len()))
                .collect(),
        }
    }

    /// The ICD-10-CM release for a date of service: the one that covers
    /// it, else one of the same fiscal year (as the engine falls back).
    pub(crate) fn icd_for(&self, dos: Day) -> Option<&IcdIndex> {
        self.icd.iter().rev().find(|i| i.covers(dos)).or_else(|| {
            let fy = fiscal_year(dos);
            self.icd.iter().rev().find(|i| i.fiscal_year() == Some(fy))
        })
    }

    pub(crate) fn ptp(&self, fam: NcciFamily) -> Option<&PtpIndex> {
        let p = &self.ptp[fam.index()];
        (p.len() > 0).then_some(p)
    }

    pub(crate) fn hcpcs_for(&self, dos: Day) -> Option<&HcpcsIndex> {
        self.hcpcs
            .iter()
            .rev()
            .find(|h| h.from <= dos)
            .or(self.hcpcs.first())
    }

    pub(crate) fn ptp_table_id(&self, fam: NcciFamily, t: u16) -> &str {
        self.ptp[fam.index()]
            .tables
            .get(t as usize)
            .map(String::as_str)
            .unwrap_or("")
    }
}
