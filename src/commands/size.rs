//! `fabplan size`: flags -> `fabric::sizing::size_clos` -> human or JSON output.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;

use crate::cli::output::emit;
use crate::cli::size::{SizeArgs, SizeFormat};
use crate::error::Error;
use crate::exit::Outcome;
use crate::fabric::sizing::{size_clos, ClosSize, SizeRequest, SpineGrouping};

/// Runs `fabplan size`. Bad input is a usage error (exit 2), never a panic.
pub fn run(args: &SizeArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let request = args.request();
    let size = size_clos(&request).map_err(|err| Error::usage(err.to_string(), err.help()))?;
    let text = match args.format {
        SizeFormat::Human => render_human(&request, &size),
        SizeFormat::Json => render_json(&request, &size),
    };
    emit(out, args.output.as_deref(), &[], text.as_bytes())?;
    Ok(Outcome::Clean)
}

/// The JSON report: top-level `leaf`, `spine`, `core` and `cables`, keys in a fixed order.
pub fn render_json(request: &SizeRequest, size: &ClosSize) -> String {
    let w = &size.wiring;
    let value = json!({
        "gpus": size.gpus,
        "nodes": size.nodes,
        "gpus_per_node": request.gpus_per_node,
        "planes": request.planes,
        "nic_gbps": size.nic_gbps,
        "radix": size.radix,
        "tiers": size.tiers,
        "scalable_units": w.scalable_units,
        "su_nodes": w.nodes_per_su,
        "node_slots": size.node_slots,
        "empty_node_slots": size.node_slots - size.nodes,
        "leaf": size.leaf,
        "spine": size.spine,
        "core": size.core,
        "switches": size.leaf + size.spine + size.core,
        "cables": size.cables,
        "links": size.links,
        "ufm_links": size.ufm_links,
        "optics": {
            "module_gbps": size.optics.module_gbps,
            "links_per_module": size.optics.links_per_module,
            "node_leaf": size.optics.modules.node_leaf,
            "leaf_spine": size.optics.modules.leaf_spine,
            "spine_core": size.optics.modules.spine_core,
            "total": size.optics.modules.total,
        },
        "power": size.power,
        "oversubscription": 1.0,
        "bisection_gbps": size.bisection_gbps,
        "max_endpoints": size.max_endpoints,
        "max_hops": size.max_hops,
        "wiring": w,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The human report: one line per quantity, then the wiring plan and the assumptions.
pub fn render_human(request: &SizeRequest, size: &ClosSize) -> String {
    let w = &size.wiring;
    let mut s = String::new();
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let planes = u64::from(request.planes);
    let _ = writeln!(
        s,
        "{} = {} x {} GPUs; {} of {}G NIC ports; radix {}",
        plural(size.gpus, "GPU", "GPUs"),
        plural(size.nodes, "node", "nodes"),
        request.gpus_per_node,
        plural(planes, "plane", "planes"),
        size.nic_gbps,
        size.radix,
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "design      {} tiers; {} of {} nodes = {} node slots ({} empty)",
        size.tiers,
        plural(w.scalable_units, "SU", "SUs"),
        w.nodes_per_su,
        size.node_slots,
        size.node_slots - size.nodes,
    );
    let _ = writeln!(
        s,
        "switches    leaf {}, spine {}, core {} ({} total)",
        size.leaf,
        size.spine,
        size.core,
        size.leaf + size.spine + size.core,
    );
    let ufm = if size.ufm_links > 0 {
        format!(", node-leaf includes {} UFM", size.ufm_links)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "cables      node-leaf {}, leaf-spine {}, spine-core {} ({} total{ufm})",
        size.cables.node_leaf, size.cables.leaf_spine, size.cables.spine_core, size.cables.total,
    );
    if size.cables != size.links {
        let _ = writeln!(
            s,
            "links       node-leaf {}, leaf-spine {}, spine-core {} at {}G ({} links per cable)",
            size.links.node_leaf,
            size.links.leaf_spine,
            size.links.spine_core,
            size.nic_gbps,
            request
                .cable_gbps
                .map_or(1, |c| u64::from(c) / u64::from(size.nic_gbps)),
        );
    }
    let m = &size.optics.modules;
    let _ = writeln!(
        s,
        "optics      {} modules: node-leaf {}, leaf-spine {}, spine-core {}",
        m.total, m.node_leaf, m.leaf_spine, m.spine_core,
    );
    let _ = writeln!(
        s,
        "            ({}G modules, {} each; 2 ends per optical link{})",
        size.optics.module_gbps,
        plural(size.optics.links_per_module, "link", "links"),
        if request.copper_node_links {
            "; node-leaf on copper"
        } else {
            ""
        },
    );
    let p = &size.power;
    let _ = writeln!(
        s,
        "power       {:.1} kW: switches {:.1} kW ({} x {} W), optics {:.1} kW ({} x {} W)",
        p.total_w / 1000.0,
        p.switches_w / 1000.0,
        size.leaf + size.spine + size.core,
        p.switch_watts,
        p.optics_w / 1000.0,
        m.total,
        p.module_watts,
    );
    let _ = writeln!(s, "            (fabric only: nodes excluded)");
    let _ = writeln!(
        s,
        "bisection   {} Gb/s (non-blocking, 1:1 at every tier)",
        size.bisection_gbps
    );
    let bound = if size.tiers == 3 { "k^3/4" } else { "k^2/2" };
    let _ = writeln!(
        s,
        "capacity    {} GPU ports per plane in {} tiers ({bound}); longest path {} switch hops",
        size.max_endpoints, size.tiers, size.max_hops,
    );

    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "wiring, per plane{}:",
        if planes > 1 {
            format!(" ({planes} identical planes)")
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "  leaves    {} rails x {} per SU x {} = {}; each {} node ports + {} uplinks",
        w.rails,
        w.leaves_per_rail_per_su,
        plural(w.scalable_units, "SU", "SUs"),
        w.leaves_per_plane(),
        w.nodes_per_leaf,
        w.leaf_uplinks,
    );
    match w.spine.grouping {
        SpineGrouping::FullMesh => {
            let _ = writeln!(
                s,
                "  spines    {} in one full mesh; {} from each leaf to each spine",
                w.spine.spines_per_group,
                plural(w.spine.links_per_leaf_spine, "link", "links"),
            );
            let _ = writeln!(
                s,
                "            {} of {} ports used per spine",
                w.spine.down_ports, size.radix,
            );
        }
        SpineGrouping::PerRail { groups_per_rail } => {
            let _ = writeln!(
                s,
                "  spines    {} groups x {} = {}; {} per rail, {} leaves each",
                w.spine.groups,
                w.spine.spines_per_group,
                w.spines_per_plane(),
                plural(groups_per_rail, "group", "groups"),
                w.spine.leaves_per_group,
            );
            let _ = writeln!(
                s,
                "            {} from each leaf to each spine of its group; {} down + {} up ports",
                plural(w.spine.links_per_leaf_spine, "link", "links"),
                w.spine.down_ports,
                w.spine.up_ports,
            );
        }
    }
    if let Some(core) = &w.core {
        let _ = writeln!(
            s,
            "  cores     {} groups x {} = {}; spine i of every group -> core group i mod {}",
            core.groups,
            core.cores_per_group,
            w.cores_per_plane(),
            core.groups,
        );
        let _ = writeln!(
            s,
            "            {} to each core of its group; {} of {} ports used per core",
            plural(core.links_per_spine_core, "link", "links"),
            core.down_ports,
            size.radix,
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "assumptions: {} W per module (800G DSP module 14-16 W, docs/sources.md); {} W per switch",
        p.module_watts, p.switch_watts,
    );
    let _ = writeln!(
        s,
        "without optics (a placeholder); override with --module-watts and --switch-watts"
    );
    s
}
