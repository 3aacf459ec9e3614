//! The Alibaba GPU cluster trace `cluster-trace-gpu-v2023` ("openb", used by the ATC '23 FGD
//! paper, Weng et al., "Beware of Fragmentation") in: a node list and a pod list to a fabric
//! skeleton and a demand file (docs/sources.md has the columns).
//!
//! Faithful to the trace (issue 14 §1):
//! - one node template per (GPU model, GPUs, CPU, memory) with the node's `cpu_millicores`
//!   and `memory_gib` (from `cpu_milli`, `memory_mib`); racks of up to 32 nodes of one
//!   template; no switches (the trace has no network); node power is a placeholder;
//! - the trace's GPU codes (P100, T4, V100M16, V100M32, A10, G1-G3) are not in the catalog:
//!   each becomes a GPU model file `gpus/openb-<code>.yaml` with no specs (0 = not given);
//! - tenants are the pods' QoS classes (LS and Guaranteed high priority, Burstable normal,
//!   BE low), all `shared` and sharing with each other;
//! - one inference workload per pod, named as the pod: `num_gpu == 1` and `gpu_milli < 1000`
//!   is an exact share (`size: {gpu_milli: N}`), else `size: {gpus: num_gpu}`; the pod's
//!   `cpu_milli` and `memory_mib` as `cpu_millicores` and `memory_mib`; `gpu_spec` as
//!   `gpu_models`. A pod without GPUs (a CPU-only pod) is a host-only workload
//!   (`size: {gpus: 0}`) with its `cpu_millicores` and `memory_mib` and no `gpu_models`
//!   (`gpu_spec` chooses GPUs it does not take); one that asks no CPU and no memory either
//!   takes nothing and is counted and left out.
//!
//! CSV per RFC 4180 (quoted fields, doubled quotes, CRLF), a UTF-8 byte-order mark is
//! skipped. Every problem is collected with its byte span (FP830-FP834) before anything is
//! written.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diag::{Diagnostic, Span};
use crate::util::compress_hostlist;

#[derive(Debug, Clone, PartialEq)]
pub struct OpenbNode {
    pub name: String,
    pub gpus: u32,
    pub model: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpenbPod {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    pub num_gpu: u32,
    pub gpu_milli: u32,
    /// Allowed GPU codes (`V100M16|V100M32`), distinct, in order; empty: any.
    pub gpu_spec: Vec<String>,
    pub qos: String,
    /// Where the pod's name is written (for later diagnostics).
    pub span: Span,
    /// `creation_time` and `deletion_time` in seconds, when the list has them (replay).
    pub creation_time: Option<u64>,
    pub deletion_time: Option<u64>,
}

/// One CSV field: its text (unquoted) and byte span in the file.
#[derive(Debug, Clone)]
struct Field {
    text: String,
    span: Span,
}

/// RFC 4180 records with the byte span of each field; a leading UTF-8 BOM is skipped.
/// Blank lines are skipped. An unterminated quote is FP830.
fn records(text: &str, diags: &mut Vec<Diagnostic>) -> Vec<Vec<Field>> {
    let bytes = text.as_bytes();
    let mut i = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut out = Vec::new();
    let mut rec: Vec<Field> = Vec::new();
    while i < bytes.len() {
        let start = i;
        let mut f = String::new();
        if bytes[i] == b'"' {
            i += 1;
            let mut closed = false;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        f.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    closed = true;
                    break;
                }
                let ch = text[i..].chars().next().expect("char");
                f.push(ch);
                i += ch.len_utf8();
            }
            if !closed {
                diags.push(
                    Diagnostic::error("FP830", "quoted field is never closed")
                        .at(Span { start, len: 1 }, "opening quote")
                        .help("close the field with `\"`; a quote inside a quoted field is written `\"\"`"),
                );
                return out;
            }
            // Text after the closing quote up to the separator is malformed.
            let rest = i;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'\n' | b'\r') {
                i += 1;
            }
            if i > rest {
                diags.push(
                    Diagnostic::error("FP830", "text after a closing quote")
                        .at(
                            Span {
                                start: rest,
                                len: i - rest,
                            },
                            "after the quote",
                        )
                        .help("put the whole field inside the quotes"),
                );
            }
        } else {
            while i < bytes.len() && !matches!(bytes[i], b',' | b'\n' | b'\r') {
                i += 1;
            }
            f.push_str(&text[start..i]);
        }
        rec.push(Field {
            text: f.trim().to_string(),
            span: Span {
                start,
                len: (i - start).max(1),
            },
        });
        if bytes.get(i) == Some(&b',') {
            i += 1;
            if i == bytes.len() {
                // A trailing comma at the end of the file: one more empty field.
                rec.push(Field {
                    text: String::new(),
                    span: Span { start: i, len: 0 },
                });
            }
            continue;
        }
        if bytes.get(i) == Some(&b'\r') {
            i += 1;
        }
        if bytes.get(i) == Some(&b'\n') {
            i += 1;
        }
        let r = std::mem::take(&mut rec);
        if !(r.len() == 1 && r[0].text.is_empty()) {
            out.push(r);
        }
    }
    if !(rec.is_empty() || rec.len() == 1 && rec[0].text.is_empty()) {
        out.push(rec);
    }
    out
}

