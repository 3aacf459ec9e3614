//! Reads NVIDIA mig-parted configuration files (`version: v1`, `mig-configs:`).
//!
//! Schema and matching as described in `docs/sources.md`, from mig-parted
//! `api/spec/v1/spec.go` and `helpers.go` (@bd7160f4): unknown keys are errors; `devices` is
//! `all` or a list of GPU indices; `mig-enabled: true` needs `mig-devices`; `mig-enabled:
//! false` must not have any; a `device-filter` is one PCI id `0xDDDDVVVV` or a list, each
//! optionally `:0xSSSSVVVV` for the subsystem; a missing filter matches every GPU.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::catalog::parse_pci_id;
use crate::checks::diag;
use crate::diag::{has_errors, Diagnostic, Span};
use crate::source::{parse_yaml_as, DocKind, SourceFile};

/// One PCI id filter: device id, and the subsystem id when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeviceFilter {
    pub device: u32,
    pub subsystem: Option<u32>,
}

/// Which GPU indices an entry applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Devices {
    All,
    Indices(Vec<u32>),
}

/// One entry of a named config.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    /// Empty = every GPU.
    pub device_filter: Vec<DeviceFilter>,
    pub devices: Devices,
    pub mig_enabled: bool,
    /// Profile name -> instances per GPU, sorted by name.
    pub mig_devices: BTreeMap<String, u32>,
    /// 1-based line of the entry in the file.
    pub line: usize,
}

/// A parsed mig-parted file: config name -> entries, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct MigPartedConfig {
    pub configs: BTreeMap<String, Vec<ConfigEntry>>,
}

/// A string or a list of strings, each with its location.
struct OneOrMany(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a PCI id string or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Spanned::new(
                    v.to_string(),
                    Location::UNKNOWN,
                    Location::UNKNOWN,
                )]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `all` or a list of indices.
enum RawDevices {
    All,
    Word(String),
    Indices(Vec<u32>),
}

