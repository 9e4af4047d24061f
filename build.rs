//! Build script: embeds the signature catalogue (`rules/*.yaml`) into the binary, so the tool
//! works with no files around it.
//!
//! It writes `$OUT_DIR/embedded_rules.rs` with one `(file name, include_str!(absolute path))`
//! pair per file, in sorted order so builds are reproducible. It does not parse or check the
//! YAML: `classify::rules` does that, and its tests load every embedded file.

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
    Ok(())
}
