//! Helpers shared by the parsers' unit tests: hex fixtures and the mutation loop that checks
//! no input makes a parser panic.

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
