//! Deterministic synthetic fabrics, valid by construction, for tests and benchmarks.
//!
//! The switch counts and wiring come from `sizing::size_clos` (the same model that reproduces
//! NVIDIA's SuperPOD tables); the output is fabric YAML written with intent patterns, so a
//! 100,000-GPU fabric stays a small file that the loader expands.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use serde_saphyr::{FlowMap, FlowSeq};

use super::sizing::{size_clos, SizeError, SizeRequest};
use crate::util::compress_hostlist;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// HGX 8-GPU servers on a rail-optimized Clos (NVIDIA SuperPOD style).
    RailOptimized,
    /// GB200 NVL72 racks (18 trays x 4 GPUs), 4 rails, on a rail-optimized Clos.
    Nvl72,
}

#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub gpus: u64,
    pub style: Style,
    /// Switch radix in ports of the NIC speed.
    pub radix: u32,
    pub nic_gbps: u32,
    /// Catalog key of the GPU model (rail-optimized style).
    pub gpu_model: String,
    pub roce: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    Size(#[from] SizeError),
    #[error("{gpus} GPUs is not a whole number of {unit}s of {per} GPUs")]
    NotWhole {
        gpus: u64,
        unit: &'static str,
        per: u64,
    },
}

impl GenerateError {
    pub fn help(&self) -> String {
        match self {
            GenerateError::Size(e) => e.help(),
            GenerateError::NotWhole { per, .. } => format!("ask for a multiple of {per} GPUs"),
        }
    }
}

/// Maximum node power per template, kW (docs/sources.md §1: DGX H100 10.2 kW, DGX B200 ~14.3 kW,
/// NVL72 ~120-132 kW per rack over 18 trays).
fn node_kw(model: &str) -> f64 {
    match model {
        "b200" => 14.3,
        "gb200" => 7.4,
        _ => 10.2,
    }
}

fn width(n: u64) -> usize {
    n.max(1).to_string().len().max(2)
}

fn name(prefix: &str, i: u64, w: usize) -> String {
    format!("{prefix}{i:0w$}")
}

