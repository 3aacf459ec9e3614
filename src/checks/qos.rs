//! Lossless Ethernet (RoCEv2): PFC, ECN, DSCP, CNP, MTU, headroom, watchdog, ECMP.
//! Thresholds are checked as relations (ECN below PFC, Kmax against BDP), not fixed bytes:
//! Cumulus notes that a RoCE profile for one ASIC does not carry to another.

use std::collections::BTreeSet;

use super::{diag, Ctx};
use crate::diag::Diagnostic;
use crate::model::*;

/// The lossless settings of a RoCE fabric, if the checks apply.
fn roce(f: &Fabric) -> Option<&Lossless> {
    if f.transport == Transport::Roce {
        f.lossless.as_ref()
    } else {
        None
    }
}

pub fn missing(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    if f.transport == Transport::Roce && f.lossless.is_none() && !f.links.is_empty() {
        out.push(
            diag("FP601", format!("RoCE fabric `{}` has no `lossless:` settings", f.name))
                .on(Entity::Fabric, None, "this fabric")
                .help("describe PFC, ECN, DSCP, CNP, MTU and the watchdog under `lossless:` (see fabrics/hgx-h200-roce-1k.yaml)"),
        );
    }
}

fn list(p: &[u8]) -> String {
    let v: Vec<String> = p.iter().map(|x| x.to_string()).collect();
    format!("[{}]", v.join(", "))
}

pub fn pfc_priority(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    let roce_prio = l.nic.roce_priority;
    if !l.switch.pfc_priorities.contains(&roce_prio) {
        out.push(
            diag(
                "FP602",
                format!(
                    "PFC is on priorities {} but RoCE runs on priority {roce_prio}",
                    list(&l.switch.pfc_priorities)
                ),
            )
            .on(
                Entity::Lossless,
                Some("pfc_priorities"),
                "switch PFC priorities",
            )
            .also(Entity::Lossless, Some("nic.roce_priority"), "RoCE priority")
            .help(format!(
                "enable PFC on priority {roce_prio} (`pfc_priorities: [{roce_prio}]`)"
            )),
        );
    }
    let sw: BTreeSet<u8> = l.switch.pfc_priorities.iter().copied().collect();
    let nic: BTreeSet<u8> = l.nic.pfc_priorities.iter().copied().collect();
    if sw != nic {
        out.push(
            diag(
                "FP602",
                format!(
                    "switches enable PFC on {} but NICs on {}",
                    list(&l.switch.pfc_priorities),
                    list(&l.nic.pfc_priorities)
                ),
            )
            .on(
                Entity::Lossless,
                Some("nic.pfc_priorities"),
                "NIC PFC priorities",
            )
            .also(
                Entity::Lossless,
                Some("pfc_priorities"),
                "switch PFC priorities",
            )
            .help("enable the same PFC priorities on NICs and switches, end to end"),
        );
    }
    for o in &l.overrides {
        if let Some(p) = &o.pfc_priorities {
            if !o.lossy && !p.contains(&roce_prio) {
                out.push(
                    diag("FP602", format!("override on `{}` turns PFC off for RoCE priority {roce_prio}", ctx.fabric.switches[o.switch.index()].name))
                        .on(Entity::PortOverride(o.origin), Some("pfc_priorities"), "PFC priorities here")
                        .help("keep the RoCE priority lossless on every compute port, or mark the port `lossy: true` if it carries no RoCE"),
                );
            }
        }
    }
}

pub fn lossless_count(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    if l.switch.pfc_priorities.len() > 2 {
        out.push(
            diag(
                "FP603",
                format!(
                    "{} no-drop priorities {}; keep one, at most two",
                    l.switch.pfc_priorities.len(),
                    list(&l.switch.pfc_priorities)
                ),
            )
            .on(Entity::Lossless, Some("pfc_priorities"), "PFC priorities")
            .help("enable PFC only on the RoCE priority"),
        );
    }
}

