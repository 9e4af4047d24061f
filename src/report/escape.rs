//! Escaping of untrusted strings. SNI, Host headers and DNS names are written by whoever sends
//! the packet: before they reach a terminal, control characters become visible escapes; before
//! they reach a spreadsheet, a leading `= + - @` can no longer start a formula.

use std::borrow::Cow;

/// Unicode's bidirectional controls (embeddings, overrides, isolates and marks): invisible, they
/// reorder what follows, so that a name can read on screen as another one.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Control characters (C0, DEL, C1) shown as `\xNN`, bidirectional controls as `\u{NNNN}`,
/// so that they cannot drive a terminal or reorder a name on screen.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
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

/// RFC 4180 quoting and the formula defusing, for text `terminal` has escaped (so it holds no
/// tab or line break).
fn quoted(s: &str) -> Cow<'_, str> {
    let formula = matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@'));
    let needs_quotes = formula || s.contains([',', '"']);
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

/// `s` as HTML text: `& < > " '` as entities, control characters as `terminal` shows them.
pub fn html(s: &str) -> String {
    let s = terminal(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_controls() {
        assert_eq!(terminal("chatgpt.com"), "chatgpt.com");
        assert_eq!(terminal("a\x1b[31mb\x07"), "a\\x1b[31mb\\x07");
        assert_eq!(terminal("x\u{9b}y"), "x\\x9by");
        // A right-to-left override would show "chatgpt.com" reversed parts as another name.
        assert_eq!(terminal("moc.\u{202e}tpgtahc"), "moc.\\u{202e}tpgtahc");
        assert_eq!(terminal("a\u{2066}b\u{200f}"), "a\\u{2066}b\\u{200f}");
        // Letters of any script stay as they are.
        assert_eq!(terminal("ÄÖ-日本"), "ÄÖ-日本");
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

    #[test]
    fn html_escapes_markup_and_controls() {
        assert_eq!(html("chatgpt.com"), "chatgpt.com");
        assert_eq!(
            html("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(html("a&b \"c\""), "a&amp;b &quot;c&quot;");
        assert_eq!(html("CE\0\x1b[2J"), "CE\\x00\\x1b[2J");
    }
}
