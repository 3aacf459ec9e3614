//! One self-contained HTML page (no scripts, fonts or images from outside), written with maud
//! so every name and figure is escaped by construction: the fabric's switch tiers and links
//! aggregated by group, a heat map of rack groups (scalable unit, else leaf group) with a
//! drill-down per group, MIG layouts coloured by profile, free GPUs and the largest gang per
//! level, and cost per GPU model, as inline SVG; the tables below hold the same figures.
//! Per-rack pictures and tables only with `--per-rack`: at 100k GPUs the page stays under
//! 2 MB (tests/report.rs asserts it; BENCHMARKS.md has the sizes).
//!
//! Key figures carry `data-key="<json path>"` and `data-value="<exact JSON value>"`, shown
//! rounded, so a test can check that the page and the JSON agree.

use std::collections::{BTreeMap, BTreeSet};

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::render::readable;
use super::usage::Usage;
use super::*;
use crate::model::Fabric;
use crate::util::compress_hostlist;

/// Palette for GPU models and tenants (by order in the inventory / attribution),
/// colour-blind safe (Okabe-Ito, https://jfly.uni-koeln.de/color/).
const COLOURS: &[&str] = &[
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
];

/// Palette for MIG profiles, apart from the tenants' (Paul Tol's "muted" scheme,
/// https://personal.sron.nl/~pault/#sec:qualitative).
const PROFILE_COLOURS: &[&str] = &[
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
    "#AA4499",
];

/// Most boxes drawn per tier in the fabric picture; more groups share a box.
const MAX_BOXES: usize = 12;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:90%}\
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}\
details{margin:2px 0;break-inside:avoid}.groups{columns:28em}summary{cursor:pointer}svg{max-width:100%;height:auto}";

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

/// A figure: the exact JSON value in `data-value`, shown rounded.
fn fig(key: &str, exact: f64) -> Markup {
    html! { span data-key=(key) data-value=(exact) { (readable(exact)) } }
}

fn fig_opt(key: &str, exact: Option<f64>) -> Markup {
    match exact {
        Some(v) => fig(key, v),
        None => html! { span data-key=(key) data-value="-" { "-" } },
    }
}

fn n1(x: f64) -> String {
    format!("{x:.1}")
}

/// The share of a heat-map cell, 0..=1, as a colour from light to dark blue; over 1 is orange.
fn heat(share: f64) -> String {
    if share > 1.0 + 1e-9 {
        return "#D55E00".into();
    }
    let s = share.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * s).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(0xee, 0x08),
        mix(0xf3, 0x30),
        mix(0xfa, 0x6b)
    )
}

/// One box of the fabric picture: consecutive groups of one tier.
struct TierBox {
    label: String,
    title: String,
    members: usize,
}

