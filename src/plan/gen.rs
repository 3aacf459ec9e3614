//! Deterministic synthetic demand for a fabric (`fabplan generate demand`), for benchmarks
//! and property tests. Two profiles:
//! - `mixed`: about 1.3x the GPUs, budgets at ~70% of the requested spend, gangs, MIG,
//!   time-slicing, agents and all four isolation policies, sizes drawn at random;
//! - `contended`: training campaigns that fight over scalable units (docs/demand-format.md,
//!   "Generated demand"): per SU a high-priority fine-tuning gang of 9/16 or 10/16 of an SU
//!   and a normal pretraining gang of a whole SU, both required inside one SU (~1.6x the GPUs),
//!   plus a thin layer of small inference, MIG, shared and agent work.

use serde::Serialize;
use serde_saphyr::{DoubleQuoted, FlowMap};

use crate::catalog::Catalog;
use crate::model::Fabric;

/// splitmix64: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// An index below `n` (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

// The document `generate demand` writes, in the demand format's key order
// (docs/demand-format.md), serialized by serde-saphyr (issue 11 section 4: no YAML by string
// building). Every tenant and workload is one flow mapping on its own line.

#[derive(Serialize)]
struct DemandDoc<'a> {
    /// A path is user input: double-quoted, so `a: b` or a quote in it stays one scalar.
    #[serde(skip_serializing_if = "Option::is_none")]
    fabric: Option<DoubleQuoted<&'a str>>,
    tenants: Vec<FlowMap<Tenant<'a>>>,
    workloads: Vec<FlowMap<Workload<'a>>>,
}

#[derive(Serialize)]
struct Tenant<'a> {
    name: &'a str,
    isolation: &'a str,
    priority: &'a str,
    budget_usd_per_hour: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    co_tenancy: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    share_with: Vec<&'a str>,
}

#[derive(Serialize, Default)]
struct Workload<'a> {
    name: String,
    tenant: &'a str,
    priority: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<bool>,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpus: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topology: Option<Topology<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collective: Option<Collective>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<Size<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks_per_hour: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_steps: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tool_calls: Option<u64>,
}

#[derive(Serialize)]
struct Topology<'a> {
    required: &'a str,
    preferred: &'a str,
}

#[derive(Serialize)]
struct Collective {
    bytes_per_step: f64,
    steps_per_hour: u64,
}

/// An inference replica's size: `{gpus: N}`, `{mig: NAME}` or `{fraction: F}`, exactly one
/// set. (A struct, not an enum: serde-saphyr 2.2 writes a newtype variant inside a flow
/// mapping as `size: mig: x`, which does not parse; the round-trip tests catch that.)
#[derive(Serialize, Default)]
struct Size<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    gpus: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mig: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fraction: Option<f64>,
}

impl<'a> Size<'a> {
    fn gpus(n: u64) -> Self {
        Size {
            gpus: Some(n),
            ..Size::default()
        }
    }
    fn mig(name: &'a str) -> Self {
        Size {
            mig: Some(name),
            ..Size::default()
        }
    }
    fn fraction(f: f64) -> Self {
        Size {
            fraction: Some(f),
            ..Size::default()
        }
    }
}

/// A budget in whole dollars (at least 10).
fn whole_dollars(usd: f64) -> f64 {
    usd.max(10.0).round()
}

/// `# ` comment lines, then the document.
fn render(comments: &[String], doc: &DemandDoc) -> String {
    let mut s = String::new();
    for line in comments.iter().flat_map(|c| c.lines()) {
        s.push_str("# ");
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&crate::util::to_yaml(doc));
    s
}

/// Which kind of demand `generate demand` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Random sizes over every kind and policy (greedy does well on it).
    Mixed,
    /// Training campaigns fragmenting scalable units (where greedy loses).
    Contended,
}

