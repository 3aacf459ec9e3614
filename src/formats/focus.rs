//! FinOps FOCUS cost and usage rows, out: one row per workload and GPU model (and one
//! `unallocated` row per GPU model for idle and stranded capacity) for one charge period.
//!
//! Conforms to FOCUS 1.2 by default: every Mandatory column, the Conditional and Recommended
//! columns that apply to an on-premises GPU fabric, and no column of a later release. With
//! [`FocusVersion::V1_3`] it adds 1.3's `ServiceProviderName` and `HostProviderName` (ProviderName
//! and PublisherName stay: mandatory though deprecated) and the split-allocation columns
//! (`Allocated*`), which carry the tenant and workload. Column lists and value rules:
//! FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, tag v1.2, `specification/columns/*.md`; 1.3:
//! the spec's main branch (2026).
//!
//! Money (`crate::model::cost`): `ListUnitPrice`/`ListCost` are the chargeback basis (list
//! price plus energy), `ContractedUnitPrice`/`ContractedCost`/`EffectiveCost`/`BilledCost`
//! the owned basis (depreciation plus energy), so a FinOps tool sees the owned cost and what
//! the tenants would be charged side by side.
//!
//! Rounding: the spec requires `ContractedUnitPrice x PricingQuantity == ContractedCost` (and
//! the same for list). Quantities are rounded to 0.001 GPU-hour and unit prices to 0.000001
//! USD first; the costs are then the exact decimal products (9 decimals), computed in
//! integers, so the identities hold exactly for any reader that multiplies decimals. A row's
//! cost can differ from the unrounded one by at most qty x 0.0000005 + price x 0.0005 USD.
//!
//! Written through the `csv` crate (quoting) and `serde_json` (the JSON columns), so a tenant
//! named `ba"tch` is escaped, never breaks a row.

use std::collections::BTreeMap;

use serde_json::json;

use crate::report::{AttributionRow, Report, UNALLOCATED};

/// The FOCUS release the rows conform to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusVersion {
    V1_2,
    V1_3,
}

/// FOCUS 1.2 columns written, in the spec's (alphabetical) order.
pub const COLUMNS_1_2: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
];

/// Columns FOCUS 1.3 adds to [`COLUMNS_1_2`], written after them.
pub const COLUMNS_1_3_ADDED: &[&str] = &[
    "AllocatedMethodDetails",
    "AllocatedMethodId",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
    "HostProviderName",
    "ServiceProviderName",
];

pub fn columns(v: FocusVersion) -> Vec<&'static str> {
    let mut c = COLUMNS_1_2.to_vec();
    if v == FocusVersion::V1_3 {
        c.extend_from_slice(COLUMNS_1_3_ADDED);
    }
    c
}

/// Who provides, publishes and invoices an on-premises fabric's GPU-hours: the platform
/// owner, not a cloud.
const PROVIDER: &str = "On-premises";
/// Prefix of fabplan's provider-defined tag keys (FOCUS Tags: provider-defined keys carry a
/// provider-specific prefix).
const TAG_PREFIX: &str = "fabplan/";

/// A non-negative decimal with a fixed number of decimals, held as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fixed {
    units: u128,
    scale: u32,
}

impl Fixed {
    fn round(x: f64, scale: u32) -> Fixed {
        let units = (x.max(0.0) * 10f64.powi(scale as i32)).round();
        Fixed {
            units: if units.is_finite() { units as u128 } else { 0 },
            scale,
        }
    }

    fn times(self, o: Fixed) -> Fixed {
        Fixed {
            units: self.units * o.units,
            scale: self.scale + o.scale,
        }
    }

    fn text(self) -> String {
        let p = 10u128.pow(self.scale);
        format!(
            "{}.{:0w$}",
            self.units / p,
            self.units % p,
            w = self.scale as usize
        )
    }
}

/// One FOCUS sheet: the header of `version`'s columns, then rows given as column -> value.
struct Sheet {
    cols: Vec<&'static str>,
    w: ::csv::Writer<Vec<u8>>,
}