/// The switch tiers top down and the compute nodes below, each tier's groups in at most
/// [`MAX_BOXES`] boxes, and the links between boxes summed (count and Gb/s).
fn tiers_svg(f: &Fabric, lv: &crate::fabric::levels::Levels) -> Markup {
    if lv.tiers.is_empty() {
        return html! { p class="note" { "The fabric has no switches cabled to GPU nodes: no tiers to draw." } };
    }
    // Layers bottom up: 0 = compute nodes by leaf group, then leaf, spine, core groups.
    let n_tiers = lv.tiers.len();
    let bucket = |g: usize, n: usize| g * n.min(MAX_BOXES) / n.max(1);
    let mut layers: Vec<(String, Vec<TierBox>)> = Vec::new();
    let mut switch_at: Vec<Option<(usize, usize)>> = vec![None; f.switches.len()];
    let leaf_n = lv.leaf_groups().len();
    let boxes_for = |names: Vec<(String, usize)>, unit: &str| -> Vec<TierBox> {
        let n = names.len();
        let mut out: Vec<(Vec<String>, usize)> = vec![(Vec::new(), 0); n.min(MAX_BOXES)];
        for (g, (name, members)) in names.into_iter().enumerate() {
            let b = &mut out[bucket(g, n)];
            b.0.push(name);
            b.1 += members;
        }
        out.into_iter()
            .map(|(names, members)| TierBox {
                label: if names.len() == 1 {
                    names[0].clone()
                } else {
                    format!("{} groups", names.len())
                },
                title: format!(
                    "{}: {members} {unit}",
                    compress_hostlist(&names)
                        .chars()
                        .take(300)
                        .collect::<String>()
                ),
                members,
            })
            .collect()
    };
    let mut node_box: Vec<Option<usize>> = vec![None; f.nodes.len()];
    for (i, g) in lv.node_group.iter().enumerate() {
        if let Some(g) = g {
            node_box[i] = Some(bucket(*g, leaf_n));
        }
    }
    layers.push((
        "GPU nodes".to_string(),
        boxes_for(
            lv.leaf_groups()
                .iter()
                .map(|g| (format!("under {}", g.name), g.nodes.len()))
                .collect(),
            "nodes",
        ),
    ));
    for (t, groups) in lv.tiers.iter().enumerate() {
        for (g, grp) in groups.iter().enumerate() {
            for s in &grp.switches {
                switch_at[s.index()] = Some((t + 1, bucket(g, groups.len())));
            }
        }
        let tier = groups
            .first()
            .map(|g| g.tier.as_str().to_string())
            .unwrap_or_default();
        layers.push((
            format!(
                "{tier} ({} group{})",
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            ),
            boxes_for(
                groups
                    .iter()
                    .map(|g| (g.name.clone(), g.switches.len()))
                    .collect(),
                "switches",
            ),
        ));
    }
    let at = |ep: &Endpoint| -> Option<(usize, usize)> {
        match ep {
            Endpoint::Switch(s, _) => switch_at[s.index()],
            Endpoint::Nic(n) => node_box[f.nics[n.index()].node.index()].map(|b| (0, b)),
        }
    };
    // (lower box, upper box) as (layer, box) -> (links, Gb/s).
    type BoxAt = (usize, usize);
    let mut links: BTreeMap<(BoxAt, BoxAt), (usize, u64)> = BTreeMap::new();
    let mut not_drawn = 0usize;
    for l in &f.links {
        match (at(&l.a), at(&l.b)) {
            (Some(a), Some(b)) if a.0 != b.0 => {
                let e = links.entry((a.min(b), a.max(b))).or_default();
                e.0 += 1;
                e.1 += l.gbps as u64;
            }
            _ => not_drawn += 1,
        }
    }
    const W: f64 = 1000.0;
    const LEFT: f64 = 130.0;
    const ROW: f64 = 90.0;
    const BOX_H: f64 = 34.0;
    let height = (n_tiers + 1) as f64 * ROW + 10.0;
    let y_of = |layer: usize| 10.0 + (n_tiers - layer) as f64 * ROW;
    let slot = |layer: usize| (W - LEFT - 10.0) / layers[layer].1.len().max(1) as f64;
    let x_of = |layer: usize, b: usize| LEFT + slot(layer) * b as f64 + slot(layer) / 2.0;
    let merged = layers.iter().any(|l| l.1.len() == MAX_BOXES)
        && lv.tiers.iter().any(|t| t.len() > MAX_BOXES);
    let max_gbps = links.values().map(|v| v.1).max().unwrap_or(1).max(1) as f64;
    html! {
        p class="note" {
            "Switch tiers top down, GPU nodes at the bottom; each box is one group of switches \
             with the same children (a scheduling domain)"
            @if merged { "; consecutive groups share a box, at most " (MAX_BOXES) " boxes a tier (hover for their names)" }
            ". Lines are the links between boxes, as wide as their bandwidth; hover for counts."
            @if not_drawn > 0 { " " (not_drawn) " links inside a tier or to unplaced ports are not drawn." }
        }
        svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="switch tiers and links by group"
            class="tiers" width=(W) height=(height) viewBox=(format!("0 0 {W} {height}")) {
            @for (((la, ba), (lb, bb)), (count, gbps)) in &links {
                line x1=(n1(x_of(*la, *ba))) y1=(n1(y_of(*la)))
                    x2=(n1(x_of(*lb, *bb))) y2=(n1(y_of(*lb) + BOX_H))
                    stroke="#9aa" stroke-width=(format!("{:.2}", 0.5 + 4.0 * *gbps as f64 / max_gbps)) {
                    title { (count) " links, " (readable(*gbps as f64 / 1000.0)) " Tb/s" }
                }
            }
            @for (li, (name, boxes)) in layers.iter().enumerate() {
                text x="0" y=(n1(y_of(li) + 21.0)) font-size="11" { (name) }
                @for (b, bx) in boxes.iter().enumerate() {
                    @let w = (slot(li) - 6.0).min(140.0);
                    g class="tier-box" {
                        title { (bx.title) }
                        rect x=(n1(x_of(li, b) - w / 2.0)) y=(n1(y_of(li))) width=(n1(w)) height=(BOX_H)
                            rx="3" fill=(if li == 0 { "#e8f1f8" } else { "#f4f4f4" }) stroke="#888" {}
                        text x=(n1(x_of(li, b))) y=(n1(y_of(li) + 14.0)) font-size="9" text-anchor="middle" {
                            (bx.label.chars().take(((w / 5.5) as usize).max(4)).collect::<String>())
                        }
                        text x=(n1(x_of(li, b))) y=(n1(y_of(li) + 27.0)) font-size="9" text-anchor="middle" fill="#555" {
                            (bx.members) @if li == 0 { " nodes" } @else { " sw" }
                        }
                    }
                }
            }
        }
    }
}