/// Demand YAML for `fabric` (referenced as `fabric_path`) with `workloads` workloads.
pub fn generate_demand(
    fabric: &Fabric,
    fabric_path: Option<&str>,
    workloads: usize,
    seed: u64,
    profile: Profile,
) -> String {
    if profile == Profile::Contended {
        return contended(fabric, fabric_path, workloads, seed);
    }
    let mut rng = Rng::new(seed);
    let gpus: u64 = fabric
        .templates
        .iter()
        .zip(0..)
        .map(|(t, i)| {
            t.gpus as u64 * fabric.nodes.iter().filter(|n| n.template.0 == i).count() as u64
        })
        .sum();
    let tpl = fabric.templates.iter().find(|t| t.gpus > 0);
    let gpn = tpl.map(|t| t.gpus).unwrap_or(8) as u64;
    let model = tpl.map(|t| t.gpu_model.clone()).unwrap_or_default();
    let mig_names = mig_profiles(&model);
    let price = crate::model::demand::DEFAULT_GPU_USD_PER_HOUR
        .iter()
        .find(|x| x.0 == model)
        .map(|x| x.1)
        .unwrap_or(2.0);
    let mean = (gpus as f64 * 1.3 / workloads.max(1) as f64).max(0.5);
    let tenants = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"];
    let isolation = [
        "dedicated-node",
        "dedicated-gpu",
        "dedicated-gpu",
        "dedicated-node",
        "mig",
        "mig",
        "shared",
        "shared",
    ];
    // Budgets: ~70% of each tenant's share of the requested GPU spend.
    let budget = gpus as f64 * 1.3 * price * 1.1 / tenants.len() as f64 * 0.7;
    let tenant_list = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| {
            FlowMap(Tenant {
                name: t,
                isolation: isolation[i],
                priority: ["critical", "high", "normal", "low"][i % 4],
                budget_usd_per_hour: whole_dollars(budget),
                co_tenancy: (i == 4 || i == 5).then_some(true),
                share_with: match i {
                    6 => vec!["t7"],
                    7 => vec!["t6"],
                    _ => vec![],
                },
            })
        })
        .collect();
    let mut list = Vec::with_capacity(workloads);
    for w in 0..workloads {
        let t = rng.below(8) as usize;
        let prio = 1 + rng.below(4);
        let required = rng.below(50) == 0 && mean >= 1.0;
        let mut wl = Workload {
            name: format!("w{w:05}"),
            tenant: tenants[t],
            priority: prio,
            required: required.then_some(true),
            ..Workload::default()
        };
        let roll = rng.below(100);
        if t < 4 && (roll < 55 || mean >= gpn as f64 * 2.0) {
            // A training gang: whole nodes (or one node's worth), a topology level, a collective.
            let max_nodes = ((mean * 2.0 / gpn as f64).round() as u64).clamp(1, 64);
            let nodes = 1 + rng.below(max_nodes);
            let size = if nodes == 1 {
                *rng.pick(&[gpn / 2, gpn])
            } else {
                nodes * gpn
            };
            let req = *rng.pick(&["leaf", "su", "su", "fabric"]);
            wl.kind = "training";
            wl.gpus = Some(size.max(1));
            wl.topology = Some(Topology {
                required: req,
                preferred: if nodes == 1 { "nvlink" } else { "leaf" },
            });
            wl.collective = Some(Collective {
                bytes_per_step: (1 + rng.below(20)) as f64 * 1e9,
                steps_per_hour: 300 + rng.below(3000),
            });
        } else if roll < 85 || t < 4 {
            let replicas = 1 + rng.below((mean * 2.0).ceil().max(1.0) as u64);
            let size = match isolation[t] {
                "mig" if !mig_names.is_empty() => Size::mig(rng.pick(&mig_names).as_str()),
                "shared" => Size::fraction(*rng.pick(&[0.125, 0.25, 0.5])),
                _ => Size::gpus(*rng.pick(&[1, 1, 2, 4])),
            };
            wl.kind = "inference";
            wl.replicas = Some(replicas);
            wl.size = Some(size);
        } else {
            wl.kind = "agent";
            wl.tasks_per_hour = Some(100 + rng.below(2000));
            wl.max_tokens = Some(500 + rng.below(4000));
            wl.max_steps = Some(1 + rng.below(12));
            wl.max_tool_calls = Some(rng.below(20));
        }
        list.push(FlowMap(wl));
    }
    render(
        &[format!(
            "generated by `fabplan generate demand --workloads {workloads} --seed {seed}`"
        )],
        &DemandDoc {
            fabric: fabric_path.map(DoubleQuoted),
            tenants: tenant_list,
            workloads: list,
        },
    )
}

