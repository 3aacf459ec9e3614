//! `ibnetdiscover` text output in: one block per node (`Switch` or `Ca` header, then one line
//! per connected port), read into half links, one per port line.
//!
//! The format (infiniband-diags `ibnetdiscover(8)`; the fixtures' README gives the details):
//! - `Switch <nports> "S-<guid>" # "<description>" enhanced port 0 lid <lid> lmc <lmc>`
//! - `Ca <nports> "H-<guid>" # "<description>"`
//! - switch port: `[<port>] "<peer id>"[<peer port>](<peer port guid>) # "<peer description>" lid <lid> <width>x<speed>`
//!   (the port GUID only when the peer is a CA)
//! - CA port: `[<port>](<port guid>) "<peer id>"[<peer port>] # lid <lid> lmc <lmc> "<peer description>" lid <lid> <width>x<speed>`
//!
//! The speed can be missing (topograph's own tests have such a line). A CA described as
//! `Mellanox Technologies Aggregation Node` is the switch's internal SHARP engine, not a
//! cable: its port lines are skipped. A node is identified by its id (`S-`/`H-` and 16 hex
//! digits); names come from descriptions: `MF0;<hostname>:<model>/U1` for switches,
//! `<host> <device>` for HCAs. An adapter-default description (`MT4129 ConnectX7   Mellanox
//! Technologies`, `localhost HCA-1`) gives no name: the node keeps its id and can be matched
//! only through the mapping file.

use std::collections::BTreeMap;

use crate::asbuilt::{CapturedEnd, HalfLink, LinkSpeed, Parsed, Seen};
use crate::diag::{Diagnostic, Span};

const SHARP_DESCRIPTION: &str = "Mellanox Technologies Aggregation Node";

/// Gb/s of a 4x link at each InfiniBand speed (IBTA; the README's table: 4xNDR is 400 Gb/s,
/// 4xHDR 200, 4xEDR 100, 4xFDR 56, 4xFDR10 about 40).
fn gbps_4x(speed: &str) -> Option<u32> {
    Some(match speed {
        "SDR" => 10,
        "DDR" => 20,
        "QDR" => 40,
        "FDR10" => 40,
        "FDR" => 56,
        "EDR" => 100,
        "HDR" => 200,
        "NDR" => 400,
        "XDR" => 800,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Switch,
    Ca,
    Router,
}

#[derive(Debug)]
struct PortLine {
    port: u32,
    peer_id: String,
    peer_port: u32,
    peer_description: String,
    speed: Option<LinkSpeed>,
    span: Span,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    ports: u32,
    description: String,
    lines: Vec<PortLine>,
}

/// How a node is named, from its kind and description.
fn naming(kind: Kind, id: &str, description: &str, ports: u32, port: u32) -> CapturedEnd {
    let unnamed = || CapturedEnd {
        device: id.to_string(),
        port: port.to_string(),
        guid: Some(id.to_string()),
        named: false,
    };
    let d = description.trim();
    if kind == Kind::Switch {
        // NVIDIA/Mellanox convention: `MF0;<switch hostname>:<model>/U1`.
        let name = d
            .strip_prefix("MF0;")
            .map(|r| r.split(':').next().unwrap_or(r).trim())
            .filter(|n| !n.is_empty());
        return match name {
            Some(n) => CapturedEnd {
                device: n.to_string(),
                port: port.to_string(),
                guid: Some(id.to_string()),
                named: true,
            },
            None if d.is_empty() || d.contains("Mellanox Technologies") => unnamed(),
            None => CapturedEnd {
                device: d.to_string(),
                port: port.to_string(),
                guid: Some(id.to_string()),
                named: true,
            },
        };
    }
    let mut words = d.split_whitespace();
    let host = words.next().unwrap_or("");
    let device: Vec<&str> = words.collect();
    if host.is_empty() || host == "localhost" || d.contains("Mellanox Technologies") {
        return unnamed();
    }
    let port = if device.is_empty() {
        port.to_string()
    } else if ports > 1 {
        format!("{}/{port}", device.join(" "))
    } else {
        device.join(" ")
    };
    CapturedEnd {
        device: host.to_string(),
        port,
        guid: Some(id.to_string()),
        named: true,
    }
}

/// A cursor over one line, for the few token shapes the format has.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    /// Byte offset of the line in the file.
    base: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while self.line[self.pos..].starts_with([' ', '\t']) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, c: char) -> bool {
        if self.line[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn span_here(&self) -> Span {
        let len = self.line[self.pos..]
            .chars()
            .next()
            .map(char::len_utf8)
            .unwrap_or(0);
        Span {
            start: self.base + self.pos,
            len: len
                .max(1)
                .min(self.line.len().saturating_sub(self.pos))
                .max(1),
        }
    }
    fn until(&mut self, c: char) -> Option<&'a str> {
        let rest = &self.line[self.pos..];
        let end = rest.find(c)?;
        self.pos += end + c.len_utf8();
        Some(&rest[..end])
    }
    /// `[<number>]`
    fn bracket_number(&mut self) -> Result<u32, Span> {
        let at = self.span_here();
        if !self.eat('[') {
            return Err(at);
        }
        let inner = self.until(']').ok_or(at)?;
        inner.trim().parse().map_err(|_| at)
    }
    /// `(<hex>)`, optional
    fn paren_guid(&mut self) -> Result<(), Span> {
        let at = self.span_here();
        if self.eat('(') {
            let inner = self.until(')').ok_or(at)?;
            if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(at);
            }
        }
        Ok(())
    }
    /// `"<text>"`
    fn quoted(&mut self) -> Result<&'a str, Span> {
        let at = self.span_here();
        if !self.eat('"') {
            return Err(at);
        }
        self.until('"').ok_or(at)
    }
}

