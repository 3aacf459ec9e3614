//! The as-built cabling compared with the design, cable by cable (docs/as-built.md).
//!
//! Matching: a capture end names a design device when the mapping file maps it, or when its
//! name equals a node or switch name (case-insensitively); ports compare as the loader does
//! (`01` and `1` are the same numbered port). A designed cable is matched when some captured
//! cable joins the same two ports. Otherwise it is judged from its *anchor*, the end that
//! stays put while the other end is moved: the NIC end of a host cable, the lower tier's end
//! of a switch cable.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::mapping::Mapping;
use super::{Capture, CapturedEnd, CapturedLink, Seen};
use crate::diag::{Diagnostic, Severity};
use crate::model::{Endpoint, Entity, Fabric, LinkId, PortName, SwitchId, Transport};

/// A diff finding: a diagnostic labelled in the design, and where the capture shows it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diag: Diagnostic,
    /// Capture places, with a label each.
    pub seen: Vec<(Seen, String)>,
}

#[derive(Debug, Default)]
pub struct DiffResult {
    pub findings: Vec<Finding>,
    pub design_links: usize,
    pub captured_links: usize,
    pub matched: usize,
}

type Key = (String, PortName);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dev {
    Node(usize),
    Switch(SwitchId),
}

/// A capture end after mapping.
#[derive(Debug, Clone)]
struct End {
    key: Key,
    /// `device:port` in design terms where it maps, else as captured.
    name: String,
    dev: Option<Dev>,
    /// Unnamed in the capture and not mapped: cannot be matched.
    anonymous: bool,
}

fn resolve_end(e: &CapturedEnd, map: Option<&Mapping>, devs: &HashMap<String, Dev>) -> End {
    let mapped = map.and_then(|m| m.resolve(e));
    let (device, port) = mapped
        .clone()
        .unwrap_or_else(|| (e.device.clone(), e.port.clone()));
    let lower = device.to_ascii_lowercase();
    let dev = devs.get(&lower).copied();
    End {
        name: format!("{device}:{port}"),
        key: (lower, PortName::parse(&port)),
        dev,
        anonymous: !e.named && mapped.is_none(),
    }
}

/// The design's name for a device, as written there.
fn dev_name(f: &Fabric, d: Dev) -> &str {
    match d {
        Dev::Node(n) => &f.nodes[n].name,
        Dev::Switch(s) => &f.switches[s.index()].name,
    }
}

fn endpoint_key(f: &Fabric, ep: &Endpoint) -> (Key, Dev) {
    match ep {
        Endpoint::Nic(nic) => {
            let n = f.nics[nic.index()].node;
            let port = &f.nic_port(*nic).port;
            (
                (
                    f.nodes[n.index()].name.to_ascii_lowercase(),
                    PortName::parse(port),
                ),
                Dev::Node(n.index()),
            )
        }
        Endpoint::Switch(s, p) => (
            (f.switches[s.index()].name.to_ascii_lowercase(), p.clone()),
            Dev::Switch(*s),
        ),
    }
}

/// Orders a link's ends anchor first: the NIC, else the lower tier, else as written.
fn anchored(f: &Fabric, a: &Endpoint, b: &Endpoint) -> bool {
    match (a, b) {
        (Endpoint::Nic(_), _) => true,
        (_, Endpoint::Nic(_)) => false,
        (Endpoint::Switch(x, _), Endpoint::Switch(y, _)) => {
            f.switches[x.index()].tier.level() <= f.switches[y.index()].tier.level()
        }
    }
}

fn finding(code: &'static str, severity: Severity, message: String) -> Diagnostic {
    Diagnostic::new(code, severity, message)
}

