//! The independent checker: re-derives every constraint of a plan from the fabric, the
//! validated demand and the catalog. It shares no code with the model builder or the
//! placement code (`state`, `milp`): domains, costs and capacities are recomputed here.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Span};
use crate::fabric::topology::Topology;
use crate::mig::{self, Placement};
use crate::model::{Fabric, NodeId};
use crate::schema::plan::PlanDocument;
use crate::schema::Spanned;
use crate::source;

use crate::model::demand::{Demand, Isolation, Level, Unit};

/// The label and help line of each of verify's codes (FP850-FP862; `fabplan explain CODE`).
fn words(code: &str) -> (&'static str, &'static str) {
    match code {
        "FP850" => ("not a workload of the demand", "plan the current demand again, or add the workload to the demand"),
        "FP851" => ("not admitted", "a rejected workload holds nothing: drop its assignments"),
        "FP852" => ("not a GPU or instance of the fabric", "GPUs are `node/index` of the fabric and instances `profile@start`"),
        "FP853" => ("admitted without GPUs", "an admitted workload holds its GPUs: add them, or mark it not admitted"),
        "FP854" => ("this workload", "use only models listed in `gpu_models`, and one model for a gang or a `same_model` workload"),
        "FP855" => ("this workload", "hold exactly the workload's size per replica (whole GPUs, MIG instances or shares)"),
        "FP856" => ("this gang", "keep the gang's GPUs inside one domain of its required topology level"),
        "FP857" => ("required, not admitted", "re-plan: a required workload must be admitted (`fabplan plan` says why it cannot be)"),
        "FP858" => ("this GPU", "a GPU is whole for one holder, MIG, or time-sliced up to 1000 thousandths"),
        "FP859" => ("this GPU", "`fabplan mig layouts --gpu MODEL` lists the layouts the GPU can hold"),
        "FP860" => ("shared here", "co-locate tenants only as their isolation allows (`share_with`, MIG co-tenancy, dedicated nodes)"),
        "FP861" => ("a GPU on the rack", "move work off the rack, or raise its `power_kw` if the rack can take it"),
        "FP862" => ("the tenant's first workload", "reject work of the tenant, or raise its budget or cap in the demand"),
        "FP863" => ("asks host resources of the node", "move replicas to nodes with CPU and memory free, or give the node template more `cpu_millicores`/`memory_mib`"),
        "FP864" => ("this workload", "run between `min_replicas` and `replicas` replicas (all of them without `min_replicas`)"),
        "FP867" => ("this host-only placement", "a host-only workload lists one `hosts` entry per replica, on a node of the fabric, with the demand's `cpu_millicores` and `memory_mib`, and no GPU assignments"),
        _ => ("here", "see `fabplan explain CODE`"),
    }
}

