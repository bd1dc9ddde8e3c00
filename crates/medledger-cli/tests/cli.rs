//! The `medledger` binary's stable interface, as outside checks use it:
//! `--data-dir` / `MEDLEDGER_DATA`, `codesets install --from`, and the JSON of
//! `code validate`, `code search`, `code show` and `code map`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

use common::{data, json, medledger};

#[test]
fn validate_prints_one_object_per_code() {
    let v = json(&medledger(
        data(),
        &[
            "code",
            "validate",
            "E11.9",
            "S52.521",
            "Z79.4",
            "--dos",
            "2026-03-02",
            "--json",
        ],
    ));
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["code"], "E11.9");
    assert_eq!(arr[0]["valid"], true);
    assert_eq!(arr[1]["code"], "S52.521");
    assert_eq!(arr[1]["valid"], false);
    assert_eq!(arr[1]["reason"], "missing_7th_character");
    assert_eq!(arr[1]["completions"][0], "S52.521A");
    assert_eq!(arr[2]["valid"], true);
    for o in arr {
        assert!(o["reason"].is_string() && o["system"] == "icd10cm", "{o}");
    }
}

#[test]
fn search_prints_ranked_objects_with_code_and_system() {
    let v = json(&medledger(
        data(),
        &[
            "code",
            "search",
            "type 2 diabetes with kidney disease",
            "--json",
        ],
    ));
    let arr = v.as_array().expect("array");
    assert!(!arr.is_empty());
    assert_eq!(arr[0]["code"], "E11.22");
    assert_eq!(arr[0]["system"], "icd10cm");
    let v = json(&medledger(
        data(),
        &[
            "code", "search", "digital", "mental", "health", "--system", "hcpcs", "--json",
        ],
    ));
    assert!(
        v.as_array()
            .expect("array")
            .iter()
            .all(|h| h["system"] == "hcpcs")
    );
}

#[test]
fn show_and_map_print_the_codes_they_name() {
    let v = json(&medledger(data(), &["code", "show", "E11.22", "--json"]));
    assert_eq!(v["code"], "E11.22");
    assert_eq!(v["billable"], true);
    let v = json(&medledger(
        data(),
        &["code", "map", "E11.9", "--to", "icd11", "--json"],
    ));
    assert_eq!(v["from"], "E11.9");
    assert_eq!(v["primary"]["code"], "5A11");
}

#[test]
fn the_data_dir_also_comes_from_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_medledger"))
        .env("MEDLEDGER_DATA", data())
        .args(["code", "validate", "I10", "--json"])
        .output()
        .expect("runs");
    assert_eq!(json(&out)[0]["valid"], true);
}

#[test]
fn errors_are_clear_and_json_when_asked() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = medledger(empty.path(), &["code", "show", "E11.9"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("codesets install"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = medledger(empty.path(), &["--json", "code", "show", "E11.9"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("no code sets installed")),
        "{v}"
    );
    let out = medledger(
        data(),
        &["code", "validate", "E11.9", "--dos", "03/02/2026"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));
}

/// Serves files from a directory on a loopback port, for a bounded number
/// of requests.
fn serve(dir: PathBuf, requests: usize) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let path = req
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            match std::fs::read(dir.join(&path)) {
                Ok(body) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(&body);
                }
                Err(_) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    port
}

#[test]
fn install_without_from_downloads_the_configured_sources() {
    let files = tempfile::tempdir().expect("tempdir");
    let tab = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../medledger-codesets/tests/fixtures/icd10cm/fy2026-tabular.fixture.xml");
    std::fs::copy(&tab, files.path().join("icd10cm_tabular_2026.xml")).expect("copy");
    let sha = {
        let bytes = std::fs::read(&tab).expect("read");
        medledger_codesets_sha(&bytes)
    };
    let port = serve(files.path().to_path_buf(), 4);
    let config = files.path().join("sources.json");
    std::fs::write(
        &config,
        format!(r#"{{"sources": [{{"name": "tabular", "url": "http://127.0.0.1:{port}/icd10cm_tabular_2026.xml", "sha256": "{sha}"}}]}}"#),
    )
    .expect("write");
    let data = tempfile::tempdir().expect("tempdir");
    let v = json(&medledger(
        data.path(),
        &[
            "--json",
            "codesets",
            "install",
            "--config",
            config.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(v["installed"][0]["id"], "icd10cm-tabular-2025-10-01");
    assert!(
        data.path()
            .join("downloads/icd10cm_tabular_2026.xml")
            .exists()
    );

    // A wrong checksum in the config stops the install.
    std::fs::write(
        &config,
        format!(r#"{{"sources": [{{"name": "t", "url": "http://127.0.0.1:{port}/icd10cm_tabular_2026.xml", "sha256": "{}"}}]}}"#, "0".repeat(64)),
    )
    .expect("write");
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = medledger(
        fresh.path(),
        &[
            "codesets",
            "install",
            "--config",
            config.to_str().expect("utf8"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn medledger_codesets_sha(bytes: &[u8]) -> String {
    medledger_codesets::store::sha256_hex(bytes)
}
