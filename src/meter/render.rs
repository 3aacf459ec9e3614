//! Human rendering of an attribution (the JSON is its serde form).

use std::fmt::Write;

use super::attribute::Attribution;

/// Cents as dollars, `1234` -> `12.34`.
pub fn dollars(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The rejected-records count, by code: always printed (stderr), even when zero.
pub fn summary_line(a: &Attribution) -> String {
    let total: u64 = a.rejected.values().sum();
    let by: Vec<String> = a.rejected.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!(
        "meter: {} records attributed, {} rejected{}",
        a.records,
        total,
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        }
    )
}

pub fn human(a: &Attribution) -> String {
    let mut s = String::new();
    let t = &a.totals;
    let _ = writeln!(
        s,
        "Metered attribution over {:.3} h (idle rule: {:?}, prefill MFU {})",
        a.hours, a.idle_rule, a.mfu
    );
    let _ = writeln!(s, "{}", summary_line(a));
    let _ = writeln!(s, "\nServing deployments (roofline inputs):");
    for d in &a.deployments {
        let _ = writeln!(
            s,
            "  {} -> {} on {} ({:.3} GPU-eq, {} replicas, {} B params x {} B, batch {}, {} TB/s, {} dense TFLOPS)",
            d.model, d.workload, d.gpu_model, d.gpu_equivalents, d.replicas, d.params_billion, d.bytes_per_param, d.batch, d.hbm_tbps, d.dense_tflops
        );
    }
    let _ = writeln!(
        s,
        "\n{:<14} {:<16} {:<16} {:<12} {:<9} {:>9} {:>12} {:>12} {:>11} {:>11} {:>13} {:>13} {:>10} {:>10}",
        "tenant",
        "project",
        "model",
        "tool",
        "source",
        "requests",
        "input tok",
        "output tok",
        "prefill s",
        "decode s",
        "owned $",
        "chargeback $",
        "network $",
        "storage $"
    );
    for l in &a.lines {
        let _ = writeln!(
            s,
            "{:<14} {:<16} {:<16} {:<12} {:<9} {:>9} {:>12} {:>12} {:>11.3} {:>11.3} {:>13} {:>13} {:>10} {:>10}",
            l.tenant,
            l.project,
            l.model,
            l.tool,
            l.source,
            l.requests,
            l.input_tokens,
            l.output_tokens,
            l.prefill_gpu_seconds,
            l.decode_gpu_seconds,
            dollars(l.owned_cents),
            dollars(l.chargeback_cents),
            dollars(l.network_cents),
            dollars(l.storage_cents)
        );
    }
    context(&mut s, a);
    let _ = writeln!(s, "\nReconciliation (integer cents):");
    for (basis, attributed, idle, fleet) in [
        (
            "owned:     ",
            t.attributed_owned_cents,
            t.idle_owned_cents,
            t.fleet_owned_cents,
        ),
        (
            "chargeback:",
            t.attributed_chargeback_cents,
            t.idle_chargeback_cents,
            t.fleet_chargeback_cents,
        ),
    ] {
        let _ = writeln!(
            s,
            "  {basis} attributed {} + idle {} = {} = fleet {}",
            dollars(attributed),
            dollars(idle),
            dollars(attributed + idle),
            dollars(fleet)
        );
    }
    let _ = writeln!(
        s,
        "  network (KV transfer) {} + context storage {}: metered, all attributed",
        dollars(t.network_cents),
        dollars(t.storage_cents)
    );
    let _ = writeln!(
        s,
        "  total: owned {} / chargeback {} (GPUs + network + storage)",
        dollars(t.total_owned_cents),
        dollars(t.total_chargeback_cents)
    );
    s
}

/// The context-tier table of each deployment: hit rate, where its KV lives, fetch or
/// recompute, and what placement does to decode tokens/s and $/Mtok.
fn context(s: &mut String, a: &Attribution) {
    if a.context.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nContext tiers (docs/meter.md, \"Context\"):");
    for c in &a.context {
        let _ = writeln!(
            s,
            "  {} ({}): prefix cache {}, hit rate {:.1} % ({} of {} prompt tokens); in-flight KV {:.3} GB, prefix cache {:.3} GB; deepest tier {}",
            c.model,
            c.workload,
            c.cache_model,
            c.hit_rate * 100.0,
            c.cached_tokens,
            c.input_tokens,
            c.active_kv_gb,
            c.prefix_cache_gb,
            c.deepest_tier.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            s,
            "    {:<10} {:>12} {:>10} {:>12} {:>12} {:>12} {:>10}",
            "tier",
            "capacity GB",
            "read GB/s",
            "$/GB-month",
            "in-flight GB",
            "cache GB",
            "cached by"
        );
        for t in &c.tiers {
            let _ = writeln!(
                s,
                "    {:<10} {:>12.3} {:>10.1} {:>12.4} {:>12.3} {:>12.3} {:>10}",
                t.tier,
                t.capacity_gb,
                t.read_gb_per_s,
                t.usd_per_gb_hour * crate::report::tokens::HOURS_PER_MONTH,
                t.active_gb,
                t.cache_gb,
                t.cached_tokens_by
            );
        }
        if c.unplaced_gb > 0.0 {
            let _ = writeln!(
                s,
                "    beyond every tier: {:.3} GB (recomputed)",
                c.unplaced_gb
            );
        }
        let _ = writeln!(
            s,
            "    GPU-s per cached token {:.3e} vs {:.3e} to prefill it: {:.3} prefill GPU-s saved; decode {:.1} tok/s per replica all in HBM, {:.1} as placed ({}); KV transfer {:.3} GB, priced context {:.3} GB-h",
            c.cached_token_gpu_seconds,
            c.prefill_token_gpu_seconds,
            c.prefill_gpu_seconds_saved,
            c.decode_tokens_per_s_hbm,
            c.decode_tokens_per_s_placed,
            c.usd_per_million_tokens_placed
                .map(|u| format!("${u:.3}/Mtok owned"))
                .unwrap_or_else(|| "no $/Mtok".into()),
            c.kv_transfer_gb,
            c.storage_gb_hours
        );
    }
}
