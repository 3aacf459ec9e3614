//! HiGHS callbacks that good_lp and the `highs` crate do not expose: the solver's log, sent
//! to stderr instead of stdout (stdout carries the plan), and the MIP's live incumbent for
//! the progress line. Declared against HiGHS's C API (`highs_c_api.h`, `Highs_setCallback`,
//! `Highs_startCallback`; `lp_data/HighsCallbackStruct.h`, `HighsCallbackDataOut`) as
//! `highs-sys` 1.16 builds it; the symbols are in the HiGHS library the `highs` crate links.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Progress, ProgressSink};

/// The leading fields of `HighsCallbackDataOut`, in its order (only these are read).
#[repr(C)]
struct DataOut {
    cbdata: *mut c_void,
    log_type: c_int,
    running_time: f64,
    simplex_iteration_count: c_int,
    ipm_iteration_count: c_int,
    pdlp_iteration_count: c_int,
    qpasm_iteration_count: c_int,
    objective_function_value: f64,
    mip_node_count: i64,
    mip_total_lp_iterations: i64,
    mip_primal_bound: f64,
    mip_dual_bound: f64,
    mip_gap: f64,
}

type Callback =
    unsafe extern "C" fn(c_int, *const c_char, *const DataOut, *mut c_void, *mut c_void);

unsafe extern "C" {
    fn Highs_setCallback(highs: *mut c_void, cb: Option<Callback>, data: *mut c_void) -> c_int;
    fn Highs_startCallback(highs: *mut c_void, callback_type: c_int) -> c_int;
}

/// `kHighsCallbackLogging` and `kHighsCallbackMipInterrupt` of `highs_c_api.h`.
const LOGGING: c_int = 0;
const MIP_INTERRUPT: c_int = 6;

/// Live incumbents are passed on at most this often (the MIP calls back at every node).
const EVERY: Duration = Duration::from_millis(250);

/// What to hook into one solve.
pub struct Hooks {
    /// HiGHS's log on stderr (`fabplan -v`).
    pub log: bool,
    /// Told of HiGHS's incumbent (the model's objective, in its own terms) while it solves.
    pub incumbent: Option<ProgressSink>,
}

struct State {
    log: bool,
    incumbent: Option<ProgressSink>,
    last: Mutex<Option<Instant>>,
}

/// Keeps the callbacks' state alive; must outlive the solve it was attached to.
pub struct Attached(#[allow(dead_code)] Box<State>);

/// Attaches `hooks` to `model` and turns HiGHS's own console output off. `None` when there is
/// nothing to hook (then the caller keeps the model quiet).
pub fn attach(model: &mut highs::Model, hooks: Hooks) -> Option<Attached> {
    if !hooks.log && hooks.incumbent.is_none() {
        return None;
    }
    let state = Box::new(State {
        log: hooks.log,
        incumbent: hooks.incumbent,
        last: Mutex::new(None),
    });
    // Logging goes through the callback only: with output on and the console off, HiGHS
    // writes nothing to stdout (HighsIO.cpp, highsLogUser).
    model.set_option("output_flag", state.log);
    model.set_option("log_to_console", false);
    let ptr = model.as_mut_ptr();
    let data = &*state as *const State as *mut c_void;
    // SAFETY: `ptr` is the live Highs instance of `model`; `data` points into the box that
    // `Attached` keeps alive for as long as the caller solves; `callback` matches
    // `HighsCCallbackType` and only reads `DataOut`'s leading fields.
    unsafe {
        Highs_setCallback(ptr, Some(callback), data);
        if state.log {
            Highs_startCallback(ptr, LOGGING);
        }
        if state.incumbent.is_some() {
            Highs_startCallback(ptr, MIP_INTERRUPT);
        }
    }
    Some(Attached(state))
}

unsafe extern "C" fn callback(
    kind: c_int,
    message: *const c_char,
    out: *const DataOut,
    _data_in: *mut c_void,
    user: *mut c_void,
) {
    // SAFETY: `user` is the `State` registered in `attach`, alive while HiGHS solves.
    let Some(state) = (unsafe { (user as *const State).as_ref() }) else {
        return;
    };
    match kind {
        LOGGING if state.log && !message.is_null() => {
            // SAFETY: HiGHS passes a NUL-terminated message buffer.
            let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        MIP_INTERRUPT => {
            let (Some(sink), Some(out)) = (&state.incumbent, unsafe { out.as_ref() }) else {
                return;
            };
            let mut last = state.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < EVERY) {
                return;
            }
            *last = Some(Instant::now());
            // No incumbent yet is reported as an infinite primal bound.
            let incumbent = Some(out.mip_primal_bound).filter(|x| x.is_finite());
            (sink.0)(&Progress {
                phase: "MILP solving",
                incumbent,
                bound: None,
            });
        }
        _ => {}
    }
}