/// Rack groups as a grid of cells coloured by use (with a plan) or by IT load against the
/// usable budget; each links to its drill-down below.
fn heat_map(r: &Report, with_plan: bool) -> Markup {
    const CELL: f64 = 30.0;
    let n = r.groups.len();
    let cols = n.clamp(1, 32);
    let rows = n.div_ceil(cols).max(1);
    let w = cols as f64 * (CELL + 2.0) + 2.0;
    let h = rows as f64 * (CELL + 2.0) + 2.0;
    let share = |g: &groups::RackGroup| match (with_plan, g.in_use_gpu_equivalents) {
        (true, Some(u)) if g.gpus > 0 => u / g.gpus as f64,
        (true, _) => 0.0,
        (false, _) => g.load_pct / 100.0,
    };
    html! {
        p class="legend" {
            @if with_plan { "colour: share of the group's GPUs the plan uses, " } @else { "colour: IT load at maximum power over the usable budget, " }
            span style=(format!("background:{}", heat(0.0))) {} "0 %"
            span style=(format!("background:{}", heat(0.5))) {} "50 %"
            span style=(format!("background:{}", heat(1.0))) {} "100 %"
            span style=(format!("background:{}", heat(1.5))) {} "over 100 %"
            " \u{a0} orange outline: a rack in the group over its power budget"
        }
        svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="rack groups heat map"
            class="heat-map" width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) {
            @for (i, g) in r.groups.iter().enumerate() {
                @let x = 2.0 + (i % cols) as f64 * (CELL + 2.0);
                @let y = 2.0 + (i / cols) as f64 * (CELL + 2.0);
                a href=(format!("#group-{i}")) {
                    rect class="group-cell" x=(x) y=(y) width=(CELL) height=(CELL) fill=(heat(share(g)))
                        stroke=(if g.racks_at_risk.is_empty() { "#fff" } else { "#D55E00" })
                        stroke-width=(if g.racks_at_risk.is_empty() { 1 } else { 3 }) {
                        title {
                            (g.name) ": " (g.racks.len()) " racks, " (g.gpus) " GPUs, IT "
                            (readable(g.it_kw)) " of " (readable(g.usable_kw)) " kW usable ("
                            (readable(g.load_pct)) " %)"
                            @if let Some(u) = g.in_use_gpu_equivalents { ", " (readable(u)) " GPU-equivalents in use" }
                        }
                    }
                }
            }
        }
    }
}

/// One `<details>` per group: what it holds, its tenants, racks at risk; its racks one per
/// row with `per_rack`.
fn drill_down(r: &Report, per_rack: bool) -> Markup {
    let rack_index: BTreeMap<&str, usize> = r
        .power
        .racks
        .iter()
        .enumerate()
        .map(|(i, p)| (p.rack.as_str(), i))
        .collect();
    html! {
        div class="groups" { @for (i, g) in r.groups.iter().enumerate() {
            details id=(format!("group-{i}")) class="group" {
                summary {
                    b { (g.name) } " (" (g.kind) "): " (g.racks.len()) " racks, " (g.nodes) " nodes, "
                    (g.gpus) " GPUs; IT " (readable(g.it_kw)) " of " (readable(g.usable_kw)) " kW usable ("
                    (readable(g.load_pct)) " %)"
                    @if !g.racks_at_risk.is_empty() { "; " b { (g.racks_at_risk.len()) " at risk" } }
                }
                ul class="note" {
                    li { "racks: " (compress_hostlist(&g.racks)) }
                    li {
                        "GPUs: "
                        @for (k, (m, n)) in g.gpus_by_model.iter().enumerate() {
                            @if k > 0 { ", " } (n) " x " (m)
                        }
                    }
                    li { "budget " (readable(g.budget_kw)) " kW, facility " (readable(g.facility_kw))
                         " kW, headroom " (readable(g.headroom_kw)) " kW, fullest rack "
                         (readable(g.max_rack_load_pct)) " %" }
                    @if let Some(u) = g.in_use_gpu_equivalents {
                        li {
                            (readable(u)) " GPU-equivalents in use"
                            @for (t, n) in &g.gpus_by_tenant { "; " (t) " on " (n) " GPUs" }
                        }
                    }
                    @if !g.racks_at_risk.is_empty() {
                        li { "over budget: " (compress_hostlist(&g.racks_at_risk)) }
                    }
                }
                @if per_rack {
                    (rack_table(r, g.racks.iter().filter_map(|n| rack_index.get(n.as_str()).copied())))
                }
            }
        } }
    }
}

