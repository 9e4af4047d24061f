//! `shadowai interfaces`: the capture devices libpcap offers, as a table or JSON. Interface
//! names and descriptions come from the system, not the wire, but are escaped all the same.

use std::io::{self, Write};

use super::escape::terminal;
use crate::capture::live::Interface;

pub fn write_table(interfaces: &[Interface], out: &mut dyn Write) -> io::Result<()> {
    let mut table = super::table::styled_table(vec![
        "Interface",
        "Default",
        "State",
        "Addresses",
        "Description",
    ]);
    for i in interfaces {
        let mut state: Vec<&str> = vec![if i.up { "up" } else { "down" }];
        if i.running {
            state.push("running");
        }
        if i.loopback {
            state.push("loopback");
        }
        if i.wireless {
            state.push("wireless");
        }
        table.add_row(vec![
            terminal(&i.name).into_owned(),
            if i.default { "yes" } else { "" }.to_string(),
            state.join(", "),
            i.addresses.join("\n"),
            i.description
                .as_deref()
                .map(|d| terminal(d).into_owned())
                .unwrap_or_default(),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{} interface(s). `shadowai scan` without -i captures on the default one.",
        interfaces.len()
    )
}

pub fn write_json(interfaces: &[Interface], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, interfaces)?;
    writeln!(out)
}
