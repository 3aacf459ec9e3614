//! As built against as designed: discovered cabling (`ibnetdiscover`, lldpd JSON) read into
//! one as-built link list, and that list compared with a fabric design (docs/as-built.md).
//!
//! The parsers (`formats::ibnetdiscover`, `formats::lldp`) each turn one capture into
//! [`HalfLink`]s: what one device says is on one of its ports. [`merge`] joins the two views of
//! each cable into one [`CapturedLink`] and reports ends that disagree. `mapping` reads the
//! optional file that renames capture devices to design devices; `diff` compares the links
//! with the design and returns findings with a label on the design's YAML and the capture's
//! line.

pub mod diff;
pub mod mapping;
pub mod placement;

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Severity, Span};
use crate::source::SourceFile;

/// One end of a captured cable: a device and one of its ports, as the capture names them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct CapturedEnd {
    /// The device's name: a switch's or host's name, or its GUID id (`H-e09d...`) when the
    /// capture gives no usable name.
    pub device: String,
    /// The port: a switch port number (`33`), a NIC (`HCA-6`, `mlx5_0`), an interface (`swp1`).
    pub port: String,
    /// The InfiniBand node id (`S-...`/`H-...` and 16 hex digits), or the LLDP chassis id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// False when the capture gives no name for the device (an adapter-default description):
    /// such a device can only be matched through the mapping file.
    pub named: bool,
}

impl CapturedEnd {
    /// How the end is told apart from others in one capture set: GUID when known, else name.
    fn key(&self) -> (String, String) {
        let id = match &self.guid {
            Some(g) => g.to_ascii_lowercase(),
            None => self.device.to_ascii_lowercase(),
        };
        (id, self.port.clone())
    }

    pub fn display(&self) -> String {
        format!("{}:{}", self.device, self.port)
    }
}

/// Link speed as a capture reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LinkSpeed {
    /// What the capture says (`4xNDR`, `10GbaseT`).
    pub text: String,
    /// Lanes, where the format gives them (InfiniBand `4x`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Total speed in Gb/s, where it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gbps: Option<u32>,
}

/// Where in which capture something was read: index into [`Capture::files`] and a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    pub file: usize,
    pub span: Span,
}

/// What one device's capture says about one of its ports.
#[derive(Debug, Clone)]
pub struct HalfLink {
    pub local: CapturedEnd,
    pub peer: CapturedEnd,
    pub speed: Option<LinkSpeed>,
    pub seen: Seen,
}

/// One cable of the as-built fabric, counted once.
#[derive(Debug, Clone)]
pub struct CapturedLink {
    pub a: CapturedEnd,
    pub b: CapturedEnd,
    pub speed: Option<LinkSpeed>,
    /// Where the cable was read: the first view, then the other end's view when there is one.
    pub seen: Vec<Seen>,
}

/// A switch (or NVLink block) as topograph names it, and where.
#[derive(Debug, Clone)]
pub struct TierSwitch {
    pub name: String,
    /// The provider's own name, from topograph's `# slurm-name=original-name` comment.
    pub alias: Option<String>,
    pub seen: Seen,
}

/// Where topograph puts one node: the switch at each fabric tier (tier 0, the leaf, first)
/// and its accelerator (NVLink) block. No ports: topograph does not report them.
#[derive(Debug, Clone)]
pub struct Placement {
    pub node: String,
    pub seen: Seen,
    pub tiers: Vec<TierSwitch>,
    /// Further tier-0 switches the same node is listed under (one per rail, when the
    /// provider lists a rail-optimised node on each of its leaves).
    pub extra_leaves: Vec<TierSwitch>,
    pub block: Option<TierSwitch>,
}

/// What one parser read from one capture.
#[derive(Debug, Default)]
pub struct Parsed {
    pub halves: Vec<HalfLink>,
    /// Node placements (topograph outputs).
    pub placements: Vec<Placement>,
    /// Device keys (lowercased GUID or name) that have their own view in this capture: a cable
    /// to one of them must be seen from both ends.
    pub viewers: BTreeSet<String>,
    /// Ports that are not cables (the SHARP aggregation node inside a switch), skipped.
    pub skipped_internal: usize,
    /// Parse problems, with spans in this capture.
    pub diagnostics: Vec<Diagnostic>,
}

/// The formats fabplan reads as-built cabling from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureFormat {
    Ibnetdiscover,
    LldpJson,
    /// NVIDIA topograph's Slurm `topology.conf` (tree and block lines).
    TopographSlurm,
    /// `kubectl get nodes -o json` with topograph's node labels.
    TopographK8s,
}

