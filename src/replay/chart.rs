//! The experiment's chart: GPU allocation against arrived demand, one line (the median over
//! seeds) and one band (min to max) per policy, one panel per pod list. SVG built from the
//! `svg` crate's typed elements, which escape every text and attribute; no markup is built
//! by hand.

use svg::node::element::{Group, Line, Polygon, Polyline, Text, Title};
use svg::Document;

use super::experiment::{Stat, SummaryRow};

/// One line of a panel: (x, median, low, high) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One panel: a title, axes (y is a percentage, 0 to 100) and its lines.
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_max: f64,
    /// Draw the line "y = x" up to 100 (everything arrived is allocated).
    pub ideal: bool,
    pub series: Vec<Series>,
}

/// The experiment's panel: allocation against arrived demand, from (0, 0).
pub fn experiment_panel(title: &str, rows: &[SummaryRow], max_pct: u32) -> Panel {
    let mut series: Vec<Series> = Vec::new();
    for r in rows {
        if !series.iter().any(|s| s.name == r.policy) {
            series.push(Series {
                name: r.policy.clone(),
                points: vec![(0.0, 0.0, 0.0, 0.0)],
            });
        }
        let s = series
            .iter_mut()
            .find(|s| s.name == r.policy)
            .expect("added");
        s.points.push((
            r.step_pct as f64,
            r.allocation_pct.median,
            r.allocation_pct.min,
            r.allocation_pct.max,
        ));
    }
    Panel {
        title: title.to_string(),
        x_label: "arrived GPU demand, % of the cluster's GPUs".into(),
        y_label: "GPUs allocated, %".into(),
        x_max: max_pct as f64,
        ideal: true,
        series,
    }
}

/// The offline plan's lines: its allocation and its bound (median, min-max band) from
/// (0, 0) through the steps it was run at.
pub fn offline_series(rows: &[super::offline::OfflineRow]) -> Vec<Series> {
    let line = |name: &str, pick: &dyn Fn(&super::offline::OfflineRow) -> Option<Stat>| {
        let mut points = vec![(0.0, 0.0, 0.0, 0.0)];
        points.extend(
            rows.iter()
                .filter_map(|r| pick(r).map(|s| (r.step_pct as f64, s.median, s.min, s.max))),
        );
        Series {
            name: name.into(),
            points,
        }
    };
    let mut v = vec![line("offline", &|r| Some(r.allocation_pct.clone()))];
    if rows.iter().any(|r| r.bound_pct.is_some()) {
        v.push(line("offline bound", &|r| r.bound_pct.clone()));
    }
    v
}

const WIDTH: f64 = 760.0;
const PANEL_H: f64 = 420.0;
/// Plot area inside a panel.
const LEFT: f64 = 60.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// A colour per policy (Okabe-Ito, readable with colour blindness).
fn colour(policy: &str) -> &'static str {
    match policy {
        "random" => "#999999",
        "dotprod" => "#56B4E9",
        "clustering" => "#009E73",
        "packing" => "#F0E442",
        "bestfit" => "#E69F00",
        "fgd" => "#0072B2",
        "fabplan" => "#D55E00",
        "offline" => "#000000",
        "offline bound" => "#666666",
        _ => "#CC79A7",
    }
}

/// The SVG document for `panels`.
pub fn svg(panels: &[Panel]) -> Vec<u8> {
    let height = PANEL_H * panels.len().max(1) as f64;
    let mut doc = Document::new()
        .set("width", WIDTH)
        .set("height", height)
        .set("viewBox", (0.0, 0.0, WIDTH, height))
        .set("font-family", "sans-serif")
        .set("font-size", 12);
    for (k, p) in panels.iter().enumerate() {
        doc = doc.add(panel(p, k as f64 * PANEL_H));
    }
    let mut out = doc.to_string().into_bytes();
    out.push(b'\n');
    out
}

fn text(x: f64, y: f64, content: &str) -> Text {
    Text::new(content).set("x", r1(x)).set("y", r1(y))
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) -> Line {
    Line::new()
        .set("x1", r1(x1))
        .set("y1", r1(y1))
        .set("x2", r1(x2))
        .set("y2", r1(y2))
        .set("stroke", stroke)
}

/// Coordinates to a tenth of a pixel: stable bytes, small files.
fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn points(pts: impl Iterator<Item = (f64, f64)>) -> String {
    pts.map(|(x, y)| format!("{},{}", r1(x), r1(y)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn panel(p: &Panel, y0: f64) -> Group {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = PANEL_H - TOP - BOTTOM;
    let max_x = if p.x_max > 0.0 { p.x_max } else { 1.0 };
    let x = |v: f64| LEFT + plot_w * v / max_x;
    let y = |pct: f64| y0 + TOP + plot_h * (1.0 - pct / 100.0);
    let mut g = Group::new().add(
        text(LEFT, y0 + 22.0, &p.title)
            .set("font-size", 14)
            .set("font-weight", "bold"),
    );
    // Grid and axes: about ten ticks on x, every 10% on y.
    let step = nice_step(max_x / 10.0);
    let mut k = 0;
    loop {
        let tick = k as f64 * step;
        if tick > max_x + 1e-9 {
            break;
        }
        g = g
            .add(line(x(tick), y(0.0), x(tick), y(100.0), "#e0e0e0"))
            .add(text(x(tick), y(0.0) + 16.0, &format!("{tick}")).set("text-anchor", "middle"));
        k += 1;
    }
    for k in 0..=10 {
        let v = k as f64 * 10.0;
        g = g
            .add(line(x(0.0), y(v), x(max_x), y(v), "#e0e0e0"))
            .add(text(LEFT - 6.0, y(v) + 4.0, &format!("{v}")).set("text-anchor", "end"));
    }
    if p.ideal {
        // Everything that arrives is allocated, up to a full cluster.
        let full = max_x.min(100.0);
        g = g.add(line(x(0.0), y(0.0), x(full), y(full), "#444444").set("stroke-dasharray", "4 4"));
    }
    g = g.add(
        text(LEFT + plot_w / 2.0, y0 + PANEL_H - 12.0, &p.x_label).set("text-anchor", "middle"),
    );
    let label_y = r1(y0 + TOP + plot_h / 2.0);
    g = g.add(
        text(16.0, label_y, &p.y_label)
            .set("text-anchor", "middle")
            .set("transform", format!("rotate(-90 16 {label_y})")),
    );
    for (k, s) in p.series.iter().enumerate() {
        let c = colour(&s.name);
        let band = points(
            s.points
                .iter()
                .map(|&(a, _, _, hi)| (x(a), y(hi)))
                .chain(s.points.iter().rev().map(|&(a, _, lo, _)| (x(a), y(lo)))),
        );
        let median = points(s.points.iter().map(|&(a, m, _, _)| (x(a), y(m))));
        let ly = y0 + TOP + 8.0 + 20.0 * k as f64;
        let lx = WIDTH - RIGHT + 16.0;
        let last = s.points.last().map(|p| p.1).unwrap_or(0.0);
        g = g
            .add(
                Polygon::new()
                    .set("points", band)
                    .set("fill", c)
                    .set("fill-opacity", 0.2)
                    .set("stroke", "none"),
            )
            .add(
                Polyline::new()
                    .set("points", median)
                    .set("fill", "none")
                    .set("stroke", c)
                    .set("stroke-width", 2)
                    .add(Title::new(s.name.as_str())),
            )
            .add(line(lx, ly, lx + 20.0, ly, c).set("stroke-width", 3))
            .add(text(lx + 26.0, ly + 4.0, &format!("{} {last:.1}%", s.name)));
    }
    g
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * base)
}
