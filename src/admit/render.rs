//! Human rendering of an admission (the JSON is its serde form).

use std::fmt::Write;

use super::{count, money, money_per_task, Admission};
use crate::model::admission::Percentile;

pub fn human(a: &Admission) -> String {
    let mut s = String::new();
    let Some(base) = a.scenarios.first() else {
        return s;
    };
    let admitted = base.decisions.iter().filter(|d| d.admitted).count();
    let _ = writeln!(
        s,
        "Admission: {admitted} of {} workloads admitted (agents by {} of the cost per task unless the policy says otherwise; USD, chargeback basis)",
        base.decisions.len(),
        a.percentile.as_str()
    );
    if !a.pricing.is_empty() {
        let _ = writeln!(s, "\nAgent steps priced on (meter's roofline chain):");
        for (agent, p) in &a.pricing {
            let d = &p.deployment;
            let _ = writeln!(
                s,
                "  {agent} -> {} on {} ({} GPU-eq per replica, {} B params x {} B, batch {}, {} TB/s, {} dense TFLOPS, MFU {}) at {}/GPU-h",
                d.workload,
                d.gpu_model,
                d.gpus_per_replica(),
                d.params_billion,
                d.bytes_per_param,
                d.batch,
                d.hbm_tbps,
                d.dense_tflops,
                p.mfu,
                money(p.usd_per_gpu_hour)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{:<14} {:<18} {:<10} {:>8} {:>12}  decision",
        "tenant", "workload", "kind", "priority", "$/h"
    );
    for d in &base.decisions {
        let _ = writeln!(
            s,
            "{:<14} {:<18} {:<10} {:>8} {:>12}  {}",
            d.tenant,
            d.workload,
            d.kind,
            d.priority,
            money(d.usd_per_hour),
            if d.admitted { "admitted" } else { "REJECTED" }
        );
    }
    let _ = writeln!(s, "\nReasons:");
    for d in &base.decisions {
        let _ = writeln!(s, "  {}: {}", d.workload, d.reason);
    }
    if !base.task_costs.is_empty() {
        let _ = writeln!(s, "\nCost per task (USD):");
        let _ = writeln!(
            s,
            "  {:<16} {:<10} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>8}  cut at the gate",
            "agent", "source", "tasks", "mean", "p50", "p90", "p95", "p99", "max", "p99/p50"
        );
        for (agent, tc) in &base.task_costs {
            let cut: Vec<String> = tc
                .cut
                .iter()
                .map(|(l, n)| format!("{n} by {}", l.as_str()))
                .collect();
            let p50 = tc.at(Percentile::P50);
            let _ = writeln!(
                s,
                "  {:<16} {:<10} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>8}  {}",
                agent,
                tc.source,
                tc.tasks.map(|t| count(t as f64)).unwrap_or("-".into()),
                money_per_task(tc.mean_usd),
                money_per_task(p50),
                money_per_task(tc.at(Percentile::P90)),
                money_per_task(tc.at(Percentile::P95)),
                money_per_task(tc.at(Percentile::P99)),
                tc.max_usd.map(money_per_task).unwrap_or("-".into()),
                if p50 > 0.0 {
                    format!("x{:.1}", tc.at(Percentile::P99) / p50)
                } else {
                    "-".into()
                },
                if cut.is_empty() {
                    "none".to_string()
                } else {
                    cut.join(", ")
                }
            );
        }
    }
    if a.scenarios.len() > 1 && !base.task_costs.is_empty() {
        let _ = writeln!(s, "\nWhat-ifs, side by side (each decided again):");
        let _ = writeln!(
            s,
            "  {:<16} {:<24} {:>12} {:>12} {:>12} {:>12}  decision",
            "agent", "scenario", "p50", "p95", "p99", "$/h"
        );
        for agent in base.task_costs.keys() {
            for sc in &a.scenarios {
                let tc = &sc.task_costs[agent];
                let d = sc
                    .decisions
                    .iter()
                    .find(|d| &d.workload == agent)
                    .expect("every agent is decided");
                let _ = writeln!(
                    s,
                    "  {:<16} {:<24} {:>12} {:>12} {:>12} {:>12}  {}",
                    agent,
                    sc.label,
                    money_per_task(tc.at(Percentile::P50)),
                    money_per_task(tc.at(Percentile::P95)),
                    money_per_task(tc.at(Percentile::P99)),
                    money(d.usd_per_hour),
                    if d.admitted {
                        "admitted".to_string()
                    } else {
                        format!(
                            "REJECTED at {}",
                            d.percentile.map(|p| p.as_str()).unwrap_or("-")
                        )
                    }
                );
            }
        }
    }
    s
}