impl CaptureFormat {
    /// Guesses the format from the text: lldpd JSON is a JSON object; `ibnetdiscover` output
    /// has `vendid=`, `Switch` or `Ca` lines.
    pub fn detect(text: &str) -> Option<CaptureFormat> {
        let first = text.trim_start();
        if crate::formats::topograph::is_k8s(text) {
            return Some(CaptureFormat::TopographK8s);
        }
        if crate::formats::topograph::is_slurm(text) {
            return Some(CaptureFormat::TopographSlurm);
        }
        if first.starts_with('{') {
            return Some(CaptureFormat::LldpJson);
        }
        let ib = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("vendid=")
                || l.starts_with("Switch\t")
                || l.starts_with("Switch ")
                || l.starts_with("Ca\t")
                || l.starts_with("Ca ")
        });
        ib.then_some(CaptureFormat::Ibnetdiscover)
    }
}

/// All captures of one run, read and merged.
#[derive(Debug, Default)]
pub struct Capture {
    pub files: Vec<SourceFile>,
    pub formats: Vec<Option<CaptureFormat>>,
    pub links: Vec<CapturedLink>,
    /// Node placements read from topograph outputs.
    pub placements: Vec<Placement>,
    pub skipped_internal: usize,
    /// Problems per capture file (index into `files`).
    pub diagnostics: Vec<(usize, Diagnostic)>,
}

impl Capture {
    /// True when any capture has a parse error (the run then exits 2 without a diff).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|(_, d)| d.severity == Severity::Error)
    }
}

/// Reads one capture's text into half links, in the given or detected format.
pub fn parse_capture(
    file: &SourceFile,
    file_index: usize,
    format: Option<CaptureFormat>,
) -> (Option<CaptureFormat>, Parsed) {
    let format = format.or_else(|| CaptureFormat::detect(&file.text));
    let parsed = match format {
        Some(CaptureFormat::Ibnetdiscover) => {
            crate::formats::ibnetdiscover::parse(&file.text, file_index)
        }
        Some(CaptureFormat::LldpJson) => crate::formats::lldp::parse(file, file_index),
        Some(CaptureFormat::TopographSlurm) => {
            crate::formats::topograph::parse_slurm(file, file_index)
        }
        Some(CaptureFormat::TopographK8s) => crate::formats::topograph::parse_k8s(file, file_index),
        None => {
            let mut p = Parsed::default();
            p.diagnostics.push(
                Diagnostic::error(
                    "FP942",
                    format!("`{}` is neither `ibnetdiscover` output, lldpd JSON nor a topograph output", file.name),
                )
                .at(Span { start: 0, len: file.text.len().min(1) }, "not a capture")
                .help("give `ibnetdiscover` text output, `lldpcli -f json show neighbors details`, topograph's Slurm `topology.conf` or `kubectl get nodes -o json`; docs/as-built.md describes them"),
            );
            p
        }
    };
    (format, parsed)
}

/// Adds a parsed capture to the set.
pub fn add_parsed(
    cap: &mut Capture,
    halves: &mut Vec<HalfLink>,
    viewers: &mut BTreeSet<String>,
    file_index: usize,
    parsed: Parsed,
) {
    halves.extend(parsed.halves);
    cap.placements.extend(parsed.placements);
    viewers.extend(parsed.viewers);
    cap.skipped_internal += parsed.skipped_internal;
    cap.diagnostics
        .extend(parsed.diagnostics.into_iter().map(|d| (file_index, d)));
}

