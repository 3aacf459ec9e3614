//! A demand's arrival and duration fields (`workloads[].arrival`, `workloads[].duration`,
//! docs/demand-format.md): when a workload arrives and how long it runs, for `fabplan replay
//! --demand` (issue 9: "a demand file with arrival and duration fields"). `plan` and the
//! other commands ignore them beyond these checks.
//!
//! `arrival` is seconds since the trace start (a whole number at or above 0) or an RFC 3339
//! time (`2026-12-01T09:30:00Z`, `2026-12-01T10:30:00+01:00`; a fraction of a second is
//! dropped); one file uses one of the two forms. `duration` is whole seconds above 0, or a
//! number with a unit `s`, `m`, `h` or `d` (`90m`, `1.5h`), rounded to the second.
//! Problems: FP987 (a value that is not a time or a duration), FP988 (seconds and RFC 3339
//! times mixed in one file), each at the value with a help line.

use serde_saphyr::Spanned;

use crate::diag::Diagnostic;
use crate::schema::demand::{RawDemand, RawTime};
use crate::source::known_span_of;

/// A workload's arrival (seconds: since the trace start, or Unix seconds for RFC 3339
/// times) and run time in seconds, each when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    pub arrival_s: Option<u64>,
    pub duration_s: Option<u64>,
}

/// The largest value taken (seconds): about 31,700 years, far past any trace, and small
/// enough that sums of arrival and duration stay exact in `u64` and `f64`.
const MAX_S: f64 = 1e12;

/// RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)` as Unix seconds (at or after 1970).
fn rfc3339(text: &str) -> Option<u64> {
    let t = text.trim();
    let (base, offset_s) = if let Some(b) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        (b, 0i64)
    } else {
        let cut = t.len().checked_sub(6)?;
        let (b, off) = t.split_at(cut);
        let ob = off.as_bytes();
        if !(ob[0] == b'+' || ob[0] == b'-') || ob[3] != b':' {
            return None;
        }
        let h: i64 = off[1..3].parse().ok()?;
        let m: i64 = off[4..6].parse().ok()?;
        if h > 23
            || m > 59
            || !off[1..3]
                .bytes()
                .chain(off[4..6].bytes())
                .all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let sign = if ob[0] == b'+' { 1 } else { -1 };
        (b, sign * (h * 3600 + m * 60))
    };
    // RFC 3339 needs the `T` (or a space, section 5.6 note) and a zone; the rest is the
    // one timestamp parser of the crate.
    if base.len() < 19 || !matches!(base.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    let mut b = base.to_string();
    b.replace_range(10..11, "T");
    let unix = crate::util::parse_timestamp(&b)?.floor() as i64 - offset_s;
    u64::try_from(unix).ok()
}

/// A duration text: a number and a unit.
fn duration_text(text: &str) -> Option<f64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.trim().parse().ok()?;
    let scale = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    Some(n * scale)
}

fn bad(
    code: &'static str,
    name: &str,
    field: &str,
    v: &Spanned<RawTime>,
    msg: &str,
    help: &str,
) -> Diagnostic {
    Diagnostic::error(code, format!("workload `{name}`: `{field}` {msg}"))
        .at_opt(known_span_of(v), "here")
        .help(help)
}

/// The timing of every workload of `raw`, in file order, and every problem found (FP987,
/// FP988). A workload with neither field has `Timing::default()`.
pub fn timings(raw: &RawDemand) -> (Vec<Timing>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = Vec::with_capacity(raw.workloads.len());
    // The first arrival's form (RFC 3339 or not) and where it is written.
    let mut form: Option<(bool, &Spanned<RawTime>)> = None;
    for w in &raw.workloads {
        let name = w.name.value.as_str();
        let mut t = Timing::default();
        if let Some(a) = &w.arrival {
            let (is_time, value) = match &a.value {
                RawTime::Seconds(s) => (
                    false,
                    (s.is_finite() && *s >= 0.0 && s.fract() == 0.0 && *s <= MAX_S)
                        .then_some(*s as u64),
                ),
                RawTime::Text(text) => (true, rfc3339(text)),
            };
            match value {
                None => diags.push(bad(
                    "FP987",
                    name,
                    "arrival",
                    a,
                    "is not a time",
                    "give whole seconds since the trace start (`3600`) or an RFC 3339 time (`2026-12-01T09:30:00Z`)",
                )),
                Some(v) => {
                    match form {
                        Some((f, first)) if f != is_time => diags.push(
                            bad(
                                "FP988",
                                name,
                                "arrival",
                                a,
                                if is_time {
                                    "is an RFC 3339 time where earlier arrivals are seconds"
                                } else {
                                    "is seconds where earlier arrivals are RFC 3339 times"
                                },
                                "write every `arrival` of the file in one form: seconds since the trace start, or RFC 3339 times",
                            )
                            .also_at_opt(known_span_of(first), "the first arrival"),
                        ),
                        Some(_) => {}
                        None => form = Some((is_time, a)),
                    }
                    t.arrival_s = Some(v);
                }
            }
        }
        if let Some(d) = &w.duration {
            let s = match &d.value {
                RawTime::Seconds(s) => (s.fract() == 0.0).then_some(*s),
                RawTime::Text(text) => duration_text(text).map(f64::round),
            };
            match s.filter(|s| s.is_finite() && *s >= 1.0 && *s <= MAX_S) {
                Some(s) => t.duration_s = Some(s as u64),
                None => diags.push(bad(
                    "FP987",
                    name,
                    "duration",
                    d,
                    "is not a duration of at least one second",
                    "give whole seconds (`5400`) or a number with a unit s, m, h or d (`90m`, `1.5h`)",
                )),
            }
        }
        out.push(t);
    }
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_with_zones() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(rfc3339("1970-01-01T00:00:00-00:30"), Some(1800));
        assert_eq!(rfc3339("2026-12-01T09:30:00.75Z"), Some(1_796_117_400));
        assert_eq!(rfc3339("2026-12-01T09:30:00"), None, "a zone is required");
        assert_eq!(rfc3339("1969-12-31T23:59:59Z"), None, "before 1970");
        assert_eq!(rfc3339("2026-13-01T09:30:00Z"), None);
    }

    #[test]
    fn durations_with_units() {
        assert_eq!(duration_text("90m"), Some(5400.0));
        assert_eq!(duration_text("1.5h"), Some(5400.0));
        assert_eq!(duration_text("2 d"), Some(172_800.0));
        assert_eq!(duration_text("10"), None);
        assert_eq!(duration_text("10w"), None);
    }
}