/// Column indices of `want` in the header (FP831 for each one missing).
fn columns(
    header: Option<&Vec<Field>>,
    want: &[&str],
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<usize>> {
    let Some(header) = header else {
        diags.push(
            Diagnostic::error("FP831", format!("the {what} is empty"))
                .help(format!("the header must name the columns {}", list(want))),
        );
        return None;
    };
    let names: Vec<&str> = header.iter().map(|f| f.text.as_str()).collect();
    let mut idx = Vec::new();
    let mut ok = true;
    for w in want {
        match names.iter().position(|c| c == w) {
            Some(i) => idx.push(i),
            None => {
                ok = false;
                diags.push(
                    Diagnostic::error("FP831", format!("the {what} has no `{w}` column"))
                        .at(
                            Span {
                                start: header[0].span.start,
                                len: header
                                    .last()
                                    .map(|f| f.span.start + f.span.len)
                                    .unwrap_or(1)
                                    - header[0].span.start,
                            },
                            format!("columns: {}", names.join(",")),
                        )
                        .help(format!(
                            "an openb {what} has the columns {} (is this the other list?)",
                            list(want)
                        )),
                );
            }
        }
    }
    ok.then_some(idx)
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The field at `i` of `rec` (FP832 when the record is short).
fn field<'a>(
    rec: &'a [Field],
    i: usize,
    col: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'a Field> {
    let f = rec.get(i);
    if f.is_none() {
        let last = rec.last().expect("non-empty record");
        diags.push(
            Diagnostic::error(
                "FP832",
                format!("the row has {} fields and no `{col}`", rec.len()),
            )
            .at(last.span, "row ends here")
            .help("give every row as many fields as the header"),
        );
    }
    f
}

/// A whole number in `0..=max` (FP832 otherwise).
fn number(f: &Field, col: &str, max: u64, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    match f.text.parse::<u64>() {
        Ok(v) if v <= max => Some(v),
        _ => {
            diags.push(
                Diagnostic::error(
                    "FP832",
                    format!("`{col}` is not a whole number up to {max}: `{}`", f.text),
                )
                .at(f.span, "not a number in range")
                .help(format!("`{col}` is a non-negative integer")),
            );
            None
        }
    }
}

/// FP833 on a name seen before.
fn unique(
    seen: &mut BTreeMap<String, Span>,
    f: &Field,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    if f.text.is_empty() {
        diags.push(
            Diagnostic::error("FP832", format!("a {what} has an empty name"))
                .at(f.span, "empty")
                .help(format!("give every {what} a name")),
        );
        return false;
    }
    if let Some(prev) = seen.get(&f.text) {
        diags.push(
            Diagnostic::error("FP833", format!("{what} `{}` is listed twice", f.text))
                .at(f.span, "listed again here")
                .also_at(*prev, "first listed here")
                .help(format!(
                    "give each {what} a unique name; fabplan does not guess which row is right"
                )),
        );
        return false;
    }
    seen.insert(f.text.clone(), f.span);
    true
}

/// `sn,cpu_milli,memory_mib,gpu,model`; nodes without GPUs are left out (the fabric holds
/// GPU nodes only). Returns the nodes and every problem found.
pub fn parse_nodes(text: &str) -> (Vec<OpenbNode>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let recs = records(text, &mut diags);
    let want = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];
    let Some(idx) = columns(recs.first(), &want, "node list", &mut diags) else {
        return (Vec::new(), diags);
    };
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for rec in recs.iter().skip(1) {
        let fs: Vec<Option<&Field>> = idx
            .iter()
            .zip(want)
            .map(|(&i, c)| field(rec, i, c, &mut diags))
            .collect();
        let [Some(sn), Some(cpu), Some(mem), Some(gpu), Some(model)] = fs[..] else {
            continue;
        };
        let cpu = number(cpu, "cpu_milli", 1 << 40, &mut diags);
        let mem = number(mem, "memory_mib", 1 << 40, &mut diags);
        let gpus = number(gpu, "gpu", 1024, &mut diags);
        let named = unique(&mut seen, sn, "node", &mut diags);
        if model.text.is_empty() && gpus.is_some_and(|g| g > 0) {
            diags.push(
                Diagnostic::error(
                    "FP832",
                    format!("node `{}` has GPUs and no `model`", sn.text),
                )
                .at(model.span, "empty")
                .help("give the GPU code (`G2`, `T4`, `V100M16`...)"),
            );
            continue;
        }
        let (Some(cpu), Some(mem), Some(gpus), true) = (cpu, mem, gpus, named) else {
            continue;
        };
        if gpus == 0 {
            continue;
        }
        out.push(OpenbNode {
            name: sn.text.clone(),
            gpus: gpus as u32,
            model: model.text.clone(),
            cpu_milli: cpu,
            memory_mib: mem,
        });
    }
    (out, diags)
}

