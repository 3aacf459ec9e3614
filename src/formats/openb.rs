//! The Alibaba GPU cluster trace `cluster-trace-gpu-v2023` ("openb", used by the ATC '23 FGD
//! paper) in: a node list and a pod list to a fabric skeleton and a demand file
//! (`shared/data/README.md` has the columns).
//!
//! Modelling choices (the trace has no topology, power or prices):
//! - one node template per (GPU model, GPUs per node); racks of up to 32 nodes of one template;
//!   no switches (the trace has no network); node power is a placeholder (`--node-power-kw`);
//! - the trace's GPU codes (P100, T4, V100M16, V100M32, A10, G1-G3) are not in the catalog:
//!   each becomes a GPU model file `gpus/openb-<code>.yaml` with no specs (0 = not given);
//! - tenants are the pods' QoS classes (LS and Guaranteed high priority, Burstable normal,
//!   BE low), all `shared` and sharing with each other;
//! - identical pods (same GPUs, GPU milli, allowed models and QoS) become one inference
//!   workload with that many replicas: `num_gpu == 1` and `gpu_milli < 1000` is a fractional
//!   share (`size: {fraction: milli/1000}`, the planner rounds up to 1/8), else
//!   `size: {gpus: num_gpu}`; pods without GPUs are skipped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::util::compress_hostlist;

#[derive(Debug, Clone, PartialEq)]
pub struct OpenbNode {
    pub name: String,
    pub gpus: u32,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpenbPod {
    pub num_gpu: u32,
    pub gpu_milli: u32,
    /// Allowed GPU codes (`V100M16|V100M32`); empty: any.
    pub gpu_spec: Vec<String>,
    pub qos: String,
}

fn header_index(header: &str, want: &[&str], file: &str) -> Result<Vec<usize>, String> {
    let cols: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    want.iter()
        .map(|w| {
            cols.iter()
                .position(|c| c == w)
                .ok_or_else(|| format!("{file}: no `{w}` column (have: {})", cols.join(",")))
        })
        .collect()
}

/// `sn,cpu_milli,memory_mib,gpu,model`; nodes without GPUs are skipped.
pub fn parse_nodes(text: &str, file: &str) -> Result<Vec<OpenbNode>, String> {
    let mut lines = text.lines();
    let idx = header_index(lines.next().unwrap_or(""), &["sn", "gpu", "model"], file)?;
    let mut out = Vec::new();
    for (no, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |i: usize| f.get(idx[i]).copied().unwrap_or("");
        let gpus: u32 = get(1)
            .parse()
            .map_err(|_| format!("{file}:{}: `gpu` is not a number: `{}`", no + 2, get(1)))?;
        if gpus == 0 {
            continue;
        }
        out.push(OpenbNode {
            name: get(0).to_string(),
            gpus,
            model: get(2).to_string(),
        });
    }
    Ok(out)
}

/// `name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,...]`.
pub fn parse_pods(text: &str, file: &str) -> Result<Vec<OpenbPod>, String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let idx = header_index(header, &["num_gpu", "gpu_milli"], file)?;
    let spec = header_index(header, &["gpu_spec"], file).ok().map(|v| v[0]);
    let qos = header_index(header, &["qos"], file).ok().map(|v| v[0]);
    let mut out = Vec::new();
    for (no, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |i: usize, name: &str| -> Result<u32, String> {
            f.get(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{file}:{}: `{name}` is not a number", no + 2))
        };
        let num_gpu = num(idx[0], "num_gpu")?;
        if num_gpu == 0 {
            continue;
        }
        let gpu_milli = num(idx[1], "gpu_milli")?;
        out.push(OpenbPod {
            num_gpu,
            gpu_milli,
            gpu_spec: spec
                .and_then(|i| f.get(i))
                .filter(|s| !s.is_empty())
                .map(|s| s.split('|').map(str::to_string).collect())
                .unwrap_or_default(),
            qos: qos
                .and_then(|i| f.get(i))
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string())
                .unwrap_or_else(|| "LS".into()),
        });
    }
    Ok(out)
}

/// Catalog key of a trace GPU code.
pub fn model_key(code: &str) -> String {
    format!("openb-{}", code.to_ascii_lowercase())
}

/// The GPU model file for a trace code: a name only, specs not given.
pub fn gpu_model_yaml(code: &str) -> String {
    format!(
        "# GPU code `{code}` of the Alibaba openb trace (alibaba/clusterdata cluster-trace-gpu-v2023);\n\
# the trace gives no specs, so memory, bandwidth and power are 0 (not given).\n\
key: {}\nname: \"openb {code}\"\nmemory_gib: 0\nhbm_tbps: 0\ntdp_w: 0\nsources: [\"alibaba/clusterdata cluster-trace-gpu-v2023 node list\"]\n",
        model_key(code)
    )
}