/// Generates the fabric YAML.
pub fn generate(req: &GenerateRequest) -> Result<String, GenerateError> {
    let (gpus_per_node, nodes_per_rack, su_nodes, template, gpu_model) = match req.style {
        Style::RailOptimized => (
            8u32,
            4u64,
            (req.radix / 2).max(1),
            "hgx",
            req.gpu_model.as_str(),
        ),
        // An SU of 8 NVL72 racks = 144 trays (docs/sources.md (b) D).
        Style::Nvl72 => (4, 18, 144, "gb200-tray", "gb200"),
    };
    let per = match req.style {
        Style::RailOptimized => gpus_per_node as u64,
        Style::Nvl72 => 72,
    };
    if req.gpus == 0 || req.gpus % per != 0 {
        return Err(GenerateError::NotWhole {
            gpus: req.gpus,
            unit: if per == 72 { "NVL72 rack" } else { "node" },
            per,
        });
    }
    let mut sreq = SizeRequest::new(req.gpus, req.radix, req.nic_gbps);
    sreq.gpus_per_node = gpus_per_node;
    sreq.su_nodes = su_nodes;
    let size = size_clos(&sreq)?;
    let w = &size.wiring;
    let nodes = size.nodes;
    let racks = nodes.div_ceil(nodes_per_rack);
    let kw = node_kw(gpu_model);
    let style = match req.style {
        Style::RailOptimized => "rail-optimized",
        Style::Nvl72 => "nvl72",
    };
    let template_v = match req.style {
        Style::RailOptimized => {
            json!({"id": template, "gpu": gpu_model, "gpus": 8, "nvlink": "hgx8", "power_kw": kw, "rail_nics": {"gbps": req.nic_gbps}})
        }
        Style::Nvl72 => {
            json!({"id": template, "gpu": "gb200", "gpus": 4, "nvlink": "nvl72-tray", "power_kw": kw, "rail_nics": {"gbps": req.nic_gbps}})
        }
    };
    let nw = width(nodes);
    let node_name = |i: u64| name("n", i + 1, nw);
    let rw = width(racks);
    let budget = (nodes_per_rack as f64 * kw * 1.1).ceil();
    let cooling = if budget > 40.0 || req.style == Style::Nvl72 {
        "liquid"
    } else {
        "air"
    };
    let mut rack_list: Vec<FlowMap<Value>> = Vec::with_capacity(racks as usize);
    for r in 0..racks {
        let first = r * nodes_per_rack;
        let last = ((r + 1) * nodes_per_rack).min(nodes) - 1;
        let su = first / w.nodes_per_su;
        let ids = compress_hostlist(&(first..=last).map(node_name).collect::<Vec<_>>());
        let mut rack = Map::new();
        rack.insert("id".into(), json!(name("r", r + 1, rw)));
        rack.insert("power_kw".into(), json!(budget));
        rack.insert("cooling".into(), json!(cooling));
        rack.insert("su".into(), json!(format!("su{}", su + 1)));
        if req.style == Style::Nvl72 {
            rack.insert(
                "nvlink_domain".into(),
                json!({"kind": "nvl72", "switch_trays": 9}),
            );
        }
        rack.insert("nodes".into(), json!([{"template": template, "ids": ids}]));
        rack_list.push(FlowMap(Value::Object(rack)));
    }
    // Leaves: per SU, rails x leaves_per_rail (rail-major), named su<s>-leaf<k>.
    let sw = width(w.scalable_units);
    let lpr = w.leaves_per_rail_per_su;
    let leaves_per_su = w.rails as u64 * lpr;
    let lw = width(leaves_per_su);
    let leaf_name = |su: u64, k: u64| format!("su{su:0sw$}-leaf{k:0lw$}", su = su + 1, k = k + 1);
    // One single-key map per intent entry, its body a flow mapping.
    let mut intent: Vec<BTreeMap<&str, FlowMap<Value>>> = Vec::new();
    for su in 0..w.scalable_units {
        let first = su * w.nodes_per_su;
        if first >= nodes {
            break;
        }
        let last = ((su + 1) * w.nodes_per_su).min(nodes) - 1;
        let ids = compress_hostlist(&(first..=last).map(node_name).collect::<Vec<_>>());
        let leaves = compress_hostlist(
            &(0..leaves_per_su)
                .map(|k| leaf_name(su, k))
                .collect::<Vec<_>>(),
        );
        intent.push(BTreeMap::from([(
            "rail-su",
            FlowMap(json!({
                "su": format!("su{}", su + 1),
                "nodes": ids,
                "leaves": leaves,
                "leaves_per_rail": lpr,
                "model": "gen-switch",
                "medium": "aoc",
                "length_m": 20,
            })),
        )]));
    }
    if size.tiers >= 2 {
        let gw = width(w.spine.groups);
        let spw = width(w.spine.spines_per_group);
        let spine_name = |g: u64, i: u64| format!("g{g:0gw$}-spine{i:0spw$}", g = g + 1, i = i + 1);
        for g in 0..w.spine.groups {
            let mut lower = Vec::new();
            for su in 0..w.scalable_units {
                for rail in 0..w.rails {
                    for slot in 0..lpr {
                        if w.spine_group_of_leaf(su, rail, slot) == g {
                            lower.push(leaf_name(su, rail as u64 * lpr + slot));
                        }
                    }
                }
            }
            if lower.is_empty() {
                continue;
            }
            let upper = compress_hostlist(
                &(0..w.spine.spines_per_group)
                    .map(|i| spine_name(g, i))
                    .collect::<Vec<_>>(),
            );
            intent.push(BTreeMap::from([(
                "uplinks",
                FlowMap(json!({
                    "from": compress_hostlist(&lower),
                    "to": upper,
                    "tier": "spine",
                    "model": "gen-switch",
                    "links_per_pair": w.spine.links_per_leaf_spine,
                    "gbps": req.nic_gbps,
                    "medium": "sm",
                    "length_m": 150,
                })),
            )]));
        }
        if let Some(core) = &w.core {
            let cw = width(core.cores_per_group);
            for c in 0..core.groups {
                let mut lower = Vec::new();
                for g in 0..w.spine.groups {
                    for i in 0..w.spine.spines_per_group {
                        if w.core_group_of_spine(i) == Some(c) {
                            lower.push(spine_name(g, i));
                        }
                    }
                }
                let upper = compress_hostlist(
                    &(0..core.cores_per_group)
                        .map(|i| format!("c{}-core{:0cw$}", c + 1, i + 1))
                        .collect::<Vec<_>>(),
                );
                intent.push(BTreeMap::from([(
                    "uplinks",
                    FlowMap(json!({
                        "from": compress_hostlist(&lower),
                        "to": upper,
                        "tier": "core",
                        "model": "gen-switch",
                        "links_per_pair": core.links_per_spine_core,
                        "gbps": req.nic_gbps,
                        "medium": "sm",
                        "length_m": 300,
                    })),
                )]));
            }
        }
    }
    #[derive(serde::Serialize)]
    struct Generated {
        fabric: String,
        transport: &'static str,
        switch_models: Vec<FlowMap<Value>>,
        node_templates: Vec<FlowMap<Value>>,
        racks: Vec<FlowMap<Value>>,
        intent: Vec<BTreeMap<&'static str, FlowMap<Value>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        lossless: Option<Lossless>,
    }
    let doc = Generated {
        fabric: format!("gen-{style}-{}", req.gpus),
        transport: if req.roce { "roce" } else { "infiniband" },
        switch_models: vec![FlowMap(json!({
            "id": "gen-switch",
            "ports": req.radix,
            "port_gbps": req.nic_gbps,
            "power_w": 1800,
        }))],
        node_templates: vec![FlowMap(template_v)],
        racks: rack_list,
        intent,
        lossless: req.roce.then(lossless),
    };
    let mut y = String::with_capacity(256 * racks as usize);
    y.push_str(&format!(
        "# Generated by `fabplan generate --gpus {} --style {style} --radix {} --nic-gbps {}`.\n",
        req.gpus, req.radix, req.nic_gbps
    ));
    y.push_str("# Switch counts and wiring follow `fabplan size` for the same parameters.\n");
    y.push_str(&crate::util::to_yaml(&doc));
    Ok(y)
}