impl<'de> Deserialize<'de> for RawDevices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDevices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`all` or a list of GPU indices")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDevices, E> {
                Ok(if v == "all" {
                    RawDevices::All
                } else {
                    RawDevices::Word(v.to_string())
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawDevices, A::Error> {
                let mut out = Vec::new();
                while let Some(i) = seq.next_element::<u32>()? {
                    out.push(i);
                }
                Ok(RawDevices::Indices(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(rename = "device-filter", default)]
    device_filter: Option<Spanned<OneOrMany>>,
    devices: Spanned<RawDevices>,
    #[serde(rename = "mig-enabled")]
    mig_enabled: bool,
    #[serde(rename = "mig-devices", default)]
    mig_devices: Option<BTreeMap<String, u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Spanned<String>,
    #[serde(rename = "mig-configs")]
    mig_configs: BTreeMap<String, Spanned<Vec<Spanned<RawEntry>>>>,
}

fn byte_range(loc: &Location) -> Option<Range<usize>> {
    crate::source::known_location_span(loc).map(|s| s.start..s.start + s.len.max(1))
}

fn line_of(text: &str, loc: &Location) -> usize {
    match byte_range(loc) {
        Some(r) => text[..r.start.min(text.len())].matches('\n').count() + 1,
        None => loc.line() as usize,
    }
}

/// Parses a filter string `0xDDDDVVVV` or `0xDDDDVVVV:0xSSSSVVVV`.
pub fn parse_device_filter(text: &str) -> Option<DeviceFilter> {
    match text.split_once(':') {
        Some((dev, sub)) => Some(DeviceFilter {
            device: parse_pci_id(dev)?,
            subsystem: Some(parse_pci_id(sub)?),
        }),
        None => Some(DeviceFilter {
            device: parse_pci_id(text)?,
            subsystem: None,
        }),
    }
}

/// What a mig-parted file must look like, for the shared YAML diagnostics' help lines.
const MIG_PARTED_DOC: DocKind = DocKind {
    doc: "mig-parted's api/spec/v1 format",
    empty_help: "a mig-parted config needs `version: v1` and `mig-configs: {name: [{devices, mig-enabled, mig-devices}]}`",
};

/// The span of a location, if it has one (values read through a visitor have none).
fn span_at(loc: &Location) -> Option<Span> {
    byte_range(loc).map(|r| Span {
        start: r.start,
        len: r.len(),
    })
}

/// Parses and checks a mig-parted config. Returns the config when the file has no problem,
/// and every diagnostic found (codes FP921-FP925, plus the shared FP00x YAML codes; spans are
/// byte ranges of `file.text`).
pub fn parse(file: &SourceFile) -> (Option<MigPartedConfig>, Vec<Diagnostic>) {
    let text = file.text.as_str();
    let raw: RawFile = match parse_yaml_as(file, MIG_PARTED_DOC) {
        Ok(r) => r,
        Err(d) => return (None, vec![d]),
    };
    let mut diags = Vec::new();
    if raw.version.value != "v1" {
        diags.push(
            diag(
                "FP921",
                format!("unsupported version `{}`", raw.version.value),
            )
            .at_opt(span_at(&raw.version.referenced), "not v1")
            .help("only `version: v1` exists"),
        );
    }
    let mut configs = BTreeMap::new();
    for (name, entries) in raw.mig_configs {
        if entries.value.is_empty() {
            diags.push(
                diag("FP925", format!("config `{name}` has no entries"))
                    .at_opt(span_at(&entries.referenced), "no entries")
                    .help("give at least one entry"),
            );
        }
        let mut out = Vec::new();
        for entry in entries.value {
            let loc = entry.referenced;
            let e = entry.value;
            let mut device_filter = Vec::new();
            if let Some(f) = e.device_filter {
                for s in f.value.0 {
                    let at = if s.referenced == Location::UNKNOWN {
                        f.referenced
                    } else {
                        s.referenced
                    };
                    match parse_device_filter(&s.value) {
                        Some(df) => device_filter.push(df),
                        None => diags.push(
                            diag("FP922", format!("`{}` is not a PCI device filter", s.value))
                                .at_opt(span_at(&at), "not 0xDDDDVVVV")
                                .help(
                                    "write 0xDDDDVVVV, e.g. \"0x233010DE\", optionally :0xSSSSVVVV",
                                ),
                        ),
                    }
                }
            }
            let devices_at = span_at(&e.devices.referenced);
            let devices = match e.devices.value {
                RawDevices::All => Devices::All,
                RawDevices::Indices(v) => {
                    let mut seen = std::collections::BTreeSet::new();
                    if let Some(d) = v.iter().find(|i| !seen.insert(**i)) {
                        diags.push(
                            diag(
                                "FP923",
                                format!("GPU index {d} is listed twice in `devices`"),
                            )
                            .at_opt(devices_at, "repeated index")
                            .help("list each GPU index once"),
                        );
                    }
                    Devices::Indices(v)
                }
                RawDevices::Word(w) => {
                    diags.push(
                        diag("FP923", format!("`devices: {w}`: a string must be `all`"))
                            .at_opt(devices_at, "not `all`")
                            .help("use `all` or a list of GPU indices"),
                    );
                    Devices::All
                }
            };
            let mig_devices = match (e.mig_enabled, e.mig_devices) {
                (true, None) => {
                    diags.push(
                        diag(
                            "FP924",
                            format!("config `{name}`: `mig-enabled: true` needs `mig-devices`"),
                        )
                        .at_opt(span_at(&loc), "this entry")
                        .help("add `mig-devices: {}` for MIG on with no instances"),
                    );
                    BTreeMap::new()
                }
                (false, Some(d)) if !d.is_empty() => {
                    diags.push(
                        diag(
                            "FP924",
                            format!(
                                "config `{name}`: `mig-enabled: false` with non-empty `mig-devices`"
                            ),
                        )
                        .at_opt(span_at(&loc), "this entry")
                        .help("remove `mig-devices` or enable MIG"),
                    );
                    d
                }
                (_, d) => d.unwrap_or_default(),
            };
            out.push(ConfigEntry {
                device_filter,
                devices,
                mig_enabled: e.mig_enabled,
                mig_devices,
                line: line_of(text, &loc),
            });
        }
        configs.insert(name, out);
    }
    if has_errors(&diags) {
        return (None, diags);
    }
    (Some(MigPartedConfig { configs }), diags)
}