/// Compares the captured cabling with the design.
pub fn diff(f: &Fabric, cap: &Capture, map: Option<&Mapping>) -> DiffResult {
    let mut devs: HashMap<String, Dev> = HashMap::new();
    for (i, n) in f.nodes.iter().enumerate() {
        devs.insert(n.name.to_ascii_lowercase(), Dev::Node(i));
    }
    for (i, s) in f.switches.iter().enumerate() {
        devs.insert(
            s.name.to_ascii_lowercase(),
            Dev::Switch(SwitchId::from_index(i)),
        );
    }
    let rails = crate::checks::switch_rails(f);
    let ends: Vec<(End, End)> = cap
        .links
        .iter()
        .map(|l| (resolve_end(&l.a, map, &devs), resolve_end(&l.b, map, &devs)))
        .collect();
    let mut cap_at: HashMap<Key, (usize, bool)> = HashMap::new();
    let mut seen_devs: BTreeSet<String> = BTreeSet::new();
    for (i, (a, b)) in ends.iter().enumerate() {
        cap_at.entry(a.key.clone()).or_insert((i, false));
        cap_at.entry(b.key.clone()).or_insert((i, true));
        seen_devs.insert(a.key.0.clone());
        seen_devs.insert(b.key.0.clone());
    }
    let mut design_at: HashMap<Key, LinkId> = HashMap::new();
    for (i, l) in f.links.iter().enumerate() {
        for ep in [&l.a, &l.b] {
            design_at
                .entry(endpoint_key(f, ep).0)
                .or_insert(LinkId::from_index(i));
        }
    }
    let other = |i: usize, side_b: bool| -> &End {
        if side_b {
            &ends[i].0
        } else {
            &ends[i].1
        }
    };
    let seen_of = |i: usize, text: &str| -> Vec<(Seen, String)> {
        cap.links[i]
            .seen
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (
                    *s,
                    if k == 0 {
                        text.to_string()
                    } else {
                        "the other end's view".to_string()
                    },
                )
            })
            .collect()
    };

    let mut out = DiffResult {
        design_links: f.links.len(),
        captured_links: cap.links.len(),
        ..Default::default()
    };
    let mut used = vec![false; cap.links.len()];
    let mut unseen: BTreeMap<SwitchId, usize> = BTreeMap::new();
    let mut bundles: BTreeMap<(SwitchId, SwitchId), Vec<(LinkId, usize)>> = BTreeMap::new();
    for (li, l) in f.links.iter().enumerate() {
        let link = LinkId::from_index(li);
        let (ea, eb) = if anchored(f, &l.a, &l.b) {
            (&l.a, &l.b)
        } else {
            (&l.b, &l.a)
        };
        let ((ka, da), (kb, db)) = (endpoint_key(f, ea), endpoint_key(f, eb));
        let name_a = f.endpoint_name(ea);
        let name_b = f.endpoint_name(eb);
        let ca = cap_at.get(&ka).copied();
        let cb = cap_at.get(&kb).copied();
        // A switch no capture mentions is reported once, not cable by cable; a cable whose
        // other end is cabled somewhere else is still judged below.
        let absent = |d: Dev| match d {
            Dev::Switch(s)
                if !seen_devs.contains(&f.switches[s.index()].name.to_ascii_lowercase()) =>
            {
                Some(s)
            }
            _ => None,
        };
        if let Some(s) = absent(da)
            .filter(|_| cb.is_none())
            .or(absent(db).filter(|_| ca.is_none()))
        {
            *unseen.entry(s).or_default() += 1;
            continue;
        }
        if let (Some((i, _)), Some((j, _))) = (ca, cb) {
            if i == j {
                used[i] = true;
                out.matched += 1;
                check_speed(
                    f,
                    link,
                    &name_a,
                    &name_b,
                    &cap.links[i],
                    &seen_of(i, "as built"),
                    &mut out.findings,
                );
                continue;
            }
        }
        let (cable_a, cable_b) = (
            ca.map(|(i, s)| (i, other(i, s).clone())),
            cb.map(|(i, s)| (i, other(i, s).clone())),
        );
        // Parallel cables between the same two switches, on the designed ports but paired
        // in another order: electrically the same fabric.
        if let (Dev::Switch(sa), Dev::Switch(sb), Some((i, x))) = (da, db, &cable_a) {
            let bundle = x.dev == Some(db)
                && design_at.get(&x.key).is_some_and(|other_link| {
                    let ol = &f.links[other_link.index()];
                    [&ol.a, &ol.b].iter().any(|e| endpoint_key(f, e).1 == da)
                });
            if bundle {
                used[*i] = true;
                out.matched += 1;
                bundles.entry((sa, sb)).or_default().push((link, *i));
                check_speed(
                    f,
                    link,
                    &name_a,
                    &name_b,
                    &cap.links[*i],
                    &seen_of(*i, "as built"),
                    &mut out.findings,
                );
                continue;
            }
        }
        match (cable_a, cable_b) {
            (None, None) => out.findings.push(Finding {
                diag: finding(
                    "FP951",
                    Severity::Error,
                    format!("cable `{name_a} -- {name_b}` is missing"),
                )
                .on(Entity::Link(link), None, "designed here")
                .help(format!(
                    "cable `{name_a}` to `{name_b}`; neither port shows a neighbour in the capture"
                )),
                seen: Vec::new(),
            }),
            (Some((i, x)), _) => {
                used[i] = true;
                if let Some((j, _)) = cb {
                    used[j] = true;
                }
                // The cable on the designed far port (if any) has its own finding.
                let seen = seen_of(i, &format!("`{name_a}` is cabled to `{}`", x.name));
                if x.anonymous {
                    out.findings.push(Finding {
                        diag: finding("FP957", Severity::Warning, format!("`{name_a}` should connect to `{name_b}`; the capture shows an unnamed device `{}` there", x.name))
                            .on(Entity::Link(link), None, "designed here")
                            .help(format!("set the device's node description, or map `{}` to `{name_b}` under `ports:` in the mapping file (docs/as-built.md)", x.name)),
                        seen,
                    });
                    continue;
                }
                out.findings
                    .push(miswire(f, &rails, link, ea, eb, &name_a, &name_b, &x, seen));
            }
            (None, Some((j, y))) => {
                used[j] = true;
                let seen = seen_of(j, &format!("`{name_b}` is cabled to `{}`", y.name));
                if y.anonymous {
                    out.findings.push(Finding {
                        diag: finding("FP957", Severity::Warning, format!("`{name_b}` should connect to `{name_a}`; the capture shows an unnamed device `{}` there", y.name))
                            .on(Entity::Link(link), None, "designed here")
                            .help(format!("set the device's node description (it is the adapter default), or map `{}` to `{name_a}` under `ports:` in the mapping file (docs/as-built.md)", y.name)),
                        seen,
                    });
                    continue;
                }
                // When the cable on the port is the anchor of another designed cable, that
                // cable's own FP950 says where to move it; here the cable is missing.
                let y_anchors = design_at.get(&y.key).is_some_and(|other_link| {
                    let ol = &f.links[other_link.index()];
                    let first = if anchored(f, &ol.a, &ol.b) {
                        &ol.a
                    } else {
                        &ol.b
                    };
                    endpoint_key(f, first).0 == y.key
                });
                if y_anchors {
                    out.findings.push(Finding {
                        diag: finding("FP951", Severity::Error, format!("cable `{name_a} -- {name_b}` is missing"))
                            .on(Entity::Link(link), None, "designed here")
                            .help(format!("cable `{name_a}` to `{name_b}` once `{}`, which is plugged in there, is moved to its own port", y.name)),
                        seen,
                    });
                    continue;
                }
                out.findings.push(Finding {
                    diag: finding(
                        "FP950",
                        Severity::Error,
                        format!(
                            "`{name_b}` should connect to `{name_a}`, but `{}` is plugged in there",
                            y.name
                        ),
                    )
                    .on(Entity::Link(link), None, "designed here")
                    .help(format!(
                        "unplug `{}` from `{name_b}` and cable `{name_a}` to `{name_b}`",
                        y.name
                    )),
                    seen,
                });
            }
        }
    }
    for ((sa, sb), cables) in &bundles {
        let (a, b) = (&f.switches[sa.index()].name, &f.switches[sb.index()].name);
        let mut seen = Vec::new();
        for (_, i) in cables {
            seen.extend(seen_of(*i, "as built"));
        }
        out.findings.push(Finding {
            diag: finding("FP959", Severity::Note, format!("the {} parallel cables between `{a}` and `{b}` use the designed ports, paired in another order", cables.len()))
                .on(Entity::Link(cables[0].0), None, "designed here")
                .help("nothing to move for routing; re-pair them only if the cabling records must match port for port"),
            seen,
        });
    }
    oversubscription(f, &ends, cap, &mut out.findings);
    for (s, n) in unseen {
        let name = &f.switches[s.index()].name;
        out.findings.push(Finding {
            diag: finding("FP958", Severity::Error, format!("switch `{name}` is in no capture: its {n} designed cables are missing"))
                .on(Entity::Switch(s), None, "designed here")
                .help(format!("check that `{name}` is installed, powered and in the subnet; if it has another name in the capture, map it under `devices:` in the mapping file")),
            seen: Vec::new(),
        });
    }
    for (i, (a, b)) in ends.iter().enumerate() {
        if used[i] {
            continue;
        }
        let seen = seen_of(i, "not in the design");
        if a.anonymous || b.anonymous {
            let (anon, known) = if a.anonymous { (a, b) } else { (b, a) };
            out.findings.push(Finding {
                diag: finding("FP957", Severity::Warning, format!("an unnamed device `{}` is cabled to `{}`", anon.name, known.name))
                    .help(format!("set the device's node description, or map `{}` to its design port under `ports:` in the mapping file (docs/as-built.md)", anon.name)),
                seen,
            });
            continue;
        }
        let strangers: Vec<&str> = [a, b]
            .iter()
            .filter(|e| e.dev.is_none())
            .map(|e| e.name.split(':').next().unwrap_or(""))
            .collect();
        let why = if strangers.is_empty() {
            String::new()
        } else {
            format!(" (`{}` is not in the design)", strangers.join("`, `"))
        };
        let help = if strangers.is_empty() {
            format!(
                "remove the cable `{} -- {}`, or add it to the design's `links:`",
                a.name, b.name
            )
        } else {
            format!("remove the cable, or if `{}` has another name in the design, map it under `devices:` in the mapping file", strangers[0])
        };
        let mut d = finding(
            "FP952",
            Severity::Error,
            format!("cable `{} -- {}` is not in the design{why}", a.name, b.name),
        )
        .help(help);
        if let Some(dev) = a.dev.or(b.dev) {
            d = d.on(
                match dev {
                    Dev::Node(n) => Entity::Node(crate::model::NodeId::from_index(n)),
                    Dev::Switch(s) => Entity::Switch(s),
                },
                None,
                format!("`{}` is declared here", dev_name(f, dev)),
            );
        }
        out.findings.push(Finding { diag: d, seen });
    }
    out
}

