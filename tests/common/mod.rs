//! What several integration tests share: where the public corpus is and which of its files are
//! captures.

use std::fs;
use std::path::{Path, PathBuf};

/// `../shared/corpus`, when it is there with its ground truth (it is in CI); or the directory
/// `SHADOWAI_CORPUS` names, laid out the same way (`tests/other-suites.sh` checks other
/// projects' test captures so).
/// A `SHADOWAI_CORPUS` without `truth/` is an error, not a skip: a check asked for must run.
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SHADOWAI_CORPUS").map(PathBuf::from) {
        assert!(
            dir.join("truth").is_dir(),
            "SHADOWAI_CORPUS={}: no truth/ folder there",
            dir.display()
        );
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.join("truth").is_dir().then_some(dir)
}

/// Every capture below `dir`, sorted by path.
pub fn sorted_captures(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    captures(dir, &mut files);
    files.sort();
    files
}

/// Every capture below `dir`, in no particular order.
fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            // bench/ is a merge of other corpus files; truth/ holds no captures.
            if name != "truth" && name != "bench" {
                captures(&path, out);
            }
        } else if [".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}