// The `lossless:` block of a generated RoCE fabric, in the keys and order of
// `schema::fabric::RawLossless` (the reader), serialized with the rest of the document.

#[derive(serde::Serialize)]
struct Lossless {
    switch: SwitchQos,
    nic: FlowMap<NicQos>,
}

#[derive(serde::Serialize)]
struct SwitchQos {
    dscp_to_priority: FlowMap<BTreeMap<u8, u8>>,
    pfc_priorities: FlowSeq<Vec<u8>>,
    cnp: FlowMap<Cnp>,
    ecn: FlowMap<Ecn>,
    pfc_xoff_bytes: u64,
    mtu: u32,
    cable_length_m: u32,
    watchdog: FlowMap<Watchdog>,
    ecmp_hash: &'static str,
}

#[derive(serde::Serialize)]
struct Cnp {
    dscp: u8,
    priority: u8,
    strict: bool,
}

#[derive(serde::Serialize)]
struct Ecn {
    priority: u8,
    kmin_bytes: u64,
    kmax_bytes: u64,
}

#[derive(serde::Serialize)]
struct Watchdog {
    detect_ms: u32,
    restore_ms: u32,
}

#[derive(serde::Serialize)]
struct NicQos {
    roce_dscp: u8,
    roce_priority: u8,
    cnp_dscp: u8,
    pfc_priorities: FlowSeq<Vec<u8>>,
    mtu: u32,
    roce_mtu: u32,
}

