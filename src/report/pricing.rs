//! Pricing and TCO defaults, dated and sourced; every one can be overridden by a flag.
//!
//! From docs/sources.md §5 (May 2026 survey):
//! - On-demand $/GPU-h, specialist clouds: H100 SXM 2.50-3.50, H200 3.50-4.50; B200
//!   ~5.98-6.03 (RunPod, Spheron 2026); GB200 superchip (2 GPUs) ~9.08. Defaults take the
//!   midpoint (H100 3.00, H200 4.00, B200 6.00, GB200 9.08 / 2 = 4.54).
//! - Capex: HGX/DGX H100 node ~$200k list to $300-350k: $280k / 8 = $35,000 per GPU. No
//!   figure was found for H200, B200 or GB200 systems; their default scales the H100 figure
//!   by the cloud price ratio (an assumption, marked as such in the report).
//! - PUE 1.2-1.3 typical (1.10-1.15 hyperscale, 1.5-1.8 enterprise colo): 1.3.
//! - Electricity $0.04-0.18/kWh (US): $0.11.
//! - Depreciation: Microsoft and Alphabet 6 years, Meta 5.5, Amazon 5 for a subset (2025
//!   10-K): 5 years, the conservative end.
//! - Network (switches, optics, NICs) ~15-25 % of cluster cost (low confidence): 20 %.

pub const PRICING_AS_OF: &str = "2026-05";

pub const SOURCES: &[&str] = &[
    "docs/sources.md §5: on-demand $/GPU-h (May 2026, Mercatus; RunPod, Spheron), HGX H100 node capex, PUE, $/kWh, depreciation (10-K), network share",
    "docs/sources.md (c): $/GPU-h owned = (capex / (years x 8760) + opex / 8760) / (GPUs x utilization)",
];

const H100_CAPEX_USD_PER_GPU: f64 = 35_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub pue: f64,
    pub usd_per_kwh: f64,
    pub depreciation_years: f64,
    pub network_share: f64,
    pub capex_override: Option<f64>,
    pub cloud_override: Option<f64>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            pue: 1.3,
            usd_per_kwh: 0.11,
            depreciation_years: 5.0,
            network_share: 0.20,
            capex_override: None,
            cloud_override: None,
        }
    }
}

impl Pricing {
    /// Capex per GPU (compute only) and where it comes from.
    pub fn capex_usd_per_gpu(&self, model: &str) -> (Option<f64>, String) {
        if let Some(c) = self.capex_override {
            return (Some(c), "--capex-usd-per-gpu".into());
        }
        if model == "h100-80gb" {
            return (
                Some(H100_CAPEX_USD_PER_GPU),
                format!("HGX H100 node $280k / 8 ({PRICING_AS_OF})"),
            );
        }
        match (cloud(model), cloud("h100-80gb")) {
            (Some(c), Some(h)) => (
                Some((H100_CAPEX_USD_PER_GPU * c / h).round()),
                format!("assumption: H100 capex x cloud price ratio {c:.2}/{h:.2}"),
            ),
            _ => (None, "none: pass --capex-usd-per-gpu".into()),
        }
    }

    /// Default cloud price per GPU-hour and its source.
    pub fn cloud_usd_per_gpu_hour(&self, model: &str) -> (Option<f64>, String) {
        match cloud(model) {
            Some(c) => (
                Some(c),
                format!("on-demand specialist-cloud midpoint ({PRICING_AS_OF})"),
            ),
            None => (None, "none: pass --cloud-usd-per-gpu-hour".into()),
        }
    }
}

/// The list price per GPU-hour: the same dated table the demand's chargeback uses
/// (`crate::model::demand::DEFAULT_GPU_USD_PER_HOUR`, one ledger: docs/cost.md).
fn cloud(model: &str) -> Option<f64> {
    crate::model::demand::DEFAULT_GPU_USD_PER_HOUR
        .iter()
        .find(|(k, _)| *k == model)
        .map(|(_, p)| *p)
}