/// Joins the two views of each cable into one link. A view whose far end has a view of its
/// own that does not point back (or has no view of that port at all) is reported as FP943
/// and kept as a cable of its own.
pub fn merge(
    halves: Vec<HalfLink>,
    viewers: &BTreeSet<String>,
    files: &[SourceFile],
) -> (Vec<CapturedLink>, Vec<(usize, Diagnostic)>) {
    let mut diags = Vec::new();
    let mut by_local: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, h) in halves.iter().enumerate() {
        by_local.entry(h.local.key()).or_insert(i);
    }
    let loc = |s: Seen| {
        let f = &files[s.file];
        let (line, col) = f.line_col(s.span.start);
        format!("{}:{line}:{col}", f.name)
    };
    let mut done = vec![false; halves.len()];
    let mut links = Vec::new();
    for (i, h) in halves.iter().enumerate() {
        if done[i] {
            continue;
        }
        done[i] = true;
        let mut link = CapturedLink {
            a: h.local.clone(),
            b: h.peer.clone(),
            speed: h.speed.clone(),
            seen: vec![h.seen],
        };
        match by_local.get(&h.peer.key()).copied() {
            Some(j) if halves[j].peer.key() == h.local.key() => {
                if !done[j] {
                    done[j] = true;
                    let other = &halves[j];
                    link.seen.push(other.seen);
                    // Prefer the peer's richer names (an HCA's own view names its host).
                    if !link.b.named && other.local.named {
                        link.b = other.local.clone();
                    }
                    match (&link.speed, &other.speed) {
                        (Some(x), Some(y)) if x != y => diags.push((
                            h.seen.file,
                            Diagnostic::new(
                                "FP943",
                                Severity::Warning,
                                format!(
                                    "the two ends of `{} -- {}` report different speeds: `{}` here, `{}` at {}",
                                    h.local.display(), h.peer.display(), x.text, y.text, loc(other.seen)
                                ),
                            )
                            .at(h.seen.span, "this end's view")
                            .help("re-run the discovery; a link that trains differently at each end is usually a bad cable or transceiver"),
                        )),
                        (None, Some(_)) => link.speed = other.speed.clone(),
                        _ => {}
                    }
                }
                links.push(link);
            }
            Some(j) => {
                let other = &halves[j];
                diags.push((
                    h.seen.file,
                    Diagnostic::new(
                        "FP943",
                        Severity::Warning,
                        format!(
                            "`{}` reports `{}` on this port, but `{}` reports `{}` at {}",
                            h.local.display(),
                            h.peer.display(),
                            other.local.display(),
                            other.peer.display(),
                            loc(other.seen)
                        ),
                    )
                    .at(h.seen.span, "this end's view")
                    .help("the captures were taken at different times or a port was moved between them; capture both ends again"),
                ));
                links.push(link);
            }
            _ => {
                let (id, _) = h.peer.key();
                if viewers.contains(&id) {
                    diags.push((
                        h.seen.file,
                        Diagnostic::new(
                            "FP943",
                            Severity::Warning,
                            format!(
                                "`{}` reports `{}`, but `{}`'s own view shows nothing on that port",
                                h.local.display(),
                                h.peer.display(),
                                h.peer.device
                            ),
                        )
                        .at(h.seen.span, "seen from this end only")
                        .help("capture both ends at the same moment; a link seen from one end only is flapping or was moved"),
                    ));
                }
                links.push(link);
            }
        }
    }
    (links, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str =
        include_str!("../../tests/fixtures/as-built/ibnetdiscover/ufm-small-mixed-speeds.txt");

    fn merged(text: &str) -> (Vec<CapturedLink>, Vec<Diagnostic>) {
        let file = SourceFile::new("small.txt", text);
        let (_, parsed) = parse_capture(&file, 0, None);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let (links, diags) = merge(parsed.halves, &parsed.viewers, &[file]);
        (links, diags.into_iter().map(|(_, d)| d).collect())
    }

    #[test]
    fn each_cable_is_counted_once_with_both_views() {
        let (links, diags) = merged(SMALL);
        assert!(diags.is_empty(), "{diags:?}");
        // README: 16 links, one of them to the SHARP node (not a cable).
        assert_eq!(links.len(), 15);
        assert!(links.iter().all(|l| l.seen.len() == 2));
        let fdr10: Vec<_> = links
            .iter()
            .filter(|l| l.speed.as_ref().is_some_and(|s| s.text == "4xFDR10"))
            .map(|l| format!("{} -- {}", l.a.display(), l.b.display()))
            .collect();
        assert_eq!(fdr10, ["r-ufm-sw226:25 -- r-ufm-sw226:26"]);
    }

    #[test]
    fn views_that_differ_in_speed_or_are_one_sided_warn() {
        // The CA's own view of r-dcs96 HCA-2 reports 4xHDR; the switch says 4xEDR.
        let speed = SMALL.replace(
            "[1](ec0d9a03007d7d0b) \t\"S-b8599f0300fc6de4\"[24]\t\t# lid 28 lmc 0 \"MF0;r-ufm-sw95:MQM8700/U1\" lid 13 4xEDR",
            "[1](ec0d9a03007d7d0b) \t\"S-b8599f0300fc6de4\"[24]\t\t# lid 28 lmc 0 \"MF0;r-ufm-sw95:MQM8700/U1\" lid 13 4xHDR",
        );
        assert_ne!(speed, SMALL);
        let (links, diags) = merged(&speed);
        assert_eq!(links.len(), 15);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].message.contains("different speeds"),
            "{}",
            diags[0].message
        );
        // The CA block of r-dmz-ufm131 HCA-2 is there but has lost its port line.
        let one_sided = SMALL.replace(
            "[1](c42a103008b3bd1) \t\"S-0002c903007b78b0\"[34]\t\t# lid 2 lmc 0 \"MF0;r-ufm-sw226:SX6036/U1\" lid 19 4xFDR\n",
            "",
        );
        assert_ne!(one_sided, SMALL);
        let (links, diags) = merged(&one_sided);
        assert_eq!(links.len(), 15);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].message.contains("shows nothing on that port"),
            "{}",
            diags[0].message
        );
    }
}
