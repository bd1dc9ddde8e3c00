//! Fetching release files from the publishers' URLs (the sources config),
//! into `DATA/downloads/`, checked against the size and sha256 the config
//! records. Installing then reads them from there, as from `--from`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use medledger_codesets::store::sha256_hex;
use serde::Deserialize;

const BUILTIN: &str = include_str!("../../../config/sources.json");

#[derive(Deserialize)]
struct Config {
    sources: Vec<Source>,
}

#[derive(Deserialize)]
struct Source {
    name: String,
    url: String,
    sha256: Option<String>,
    bytes: Option<u64>,
}

fn file_name(url: &str) -> String {
    url.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("download.bin")
        .split('?')
        .next()
        .unwrap_or("download.bin")
        .to_string()
}

/// Downloads every source of the config; returns the download directory.
pub fn fetch_sources(data_dir: &Path, config: Option<&Path>, quiet: bool) -> Result<PathBuf> {
    let text = match config {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading sources config {}", p.display()))?,
        None => BUILTIN.to_string(),
    };
    let config: Config = serde_json::from_str(&text).context("sources config is not valid JSON")?;
    let dir = data_dir.join("downloads");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let agent = ureq::Agent::new_with_defaults();
    for s in &config.sources {
        let target = dir.join(file_name(&s.url));
        if target.exists() {
            let bytes = std::fs::read(&target)?;
            if s.sha256
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(&sha256_hex(&bytes)))
            {
                continue;
            }
        }
        if !quiet {
            eprintln!("downloading {} from {}", s.name, s.url);
        }
        let mut resp = agent
            .get(&s.url)
            .call()
            .with_context(|| format!("{}: download from {} failed", s.name, s.url))?;
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: reading {}", s.name, s.url))?;
        if let Some(n) = s.bytes
            && n != bytes.len() as u64
        {
            bail!(
                "{}: {} has {} bytes, the config expects {n}",
                s.name,
                s.url,
                bytes.len()
            );
        }
        if let Some(h) = &s.sha256 {
            let got = sha256_hex(&bytes);
            if !h.eq_ignore_ascii_case(&got) {
                bail!(
                    "{}: checksum mismatch for {}: expected {h}, got {got}",
                    s.name,
                    s.url
                );
            }
        }
        let tmp = target.with_extension("part");
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &target)?;
    }
    Ok(dir)
}