/// A designed cable whose anchor `a` is cabled to `x` instead of `b`: rails crossed, wrong
/// leaf group, or a plain miswire (wrong port or wrong switch).
#[allow(clippy::too_many_arguments)]
fn miswire(
    f: &Fabric,
    rails: &[Option<u32>],
    link: LinkId,
    ea: &Endpoint,
    eb: &Endpoint,
    name_a: &str,
    name_b: &str,
    x: &End,
    seen: Vec<(Seen, String)>,
) -> Finding {
    let help = format!("move the cable end from `{}` to `{name_b}`", x.name);
    let designed_leaf = match eb {
        Endpoint::Switch(s, _) => Some(*s),
        _ => None,
    };
    if let (Endpoint::Nic(nic), Some(Dev::Switch(xs)), Some(bs)) = (ea, x.dev, designed_leaf) {
        let gpu = f.nic_port(*nic).gpu;
        let x_rail = rails[xs.index()];
        let xsw = &f.switches[xs.index()];
        if xs != bs {
            if let (Some(k), Some(r)) = (gpu, x_rail) {
                if k != r {
                    return Finding {
                        diag: finding("FP955", Severity::Error, format!("rails crossed: `{name_a}` serves GPU {k} but is cabled to `{}`, a rail-{r} leaf", x.name))
                            .on(Entity::Link(link), None, format!("designed on the rail-{k} leaf `{}`", f.switches[bs.index()].name))
                            .help(help),
                        seen,
                    };
                }
            }
            let bsw = &f.switches[bs.index()];
            if xsw.su != bsw.su {
                let group = |s: Option<crate::model::SuId>| {
                    s.map(|s| f.sus[s.index()].clone())
                        .unwrap_or_else(|| "none".into())
                };
                let node = match ea {
                    Endpoint::Nic(n) => f.nodes[f.nics[n.index()].node.index()].name.clone(),
                    _ => unreachable!(),
                };
                return Finding {
                    diag: finding("FP956", Severity::Error, format!("`{node}` is cabled into leaf group `{}` through `{name_a}` on `{}`; the design puts it in `{}`", group(xsw.su), x.name, group(bsw.su)))
                        .on(Entity::Link(link), None, "designed here")
                        .help(help),
                    seen,
                };
            }
        }
    }
    let what = match (x.dev, eb) {
        (Some(Dev::Switch(xs)), Endpoint::Switch(bs, _)) if xs == *bs => "the wrong port",
        (None, _) => "a device the design does not have",
        _ => "the wrong device",
    };
    let help = match (x.dev, x.name.split_once(':'), name_b.split_once(':')) {
        (None, Some((xd, _)), Some((bd, _))) => format!(
            "{help}; or, if `{xd}` is `{bd}` under another name, map it under `devices:` in the mapping file"
        ),
        _ => help,
    };
    Finding {
        diag: finding(
            "FP950",
            Severity::Error,
            format!(
                "`{name_a}` should connect to `{name_b}`, but is cabled to `{}` ({what})",
                x.name
            ),
        )
        .on(Entity::Link(link), None, "designed here")
        .help(help),
        seen,
    }
}

