//! Rendering a plan: the JSON/YAML document (the keys docs/demand-format.md lists), the diff
//! against the current state, and the human summary.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::state::{Geometry, GpuUse, Hold};
use super::{Current, PlanOptions, PlanResult};
use crate::model::demand::Demand;

fn r6(x: f64) -> f64 {
    let v = (x * 1e6).round() / 1e6;
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

fn hold_json(geo: &Geometry, gpu: u32, h: Hold) -> Value {
    let name = &geo.gpu_names[gpu as usize];
    match h {
        Hold::Whole => json!({"gpu": name}),
        Hold::Mig(p) => {
            let t = geo.models[geo.model_of_gpu(gpu)].mig.as_ref().expect("mig");
            json!({"gpu": name, "instance": format!("{}@{}", t.profile(p.profile).name, p.start)})
        }
        Hold::Share(milli) => json!({"gpu": name, "gpu_milli": milli}),
    }
}

pub fn layout_text(geo: &Geometry, gpu: u32, u: &GpuUse) -> Option<String> {
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
pub fn plan_json(
    geo: &Geometry,
    d: &Demand,
    r: &PlanResult,
    opts: &PlanOptions,
    current: Option<&Current>,
) -> Value {
    let mut workloads = Vec::new();
    let mut pw_gpus = 0.0;
    for (w, wl) in d.workloads.iter().enumerate() {
        let mut o = serde_json::Map::new();
        o.insert("name".into(), json!(wl.name));
        o.insert("tenant".into(), json!(d.tenants[wl.tenant].name));
        o.insert("kind".into(), json!(wl.kind.as_str()));
        o.insert("priority".into(), json!(wl.priority));
        o.insert("required".into(), json!(wl.required));
        o.insert("admitted".into(), json!(r.admitted[w]));
        if r.admitted[w] {
            let m = r.model_of[w].expect("model");
            let unit = wl.units[&geo.models[m].key];
            let reps = if wl.gang.is_some() { 1 } else { wl.replicas };
            let eq = super::state::unit_equiv(geo, m, unit) * reps as f64;
            pw_gpus += eq * wl.priority;
            o.insert("gpu_model".into(), json!(geo.models[m].key));
            o.insert("gpus".into(), json!(r6(eq)));
            if wl.gang.is_some() {
                let gpus: Vec<u32> = r.assignments[w].iter().map(|a| a.gpu).collect();
                o.insert(
                    "topology".into(),
                    json!(super::state::tightest_level(geo, &gpus).as_str()),
                );
            }
        } else {
            o.insert(
                "reason".into(),
                json!(r.reasons[w]
                    .clone()
                    .unwrap_or_else(|| "not admitted: the objective preferred other work".into())),
            );
        }
        if let Some(gib) = wl.memory_gib {
            o.insert("memory_gib_per_replica".into(), json!(gib));
        }
        if let Some(s) = wl.gpu_seconds_per_task {
            o.insert("gpu_seconds_per_task".into(), json!(r6(s)));
        }
        o.insert(
            "assignments".into(),
            Value::Array(
                r.assignments[w]
                    .iter()
                    .map(|a| hold_json(geo, a.gpu, a.hold))
                    .collect(),
            ),
        );
        workloads.push(Value::Object(o));
    }
    let mut gpus = Vec::new();
    let mut used = 0usize;
    for (g, u) in r.gpus.iter().enumerate() {
        let g = g as u32;
        let name = &geo.gpu_names[g as usize];
        let wname = |w: u32| d.workloads[w as usize].name.clone();
        let v = match u {
            GpuUse::Free => continue,
            GpuUse::Whole(w) => json!({"gpu": name, "mode": "whole", "workloads": [wname(*w)]}),
            GpuUse::Mig { layout, .. } => {
                let mut ws: Vec<String> = layout.iter().filter_map(|x| x.1).map(wname).collect();
                ws.sort();
                ws.dedup();
                json!({"gpu": name, "mode": "mig", "mig": layout_text(geo, g, u), "workloads": ws})
            }
            GpuUse::Shared { members } => {
                let mut ws: Vec<String> = members.iter().map(|x| wname(x.0)).collect();
                ws.sort();
                ws.dedup();
                json!({"gpu": name, "mode": "shared", "used_fraction": members.iter().map(|x| x.1 as f64).sum::<f64>() / 1000.0, "workloads": ws})
            }
        };
        used += 1;
        gpus.push(v);
    }
    let mut cost = serde_json::Map::new();
    for (t, ten) in d.tenants.iter().enumerate() {
        cost.insert(ten.name.clone(), json!(r6(r.tenant_usd[t])));
    }
    let mut doc = serde_json::Map::new();
    doc.insert("status".into(), json!(r.status));
    doc.insert("solver".into(), json!(r.solver));
    doc.insert("objective".into(), json!(r6(r.objective)));
    doc.insert("bound".into(), json!(r.bound.map(r6)));
    doc.insert("gap".into(), json!(r.gap.map(r6)));
    doc.insert(
        "solve_seconds".into(),
        json!((r.solve_seconds * 1000.0).round() / 1000.0),
    );
    doc.insert("time_limit_seconds".into(), json!(opts.time_limit_seconds));
    doc.insert("mip_gap".into(), json!(opts.mip_gap));
    doc.insert("bound_scope".into(), json!(r.bound_scope));
    doc.insert(
        "objective_terms".into(),
        json!({
            "value": r6(r.terms.value), "cost": r6(r.terms.cost), "communication": r6(r.terms.communication),
            "stranded": r6(r.terms.stranded), "disruption": r6(r.terms.disruption),
        }),
    );
    let admitted = r.admitted.iter().filter(|a| **a).count();
    doc.insert(
        "summary".into(),
        json!({
            "workloads": d.workloads.len(), "admitted": admitted, "rejected": d.workloads.len() - admitted,
            "priority_weighted_gpus": r6(pw_gpus),
            "gpus_total": geo.gpu_node.iter().filter(|&&n| n != u32::MAX).count(), "gpus_used": used,
        }),
    );
    doc.insert("infeasible".into(), json!(r.infeasible));
    doc.insert("workloads".into(), Value::Array(workloads));
    doc.insert("gpus".into(), Value::Array(gpus));
    doc.insert("cost_per_hour".into(), Value::Object(cost));
    if let Some(cur) = current {
        doc.insert("diff".into(), diff_json(geo, d, r, cur));
    }
    doc.insert("notes".into(), json!(r.notes));
    Value::Object(doc)
}

/// New placements, moves, evictions and MIG re-partitions (with drain lists), as ordered steps.
pub fn diff_json(geo: &Geometry, d: &Demand, r: &PlanResult, cur: &Current) -> Value {
    let mut new = Vec::new();
    let mut moves = Vec::new();
    let mut evictions = Vec::new();
    let mut steps = Vec::new();
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
                    moves.push(json!({"workload": name, "from": a.iter().map(|x| geo.gpu_names[x.gpu as usize].clone()).collect::<Vec<_>>(), "to": r.assignments[w].iter().map(|x| geo.gpu_names[x.gpu as usize].clone()).collect::<Vec<_>>()}));
                }
            }
            Some(&w) => evictions.push(json!({"workload": name, "reason": r.reasons[w].clone().unwrap_or_else(|| "not admitted".into())})),
            None => evictions.push(json!({"workload": name, "reason": "no longer in the demand"})),
        }
    }
    for (w, wl) in d.workloads.iter().enumerate() {
        if r.admitted[w] && !cur.running.contains_key(&wl.name) {
            new.push(json!({"workload": wl.name, "gpus": r.assignments[w].iter().map(|x| geo.gpu_names[x.gpu as usize].clone()).collect::<Vec<_>>()}));
        }
    }
    // Re-partitions: a GPU whose MIG layout changes, or which enters/leaves MIG while used.
    let mut reparts = Vec::new();
    let mut gpus: Vec<u32> = cur.mig.keys().copied().collect();
    for (g, u) in r.gpus.iter().enumerate() {
        if matches!(u, GpuUse::Mig { .. }) {
            gpus.push(g as u32);
        }
    }
    gpus.sort_unstable();
    gpus.dedup();
    for g in gpus {
        let before = cur
            .mig
            .get(&g)
            .map(|pl| pl.iter().map(|p| (p.profile, p.start)).collect::<Vec<_>>());
        let after = match &r.gpus[g as usize] {
            GpuUse::Mig { layout, .. } => Some(
                layout
                    .iter()
                    .map(|(p, _)| (p.profile, p.start))
                    .collect::<Vec<_>>(),
            ),
            GpuUse::Free => continue,
            _ => None,
        };
        if before == after
            || (before.is_none() && !cur.running.values().any(|a| a.iter().any(|x| x.gpu == g)))
        {
            // Unchanged, or a fresh GPU: configuring an idle GPU drains nothing but is still a step.
            if before != after {
                reparts.push(json!({"gpu": geo.gpu_names[g as usize], "from": Value::Null, "to": layout_text(geo, g, &r.gpus[g as usize]), "drain": Vec::<String>::new()}));
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
        reparts.push(json!({"gpu": geo.gpu_names[g as usize], "from": from, "to": layout_text(geo, g, &r.gpus[g as usize]), "drain": drain}));
    }
    for e in &evictions {
        steps.push(format!("evict `{}`", e["workload"].as_str().unwrap_or("")));
    }
    for rp in &reparts {
        let drain: Vec<String> = rp["drain"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if !drain.is_empty() {
            steps.push(format!(
                "drain {} from `{}`",
                drain
                    .iter()
                    .map(|x| format!("`{x}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                rp["gpu"].as_str().unwrap_or("")
            ));
        }
        steps.push(format!(
            "re-partition `{}` to `{}`",
            rp["gpu"].as_str().unwrap_or(""),
            rp["to"].as_str().unwrap_or("whole")
        ));
    }
    for m in &moves {
        steps.push(format!("move `{}`", m["workload"].as_str().unwrap_or("")));
    }
    for n in &new {
        steps.push(format!("start `{}`", n["workload"].as_str().unwrap_or("")));
    }
    json!({"new_placements": new, "moves": moves, "evictions": evictions, "repartitions": reparts, "steps": steps})
}

/// The human summary.
pub fn plan_human(d: &Demand, doc: &Value) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        s,
        "plan: {} ({}), objective {}, bound {}, gap {}, {:.2} s (limit {} s, mip gap {})",
        doc["status"].as_str().unwrap_or(""),
        doc["solver"].as_str().unwrap_or(""),
        f(&doc["objective"]),
        f(&doc["bound"]),
        doc["gap"]
            .as_f64()
            .map(|g| format!("{:.2}%", g * 100.0))
            .unwrap_or_else(|| "n/a".into()),
        doc["solve_seconds"].as_f64().unwrap_or(0.0),
        doc["time_limit_seconds"],
        doc["mip_gap"]
    );
    let sm = &doc["summary"];
    let _ = writeln!(
        s,
        "admitted {} of {} workloads; {} of {} GPUs in use; {} priority-weighted GPUs",
        sm["admitted"],
        sm["workloads"],
        sm["gpus_used"],
        sm["gpus_total"],
        f(&sm["priority_weighted_gpus"])
    );
    for line in doc["infeasible"].as_array().into_iter().flatten() {
        let _ = writeln!(s, "infeasible: {}", line.as_str().unwrap_or(""));
    }
    let _ = writeln!(s, "\nadmitted:");
    for w in doc["workloads"].as_array().into_iter().flatten() {
        if w["admitted"].as_bool() == Some(true) {
            let topo = w
                .get("topology")
                .and_then(|t| t.as_str())
                .map(|t| format!(", inside one {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {} ({}, {}): {} GPU(s) of {}{topo}",
                w["name"].as_str().unwrap_or(""),
                w["tenant"].as_str().unwrap_or(""),
                w["kind"].as_str().unwrap_or(""),
                f(&w["gpus"]),
                w["gpu_model"].as_str().unwrap_or("")
            );
        }
    }
    let rejected: Vec<&Value> = doc["workloads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|w| w["admitted"].as_bool() == Some(false))
        .collect();
    if !rejected.is_empty() {
        let _ = writeln!(s, "\nrejected:");
        for w in rejected {
            let _ = writeln!(
                s,
                "  {} ({}): {}",
                w["name"].as_str().unwrap_or(""),
                w["tenant"].as_str().unwrap_or(""),
                w["reason"].as_str().unwrap_or("")
            );
        }
    }
    let _ = writeln!(s, "\ncost per hour:");
    for t in &d.tenants {
        let usd = doc["cost_per_hour"][&t.name].as_f64().unwrap_or(0.0);
        let budget = t
            .budget_usd_per_hour
            .map(|b| format!(" of ${b:.2}"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {}: ${usd:.2}{budget}", t.name);
    }
    let terms = &doc["objective_terms"];
    let _ = writeln!(
        s,
        "\nobjective terms: value {} - cost {} - communication {} - stranded {} - disruption {}",
        f(&terms["value"]),
        f(&terms["cost"]),
        f(&terms["communication"]),
        f(&terms["stranded"]),
        f(&terms["disruption"])
    );
    if let Some(diff) = doc.get("diff") {
        let steps = diff["steps"].as_array().cloned().unwrap_or_default();
        if steps.is_empty() {
            let _ = writeln!(s, "\ndiff: no changes");
        } else {
            let _ = writeln!(s, "\ndiff ({} steps):", steps.len());
            for (i, st) in steps.iter().enumerate() {
                let _ = writeln!(s, "  {}. {}", i + 1, st.as_str().unwrap_or(""));
            }
        }
    }
    for n in doc["notes"].as_array().into_iter().flatten() {
        let _ = writeln!(s, "note: {}", n.as_str().unwrap_or(""));
    }
    s
}