fn rack_table(r: &Report, racks: impl Iterator<Item = usize>) -> Markup {
    html! {
        table {
            thead { tr { th { "rack" } th { "budget kW" } th { "usable kW" } th { "IT kW" }
                         th { "facility kW" } th { "headroom kW" } th { "at risk" } } }
            tbody {
                @for i in racks {
                    @let x = &r.power.racks[i];
                    tr {
                        td { (x.rack) }
                        td { (n1(x.budget_kw)) }
                        td { (n1(x.usable_kw)) }
                        td { (fig(&format!("power.racks.{i}.it_kw"), x.it_kw)) }
                        td { (n1(x.facility_kw)) }
                        td { (fig(&format!("power.racks.{i}.headroom_kw"), x.headroom_kw)) }
                        td { @if x.at_risk { "yes" } @else { "no" } }
                    }
                }
            }
        }
    }
}

/// Racks side by side; in each, its nodes top down, each node a row of GPU squares coloured
/// by GPU model (no plan: all free) or tenant. Switches are a grey band at the bottom of
/// their rack. Only with `--per-rack`.
fn racks_svg(f: &Fabric, r: &Report, gpu_tenant: &[Option<&str>]) -> Markup {
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
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="racks, nodes and GPUs"
            width=(format!("{width:.0}")) height=(format!("{height:.0}"))
            viewBox=(format!("0 0 {width:.0} {height:.0}")) {
            @for (ri, rk) in f.racks.iter().enumerate() {
                @let x0 = 10.0 + (ri % cols) as f64 * (rack_w + 8.0);
                @let y0 = 10.0 + (ri / cols) as f64 * max_h;
                @let at_risk = r.power.racks.get(ri).is_some_and(|p| p.at_risk);
                g class="rack" {
                    title { (rk.name) " (" (rk.nodes.len()) " nodes)" }
                    rect x=(n1(x0)) y=(n1(y0)) width=(n1(rack_w)) height=(n1(max_h - 22.0)) fill="#f4f4f4"
                        stroke=(if at_risk { "#D55E00" } else { "#888" }) stroke-width=(if at_risk { 2 } else { 1 }) {}
                    @let mut y = y0 + 4.0;
                    @for n in &rk.nodes {
                        @let t = f.template_of(*n);
                        @for g in 0..t.gpus {
                            @let id = f.nodes[n.index()].first_gpu.0 + g;
                            @let (fill, who) = match gpu_tenant.get(id as usize).copied().flatten() {
                                Some(tenant) => (tenant_colour(r, tenant), tenant),
                                None if gpu_tenant.is_empty() => (colour(r, &t.gpu_model), "free"),
                                None => ("#ddd", "free"),
                            };
                            rect x=(n1(x0 + 5.0 + (g as f64 % per_row) * (GPU + GAP)))
                                y=(n1(y + (g as f64 / per_row).floor() * (GPU + GAP)))
                                width=(GPU) height=(GPU) fill=(fill) {
                                title { (f.nodes[n.index()].name) " gpu" (g) " (" (t.gpu_model) ", " (who) ")" }
                            }
                        }
                        ({ y += node_h(t.gpus); "" })
                    }
                    @if !rk.switches.is_empty() {
                        rect x=(n1(x0 + 3.0)) y=(n1(y + 2.0)) width=(n1(rack_w - 6.0))
                            height=(n1(3.0 + rk.switches.len() as f64 * 3.0)) fill="#999" {
                            title { (rk.switches.len()) " switches" }
                        }
                    }
                    text x=(n1(x0 + rack_w / 2.0)) y=(n1(y0 + max_h - 10.0)) font-size="9" text-anchor="middle" { (rk.name) }
                }
            }
        }
    }
}