pub fn dscp_map(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    let map = &l.switch.dscp_to_priority;
    let (dscp, prio) = (l.nic.roce_dscp, l.nic.roce_priority);
    match map.get(&dscp) {
        Some(p) if *p == prio => {}
        got => out.push(
            diag("FP604", format!("NICs mark RoCE with DSCP {dscp} (priority {prio}) but switches map DSCP {dscp} to {}", got.map(|p| format!("priority {p}")).unwrap_or_else(|| "no priority".into())))
                .on(Entity::Lossless, Some("dscp_to_priority"), "switch DSCP map")
                .also(Entity::Lossless, Some("nic.roce_dscp"), "NIC RoCE DSCP")
                .help(format!("map DSCP {dscp} to priority {prio} on the switches (`dscp_to_priority: {{{dscp}: {prio}}}`)")),
        ),
    }
    if let Some(cnp) = l.switch.cnp {
        if cnp.dscp != l.nic.cnp_dscp {
            out.push(
                diag(
                    "FP604",
                    format!(
                        "NICs send CNPs with DSCP {} but the switch CNP class expects DSCP {}",
                        l.nic.cnp_dscp, cnp.dscp
                    ),
                )
                .on(Entity::Lossless, Some("nic.cnp_dscp"), "NIC CNP DSCP")
                .also(Entity::Lossless, Some("cnp"), "switch CNP class")
                .help("use one CNP DSCP (48 by convention) on NICs and switches"),
            );
        } else if map.get(&cnp.dscp) != Some(&cnp.priority) {
            out.push(
                diag(
                    "FP604",
                    format!(
                        "the switch maps CNP DSCP {} to {} instead of CNP priority {}",
                        cnp.dscp,
                        map.get(&cnp.dscp)
                            .map(|p| format!("priority {p}"))
                            .unwrap_or_else(|| "no priority".into()),
                        cnp.priority
                    ),
                )
                .on(
                    Entity::Lossless,
                    Some("dscp_to_priority"),
                    "switch DSCP map",
                )
                .help(format!(
                    "map DSCP {} to priority {}",
                    cnp.dscp, cnp.priority
                )),
            );
        }
    }
}

pub fn cnp_strict(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    match l.switch.cnp {
        None => out.push(
            diag("FP605", "no CNP class is configured")
                .on(Entity::Lossless, Some("switch"), "switch settings")
                .help("add `cnp: {dscp: 48, priority: 6, strict: true}`"),
        ),
        Some(c) if !c.strict => out.push(
            diag(
                "FP605",
                format!(
                    "the CNP class (priority {}) is not strict priority",
                    c.priority
                ),
            )
            .on(Entity::Lossless, Some("cnp.strict"), "not strict")
            .help("schedule CNPs strict priority (`strict: true`)"),
        ),
        Some(c) if c.priority == l.nic.roce_priority => out.push(
            diag(
                "FP605",
                format!("CNPs share priority {} with RoCE data", c.priority),
            )
            .on(Entity::Lossless, Some("cnp"), "CNP class")
            .help("give CNPs their own priority (6 or 7)"),
        ),
        Some(_) => {}
    }
}

pub fn ecn(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    match l.switch.ecn {
        None => out.push(
            diag("FP606", "ECN marking is not configured")
                .on(Entity::Lossless, Some("switch"), "switch settings")
                .help("add `ecn: {priority: 3, kmin_bytes: 150000, kmax_bytes: 1500000}` (Spectrum defaults)"),
        ),
        Some(e) if e.priority != l.nic.roce_priority => out.push(
            diag("FP606", format!("ECN marks priority {} but RoCE runs on priority {}", e.priority, l.nic.roce_priority))
                .on(Entity::Lossless, Some("ecn"), "ECN priority")
                .help(format!("mark ECN on priority {}", l.nic.roce_priority)),
        ),
        Some(e) if e.kmin_bytes == 0 || e.kmin_bytes >= e.kmax_bytes => out.push(
            diag("FP606", format!("ECN thresholds need 0 < Kmin < Kmax, got Kmin {} B and Kmax {} B", e.kmin_bytes, e.kmax_bytes))
                .on(Entity::Lossless, Some("ecn.kmin_bytes"), "Kmin")
                .also(Entity::Lossless, Some("ecn.kmax_bytes"), "Kmax")
                .help("use Kmin below Kmax, e.g. 150 KB and 1.5 MB"),
        ),
        Some(_) => {}
    }
}

