//! lldpd neighbour captures in: `lldpcli -f json show neighbors details` (and `-f json0`),
//! one file per device, read into half links, one per neighbour entry.
//!
//! What the importer handles (all of it visible in the lab captures, tests/fixtures/as-built/lldp):
//! - The local device's name is not in the output: it is the file name up to its first `.`
//!   (`leaf1.json`, `leaf1.json0.json` are both `leaf1`). The key of each `lldp.interface`
//!   entry (json) or its `name` (json0) is the local port.
//! - `-f json` writes `lldp.interface` as an object when exactly one port has a neighbour and
//!   as an array of one-key objects when several do; `-f json0` always writes arrays and puts
//!   names in `name` fields, values in `[{"value": ...}]`.
//! - The peer is the key of `chassis` (its SysName, json) or `chassis[0].name[0].value`
//!   (json0); without a SysName, its chassis id.
//! - The peer port is `port.id` when its type is `ifname` (switches: Cumulus, SONiC), else
//!   `port.descr` (lldpd's default port id on hosts is the MAC; the name is in the description).
//! - The speed, where given, is the MAU type in `port.auto-negotiation.current`
//!   (`10GbaseT - ...` is 10 Gb/s; IEEE 802.3 clause 30 MAU names).
//! - `rid`, `age`, `ttl` and `mgmt-iface` change from run to run and are ignored.
//!
//! The JSON is read through serde-saphyr (JSON is YAML 1.2) into a tree of spanned values, so
//! every entry keeps its line and a problem is reported at its line and column.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::asbuilt::{CapturedEnd, HalfLink, LinkSpeed, Parsed, Seen};
use crate::diag::{Diagnostic, Span};
use crate::source::{known_span_of, DocKind, SourceFile};