/// `name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,...]`; every pod is kept,
/// CPU-only ones included. Returns the pods and every problem found.
pub fn parse_pods(text: &str) -> (Vec<OpenbPod>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let recs = records(text, &mut diags);
    let want = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"];
    let Some(idx) = columns(recs.first(), &want, "pod list", &mut diags) else {
        return (Vec::new(), diags);
    };
    let header: Vec<&str> = recs[0].iter().map(|f| f.text.as_str()).collect();
    let spec = header.iter().position(|c| *c == "gpu_spec");
    let qos = header.iter().position(|c| *c == "qos");
    let created = header.iter().position(|c| *c == "creation_time");
    let deleted = header.iter().position(|c| *c == "deletion_time");
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for rec in recs.iter().skip(1) {
        let fs: Vec<Option<&Field>> = idx
            .iter()
            .zip(want)
            .map(|(&i, c)| field(rec, i, c, &mut diags))
            .collect();
        let [Some(name), Some(cpu), Some(mem), Some(num), Some(milli)] = fs[..] else {
            continue;
        };
        let named = unique(&mut seen, name, "pod", &mut diags);
        let cpu = number(cpu, "cpu_milli", 1 << 40, &mut diags);
        let mem = number(mem, "memory_mib", 1 << 40, &mut diags);
        let num_gpu = number(num, "num_gpu", 1024, &mut diags);
        let gpu_milli = number(milli, "gpu_milli", 1000, &mut diags);
        let (Some(cpu), Some(mem), Some(num_gpu), Some(gpu_milli), true) =
            (cpu, mem, num_gpu, gpu_milli, named)
        else {
            continue;
        };
        if num_gpu > 0 && gpu_milli == 0 {
            diags.push(
                Diagnostic::error(
                    "FP832",
                    format!("pod `{}` asks {num_gpu} GPUs of 0 thousandths", name.text),
                )
                .at(milli.span, "zero")
                .help("`gpu_milli` is 1 to 1000 for a pod with GPUs"),
            );
            continue;
        }
        // Optional times: an empty field is "not given".
        let mut time = |col: Option<usize>, name: &str| {
            col.and_then(|i| rec.get(i))
                .filter(|f| !f.text.is_empty())
                .and_then(|f| number(f, name, 1 << 50, &mut diags))
        };
        let creation_time = time(created, "creation_time");
        let deletion_time = time(deleted, "deletion_time");
        let mut gpu_spec: Vec<String> = Vec::new();
        for s in spec
            .and_then(|i| rec.get(i))
            .map(|f| f.text.as_str())
            .unwrap_or("")
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if !gpu_spec.iter().any(|x| x == s) {
                gpu_spec.push(s.to_string());
            }
        }
        out.push(OpenbPod {
            name: name.text.clone(),
            cpu_milli: cpu,
            memory_mib: mem,
            num_gpu: num_gpu as u32,
            gpu_milli: gpu_milli as u32,
            gpu_spec,
            qos: qos
                .and_then(|i| rec.get(i))
                .filter(|f| !f.text.is_empty())
                .map(|f| f.text.clone())
                .unwrap_or_else(|| "LS".into()),
            span: name.span,
            creation_time,
            deletion_time,
        });
    }
    (out, diags)
}