/// Fastest link speed in Gb/s on the fabric's switches.
fn fastest_gbps(f: &Fabric) -> u32 {
    f.links.iter().map(|l| l.gbps).max().unwrap_or(0)
}

pub fn ecn_kmax_bdp(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let Some(l) = roce(f) else { return };
    let Some(e) = l.switch.ecn else { return };
    let gbps = fastest_gbps(f);
    // BDP in bytes: RTT (us) x rate (Gb/s) x 1000 / 8.
    let bdp = l.switch.rtt_us * gbps as f64 * 1000.0 / 8.0;
    if gbps > 0 && e.kmax_bytes as f64 > 3.0 * bdp {
        out.push(
            diag(
                "FP607",
                format!(
                    "ECN Kmax {} B is above 3 x BDP ({:.0} B at {gbps}G and {} us RTT)",
                    e.kmax_bytes,
                    3.0 * bdp,
                    l.switch.rtt_us
                ),
            )
            .on(Entity::Lossless, Some("ecn.kmax_bytes"), "Kmax")
            .help("lower Kmax to 2-3 x BDP, or set `rtt_us` to the fabric's measured RTT"),
        );
    }
}

pub fn ecn_before_pfc(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    let (Some(e), Some(xoff)) = (l.switch.ecn, l.switch.pfc_xoff_bytes) else {
        return;
    };
    let (which, value, field) = if e.kmin_bytes >= xoff {
        ("Kmin", e.kmin_bytes, "ecn.kmin_bytes")
    } else if e.kmax_bytes > xoff {
        ("Kmax", e.kmax_bytes, "ecn.kmax_bytes")
    } else {
        return;
    };
    out.push(
        diag("FP608", format!("ECN {which} {value} B is not below the PFC xoff threshold {xoff} B"))
            .on(Entity::Lossless, Some(field), which)
            .also(Entity::Lossless, Some("pfc_xoff_bytes"), "PFC xoff")
            .help("set ECN thresholds below the PFC xoff level so DCQCN slows senders before pause frames"),
    );
}

pub fn watchdog(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    match l.switch.watchdog {
        None => out.push(
            diag(
                "FP609",
                "no PFC watchdog is configured on the lossless ports",
            )
            .on(Entity::Lossless, Some("switch"), "switch settings")
            .help("add `watchdog: {detect_ms: 200, restore_ms: 400}`"),
        ),
        Some(w) if !(100..=5000).contains(&w.detect_ms) => out.push(
            diag(
                "FP609",
                format!(
                    "PFC watchdog detection {} ms is outside 100-5000 ms",
                    w.detect_ms
                ),
            )
            .on(Entity::Lossless, Some("watchdog"), "watchdog")
            .help("use a detection time between 100 and 5000 ms (200 ms is common)"),
        ),
        Some(_) => {}
    }
    for o in &l.overrides {
        if o.watchdog == Some(None) && !o.lossy {
            out.push(
                diag(
                    "FP609",
                    format!(
                        "override turns the PFC watchdog off on lossless port(s) of `{}`",
                        ctx.fabric.switches[o.switch.index()].name
                    ),
                )
                .on(Entity::PortOverride(o.origin), None, "watchdog off")
                .help("keep the watchdog on every lossless port"),
            );
        }
    }
}

pub fn watchdog_timing(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    if let Some(w) = l.switch.watchdog {
        if !(50..=200).contains(&w.detect_ms) {
            out.push(
                diag(
                    "FP610",
                    format!(
                        "PFC watchdog detection is {} ms; practice is 50-200 ms",
                        w.detect_ms
                    ),
                )
                .on(Entity::Lossless, Some("watchdog"), "watchdog")
                .help("200 ms (Meta) or 100 ms (Cisco default) stop storms before they spread"),
            );
        }
    }
}

