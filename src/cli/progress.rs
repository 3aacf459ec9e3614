//! The progress line of long solves: on stderr, only on a terminal, only after 2 s, never
//! with `-q`. It shows the planner's phase, the elapsed time, and the best plan's objective,
//! the best valid bound and their gap as the planner last reported them (between phases:
//! HiGHS's own incumbent is not reachable through good_lp while it solves).

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::{Progress, ProgressSink};

/// Solves shorter than this show nothing.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

/// The figures shown, kept across phases that bring no new figure.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Shown {
    pub phase: &'static str,
    pub incumbent: Option<f64>,
    pub bound: Option<f64>,
}

impl Shown {
    /// Takes in one report from the planner.
    pub fn update(&mut self, p: &Progress) {
        self.phase = p.phase;
        self.incumbent = p.incumbent.or(self.incumbent);
        self.bound = p.bound.or(self.bound);
    }

    /// The message part of the line: `MILP solving · incumbent 412.0 · bound 430.5 · gap 4.30%`.
    pub fn message(&self) -> String {
        let mut parts = vec![self.phase.to_string()];
        if let Some(i) = self.incumbent {
            parts.push(format!("incumbent {i:.1}"));
        }
        if let Some(b) = self.bound {
            parts.push(format!("bound {b:.1}"));
        }
        if let (Some(i), Some(b)) = (self.incumbent, self.bound) {
            // The planner's gap: (bound - objective) / |bound|, 0 below the bound.
            let gap = ((b - i) / b.abs().max(1e-9)).max(0.0);
            parts.push(format!("gap {:.2}%", 100.0 * gap));
        }
        parts.join(" · ")
    }
}

/// The running progress line; dropping it clears the line (or keeps it from ever showing).
pub struct PlanProgress {
    bar: ProgressBar,
    _stop: mpsc::Sender<()>,
}

impl Drop for PlanProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A progress sink for the planner and the line it draws, when stderr is a terminal and
/// `-q` is not given; `None` otherwise (the planner then reports to nobody).
pub fn plan_progress(started: Instant) -> Option<(ProgressSink, PlanProgress)> {
    if crate::cli::output::quiet() || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        .with_elapsed(started.elapsed());
    bar.set_style(
        ProgressStyle::with_template("{spinner} planning {elapsed:>4} · {msg}")
            .expect("static template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let shown = Arc::new(Mutex::new(Shown::default()));
    let sink = {
        let (bar, shown) = (bar.clone(), Arc::clone(&shown));
        ProgressSink(Arc::new(move |p: &Progress| {
            let mut s = shown.lock().unwrap_or_else(|e| e.into_inner());
            s.update(p);
            bar.set_message(s.message());
        }))
    };
    // Show the line once the solve has run SHOW_AFTER, unless it finished first (the
    // sender is dropped with `PlanProgress`).
    let (stop, wait) = mpsc::channel::<()>();
    let later = bar.clone();
    let delay = SHOW_AFTER.saturating_sub(started.elapsed());
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(delay) {
            if !later.is_finished() {
                later.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    });
    Some((sink, PlanProgress { bar, _stop: stop }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_carry_over_phases_without_new_ones() {
        let mut s = Shown::default();
        s.update(&Progress {
            phase: "greedy",
            incumbent: None,
            bound: None,
        });
        assert_eq!(s.message(), "greedy");
        s.update(&Progress {
            phase: "MILP solving",
            incumbent: Some(412.0),
            bound: Some(430.5),
        });
        assert_eq!(
            s.message(),
            "MILP solving · incumbent 412.0 · bound 430.5 · gap 4.30%"
        );
        s.update(&Progress {
            phase: "naming",
            incumbent: None,
            bound: None,
        });
        assert_eq!(
            s.message(),
            "naming · incumbent 412.0 · bound 430.5 · gap 4.30%"
        );
    }
}
