//! Build script: embeds the signature catalogue (`rules/*.yaml`) into the binary, so the tool
//! works with no files around it, and the IEEE's MAC prefix registry as flat tables.
//!
//! It writes `$OUT_DIR/embedded_rules.rs` with one `(file name, include_str!(absolute path))`
//! pair per file, in sorted order so builds are reproducible. It does not parse or check the
//! YAML: `classify::rules` does that, and its tests load every embedded file.
//!
//! The registry comes from the `oui-data` crate (a build dependency). Its own table is a map of
//! string pointers: about 180,000 pointers that the dynamic loader patched, page by page, at
//! every start of the program (3–4 ms, a fifth of a small audit). `classify::oui` reads the
//! same records from two plain files written here instead: `oui_records.bin`, sorted 16-byte
//! records (key: digits << 40 | prefix, then the name's offset and length, little-endian), and
//! `oui_names.txt`, every organisation name once.

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    // A directory here makes Cargo rerun when any file below it is added, removed or edited.
    println!("cargo:rerun-if-changed=rules");

    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let rules_dir = manifest_dir.join("rules");

    let mut files: Vec<(String, String)> = Vec::new();
    for entry in
        fs::read_dir(&rules_dir).map_err(|e| format!("cannot list {}: {e}", rules_dir.display()))?
    {
        let path = entry?.path();
        if path.extension().and_then(|ext| ext.to_str()) != Some("yaml") || !path.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("rule file name is not UTF-8: {}", path.display()))?
            .to_owned();
        let absolute = path
            .to_str()
            .ok_or_else(|| format!("rule file path is not UTF-8: {}", path.display()))?
            .to_owned();
        files.push((name, absolute));
    }
    files.sort();
    if files.is_empty() {
        println!(
            "cargo:warning=no rules/*.yaml found in {}: the embedded catalogue is empty",
            rules_dir.display()
        );
    }

    let mut out = String::from(
        "/// The signature files under `rules/`, as (file name, contents), sorted by file name.\n\
         pub static EMBEDDED_RULES: &[(&str, &str)] = &[\n",
    );
    for (name, absolute) in &files {
        // `{:?}` of a str is a valid Rust string literal (quotes and backslashes escaped).
        writeln!(out, "    ({name:?}, include_str!({absolute:?})),")?;
    }
    out.push_str("];\n");

    let out_path = PathBuf::from(env::var("OUT_DIR")?).join("embedded_rules.rs");
    fs::write(&out_path, out).map_err(|e| format!("cannot write {}: {e}", out_path.display()))?;
    write_oui_tables()
}

/// `oui_records.bin` and `oui_names.txt` in `$OUT_DIR` (see the top of this file).
fn write_oui_tables() -> Result<(), Box<dyn Error>> {
    let mut records: Vec<(u64, &str)> = Vec::new();
    for (prefix, record) in oui_data::OUI_ENTRIES.entries() {
        let digits = prefix.len() as u64;
        let value = u64::from_str_radix(prefix, 16).ok();
        match value {
            // MA-L and CID (6 hex digits), MA-M (7), MA-S and IAB (9): what lookups try.
            Some(value) if matches!(digits, 6 | 7 | 9) => {
                records.push((digits << 40 | value, record.organization()))
            }
            _ => println!("cargo:warning=OUI prefix {prefix:?} skipped: not 6, 7 or 9 hex digits"),
        }
    }
    records.sort_unstable();
    let mut names = String::new();
    let mut offsets: std::collections::HashMap<&str, (u32, u32)> = Default::default();
    let mut table = Vec::with_capacity(records.len() * 16);
    for (key, name) in &records {
        let (offset, len) = *offsets.entry(name).or_insert_with(|| {
            let at = (names.len() as u32, name.len() as u32);
            names.push_str(name);
            at
        });
        table.extend_from_slice(&key.to_le_bytes());
        table.extend_from_slice(&offset.to_le_bytes());
        table.extend_from_slice(&len.to_le_bytes());
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("oui_records.bin"), table)?;
    fs::write(out_dir.join("oui_names.txt"), names)?;
    Ok(())
}