/// The lossless settings of the HGX H200 RoCE reference (docs/sources.md (b) C and §3), the
/// shipped RoCE fabrics' values: RoCE on DSCP 26 / priority 3 (the only PFC priority), CNP on
/// DSCP 48 / priority 6 strict, ECN 150 kB to 1.5 MB, a 9216-byte switch MTU over 9000-byte
/// NICs carrying 4096-byte RoCE frames, the PFC watchdog at 200/400 ms.
fn lossless() -> Lossless {
    Lossless {
        switch: SwitchQos {
            dscp_to_priority: FlowMap(BTreeMap::from([(26, 3), (48, 6)])),
            pfc_priorities: FlowSeq(vec![3]),
            cnp: FlowMap(Cnp {
                dscp: 48,
                priority: 6,
                strict: true,
            }),
            ecn: FlowMap(Ecn {
                priority: 3,
                kmin_bytes: 150_000,
                kmax_bytes: 1_500_000,
            }),
            pfc_xoff_bytes: 2_000_000,
            mtu: 9216,
            cable_length_m: 300,
            watchdog: FlowMap(Watchdog {
                detect_ms: 200,
                restore_ms: 400,
            }),
            ecmp_hash: "qp-udf",
        },
        nic: FlowMap(NicQos {
            roce_dscp: 26,
            roce_priority: 3,
            cnp_dscp: 48,
            pfc_priorities: FlowSeq(vec![3]),
            mtu: 9000,
            roce_mtu: 4096,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cnp, EcmpHash, Ecn, Watchdog};

    fn request(roce: bool) -> GenerateRequest {
        GenerateRequest {
            gpus: 256,
            style: Style::RailOptimized,
            radix: 64,
            nic_gbps: 400,
            gpu_model: "h100-80gb".into(),
            roce,
        }
    }

    /// The serialized `lossless:` block reads back through the fabric loader as exactly the
    /// settings `lossless()` holds, with no load diagnostic (the design checks on generated
    /// fabrics are tests/cli.rs `generated_fabrics_are_valid_and_deterministic`).
    #[test]
    fn lossless_block_round_trips_through_the_loader() {
        let text = generate(&request(true)).expect("generates");
        let loaded = crate::load::load_fabric_str("gen.yaml", &text);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let fabric = loaded.fabric.expect("loads");
        let l = fabric
            .lossless
            .expect("a RoCE fabric has lossless settings");
        let want = lossless();
        let s = &l.switch;
        assert_eq!(s.dscp_to_priority, want.switch.dscp_to_priority.0);
        assert_eq!(s.pfc_priorities, want.switch.pfc_priorities.0);
        assert_eq!(
            s.cnp,
            Some(Cnp {
                dscp: 48,
                priority: 6,
                strict: true
            })
        );
        assert_eq!(
            s.ecn,
            Some(Ecn {
                priority: 3,
                kmin_bytes: 150_000,
                kmax_bytes: 1_500_000
            })
        );
        assert_eq!(s.pfc_xoff_bytes, Some(want.switch.pfc_xoff_bytes));
        assert_eq!(s.mtu, want.switch.mtu);
        assert_eq!(s.cable_length_m, f64::from(want.switch.cable_length_m));
        assert_eq!(
            s.watchdog,
            Some(Watchdog {
                detect_ms: 200,
                restore_ms: 400
            })
        );
        assert_eq!(s.ecmp_hash, EcmpHash::QpUdf);
        let n = &l.nic;
        let w = &want.nic.0;
        assert_eq!(
            (
                n.roce_dscp,
                n.roce_priority,
                n.cnp_dscp,
                &n.pfc_priorities,
                n.mtu,
                n.roce_mtu
            ),
            (
                w.roce_dscp,
                w.roce_priority,
                w.cnp_dscp,
                &w.pfc_priorities.0,
                w.mtu,
                w.roce_mtu
            )
        );
        assert!(l.overrides.is_empty());
        // One document, the block last and in flow style as before (no string pasted on).
        let block = &text[text.find("\nlossless:\n").expect("block") + 1..];
        assert!(
            block.contains("    dscp_to_priority: {26: 3, 48: 6}\n"),
            "{block}"
        );
        assert!(block.ends_with(
            "  nic: {roce_dscp: 26, roce_priority: 3, cnp_dscp: 48, pfc_priorities: [3], mtu: 9000, roce_mtu: 4096}\n"
        ), "{block}");
        // InfiniBand gets none.
        let ib = generate(&request(false)).expect("generates");
        assert!(!ib.contains("lossless"));
    }
}
