//! The one cost ledger: every dollar figure fabplan prints is one of two named bases, and
//! each basis is computed here, once, for the planner, the report and the FOCUS export.
//!
//! - **Chargeback** (list basis): what a tenant is charged for a GPU-hour, the list price of
//!   the GPU-hour (the on-demand price a tenant would otherwise pay: `pricing.gpu_usd_per_hour`
//!   in the demand, else the node template's `price_usd_per_hour / gpus`, else the dated
//!   default in [`crate::model::demand::DEFAULT_GPU_USD_PER_HOUR`]) plus the energy the GPU
//!   draws (its node's kW / GPUs x PUE x $/kWh). Tenant budgets (`budget_usd_per_hour`), the
//!   plan's `cost_per_hour`, the report's chargeback columns and FOCUS `ListUnitPrice` /
//!   `ListCost` are on this basis.
//! - **Owned**: what the GPU-hour costs the platform owner, depreciation of the capex
//!   (GPU capex / (1 - network share) over the depreciation years) plus energy at maximum IT
//!   power x PUE. The report's owned columns and FOCUS `ContractedUnitPrice`,
//!   `ContractedCost`, `EffectiveCost` and `BilledCost` are on this basis.
//!
//! The same tenant on the same basis costs the same everywhere: `fabplan report --plan P
//! --demand D` charges each tenant the chargeback the plan computed for it (tests/report.rs).
//! See docs/cost.md.

/// Energy, USD per hour, of `eq` GPU-equivalents drawing `gpu_kw` each at `pue` and
/// `usd_per_kwh`.
pub fn energy_usd_per_hour(eq: f64, gpu_kw: f64, pue: f64, usd_per_kwh: f64) -> f64 {
    eq * gpu_kw * pue * usd_per_kwh
}

/// Chargeback, USD per hour, of `eq` GPU-equivalents: list price plus energy.
pub fn chargeback_usd_per_hour(
    eq: f64,
    list_usd_per_gpu_hour: f64,
    gpu_kw: f64,
    pue: f64,
    usd_per_kwh: f64,
) -> f64 {
    eq * list_usd_per_gpu_hour + energy_usd_per_hour(eq, gpu_kw, pue, usd_per_kwh)
}

/// Depreciation, USD per hour, of `gpus` GPUs of capex `capex_usd_per_gpu` each, the network
/// adding `network_share` of the cluster cost, over `years`.
pub fn depreciation_usd_per_hour(
    capex_usd_per_gpu: f64,
    gpus: f64,
    network_share: f64,
    years: f64,
) -> f64 {
    capex_usd_per_gpu * gpus / (1.0 - network_share) / (years * HOURS_PER_YEAR)
}

pub const HOURS_PER_YEAR: f64 = 8760.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chargeback_is_list_plus_energy() {
        // H100: $3.00 list, 10.2 kW / 8 GPUs, PUE 1.2, $0.10/kWh: 3.00 + 0.153 = $3.153.
        let c = chargeback_usd_per_hour(1.0, 3.0, 10.2 / 8.0, 1.2, 0.10);
        assert!((c - 3.153).abs() < 1e-12, "{c}");
        assert_eq!(chargeback_usd_per_hour(0.0, 3.0, 1.0, 1.2, 0.1), 0.0);
    }

    #[test]
    fn depreciation_spreads_capex_over_the_years() {
        // $35,000 per GPU, 20 % network, 5 years: 35000 / 0.8 / 43800 = $0.99886/h.
        let d = depreciation_usd_per_hour(35_000.0, 1.0, 0.2, 5.0);
        assert!((d - 35_000.0 / 0.8 / 43_800.0).abs() < 1e-12);
    }
}