pub fn pfc_on_lossy(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    let extra: Vec<u8> = l
        .switch
        .pfc_priorities
        .iter()
        .copied()
        .filter(|p| *p != l.nic.roce_priority)
        .collect();
    if !extra.is_empty() {
        let cnp = l.switch.cnp.map(|c| c.priority);
        let what = if extra.iter().any(|p| Some(*p) == cnp) {
            " (including the CNP class)"
        } else {
            ""
        };
        out.push(
            diag(
                "FP611",
                format!(
                    "PFC is on priorities {} that carry no RoCE{what}",
                    list(&extra)
                ),
            )
            .on(Entity::Lossless, Some("pfc_priorities"), "PFC priorities")
            .help(format!(
                "enable PFC only on the RoCE priority {}",
                l.nic.roce_priority
            )),
        );
    }
    for o in &l.overrides {
        let pfc_on = o
            .pfc_priorities
            .as_ref()
            .map(|p| !p.is_empty())
            .unwrap_or(!l.switch.pfc_priorities.is_empty());
        if o.lossy && pfc_on {
            out.push(
                diag("FP611", format!("port(s) of `{}` marked lossy still have PFC on", ctx.fabric.switches[o.switch.index()].name))
                    .on(Entity::PortOverride(o.origin), None, "lossy port")
                    .help("set `pfc_priorities: []` and turn the watchdog off on ports that carry no RoCE"),
            );
        }
    }
}

/// Bytes of RoCE headers a netdev MTU must hold beyond the RoCE MTU (Ethernet, IP, UDP, BTH
/// and ICRC; Linux rxe computes the RoCE MTU as the netdev MTU minus its maximum header).
const ROCE_HEADER_BYTES: u32 = 80;

pub fn mtu(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(l) = roce(ctx.fabric) else { return };
    if l.switch.mtu < l.nic.mtu {
        out.push(
            diag(
                "FP612",
                format!(
                    "switch MTU {} is below host MTU {}",
                    l.switch.mtu, l.nic.mtu
                ),
            )
            .on(Entity::Lossless, Some("mtu"), "switch MTU")
            .also(Entity::Lossless, Some("nic.mtu"), "host MTU")
            .help("use switch MTU 9216 with host MTU 9000"),
        );
    }
    if l.nic.mtu < l.nic.roce_mtu + ROCE_HEADER_BYTES {
        out.push(
            diag(
                "FP612",
                format!(
                    "host MTU {} cannot carry RoCE MTU {} (needs at least {})",
                    l.nic.mtu,
                    l.nic.roce_mtu,
                    l.nic.roce_mtu + ROCE_HEADER_BYTES
                ),
            )
            .on(Entity::Lossless, Some("nic.mtu"), "host MTU")
            .help("raise the host MTU to 9000 (a 1500-byte netdev gives RoCE MTU 1024)"),
        );
    }
    for o in &l.overrides {
        if let Some(m) = o.mtu {
            if !o.lossy && m < l.nic.mtu {
                out.push(
                    diag(
                        "FP612",
                        format!(
                            "override sets MTU {m} on compute port(s) of `{}`, below host MTU {}",
                            ctx.fabric.switches[o.switch.index()].name,
                            l.nic.mtu
                        ),
                    )
                    .on(Entity::PortOverride(o.origin), Some("mtu"), "MTU here")
                    .help("keep jumbo MTU on every port along a RoCE path"),
                );
            }
        }
    }
}

/// IEEE 802.1Qbb response budget at 400G: 463,360 bit times (docs/sources.md §3), in bytes.
const RESPONSE_BYTES_400G: f64 = 463_360.0 / 8.0;

/// PFC headroom in bytes a port of `gbps` needs for a cable of `len_m` (docs/sources.md (c)):
/// 2 x MTU + rate x 2 x length x 5 ns/m + the response budget (scaled below 400G).
pub fn required_headroom_bytes(mtu: u32, gbps: u32, len_m: f64) -> f64 {
    let bytes_per_ns = gbps as f64 / 8.0;
    2.0 * mtu as f64
        + bytes_per_ns * 2.0 * len_m * 5.0
        + RESPONSE_BYTES_400G * (gbps as f64 / 400.0).min(2.0)
}