/// Nodes per rack in the skeleton.
pub const RACK_NODES: usize = 32;

/// The fabric skeleton; `models` are the GPU codes whose files sit in `gpus/`.
pub fn fabric_yaml(name: &str, nodes: &[OpenbNode], node_power_kw: f64, header: &str) -> String {
    let mut y = String::new();
    for line in header.lines() {
        let _ = writeln!(y, "# {line}");
    }
    let mut templates: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    for n in nodes {
        templates
            .entry((n.model.clone(), n.gpus))
            .or_default()
            .push(n.name.clone());
    }
    let codes: std::collections::BTreeSet<&str> = nodes.iter().map(|n| n.model.as_str()).collect();
    let _ = writeln!(y, "fabric: {name}");
    let _ = writeln!(
        y,
        "description: {} GPU nodes, {} GPUs from the Alibaba openb trace; no network, placeholder power",
        nodes.len(),
        nodes.iter().map(|n| n.gpus).sum::<u32>()
    );
    let _ = writeln!(y, "gpu_models:");
    for c in &codes {
        let _ = writeln!(y, "  - gpus/{}.yaml", model_key(c));
    }
    let _ = writeln!(y, "node_templates:");
    for (model, gpus) in templates.keys() {
        let _ = writeln!(
            y,
            "  - {{id: {}-x{gpus}, gpu: {}, gpus: {gpus}, power_kw: {node_power_kw}}}",
            model_key(model),
            model_key(model)
        );
    }
    let _ = writeln!(y, "racks:");
    for ((model, gpus), names) in &templates {
        let template = format!("{}-x{gpus}", model_key(model));
        for (i, chunk) in names.chunks(RACK_NODES).enumerate() {
            let kw = ((chunk.len() as f64 * node_power_kw) * 10.0).ceil() / 10.0;
            let _ = writeln!(
                y,
                "  - {{id: {template}-r{:02}, power_kw: {kw}, cooling: {}, nodes: [{{template: {template}, ids: \"{}\"}}]}}",
                i + 1,
                if kw > 40.0 { "liquid" } else { "air" },
                compress_hostlist(chunk)
            );
        }
    }
    y
}

fn qos_tenant(qos: &str) -> (String, &'static str) {
    let priority = match qos {
        "LS" | "Guaranteed" => "high",
        "Burstable" => "normal",
        _ => "low",
    };
    (qos.to_ascii_lowercase(), priority)
}

/// The demand file: tenants per QoS class, one workload per distinct pod shape.
pub fn demand_yaml(fabric_file: &str, pods: &[OpenbPod], header: &str) -> String {
    let mut y = String::new();
    for line in header.lines() {
        let _ = writeln!(y, "# {line}");
    }
    let tenants: std::collections::BTreeSet<String> = pods.iter().map(|p| p.qos.clone()).collect();
    let mut shapes: BTreeMap<(String, u32, u32, Vec<String>), u32> = BTreeMap::new();
    for p in pods {
        let milli = if p.num_gpu == 1 {
            p.gpu_milli.min(1000)
        } else {
            1000
        };
        *shapes
            .entry((p.qos.clone(), p.num_gpu, milli, p.gpu_spec.clone()))
            .or_default() += 1;
    }
    let _ = writeln!(y, "fabric: {fabric_file}");
    let _ = writeln!(y, "tenants:");
    let names: Vec<String> = tenants.iter().map(|t| qos_tenant(t).0).collect();
    for t in &tenants {
        let (name, priority) = qos_tenant(t);
        let others: Vec<&str> = names
            .iter()
            .filter(|n| **n != name)
            .map(|s| s.as_str())
            .collect();
        let _ = writeln!(
            y,
            "  - {{name: {name}, isolation: shared, share_with: [{}], priority: {priority}}}",
            others.join(", ")
        );
    }
    let _ = writeln!(y, "workloads:");
    for ((qos, num_gpu, milli, spec), count) in &shapes {
        let (tenant, _) = qos_tenant(qos);
        let size = if *num_gpu == 1 && *milli < 1000 {
            format!("{{fraction: {}}}", *milli as f64 / 1000.0)
        } else {
            format!("{{gpus: {num_gpu}}}")
        };
        let spec_name = if spec.is_empty() {
            "any".to_string()
        } else {
            spec.iter()
                .map(|s| s.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join("-")
        };
        let name = if *num_gpu == 1 && *milli < 1000 {
            format!("{tenant}-m{milli:04}-{spec_name}")
        } else {
            format!("{tenant}-g{num_gpu}-{spec_name}")
        };
        let models = if spec.is_empty() {
            String::new()
        } else {
            format!(
                ", gpu_models: [{}]",
                spec.iter()
                    .map(|s| model_key(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            y,
            "  - {{name: {name}, tenant: {tenant}, kind: inference, replicas: {count}, size: {size}{models}}}"
        );
    }
    y
}
