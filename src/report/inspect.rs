//! The evidence view of `shadowai inspect`: every name signal, one per line, so an admin can
//! check a finding against the packets and the tests can compare with an independent tool.
//! JSON Lines fields: `file, frame, kind, value, src_mac, src, dst, sport, dport`.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::Table;
use serde::Serialize;

use super::escape::terminal;
use super::pseudonym::Pseudonymizer;
use crate::classify::findings::MacDisplay;
use crate::pipeline::{Signal, SignalSink};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SignalRow {
    pub file: String,
    pub frame: u64,
    pub kind: String,
    pub value: String,
    pub src_mac: Option<String>,
    pub src: Option<String>,
    pub dst: Option<String>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

impl SignalRow {
    pub fn new(file: &str, s: &Signal<'_>) -> Self {
        SignalRow {
            file: file.to_string(),
            frame: s.frame,
            kind: s.kind.to_string(),
            value: s.value.to_string(),
            src_mac: s.src_mac.map(|m| MacDisplay(m).to_string()),
            src: s.src.map(|ip| ip.to_string()),
            dst: s.dst.map(|ip| ip.to_string()),
            sport: s.sport,
            dport: s.dport,
        }
    }
}

/// Streams one JSON object per line. The first write error (a closed pipe, a full disk) is
/// kept and stops further writes; the caller reports it after the run.
pub struct JsonLines<W: Write> {
    out: W,
    pub file: String,
    pub error: Option<io::Error>,
    pub pseudonymizer: Option<Pseudonymizer>,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            file: String::new(),
            error: None,
            pseudonymizer: None,
        }
    }

    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

impl<W: Write> SignalSink for JsonLines<W> {
    fn enabled(&self) -> bool {
        self.error.is_none()
    }

    fn signal(&mut self, signal: &Signal<'_>) {
        if self.error.is_some() {
            return;
        }
        let mut row = SignalRow::new(&self.file, signal);
        if let Some(p) = &self.pseudonymizer {
            p.apply_row(&mut row);
        }
        let result = serde_json::to_writer(&mut self.out, &row)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = result {
            self.error = Some(e);
        }
    }
}

/// Collects rows for one terminal table (or for tests).
#[derive(Default)]
pub struct Collect {
    pub file: String,
    pub rows: Vec<SignalRow>,
    pub pseudonymizer: Option<Pseudonymizer>,
}

impl SignalSink for Collect {
    fn signal(&mut self, signal: &Signal<'_>) {
        let mut row = SignalRow::new(&self.file, signal);
        if let Some(p) = &self.pseudonymizer {
            p.apply_row(&mut row);
        }
        self.rows.push(row);
    }
}

pub fn write_table(rows: &[SignalRow], out: &mut dyn Write) -> io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "File",
        "Frame",
        "Kind",
        "Value",
        "Source MAC",
        "Source",
        "Destination",
    ]);
    for r in rows {
        table.add_row(vec![
            terminal(&r.file).into_owned(),
            r.frame.to_string(),
            r.kind.clone(),
            terminal(&r.value).into_owned(),
            r.src_mac.clone().unwrap_or_default(),
            endpoint(&r.src, r.sport),
            endpoint(&r.dst, r.dport),
        ]);
    }
    writeln!(out, "{table}")
}

fn endpoint(ip: &Option<String>, port: Option<u16>) -> String {
    match (ip, port) {
        (Some(ip), Some(port)) => format!("{ip} {port}"),
        (Some(ip), None) => ip.clone(),
        _ => String::new(),
    }
}
