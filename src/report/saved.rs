//! A saved JSON report read back (`audit` or `scan --format json`): checked for what a
//! comparison needs (`diff`), or read whole into the report's model (`render`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::SCHEMA_VERSION;

/// A report read back: its path (as given) and its JSON.
pub struct Loaded {
    pub path: String,
    pub json: Value,
}

/// Reads a report written by `audit --format json` (or `scan`); the error names the file and,
/// for JSON that does not parse, the line and column; for a finding or device without the
/// fields a comparison needs, or a finding listed twice, its place in the list.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Read {
        file: name.clone(),
        error,
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|error| LoadError::Json {
        file: name.clone(),
        error,
    })?;
    let invalid = |reason: String| LoadError::Invalid {
        file: name.clone(),
        reason,
    };
    let give = "give reports of audit or scan --format json";
    match json.get("schema_version").map(Value::as_u64) {
        None => {
            let reason = format!("not a shadowai report (no schema_version): {give}");
            return Err(invalid(reason));
        }
        Some(Some(v)) if v == u64::from(SCHEMA_VERSION) => {}
        Some(Some(v)) => {
            let reason =
                format!("report schema version {v}; this shadowai reads version {SCHEMA_VERSION}");
            return Err(invalid(reason));
        }
        Some(None) => {
            let v = json.get("schema_version").unwrap_or(&Value::Null);
            return Err(invalid(format!("schema_version {v} is not a number")));
        }
    }
    for list in ["findings", "devices"] {
        if !json.get(list).is_some_and(Value::is_array) {
            let reason = format!("no \"{list}\" list: {give} (a devices report has no findings)");
            return Err(invalid(reason));
        }
    }
    let mut keys = BTreeSet::new();
    for (n, f) in list(&json, "findings").iter().enumerate() {
        for field in ["device", "service_id", "status"] {
            if !f.get(field).is_some_and(Value::is_string) {
                return Err(invalid(format!("finding {} has no \"{field}\"", n + 1)));
            }
        }
        let (device, service) = finding_key(f);
        if !keys.insert((device, service)) {
            let reason = format!(
                "finding {} repeats device {device} with service {service}",
                n + 1
            );
            return Err(invalid(reason));
        }
    }
    for (n, d) in list(&json, "devices").iter().enumerate() {
        if !d.get("id").is_some_and(Value::is_string) {
            return Err(invalid(format!("device {} has no \"id\"", n + 1)));
        }
    }
    Ok(Loaded { path: name, json })
}

/// A saved report read back whole (for `render`): `load`'s checks, then every field the report
/// holds; a field this version does not know is ignored.
pub fn read_report(path: &Path) -> Result<super::Report, LoadError> {
    let loaded = load(path)?;
    serde_json::from_value(loaded.json).map_err(|error| LoadError::Invalid {
        file: loaded.path,
        reason: format!("not a report this version can render: {error}"),
    })
}

/// Why a report could not be read for a comparison; each names the file. The cause is part of
/// the message (not a `source`), so that it is said once.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: cannot read: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("{file}: not a JSON report: {error}")]
    Json {
        file: String,
        error: serde_json::Error,
    },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

pub(super) fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn list<'a>(report: &'a Value, key: &str) -> &'a [Value] {
    report
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(super) fn finding_key(f: &Value) -> (&str, &str) {
    (str_of(f, "device"), str_of(f, "service_id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `load` refuses, each time naming the file and what is wrong.
    #[test]
    fn load_names_the_file_and_the_fault() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |text: &str| {
            let path = dir.path().join("r.json");
            std::fs::write(&path, text).unwrap();
            let error = load(&path).err().expect("refused").to_string();
            assert!(error.starts_with(&path.display().to_string()), "{error}");
            error
        };
        let f = |device: &str| {
            format!(r#"{{"device":"{device}","service_id":"x","status":"unapproved"}}"#)
        };
        let report = |findings: &str| {
            format!(r#"{{"schema_version":1,"findings":[{findings}],"devices":[{{"id":"aa"}}]}}"#)
        };
        assert!(refused("{\"x\":").contains("line 1 column 5"));
        assert!(refused(r#"{"schema_version":"1"}"#).contains("is not a number"));
        assert!(refused(r#"{"schema_version":2}"#).contains("version 2"));
        assert!(refused(r#"{"schema_version":1,"devices":[]}"#).contains("no \"findings\""));
        let twice = refused(&report(&format!("{},{}", f("aa"), f("aa"))));
        assert!(
            twice.contains("finding 2 repeats device aa with service x"),
            "{twice}"
        );
        let bare = refused(&report(r#"{"device":"aa","service_id":"x"}"#));
        assert!(bare.contains("finding 1 has no \"status\""), "{bare}");
        let path = dir.path().join("ok.json");
        std::fs::write(&path, report(&f("aa"))).unwrap();
        assert!(load(&path).is_ok());
    }
}