impl Sheet {
    fn new(version: FocusVersion) -> Sheet {
        let cols = columns(version);
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&cols).expect("write to memory");
        Sheet { cols, w }
    }

    /// Writes one row; every column of the version must be set (extra 1.3 columns are
    /// ignored for 1.2).
    fn row(&mut self, cells: &BTreeMap<&str, String>) {
        let record: Vec<&str> = self
            .cols
            .iter()
            .map(|c| cells.get(c).map(String::as_str).expect("every column set"))
            .collect();
        self.w.write_record(&record).expect("write to memory");
    }

    fn finish(self) -> String {
        String::from_utf8(self.w.into_inner().expect("flush to memory"))
            .expect("utf-8 in, utf-8 out")
    }
}

/// The columns every fabplan row fills the same way: who bills (the fabric, as its own
/// provider), the periods, the service, and the resource and tenant the row is about.
fn common_cells(
    fabric: &str,
    period_start: &str,
    period_end: &str,
    resource: String,
    sku: &str,
    tenant: &str,
) -> BTreeMap<&'static str, String> {
    let mut cells: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut set = |k: &'static str, v: String| {
        cells.insert(k, v);
    };
    set("BillingAccountId", format!("fabplan-{fabric}"));
    set("BillingAccountName", fabric.to_string());
    set("BillingCurrency", "USD".into());
    set("BillingPeriodEnd", period_end.into());
    set("BillingPeriodStart", period_start.into());
    set("ChargeCategory", "Usage".into());
    // Null: not a correction.
    set("ChargeClass", String::new());
    set("ChargeFrequency", "Usage-Based".into());
    set("ChargePeriodEnd", period_end.into());
    set("ChargePeriodStart", period_start.into());
    set("ConsumedUnit", "GPU-Hours".into());
    set("InvoiceIssuerName", PROVIDER.into());
    set("PricingCategory", "Standard".into());
    set("ProviderName", PROVIDER.into());
    set("PublisherName", PROVIDER.into());
    set("ResourceId", resource.clone());
    set("ResourceName", resource);
    set("ResourceType", "GPU Cluster".into());
    set("ServiceCategory", "AI and Machine Learning".into());
    set("ServiceName", "GPU Fabric".into());
    set("SkuId", sku.to_string());
    set("SubAccountId", tenant.to_string());
    set("SubAccountName", tenant.to_string());
    set("HostProviderName", PROVIDER.into());
    set("ServiceProviderName", PROVIDER.into());
    cells
}

