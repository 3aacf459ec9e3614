//! Rack power, cooling and scalable-unit power blocks.

use std::collections::BTreeMap;

use super::{diag, Ctx};
use crate::diag::Diagnostic;
use crate::fabric::power::{gpu_tdp_kw, rack_load_kw};
use crate::model::*;

pub fn rack_power(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let derate = f.site.power_derate;
    for (i, (r, load)) in f.racks.iter().zip(rack_load_kw(f)).enumerate() {
        let allowed = r.power_kw * derate;
        if load > allowed + 1e-9 {
            let of = if derate < 1.0 {
                format!("{:.1} kW ({} kW x {derate} derate)", allowed, r.power_kw)
            } else {
                format!("{} kW", r.power_kw)
            };
            out.push(
                diag(
                    "FP501",
                    format!(
                        "rack `{}` draws up to {load:.1} kW, over its budget of {of}",
                        r.name
                    ),
                )
                .on(
                    Entity::Rack(RackId::from_index(i)),
                    Some("power_kw"),
                    "budget",
                )
                .help(
                    "move nodes to another rack, or raise the budget if the rack's feeds allow it",
                ),
            );
        }
    }
}

pub fn cooling(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let limit = f.site.air_cooling_limit_kw;
    for (i, (r, load)) in f.racks.iter().zip(rack_load_kw(f)).enumerate() {
        if r.cooling != Cooling::Air {
            continue;
        }
        let why = if r.nvlink_domain.is_some() {
            Some("it holds an NVL72 domain".to_string())
        } else if load > limit {
            Some(format!(
                "it draws up to {load:.1} kW, above the {limit} kW air limit"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            out.push(
                diag(
                    "FP502",
                    format!("rack `{}` is air cooled but {why}", r.name),
                )
                .on(Entity::Rack(RackId::from_index(i)), Some("cooling"), "air")
                .help("declare `cooling: liquid`, or spread the load over more racks"),
            );
        }
    }
}

pub fn su_power(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let Some(block) = f.site.su_power_kw else {
        return;
    };
    let mut per_su: BTreeMap<SuId, (f64, RackId)> = BTreeMap::new();
    for (i, (r, load)) in f.racks.iter().zip(rack_load_kw(f)).enumerate() {
        if let Some(su) = r.su {
            per_su.entry(su).or_insert((0.0, RackId::from_index(i))).0 += load;
        }
    }
    for (su, (load, rack)) in per_su {
        if load > block {
            out.push(
                diag("FP503", format!("scalable unit `{}` draws up to {load:.1} kW, over the site's {block} kW block", f.sus[su.index()]))
                    .on(Entity::Rack(rack), None, "a rack of this unit")
                    .also(Entity::Site, Some("su_power_kw"), "site block")
                    .help("split the unit or raise `site.su_power_kw` if the facility allows"),
            );
        }
    }
}

pub fn node_power(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, t) in f.templates.iter().enumerate() {
        let Some(tdp) = gpu_tdp_kw(f, t) else {
            continue;
        };
        if t.power_kw < tdp {
            out.push(
                diag(
                    "FP504",
                    format!(
                        "node template `{}` is rated {} kW but its {} GPUs alone draw {tdp:.1} kW",
                        t.name, t.power_kw, t.gpus
                    ),
                )
                .on(
                    Entity::Template(TemplateId::from_index(i)),
                    Some("power_kw"),
                    "node power",
                )
                .help("use the node's maximum power (DGX H100: 10.2 kW; DGX B200: about 14.3 kW)"),
            );
        }
    }
}