/// A JSON value with the span of every member.
#[derive(Debug)]
enum Json {
    Scalar(String),
    Null,
    Map(Vec<(Spanned<String>, Spanned<Json>)>),
    Seq(Vec<Spanned<Json>>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Scalar(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Scalar(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Scalar(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = m.next_key::<Spanned<String>>()? {
                    v.push((k, m.next_value::<Spanned<Json>>()?));
                }
                Ok(Json::Map(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = s.next_element::<Spanned<Json>>()? {
                    v.push(e);
                }
                Ok(Json::Seq(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn get(&self, key: &str) -> Option<&Spanned<Json>> {
        match self {
            Json::Map(m) => m.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Json::Scalar(s) => Some(s),
            _ => None,
        }
    }
    /// json0 wraps values as `[{"value": x}]` and objects as `[{...}]`: unwrap both.
    fn unwrap0(&self) -> &Json {
        match self {
            Json::Seq(v) if v.len() == 1 => v[0].value.unwrap0(),
            Json::Map(m) if m.len() == 1 && m[0].0.value == "value" => &m[0].1.value,
            other => other,
        }
    }
    fn text(&self) -> Option<&str> {
        self.unwrap0().str()
    }
}

const LLDP_DOC: DocKind = DocKind {
    doc: "docs/as-built.md",
    empty_help: "an lldpd capture is the output of `lldpcli -f json show neighbors details`; see docs/as-built.md",
};

fn shape(span: Option<Span>, message: impl Into<String>, label: &str) -> Diagnostic {
    Diagnostic::error("FP941", message)
        .at_opt(span, label.to_string())
        .help("give the output of `lldpcli -f json show neighbors details` (or `-f json0`) as it is; docs/as-built.md describes the shape")
}

/// The local device's name: the file name up to its first `.`.
fn local_name(file: &SourceFile) -> String {
    let base = std::path::Path::new(&file.name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(&file.name);
    base.split('.').next().unwrap_or(base).to_string()
}

/// 802.3 MAU type names start with the speed: `10GbaseT`, `100GbaseCR4`, `1000BaseT`.
fn mau_gbps(mau: &str) -> Option<u32> {
    let word = mau.split_whitespace().next()?;
    let lower = word.to_ascii_lowercase();
    let (num, unit) = if let Some(i) = lower.find("gbase") {
        (&lower[..i], 1000)
    } else if let Some(i) = lower.find("base") {
        (&lower[..i], 1)
    } else {
        return None;
    };
    let n: u32 = num.parse().ok()?;
    let mbps = n.checked_mul(unit)?;
    (mbps >= 1000).then_some(mbps / 1000)
}

/// Parses one lldpd JSON capture into half links.
pub fn parse(file: &SourceFile, file_index: usize) -> Parsed {
    let mut out = Parsed::default();
    let top: Json = match crate::source::parse_yaml_as::<Json>(file, LLDP_DOC) {
        Ok(j) => j,
        Err(mut d) => {
            if d.code != "FP005" && d.code != "FP007" {
                d.code = "FP941";
                d.help = Some("the file is not well-formed JSON; give `lldpcli -f json show neighbors details` output as it is".into());
            }
            out.diagnostics.push(d);
            return out;
        }
    };
    let local = local_name(file);
    out.viewers.insert(local.to_ascii_lowercase());
    let Some(lldp) = top.get("lldp") else {
        let hint = if top.get("local-chassis").is_some() {
            "this is `show chassis` output, not `show neighbors`"
        } else {
            "no `lldp` key at the top"
        };
        out.diagnostics.push(shape(
            Some(Span { start: 0, len: 1 }),
            format!("`{}` is not an lldpd neighbour capture: {hint}", file.name),
            "expected `{\"lldp\": ...}`",
        ));
        return out;
    };
    // json0: `lldp` is `[ { "interface": [...] } ]`.
    let body = lldp.value.unwrap0();
    let Some(interfaces) = body.get("interface") else {
        // No neighbour on any port: lldpd writes `"lldp": {}` (or `[{}]`).
        if matches!(body, Json::Map(m) if m.is_empty())
            || matches!(body, Json::Seq(v) if v.is_empty())
        {
            return out;
        }
        out.diagnostics.push(shape(
            known_span_of(lldp),
            "`lldp` has no `interface` list",
            "expected `interface` here",
        ));
        return out;
    };
    // (local port, its span, the neighbour entry)
    let mut entries: Vec<(String, Option<Span>, &Json)> = Vec::new();
    match &interfaces.value {
        // json, one port: `{"eth0": {...}}`.
        Json::Map(m) => {
            for (k, v) in m {
                entries.push((k.value.clone(), known_span_of(k), &v.value));
            }
        }
        Json::Seq(items) => {
            for item in items {
                match &item.value {
                    // json0: `{"name": "swp1", ...}`
                    Json::Map(m) if m.iter().any(|(k, _)| k.value == "name") => {
                        let name = item.value.get("name").expect("has name");
                        match name.value.text() {
                            Some(n) => entries.push((n.to_string(), known_span_of(name), &item.value)),
                            None => out.diagnostics.push(shape(known_span_of(name), "an interface's `name` is not a string", "here")),
                        }
                    }
                    // json, several ports: `[{"swp1": {...}}, {"swp2": {...}}]`.
                    Json::Map(m) if m.len() == 1 => entries.push((m[0].0.value.clone(), known_span_of(&m[0].0), &m[0].1.value)),
                    _ => out.diagnostics.push(shape(known_span_of(item), "an `interface` entry is neither `{\"<port>\": {...}}` nor `{\"name\": ...}`", "here")),
                }
            }
        }
        _ => out.diagnostics.push(shape(
            known_span_of(interfaces),
            "`interface` is neither an object nor an array",
            "here",
        )),
    }
    for (port, span, entry) in entries {
        let at = span.unwrap_or(Span { start: 0, len: 1 });
        match neighbour(entry) {
            Ok((peer, speed)) => out.halves.push(HalfLink {
                local: CapturedEnd {
                    device: local.clone(),
                    port,
                    guid: None,
                    named: true,
                },
                peer,
                speed,
                seen: Seen {
                    file: file_index,
                    span: at,
                },
            }),
            Err(msg) => out.diagnostics.push(shape(
                Some(at),
                format!("the neighbour on `{local}:{port}` {msg}"),
                "this entry",
            )),
        }
    }
    out
}

/// The peer end and speed of one neighbour entry.
fn neighbour(entry: &Json) -> Result<(CapturedEnd, Option<LinkSpeed>), String> {
    let chassis = entry
        .get("chassis")
        .ok_or("has no `chassis`")?
        .value
        .unwrap0();
    let (name, chassis_id) = match chassis {
        // json: `{"<SysName>": {"id": {...}, ...}}`, or `{"id": {...}}` without a SysName.
        Json::Map(m) if m.iter().any(|(k, _)| k.value == "name") => (
            chassis
                .get("name")
                .and_then(|n| n.value.text())
                .map(str::to_string),
            chassis
                .get("id")
                .and_then(|i| i.value.unwrap0().get("value"))
                .and_then(|v| v.value.text())
                .map(str::to_string),
        ),
        Json::Map(m) if m.len() == 1 && m[0].0.value != "id" => (
            Some(m[0].0.value.clone()),
            m[0].1
                .value
                .get("id")
                .and_then(|i| i.value.unwrap0().get("value"))
                .and_then(|v| v.value.text())
                .map(str::to_string),
        ),
        Json::Map(_) => (
            None,
            chassis
                .get("id")
                .and_then(|i| i.value.unwrap0().get("value"))
                .and_then(|v| v.value.text())
                .map(str::to_string),
        ),
        _ => return Err("has a `chassis` that is not an object".into()),
    };
    let port = entry.get("port").ok_or("has no `port`")?.value.unwrap0();
    let id = port.get("id").map(|i| i.value.unwrap0());
    let id_type = id.and_then(|i| i.get("type")).and_then(|t| t.value.text());
    let id_value = id.and_then(|i| i.get("value")).and_then(|t| t.value.text());
    let descr = port.get("descr").and_then(|d| d.value.text());
    let port_name = match (id_type, id_value, descr) {
        (Some("ifname"), Some(v), _) => v,
        (_, _, Some(d)) if !d.is_empty() => d,
        (_, Some(v), _) => v,
        _ => return Err("has a `port` with neither an id nor a description".into()),
    };
    let speed = port
        .get("auto-negotiation")
        .map(|a| a.value.unwrap0())
        .and_then(|a| a.get("current"))
        .and_then(|c| c.value.text())
        .map(|mau| LinkSpeed {
            text: mau.split(" - ").next().unwrap_or(mau).trim().to_string(),
            width: None,
            gbps: mau_gbps(mau),
        });
    let named = name.is_some();
    let device = name
        .or_else(|| chassis_id.clone())
        .ok_or("has a chassis with neither a name nor an id")?;
    Ok((
        CapturedEnd {
            device,
            port: port_name.to_string(),
            guid: if named { None } else { chassis_id },
            named,
        },
        speed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str) -> Parsed {
        let path = format!(
            "{}/tests/fixtures/as-built/lldp/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("fixture");
        parse(&SourceFile::new(path, text), 0)
    }

    #[test]
    fn json_and_json0_of_leaf1_agree() {
        let a = read("correct/leaf1.json");
        let b = read("correct/leaf1.json0.json");
        assert!(
            a.diagnostics.is_empty() && b.diagnostics.is_empty(),
            "{:?} {:?}",
            a.diagnostics,
            b.diagnostics
        );
        let ends = |p: &Parsed| {
            p.halves
                .iter()
                .map(|h| {
                    (
                        h.local.display(),
                        h.peer.display(),
                        h.speed.as_ref().and_then(|s| s.gbps),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(ends(&a), ends(&b));
        assert_eq!(
            ends(&a)
                .iter()
                .map(|(l, p, _)| format!("{l}={p}"))
                .collect::<Vec<_>>(),
            [
                "leaf1:swp1=host1:eth0",
                "leaf1:swp2=host2:eth0",
                "leaf1:swp51=spine1:swp1",
                "leaf1:swp52=spine2:swp1"
            ]
        );
        assert_eq!(a.halves[0].speed.as_ref().and_then(|s| s.gbps), Some(10));
    }

    #[test]
    fn a_host_capture_is_one_object() {
        let p = read("correct/host1.json");
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.halves.len(), 1);
        assert_eq!(p.halves[0].peer.display(), "leaf1:swp1");
    }

    #[test]
    fn mau_speeds() {
        assert_eq!(mau_gbps("10GbaseT - Four-pair"), Some(10));
        assert_eq!(mau_gbps("100GbaseCR4"), Some(100));
        assert_eq!(mau_gbps("1000BaseTFD"), Some(1));
        assert_eq!(mau_gbps("100BaseTXFD"), None);
    }
}
