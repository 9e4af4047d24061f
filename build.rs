//! Build script: embeds the signature catalogue (`rules/*.yaml`) into the binary, so the tool
//! works with no files around it, and the IEEE's MAC prefix registry as flat tables.
//!
//! It writes `$OUT_DIR/embedded_rules.rs` with one `(file name, include_str!(absolute path))`
//! pair per file, in sorted order so builds are reproducible, and beside it each file's
//! compiled form: its YAML as JSON, plus the line and column of every service id, host pattern
//! and address range, in file order. Parsing the YAML was most of every command's start-up
//! (about 5 ms of CPU; the YAML parser reads some 20 MB/s); reading the JSON takes under 1 ms.
//! The compiled form is only a cache: it does not check the rules (`classify::rules` does
//! that, whichever form it reads, and its tests load every embedded file both ways and compare),
//! and a file it cannot convert is left without one, so the program parses the YAML and
//! reports the problem with its line and column.
//!
//! The registry comes from the `oui-data` crate (a build dependency). Its own table is a map of
//! string pointers: about 180,000 pointers that the dynamic loader patched, page by page, at
//! every start of the program (3–4 ms, a fifth of a small audit). `classify::oui` reads the
//! same records from two plain files written here instead: `oui_records.bin`, sorted 16-byte
//! records (key: digits << 40 | prefix, then the name's offset and length, little-endian), and
//! `oui_names.txt`, every organisation name once.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_saphyr::Spanned;

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

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let mut out = String::from(
        "/// The signature files under `rules/`, as (file name, contents), sorted by file name.\n\
         pub static EMBEDDED_RULES: &[(&str, &str)] = &[\n",
    );
    for (name, absolute) in &files {
        // `{:?}` of a str is a valid Rust string literal (quotes and backslashes escaped).
        writeln!(out, "    ({name:?}, include_str!({absolute:?})),")?;
    }
    out.push_str(
        "];\n\n/// The compiled form of each file of `EMBEDDED_RULES` (same order), if it has one.\n\
         pub static EMBEDDED_COMPILED: &[Option<&str>] = &[\n",
    );
    for (name, absolute) in &files {
        match compile(Path::new(absolute)) {
            Ok(json) => {
                let path = out_dir.join(format!("{name}.json"));
                fs::write(&path, json)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                let path = path
                    .to_str()
                    .ok_or_else(|| format!("output path is not UTF-8: {}", path.display()))?
                    .to_owned();
                writeln!(out, "    Some(include_str!({path:?})),")?;
            }
            Err(e) => {
                println!("cargo:warning=rules/{name} is embedded as YAML only: {e}");
                out.push_str("    None,\n");
            }
        }
    }
    out.push_str("];\n");

    let out_path = out_dir.join("embedded_rules.rs");
    fs::write(&out_path, out).map_err(|e| format!("cannot write {}: {e}", out_path.display()))?;
    write_oui_tables()
}

/// Where a file's service ids, host patterns and address ranges stand, in file order (the
/// shape `classify::rules` reads; everything else is skipped here).
#[derive(Deserialize)]
struct Places {
    services: Vec<ServicePlaces>,
}

#[derive(Deserialize)]
struct ServicePlaces {
    id: Spanned<IgnoredAny>,
    #[serde(default)]
    hosts: Vec<HostPlaces>,
    #[serde(default)]
    cidrs: Vec<CidrPlaces>,
}

#[derive(Deserialize)]
struct HostPlaces {
    pattern: Spanned<IgnoredAny>,
}

#[derive(Deserialize)]
struct CidrPlaces {
    cidr: Spanned<IgnoredAny>,
}

/// A rule file's compiled form: `{"places": [[line, column], ...], "file": <the YAML as JSON>}`.
fn compile(path: &Path) -> Result<String, Box<dyn Error>> {
    let text = fs::read_to_string(path)?;
    // Untyped, a plain `yes` would be read as a boolean (YAML 1.1), where the rules' typed
    // fields read the string "yes": only YAML 1.2's true and false are booleans here. Any
    // other difference between untyped and typed reading (a plain `1.10` as a number, say)
    // makes the compiled form fail to load, and the program reads that file's YAML instead.
    let options = serde_saphyr::options! { strict_booleans: true };
    let file: serde_json::Value = serde_saphyr::from_str_with_options(&text, options)?;
    let places: Places = serde_saphyr::from_str(&text)?;
    let mut at = Vec::new();
    let mut place =
        |location: serde_saphyr::Location| at.push([location.line(), location.column()]);
    for service in &places.services {
        place(service.id.referenced);
        service
            .hosts
            .iter()
            .for_each(|h| place(h.pattern.referenced));
        service.cidrs.iter().for_each(|c| place(c.cidr.referenced));
    }
    let compiled = serde_json::json!({ "places": at, "file": file });
    Ok(serde_json::to_string(&compiled)?)
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