pub fn headroom(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let Some(l) = roce(f) else { return };
    let longest = f
        .links
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.length_m.map(|len| (len, i)))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let Some((len, link)) = longest else { return };
    let link_id = LinkId::from_index(link);
    if len > l.switch.cable_length_m {
        out.push(
            diag(
                "FP613",
                format!(
                    "the longest cable is {len} m but PFC headroom is sized for {} m",
                    l.switch.cable_length_m
                ),
            )
            .on(Entity::Link(link_id), Some("length_m"), "longest cable")
            .also(
                Entity::Lossless,
                Some("cable_length_m"),
                "headroom sized for this",
            )
            .help(format!(
                "set `cable_length_m: {}` (or more) so headroom covers the in-flight bytes",
                len.ceil()
            )),
        );
    }
    if let Some(have) = l.switch.headroom_bytes {
        let gbps = fastest_gbps(f);
        let need = required_headroom_bytes(l.switch.mtu, gbps, len.max(l.switch.cable_length_m));
        if (have as f64) < need {
            out.push(
                diag("FP613", format!("PFC headroom {have} B is below the {need:.0} B a {gbps}G port needs for {} m of cable", len.max(l.switch.cable_length_m)))
                    .on(Entity::Lossless, Some("headroom_bytes"), "configured headroom")
                    .help("raise the headroom (2 x MTU + rate x 2 x length x 5 ns/m + response time)"),
            );
        }
    }
}

pub fn ecmp_entropy(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let Some(l) = roce(f) else { return };
    if l.switch.ecmp_hash == EcmpHash::FiveTuple && f.switches.iter().any(|s| s.tier > Tier::Leaf) {
        out.push(
            diag("FP614", "RoCE flows are hashed on the 5-tuple only; elephant flows will collide on uplinks")
                .on(Entity::Lossless, Some("ecmp_hash"), "hash mode")
                .help("hash on the destination QP (`ecmp_hash: qp-udf`) or use adaptive routing (`adaptive`)"),
        );
    }
}

pub fn peer_qos(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let Some(l) = roce(f) else { return };
    if l.overrides.is_empty() {
        return;
    }
    let effective = |sw: SwitchId, port: &PortName| -> (u32, Vec<u8>, Option<u32>) {
        let mut mtu = l.switch.mtu;
        let mut pfc = l.switch.pfc_priorities.clone();
        let mut origin = None;
        // Whole-switch overrides first, then port overrides on top.
        for pass in [false, true] {
            for o in l
                .overrides
                .iter()
                .filter(|o| o.switch == sw && o.port.is_some() == pass)
            {
                if o.port.as_ref().is_none_or(|p| p == port) {
                    if let Some(m) = o.mtu {
                        mtu = m;
                    }
                    if let Some(p) = &o.pfc_priorities {
                        pfc = p.clone();
                    }
                    origin = Some(o.origin);
                }
            }
        }
        pfc.sort_unstable();
        (mtu, pfc, origin)
    };
    for (i, link) in f.links.iter().enumerate() {
        let (Endpoint::Switch(a, pa), Endpoint::Switch(b, pb)) = (&link.a, &link.b) else {
            continue;
        };
        let (ea, eb) = (effective(*a, pa), effective(*b, pb));
        if ea.0 != eb.0 || ea.1 != eb.1 {
            let what = if ea.0 != eb.0 {
                format!("MTU {} vs {}", ea.0, eb.0)
            } else {
                format!("PFC {} vs {}", list(&ea.1), list(&eb.1))
            };
            let mut d = diag(
                "FP615",
                format!(
                    "the ends of `{}` differ: {what}",
                    f.link_name(LinkId::from_index(i))
                ),
            )
            .on(Entity::Link(LinkId::from_index(i)), None, "this link");
            if let Some(o) = ea.2.or(eb.2) {
                d = d.also(Entity::PortOverride(o), None, "override here");
            }
            out.push(d.help("apply the same override to both ends of the link"));
        }
    }
}