/// FP834 for each pod whose `gpu_spec` names no GPU code of the node list (it could never
/// run); the span points into the pod list.
pub fn check_specs(pods: &[OpenbPod], nodes: &[OpenbNode]) -> Vec<Diagnostic> {
    let codes: BTreeSet<&str> = nodes.iter().map(|n| n.model.as_str()).collect();
    pods.iter()
        .filter(|p| p.num_gpu > 0)
        .filter_map(|p| {
            let unknown: Vec<&str> = p
                .gpu_spec
                .iter()
                .map(String::as_str)
                .filter(|s| !codes.contains(s))
                .collect();
            (!unknown.is_empty()).then(|| {
                Diagnostic::error(
                    "FP834",
                    format!(
                        "pod `{}` may run on GPU {}, which the node list does not have",
                        p.name,
                        list(&unknown)
                    ),
                )
                .at(p.span, "this pod")
                .help(format!(
                    "the node list has {}",
                    list(&codes.iter().copied().collect::<Vec<_>>())
                ))
            })
        })
        .collect()
}

/// Catalog key of a trace GPU code.
pub fn model_key(code: &str) -> String {
    format!("openb-{}", code.to_ascii_lowercase())
}

#[derive(Serialize)]
struct GpuModelFile {
    key: String,
    name: String,
    memory_gib: u32,
    hbm_tbps: u32,
    tdp_w: u32,
    sources: Vec<&'static str>,
}

/// The GPU model file for a trace code: a name only, specs not given.
pub fn gpu_model_yaml(code: &str) -> String {
    let body = GpuModelFile {
        key: model_key(code),
        name: format!("openb {code}"),
        memory_gib: 0,
        hbm_tbps: 0,
        tdp_w: 0,
        sources: vec!["alibaba/clusterdata cluster-trace-gpu-v2023 node list"],
    };
    format!(
        "# GPU code `{code}` of the Alibaba openb trace (alibaba/clusterdata cluster-trace-gpu-v2023);\n\
# the trace gives no specs, so memory, bandwidth and power are 0 (not given).\n{}",
        to_yaml(&body)
    )
}

fn to_yaml<T: Serialize>(v: &T) -> String {
    serde_saphyr::to_string(v).expect("plain data serializes")
}

fn comments(header: &str) -> String {
    header.lines().map(|l| format!("# {l}\n")).collect()
}

/// Nodes per rack in the skeleton.
pub const RACK_NODES: usize = 32;

#[derive(Serialize)]
struct FabricFile {
    fabric: String,
    description: String,
    gpu_models: Vec<String>,
    node_templates: Vec<TemplateOut>,
    racks: Vec<RackOut>,
}

#[derive(Serialize)]
struct TemplateOut {
    id: String,
    gpu: String,
    gpus: u32,
    power_kw: f64,
    cpu_millicores: u64,
    memory_gib: f64,
}

#[derive(Serialize)]
struct RackOut {
    id: String,
    power_kw: f64,
    cooling: &'static str,
    nodes: Vec<RackNodesOut>,
}

#[derive(Serialize)]
struct RackNodesOut {
    template: String,
    ids: String,
}

/// (GPU code, GPUs, CPU millicores, memory MiB): one node template each.
type TemplateKey = (String, u32, u64, u64);

fn template_id(k: &TemplateKey) -> String {
    format!(
        "{}-x{}-c{}-m{}",
        model_key(&k.0),
        k.1,
        k.2 / 1000,
        k.3 / 1024
    )
}

/// The fabric skeleton; the GPU model files sit in `gpus/`.
pub fn fabric_yaml(name: &str, nodes: &[OpenbNode], node_power_kw: f64, header: &str) -> String {
    let mut templates: BTreeMap<TemplateKey, Vec<String>> = BTreeMap::new();
    for n in nodes {
        templates
            .entry((n.model.clone(), n.gpus, n.cpu_milli, n.memory_mib))
            .or_default()
            .push(n.name.clone());
    }
    let codes: BTreeSet<&str> = nodes.iter().map(|n| n.model.as_str()).collect();
    let mut racks = Vec::new();
    for (k, names) in &templates {
        let template = template_id(k);
        for (i, chunk) in names.chunks(RACK_NODES).enumerate() {
            let kw = ((chunk.len() as f64 * node_power_kw) * 10.0).ceil() / 10.0;
            racks.push(RackOut {
                id: format!("{template}-r{:02}", i + 1),
                power_kw: kw,
                cooling: if kw > 40.0 { "liquid" } else { "air" },
                nodes: vec![RackNodesOut {
                    template: template.clone(),
                    ids: compress_hostlist(chunk),
                }],
            });
        }
    }
    let file = FabricFile {
        fabric: name.to_string(),
        description: format!(
            "{} GPU nodes, {} GPUs from the Alibaba openb trace; no network, placeholder power",
            nodes.len(),
            nodes.iter().map(|n| n.gpus).sum::<u32>()
        ),
        gpu_models: codes
            .iter()
            .map(|c| format!("gpus/{}.yaml", model_key(c)))
            .collect(),
        node_templates: templates
            .keys()
            .map(|k| TemplateOut {
                id: template_id(k),
                gpu: model_key(&k.0),
                gpus: k.1,
                power_kw: node_power_kw,
                cpu_millicores: k.2,
                memory_gib: k.3 as f64 / 1024.0,
            })
            .collect(),
        racks,
    };
    format!("{}{}", comments(header), to_yaml(&file))
}

