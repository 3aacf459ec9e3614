//! `fabplan inspect`: load a fabric and print its summary.

use std::fmt::Write as _;
use std::io::Write;

use crate::cli::inspect::{InspectArgs, InspectFormat};
use crate::cli::output::{emit, stdout_color};
use crate::cli::render;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::fabric::graph::{summarize, Summary};
use crate::load::load_fabric_file;

pub fn run(args: &InspectArgs, out: &mut dyn Write) -> Result<Outcome> {
    let loaded = load_fabric_file(&args.file);
    let Some(fabric) = &loaded.fabric else {
        let text = render::human(
            &loaded.diagnostics,
            &loaded.file,
            &loaded.provenance,
            stdout_color(),
        );
        eprint!("{text}");
        return Err(Error::InputRejected { count: 1 });
    };
    let s = summarize(fabric);
    let text = match args.format {
        InspectFormat::Json => serde_json::to_string_pretty(&s).expect("json") + "\n",
        InspectFormat::Human => human(&s, &rack_groups(fabric), args.per_rack),
    };
    emit(out, args.output.as_deref(), &[&args.file], text.as_bytes())?;
    Ok(Outcome::Clean)
}

fn opt_ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}:1")).unwrap_or_else(|| "-".into())
}

/// (group name, its racks in fabric order): by scalable unit, else leaf group
/// (`report::groups`), so a 100k-GPU fabric prints ~200 lines of power, not ~3,100.
fn rack_groups(f: &crate::model::Fabric) -> Vec<(String, Vec<String>)> {
    let lv = crate::fabric::levels::levels(f);
    let (of_rack, names) = crate::report::groups::assign(f, &lv);
    let mut groups: Vec<(String, Vec<String>)> =
        names.into_iter().map(|(n, _)| (n, Vec::new())).collect();
    for (rack, g) in f.racks.iter().zip(of_rack) {
        groups[g].1.push(rack.name.clone());
    }
    groups
}

fn human(s: &Summary, groups: &[(String, Vec<String>)], per_rack: bool) -> String {
    let mut o = String::new();
    let models: Vec<String> = s
        .gpus_by_model
        .iter()
        .map(|(m, n)| format!("{n} x {m}"))
        .collect();
    let _ = writeln!(o, "fabric      {} ({})", s.fabric, s.transport.as_str());
    let _ = writeln!(o, "gpus        {} ({})", s.gpus, models.join(", "));
    let _ = writeln!(
        o,
        "nodes       {} GPU nodes, {} management",
        s.nodes, s.management_nodes
    );
    let _ = writeln!(
        o,
        "racks       {} ({} scalable units)",
        s.racks, s.scalable_units
    );
    let _ = writeln!(
        o,
        "nvlink      {} domains ({} hgx8, {} nvl72; largest {} GPUs)",
        s.nvlink_domains.total,
        s.nvlink_domains.hgx8,
        s.nvlink_domains.nvl72,
        s.nvlink_domains.largest_gpus
    );
    let _ = writeln!(
        o,
        "switches    {} leaf, {} spine, {} core ({} tiers)",
        s.switches.leaf, s.switches.spine, s.switches.core, s.tiers
    );
    let _ = writeln!(
        o,
        "links       {} nic-leaf, {} leaf-spine, {} spine-core, {} other ({} total)",
        s.links.nic_leaf, s.links.leaf_spine, s.links.spine_core, s.links.other, s.links.total
    );
    let _ = writeln!(
        o,
        "oversub     leaf {}, spine {}",
        opt_ratio(s.oversubscription.leaf),
        opt_ratio(s.oversubscription.spine)
    );
    let _ = writeln!(o, "bisection   {} Gb/s", s.bisection_gbps);
    let _ = writeln!(
        o,
        "hops        max {} switches between GPUs; ECMP width {}",
        s.max_hops
            .map(|h| h.to_string())
            .unwrap_or_else(|| "unreachable".into()),
        s.ecmp_width
            .map(|w| w.to_string())
            .unwrap_or_else(|| "-".into())
    );
    let _ = writeln!(
        o,
        "power       {:.1} kW total ({:.1} kW switches outside racks)",
        s.power_kw.total, s.power_kw.unracked_switches
    );
    if per_rack {
        for (rack, kw) in &s.power_kw.racks {
            let _ = writeln!(o, "            {rack:<16} {kw:>8.1} kW");
        }
    } else {
        for (name, racks) in groups {
            let kws: Vec<f64> = racks
                .iter()
                .filter_map(|r| s.power_kw.racks.get(r).copied())
                .collect();
            let _ = writeln!(
                o,
                "            {name:<16} {:>8.1} kW in {} rack{} (fullest {:.1} kW)",
                kws.iter().sum::<f64>(),
                racks.len(),
                if racks.len() == 1 { "" } else { "s" },
                kws.iter().cloned().fold(0.0, f64::max)
            );
        }
        if groups.len() < s.racks {
            let _ = writeln!(
                o,
                "            ({} racks in {} group{}: scalable unit, else leaf group; every rack: --per-rack)",
                s.racks,
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            );
        }
    }
    let _ = writeln!(
        o,
        "failures    worst single failure (GPUs disconnected / degraded):"
    );
    for (tier, f) in &s.failure_domains.switch {
        let _ = writeln!(
            o,
            "            {tier:<6} {:<20} {} / {}",
            f.name, f.gpus_disconnected, f.gpus_degraded
        );
    }
    if let Some(f) = &s.failure_domains.rack {
        let _ = writeln!(
            o,
            "            rack   {:<20} {} / {}",
            f.name, f.gpus_disconnected, f.gpus_degraded
        );
    }
    if let Some(f) = &s.failure_domains.plane {
        let _ = writeln!(
            o,
            "            plane  {:<20} {} / {}",
            f.name, f.gpus_disconnected, f.gpus_degraded
        );
    }
    o
}