/// The plan's MIG GPUs (up to 64), each a row of its placement units with every instance
/// drawn over the units it occupies (from its start, `size` units wide), coloured by profile.
fn mig_svg(f: &Fabric, u: &Usage) -> Markup {
    const UNIT: f64 = 34.0;
    let shown: Vec<_> = u.mig_layouts.iter().take(64).collect();
    let table_of = |g: GpuId| {
        let t = f.template_of(f.gpus[g.index()].node);
        f.gpu_model(&t.gpu_model).and_then(|m| m.mig.as_ref())
    };
    let units = shown
        .iter()
        .filter_map(|(g, _)| table_of(*g).map(|m| m.placement_units))
        .max()
        .unwrap_or(8) as f64;
    let profiles: BTreeSet<&str> = shown
        .iter()
        .flat_map(|(_, slots)| slots.iter().map(|(p, _)| p.as_str()))
        .collect();
    let profile_colour = |p: &str| {
        let i = profiles.iter().position(|x| *x == p).unwrap_or(0);
        PROFILE_COLOURS[i % PROFILE_COLOURS.len()]
    };
    let h = shown.len() as f64 * 22.0 + 10.0;
    let w = 110.0 + units * UNIT + 10.0;
    html! {
        h2 { "MIG layouts" }
        p class="note" {
            (u.mig_layouts.len()) " GPUs in MIG mode"
            @if u.mig_layouts.len() > 64 { " (first 64 shown)" }
            "; each box is one instance over the placement units it takes, coloured by profile."
        }
        p class="legend mig-legend" {
            "profiles:"
            @for p in &profiles { span style=(format!("background:{}", profile_colour(p))) {} (p) }
        }
        svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="MIG layouts"
            width=(format!("{w:.0}")) height=(format!("{h:.0}")) viewBox=(format!("0 0 {w:.0} {h:.0}")) {
            @for (row, (g, slots)) in shown.iter().enumerate() {
                @let gpu = &f.gpus[g.index()];
                @let table = table_of(*g);
                @let y = 5.0 + row as f64 * 22.0;
                text x="0" y=(n1(y + 13.0)) font-size="11" { (f.nodes[gpu.node.index()].name) "/" (gpu.index) }
                rect x="110" y=(n1(y)) width=(n1(table.map(|m| m.placement_units).unwrap_or(8) as f64 * UNIT))
                    height="18" fill="#eee" stroke="#bbb" {}
                @for (profile, start) in slots.iter() {
                    @let size = table
                        .and_then(|m| m.profile_index(profile).map(|p| m.profile(p).size))
                        .unwrap_or(1) as f64;
                    @let x = 110.0 + *start as f64 * UNIT;
                    g {
                        title { (profile) " at unit " (start) }
                        rect x=(n1(x + 1.0)) y=(n1(y + 1.0)) width=(n1(size * UNIT - 2.0)) height="16"
                            fill=(profile_colour(profile)) stroke="#fff" {}
                        text x=(n1(x + size * UNIT / 2.0)) y=(n1(y + 12.0)) font-size="9" fill="#fff" text-anchor="middle" {
                            (profile.split('.').next().unwrap_or(profile))
                        }
                    }
                }
            }
        }
    }
}

/// Horizontal bars: (label, value, max, colour, title).
fn bars(rows: &[(String, f64, f64, &str, String)], unit: &str) -> Markup {
    let bar_w = 360.0;
    let h = rows.len() as f64 * 20.0 + 10.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" width="640" height=(format!("{h:.0}"))
            viewBox=(format!("0 0 640 {h:.0}")) {
            @for (i, (label, value, max, col, title)) in rows.iter().enumerate() {
                @let y = 5.0 + i as f64 * 20.0;
                @let w = if *max > 0.0 { (value / max).clamp(0.0, 1.0) * bar_w } else { 0.0 };
                g {
                    title { (title) }
                    text x="0" y=(n1(y + 11.0)) font-size="11" { (label) }
                    rect x="190" y=(n1(y)) width=(bar_w) height="14" fill="#eee" {}
                    rect x="190" y=(n1(y)) width=(n1(w)) height="14" fill=(col) {}
                    text x=(n1(195.0 + bar_w)) y=(n1(y + 11.0)) font-size="11" { (readable(*value)) " " (unit) }
                }
            }
        }
    }
}

fn table(head: &[&str], rows: Vec<Vec<Markup>>) -> Markup {
    html! {
        table {
            thead { tr { @for h in head { th { (h) } } } }
            tbody { @for r in rows { tr { @for c in r { td { (c) } } } } }
        }
    }
}

fn text(s: impl AsRef<str>) -> Markup {
    html! { (s.as_ref()) }
}

