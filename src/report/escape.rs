//! Escaping of untrusted strings. SNI, Host headers and DNS names are written by whoever sends
//! the packet: before they reach a terminal, control characters become visible escapes; before
//! they reach a spreadsheet, a leading `= + - @` can no longer start a formula.

use std::borrow::Cow;

/// Control characters (C0, DEL, C1) shown as `\xNN` / `\u{NN}` so they cannot drive a terminal.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let code = c as u32;
            if code < 0x100 {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One CSV cell (RFC 4180 quoting) that a spreadsheet will not run as a formula, its control
/// characters escaped as `terminal` escapes them: a name from the wire (a DHCP vendor class
/// ending in NUL, a host name holding an escape sequence) would otherwise reach the file raw,
/// where a spreadsheet cannot show it and `cat` of the file would run it.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match terminal(s) {
        Cow::Borrowed(s) => quoted(s),
        Cow::Owned(s) => Cow::Owned(quoted(&s).into_owned()),
    }
}

fn quoted(s: &str) -> Cow<'_, str> {
    let formula = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let needs_quotes = formula || s.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    out.push('"');
    if formula {
        out.push('\'');
    }
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_controls() {
        assert_eq!(terminal("chatgpt.com"), "chatgpt.com");
        assert_eq!(terminal("a\x1b[31mb\x07"), "a\\x1b[31mb\\x07");
        assert_eq!(terminal("x\u{9b}y"), "x\\x9by");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        // Control characters are escaped; what that leaves is quoted as any other text.
        assert_eq!(
            csv_cell("Microsoft Windows CE\0"),
            "Microsoft Windows CE\\x00"
        );
        assert_eq!(csv_cell("pc\x1b]0;x\x07,y"), "\"pc\\x1b]0;x\\x07,y\"");
        assert_eq!(csv_cell("\tname\r\n"), "\\x09name\\x0d\\x0a");
    }
}