fn check_speed(
    f: &Fabric,
    link: LinkId,
    name_a: &str,
    name_b: &str,
    c: &CapturedLink,
    seen: &[(Seen, String)],
    out: &mut Vec<Finding>,
) {
    let Some(speed) = &c.speed else { return };
    let designed = f.links[link.index()].gbps;
    // InfiniBand switch and HCA ports are 4 lanes (QSFP/OSFP); fewer lanes means a lane failed.
    if f.transport == Transport::Infiniband {
        if let Some(w) = speed.width.filter(|w| *w < 4) {
            out.push(Finding {
                diag: finding("FP954", Severity::Error, format!("`{name_a} -- {name_b}` trained at {w} lanes (`{}`), not 4", speed.text))
                    .on(Entity::Link(link), Some("gbps"), format!("designed at {designed} Gb/s over 4 lanes"))
                    .help(format!("reseat or replace the cable and transceivers of `{name_a} -- {name_b}`: a link that trains narrow has a failed lane")),
                seen: seen.to_vec(),
            });
            return;
        }
    }
    if let Some(g) = speed.gbps {
        if g != designed {
            out.push(Finding {
                diag: finding("FP953", Severity::Error, format!("`{name_a} -- {name_b}` runs at {g} Gb/s (`{}`), the design says {designed} Gb/s", speed.text))
                    .on(Entity::Link(link), Some("gbps"), format!("designed at {designed} Gb/s"))
                    .help(format!("replace the cable or transceiver of `{name_a} -- {name_b}` with one rated {designed} Gb/s, or set `gbps: {g}` if the slower link is intended")),
                seen: seen.to_vec(),
            });
        }
    }
}