/// Host CPU and memory (`report::host`): totals and tenants as JSON figures (millicores,
/// MiB), and the fullest nodes.
fn host_section(h: &crate::report::host::HostUse) -> Markup {
    use crate::report::host::{cores, gib};
    let cap = |x: Option<u64>, f: fn(u64) -> String| x.map(f).unwrap_or_else(|| "-".into());
    html! {
        h2 { "Host CPU and memory" }
        p {
            "CPU " (fig("host.cpu_millicores", h.cpu_millicores as f64)) " of "
            (fig("host.cpu_millicores_capacity", h.cpu_millicores_capacity as f64))
            " millicores, memory " (fig("host.memory_mib", h.memory_mib as f64)) " of "
            (fig("host.memory_mib_capacity", h.memory_mib_capacity as f64)) " MiB on "
            (h.nodes.len()) " nodes; "
            (fig("host.host_only_replicas", f64::from(h.host_only_replicas))) " host-only replicas."
        }
        (table(
            &["tenant", "CPU millicores", "memory MiB", "host-only replicas"],
            h.tenants.iter().enumerate().map(|(i, t)| vec![
                text(&t.tenant),
                fig(&format!("host.tenants.{i}.cpu_millicores"), t.cpu_millicores as f64),
                fig(&format!("host.tenants.{i}.memory_mib"), t.memory_mib as f64),
                fig(&format!("host.tenants.{i}.host_only_replicas"), f64::from(t.host_only_replicas)),
            ]).collect(),
        ))
        (table(
            &["node (fullest 10)", "CPU cores", "of", "memory GiB", "of", "host-only replicas"],
            h.fullest_nodes(10).iter().map(|n| vec![
                text(&n.node),
                text(cores(n.cpu_millicores)),
                text(cap(n.cpu_millicores_capacity, cores)),
                text(gib(n.memory_mib)),
                text(cap(n.memory_mib_capacity, gib)),
                text(n.host_only_replicas.to_string()),
            ]).collect(),
        ))
        @for n in &h.notes { p class="note" { (n) } }
    }
}

