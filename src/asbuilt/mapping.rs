//! The mapping file: where a capture names a device or port differently from the design.
//!
//! ```yaml
//! devices:                     # capture name or id -> design name
//!   SLG3-02: SLG03-02          # a switch hostname with a naming slip
//!   S-2c5eab0300b87b40: A09-P1-IBLEAF-04-04   # an InfiniBand node id (GUID)
//!   "02:00:00:31:00:00": host1                # an LLDP chassis id
//! ports:                       # capture device:port -> design device:port (wins over devices)
//!   "H-e09d730300858d88:1": "a06-p1-dgx-02-c06:HCA-6"   # an HCA with the default description
//! ```
//!
//! Keys match case-insensitively on the device part. Every target must name a device (and
//! port) of the design (FP944).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_saphyr::Spanned;

use super::CapturedEnd;
use crate::diag::{Diagnostic, Span};
use crate::source::{known_span_of, read_source, DocKind, SourceFile};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    devices: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    ports: BTreeMap<String, Spanned<String>>,
}

const MAPPING_DOC: DocKind = DocKind {
    doc: "docs/as-built.md",
    empty_help: "a mapping file has `devices:` and/or `ports:`; see docs/as-built.md",
};

/// A target in the design: device and optional port, and where the file says so.
#[derive(Debug, Clone)]
pub struct Target {
    pub device: String,
    pub port: Option<String>,
    pub span: Option<Span>,
}

#[derive(Debug)]
pub struct Mapping {
    pub file: SourceFile,
    devices: HashMap<String, Target>,
    ports: HashMap<(String, String), Target>,
}

fn split_endpoint(s: &str) -> Option<(&str, &str)> {
    let (d, p) = s.rsplit_once(':')?;
    (!d.is_empty() && !p.is_empty()).then_some((d, p))
}

impl Mapping {
    /// Reads a mapping file; a problem is one diagnostic with its span (exit 2).
    #[allow(clippy::result_large_err)]
    pub fn load(path: &Path) -> Result<Mapping, (SourceFile, Diagnostic)> {
        let file = read_source(path)?;
        let raw: RawMapping = match crate::source::parse_yaml_as(&file, MAPPING_DOC) {
            Ok(r) => r,
            Err(d) => return Err((file, d)),
        };
        let mut devices = HashMap::new();
        for (k, v) in raw.devices {
            devices.insert(
                k.to_ascii_lowercase(),
                Target {
                    device: v.value.clone(),
                    port: None,
                    span: known_span_of(&v),
                },
            );
        }
        let mut ports = HashMap::new();
        for (k, v) in raw.ports {
            let span = known_span_of(&v);
            let (Some((kd, kp)), Some((vd, vp))) = (split_endpoint(&k), split_endpoint(&v.value))
            else {
                return Err((
                    file.clone(),
                    Diagnostic::error("FP944", format!("`{k}: {}` is not `device:port: device:port`", v.value))
                        .at_opt(span, "expected `device:port`")
                        .help("a `ports:` entry maps one capture port to one design port, both written `device:port`"),
                ));
            };
            ports.insert(
                (kd.to_ascii_lowercase(), kp.to_string()),
                Target {
                    device: vd.to_string(),
                    port: Some(vp.to_string()),
                    span,
                },
            );
        }
        Ok(Mapping {
            file,
            devices,
            ports,
        })
    }

    /// Every target, for checking against the design.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        let mut all: Vec<&Target> = self.devices.values().chain(self.ports.values()).collect();
        all.sort_by_key(|t| t.span.map(|s| s.start));
        all.into_iter()
    }

    /// The design device and port a capture end stands for, when the file maps it.
    pub fn resolve(&self, end: &CapturedEnd) -> Option<(String, String)> {
        let mut ids = vec![end.device.to_ascii_lowercase()];
        if let Some(g) = &end.guid {
            ids.push(g.to_ascii_lowercase());
        }
        for id in &ids {
            if let Some(t) = self.ports.get(&(id.clone(), end.port.clone())) {
                return Some((
                    t.device.clone(),
                    t.port.clone().unwrap_or_else(|| end.port.clone()),
                ));
            }
        }
        for id in &ids {
            if let Some(t) = self.devices.get(id) {
                return Some((t.device.clone(), end.port.clone()));
            }
        }
        None
    }
}
