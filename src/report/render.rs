//! Text renderings of a [`Report`]: human (terminal) and Markdown (FOCUS CSV: `crate::formats::focus`).

use std::fmt::Write as _;

use super::*;

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// A table as Markdown (`md`) or aligned text.
fn table(o: &mut String, md: bool, head: &[&str], rows: &[Vec<String>]) {
    if md {
        let _ = writeln!(o, "| {} |", head.join(" | "));
        let _ = writeln!(o, "|{}", head.iter().map(|_| " --- |").collect::<String>());
        for r in rows {
            let _ = writeln!(o, "| {} |", r.join(" | "));
        }
        let _ = writeln!(o);
        return;
    }
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let s = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ");
        format!("  {}", s.trim_end())
    };
    let _ = writeln!(o, "{}", line(head.iter().map(|s| s.to_string()).collect()));
    for r in rows {
        let _ = writeln!(o, "{}", line(r.clone()));
    }
    let _ = writeln!(o);
}

fn heading(o: &mut String, md: bool, level: usize, text: &str) {
    if md {
        let _ = writeln!(o, "{} {text}\n", "#".repeat(level));
    } else if level == 1 {
        let _ = writeln!(o, "{text}\n{}\n", "=".repeat(text.len()));
    } else {
        let _ = writeln!(o, "{text}\n{}", "-".repeat(text.len()));
    }
}