/// The page; with the plan's usage, the heat map shows use and (with `per_rack`) GPUs are
/// coloured by tenant (the first on a shared GPU).
pub fn page(f: &Fabric, r: &Report, usage: Option<&Usage>, per_rack: bool) -> String {
    let lv = crate::fabric::levels::levels(f);
    let inv = &r.inventory;
    let mut gpu_tenant: Vec<Option<&str>> = Vec::new();
    if let Some(u) = usage.filter(|_| per_rack) {
        gpu_tenant = vec![None; f.gpus.len()];
        for w in u.workloads.iter().filter(|w| w.admitted) {
            for g in &w.gpus {
                gpu_tenant[g.index()].get_or_insert(w.tenant.as_str());
            }
        }
    }
    let max_kw = r
        .power
        .racks
        .iter()
        .map(|x| x.budget_kw.max(x.it_kw))
        .fold(0.0, f64::max);
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
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "fabplan report: " (r.fabric) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Capacity and cost report: " (r.fabric) }
                p class="headline" {
                    (fig("inventory.gpus", inv.gpus as f64)) " GPUs on "
                    (fig("inventory.nodes", inv.nodes as f64)) " nodes, "
                    (fig("inventory.racks", inv.racks as f64)) " racks in "
                    (r.groups.len()) @if r.groups.len() == 1 { " group, " } @else { " groups, " }
                    (fig("inventory.links", inv.links as f64)) " links. IT power "
                    (fig("power.it_kw", r.power.it_kw)) " kW, facility "
                    (fig("power.facility_kw", r.power.facility_kw)) " kW. Owned cost $"
                    (fig("cost.owned_usd_per_hour", r.cost.owned_usd_per_hour)) "/hour."
                    @if !r.power.racks_at_risk.is_empty() {
                        " " b { (r.power.racks_at_risk.len()) " racks over their power budget." }
                    }
                }
                h2 { "Fabric: tiers and links by group" }
                (tiers_svg(f, &lv))
                h2 { "Rack groups" }
                p class="note" {
                    "Racks grouped by scalable unit, else by the leaf group their nodes are cabled to; \
                     open a group for its figures"
                    @if per_rack { " and racks" } @else { " (per-rack rows: --per-rack)" } "."
                }
                (heat_map(r, usage.is_some()))
                (drill_down(r, per_rack))
                @if per_rack {
                    h2 { "Racks" }
                    p class="legend" {
                        @match &r.attribution {
                            Some(a) => {
                                @for t in a.by_tenant_usd_per_hour.keys().filter(|t| *t != UNALLOCATED) {
                                    span style=(format!("background:{}", tenant_colour(r, t))) {} (t)
                                }
                                span style="background:#ddd" {} "free"
                            }
                            None => {
                                @for m in &inv.models {
                                    span style=(format!("background:{}", colour(r, &m.model))) {}
                                    (m.model) " (" (m.gpus) " GPUs)"
                                }
                            }
                        }
                        " \u{a0} grey: switches; orange outline: rack over its power budget"
                    }
                    (racks_svg(f, r, &gpu_tenant))
                    h2 { "Power per rack" }
                    (bars(
                        &r.power.racks.iter().map(|x| (
                            x.rack.clone(),
                            x.it_kw,
                            max_kw,
                            if x.at_risk { "#D55E00" } else { "#009E73" },
                            format!("{}: {} of {} kW usable", x.rack, x.it_kw, x.usable_kw),
                        )).collect::<Vec<_>>(),
                        "kW",
                    ))
                    (rack_table(r, 0..r.power.racks.len()))
                }
                @if let Some(u) = usage.filter(|u| !u.mig_layouts.is_empty()) {
                    (mig_svg(f, u))
                }
                h2 { "Capacity headroom: largest gang per level" }
                (bars(
                    &r.capacity.levels.iter().map(|l| (
                        format!("{} ({})", l.level, l.model),
                        l.largest_gang_gpus as f64,
                        inv.gpus as f64,
                        colour(r, &l.model),
                        format!("{} free of {} GPUs in {} domains", l.free_gpus, l.gpus, l.domains),
                    )).collect::<Vec<_>>(),
                    "GPUs",
                ))
                (table(
                    &["level", "GPU model", "domains", "free GPUs", "GPUs", "largest gang", "in"],
                    r.capacity.levels.iter().enumerate().map(|(i, l)| vec![
                        text(&l.level),
                        text(&l.model),
                        text(l.domains.to_string()),
                        text(l.free_gpus.to_string()),
                        text(l.gpus.to_string()),
                        fig(&format!("capacity.levels.{i}.largest_gang_gpus"), l.largest_gang_gpus as f64),
                        text(l.largest_domain.as_deref().unwrap_or("-")),
                    ]).collect(),
                ))
                @if let Some(st) = &r.capacity.stranded {
                    p {
                        "Stranded (no pending workload can use it): "
                        (fig("capacity.stranded.gpus", st.gpus as f64)) " free GPUs, "
                        (fig("capacity.stranded.mig_compute_slices", st.mig_compute_slices as f64)) " MIG compute slices, "
                        (fig("capacity.stranded.shared_gpu_equivalents", st.shared_gpu_equivalents)) " GPU-equivalents of time-sliced shares; "
                        (fig("capacity.stranded.gpu_equivalents", st.gpu_equivalents)) " GPU-equivalents in all."
                    }
                }
                @if let Some(h) = &r.host {
                    (host_section(h))
                }
                h2 { "Cost per GPU-hour: owned vs cloud" }
                (bars(&cost_bars, "$/GPU-h"))
                (table(
                    &["GPU model", "GPUs", "owned $/h", "owned $/GPU-h", "cloud $/GPU-h", "break-even utilization"],
                    r.cost.models.iter().enumerate().map(|(i, m)| vec![
                        text(&m.model),
                        text(m.gpus.to_string()),
                        fig_opt(&format!("cost.models.{i}.owned_usd_per_hour"), m.owned_usd_per_hour),
                        fig_opt(&format!("cost.models.{i}.owned_usd_per_gpu_hour_at_full_use"), m.owned_usd_per_gpu_hour_at_full_use),
                        fig_opt(&format!("cost.models.{i}.cloud_usd_per_gpu_hour"), m.cloud_usd_per_gpu_hour),
                        fig_opt(&format!("cost.models.{i}.break_even_utilization"), m.break_even_utilization),
                    ]).collect(),
                ))
                @if let Some(a) = &r.attribution {
                    @let max_t = a.by_tenant_usd_per_hour.values().cloned().fold(0.0, f64::max);
                    h2 { "Cost per tenant" }
                    (bars(
                        &a.by_tenant_usd_per_hour.iter().map(|(t, v)| (
                            t.clone(),
                            *v,
                            max_t,
                            if t == UNALLOCATED { "#999" } else { tenant_colour(r, t) },
                            format!("{t}: ${v}/hour"),
                        )).collect::<Vec<_>>(),
                        "$/h",
                    ))
                    (table(
                        &["tenant", "$/hour"],
                        a.by_tenant_usd_per_hour.iter().map(|(t, v)| vec![
                            text(t),
                            fig(&format!("attribution.by_tenant_usd_per_hour.{t}"), *v),
                        ]).collect(),
                    ))
                    p class="note" { (a.policy) }
                }
                @let t = &r.tokens;
                h2 { "Token economics: " (t.model) }
                p {
                    "KV cache " (fig("tokens.kv_bytes_per_token", t.kv_bytes_per_token as f64))
                    " bytes per token; " (t.context_tokens) " tokens of context."
                }
                (table(
                    &["GPU model", "GPUs/replica", "sequences/replica", "tok/s batch 1", "tok/s", "$/Mtok", "KV spill GB", "context tier"],
                    t.rows.iter().enumerate().map(|(i, x)| vec![
                        text(&x.gpu_model),
                        text(x.gpus_per_replica.map(|n| n.to_string()).unwrap_or_else(|| "-".into())),
                        text(x.sequences_per_replica.to_string()),
                        fig(&format!("tokens.rows.{i}.decode_tokens_per_s_batch1"), x.decode_tokens_per_s_batch1),
                        text(readable(x.decode_tokens_per_s)),
                        text(x.usd_per_million_tokens.map(readable).unwrap_or_else(|| "-".into())),
                        text(readable(x.kv_spill_gb_per_replica)),
                        text(&x.context_tier),
                    ]).collect(),
                ))
                @if !t.context.is_empty() {
                    h3 { "Context tiers" }
                    (table(
                        &["model", "GPU model", "tier", "capacity GB", "read GB/s/GPU", "$/GB-month", "holds GB"],
                        t.context.iter().flat_map(|c| c.tiers.iter().map(move |x| vec![
                            text(c.workload.clone().unwrap_or_else(|| t.model.clone())),
                            text(&c.gpu_model),
                            text(&x.tier),
                            text(readable(x.capacity_gb_per_replica)),
                            text(readable(x.read_gb_per_s_per_gpu)),
                            text(format!("{:.4}", x.usd_per_gb_month)),
                            text(readable(x.holds_gb)),
                        ])).collect(),
                    ))
                    (table(
                        &["model", "GPU model", "sequences", "KV GB", "deepest tier", "tok/s fit HBM", "tok/s spilled", "$/Mtok fit HBM", "$/Mtok spilled", "better"],
                        t.context.iter().map(|c| vec![
                            text(c.workload.clone().unwrap_or_else(|| t.model.clone())),
                            text(&c.gpu_model),
                            text(c.wanted_sequences.to_string()),
                            text(readable(c.kv_wanted_gb)),
                            text(c.deepest_tier.clone().unwrap_or_else(|| "-".into())),
                            text(readable(c.decode_tokens_per_s_fit_hbm)),
                            text(readable(c.decode_tokens_per_s_spilled)),
                            text(c.usd_per_million_tokens_fit_hbm.map(readable).unwrap_or_else(|| "-".into())),
                            text(c.usd_per_million_tokens_spilled.map(readable).unwrap_or_else(|| "-".into())),
                            text(&c.better),
                        ]).collect(),
                    ))
                }
                @if let Some(fl) = &r.what_if.failure {
                    h2 { "What-if: " (fl.target) }
                    p {
                        (fig("what_if.failure.gpus_lost", fl.gpus_lost as f64)) " GPUs lost, "
                        (fig("what_if.failure.gpus_disconnected", fl.gpus_disconnected as f64)) " disconnected, "
                        (fig("what_if.failure.gpus_degraded", fl.gpus_degraded as f64)) " degraded; "
                        (readable(fl.uplink_gbps_lost as f64)) " Gb/s of uplinks lost."
                    }
                }
                @if let Some(g) = &r.what_if.growth {
                    h2 { "What-if: demand growth " (readable(g.per_month * 100.0)) " %/month" }
                    (table(
                        &["level", "GPU model", "largest gang", "needed gang", "needed by", "free GPUs", "months until out"],
                        g.levels.iter().enumerate().map(|(i, l)| vec![
                            text(&l.level),
                            text(&l.model),
                            text(l.largest_gang_gpus.to_string()),
                            text(l.needed_gang_gpus.to_string()),
                            text(&l.needed_by),
                            text(readable(l.free_gpus)),
                            fig_opt(&format!("what_if.growth.levels.{i}.months_until_out"), l.months_until_out),
                        ]).collect(),
                    ))
                }
                h2 { "Assumptions and sources" }
                @let a = &r.assumptions;
                ul class="note" {
                    li {
                        "prices as of " (a.pricing_as_of) "; PUE " (a.pue) "; $" (a.usd_per_kwh)
                        "/kWh; depreciation " (a.depreciation_years) " years; network "
                        (a.network_share_of_capex) " of capex"
                    }
                    @for s in &a.sources { li { (s) } }
                }
            }
        }
    };
    markup.into_string() + "\n"
}
