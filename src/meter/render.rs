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
        "\n{:<14} {:<16} {:<16} {:<12} {:<9} {:>9} {:>12} {:>12} {:>11} {:>11} {:>13} {:>13}",
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
        "chargeback $"
    );
    for l in &a.lines {
        let _ = writeln!(
            s,
            "{:<14} {:<16} {:<16} {:<12} {:<9} {:>9} {:>12} {:>12} {:>11.3} {:>11.3} {:>13} {:>13}",
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
            dollars(l.chargeback_cents)
        );
    }
    let _ = writeln!(s, "\nReconciliation (integer cents):");
    let _ = writeln!(
        s,
        "  owned:      attributed {} + idle {} = {} = fleet {}",
        dollars(t.attributed_owned_cents),
        dollars(t.idle_owned_cents),
        dollars(t.attributed_owned_cents + t.idle_owned_cents),
        dollars(t.fleet_owned_cents)
    );
    let _ = writeln!(
        s,
        "  chargeback: attributed {} + idle {} = {} = fleet {}",
        dollars(t.attributed_chargeback_cents),
        dollars(t.idle_chargeback_cents),
        dollars(t.attributed_chargeback_cents + t.idle_chargeback_cents),
        dollars(t.fleet_chargeback_cents)
    );
    s
}
