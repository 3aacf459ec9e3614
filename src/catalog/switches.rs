//! Built-in switch models. A fabric file may add or override models in `switch_models:`.
//!
//! Port counts and speeds: NVIDIA Quantum-2 QM9700 (64 x 400G NDR in 32 OSFP cages, 51.2 Tb/s)
//! and Spectrum-4 SN5600 (64 x 800G, or 128 x 400G / 256 x 200G with breakout, 51.2 Tb/s),
//! as summarised in docs/sources.md §1. Power figures are the vendors' published
//! maximums as commonly quoted [S]; they are inputs for power totals, so a fabric that needs
//! exact figures overrides them in `switch_models:`.

use crate::model::SwitchModel;

/// The built-in models, sorted by name.
pub fn builtin_switch_models() -> Vec<SwitchModel> {
    vec![
        SwitchModel {
            name: "qm9700".into(),
            ports: 64,
            port_gbps: 400,
            breakout_gbps: 200,
            power_w: 1720.0,
        },
        SwitchModel {
            name: "qm9790".into(),
            ports: 64,
            port_gbps: 400,
            breakout_gbps: 200,
            power_w: 1720.0,
        },
        SwitchModel {
            name: "sn5600".into(),
            ports: 64,
            port_gbps: 800,
            breakout_gbps: 200,
            power_w: 2500.0,
        },
    ]
}
