//! Arrivals and departures over time: the capacity view before promising capacity. Pods
//! arrive at their `arrival_s` and run for `duration_s` once placed; a pod that fits
//! nowhere waits in a queue, which is retried in arrival order after every departure (a
//! later pod may start before an earlier one that still does not fit: backfill). Nothing
//! placed is moved. Reports utilization over time, queueing delay and job completion time
//! (delay plus run time) per tenant.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use serde::Serialize;

use super::frag::Workload;
use super::trace::Trace;
use super::{policy, Cluster, Placement, PodSpec, Rng, State};

/// One point of the utilization series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub time_s: u64,
    /// Allocated GPUs over all GPUs, percent.
    pub allocation_pct: f64,
    /// GPU thousandths asked by running pods plus waiting ones, percent of all GPUs.
    pub demand_pct: f64,
    pub running: u64,
    pub queued: u64,
}

/// Delays or completion times of one tenant, seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    pub p50: u64,
    pub p95: u64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantRow {
    pub tenant: String,
    pub pods: u64,
    /// Pods that had to wait at all.
    pub delayed: u64,
    pub queueing_delay_s: Spread,
    pub completion_time_s: Spread,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Result {
    pub policy: String,
    pub seed: u64,
    pub pods: u64,
    pub start_s: u64,
    pub end_s: u64,
    /// Mean allocation over the time from the first arrival to the last departure, percent.
    pub mean_allocation_pct: f64,
    pub peak_allocation_pct: f64,
    pub max_queued: u64,
    pub tenants: Vec<TenantRow>,
    pub series: Vec<Sample>,
}

fn spread(mut v: Vec<u64>) -> Spread {
    v.sort_unstable();
    let at = |q: f64| -> u64 {
        if v.is_empty() {
            0
        } else {
            v[((v.len() - 1) as f64 * q).round() as usize]
        }
    };
    Spread {
        mean: if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<u64>() as f64 / v.len() as f64
        },
        p50: at(0.5),
        p95: at(0.95),
        max: v.last().copied().unwrap_or(0),
    }
}

/// The shape of a pod: pods of one shape fit or fail together in one retry round.
fn shape(p: &PodSpec) -> (u64, u64, u32, u32, u64) {
    (p.cpu_milli, p.memory_mib, p.num_gpu, p.gpu_milli, p.models)
}

/// What runs: departures by time, each pod's placement and start.
struct Running {
    departures: BinaryHeap<Reverse<(u64, usize)>>,
    placements: Vec<Option<Placement>>,
    started: Vec<u64>,
}

/// Places pod `i` at `now` if the policy finds room.
fn try_place(
    i: usize,
    now: u64,
    pods: &[PodSpec],
    state: &mut State,
    policy: &mut dyn super::Policy,
    rng: &mut Rng,
    run: &mut Running,
) -> bool {
    let pod = &pods[i];
    match policy.place(state, pod, rng) {
        Some(p) => {
            state.place(pod, &p);
            policy.changed(state, p.node);
            run.placements[i] = Some(p);
            run.started[i] = now;
            run.departures
                .push(Reverse((now + pod.duration_s.unwrap_or(0), i)));
            true
        }
        None => false,
    }
}

