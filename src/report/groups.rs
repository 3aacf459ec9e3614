//! Racks grouped for reports that scale: by scalable unit where the rack declares one, else
//! by the leaf group its first compute node is cabled to (`fabric::levels`), else in one
//! group of the others (network and management racks, or every rack of a fabric with no
//! network). A 100k-GPU fabric has ~3,100 racks but ~200 groups: the human, Markdown and
//! HTML renderings print groups, and per-rack rows only with `--per-rack`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::usage::Usage;
use super::{r2, r3, Power};
use crate::fabric::levels::Levels;
use crate::model::*;

/// The group of racks with no scalable unit and no compute node cabled to a leaf.
pub const OTHER: &str = "other racks";

/// One group of racks and what it holds, in fabric order of its first rack.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RackGroup {
    /// The scalable unit's name, the leaf group's name, or [`OTHER`].
    pub name: String,
    /// `scalable-unit`, `leaf-group` or `other` (every rack with no SU and no compute node
    /// cabled to a leaf).
    pub kind: &'static str,
    /// Its racks, in fabric order (names as in `power.racks`).
    pub racks: Vec<String>,
    pub nodes: usize,
    pub gpus: u32,
    /// GPUs per model, in model-name order.
    pub gpus_by_model: BTreeMap<String, u32>,
    pub budget_kw: f64,
    pub usable_kw: f64,
    pub it_kw: f64,
    pub facility_kw: f64,
    pub headroom_kw: f64,
    /// IT over usable, in percent, for the group as a whole.
    pub load_pct: f64,
    /// The highest rack load in the group, in percent.
    pub max_rack_load_pct: f64,
    pub racks_at_risk: Vec<String>,
    /// GPU-equivalents the plan uses in the group; `null` without a plan.
    pub in_use_gpu_equivalents: Option<f64>,
    /// GPUs of the group each tenant holds any part of (admitted workloads; a shared GPU
    /// counts for every tenant on it); empty without a plan.
    pub gpus_by_tenant: BTreeMap<String, u32>,
}

/// The group index of each rack and the groups' names and kinds, in fabric order.
pub fn assign(f: &Fabric, lv: &Levels) -> (Vec<usize>, Vec<(String, &'static str)>) {
    let mut index: BTreeMap<(u8, usize), usize> = BTreeMap::new();
    let mut names = Vec::new();
    let mut of_rack = Vec::with_capacity(f.racks.len());
    for rk in &f.racks {
        let leaf = rk
            .nodes
            .iter()
            .filter(|n| f.is_compute_node(**n))
            .find_map(|n| lv.node_group.get(n.index()).copied().flatten());
        let (key, name, kind) = match (rk.su, leaf) {
            (Some(su), _) => ((0, su.index()), f.sus[su.index()].clone(), "scalable-unit"),
            (None, Some(g)) => ((1, g), lv.tiers[0][g].name.clone(), "leaf-group"),
            (None, None) => ((2, 0), OTHER.to_string(), "other"),
        };
        let i = *index.entry(key).or_insert_with(|| {
            names.push((name, kind));
            names.len() - 1
        });
        of_rack.push(i);
    }
    (of_rack, names)
}

/// The groups with their power (summed from `power.racks`) and, with a plan, their use.
pub fn build(f: &Fabric, lv: &Levels, power: &Power, usage: Option<&Usage>) -> Vec<RackGroup> {
    let (of_rack, names) = assign(f, lv);
    let mut groups: Vec<RackGroup> = names
        .into_iter()
        .map(|(name, kind)| RackGroup {
            name,
            kind,
            racks: Vec::new(),
            nodes: 0,
            gpus: 0,
            gpus_by_model: BTreeMap::new(),
            budget_kw: 0.0,
            usable_kw: 0.0,
            it_kw: 0.0,
            facility_kw: 0.0,
            headroom_kw: 0.0,
            load_pct: 0.0,
            max_rack_load_pct: 0.0,
            racks_at_risk: Vec::new(),
            in_use_gpu_equivalents: usage.map(|_| 0.0),
            gpus_by_tenant: BTreeMap::new(),
        })
        .collect();
    let mut gpu_group = vec![usize::MAX; f.gpus.len()];
    for (ri, rk) in f.racks.iter().enumerate() {
        let g = &mut groups[of_rack[ri]];
        g.racks.push(rk.name.clone());
        for n in &rk.nodes {
            let t = f.template_of(*n);
            if f.is_compute_node(*n) {
                g.nodes += 1;
            }
            if t.gpus > 0 {
                g.gpus += t.gpus;
                *g.gpus_by_model.entry(t.gpu_model.clone()).or_default() += t.gpus;
                for gpu in f.node_gpus(*n) {
                    gpu_group[gpu.index()] = of_rack[ri];
                }
            }
        }
        if let Some(p) = power.racks.get(ri) {
            g.budget_kw += p.budget_kw;
            g.usable_kw += p.usable_kw;
            g.it_kw += p.it_kw;
            g.facility_kw += p.facility_kw;
            g.headroom_kw += p.headroom_kw;
            g.max_rack_load_pct = g.max_rack_load_pct.max(p.load_pct);
            if p.at_risk {
                g.racks_at_risk.push(p.rack.clone());
            }
        }
    }
    if let Some(u) = usage {
        for (gpu, used) in u.used.iter().enumerate() {
            if let Some(g) = groups.get_mut(gpu_group[gpu]) {
                *g.in_use_gpu_equivalents.get_or_insert(0.0) += used;
            }
        }
        // A workload may hold several instances of one GPU, and a tenant several workloads.
        let held: BTreeSet<(&str, GpuId)> = u
            .workloads
            .iter()
            .filter(|w| w.admitted)
            .flat_map(|w| w.gpus.iter().map(move |g| (w.tenant.as_str(), *g)))
            .collect();
        for (tenant, gpu) in held {
            if let Some(g) = groups.get_mut(gpu_group[gpu.index()]) {
                *g.gpus_by_tenant.entry(tenant.to_string()).or_default() += 1;
            }
        }
    }
    for g in &mut groups {
        g.budget_kw = r3(g.budget_kw);
        g.usable_kw = r3(g.usable_kw);
        g.it_kw = r3(g.it_kw);
        g.facility_kw = r3(g.facility_kw);
        g.headroom_kw = r3(g.headroom_kw);
        g.load_pct = if g.usable_kw > 0.0 {
            r2(100.0 * g.it_kw / g.usable_kw)
        } else {
            0.0
        };
        g.in_use_gpu_equivalents = g.in_use_gpu_equivalents.map(r3);
    }
    groups
}