fn is_node_id(s: &str) -> bool {
    (s.starts_with("S-") || s.starts_with("H-") || s.starts_with("R-"))
        && s.len() == 18
        && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn syntax(span: Span, what: impl Into<String>, label: &str) -> Diagnostic {
    Diagnostic::error("FP940", what)
        .at(span, label.to_string())
        .help("this is not a line of `ibnetdiscover` output; docs/as-built.md shows the header and port line shapes")
}

/// The part after `#` on a port line: the peer's description and the link's speed.
fn port_tail(c: &mut Cursor) -> Result<(String, Option<LinkSpeed>), Diagnostic> {
    c.skip_ws();
    if !c.eat('#') {
        return Err(syntax(
            c.span_here(),
            "expected `#` and the peer's description",
            "expected `#` here",
        ));
    }
    // CA lines carry `lid <lid> lmc <lmc>` before the description.
    let rest = &c.line[c.pos..];
    let Some(q) = rest.find('"') else {
        return Err(syntax(
            c.span_here(),
            "the port line has no quoted peer description",
            "expected `\"` after this",
        ));
    };
    c.pos += q;
    let description = c
        .quoted()
        .map_err(|s| {
            syntax(
                s,
                "the peer description's quote is not closed",
                "opened here",
            )
        })?
        .to_string();
    let tail_start = c.pos;
    let tail = &c.line[tail_start..];
    let mut speed = None;
    let mut offset = 0;
    for word in tail.split_whitespace() {
        let at = tail[offset..]
            .find(word)
            .map(|i| i + offset)
            .unwrap_or(offset);
        offset = at + word.len();
        if word == "lid" || word.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let span = Span {
            start: c.base + tail_start + at,
            len: word.len(),
        };
        let parsed = word.split_once('x').and_then(|(w, s)| {
            let width: u32 = w.parse().ok().filter(|w| *w > 0)?;
            Some((width, s))
        });
        let Some((width, name)) = parsed else {
            return Err(syntax(
                span,
                format!("`{word}` is not a link width and speed"),
                "expected `<lanes>x<speed>`, e.g. `4xNDR`",
            ));
        };
        let Some(g4) = gbps_4x(name) else {
            return Err(
                Diagnostic::error("FP940", format!("`{name}` is not an InfiniBand speed"))
                    .at(span, "unknown speed")
                    .help("speeds are SDR, DDR, QDR, FDR10, FDR, EDR, HDR, NDR, XDR"),
            );
        };
        speed = Some(LinkSpeed {
            text: word.to_string(),
            width: Some(width),
            gbps: Some(g4 * width / 4),
        });
    }
    Ok((description, speed))
}

fn port_line(c: &mut Cursor, kind: Kind) -> Result<PortLine, Diagnostic> {
    let start = c.base + c.pos;
    let port = c
        .bracket_number()
        .map_err(|s| syntax(s, "expected the local port as `[<number>]`", "here"))?;
    if kind != Kind::Switch {
        c.paren_guid()
            .map_err(|s| syntax(s, "expected the port GUID as `(<hex>)`", "here"))?;
    }
    c.skip_ws();
    let id_at = c.span_here();
    let peer_id = c
        .quoted()
        .map_err(|s| {
            syntax(
                s,
                "expected the peer's id in quotes (`\"S-...\"` or `\"H-...\"`)",
                "here",
            )
        })?
        .to_string();
    if !is_node_id(&peer_id) {
        return Err(syntax(
            id_at,
            format!("`{peer_id}` is not a node id (`S-` or `H-` and 16 hex digits)"),
            "here",
        ));
    }
    let peer_port = c
        .bracket_number()
        .map_err(|s| syntax(s, "expected the peer's port as `[<number>]`", "here"))?;
    c.paren_guid()
        .map_err(|s| syntax(s, "expected the peer port GUID as `(<hex>)`", "here"))?;
    let (peer_description, speed) = port_tail(c)?;
    let end = c.base + c.line.trim_end().len();
    Ok(PortLine {
        port,
        peer_id,
        peer_port,
        peer_description,
        speed,
        span: Span {
            start,
            len: end - start,
        },
    })
}

fn header(c: &mut Cursor) -> Result<(Kind, u32, String, String), Diagnostic> {
    let word_end = c.line.find([' ', '\t']).unwrap_or(c.line.len());
    let kind = match &c.line[..word_end] {
        "Switch" => Kind::Switch,
        "Ca" => Kind::Ca,
        "Rt" => Kind::Router,
        _ => unreachable!("header() is called on Switch, Ca and Rt lines only"),
    };
    c.pos = word_end;
    c.skip_ws();
    let at = c.span_here();
    let digits = c.line[c.pos..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let ports: u32 = c.line[c.pos..c.pos + digits]
        .parse()
        .map_err(|_| syntax(at, "expected the node's port count", "here"))?;
    c.pos += digits;
    c.skip_ws();
    let id_at = c.span_here();
    let id = c
        .quoted()
        .map_err(|s| syntax(s, "expected the node id in quotes", "here"))?
        .to_string();
    if !is_node_id(&id) {
        return Err(syntax(
            id_at,
            format!("`{id}` is not a node id (`S-` or `H-` and 16 hex digits)"),
            "here",
        ));
    }
    c.skip_ws();
    let description = if c.eat('#') {
        c.skip_ws();
        c.quoted()
            .map_err(|s| syntax(s, "expected the node description in quotes", "here"))?
            .to_string()
    } else {
        String::new()
    };
    Ok((kind, ports, id, description))
}

/// Parses `ibnetdiscover` output into half links (one per port line, SHARP ports skipped).
pub fn parse(text: &str, file: usize) -> Parsed {
    let mut out = Parsed::default();
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let base = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            current = None;
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut c = Cursor {
            line,
            pos: indent,
            base,
        };
        let body = &line[indent..];
        let first = body.split([' ', '\t']).next().unwrap_or("");
        if [
            "vendid",
            "devid",
            "sysimgguid",
            "switchguid",
            "caguid",
            "routerguid",
        ]
        .iter()
        .any(|k| body.starts_with(&format!("{k}=")))
        {
            continue;
        }
        if matches!(first, "Switch" | "Ca" | "Rt") {
            let mut hc = Cursor {
                line: body,
                pos: 0,
                base: base + indent,
            };
            match header(&mut hc) {
                Ok((kind, ports, id, description)) => {
                    if nodes.contains_key(&id) {
                        out.diagnostics.push(
                            Diagnostic::error("FP940", format!("node `{id}` has a second block"))
                                .at(Span { start: base + indent, len: body.len() }, "second block")
                                .help("each node appears once in `ibnetdiscover` output; concatenated captures need separate files"),
                        );
                        current = None;
                        continue;
                    }
                    nodes.insert(
                        id.clone(),
                        Node {
                            kind,
                            ports,
                            description,
                            lines: Vec::new(),
                        },
                    );
                    order.push(id.clone());
                    current = Some(id);
                }
                Err(d) => {
                    out.diagnostics.push(d);
                    current = None;
                }
            }
            continue;
        }
        if body.starts_with('[') {
            let Some(id) = &current else {
                out.diagnostics.push(syntax(
                    Span {
                        start: base + indent,
                        len: body.len(),
                    },
                    "a port line outside a node block",
                    "no `Switch` or `Ca` header above",
                ));
                continue;
            };
            let node = nodes.get_mut(id).expect("current node exists");
            match port_line(&mut c, node.kind) {
                Ok(p) => node.lines.push(p),
                Err(d) => out.diagnostics.push(d),
            }
            continue;
        }
        out.diagnostics.push(syntax(
            Span {
                start: base + indent,
                len: body.len().max(1),
            },
            format!(
                "unrecognised line `{}`",
                body.chars().take(40).collect::<String>()
            ),
            "not a header, port or GUID line",
        ));
    }
    // Second pass: names come from each node's own block where there is one, else from the
    // description on the port line that reaches it.
    for id in &order {
        let node = &nodes[id];
        if node.kind != Kind::Switch && node.description.trim() == SHARP_DESCRIPTION {
            continue;
        }
        out.viewers.insert(id.to_ascii_lowercase());
        for p in &node.lines {
            let peer_node = nodes.get(&p.peer_id);
            let peer_kind = match peer_node {
                Some(n) => n.kind,
                None if p.peer_id.starts_with("S-") => Kind::Switch,
                None => Kind::Ca,
            };
            let peer_description = peer_node
                .map(|n| n.description.as_str())
                .unwrap_or(&p.peer_description);
            if peer_kind != Kind::Switch && peer_description.trim() == SHARP_DESCRIPTION {
                out.skipped_internal += 1;
                continue;
            }
            let peer_ports = peer_node.map(|n| n.ports).unwrap_or(1);
            out.halves.push(HalfLink {
                local: naming(node.kind, id, &node.description, node.ports, p.port),
                peer: naming(
                    peer_kind,
                    &p.peer_id,
                    peer_description,
                    peer_ports,
                    p.peer_port,
                ),
                speed: p.speed.clone(),
                seen: Seen { file, span: p.span },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str =
        include_str!("../../tests/fixtures/as-built/ibnetdiscover/ufm-small-mixed-speeds.txt");

    #[test]
    fn small_lab_reads_both_views_of_every_cable() {
        let p = parse(SMALL, 0);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        // 16 links, each seen twice, minus the SHARP link seen from the switch only (its CA
        // block is skipped): 2 x 15 host and switch links + the 2 loopbacks' 4 port lines.
        assert_eq!(p.skipped_internal, 1);
        assert_eq!(p.halves.len(), 2 * 15);
    }

    #[test]
    fn missing_speed_is_not_an_error() {
        let text = "Switch\t41 \"S-b8599f0300fc6de4\"\t\t# \"MF0;sw1:MQM8700/U1\" enhanced port 0 lid 13 lmc 0\n[3]\t\"S-0002c903007b78b0\"[1]\t\t# \"MF0;sw2:SX6036/U1\" lid 19\n";
        let p = parse(text, 0);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.halves.len(), 1);
        assert!(p.halves[0].speed.is_none());
        assert_eq!(p.halves[0].peer.device, "sw2");
    }

    #[test]
    fn bad_lines_get_fp940_at_their_column() {
        let text = "Switch\t41 \"S-b8599f0300fc6de4\"\t\t# \"MF0;sw1:MQM8700/U1\"\n[3]\t\"S-0002c903007b78b0\"[1]\t\t# \"MF0;sw2:SX6036/U1\" lid 19 4xQQQ\nbogus\n";
        let p = parse(text, 0);
        let codes: Vec<_> = p.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["FP940", "FP940"]);
    }
}
