//! Power totals: what each rack and scalable unit draws at most.

use crate::model::*;

/// Maximum IT load of each rack in kW: node maximum power plus the switches placed in it.
pub fn rack_load_kw(f: &Fabric) -> Vec<f64> {
    f.racks
        .iter()
        .map(|r| {
            let nodes: f64 = r.nodes.iter().map(|n| f.template_of(*n).power_kw).sum();
            let switches: f64 = r
                .switches
                .iter()
                .map(|s| f.switch_model(*s).power_w / 1000.0)
                .sum();
            nodes + switches
        })
        .collect()
}

/// Power of switches that sit in no rack, in kW.
pub fn unracked_switch_kw(f: &Fabric) -> f64 {
    f.switches
        .iter()
        .enumerate()
        .filter(|(_, s)| s.rack.is_none())
        .map(|(i, _)| f.switch_model(SwitchId::from_index(i)).power_w / 1000.0)
        .sum()
}

/// Combined TDP of a template's GPUs in kW, when the model is in the catalog.
pub fn gpu_tdp_kw(f: &Fabric, t: &NodeTemplate) -> Option<f64> {
    let m = f.gpu_model(&t.gpu_model)?;
    Some(m.tdp_w as f64 * t.gpus as f64 / 1000.0)
}
