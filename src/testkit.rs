//! Helpers shared by the unit tests: hex fixtures, the mutation loop that checks no input makes
//! a parser panic, the public corpus's files, and the packets of a capture held in memory.

/// Hex text to bytes; everything but hex digits (spaces, line breaks, quotes) is ignored.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Calls `each` with `count` copies of `input`, each with `changes` bytes overwritten from an
/// xorshift stream that continues in `seed` (so a test that shares one seed over several inputs
/// keeps one reproducible sequence).
pub(crate) fn mutations(
    input: &[u8],
    count: usize,
    changes: usize,
    seed: &mut u64,
    mut each: impl FnMut(&[u8]),
) {
    if input.is_empty() {
        return;
    }
    let mut mutated = input.to_vec();
    for _ in 0..count {
        mutated.copy_from_slice(input);
        for _ in 0..changes {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            let at = (*seed as usize) % mutated.len();
            mutated[at] = (*seed >> 32) as u8;
        }
        each(&mutated);
    }
}

/// Calls `each` with every packet of a capture held in memory, in order, until the capture
/// ends or its first damage; nothing for bytes that are no capture.
pub(crate) fn each_packet(bytes: Vec<u8>, mut each: impl FnMut(&crate::capture::RawPacket<'_>)) {
    let input = Box::new(std::io::Cursor::new(bytes));
    let Ok(mut source) = crate::capture::file::FileSource::from_reader("t".into(), input) else {
        return;
    };
    while let Ok(Some(packet)) = source.next_packet() {
        each(&packet);
    }
}

/// Every file under the public corpus (`../shared/corpus`, beside the project), in a stable
/// order; `None` when the corpus is not there (the caller says it skipped).
pub(crate) fn corpus_files() -> Option<Vec<std::path::PathBuf>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        return None;
    }
    let mut dirs = vec![root];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Some(files)
}