/// The rows as CSV, header first. `period_start`/`period_end` are RFC 3339 UTC
/// (`YYYY-MM-DDTHH:mm:ssZ`, checked by the caller) and bound both the billing and the
/// charge period; `hours` is its length. Rows whose GPU model has no owned cost (no capex
/// default) are left out: FOCUS costs must not be null.
pub fn csv(
    r: &Report,
    version: FocusVersion,
    period_start: &str,
    period_end: &str,
    hours: f64,
) -> String {
    let mut sheet = Sheet::new(version);
    let rows: Vec<AttributionRow> = match &r.attribution {
        Some(a) => a.rows.clone(),
        // Without a plan every GPU-hour is idle: one unallocated row per GPU model.
        None => r
            .cost
            .models
            .iter()
            .map(|m| AttributionRow {
                tenant: UNALLOCATED.into(),
                workload: "idle".into(),
                kind: "-".into(),
                gpu_model: m.model.clone(),
                gpu_equivalents: m.gpus as f64,
                usd_per_hour: m.owned_usd_per_hour.unwrap_or(0.0),
                chargeback_usd_per_hour: None,
            })
            .collect(),
    };
    for row in rows {
        let Some(m) = r.cost.models.iter().find(|m| m.model == row.gpu_model) else {
            continue;
        };
        let Some(owned_per_gpu_h) = m.owned_usd_per_hour.map(|o| o / m.gpus.max(1) as f64) else {
            continue;
        };
        // Without a list price the chargeback basis is the owned cost (documented in
        // docs/cost.md): ListCost must not be null.
        let list_per_gpu_h = m.chargeback_rate.unwrap_or(owned_per_gpu_h);
        let qty = Fixed::round(row.gpu_equivalents * hours, 3);
        let contracted_unit = Fixed::round(owned_per_gpu_h, 6);
        let list_unit = Fixed::round(list_per_gpu_h, 6);
        let contracted = qty.times(contracted_unit).text();
        let list = qty.times(list_unit).text();
        let resource = format!("{}/{}", r.fabric, m.model);
        let tags: BTreeMap<String, &str> = [
            ("fabric", r.fabric.as_str()),
            ("gpu_model", m.model.as_str()),
            ("kind", row.kind.as_str()),
            ("tenant", row.tenant.as_str()),
            ("workload", row.workload.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{TAG_PREFIX}{k}"), v))
        .collect();
        let mut cells = common_cells(
            &r.fabric,
            period_start,
            period_end,
            resource,
            &m.model,
            &row.tenant,
        );
        let mut set = |k: &'static str, v: String| {
            cells.insert(k, v);
        };
        set("BilledCost", contracted.clone());
        set(
            "ChargeDescription",
            format!(
                "{} GPU-hours of workload {} ({}); owned cost: depreciation + energy",
                m.model, row.workload, row.kind
            ),
        );
        set("ConsumedQuantity", qty.text());
        set("ContractedCost", contracted.clone());
        set("ContractedUnitPrice", contracted_unit.text());
        set("EffectiveCost", contracted);
        set("ListCost", list);
        set("ListUnitPrice", list_unit.text());
        set("PricingQuantity", qty.text());
        set("PricingUnit", "GPU-Hours".into());
        set("Tags", serde_json::to_string(&tags).expect("json"));
        set("AllocatedMethodId", "gpu-equivalents".into());
        set(
            "AllocatedMethodDetails",
            json!({
                "policy": "GPU-equivalents x owned $/GPU-h; idle and stranded capacity to unallocated",
                "gpu_equivalents": row.gpu_equivalents,
            })
            .to_string(),
        );
        set(
            "AllocatedResourceId",
            format!("{}/{}", row.tenant, row.workload),
        );
        set("AllocatedResourceName", row.workload.clone());
        set(
            "AllocatedTags",
            json!({
                "fabplan/kind": row.kind,
                "fabplan/tenant": row.tenant,
                "fabplan/workload": row.workload,
            })
            .to_string(),
        );
        sheet.row(&cells);
    }
    sheet.finish()
}

/// `fabplan meter`'s attribution as FOCUS rows, one per line. Each line's cost is already
/// exact integer cents that add up to the fleet's cost, so it is priced as one allocation:
/// `PricingQuantity` 1 (`PricingUnit` `Allocation`), unit price = cost, and the FOCUS
/// identity `UnitPrice x PricingQuantity == Cost` holds exactly; `ConsumedQuantity` is the
/// line's metered GPU-hours (prefill + KV fetch + decode). A line with network (KV transfer)
/// or context-storage cost gets a row for each, `ServiceCategory` `Networking` / `Storage`,
/// consumed in GB / GB-Hours. Tags carry every dimension (tenant, project, model, tool,
/// source) under the `fabplan/` prefix.
pub fn metered_csv(
    fabric: &str,
    a: &crate::meter::attribute::Attribution,
    version: FocusVersion,
    period_start: &str,
    period_end: &str,
) -> String {
    let mut sheet = Sheet::new(version);
    let cents = |c: u64| {
        Fixed {
            units: c as u128,
            scale: 2,
        }
        .text()
    };
    for l in &a.lines {
        let gpu_hours = Fixed::round(
            (l.prefill_gpu_seconds + l.kv_fetch_gpu_seconds + l.decode_gpu_seconds) / 3600.0,
            6,
        );
        // The GPU row, then network (KV transfer) and context storage when they cost
        // anything: (ServiceCategory, ServiceName, owned cents, list cents, consumed, unit).
        let mut parts = vec![(
            "AI and Machine Learning",
            "GPU Fabric",
            l.owned_cents,
            l.chargeback_cents,
            gpu_hours.text(),
            "GPU-Hours",
            "owned cost: depreciation + energy",
        )];
        if l.network_cents > 0 {
            parts.push((
                "Networking",
                "KV Transfer",
                l.network_cents,
                l.network_cents,
                Fixed::round(l.kv_transfer_gb, 6).text(),
                "GB",
                "KV cache moved over the network x $/GB",
            ));
        }
        if l.storage_cents > 0 {
            parts.push((
                "Storage",
                "Context Storage",
                l.storage_cents,
                l.storage_cents,
                Fixed::round(l.context_gb_hours, 6).text(),
                "GB-Hours",
                "KV cache held in priced context tiers x $/GB-h",
            ));
        }
        for (category, service, owned_c, list_c, consumed, unit, what) in parts {
            let owned = cents(owned_c);
            let list = cents(list_c);
            let tags: BTreeMap<String, &str> = [
                ("fabric", fabric),
                ("tenant", l.tenant.as_str()),
                ("project", l.project.as_str()),
                ("model", l.model.as_str()),
                ("tool", l.tool.as_str()),
                ("source", l.source),
            ]
            .into_iter()
            .map(|(k, v)| (format!("{TAG_PREFIX}{k}"), v))
            .collect();
            let resource = format!("{fabric}/{}/{}", l.tenant, l.model);
            let mut cells = common_cells(
                fabric,
                period_start,
                period_end,
                resource,
                &l.model,
                &l.tenant,
            );
            let mut set = |k: &'static str, v: String| {
                cells.insert(k, v);
            };
            set("ServiceCategory", category.into());
            set("ServiceName", service.into());
            set("ConsumedUnit", unit.into());
            set("BilledCost", owned.clone());
            set(
                "ChargeDescription",
                format!(
                    "fabplan meter, {} line: tenant {}, project {}, model {}, tool {}; {what}",
                    l.source, l.tenant, l.project, l.model, l.tool
                ),
            );
            set("ConsumedQuantity", consumed);
            set("ContractedCost", owned.clone());
            set("ContractedUnitPrice", owned.clone());
            set("EffectiveCost", owned.clone());
            set("ListCost", list.clone());
            set("ListUnitPrice", list);
            set("PricingQuantity", "1".into());
            set("PricingUnit", "Allocation".into());
            set("Tags", serde_json::to_string(&tags).expect("json"));
            set(
                "AllocatedMethodId",
                format!("metered-{:?}", a.idle_rule).to_lowercase(),
            );
            set(
                "AllocatedMethodDetails",
                json!({
                    "policy": "GPU-seconds (prefill compute bound, decode roofline) x $/GPU-h; idle by the named rule; KV transfer and context storage metered; integer cents reconciled to the fleet",
                    "idle_rule": a.idle_rule,
                    "requests": l.requests,
                    "input_tokens": l.input_tokens,
                    "output_tokens": l.output_tokens,
                })
                .to_string(),
            );
            set(
                "AllocatedResourceId",
                format!("{}/{}/{}/{}", l.tenant, l.project, l.model, l.tool),
            );
            set("AllocatedResourceName", l.project.clone());
            set("AllocatedTags", serde_json::to_string(&tags).expect("json"));
            sheet.row(&cells);
        }
    }
    sheet.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_products_are_exact() {
        let q = Fixed::round(24.0, 3);
        let p = Fixed::round(1.186_917_8, 6);
        assert_eq!(p.text(), "1.186918");
        assert_eq!(q.times(p).text(), "28.486032000");
        assert_eq!(Fixed::round(0.0, 3).text(), "0.000");
        assert_eq!(Fixed::round(-1.0, 3).text(), "0.000");
    }

    #[test]
    fn columns_per_version() {
        assert!(!columns(FocusVersion::V1_2).contains(&"HostProviderName"));
        assert!(columns(FocusVersion::V1_3).contains(&"HostProviderName"));
    }
}