/// Nodes per scalable unit (the most common SU size, the larger on a tie; the whole fabric
/// when racks name no SU), how many SUs have that size, GPUs per node and the GPU model of
/// the first GPU template.
fn su_shape(fabric: &Fabric) -> (u64, u64, u64, String) {
    let tpl = fabric.templates.iter().position(|t| t.gpus > 0);
    let gpn = tpl.map(|t| fabric.templates[t].gpus).unwrap_or(8) as u64;
    let model = tpl
        .map(|t| fabric.templates[t].gpu_model.clone())
        .unwrap_or_default();
    let mut per_su: std::collections::BTreeMap<Option<usize>, u64> = Default::default();
    for n in fabric
        .nodes
        .iter()
        .filter(|n| Some(n.template.index()) == tpl)
    {
        *per_su.entry(n.su.map(|s| s.index())).or_default() += 1;
    }
    let mut sizes: std::collections::BTreeMap<u64, u64> = Default::default();
    for &n in per_su.values() {
        *sizes.entry(n).or_default() += 1;
    }
    let (su_nodes, sus) = sizes
        .iter()
        .max_by_key(|(size, count)| (**count, **size))
        .map(|(s, c)| (*s, *c))
        .unwrap_or((1, 1));
    (su_nodes.max(1), sus.max(1), gpn, model)
}

