//! `shadowai rules list`: the signature catalogue as a table or JSON.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment};

use super::escape::terminal;
use crate::classify::rules::Service;

pub fn write_table(services: &[&Service], out: &mut dyn Write) -> io::Result<()> {
    let mut table = super::table::styled_table(vec![
        "Id",
        "Service",
        "Vendor",
        "Kind",
        "Hosts",
        "Ranges",
        "Trains on consumer input",
        "Business tier without training",
    ]);
    for s in services {
        table.add_row(vec![
            Cell::new(terminal(&s.id)),
            Cell::new(terminal(&s.name)),
            Cell::new(terminal(&s.vendor)),
            Cell::new(s.kind),
            Cell::new(s.hosts.len()).set_alignment(CellAlignment::Right),
            Cell::new(s.cidrs.len()).set_alignment(CellAlignment::Right),
            Cell::new(s.data.trains_on_consumer_input),
            Cell::new(s.data.business_tier_without_training),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{} service(s).", services.len())
}

pub fn write_json(services: &[&Service], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, services)?;
    writeln!(out)
}
