//! One self-contained HTML page (no scripts, fonts or images from outside): the fabric as
//! racks of nodes of GPUs, power against budget per rack, free GPUs and the largest gang per
//! level, and cost per GPU model, as inline SVG; the tables below hold the same figures.
//!
//! Key figures carry `data-key="<json path>"` so a test can check that the page and the JSON
//! agree.

use std::fmt::Write as _;

use super::*;
use crate::model::Fabric;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Palette for GPU models (by order in the inventory), colour-blind safe (Okabe-Ito).
const COLOURS: &[&str] = &[
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
];

fn colour(r: &Report, model: &str) -> &'static str {
    let i = r
        .inventory
        .models
        .iter()
        .position(|m| m.model == model)
        .unwrap_or(0);
    COLOURS[i % COLOURS.len()]
}

fn tenant_colour(r: &Report, tenant: &str) -> &'static str {
    let i = r
        .attribution
        .as_ref()
        .and_then(|a| a.by_tenant_usd_per_hour.keys().position(|t| t == tenant))
        .unwrap_or(0);
    COLOURS[i % COLOURS.len()]
}

fn fig(key: &str, value: String) -> String {
    format!("<span data-key=\"{}\">{}</span>", esc(key), esc(&value))
}

/// Racks side by side; in each, its nodes top down, each node a row of GPU squares coloured
/// by GPU model (no plan: all free). Switches are a grey band at the bottom of their rack.
fn fabric_svg(f: &Fabric, r: &Report, gpu_tenant: &[Option<String>]) -> String {
    const GPU: f64 = 7.0;
    const GAP: f64 = 2.0;
    let per_row = f
        .templates
        .iter()
        .map(|t| t.gpus)
        .max()
        .unwrap_or(1)
        .clamp(1, 8) as f64;
    let rack_w = per_row * (GPU + GAP) + 10.0;
    let node_h = |gpus: u32| ((gpus as f64 / per_row).ceil().max(1.0)) * (GPU + GAP) + 3.0;
    let heights: Vec<f64> = f
        .racks
        .iter()
        .map(|rk| {
            rk.nodes
                .iter()
                .map(|n| node_h(f.template_of(*n).gpus))
                .sum::<f64>()
                + if rk.switches.is_empty() {
                    0.0
                } else {
                    6.0 + rk.switches.len() as f64 * 3.0
                }
        })
        .collect();
    let max_h = heights.iter().cloned().fold(20.0, f64::max) + 30.0;
    let cols = f.racks.len().clamp(1, 24);
    let rows = f.racks.len().div_ceil(cols).max(1);
    let width = cols as f64 * (rack_w + 8.0) + 10.0;
    let height = rows as f64 * max_h + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"racks, nodes and GPUs\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">"
    );
    for (ri, rk) in f.racks.iter().enumerate() {
        let x0 = 10.0 + (ri % cols) as f64 * (rack_w + 8.0);
        let y0 = 10.0 + (ri / cols) as f64 * max_h;
        let at_risk = r.power.racks.get(ri).is_some_and(|p| p.at_risk);
        let _ = write!(
            s,
            "<g class=\"rack\"><title>{} ({} nodes)</title><rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{rack_w:.1}\" height=\"{:.1}\" fill=\"#f4f4f4\" stroke=\"{}\" stroke-width=\"{}\"/>",
            esc(&rk.name),
            rk.nodes.len(),
            max_h - 22.0,
            if at_risk { "#D55E00" } else { "#888" },
            if at_risk { 2 } else { 1 }
        );
        let mut y = y0 + 4.0;
        for n in &rk.nodes {
            let t = f.template_of(*n);
            for g in 0..t.gpus {
                let gx = x0 + 5.0 + (g as f64 % per_row) * (GPU + GAP);
                let gy = y + (g as f64 / per_row).floor() * (GPU + GAP);
                let id = f.nodes[n.index()].first_gpu.0 + g;
                let (fill, who) = match gpu_tenant.get(id as usize).cloned().flatten() {
                    Some(tenant) => (tenant_colour(r, &tenant), tenant),
                    None if gpu_tenant.is_empty() => (colour(r, &t.gpu_model), "free".to_string()),
                    None => ("#ddd", "free".to_string()),
                };
                let _ = write!(
                    s,
                    "<rect x=\"{gx:.1}\" y=\"{gy:.1}\" width=\"{GPU}\" height=\"{GPU}\" fill=\"{fill}\"><title>{} gpu{g} ({}, {})</title></rect>",
                    esc(&f.nodes[n.index()].name),
                    esc(&t.gpu_model),
                    esc(&who)
                );
            }
            y += node_h(t.gpus);
        }
        if !rk.switches.is_empty() {
            let h = 3.0 + rk.switches.len() as f64 * 3.0;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#999\"><title>{} switches</title></rect>",
                x0 + 3.0,
                y + 2.0,
                rack_w - 6.0,
                rk.switches.len()
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{}</text></g>",
            x0 + rack_w / 2.0,
            y0 + max_h - 10.0,
            esc(&rk.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// The plan's MIG GPUs (up to 64), each a row of its placement units with every instance
/// drawn over the units it occupies (from its start, `size` units wide).
fn mig_svg(f: &Fabric, u: &super::usage::Usage) -> String {
    const UNIT: f64 = 34.0;
    let shown: Vec<_> = u.mig_layouts.iter().take(64).collect();
    let units = shown
        .iter()
        .filter_map(|(g, _)| {
            let t = f.template_of(f.gpus[g.index()].node);
            f.gpu_model(&t.gpu_model)
                .and_then(|m| m.mig.as_ref())
                .map(|m| m.placement_units)
        })
        .max()
        .unwrap_or(8) as f64;
    let h = shown.len() as f64 * 22.0 + 10.0;
    let w = 110.0 + units * UNIT + 10.0;
    let mut s = format!(
        "<h2>MIG layouts</h2><p class=\"note\">{} GPUs in MIG mode{}; each box is one instance over the placement units it takes.</p>\
<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"MIG layouts\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">",
        u.mig_layouts.len(),
        if u.mig_layouts.len() > 64 { " (first 64 shown)" } else { "" }
    );
    for (row, (g, slots)) in shown.iter().enumerate() {
        let gpu = &f.gpus[g.index()];
        let t = f.template_of(gpu.node);
        let table = f.gpu_model(&t.gpu_model).and_then(|m| m.mig.as_ref());
        let y = 5.0 + row as f64 * 22.0;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}/{}</text>",
            y + 13.0,
            esc(&f.nodes[gpu.node.index()].name),
            gpu.index
        );
        let n_units = table.map(|m| m.placement_units).unwrap_or(8) as f64;
        let _ = write!(
            s,
            "<rect x=\"110\" y=\"{y:.1}\" width=\"{:.1}\" height=\"18\" fill=\"#eee\" stroke=\"#bbb\"/>",
            n_units * UNIT
        );
        for (i, (profile, start)) in slots.iter().enumerate() {
            let size = table
                .and_then(|m| m.profile_index(profile).map(|p| m.profile(p).size))
                .unwrap_or(1) as f64;
            let x = 110.0 + *start as f64 * UNIT;
            let _ = write!(
                s,
                "<g><title>{} at unit {start}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{}\" stroke=\"#fff\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#fff\" text-anchor=\"middle\">{}</text></g>",
                esc(profile),
                x + 1.0,
                y + 1.0,
                size * UNIT - 2.0,
                COLOURS[i % COLOURS.len()],
                x + size * UNIT / 2.0,
                y + 12.0,
                esc(profile.split('.').next().unwrap_or(profile))
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars: (label, value, max, colour, title).
fn bars(rows: &[(String, f64, f64, &str, String)], unit: &str) -> String {
    let bar_w = 360.0;
    let h = rows.len() as f64 * 20.0 + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"640\" height=\"{h:.0}\" viewBox=\"0 0 640 {h:.0}\">"
    );
    for (i, (label, value, max, col, title)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * 20.0;
        let w = if *max > 0.0 {
            (value / max).clamp(0.0, 1.0) * bar_w
        } else {
            0.0
        };
        let _ = write!(
            s,
            "<g><title>{}</title><text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}</text><rect x=\"190\" y=\"{y:.1}\" width=\"{bar_w}\" height=\"14\" fill=\"#eee\"/><rect x=\"190\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"14\" fill=\"{col}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{value:.1} {unit}</text></g>",
            esc(title),
            y + 11.0,
            esc(label),
            195.0 + bar_w,
            y + 11.0
        );
    }
    s.push_str("</svg>");
    s
}

fn table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            // Cells are escaped by their producers (they may carry data-key spans).
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// The page; with the plan's usage, GPUs are coloured by tenant (the first on a shared GPU).
pub fn page(f: &Fabric, r: &Report, usage: Option<&super::usage::Usage>) -> String {
    let mut gpu_tenant: Vec<Option<String>> = Vec::new();
    if let Some(u) = usage {
        gpu_tenant = vec![None; f.gpus.len()];
        for w in u.workloads.iter().filter(|w| w.admitted) {
            for g in &w.gpus {
                gpu_tenant[g.index()].get_or_insert_with(|| w.tenant.clone());
            }
        }
    }
    let mut b = String::new();
    let _ = write!(
        b,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fabplan report: {}</title>\
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}}\
table{{border-collapse:collapse;margin:0.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}\
th{{background:#f0f0f0}}td:first-child,th:first-child{{text-align:left}}.note{{color:#555;font-size:90%}}\
.legend span{{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}}</style></head><body>",
        esc(&r.fabric)
    );
    let _ = write!(b, "<h1>Capacity and cost report: {}</h1>", esc(&r.fabric));
    let inv = &r.inventory;
    let _ = write!(
        b,
        "<p>{} GPUs on {} nodes, {} racks, {} links. IT power {} kW, facility {} kW. Owned cost ${}/hour.</p>",
        fig("inventory.gpus", inv.gpus.to_string()),
        fig("inventory.nodes", inv.nodes.to_string()),
        fig("inventory.racks", inv.racks.to_string()),
        fig("inventory.links", inv.links.to_string()),
        fig("power.it_kw", format!("{}", r.power.it_kw)),
        fig("power.facility_kw", format!("{}", r.power.facility_kw)),
        fig("cost.owned_usd_per_hour", format!("{}", r.cost.owned_usd_per_hour)),
    );
    b.push_str("<h2>Fabric</h2><p class=\"legend\">");
    match &r.attribution {
        Some(a) => {
            for t in a
                .by_tenant_usd_per_hour
                .keys()
                .filter(|t| *t != UNALLOCATED)
            {
                let _ = write!(
                    b,
                    "<span style=\"background:{}\"></span>{}",
                    tenant_colour(r, t),
                    esc(t)
                );
            }
            b.push_str("<span style=\"background:#ddd\"></span>free");
        }
        None => {
            for m in &inv.models {
                let _ = write!(
                    b,
                    "<span style=\"background:{}\"></span>{} ({} GPUs)",
                    colour(r, &m.model),
                    esc(&m.model),
                    m.gpus
                );
            }
        }
    }
    b.push_str(" &nbsp; grey: switches; orange outline: rack over its power budget</p>");
    b.push_str(&fabric_svg(f, r, &gpu_tenant));
    if let Some(u) = usage.filter(|u| !u.mig_layouts.is_empty()) {
        b.push_str(&mig_svg(f, u));
    }
    b.push_str("<h2>Power per rack</h2>");
    let max_kw = r
        .power
        .racks
        .iter()
        .map(|x| x.budget_kw.max(x.it_kw))
        .fold(0.0, f64::max);
    b.push_str(&bars(
        &r.power
            .racks
            .iter()
            .map(|x| {
                (
                    x.rack.clone(),
                    x.it_kw,
                    max_kw,
                    if x.at_risk { "#D55E00" } else { "#009E73" },
                    format!("{}: {} of {} kW usable", x.rack, x.it_kw, x.usable_kw),
                )
            })
            .collect::<Vec<_>>(),
        "kW",
    ));
    b.push_str(&table(
        &[
            "rack",
            "budget kW",
            "usable kW",
            "IT kW",
            "facility kW",
            "headroom kW",
            "at risk",
        ],
        r.power
            .racks
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    esc(&x.rack),
                    format!("{}", x.budget_kw),
                    format!("{}", x.usable_kw),
                    fig(&format!("power.racks.{i}.it_kw"), format!("{}", x.it_kw)),
                    format!("{}", x.facility_kw),
                    fig(
                        &format!("power.racks.{i}.headroom_kw"),
                        format!("{}", x.headroom_kw),
                    ),
                    if x.at_risk { "yes".into() } else { "no".into() },
                ]
            })
            .collect(),
    ));
    b.push_str("<h2>Capacity headroom: largest gang per level</h2>");
    b.push_str(&bars(
        &r.capacity
            .levels
            .iter()
            .map(|l| {
                (
                    format!("{} ({})", l.level, l.model),
                    l.largest_gang_gpus as f64,
                    inv.gpus as f64,
                    colour(r, &l.model),
                    format!(
                        "{} free of {} GPUs in {} domains",
                        l.free_gpus, l.gpus, l.domains
                    ),
                )
            })
            .collect::<Vec<_>>(),
        "GPUs",
    ));
    b.push_str(&table(
        &[
            "level",
            "GPU model",
            "domains",
            "free GPUs",
            "GPUs",
            "largest gang",
            "in",
        ],
        r.capacity
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    esc(&l.level),
                    esc(&l.model),
                    l.domains.to_string(),
                    l.free_gpus.to_string(),
                    l.gpus.to_string(),
                    fig(
                        &format!("capacity.levels.{i}.largest_gang_gpus"),
                        l.largest_gang_gpus.to_string(),
                    ),
                    esc(l.largest_domain.as_deref().unwrap_or("-")),
                ]
            })
            .collect(),
    ));
    if let Some(st) = &r.capacity.stranded {
        let _ = write!(
            b,
            "<p>Stranded (no pending workload can use it): {} free GPUs, {} MIG compute slices, {} GPU-equivalents of time-sliced shares; {} GPU-equivalents in all.</p>",
            fig("capacity.stranded.gpus", st.gpus.to_string()),
            fig(
                "capacity.stranded.mig_compute_slices",
                st.mig_compute_slices.to_string()
            ),
            fig(
                "capacity.stranded.shared_gpu_equivalents",
                format!("{}", st.shared_gpu_equivalents)
            ),
            fig(
                "capacity.stranded.gpu_equivalents",
                format!("{}", st.gpu_equivalents)
            ),
        );
    }
    b.push_str("<h2>Cost per GPU-hour: owned vs cloud</h2>");
    let max_c = r
        .cost
        .models
        .iter()
        .flat_map(|m| {
            [
                m.owned_usd_per_gpu_hour_at_full_use.unwrap_or(0.0),
                m.cloud_usd_per_gpu_hour.unwrap_or(0.0),
            ]
        })
        .fold(0.0, f64::max);
    let mut cost_bars = Vec::new();
    for m in &r.cost.models {
        if let Some(c) = m.owned_usd_per_gpu_hour_at_full_use {
            cost_bars.push((
                format!("{} owned", m.model),
                c,
                max_c,
                colour(r, &m.model),
                m.capex_source.clone(),
            ));
        }
        if let Some(c) = m.cloud_usd_per_gpu_hour {
            cost_bars.push((
                format!("{} cloud", m.model),
                c,
                max_c,
                "#999",
                m.cloud_source.clone(),
            ));
        }
    }
    b.push_str(&bars(&cost_bars, "$/GPU-h"));
    b.push_str(&table(
        &[
            "GPU model",
            "GPUs",
            "owned $/h",
            "owned $/GPU-h",
            "cloud $/GPU-h",
            "break-even utilization",
        ],
        r.cost
            .models
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let o = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_else(|| "-".into());
                vec![
                    esc(&m.model),
                    m.gpus.to_string(),
                    fig(
                        &format!("cost.models.{i}.owned_usd_per_hour"),
                        o(m.owned_usd_per_hour),
                    ),
                    fig(
                        &format!("cost.models.{i}.owned_usd_per_gpu_hour_at_full_use"),
                        o(m.owned_usd_per_gpu_hour_at_full_use),
                    ),
                    fig(
                        &format!("cost.models.{i}.cloud_usd_per_gpu_hour"),
                        o(m.cloud_usd_per_gpu_hour),
                    ),
                    fig(
                        &format!("cost.models.{i}.break_even_utilization"),
                        o(m.break_even_utilization),
                    ),
                ]
            })
            .collect(),
    ));
    if let Some(a) = &r.attribution {
        b.push_str("<h2>Cost per tenant</h2>");
        let max_t = a
            .by_tenant_usd_per_hour
            .values()
            .cloned()
            .fold(0.0, f64::max);
        b.push_str(&bars(
            &a.by_tenant_usd_per_hour
                .iter()
                .map(|(t, v)| {
                    let c = if t == UNALLOCATED {
                        "#999"
                    } else {
                        tenant_colour(r, t)
                    };
                    (t.clone(), *v, max_t, c, format!("{t}: ${v}/hour"))
                })
                .collect::<Vec<_>>(),
            "$/h",
        ));
        b.push_str(&table(
            &["tenant", "$/hour"],
            a.by_tenant_usd_per_hour
                .iter()
                .map(|(t, v)| {
                    vec![
                        esc(t),
                        fig(
                            &format!("attribution.by_tenant_usd_per_hour.{t}"),
                            format!("{v}"),
                        ),
                    ]
                })
                .collect(),
        ));
        let _ = write!(b, "<p class=\"note\">{}</p>", esc(&a.policy));
    }
    let t = &r.tokens;
    let _ = write!(
        b,
        "<h2>Token economics: {}</h2><p>KV cache {} bytes per token; {} tokens of context.</p>",
        esc(&t.model),
        fig(
            "tokens.kv_bytes_per_token",
            t.kv_bytes_per_token.to_string()
        ),
        t.context_tokens
    );
    b.push_str(&table(
        &[
            "GPU model",
            "GPUs/replica",
            "sequences/replica",
            "tok/s batch 1",
            "tok/s",
            "$/Mtok",
            "KV spill GB",
            "context tier",
        ],
        t.rows
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    esc(&x.gpu_model),
                    x.gpus_per_replica
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    x.sequences_per_replica.to_string(),
                    fig(
                        &format!("tokens.rows.{i}.decode_tokens_per_s_batch1"),
                        format!("{}", x.decode_tokens_per_s_batch1),
                    ),
                    format!("{}", x.decode_tokens_per_s),
                    x.usd_per_million_tokens
                        .map(|v| format!("{v}"))
                        .unwrap_or_else(|| "-".into()),
                    format!("{}", x.kv_spill_gb_per_replica),
                    esc(&x.context_tier),
                ]
            })
            .collect(),
    ));
    if let Some(fl) = &r.what_if.failure {
        let _ = write!(
            b,
            "<h2>What-if: {}</h2><p>{} GPUs lost, {} disconnected, {} degraded; {} Gb/s of uplinks lost.</p>",
            esc(&fl.target),
            fig("what_if.failure.gpus_lost", fl.gpus_lost.to_string()),
            fig("what_if.failure.gpus_disconnected", fl.gpus_disconnected.to_string()),
            fig("what_if.failure.gpus_degraded", fl.gpus_degraded.to_string()),
            fl.uplink_gbps_lost
        );
    }
    if let Some(g) = &r.what_if.growth {
        let _ = write!(
            b,
            "<h2>What-if: demand growth {} %/month</h2>",
            g.per_month * 100.0
        );
        b.push_str(&table(
            &[
                "level",
                "GPU model",
                "largest gang",
                "needed gang",
                "needed by",
                "free GPUs",
                "months until out",
            ],
            g.levels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    vec![
                        esc(&l.level),
                        esc(&l.model),
                        l.largest_gang_gpus.to_string(),
                        l.needed_gang_gpus.to_string(),
                        esc(&l.needed_by),
                        format!("{}", l.free_gpus),
                        fig(
                            &format!("what_if.growth.levels.{i}.months_until_out"),
                            l.months_until_out
                                .map(|m| format!("{m}"))
                                .unwrap_or_else(|| "-".into()),
                        ),
                    ]
                })
                .collect(),
        ));
    }
    b.push_str("<h2>Assumptions and sources</h2><ul class=\"note\">");
    let a = &r.assumptions;
    let _ = write!(
        b,
        "<li>prices as of {}; PUE {}; ${}/kWh; depreciation {} years; network {} of capex</li>",
        esc(&a.pricing_as_of),
        a.pue,
        a.usd_per_kwh,
        a.depreciation_years,
        a.network_share_of_capex
    );
    for s in &a.sources {
        let _ = write!(b, "<li>{}</li>", esc(s));
    }
    b.push_str("</ul></body></html>\n");
    b
}
