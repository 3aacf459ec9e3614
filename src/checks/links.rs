//! Ports, speeds and cables.

use std::collections::HashMap;

use super::{diag, Ctx};
use crate::diag::Diagnostic;
use crate::model::*;

pub fn radix(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, links) in ctx.topo.switch_links.iter().enumerate() {
        let m = f.switch_model(SwitchId::from_index(i));
        // Capacity used in Gb/s: a slower link still takes its breakout share of a port.
        let used: u64 = links
            .iter()
            .map(|l| f.links[l.index()].gbps.max(m.breakout_gbps) as u64)
            .sum();
        if used > m.capacity_gbps() {
            let s = &f.switches[i];
            out.push(
                diag("FP301", format!("switch `{}` needs {used} Gb/s of ports for {} links but `{}` has {} x {}G = {} Gb/s", s.name, links.len(), m.name, m.ports, m.port_gbps, m.capacity_gbps()))
                    .on(Entity::Switch(SwitchId::from_index(i)), None, "over radix")
                    .help(format!("move links to another switch or use a larger model; `{}` takes at most {} links at {}G", m.name, m.radix_at(f.links[links[0].index()].gbps.max(1)), f.links[links[0].index()].gbps)),
            );
        }
    }
}

pub fn speed(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, l) in f.links.iter().enumerate() {
        for ep in [&l.a, &l.b] {
            let problem = match ep {
                Endpoint::Nic(n) => {
                    let p = f.nic_port(*n);
                    (p.gbps != l.gbps)
                        .then(|| format!("NIC port `{}` runs at {}G", f.endpoint_name(ep), p.gbps))
                }
                Endpoint::Switch(s, _) => {
                    let m = f.switch_model(*s);
                    (!m.supports_speed(l.gbps)).then(|| {
                        format!(
                            "`{}` ({}) has {}G ports that break out to {}G at the slowest",
                            f.switches[s.index()].name,
                            m.name,
                            m.port_gbps,
                            m.breakout_gbps
                        )
                    })
                }
            };
            if let Some(p) = problem {
                out.push(
                    diag(
                        "FP302",
                        format!(
                            "link `{}` is {}G but {p}",
                            f.link_name(LinkId::from_index(i)),
                            l.gbps
                        ),
                    )
                    .on(
                        Entity::Link(LinkId::from_index(i)),
                        Some("gbps"),
                        "link speed",
                    )
                    .help("give the link a speed both ends support"),
                );
                break;
            }
        }
    }
}

pub fn port_reuse(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    // Labels point at the endpoint that names the port (`b` of an explicit link, when it is
    // the `b` end; links made by intent fall back to the intent).
    // First use of each port: NIC ports and numbered switch ports in flat arrays (a fabric of
    // 100k GPUs has 600k endpoints), named switch ports in a map.
    const NONE: (u32, bool) = (u32::MAX, false);
    let mut nic_first = vec![NONE; f.nics.len()];
    let mut num_first: Vec<Vec<(u32, bool)>> = vec![Vec::new(); f.switches.len()];
    let mut named_first: HashMap<(SwitchId, &str), (u32, bool)> = HashMap::new();
    // Port numbers past any real switch (a typo such as `leaf0:4294967295`) go to a map: the
    // flat arrays never grow by a number read from the input.
    const DENSE_PORTS: usize = 4096;
    let mut sparse_first: HashMap<(SwitchId, u32), (u32, bool)> = HashMap::new();
    for (i, l) in f.links.iter().enumerate() {
        for (ep, is_b) in [(&l.a, false), (&l.b, true)] {
            let slot: &mut (u32, bool) = match ep {
                Endpoint::Nic(n) => &mut nic_first[n.index()],
                Endpoint::Switch(s, PortName::Num(p)) if *p as usize >= DENSE_PORTS => {
                    sparse_first.entry((*s, *p)).or_insert(NONE)
                }
                Endpoint::Switch(s, PortName::Num(p)) => {
                    let v = &mut num_first[s.index()];
                    let p = *p as usize;
                    if v.len() <= p {
                        v.resize(p + 1, NONE);
                    }
                    &mut v[p]
                }
                Endpoint::Switch(s, PortName::Name(name)) => {
                    named_first.entry((*s, name)).or_insert(NONE)
                }
            };
            if slot.0 == u32::MAX {
                *slot = (i as u32, is_b);
                continue;
            }
            let (j, first_is_b) = *slot;
            let field = |b: bool| if b { Some("b") } else { None };
            out.push(
                diag(
                    "FP303",
                    format!("port `{}` is used by two links", f.endpoint_name(ep)),
                )
                .on(
                    Entity::Link(LinkId::from_index(i)),
                    field(is_b),
                    "second use",
                )
                .also(Entity::Link(LinkId(j)), field(first_is_b), "first use")
                .help("one cable per port: fix the port number of one of the links"),
            );
        }
    }
}

fn device(f: &Fabric, ep: &Endpoint) -> (bool, u32) {
    match ep {
        Endpoint::Nic(n) => (true, f.nics[n.index()].node.0),
        Endpoint::Switch(s, _) => (false, s.0),
    }
}

pub fn self_link(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, l) in f.links.iter().enumerate() {
        if device(f, &l.a) == device(f, &l.b) {
            out.push(
                diag(
                    "FP304",
                    format!(
                        "link `{}` connects a device to itself",
                        f.link_name(LinkId::from_index(i))
                    ),
                )
                .on(Entity::Link(LinkId::from_index(i)), None, "loopback")
                .help("fix one of the endpoints"),
            );
        }
    }
}

/// Longest supported run for a medium at a speed, in metres (NVIDIA structured-cabling guide).
pub fn reach_m(medium: Medium, gbps: u32) -> f64 {
    match medium {
        Medium::Dac if gbps >= 800 => 2.0,
        Medium::Dac if gbps >= 200 => 3.0,
        Medium::Dac => 5.0,
        Medium::Aoc => 100.0,
        Medium::Mm => 50.0,
        Medium::MmOm3 => 30.0,
        Medium::Sm => 500.0,
        Medium::SmSplitter => 50.0,
        Medium::LcSm => 2000.0,
    }
}

pub fn reach(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, l) in f.links.iter().enumerate() {
        let Some(len) = l.length_m else { continue };
        let max = reach_m(l.medium, l.gbps);
        if len > max {
            out.push(
                diag("FP305", format!("a {len} m {} cable at {}G exceeds its {max} m reach (`{}`)", l.medium.as_str(), l.gbps, f.link_name(LinkId::from_index(i))))
                    .on(Entity::Link(LinkId::from_index(i)), Some("length_m"), "too long")
                    .also(Entity::Link(LinkId::from_index(i)), Some("medium"), "this medium")
                    .help(format!("use a medium that reaches {len} m (AOC to 100 m, MPO single-mode to 500 m, LC single-mode to 2 km) or shorten the run")),
            );
        }
    }
}

pub fn length_missing(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let missing: Vec<usize> = f
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.length_m.is_none())
        .map(|(i, _)| i)
        .collect();
    if let Some(&first) = missing.first() {
        out.push(
            diag("FP306", format!("{} of {} links have no `length_m`; reach and PFC headroom are not checked for them", missing.len(), f.links.len()))
                .on(Entity::Link(LinkId::from_index(first)), None, "first link without a length")
                .help("add `length_m` to links (or to the intent that makes them)"),
        );
    }
}
