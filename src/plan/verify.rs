//! The independent checker: re-derives every constraint of a plan from the fabric, the
//! validated demand and the catalog. It shares no code with the model builder or the
//! placement code (`state`, `milp`): domains, costs and capacities are recomputed here.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Catalog;
use crate::fabric::topology::Topology;
use crate::mig::{self, Placement};
use crate::model::{Fabric, NodeId};
use crate::schema::demand::RawState;

use crate::model::demand::{Demand, Isolation, Level, Unit};

/// One violated constraint, in words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Held {
    Whole,
    Mig(String, u8),
    Fraction(f64),
}

/// Checks `plan` (a plan document's `workloads` and `gpus`) against fabric and demand.
pub fn verify(fabric: &Fabric, demand: &Demand, plan: &RawState) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut v = |code: &'static str, message: String| out.push(Violation { code, message });
    let catalog = &Catalog::builtin().with_models(fabric.gpu_models.clone());
    let topo = Topology::new(fabric);
    let gpu_by_name: BTreeMap<String, usize> = fabric
        .gpus
        .iter()
        .enumerate()
        .map(|(i, g)| {
            (
                format!("{}/{}", fabric.nodes[g.node.index()].name, g.index),
                i,
            )
        })
        .collect();
    let node_of = |g: usize| fabric.gpus[g].node;
    let domain = |node: NodeId, level: Level| -> String {
        let n = &fabric.nodes[node.index()];
        match level {
            Level::Nvlink => n
                .nvlink_domain
                .map(|d| format!("d{}", d.0))
                .unwrap_or_else(|| format!("n{}", node.0)),
            Level::Leaf => {
                let t = fabric.template_of(node);
                let mut leaves: Vec<u32> = (0..t.nics.len())
                    .filter(|&k| t.nics[k].gpu.is_some())
                    .filter_map(|k| topo.nic_switch[n.first_nic.index() + k].map(|s| s.0))
                    .collect();
                leaves.sort_unstable();
                leaves.dedup();
                format!("{leaves:?}")
            }
            Level::Su => format!("{:?}", n.su),
            Level::Fabric => String::new(),
        }
    };
    // Per GPU: holders (workload index, what).
    let mut holders: BTreeMap<usize, Vec<(usize, Held)>> = BTreeMap::new();
    let by_name: BTreeMap<&str, usize> = demand
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.name.as_str(), i))
        .collect();
    let mut seen = BTreeSet::new();
    let mut tenant_usd = vec![0.0; demand.tenants.len()];
    let mut tenant_gpus = vec![0.0; demand.tenants.len()];
    let mut tenant_kw = vec![0.0; demand.tenants.len()];
    // Host CPU (millicores) and memory (MiB) asked per node, and GPU memory (MiB) per GPU.
    let mut node_host: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    let mut gpu_mem: BTreeMap<usize, u64> = BTreeMap::new();
    for pw in &plan.workloads {
        let Some(&w) = by_name.get(pw.name.value.as_str()) else {
            v(
                "V01",
                format!(
                    "the plan places `{}`, which the demand does not list",
                    pw.name.value
                ),
            );
            continue;
        };
        seen.insert(w);
        let wl = &demand.workloads[w];
        if !pw.admitted {
            if !pw.assignments.is_empty() {
                v(
                    "V02",
                    format!("`{}` is not admitted but has assignments", wl.name),
                );
            }
            continue;
        }
        let mut gpus = Vec::new();
        let mut held = Vec::new();
        for a in &pw.assignments {
            let Some(&g) = gpu_by_name.get(&a.gpu.value) else {
                v(
                    "V03",
                    format!("`{}` is assigned unknown GPU `{}`", wl.name, a.gpu.value),
                );
                continue;
            };
            let h = match (
                &a.instance,
                a.gpu_milli.map(|m| m as f64 / 1000.0).or(a.fraction),
            ) {
                (Some(i), _) => match i
                    .value
                    .split_once('@')
                    .and_then(|(p, s)| Some((p.to_string(), s.parse::<u8>().ok()?)))
                {
                    Some((p, s)) => Held::Mig(p, s),
                    None => {
                        v(
                            "V03",
                            format!("`{}` names malformed instance `{}`", wl.name, i.value),
                        );
                        continue;
                    }
                },
                (None, Some(f)) => Held::Fraction(f),
                (None, None) => Held::Whole,
            };
            gpus.push(g);
            held.push(h.clone());
            holders.entry(g).or_default().push((w, h));
        }
        if gpus.is_empty() {
            v("V04", format!("`{}` is admitted but has no GPUs", wl.name));
            continue;
        }
        let models: BTreeSet<&str> = gpus
            .iter()
            .map(|&g| fabric.template_of(node_of(g)).gpu_model.as_str())
            .collect();
        if models.len() != 1 {
            v(
                "V05",
                format!("`{}` spans GPU models {:?}", wl.name, models),
            );
            continue;
        }
        let model = *models.iter().next().expect("model");
        let Some(&unit) = wl.units.get(model) else {
            v(
                "V05",
                format!("`{}` runs on `{model}`, which it may not use", wl.name),
            );
            continue;
        };
        let gm = catalog.gpu(model);
        // Size and shape.
        let equiv = match unit {
            Unit::Gpus(k) => {
                if held.iter().any(|h| *h != Held::Whole) {
                    v("V06", format!("`{}` needs whole GPUs", wl.name));
                }
                let want = if wl.gang.is_some() {
                    k
                } else {
                    k * wl.replicas
                };
                let distinct: BTreeSet<usize> = gpus.iter().copied().collect();
                if distinct.len() as u32 != want {
                    v(
                        "V06",
                        format!(
                            "`{}` needs {want} GPUs and holds {}",
                            wl.name,
                            distinct.len()
                        ),
                    );
                }
                if wl.gang.is_none() {
                    let mut per_node: BTreeMap<u32, u32> = BTreeMap::new();
                    for &g in &distinct {
                        *per_node.entry(node_of(g).0).or_default() += 1;
                    }
                    if per_node.values().any(|c| c % k != 0) {
                        v(
                            "V06",
                            format!(
                                "a replica of `{}` ({k} GPUs) is split across nodes",
                                wl.name
                            ),
                        );
                    }
                }
                want as f64
            }
            Unit::Mig(p) => {
                let table = gm
                    .and_then(|g| g.mig.as_ref())
                    .expect("mig unit on a MIG GPU");
                let pname = &table.profile(p).name;
                if held.len() as u32 != wl.replicas
                    || held
                        .iter()
                        .any(|h| !matches!(h, Held::Mig(n, _) if n == pname))
                {
                    v(
                        "V06",
                        format!("`{}` needs {} `{pname}` instances", wl.name, wl.replicas),
                    );
                }
                wl.replicas as f64 * table.profile(p).compute_slices as f64
                    / table.compute_slices as f64
            }
            Unit::Share { milli, .. } => {
                let f = milli as f64 / 1000.0;
                if held.len() as u32 != wl.replicas
                    || held
                        .iter()
                        .any(|h| !matches!(h, Held::Fraction(x) if (x - f).abs() < 1e-9))
                {
                    v(
                        "V06",
                        format!("`{}` needs {} shares of {f} GPU", wl.name, wl.replicas),
                    );
                }
                wl.replicas as f64 * f
            }
        };
        // Topology.
        if let Some(g) = &wl.gang {
            for level in Level::ALL {
                if level != g.required {
                    continue;
                }
                let doms: BTreeSet<String> =
                    gpus.iter().map(|&x| domain(node_of(x), level)).collect();
                if doms.len() > 1 {
                    v(
                        "V07",
                        format!(
                            "gang `{}` must stay inside one {} and spans {}",
                            wl.name,
                            level.words(),
                            doms.len()
                        ),
                    );
                }
            }
        }
        let t = fabric.template_of(node_of(gpus[0]));
        let gpu_kw = t.power_kw / t.gpus as f64;
        let price = demand.gpu_price(model);
        tenant_usd[wl.tenant] +=
            equiv * price + equiv * gpu_kw * demand.pricing.pue * demand.pricing.power_usd_per_kwh;
        tenant_gpus[wl.tenant] += equiv;
        tenant_kw[wl.tenant] += equiv * gpu_kw;
        // Host resources: a replica per whole-GPU chunk of `k`, per MIG instance or share;
        // a training gang asks per GPU.
        let mut per_node: BTreeMap<u32, u64> = BTreeMap::new();
        for &g in &gpus {
            *per_node.entry(node_of(g).0).or_default() += 1;
        }
        for (n, count) in per_node {
            let replicas = match unit {
                Unit::Gpus(k) if wl.gang.is_none() => count / k.max(1) as u64,
                _ => count,
            };
            let e = node_host.entry(n).or_default();
            e.0 += wl.cpu_millicores * replicas;
            e.1 += wl.memory_mib * replicas;
        }
        if let Unit::Share { mem_mib, .. } = unit {
            for &g in &gpus {
                *gpu_mem.entry(g).or_default() += mem_mib as u64;
            }
        }
    }
    for (w, wl) in demand.workloads.iter().enumerate() {
        let admitted = plan
            .workloads
            .iter()
            .any(|p| p.name.value == wl.name && p.admitted);
        if wl.required && !admitted {
            v(
                "V08",
                format!("required workload `{}` is not admitted", wl.name),
            );
        }
        let _ = w;
    }
    // Layouts declared in the plan.
    let mut layouts: BTreeMap<usize, Vec<(String, u8)>> = BTreeMap::new();
    for g in &plan.gpus {
        if let (Some(&id), Some(l)) = (gpu_by_name.get(&g.gpu.value), &g.mig) {
            layouts.insert(
                id,
                l.value
                    .split_whitespace()
                    .filter_map(|x| {
                        x.split_once('@')
                            .and_then(|(p, s)| Some((p.to_string(), s.parse().ok()?)))
                    })
                    .collect(),
            );
        }
    }
    // Per-GPU capacity and isolation.
    let mut node_tenants: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
    let mut rack_kw: BTreeMap<u32, f64> = BTreeMap::new();
    for (&g, hs) in &holders {
        let node = node_of(g);
        let t = fabric.template_of(node);
        *rack_kw
            .entry(fabric.nodes[node.index()].rack.0)
            .or_default() += t.power_kw / t.gpus as f64;
        let name = format!(
            "{}/{}",
            fabric.nodes[node.index()].name,
            fabric.gpus[g].index
        );
        let tenants: BTreeSet<usize> = hs
            .iter()
            .map(|(w, _)| demand.workloads[*w].tenant)
            .collect();
        node_tenants
            .entry(node.0)
            .or_default()
            .extend(tenants.iter().copied());
        let wholes = hs.iter().filter(|(_, h)| *h == Held::Whole).count();
        let migs: Vec<(String, u8)> = hs
            .iter()
            .filter_map(|(_, h)| {
                if let Held::Mig(p, s) = h {
                    Some((p.clone(), *s))
                } else {
                    None
                }
            })
            .collect();
        let fracs: f64 = hs
            .iter()
            .filter_map(|(_, h)| {
                if let Held::Fraction(f) = h {
                    Some(*f)
                } else {
                    None
                }
            })
            .sum();
        let kinds = (wholes > 0) as u8 + (!migs.is_empty()) as u8 + (fracs > 0.0) as u8;
        if kinds > 1 || wholes > 1 {
            v("V09", format!("GPU `{name}` is used in incompatible ways (whole, MIG, shared) or by two whole-GPU holders"));
            continue;
        }
        if !migs.is_empty() {
            let Some(table) = catalog.gpu(&t.gpu_model).and_then(|m| m.mig.as_ref()) else {
                v("V10", format!("GPU `{name}` has no MIG support"));
                continue;
            };
            let layout = layouts.get(&g).cloned().unwrap_or_else(|| migs.clone());
            let mut placements = Vec::new();
            for (p, s) in &layout {
                match table.profile_index(p) {
                    Some(i) => placements.push(Placement {
                        profile: i,
                        start: *s,
                    }),
                    None => v("V10", format!("GPU `{name}` has unknown MIG profile `{p}`")),
                }
            }
            if let Err(e) = mig::check_layout(table, mig::Rules::default(), &placements) {
                v(
                    "V10",
                    format!(
                        "GPU `{name}` has an invalid MIG layout: {} ({})",
                        e.why, e.rule
                    ),
                );
            }
            let mut used = BTreeSet::new();
            for m in &migs {
                if !layout.contains(m) {
                    v(
                        "V10",
                        format!(
                            "GPU `{name}` has no instance `{}@{}` in its layout",
                            m.0, m.1
                        ),
                    );
                }
                if !used.insert(m.clone()) {
                    v(
                        "V10",
                        format!(
                            "instance `{}@{}` on GPU `{name}` is given to two replicas",
                            m.0, m.1
                        ),
                    );
                }
            }
            // MIG isolation: co-tenancy only among tenants that allow it.
            if tenants.len() > 1
                && tenants
                    .iter()
                    .any(|&t| demand.tenants[t].isolation != (Isolation::Mig { co_tenancy: true }))
            {
                v(
                    "V11",
                    format!("GPU `{name}` mixes tenants' MIG instances without co-tenancy"),
                );
            }
        }
        let mem_cap = catalog
            .gpu(&t.gpu_model)
            .map(|m| m.memory_gib * 1024.0)
            .unwrap_or(0.0);
        let mem = gpu_mem.get(&g).copied().unwrap_or(0);
        if mem_cap > 0.0 && mem as f64 > mem_cap + 1e-6 {
            v(
                "V09",
                format!("GPU `{name}` holds shares asking {mem} MiB of its {mem_cap:.0} MiB"),
            );
        }
        if fracs > 1.0 + 1e-9 {
            v(
                "V09",
                format!("GPU `{name}` is time-sliced beyond one GPU ({fracs})"),
            );
        }
        if fracs > 0.0 {
            let ts: Vec<usize> = tenants.iter().copied().collect();
            for (i, &a) in ts.iter().enumerate() {
                for &b in &ts[i + 1..] {
                    let ok = demand.tenants[a].share_with.contains(&b)
                        && demand.tenants[b].share_with.contains(&a);
                    if !ok {
                        v(
                            "V11",
                            format!(
                                "GPU `{name}` is time-sliced by `{}` and `{}`, which do not share",
                                demand.tenants[a].name, demand.tenants[b].name
                            ),
                        );
                    }
                }
            }
        }
    }
    for (&n, &(cpu, mem)) in &node_host {
        let node = &fabric.nodes[n as usize];
        let t = &fabric.templates[node.template.index()];
        if let Some(c) = t.cpu_millicores.filter(|&c| cpu > c) {
            v(
                "V14",
                format!(
                    "node `{}` is asked {cpu} millicores of CPU and has {c}",
                    node.name
                ),
            );
        }
        if let Some(c) = t.memory_mib.filter(|&c| mem > c) {
            v(
                "V14",
                format!(
                    "node `{}` is asked {mem} MiB of memory and has {c}",
                    node.name
                ),
            );
        }
    }
    for (node, ts) in &node_tenants {
        if ts.len() > 1
            && ts
                .iter()
                .any(|&t| demand.tenants[t].isolation == Isolation::DedicatedNode)
        {
            v(
                "V11",
                format!(
                    "node `{}` is dedicated but holds several tenants",
                    fabric.nodes[*node as usize].name
                ),
            );
        }
    }
    for (r, kw) in &rack_kw {
        let rack = &fabric.racks[*r as usize];
        if *kw > rack.power_kw + 1e-6 {
            v(
                "V12",
                format!(
                    "rack `{}` draws {kw:.1} kW of a {:.1} kW budget",
                    rack.name, rack.power_kw
                ),
            );
        }
    }
    for (t, ten) in demand.tenants.iter().enumerate() {
        if let Some(b) = ten.budget_usd_per_hour {
            if tenant_usd[t] > b + 1e-6 {
                v(
                    "V13",
                    format!(
                        "tenant `{}` spends ${:.2}/h of a ${b:.2}/h budget",
                        ten.name, tenant_usd[t]
                    ),
                );
            }
        }
        if let Some(c) = ten.max_gpus {
            if tenant_gpus[t] > c + 1e-6 {
                v(
                    "V13",
                    format!(
                        "tenant `{}` holds {} GPUs of a {c} cap",
                        ten.name, tenant_gpus[t]
                    ),
                );
            }
        }
        if let Some(c) = ten.max_power_kw {
            if tenant_kw[t] > c + 1e-6 {
                v(
                    "V13",
                    format!(
                        "tenant `{}` draws {:.1} kW of a {c} kW cap",
                        ten.name, tenant_kw[t]
                    ),
                );
            }
        }
    }
    out.sort();
    out
}
