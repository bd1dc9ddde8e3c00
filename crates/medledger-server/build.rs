//! Embeds the review UI (`ui/`, written by the UI work) into the binary:
//! generates `$OUT_DIR/ui_files.rs` with one `include_bytes!` per file. A
//! missing or empty folder embeds nothing and still compiles.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            continue;
        }
        let path = e.path();
        let key = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if path.is_dir() {
            walk(&path, &key, out);
        } else if path.is_file() {
            out.push((key, path));
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    println!("cargo:rerun-if-changed=ui");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    walk(&dir, "", &mut files);
    let mut src = String::from(
        "/// The embedded UI files: (path under ui/, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (key, path) in &files {
        let _ = writeln!(
            src,
            "    ({key:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ui_files.rs");
    std::fs::write(out, src).expect("write ui_files.rs");
}