fn qos_tenant(qos: &str) -> (String, &'static str) {
    let priority = match qos {
        "LS" | "Guaranteed" => "high",
        "Burstable" => "normal",
        _ => "low",
    };
    (qos.to_ascii_lowercase(), priority)
}

#[derive(Serialize)]
struct DemandFile {
    fabric: String,
    tenants: Vec<TenantOut>,
    workloads: Vec<WorkloadOut>,
}

#[derive(Serialize)]
struct TenantOut {
    name: String,
    isolation: &'static str,
    share_with: Vec<String>,
    priority: &'static str,
}

#[derive(Serialize)]
struct WorkloadOut {
    name: String,
    tenant: String,
    kind: &'static str,
    size: SizeOut,
    #[serde(skip_serializing_if = "is_zero")]
    cpu_millicores: u64,
    #[serde(skip_serializing_if = "is_zero")]
    memory_mib: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gpu_models: Vec<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Serialize)]
#[serde(untagged)]
enum SizeOut {
    Gpus { gpus: u32 },
    Share { gpu_milli: u32 },
}

/// Pods with GPUs.
pub fn gpu_pods(pods: &[OpenbPod]) -> impl Iterator<Item = &OpenbPod> {
    pods.iter().filter(|p| p.num_gpu > 0)
}

/// CPU-only pods that take something (CPU or memory): host-only workloads.
pub fn cpu_pods(pods: &[OpenbPod]) -> impl Iterator<Item = &OpenbPod> {
    pods.iter()
        .filter(|p| p.num_gpu == 0 && (p.cpu_milli > 0 || p.memory_mib > 0))
}

/// The pods the demand holds: with GPUs, or CPU-only ones that take CPU or memory.
pub fn kept_pods(pods: &[OpenbPod]) -> impl Iterator<Item = &OpenbPod> {
    pods.iter()
        .filter(|p| p.num_gpu > 0 || p.cpu_milli > 0 || p.memory_mib > 0)
}

/// The demand file: tenants per QoS class, one workload per pod kept (`kept_pods`).
pub fn demand_yaml(fabric_file: &str, pods: &[OpenbPod], header: &str) -> String {
    let tenants: BTreeSet<&str> = kept_pods(pods).map(|p| p.qos.as_str()).collect();
    let names: Vec<String> = tenants.iter().map(|t| qos_tenant(t).0).collect();
    let file = DemandFile {
        fabric: fabric_file.to_string(),
        tenants: tenants
            .iter()
            .map(|t| {
                let (name, priority) = qos_tenant(t);
                TenantOut {
                    share_with: names.iter().filter(|n| **n != name).cloned().collect(),
                    name,
                    isolation: "shared",
                    priority,
                }
            })
            .collect(),
        workloads: kept_pods(pods)
            .map(|p| WorkloadOut {
                name: p.name.clone(),
                tenant: qos_tenant(&p.qos).0,
                kind: "inference",
                size: if p.num_gpu == 0 {
                    SizeOut::Gpus { gpus: 0 }
                } else if p.num_gpu == 1 && p.gpu_milli < 1000 {
                    SizeOut::Share {
                        gpu_milli: p.gpu_milli,
                    }
                } else {
                    SizeOut::Gpus { gpus: p.num_gpu }
                },
                cpu_millicores: p.cpu_milli,
                memory_mib: p.memory_mib,
                gpu_models: if p.num_gpu == 0 {
                    Vec::new()
                } else {
                    p.gpu_spec.iter().map(|s| model_key(s)).collect()
                },
            })
            .collect(),
    };
    format!("{}{}", comments(header), to_yaml(&file))
}