/// The `contended` profile: SU-sized pretraining against fine-tuning gangs that leave an SU
/// part used, the pattern behind most lost capacity in gang schedulers (a high-priority job
/// takes 5/8 of a unit, the rest is too small for the next big job).
fn contended(fabric: &Fabric, fabric_path: Option<&str>, workloads: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let (su_nodes, sus, gpn, model) = su_shape(fabric);
    let gpus: u64 = fabric
        .nodes
        .iter()
        .map(|n| fabric.templates[n.template.index()].gpus as u64)
        .sum();
    let price = crate::model::demand::DEFAULT_GPU_USD_PER_HOUR
        .iter()
        .find(|x| x.0 == model)
        .map(|x| x.1)
        .unwrap_or(2.0);
    // One fine-tuning and one pretraining gang per SU (so ~1.6x the GPUs with
    // the small work), and the rest of the workload count as small work.
    let fine = sus;
    let pre = sus;
    // Small work: about 5% of the GPUs in all. One replica averages ~0.6 GPU-equivalents
    // (a quarter dedicated 1-2 GPUs, a quarter MIG slices, half 1/4-1/2 shares), so fewer
    // than the rest of `workloads` when that would be more.
    let small_gpus = (gpus as f64 * 0.05).max(1.0);
    let small = workloads
        .saturating_sub((fine + pre) as usize)
        .min((small_gpus / 0.6).round() as usize);
    let mut gangs: Vec<(u64, u32, &str)> = Vec::new();
    for _ in 0..fine {
        let sixteenths = *rng.pick(&[9u64, 10]);
        let nodes = (su_nodes * sixteenths / 16).max(1);
        gangs.push((nodes * gpn, 4, "ft"));
    }
    for _ in 0..pre {
        gangs.push((su_nodes * gpn, 3, "pt"));
    }
    let per_small = (small_gpus / 0.6 / small.max(1) as f64).max(0.125);
    let tenants = [
        // (name, isolation, priority, the tenant it shares GPUs with)
        ("train-a", "dedicated-node", "high", ""),
        ("train-b", "dedicated-node", "high", ""),
        ("train-c", "dedicated-node", "normal", ""),
        ("train-d", "dedicated-node", "normal", ""),
        ("serve", "dedicated-gpu", "normal", ""),
        ("mig", "mig", "low", ""),
        ("share-a", "shared", "low", "share-b"),
        ("share-b", "shared", "low", "share-a"),
    ];
    // Budgets: each training tenant can pay for what it asks (the fight is for SUs, not
    // money); small-work tenants for twice their share.
    let mut ask = [0.0f64; 8];
    for (i, g) in gangs.iter().enumerate() {
        ask[i % 4] += g.0 as f64 * price * 1.1;
    }
    let tenant_list = tenants
        .iter()
        .enumerate()
        .map(|(i, (name, iso, prio, share))| {
            let budget = if i < 4 {
                ask[i]
            } else {
                small_gpus * price * 1.1 * 2.0 / 4.0
            };
            FlowMap(Tenant {
                name,
                isolation: iso,
                priority: prio,
                budget_usd_per_hour: whole_dollars(budget),
                co_tenancy: (*iso == "mig").then_some(true),
                share_with: if share.is_empty() {
                    vec![]
                } else {
                    vec![*share]
                },
            })
        })
        .collect();
    let mut list = Vec::with_capacity(gangs.len() + small);
    for (i, (size, prio, kind)) in gangs.iter().enumerate() {
        list.push(FlowMap(Workload {
            name: format!("{kind}{i:04}"),
            tenant: tenants[i % 4].0,
            priority: *prio as u64,
            kind: "training",
            gpus: Some(*size),
            topology: Some(Topology {
                required: "su",
                preferred: "leaf",
            }),
            collective: Some(Collective {
                bytes_per_step: (2 + rng.below(3)) as f64 * 1e9,
                steps_per_hour: 600 + rng.below(600),
            }),
            ..Workload::default()
        }));
    }
    let mig_names = mig_profiles(&model);
    for w in 0..small {
        let t = 4 + rng.below(4) as usize;
        let prio = 1 + rng.below(2);
        let replicas = 1 + rng.below((per_small * 2.0).ceil().max(1.0) as u64);
        let size = match tenants[t].1 {
            "mig" if !mig_names.is_empty() => Size::mig(rng.pick(&mig_names).as_str()),
            "shared" => Size::fraction(*rng.pick(&[0.25, 0.5])),
            _ => Size::gpus(*rng.pick(&[1, 1, 2])),
        };
        list.push(FlowMap(Workload {
            name: format!("s{w:05}"),
            tenant: tenants[t].0,
            priority: prio,
            kind: "inference",
            replicas: Some(replicas),
            size: Some(size),
            ..Workload::default()
        }));
    }
    render(
        &[
            format!("generated by `fabplan generate demand --profile contended --workloads {workloads} --seed {seed}`"),
            format!("{sus} SUs of {su_nodes} nodes: {fine} fine-tuning gangs (9/16-10/16 SU, priority 4), {pre} pretraining gangs (1 SU, priority 3), {small} small workloads"),
        ],
        &DemandDoc {
            fabric: fabric_path.map(DoubleQuoted),
            tenants: tenant_list,
            workloads: list,
        },
    )
}

/// One plain MIG profile per compute-slice count of `model` (none without MIG).
fn mig_profiles(model: &str) -> Vec<String> {
    Catalog::builtin()
        .gpu(model)
        .and_then(|g| g.mig.as_ref())
        .map(|t| {
            let mut v: Vec<(u8, String)> = t
                .profiles
                .iter()
                .filter(|p| !p.name.contains('+') && !p.name.contains('-'))
                .map(|p| (p.compute_slices, p.name.clone()))
                .collect();
            v.sort();
            v.dedup_by(|a, b| a.0 == b.0);
            v.into_iter().map(|x| x.1).collect()
        })
        .unwrap_or_default()
}
