//! The installed data directory.
//!
//! ```text
//! DATA/manifest.json              what is installed (JSON, human readable)
//! DATA/components/<id>.<sha>.bin  one snapshot per component (postcard)
//! DATA/search.<sha>.bin           the search index over the newest releases
//! ```
//!
//! A snapshot is written once and never modified; its name carries a hash of
//! its bytes. An install writes new snapshots first and then replaces
//! `manifest.json` with an atomic rename, so a failed install leaves the
//! previous manifest, and every file it names, untouched.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Date;
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"MLCS";
/// Bumped whenever a stored type changes shape.
pub const SNAPSHOT_FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    Icd10cmTabular,
    Icd10cmIndex,
    Icd10cmOrder,
    Hcpcs,
    Icd11Mms,
    WhoMaps,
    NcciPtp,
    NcciMue,
    NcciAoc,
    Cpt,
}

impl ComponentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Icd10cmTabular => "icd10cm-tabular",
            ComponentKind::Icd10cmIndex => "icd10cm-index",
            ComponentKind::Icd10cmOrder => "icd10cm-order",
            ComponentKind::Hcpcs => "hcpcs",
            ComponentKind::Icd11Mms => "icd11-mms",
            ComponentKind::WhoMaps => "who-maps",
            ComponentKind::NcciPtp => "ncci-ptp",
            ComponentKind::NcciMue => "ncci-mue",
            ComponentKind::NcciAoc => "ncci-aoc",
            ComponentKind::Cpt => "cpt",
        }
    }
}

/// One installed component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentMeta {
    /// Stable id: kind, variant and release ("icd10cm-tabular-2026-04-01").
    pub id: String,
    pub kind: ComponentKind,
    /// Index kind, NCCI setting and the like.
    pub variant: Option<String>,
    /// Release as the publisher names it ("2026", "2026-01", "2024-01").
    pub release: String,
    /// First date of service the release applies to, when it has one.
    pub effective_from: Option<Date>,
    /// Source files, as found under the install directory.
    pub sources: Vec<SourceFile>,
    /// Snapshot path relative to the data directory.
    pub file: String,
    pub file_sha256: String,
    /// Number of records (codes, terms, rows, edits).
    pub items: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// Whether a published checksum was found and matched.
    pub checksum_verified: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub components: Vec<ComponentMeta>,
    /// Search index snapshot and the component ids it was built from.
    pub search: Option<SearchMeta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchMeta {
    pub file: String,
    pub built_from: Vec<String>,
    pub documents: u64,
}

impl Manifest {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("manifest.json")
    }

    /// Reads the manifest; an empty manifest when nothing is installed.
    pub fn load(data_dir: &Path) -> Result<Manifest> {
        let path = Self::path(data_dir);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                if m.format != SNAPSHOT_FORMAT {
                    return Err(Error::Corrupt {
                        path,
                        message: format!(
                            "data format {} but this medledger reads format {SNAPSHOT_FORMAT}",
                            m.format
                        ),
                    });
                }
                Ok(m)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest {
                format: SNAPSHOT_FORMAT,
                ..Manifest::default()
            }),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Writes the manifest atomically (temporary file, fsync, rename).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        let path = Self::path(data_dir);
        let tmp = data_dir.join("manifest.json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid(e.to_string()))?;
        write_synced(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(())
    }

    pub fn of_kind(&self, kind: ComponentKind) -> impl Iterator<Item = &ComponentMeta> {
        self.components.iter().filter(move |c| c.kind == kind)
    }

    pub fn get(&self, id: &str) -> Option<&ComponentMeta> {
        self.components.iter().find(|c| c.id == id)
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))?;
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Serialises `value` and writes it under `data_dir` as `<stem>.<hash>.bin`;
/// returns the relative path and the hash of the bytes.
pub fn write_snapshot<T: Serialize>(
    data_dir: &Path,
    stem: &str,
    value: &T,
) -> Result<(String, String)> {
    let mut bytes = Vec::with_capacity(1 << 20);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&SNAPSHOT_FORMAT.to_le_bytes());
    let body = postcard::to_stdvec(value)
        .map_err(|e| Error::Invalid(format!("cannot encode {stem}: {e}")))?;
    bytes.extend_from_slice(&body);
    let sha = sha256_hex(&bytes);
    let rel = format!("{stem}.{}.bin", &sha[..16]);
    let path = data_dir.join(&rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        write_synced(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    }
    Ok((rel, sha))
}

pub fn read_snapshot<T: DeserializeOwned>(data_dir: &Path, rel: &str) -> Result<T> {
    let path = data_dir.join(rel);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let corrupt = |message: String| Error::Corrupt {
        path: path.clone(),
        message,
    };
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(corrupt("not a medledger snapshot".into()));
    }
    let format = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if format != SNAPSHOT_FORMAT {
        return Err(corrupt(format!(
            "snapshot format {format}, expected {SNAPSHOT_FORMAT}"
        )));
    }
    postcard::from_bytes(&bytes[8..]).map_err(|e| corrupt(e.to_string()))
}

/// Checks every installed file against the hash recorded in the manifest.
pub fn verify(data_dir: &Path) -> Result<Vec<(String, bool)>> {
    let m = Manifest::load(data_dir)?;
    let mut out = Vec::new();
    for c in &m.components {
        let path = data_dir.join(&c.file);
        let ok = std::fs::read(&path)
            .map(|b| sha256_hex(&b) == c.file_sha256)
            .unwrap_or(false);
        out.push((c.file.clone(), ok));
    }
    Ok(out)
}

/// Removes snapshot files that the manifest no longer names.
pub fn collect_garbage(data_dir: &Path, manifest: &Manifest) -> Result<usize> {
    let mut keep: Vec<&str> = manifest
        .components
        .iter()
        .map(|c| c.file.as_str())
        .collect();
    if let Some(s) = &manifest.search {
        keep.push(s.file.as_str());
    }
    let mut removed = 0;
    for dir in [data_dir.to_path_buf(), data_dir.join("components")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_snapshot = path.extension().is_some_and(|e| e == "bin" || e == "tmp");
            let rel = path
                .strip_prefix(data_dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if is_snapshot && !keep.contains(&rel.as_str()) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}