/// Up and down bandwidth of each switch, in Gb/s: a link to a higher tier is up, anything
/// else (nodes, lower tiers, devices the design does not have) is down.
fn up_down(
    f: &Fabric,
    links: impl Iterator<Item = (Option<Dev>, Option<Dev>, u64)>,
) -> Vec<(u64, u64)> {
    let mut bw = vec![(0u64, 0u64); f.switches.len()];
    for (a, b, gbps) in links {
        for (this, other) in [(a, b), (b, a)] {
            let Some(Dev::Switch(s)) = this else { continue };
            let level = f.switches[s.index()].tier.level();
            match other {
                Some(Dev::Switch(t)) if f.switches[t.index()].tier.level() > level => {
                    bw[s.index()].0 += gbps
                }
                Some(Dev::Switch(t)) if f.switches[t.index()].tier.level() == level => {}
                _ => bw[s.index()].1 += gbps,
            }
        }
    }
    bw
}

/// A switch the design makes non-blocking (up >= down) that is oversubscribed as built:
/// missing or slow uplinks (FP960). Captured links without a speed count at the switch
/// model's port speed.
fn oversubscription(f: &Fabric, ends: &[(End, End)], cap: &Capture, out: &mut Vec<Finding>) {
    let designed = up_down(
        f,
        f.links.iter().map(|l| {
            (
                Some(endpoint_key(f, &l.a).1),
                Some(endpoint_key(f, &l.b).1),
                l.gbps as u64,
            )
        }),
    );
    let built = up_down(
        f,
        ends.iter().zip(&cap.links).map(|((a, b), l)| {
            let speed = l.speed.as_ref().and_then(|s| s.gbps);
            let port_gbps = [a.dev, b.dev].into_iter().find_map(|d| match d {
                Some(Dev::Switch(s)) => Some(f.switch_model(s).port_gbps),
                _ => None,
            });
            (a.dev, b.dev, speed.or(port_gbps).unwrap_or(0) as u64)
        }),
    );
    for (i, ((dup, ddown), (up, down))) in designed.iter().zip(&built).enumerate() {
        if *dup == 0 || dup < ddown || up >= down || *up == 0 && *down == 0 {
            continue;
        }
        let name = &f.switches[i].name;
        let ratio = if *up == 0 {
            "no uplinks".to_string()
        } else {
            format!("{:.2}:1", *down as f64 / *up as f64)
        };
        out.push(Finding {
            diag: finding("FP960", Severity::Warning, format!("as built, `{name}` has {up} Gb/s up and {down} Gb/s down ({ratio}); the design has {dup} up and {ddown} down"))
                .on(Entity::Switch(SwitchId::from_index(i)), None, "non-blocking as designed")
                .help(format!("restore the missing or slow uplinks of `{name}` (its FP951, FP953 and FP954 findings name them)")),
            seen: Vec::new(),
        });
    }
}