fn capacity_rows(levels: &[LevelCapacity]) -> Vec<Vec<String>> {
    levels
        .iter()
        .map(|l| {
            vec![
                l.level.clone(),
                l.model.clone(),
                l.domains.to_string(),
                format!("{}/{}", l.free_gpus, l.gpus),
                l.largest_gang_gpus.to_string(),
                l.largest_domain.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect()
}

/// Human text (`md == false`) or Markdown; racks summed per group, each rack too with
/// `per_rack`.
pub fn text(r: &Report, md: bool, per_rack: bool) -> String {
    let mut o = String::new();
    heading(
        &mut o,
        md,
        1,
        &format!("Capacity and cost report: {}", r.fabric),
    );
    let inv = &r.inventory;
    heading(&mut o, md, 2, "Inventory");
    let _ = writeln!(
        o,
        "{} GPUs on {} nodes ({} management), {} racks, {} scalable units, {} links ({} Gb/s).\n",
        inv.gpus,
        inv.nodes,
        inv.management_nodes,
        inv.racks,
        inv.scalable_units,
        inv.links,
        inv.link_gbps_total
    );
    table(
        &mut o,
        md,
        &[
            "GPU model",
            "GPUs",
            "nodes",
            "memory GiB",
            "HBM TB/s",
            "TDP W",
        ],
        &inv.models
            .iter()
            .map(|m| {
                vec![
                    m.model.clone(),
                    m.gpus.to_string(),
                    m.nodes.to_string(),
                    format!("{}", m.memory_gib),
                    format!("{}", m.hbm_tbps),
                    m.tdp_w.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    table(
        &mut o,
        md,
        &["NVLink domain", "GPUs each", "count"],
        &inv.nvlink_domains
            .iter()
            .map(|d| vec![d.kind.clone(), d.gpus_each.to_string(), d.count.to_string()])
            .collect::<Vec<_>>(),
    );
    table(
        &mut o,
        md,
        &["switch tier", "count"],
        &inv.switches
            .iter()
            .map(|(k, v)| vec![k.clone(), v.to_string()])
            .collect::<Vec<_>>(),
    );
    if !inv.mig_free.is_empty() {
        table(
            &mut o,
            md,
            &[
                "GPU model",
                "MIG profile",
                "per GPU",
                "on free GPUs",
                "unassigned on MIG GPUs",
                "free instances",
            ],
            &inv.mig_free
                .iter()
                .map(|m| {
                    vec![
                        m.model.clone(),
                        m.profile.clone(),
                        m.per_gpu.to_string(),
                        m.on_free_gpus.to_string(),
                        m.on_partly_used_gpus.to_string(),
                        m.instances.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }
    let p = &r.power;
    heading(&mut o, md, 2, "Power");
    let _ = writeln!(
        o,
        "IT {:.1} kW, facility {:.1} kW at PUE {} (site derate {}); {:.1} kW of switches outside racks. Racks at risk: {}.\n",
        p.it_kw,
        p.facility_kw,
        p.pue,
        p.power_derate,
        p.unracked_switches_kw,
        if p.racks_at_risk.is_empty() { "none".to_string() } else { crate::util::compress_hostlist(&p.racks_at_risk) }
    );
    let with_plan = r.groups.iter().any(|g| g.in_use_gpu_equivalents.is_some());
    let mut head = vec![
        "group",
        "racks",
        "GPUs",
        "budget kW",
        "usable kW",
        "IT kW",
        "facility kW",
        "headroom kW",
        "load",
        "fullest rack",
        "racks at risk",
    ];
    if with_plan {
        head.push("in use (GPU-eq.)");
    }
    table(
        &mut o,
        md,
        &head,
        &r.groups
            .iter()
            .map(|g| {
                let mut row = vec![
                    g.name.clone(),
                    g.racks.len().to_string(),
                    g.gpus.to_string(),
                    format!("{:.1}", g.budget_kw),
                    format!("{:.1}", g.usable_kw),
                    format!("{:.1}", g.it_kw),
                    format!("{:.1}", g.facility_kw),
                    format!("{:.1}", g.headroom_kw),
                    format!("{:.1} %", g.load_pct),
                    format!("{:.1} %", g.max_rack_load_pct),
                    g.racks_at_risk.len().to_string(),
                ];
                if with_plan {
                    row.push(opt(g.in_use_gpu_equivalents, 3));
                }
                row
            })
            .collect::<Vec<_>>(),
    );
    if !per_rack {
        let _ = writeln!(
            o,
            "- {} racks in {} group{} (scalable unit, else leaf group); every rack: --per-rack\n",
            p.racks.len(),
            r.groups.len(),
            if r.groups.len() == 1 { "" } else { "s" }
        );
    } else {
        table(
            &mut o,
            md,
            &[
                "rack",
                "budget kW",
                "usable kW",
                "IT kW",
                "facility kW",
                "headroom kW",
                "load",
                "at risk",
            ],
            &p.racks
                .iter()
                .map(|x| {
                    vec![
                        x.rack.clone(),
                        format!("{:.1}", x.budget_kw),
                        format!("{:.1}", x.usable_kw),
                        format!("{:.1}", x.it_kw),
                        format!("{:.1}", x.facility_kw),
                        format!("{:.1}", x.headroom_kw),
                        format!("{:.1} %", x.load_pct),
                        if x.at_risk { "yes".into() } else { "no".into() },
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }
    heading(&mut o, md, 2, "Capacity headroom");
    let head = [
        "level",
        "GPU model",
        "domains",
        "free/total GPUs",
        "largest gang",
        "in",
    ];
    table(&mut o, md, &head, &capacity_rows(&r.capacity.levels));
    if let Some(s) = &r.capacity.stranded {
        let _ = writeln!(
            o,
            "- stranded (no pending workload can use it): {} free GPUs, {} MIG compute slices, {:.3} GPU-equivalents of time-sliced shares; {:.3} GPU-equivalents in all, {:.3} usable by pending demand",
            s.gpus, s.mig_compute_slices, s.shared_gpu_equivalents, s.gpu_equivalents, s.usable_gpu_equivalents
        );
    }
    if let Some(x) = r.capacity.idle_on_partly_used_gpu_equivalents {
        let _ = writeln!(
            o,
            "- idle on GPUs the plan uses in part: {x:.3} GPU-equivalents (free MIG slices, unshared time)"
        );
    }
    if !r.capacity.pending_workloads.is_empty() {
        let _ = writeln!(
            o,
            "- pending (not admitted): {}",
            r.capacity.pending_workloads.join(", ")
        );
    }
    for n in &r.capacity.notes {
        let _ = writeln!(o, "- {n}");
    }
    let _ = writeln!(o);
    if let Some(h) = &r.host {
        host_section(&mut o, md, h);
    }
    heading(&mut o, md, 2, "Cost");
    let _ = writeln!(
        o,
        "Owned cluster: ${:.2}/hour, energy ${:.0}/year (PUE {}, ${}/kWh, {} years, network {} % of capex; prices as of {}).\n",
        r.cost.owned_usd_per_hour,
        r.cost.energy_usd_per_year,
        r.assumptions.pue,
        r.assumptions.usd_per_kwh,
        r.assumptions.depreciation_years,
        r.assumptions.network_share_of_capex * 100.0,
        r.assumptions.pricing_as_of
    );
    table(
        &mut o,
        md,
        &[
            "GPU model",
            "GPUs",
            "capex $/GPU",
            "IT kW",
            "owned $/h",
            "owned $/GPU-h (100 %)",
            "at utilization",
            "cloud $/GPU-h",
            "break-even",
            "chargeback $/GPU-h",
        ],
        &r.cost
            .models
            .iter()
            .map(|m| {
                vec![
                    m.model.clone(),
                    m.gpus.to_string(),
                    opt(m.capex_usd_per_gpu, 0),
                    format!("{:.1}", m.it_kw),
                    opt(m.owned_usd_per_hour, 2),
                    opt(m.owned_usd_per_gpu_hour_at_full_use, 3),
                    opt(m.owned_usd_per_gpu_hour_at_utilization, 3),
                    opt(m.cloud_usd_per_gpu_hour, 2),
                    pct(m.break_even_utilization),
                    opt(m.chargeback_usd_per_gpu_hour, 3),
                ]
            })
            .collect::<Vec<_>>(),
    );
    for m in &r.cost.models {
        let _ = writeln!(
            o,
            "- {}: capex {}; cloud price {}",
            m.model, m.capex_source, m.cloud_source
        );
    }
    for n in &r.cost.notes {
        let _ = writeln!(o, "- {n}");
    }
    let _ = writeln!(o);
    if let Some(a) = &r.attribution {
        heading(&mut o, md, 2, "Cost by tenant and workload");
        let _ = writeln!(
            o,
            "Owned ${:.2}/hour in all; idle {:.3} GPU-equivalents = ${:.2}/hour owned, charged to `{}`. Chargeback is list price plus energy (docs/cost.md).\n",
            a.total_usd_per_hour, a.idle_gpu_equivalents, a.idle_usd_per_hour, UNALLOCATED
        );
        table(
            &mut o,
            md,
            &["tenant", "owned $/hour", "chargeback $/hour"],
            &a.by_tenant_usd_per_hour
                .iter()
                .map(|(k, v)| {
                    vec![
                        k.clone(),
                        format!("{v:.2}"),
                        opt(a.by_tenant_chargeback_usd_per_hour.get(k).copied(), 2),
                    ]
                })
                .collect::<Vec<_>>(),
        );
        table(
            &mut o,
            md,
            &[
                "tenant",
                "workload",
                "kind",
                "GPU model",
                "GPU-equivalents",
                "owned $/hour",
                "chargeback $/hour",
            ],
            &a.rows
                .iter()
                .map(|x| {
                    vec![
                        x.tenant.clone(),
                        x.workload.clone(),
                        x.kind.clone(),
                        x.gpu_model.clone(),
                        format!("{:.3}", x.gpu_equivalents),
                        format!("{:.2}", x.usd_per_hour),
                        opt(x.chargeback_usd_per_hour, 2),
                    ]
                })
                .collect::<Vec<_>>(),
        );
        let _ = writeln!(o, "- policy: {}\n", a.policy);
    }
    let t = &r.tokens;
    heading(&mut o, md, 2, "Token economics and context");
    let _ = writeln!(
        o,
        "{}: KV {} B/token, {} tokens of context = {:.3} GB per sequence; weights {:.1} GB; {} concurrent sequences wanted per replica.\n",
        t.model,
        t.kv_bytes_per_token,
        t.context_tokens,
        t.kv_bytes_per_sequence as f64 / 1e9,
        t.weight_gb,
        t.concurrency
    );
    table(
        &mut o,
        md,
        &[
            "GPU model",
            "GPUs/replica",
            "replicas",
            "KV GB",
            "seqs/replica",
            "tok/s batch 1",
            "tok/s",
            "$/Mtok",
            "KV spill GB",
            "context tier",
        ],
        &t.rows
            .iter()
            .map(|x| {
                vec![
                    x.gpu_model.clone(),
                    x.gpus_per_replica
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    x.replicas.to_string(),
                    format!("{:.1}", x.kv_capacity_gb),
                    x.sequences_per_replica.to_string(),
                    format!("{:.1}", x.decode_tokens_per_s_batch1),
                    format!("{:.1}", x.decode_tokens_per_s),
                    opt(x.usd_per_million_tokens, 3),
                    format!("{:.1}", x.kv_spill_gb_per_replica),
                    x.context_tier.clone(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    if !t.workloads.is_empty() {
        table(
            &mut o,
            md,
            &[
                "workload",
                "GPU model",
                "GPUs/replica",
                "seqs/replica",
                "tok/s",
                "$/Mtok",
                "KV spill GB",
                "context tier",
            ],
            &t.workloads
                .iter()
                .map(|x| {
                    vec![
                        x.workload.clone().unwrap_or_default(),
                        x.gpu_model.clone(),
                        x.gpus_per_replica
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "-".into()),
                        x.sequences_per_replica.to_string(),
                        format!("{:.1}", x.decode_tokens_per_s),
                        opt(x.usd_per_million_tokens, 3),
                        format!("{:.1}", x.kv_spill_gb_per_replica),
                        x.context_tier.clone(),
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }
    if !t.context.is_empty() {
        let name = |c: &super::ContextPlan| c.workload.clone().unwrap_or_else(|| t.model.clone());
        let _ = writeln!(
            o,
            "Context tiers (KV of the wanted sequences per replica):\n"
        );
        table(
            &mut o,
            md,
            &[
                "model",
                "GPU model",
                "tier",
                "capacity GB",
                "read GB/s/GPU",
                "$/GB-month",
                "holds GB",
            ],
            &t.context
                .iter()
                .flat_map(|c| {
                    c.tiers.iter().map(move |x| {
                        vec![
                            name(c),
                            c.gpu_model.clone(),
                            x.tier.clone(),
                            format!("{:.1}", x.capacity_gb_per_replica),
                            format!("{:.1}", x.read_gb_per_s_per_gpu),
                            format!("{:.4}", x.usd_per_gb_month),
                            format!("{:.1}", x.holds_gb),
                        ]
                    })
                })
                .collect::<Vec<_>>(),
        );
        table(
            &mut o,
            md,
            &[
                "model",
                "GPU model",
                "seqs",
                "KV GB",
                "deepest tier",
                "tok/s fit HBM",
                "tok/s spilled",
                "$/Mtok fit HBM",
                "$/Mtok spilled",
                "better",
            ],
            &t.context
                .iter()
                .map(|c| {
                    vec![
                        name(c),
                        c.gpu_model.clone(),
                        c.wanted_sequences.to_string(),
                        format!("{:.1}", c.kv_wanted_gb),
                        c.deepest_tier.clone().unwrap_or_else(|| "-".into())
                            + if c.unplaced_gb > 0.0 {
                                " (+ beyond every tier)"
                            } else {
                                ""
                            },
                        format!("{:.1}", c.decode_tokens_per_s_fit_hbm),
                        format!("{:.1}", c.decode_tokens_per_s_spilled),
                        opt(c.usd_per_million_tokens_fit_hbm, 3),
                        opt(c.usd_per_million_tokens_spilled, 3),
                        c.better.clone(),
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }
    for n in &t.notes {
        let _ = writeln!(o, "- {n}");
    }
    let _ = writeln!(o);
    if r.what_if.failure.is_some() || r.what_if.growth.is_some() {
        heading(&mut o, md, 2, "What-if");
    }
    if let Some(fl) = &r.what_if.failure {
        let _ = writeln!(
            o,
            "Failure of {}: {} switches down ({}), {} GPUs lost, {} disconnected, {} degraded, {} Gb/s of uplinks lost.\n",
            fl.target,
            fl.switches_failed.len(),
            if fl.switches_failed.is_empty() { "-".to_string() } else { fl.switches_failed.join(", ") },
            fl.gpus_lost,
            fl.gpus_disconnected,
            fl.gpus_degraded,
            fl.uplink_gbps_lost
        );
        table(&mut o, md, &head, &capacity_rows(&fl.capacity_after));
        if !fl.placements.is_empty() {
            table(
                &mut o,
                md,
                &[
                    "workload",
                    "tenant",
                    "GPUs lost",
                    "disconnected",
                    "degraded",
                    "re-placeable",
                ],
                &fl.placements
                    .iter()
                    .map(|p| {
                        vec![
                            p.workload.clone(),
                            p.tenant.clone(),
                            p.gpus_lost.to_string(),
                            p.gpus_disconnected.to_string(),
                            p.gpus_degraded.to_string(),
                            if p.replaceable {
                                "yes".into()
                            } else {
                                "no".into()
                            },
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
        }
        for n in &fl.notes {
            let _ = writeln!(o, "- {n}");
        }
        let _ = writeln!(o);
    }
    if let Some(g) = &r.what_if.growth {
        let _ = writeln!(
            o,
            "Demand growth {:.1} %/month on {:.1} GPUs in use:\n",
            g.per_month * 100.0,
            g.used_gpus
        );
        table(
            &mut o,
            md,
            &["GPU model", "months until full"],
            &g.months_until_full
                .iter()
                .map(|(k, v)| {
                    vec![
                        k.clone(),
                        v.map(|m| format!("{m:.1}"))
                            .unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect::<Vec<_>>(),
        );
        table(
            &mut o,
            md,
            &[
                "level",
                "GPU model",
                "largest gang",
                "needed gang",
                "needed by",
                "free GPUs",
                "in use",
                "months until out",
            ],
            &g.levels
                .iter()
                .map(|l| {
                    vec![
                        l.level.clone(),
                        l.model.clone(),
                        l.largest_gang_gpus.to_string(),
                        l.needed_gang_gpus.to_string(),
                        l.needed_by.clone(),
                        format!("{:.1}", l.free_gpus),
                        format!("{:.1}", l.used_gpus),
                        l.months_until_out
                            .map(|m| format!("{m:.1}"))
                            .unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect::<Vec<_>>(),
        );
        for n in &g.notes {
            let _ = writeln!(o, "- {n}");
        }
        let _ = writeln!(o);
    }
    heading(&mut o, md, 2, "Sources");
    for s in &r.assumptions.sources {
        let _ = writeln!(o, "- {s}");
    }
    o
}

/// A figure rounded for reading: thousands separated, whole numbers from 100 up, one decimal
/// from 10, two from 1, three below (the exact value is in the JSON report).
pub fn readable(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    let s = if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 || a == 0.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    let (sign, rest) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// How many nodes the host section lists (every node: `--format json`).
const HOST_NODES_SHOWN: usize = 10;

/// Host CPU and memory: the totals, per tenant, and the fullest nodes.
fn host_section(o: &mut String, md: bool, h: &crate::report::host::HostUse) {
    use crate::report::host::{cores, gib};
    heading(o, md, 2, "Host CPU and memory");
    let share = |used: u64, cap: u64| {
        if cap > 0 {
            format!(" ({:.1} %)", used as f64 / cap as f64 * 100.0)
        } else {
            String::new()
        }
    };
    let _ = writeln!(
        o,
        "CPU {} of {} cores{}, memory {} of {} GiB{} on {} nodes; {} host-only replicas.\n",
        cores(h.cpu_millicores),
        cores(h.cpu_millicores_capacity),
        share(h.cpu_millicores, h.cpu_millicores_capacity),
        gib(h.memory_mib),
        gib(h.memory_mib_capacity),
        share(h.memory_mib, h.memory_mib_capacity),
        h.nodes.len(),
        h.host_only_replicas
    );
    table(
        o,
        md,
        &["tenant", "CPU cores", "memory GiB", "host-only replicas"],
        &h.tenants
            .iter()
            .map(|t| {
                vec![
                    t.tenant.clone(),
                    cores(t.cpu_millicores),
                    gib(t.memory_mib),
                    t.host_only_replicas.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let cap = |x: Option<u64>, f: fn(u64) -> String| x.map(f).unwrap_or_else(|| "-".into());
    table(
        o,
        md,
        &[
            "node",
            "CPU cores",
            "of",
            "memory GiB",
            "of",
            "host-only replicas",
        ],
        &h.fullest_nodes(HOST_NODES_SHOWN)
            .iter()
            .map(|n| {
                vec![
                    n.node.clone(),
                    cores(n.cpu_millicores),
                    cap(n.cpu_millicores_capacity, cores),
                    gib(n.memory_mib),
                    cap(n.memory_mib_capacity, gib),
                    n.host_only_replicas.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    if h.nodes.len() > HOST_NODES_SHOWN {
        let _ = writeln!(
            o,
            "- the {HOST_NODES_SHOWN} nodes with the largest share of their CPU taken, of {}; every node: --format json",
            h.nodes.len()
        );
    }
    for n in &h.notes {
        let _ = writeln!(o, "- {n}");
    }
    let _ = writeln!(o);
}