/// Replays `trace` (every pod has `arrival_s` and `duration_s`) with one policy; `points`
/// samples of the utilization series.
pub fn replay(
    cluster: &Cluster,
    workload: &Workload,
    trace: &Trace,
    policy_name: &str,
    seed: u64,
    points: usize,
) -> Result {
    let pods = &trace.pods;
    let mut policy = policy(policy_name, cluster, workload).expect("known policy");
    let mut rng = Rng::new(seed);
    let mut state = State::new(cluster).with_tie_order(seed);
    let capacity = cluster.gpu_milli().max(1) as f64;
    let mut arrivals: Vec<usize> = (0..pods.len()).collect();
    arrivals.sort_by_key(|&i| (pods[i].arrival_s.unwrap_or(0), i));
    let start_s = arrivals
        .first()
        .map(|&i| pods[i].arrival_s.unwrap_or(0))
        .unwrap_or(0);
    let mut running_set = Running {
        departures: BinaryHeap::new(),
        placements: vec![None; pods.len()],
        started: vec![0; pods.len()],
    };
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut queued_milli = 0u64;
    let mut running = 0u64;
    let mut max_queued = 0u64;
    // (time, allocated, demand, running, queued) after each event time.
    let mut events: Vec<(u64, u64, u64, u64, u64)> = Vec::new();

    let mut next = 0;
    loop {
        let t_arr = arrivals.get(next).map(|&i| pods[i].arrival_s.unwrap_or(0));
        let t_dep = running_set.departures.peek().map(|Reverse((t, _))| *t);
        let now = match (t_arr, t_dep) {
            (None, None) => break,
            (Some(a), None) => a,
            (None, Some(d)) => d,
            (Some(a), Some(d)) => a.min(d),
        };
        // Departures first: what leaves at `now` frees room for what arrives at `now`.
        let mut freed = false;
        while let Some(Reverse((t, i))) = running_set.departures.peek().copied() {
            if t > now {
                break;
            }
            running_set.departures.pop();
            let p = running_set.placements[i].take().expect("running pod");
            state.remove(&pods[i], &p);
            policy.changed(&state, p.node);
            running -= 1;
            freed = true;
        }
        if freed && !queue.is_empty() {
            let mut failed_shapes = Vec::new();
            let mut keep = VecDeque::with_capacity(queue.len());
            while let Some(i) = queue.pop_front() {
                let s = shape(&pods[i]);
                if !failed_shapes.contains(&s)
                    && try_place(
                        i,
                        now,
                        pods,
                        &mut state,
                        policy.as_mut(),
                        &mut rng,
                        &mut running_set,
                    )
                {
                    queued_milli -= pods[i].total_gpu_milli();
                    running += 1;
                } else {
                    if !failed_shapes.contains(&s) {
                        failed_shapes.push(s);
                    }
                    keep.push_back(i);
                }
            }
            queue = keep;
        }
        while next < arrivals.len() && pods[arrivals[next]].arrival_s.unwrap_or(0) == now {
            let i = arrivals[next];
            next += 1;
            if try_place(
                i,
                now,
                pods,
                &mut state,
                policy.as_mut(),
                &mut rng,
                &mut running_set,
            ) {
                running += 1;
            } else {
                queue.push_back(i);
                queued_milli += pods[i].total_gpu_milli();
            }
        }
        max_queued = max_queued.max(queue.len() as u64);
        events.push((
            now,
            state.allocated_milli,
            state.allocated_milli + queued_milli,
            running,
            queue.len() as u64,
        ));
        if t_arr.is_none() && running_set.departures.is_empty() && !queue.is_empty() {
            // Cannot happen for pods that fit an empty node (FP980 removes the others);
            // stop rather than loop.
            break;
        }
    }
    let end_s = events.last().map(|e| e.0).unwrap_or(start_s);
    // Time-weighted mean allocation and a series on an even grid.
    let mut area = 0.0;
    let mut peak = 0u64;
    for w in events.windows(2) {
        area += w[0].1 as f64 * (w[1].0 - w[0].0) as f64;
    }
    for e in &events {
        peak = peak.max(e.1);
    }
    let span = (end_s - start_s).max(1) as f64;
    let mut series = Vec::new();
    let mut k = 0;
    for j in 0..points.max(2) {
        let t = start_s + ((end_s - start_s) as f64 * j as f64 / (points.max(2) - 1) as f64) as u64;
        while k + 1 < events.len() && events[k + 1].0 <= t {
            k += 1;
        }
        if let Some(e) = events.get(k) {
            series.push(Sample {
                time_s: t,
                allocation_pct: 100.0 * e.1 as f64 / capacity,
                demand_pct: 100.0 * e.2 as f64 / capacity,
                running: e.3,
                queued: e.4,
            });
        }
    }
    let mut by_tenant: BTreeMap<u16, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
    for (i, p) in pods.iter().enumerate() {
        let delay = running_set.started[i].saturating_sub(p.arrival_s.unwrap_or(0));
        let e = by_tenant.entry(p.tenant).or_default();
        e.0.push(delay);
        e.1.push(delay + p.duration_s.unwrap_or(0));
    }
    let tenants = by_tenant
        .into_iter()
        .map(|(t, (delays, jct))| TenantRow {
            tenant: trace
                .tenants
                .get(t as usize)
                .cloned()
                .unwrap_or_else(|| t.to_string()),
            pods: delays.len() as u64,
            delayed: delays.iter().filter(|&&d| d > 0).count() as u64,
            queueing_delay_s: spread(delays),
            completion_time_s: spread(jct),
        })
        .collect();
    Result {
        policy: policy_name.to_string(),
        seed,
        pods: pods.len() as u64,
        start_s,
        end_s,
        mean_allocation_pct: 100.0 * area / span / capacity,
        peak_allocation_pct: 100.0 * peak as f64 / capacity,
        max_queued,
        tenants,
        series,
    }
}
