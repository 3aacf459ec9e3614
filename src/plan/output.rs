//! Rendering a plan: the JSON/YAML document (the keys docs/demand-format.md lists), the diff
//! against the current state, and the human summary.

use std::collections::BTreeMap;

use super::state::{Assignment, GeoNodeId, Geometry, GpuUse, Hold};
use super::{Current, PlanOptions, PlanResult};
use crate::model::demand::Demand;
use crate::model::{GpuId, WorkloadId};
use crate::schema::plan::{
    unspanned, Eviction, Move, NewPlacement, ObjectiveTerms, PlanAssignment, PlanDiff,
    PlanDocument, PlanGpu, PlanHost, PlanWorkload, Repartition, Summary, TenantCosts,
};

fn r6(x: f64) -> f64 {
    let v = (x * 1e6).round() / 1e6;
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

fn hold_doc(geo: &Geometry, gpu: GpuId, h: Hold) -> PlanAssignment {
    let name = geo.gpu_names[gpu.index()].clone();
    let (instance, gpu_milli) = match h {
        Hold::Whole => (None, None),
        Hold::Mig(p) => {
            let t = geo.models[geo.model_of_gpu(gpu)].mig.as_ref().expect("mig");
            (
                Some(unspanned(format!(
                    "{}@{}",
                    t.profile(p.profile).name,
                    p.start
                ))),
                None,
            )
        }
        Hold::Share(milli) => (None, Some(unspanned(i64::from(milli)))),
    };
    PlanAssignment {
        gpu: unspanned(name),
        gpu_model: None,
        instance,
        gpu_milli,
    }
}

pub fn layout_text(geo: &Geometry, gpu: GpuId, u: &GpuUse) -> Option<String> {
    match u {
        GpuUse::Mig { layout, .. } => {
            let t = geo.models[geo.model_of_gpu(gpu)].mig.as_ref()?;
            Some(
                layout
                    .iter()
                    .map(|(p, _)| format!("{}@{}", t.profile(p.profile).name, p.start))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
        _ => None,
    }
}

/// The plan document. `solve_seconds` is the one field that varies between runs.
pub fn document(
    geo: &Geometry,
    d: &Demand,
    r: &PlanResult,
    opts: &PlanOptions,
    current: Option<&Current>,
) -> PlanDocument {
    let mut workloads = Vec::new();
    let mut pw_gpus = 0.0;
    for (w, wl) in d.workloads.iter().enumerate() {
        let mut o = PlanWorkload {
            name: unspanned(wl.name.clone()),
            tenant: Some(d.tenant(wl.tenant).name.clone()),
            kind: Some(wl.kind.as_str().to_string()),
            priority: Some(wl.priority),
            required: Some(wl.required),
            admitted: r.admitted[w],
            gpu_model: None,
            gpu_models: Vec::new(),
            replicas: None,
            replicas_requested: None,
            min_replicas: None,
            gpus: None,
            topology: None,
            reason: None,
            memory_gib_per_replica: wl.memory_gib,
            gpu_seconds_per_task: wl.gpu_seconds_per_task.map(r6),
            assignments: r.assignments[w]
                .iter()
                .map(|a| hold_doc(geo, a.gpu, a.hold))
                .collect(),
            hosts: Vec::new(),
        };
        if wl.is_elastic() {
            let by = super::state::replicas_by_model(geo, wl, &r.assignments[w]);
            o.replicas = Some(if r.admitted[w] { by.values().sum() } else { 0 });
            o.replicas_requested = Some(wl.replicas);
            o.min_replicas = Some(wl.min_replicas);
        }
        if r.admitted[w] {
            let m = r.model_of[w].expect("model");
            let by = super::state::replicas_by_model(geo, wl, &r.assignments[w]);
            let eq: f64 = by
                .iter()
                .map(|(&m, &n)| {
                    super::state::unit_equiv(geo, m, wl.units[&geo.models[m].key]) * n as f64
                })
                .sum();
            pw_gpus += eq * wl.priority;
            o.gpu_model = Some(geo.models[m].key.clone());
            if by.len() > 1 {
                o.gpu_models = by.keys().map(|&m| geo.models[m].key.clone()).collect();
                for (a, doc) in r.assignments[w].iter().zip(o.assignments.iter_mut()) {
                    doc.gpu_model = Some(geo.models[geo.model_of_gpu(a.gpu)].key.clone());
                }
            }
            o.gpus = Some(r6(eq));
            if wl.is_elastic() || by.len() > 1 {
                // Elastic or multi-model: the reason says how many replicas run (and why not
                // more), beside the admitted count.
                o.reason = r.reasons[w].clone();
            }
            if wl.gang.is_some() {
                let gpus: Vec<GpuId> = r.assignments[w].iter().map(|a| a.gpu).collect();
                o.topology = Some(
                    super::state::tightest_level(geo, &gpus)
                        .as_str()
                        .to_string(),
                );
            }
        } else {
            o.reason = Some(
                r.reasons[w]
                    .clone()
                    .unwrap_or_else(|| "not admitted: the objective preferred other work".into()),
            );
        }
        workloads.push(o);
    }
    // Host-only workloads after the GPU ones, in demand order: each replica's node.
    let mut host_admitted = 0;
    for (h, hw) in d.host_workloads.iter().enumerate() {
        let nodes = r.hosts.nodes.get(h).map(Vec::as_slice).unwrap_or(&[]);
        let admitted = !nodes.is_empty();
        host_admitted += admitted as usize;
        workloads.push(PlanWorkload {
            name: unspanned(hw.name.clone()),
            tenant: Some(d.tenant(hw.tenant).name.clone()),
            kind: Some(hw.kind.as_str().to_string()),
            priority: Some(hw.priority),
            required: Some(hw.required),
            admitted,
            gpu_model: None,
            gpu_models: Vec::new(),
            replicas: None,
            replicas_requested: None,
            min_replicas: None,
            gpus: admitted.then_some(0.0),
            topology: None,
            reason: (!admitted).then(|| {
                r.hosts
                    .reasons
                    .get(h)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| "not admitted".into())
            }),
            memory_gib_per_replica: None,
            gpu_seconds_per_task: None,
            assignments: Vec::new(),
            hosts: nodes
                .iter()
                .map(|&n| PlanHost {
                    node: unspanned(geo.node_names[n.index()].clone()),
                    cpu_millicores: unspanned(hw.cpu_millicores as i64),
                    memory_mib: unspanned(hw.memory_mib as i64),
                })
                .collect(),
        });
    }
    let mut gpus = Vec::new();
    for (g, u) in r.gpus.iter().enumerate() {
        let g = GpuId::from_index(g);
        let name = &geo.gpu_names[g.index()];
        let wname = |w: WorkloadId| d.workloads[w.index()].name.clone();
        let entry = |mode: &str, mig: Option<String>, used: Option<u32>, ws: Vec<String>| PlanGpu {
            gpu: unspanned(name.clone()),
            mode: Some(unspanned(mode.to_string())),
            mig: mig.map(unspanned),
            used_gpu_milli: used,
            workloads: ws,
        };
        let v = match u {
            GpuUse::Free => continue,
            GpuUse::Whole(w) => entry("whole", None, None, vec![wname(*w)]),
            GpuUse::Mig { layout, .. } => {
                let mut ws: Vec<String> = layout.iter().filter_map(|x| x.1).map(wname).collect();
                ws.sort();
                ws.dedup();
                entry("mig", layout_text(geo, g, u), None, ws)
            }
            GpuUse::Shared { members } => {
                let mut ws: Vec<String> = members.iter().map(|x| wname(x.0)).collect();
                ws.sort();
                ws.dedup();
                let milli = members.iter().map(|x| u32::from(x.1)).sum();
                entry("shared", None, Some(milli), ws)
            }
        };
        gpus.push(v);
    }
    let admitted = r.admitted.iter().filter(|a| **a).count() + host_admitted;
    let all = d.workloads.len() + d.host_workloads.len();
    PlanDocument {
        status: r.status.to_string(),
        solver: r.solver.to_string(),
        objective: r6(r.objective),
        bound: r.bound.map(r6),
        gap: r.gap.map(r6),
        solve_seconds: (r.solve_seconds * 1000.0).round() / 1000.0,
        time_limit_seconds: opts.time_limit_seconds,
        mip_gap: opts.mip_gap,
        bound_scope: r.bound_scope.to_string(),
        objective_terms: ObjectiveTerms {
            value: r6(r.terms.value),
            cost: r6(r.terms.cost),
            communication: r6(r.terms.communication),
            stranded: r6(r.terms.stranded),
            disruption: r6(r.terms.disruption),
        },
        summary: Summary {
            workloads: all,
            admitted,
            rejected: all - admitted,
            priority_weighted_gpus: r6(pw_gpus),
            gpus_total: geo
                .gpu_node
                .iter()
                .filter(|&&n| n != GeoNodeId::NONE)
                .count(),
            gpus_used: gpus.len(),
        },
        infeasible: r.infeasible.clone(),
        workloads,
        gpus,
        cost_per_hour: TenantCosts(
            d.tenants
                .iter()
                .enumerate()
                .map(|(t, ten)| (ten.name.clone(), r6(r.tenant_usd[t])))
                .collect(),
        ),
        diff: current.map(|cur| diff(geo, d, r, cur)),
        notes: r.notes.clone(),
    }
}

/// New placements, moves, evictions and MIG re-partitions (with drain lists), as ordered steps.
pub fn diff(geo: &Geometry, d: &Demand, r: &PlanResult, cur: &Current) -> PlanDiff {
    let names = |a: &[Assignment]| -> Vec<String> {
        a.iter()
            .map(|x| geo.gpu_names[x.gpu.index()].clone())
            .collect()
    };
    let mut out = PlanDiff::default();
    let idx: BTreeMap<&str, usize> = d
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.name.as_str(), i))
        .collect();
    for (name, a) in &cur.running {
        match idx.get(name.as_str()) {
            Some(&w) if r.admitted[w] => {
                if &r.assignments[w] != a {
                    out.moves.push(Move {
                        workload: name.clone(),
                        from: names(a),
                        to: names(&r.assignments[w]),
                    });
                }
            }
            Some(&w) => out.evictions.push(Eviction {
                workload: name.clone(),
                reason: r.reasons[w]
                    .clone()
                    .unwrap_or_else(|| "not admitted".into()),
            }),
            None => out.evictions.push(Eviction {
                workload: name.clone(),
                reason: "no longer in the demand".into(),
            }),
        }
    }
    for (w, wl) in d.workloads.iter().enumerate() {
        if r.admitted[w] && !cur.running.contains_key(&wl.name) {
            out.new_placements.push(NewPlacement {
                workload: wl.name.clone(),
                gpus: names(&r.assignments[w]),
            });
        }
    }
    // Re-partitions: a GPU whose MIG layout changes, or which enters/leaves MIG while used.
    let mut gpus: Vec<GpuId> = cur.mig.keys().copied().collect();
    for (g, u) in r.gpus.iter().enumerate() {
        if matches!(u, GpuUse::Mig { .. }) {
            gpus.push(GpuId::from_index(g));
        }
    }
    gpus.sort_unstable();
    gpus.dedup();
    for g in gpus {
        let before = cur
            .mig
            .get(&g)
            .map(|pl| pl.iter().map(|p| (p.profile, p.start)).collect::<Vec<_>>());
        let after = match &r.gpus[g.index()] {
            GpuUse::Mig { layout, .. } => Some(
                layout
                    .iter()
                    .map(|(p, _)| (p.profile, p.start))
                    .collect::<Vec<_>>(),
            ),
            GpuUse::Free => continue,
            _ => None,
        };
        let gpu = geo.gpu_names[g.index()].clone();
        let to = layout_text(geo, g, &r.gpus[g.index()]);
        if before == after
            || (before.is_none() && !cur.running.values().any(|a| a.iter().any(|x| x.gpu == g)))
        {
            // Unchanged, or a fresh GPU: configuring an idle GPU drains nothing but is still a step.
            if before != after {
                out.repartitions.push(Repartition {
                    gpu,
                    from: None,
                    to,
                    drain: Vec::new(),
                });
            }
            continue;
        }
        let mut drain: Vec<String> = cur
            .running
            .iter()
            .filter(|(_, a)| a.iter().any(|x| x.gpu == g))
            .map(|(n, _)| n.clone())
            .collect();
        drain.sort();
        let t = geo.models[geo.model_of_gpu(g)].mig.as_ref();
        let from = before.map(|b| {
            b.iter()
                .map(|(p, s)| {
                    format!(
                        "{}@{s}",
                        t.map(|t| t.profile(*p).name.clone()).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        });
        out.repartitions.push(Repartition {
            gpu,
            from,
            to,
            drain,
        });
    }
    let ticks = |xs: &[String]| {
        xs.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for e in &out.evictions {
        out.steps.push(format!("evict `{}`", e.workload));
    }
    for rp in &out.repartitions {
        if !rp.drain.is_empty() {
            out.steps
                .push(format!("drain {} from `{}`", ticks(&rp.drain), rp.gpu));
        }
        out.steps.push(format!(
            "re-partition `{}` to `{}`",
            rp.gpu,
            rp.to.as_deref().unwrap_or("whole")
        ));
    }
    for m in &out.moves {
        out.steps.push(format!("move `{}`", m.workload));
    }
    for n in &out.new_placements {
        out.steps.push(format!("start `{}`", n.workload));
    }
    out
}

/// The human summary, rendered from the document (so it cannot disagree with JSON/YAML).
pub fn human(d: &Demand, doc: &PlanDocument) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let f = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "n/a".into());
    // Status, objective, bound and gap as the JSON document has them (same numbers).
    let num = |v: Option<f64>| v.map(json_number).unwrap_or_else(|| "none".into());
    let _ = writeln!(
        s,
        "plan: {} ({}), objective {}, bound {}, gap {}, {:.2} s (limit {} s, mip gap {})",
        doc.status,
        doc.solver,
        num(Some(doc.objective)),
        num(doc.bound),
        num(doc.gap),
        doc.solve_seconds,
        json_number(doc.time_limit_seconds),
        json_number(doc.mip_gap)
    );
    let _ = writeln!(s, "bound from: {}", doc.bound_scope);
    let sm = &doc.summary;
    let _ = writeln!(
        s,
        "admitted {} of {} workloads; {} of {} GPUs in use; {} priority-weighted GPUs",
        sm.admitted,
        sm.workloads,
        sm.gpus_used,
        sm.gpus_total,
        f(Some(sm.priority_weighted_gpus))
    );
    for line in &doc.infeasible {
        let _ = writeln!(s, "infeasible: {line}");
    }
    let _ = writeln!(s, "\nadmitted:");
    for w in doc.workloads.iter().filter(|w| w.admitted) {
        let topo = w
            .topology
            .as_deref()
            .map(|t| format!(", inside one {t}"))
            .unwrap_or_default();
        let models = if w.gpu_models.is_empty() {
            w.gpu_model.clone().unwrap_or_default()
        } else {
            w.gpu_models.join(" + ")
        };
        let reps = match (w.replicas, w.replicas_requested) {
            (Some(n), Some(of)) => format!(", {n} of {of} replicas"),
            _ => String::new(),
        };
        if !w.hosts.is_empty() {
            let mut nodes: Vec<&str> = w.hosts.iter().map(|h| h.node.value.as_str()).collect();
            nodes.dedup();
            let h0 = &w.hosts[0];
            let _ = writeln!(
                s,
                "  {} ({}, {}): no GPU, {} replica(s) of {} millicores and {} MiB on {}",
                w.name.value,
                w.tenant.as_deref().unwrap_or(""),
                w.kind.as_deref().unwrap_or(""),
                w.hosts.len(),
                h0.cpu_millicores.value,
                h0.memory_mib.value,
                nodes.join(", ")
            );
            continue;
        }
        let _ = writeln!(
            s,
            "  {} ({}, {}): {} GPU(s) of {models}{reps}{topo}",
            w.name.value,
            w.tenant.as_deref().unwrap_or(""),
            w.kind.as_deref().unwrap_or(""),
            f(w.gpus),
        );
        if let Some(why) = w.reason.as_deref() {
            let _ = writeln!(s, "    {why}");
        }
    }
    let rejected: Vec<_> = doc.workloads.iter().filter(|w| !w.admitted).collect();
    if !rejected.is_empty() {
        let _ = writeln!(s, "\nrejected:");
        for w in rejected {
            let _ = writeln!(
                s,
                "  {} ({}): {}",
                w.name.value,
                w.tenant.as_deref().unwrap_or(""),
                w.reason.as_deref().unwrap_or("")
            );
        }
    }
    let _ = writeln!(
        s,
        "\ncost per hour (chargeback: list price + energy, docs/cost.md):"
    );
    for t in &d.tenants {
        let usd = doc.cost_per_hour.get(&t.name).unwrap_or(0.0);
        let budget = t
            .budget_usd_per_hour
            .map(|b| format!(" of ${b:.2}"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {}: ${usd:.2}{budget}", t.name);
    }
    let terms = &doc.objective_terms;
    let _ = writeln!(
        s,
        "\nobjective terms: value {} - cost {} - communication {} - stranded {} - disruption {}",
        f(Some(terms.value)),
        f(Some(terms.cost)),
        f(Some(terms.communication)),
        f(Some(terms.stranded)),
        f(Some(terms.disruption))
    );
    if let Some(diff) = &doc.diff {
        if diff.steps.is_empty() {
            let _ = writeln!(s, "\ndiff: no changes");
        } else {
            let _ = writeln!(s, "\ndiff ({} steps):", diff.steps.len());
            for (i, st) in diff.steps.iter().enumerate() {
                let _ = writeln!(s, "  {}. {st}", i + 1);
            }
        }
    }
    for n in &doc.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// A number as the JSON document writes it (`30.0`, `0.01`), for the human header.
fn json_number(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_else(|_| x.to_string())
}