fn sp<T>(v: &Spanned<T>) -> Option<Span> {
    source::known_span_of(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Held {
    Whole,
    Mig(String, u8),
    /// A share in thousandths of a GPU.
    Milli(i64),
}

/// Checks `plan` (a plan document's `workloads` and `gpus`) against fabric and demand: one
/// error diagnostic per violated constraint, labelled on the workload or GPU entry it concerns.
pub fn verify(fabric: &Fabric, demand: &Demand, plan: &PlanDocument) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut v = |code: &'static str, at: Option<Span>, message: String| {
        let (label, help) = words(code);
        out.push(
            Diagnostic::error(code, message)
                .at_opt(at, label)
                .help(help),
        )
    };
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
    let mut holders: BTreeMap<usize, Vec<(usize, Held, Option<Span>)>> = BTreeMap::new();
    // Where each tenant's first admitted workload is written (for tenant-level findings).
    let mut tenant_at: Vec<Option<Span>> = vec![None; demand.tenants.len()];
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
    // The first workload entry that asks host resources of each node (where FP863 points).
    let mut node_at: BTreeMap<u32, Option<Span>> = BTreeMap::new();
    let mut gpu_mem: BTreeMap<usize, u64> = BTreeMap::new();
    let host_by_name: BTreeMap<&str, usize> = demand
        .host_workloads
        .iter()
        .enumerate()
        .map(|(i, h)| (h.name.as_str(), i))
        .collect();
    let node_by_name: BTreeMap<&str, u32> = fabric
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i as u32))
        .collect();
    for pw in &plan.workloads {
        if let Some(&h) = host_by_name.get(pw.name.value.as_str()) {
            verify_host(
                &demand.host_workloads[h],
                pw,
                &node_by_name,
                &mut node_host,
                &mut node_at,
                &mut v,
            );
            continue;
        }
        if let Some(h0) = pw.hosts.first() {
            v(
                "FP867",
                sp(&h0.node),
                format!(
                    "`{}` holds GPUs by the demand and lists `hosts`, which only a host-only workload has",
                    pw.name.value
                ),
            );
        }
        let Some(&w) = by_name.get(pw.name.value.as_str()) else {
            v(
                "FP850",
                sp(&pw.name),
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
                    "FP851",
                    sp(&pw.name),
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
                    "FP852",
                    sp(&a.gpu),
                    format!("`{}` is assigned unknown GPU `{}`", wl.name, a.gpu.value),
                );
                continue;
            };
            let h = match (&a.instance, &a.gpu_milli) {
                (Some(i), _) => match i
                    .value
                    .split_once('@')
                    .and_then(|(p, s)| Some((p.to_string(), s.parse::<u8>().ok()?)))
                {
                    Some((p, s)) => Held::Mig(p, s),
                    None => {
                        v(
                            "FP852",
                            sp(i),
                            format!("`{}` names malformed instance `{}`", wl.name, i.value),
                        );
                        continue;
                    }
                },
                (None, Some(m)) => Held::Milli(m.value),
                (None, None) => Held::Whole,
            };
            gpus.push(g);
            held.push(h.clone());
            holders.entry(g).or_default().push((w, h, sp(&a.gpu)));
        }
        if tenant_at[wl.tenant].is_none() {
            tenant_at[wl.tenant] = sp(&pw.name);
        }
        if gpus.is_empty() {
            v(
                "FP853",
                sp(&pw.name),
                format!("`{}` is admitted but has no GPUs", wl.name),
            );
            continue;
        }
        // The GPUs (and what is held on each) per GPU model: replicas may mix the models
        // the demand sized them for unless the workload is a gang or says `same_model`.
        let mut by_model: BTreeMap<&str, (Vec<usize>, Vec<Held>)> = BTreeMap::new();
        for (&g, h) in gpus.iter().zip(&held) {
            let e = by_model
                .entry(fabric.template_of(node_of(g)).gpu_model.as_str())
                .or_default();
            e.0.push(g);
            e.1.push(h.clone());
        }
        if by_model.len() != 1 && (wl.gang.is_some() || wl.same_model) {
            v(
                "FP854",
                sp(&pw.name),
                format!(
                    "`{}` spans GPU models {}{}",
                    wl.name,
                    by_model
                        .keys()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if wl.same_model {
                        " and says `same_model: true`"
                    } else {
                        ""
                    }
                ),
            );
            continue;
        }
        if let Some(model) = by_model.keys().find(|m| !wl.units.contains_key(**m)) {
            v(
                "FP854",
                sp(&pw.name),
                format!("`{}` runs on `{model}`, which it may not use", wl.name),
            );
            continue;
        }
        // All of `replicas` on one model: the count is part of each size check (FP855);
        // else the replicas are counted per model and their sum checked after (FP864).
        let fixed_count = !wl.is_elastic() && by_model.len() == 1;
        let mut replicas_held = 0u32;
        let all_gpus = gpus;
        for (model, (gpus, held)) in &by_model {
            let (model, gpus) = (*model, gpus.clone());
            let unit = wl.units[model];
            let gm = catalog.gpu(model);
            // Size and shape.
            let equiv = match unit {
                Unit::Gpus(k) => {
                    if held.iter().any(|h| *h != Held::Whole) {
                        v(
                            "FP855",
                            sp(&pw.name),
                            format!("`{}` needs whole GPUs", wl.name),
                        );
                    }
                    let distinct: BTreeSet<usize> = gpus.iter().copied().collect();
                    let want = if wl.gang.is_some() {
                        k
                    } else if fixed_count {
                        k * wl.replicas
                    } else {
                        distinct.len() as u32 / k.max(1) * k
                    };
                    replicas_held += if wl.gang.is_some() {
                        1
                    } else {
                        want / k.max(1)
                    };
                    if distinct.len() as u32 != want {
                        v(
                            "FP855",
                            sp(&pw.name),
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
                                "FP855",
                                sp(&pw.name),
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
                    replicas_held += held.len() as u32;
                    if (fixed_count && held.len() as u32 != wl.replicas)
                        || held
                            .iter()
                            .any(|h| !matches!(h, Held::Mig(n, _) if n == pname))
                    {
                        v(
                            "FP855",
                            sp(&pw.name),
                            format!("`{}` needs {} `{pname}` instances", wl.name, wl.replicas),
                        );
                    }
                    held.len() as f64 * table.profile(p).compute_slices as f64
                        / table.compute_slices as f64
                }
                Unit::Share { milli, .. } => {
                    let milli = i64::from(milli);
                    replicas_held += held.len() as u32;
                    if (fixed_count && held.len() as u32 != wl.replicas)
                        || held
                            .iter()
                            .any(|h| !matches!(h, Held::Milli(x) if *x == milli))
                    {
                        v(
                            "FP855",
                            sp(&pw.name),
                            format!(
                                "`{}` needs {} shares of {milli} thousandths of a GPU",
                                wl.name, wl.replicas
                            ),
                        );
                    }
                    held.len() as f64 * milli as f64 / 1000.0
                }
            };
            // Topology.
            if let Some(g) = &wl.gang {
                for level in Level::ALL {
                    if level != g.required {
                        continue;
                    }
                    let doms: BTreeSet<String> = all_gpus
                        .iter()
                        .map(|&x| domain(node_of(x), level))
                        .collect();
                    if doms.len() > 1 {
                        v(
                            "FP856",
                            sp(&pw.name),
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
            tenant_usd[wl.tenant] += crate::model::cost::chargeback_usd_per_hour(
                equiv,
                price,
                gpu_kw,
                demand.pricing.pue,
                demand.pricing.power_usd_per_kwh,
            );
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
                if wl.cpu_millicores > 0 || wl.memory_mib > 0 {
                    node_at.entry(n).or_insert_with(|| sp(&pw.name));
                }
                e.0 += wl.cpu_millicores * replicas;
                e.1 += wl.memory_mib * replicas;
            }
            if let Unit::Share { mem_mib, .. } = unit {
                for &g in &gpus {
                    *gpu_mem.entry(g).or_default() += mem_mib as u64;
                }
            }
        }
        if !fixed_count
            && wl.gang.is_none()
            && !(wl.min_replicas.max(1)..=wl.replicas).contains(&replicas_held)
        {
            v(
                "FP864",
                sp(&pw.name),
                format!(
                    "`{}` runs {replicas_held} replicas; the demand allows {} to {}",
                    wl.name,
                    wl.min_replicas.max(1),
                    wl.replicas
                ),
            );
        }
    }
    for (w, wl) in demand.workloads.iter().enumerate() {
        let admitted = plan
            .workloads
            .iter()
            .any(|p| p.name.value == wl.name && p.admitted);
        if wl.required && !admitted {
            v(
                "FP857",
                plan.workloads
                    .iter()
                    .find(|p| p.name.value == wl.name)
                    .and_then(|p| sp(&p.name)),
                format!("required workload `{}` is not admitted", wl.name),
            );
        }
        let _ = w;
    }
    for hw in &demand.host_workloads {
        let entry = plan.workloads.iter().find(|p| p.name.value == hw.name);
        if hw.required && !entry.is_some_and(|p| p.admitted) {
            v(
                "FP857",
                entry.and_then(|p| sp(&p.name)),
                format!("required workload `{}` is not admitted", hw.name),
            );
        }
    }
    // Layouts declared in the plan, and where each GPU entry is written.
    let mut layouts: BTreeMap<usize, Vec<(String, u8)>> = BTreeMap::new();
    let mut gpu_entry: BTreeMap<usize, Option<Span>> = BTreeMap::new();
    for g in &plan.gpus {
        if let Some(&id) = gpu_by_name.get(&g.gpu.value) {
            gpu_entry.entry(id).or_insert(sp(&g.gpu));
        }
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
    // The first GPU entry held on each node (where FP860 points for a dedicated node).
    let mut node_gpu_at: BTreeMap<u32, Option<Span>> = BTreeMap::new();
    let mut rack_at: BTreeMap<u32, Option<Span>> = BTreeMap::new();
    for (&g, hs) in &holders {
        let node = node_of(g);
        let t = fabric.template_of(node);
        let gpu_at = gpu_entry.get(&g).copied().flatten().or(hs[0].2);
        node_gpu_at.entry(node.0).or_insert(hs[0].2);
        rack_at
            .entry(fabric.nodes[node.index()].rack.0)
            .or_insert(hs[0].2);
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
            .map(|(w, _, _)| demand.workloads[*w].tenant)
            .collect();
        node_tenants
            .entry(node.0)
            .or_default()
            .extend(tenants.iter().copied());
        let wholes = hs.iter().filter(|(_, h, _)| *h == Held::Whole).count();
        let migs: Vec<(String, u8)> = hs
            .iter()
            .filter_map(|(_, h, _)| {
                if let Held::Mig(p, s) = h {
                    Some((p.clone(), *s))
                } else {
                    None
                }
            })
            .collect();
        let shares: Vec<i64> = hs
            .iter()
            .filter_map(|(_, h, _)| {
                if let Held::Milli(m) = h {
                    Some(*m)
                } else {
                    None
                }
            })
            .collect();
        let milli: i64 = shares.iter().sum();
        let kinds = (wholes > 0) as u8 + (!migs.is_empty()) as u8 + (!shares.is_empty()) as u8;
        if kinds > 1 || wholes > 1 {
            v("FP858", gpu_at, format!("GPU `{name}` is used in incompatible ways (whole, MIG, shared) or by two whole-GPU holders"));
            continue;
        }
        if !migs.is_empty() {
            let Some(table) = catalog.gpu(&t.gpu_model).and_then(|m| m.mig.as_ref()) else {
                v("FP859", gpu_at, format!("GPU `{name}` has no MIG support"));
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
                    None => v(
                        "FP859",
                        gpu_at,
                        format!("GPU `{name}` has unknown MIG profile `{p}`"),
                    ),
                }
            }
            if let Err(e) = mig::check_layout(table, mig::Rules::default(), &placements) {
                v(
                    "FP859",
                    gpu_at,
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
                        "FP859",
                        gpu_at,
                        format!(
                            "GPU `{name}` has no instance `{}@{}` in its layout",
                            m.0, m.1
                        ),
                    );
                }
                if !used.insert(m.clone()) {
                    v(
                        "FP859",
                        gpu_at,
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
                    "FP860",
                    gpu_at,
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
                "FP858",
                gpu_at,
                format!("GPU `{name}` holds shares asking {mem} MiB of its {mem_cap:.0} MiB"),
            );
        }
        if milli > 1000 {
            v(
                "FP858",
                gpu_at,
                format!("GPU `{name}` is time-sliced beyond one GPU ({milli} thousandths)"),
            );
        }
        if !shares.is_empty() {
            let ts: Vec<usize> = tenants.iter().copied().collect();
            for (i, &a) in ts.iter().enumerate() {
                for &b in &ts[i + 1..] {
                    let ok = demand.tenants[a].share_with.contains(&b)
                        && demand.tenants[b].share_with.contains(&a);
                    if !ok {
                        v(
                            "FP860",
                            gpu_at,
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
                "FP863",
                node_at.get(&n).copied().flatten(),
                format!(
                    "node `{}` is asked {cpu} millicores of CPU and has {c}",
                    node.name
                ),
            );
        }
        if let Some(c) = t.memory_mib.filter(|&c| mem > c) {
            v(
                "FP863",
                node_at.get(&n).copied().flatten(),
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
                "FP860",
                node_gpu_at.get(node).copied().flatten(),
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
                "FP861",
                rack_at.get(r).copied().flatten(),
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
                    "FP862",
                    tenant_at[t],
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
                    "FP862",
                    tenant_at[t],
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
                    "FP862",
                    tenant_at[t],
                    format!(
                        "tenant `{}` draws {:.1} kW of a {c} kW cap",
                        ten.name, tenant_kw[t]
                    ),
                );
            }
        }
    }
    out.sort_by(|a, b| (a.code, &a.message).cmp(&(b.code, &b.message)));
    out
}

/// A host-only workload's entry (`hosts:`, one per replica): on nodes of the fabric (FP867),
/// as many as its `replicas` when admitted and none when not, each with the demand's CPU and
/// memory (FP867); what they ask is added to the node's host use (FP863, checked later).
fn verify_host(
    hw: &crate::model::demand::HostWorkload,
    pw: &crate::schema::plan::PlanWorkload,
    node_by_name: &BTreeMap<&str, u32>,
    node_host: &mut BTreeMap<u32, (u64, u64)>,
    node_at: &mut BTreeMap<u32, Option<Span>>,
    v: &mut impl FnMut(&'static str, Option<Span>, String),
) {
    if let Some(a) = pw.assignments.first() {
        v(
            "FP867",
            sp(&a.gpu),
            format!(
                "host-only workload `{}` holds GPU `{}`; it asks no GPU",
                hw.name, a.gpu.value
            ),
        );
    }
    if !pw.admitted {
        if let Some(h0) = pw.hosts.first() {
            v(
                "FP851",
                sp(&h0.node),
                format!("`{}` is not admitted but has hosts", hw.name),
            );
        }
        return;
    }
    if pw.hosts.len() != hw.replicas as usize {
        v(
            "FP867",
            sp(&pw.name),
            format!(
                "host-only workload `{}` runs {} replica(s) and asks {}",
                hw.name,
                pw.hosts.len(),
                hw.replicas
            ),
        );
    }
    for h in &pw.hosts {
        let Some(&n) = node_by_name.get(h.node.value.as_str()) else {
            v(
                "FP867",
                sp(&h.node),
                format!(
                    "host-only workload `{}` runs on node `{}`, which the fabric lacks",
                    hw.name, h.node.value
                ),
            );
            continue;
        };
        if h.cpu_millicores.value != hw.cpu_millicores as i64
            || h.memory_mib.value != hw.memory_mib as i64
        {
            v(
                "FP867",
                sp(&h.cpu_millicores),
                format!(
                    "a replica of `{}` takes {} millicores and {} MiB; the demand asks {} and {}",
                    hw.name,
                    h.cpu_millicores.value,
                    h.memory_mib.value,
                    hw.cpu_millicores,
                    hw.memory_mib
                ),
            );
        }
        // The demand's ask is what the node must hold.
        node_at.entry(n).or_insert_with(|| sp(&h.node));
        let e = node_host.entry(n).or_default();
        e.0 += hw.cpu_millicores;
        e.1 += hw.memory_mib;
    }
}
