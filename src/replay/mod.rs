//! Online placement and trace replay (issue 9): each arrival is placed by a named policy
//! without moving anything already placed, as Kubernetes-style schedulers (Kueue, KAI,
//! Volcano, the FGD paper's simulator) do.
//!
//! Data flows one way: a [`Cluster`] (nodes with GPUs, CPU and memory) and a list of
//! [`PodSpec`]s (from the openb trace, a fabric, or a generated arrival process) go into
//! [`experiment`] (the paper's "arrived demand vs allocation" experiment, Weng et al.,
//! "Beware of Fragmentation", USENIX ATC '23, section 6) or [`timeline`] (arrivals and
//! departures over time, with a queue). Policies implement [`Policy`], one file each. No IO
//! here: the command reads the files and renders the results.

pub mod bestfit;
pub mod chart;
pub mod clustering;
pub mod dotprod;
pub mod experiment;
pub mod fabplan;
pub mod fgd;
pub mod frag;
pub mod offline;
pub mod output;
pub mod packing;
pub mod random;
pub mod timeline;
pub mod trace;

/// One GPU in thousandths: a GPU-share pod asks `1..1000` of one GPU.
pub const MILLI: u32 = 1000;

/// A node of the cluster: its GPU model (an index into [`Cluster::models`]), GPU count, CPU
/// and host memory offered to pods.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub model: u16,
    pub gpus: u32,
    pub cpu_milli: u64,
    pub memory_mib: u64,
}

/// The cluster a replay places onto: nodes in a fixed order (the tie-break order).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// GPU model names (the trace's codes, `G2`, `T4`, or catalog keys), sorted.
    pub models: Vec<String>,
    pub nodes: Vec<NodeSpec>,
}

impl Cluster {
    /// GPU capacity in thousandths.
    pub fn gpu_milli(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.gpus as u64 * MILLI as u64)
            .sum()
    }
    pub fn gpus(&self) -> u64 {
        self.nodes.iter().map(|n| n.gpus as u64).sum()
    }
}

/// What one pod asks for. `gpu_milli` is per GPU: `num_gpu == 1 && gpu_milli < 1000` is a
/// GPU-share pod (one GPU, time-sliced), `gpu_milli == 1000` asks `num_gpu` whole GPUs of one
/// node, `num_gpu == 0` a CPU-only pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSpec {
    pub name: String,
    /// Index into the tenant names of the trace.
    pub tenant: u16,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    pub num_gpu: u32,
    pub gpu_milli: u32,
    /// Bit `m` set: may run on GPU model `m`; 0: any model.
    pub models: u64,
    /// Arrival and run time in seconds, when the trace has them.
    pub arrival_s: Option<u64>,
    pub duration_s: Option<u64>,
}

impl PodSpec {
    /// GPU thousandths this pod asks in all.
    pub fn total_gpu_milli(&self) -> u64 {
        self.num_gpu as u64 * self.gpu_milli as u64
    }
    pub fn is_share(&self) -> bool {
        self.num_gpu == 1 && self.gpu_milli < MILLI
    }
    pub fn may_use(&self, model: u16) -> bool {
        self.models == 0 || self.models & (1u64 << model) != 0
    }
}

/// The free resources of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeState {
    pub cpu_left: u64,
    pub mem_left: u64,
    /// Free thousandths of each GPU, by GPU index.
    pub gpu_left: Vec<u32>,
    /// GPU pods placed here per kind (share, 1-GPU, 2-GPU...): what `clustering` reads.
    pub kinds: Vec<(u32, u32)>,
}

impl NodeState {
    pub fn gpu_left_total(&self) -> u64 {
        self.gpu_left.iter().map(|&g| g as u64).sum()
    }
    pub fn fully_free_gpus(&self) -> u32 {
        self.gpu_left.iter().filter(|&&g| g == MILLI).count() as u32
    }
}

/// Where a pod went: a node and the GPUs it holds there (empty for a CPU-only pod).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub node: u32,
    pub gpus: Vec<u8>,
}

/// The free resources of the whole cluster while a replay runs.
#[derive(Debug, Clone)]
pub struct State<'c> {
    pub cluster: &'c Cluster,
    pub nodes: Vec<NodeState>,
    /// GPU thousandths held by placed pods.
    pub allocated_milli: u64,
    /// Each node's place in the tie-break order: among nodes with the same score the lowest
    /// rank wins ([`select_host`]). The identity unless [`State::with_tie_order`] drew one.
    pub tie_rank: Vec<u32>,
}

/// The clustering policy's kind of a GPU pod: 0 for a share, else the number of GPUs.
pub fn pod_kind(pod: &PodSpec) -> u32 {
    if pod.is_share() {
        0
    } else {
        pod.num_gpu
    }
}

impl<'c> State<'c> {
    pub fn new(cluster: &'c Cluster) -> Self {
        let nodes = cluster
            .nodes
            .iter()
            .map(|n| NodeState {
                cpu_left: n.cpu_milli,
                mem_left: n.memory_mib,
                gpu_left: vec![MILLI; n.gpus as usize],
                kinds: Vec::new(),
            })
            .collect();
        State {
            cluster,
            nodes,
            allocated_milli: 0,
            tie_rank: (0..cluster.nodes.len() as u32).collect(),
        }
    }

    /// The same state with a tie-break order drawn from `seed` (a uniform permutation of the
    /// nodes, fixed for the whole run). The authors' simulator names every node
    /// `{random index:04}-{name}` from one `rand.Perm` per seed (`syncClusterResourceList`,
    /// `pkg/simulator/simulator.go`) and its patched kube-scheduler breaks score ties by the
    /// smallest name (`selectHost`, `vendor/k8s.io/kubernetes/pkg/scheduler/core/
    /// generic_scheduler.go`: "for reproducibility, choose the smallest lexicographical
    /// order"): ties go to the same nodes first all run long, not to a fresh random node.
    pub fn with_tie_order(mut self, seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x6e6f_6465_5f6f_7264);
        let mut order: Vec<u32> = (0..self.nodes.len() as u32).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for (rank, &node) in order.iter().enumerate() {
            self.tie_rank[node as usize] = rank as u32;
        }
        self
    }

    /// Whether `pod` fits on node `i` at all: GPU model, CPU, memory, and enough GPUs with
    /// room (one GPU with `gpu_milli` free for a share, `num_gpu` free GPUs otherwise).
    /// The simulator's filter (Open-Gpu-Share plus the default CPU and memory fit).
    pub fn fits(&self, i: usize, pod: &PodSpec) -> bool {
        let spec = &self.cluster.nodes[i];
        let node = &self.nodes[i];
        if node.cpu_left < pod.cpu_milli || node.mem_left < pod.memory_mib {
            return false;
        }
        if pod.num_gpu == 0 {
            return true;
        }
        if !pod.may_use(spec.model) {
            return false;
        }
        let fit = node
            .gpu_left
            .iter()
            .filter(|&&g| g >= pod.gpu_milli)
            .count() as u32;
        fit >= pod.num_gpu
    }

    /// Applies a placement (the policy checked it fits).
    pub fn place(&mut self, pod: &PodSpec, p: &Placement) {
        let node = &mut self.nodes[p.node as usize];
        node.cpu_left -= pod.cpu_milli;
        node.mem_left -= pod.memory_mib;
        for &g in &p.gpus {
            node.gpu_left[g as usize] -= pod.gpu_milli;
        }
        if pod.num_gpu > 0 {
            let kind = pod_kind(pod);
            match node.kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, c)) => *c += 1,
                None => {
                    node.kinds.push((kind, 1));
                    node.kinds.sort_unstable();
                }
            }
        }
        self.allocated_milli += pod.total_gpu_milli();
    }

    /// Undoes [`State::place`] (a departure).
    pub fn remove(&mut self, pod: &PodSpec, p: &Placement) {
        let node = &mut self.nodes[p.node as usize];
        node.cpu_left += pod.cpu_milli;
        node.mem_left += pod.memory_mib;
        for &g in &p.gpus {
            node.gpu_left[g as usize] += pod.gpu_milli;
        }
        if pod.num_gpu > 0 {
            let kind = pod_kind(pod);
            if let Some(pos) = node.kinds.iter().position(|(k, _)| *k == kind) {
                node.kinds[pos].1 -= 1;
                if node.kinds[pos].1 == 0 {
                    node.kinds.remove(pos);
                }
            }
        }
        self.allocated_milli -= pod.total_gpu_milli();
    }
}

/// A placement rule. `place` sees the free resources and one pod and returns where the pod
/// goes, or `None` when no node can hold it. It never moves a placed pod. Randomness comes
/// only from `rng`, so a run is a function of its seed.
pub trait Policy: Send {
    fn name(&self) -> &'static str;
    fn place(&mut self, state: &State, pod: &PodSpec, rng: &mut Rng) -> Option<Placement>;
    /// Told after every placement and departure (policies that cache per-node values).
    fn changed(&mut self, _state: &State, _node: u32) {}
}

/// The policies by name, in the order they are listed and run.
pub const POLICY_NAMES: &[&str] = &[
    "random",
    "dotprod",
    "clustering",
    "packing",
    "bestfit",
    "fgd",
    "fabplan",
];

/// A fresh policy by name; `workload` is the target workload the fragmentation-aware
/// policies measure against (the pod list's typical pods).
pub fn policy(name: &str, cluster: &Cluster, workload: &frag::Workload) -> Option<Box<dyn Policy>> {
    Some(match name {
        "random" => Box::new(random::Random),
        "dotprod" => Box::new(dotprod::DotProduct),
        "clustering" => Box::new(clustering::Clustering),
        "packing" => Box::new(packing::Packing),
        "bestfit" => Box::new(bestfit::BestFit),
        "fgd" => Box::new(fgd::Fgd::new(cluster, workload)),
        "fabplan" => Box::new(fabplan::Fabplan::new(cluster, workload)),
        _ => return None,
    })
}

/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): small, fast and fixed here, so the same
/// seed gives the same replay on every platform and crate version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x853c_49e6_748f_ea9b)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (Lemire's multiply-shift; `n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The simulator's node choice: the highest score wins, ties go to the node of lowest
/// [`State::tie_rank`] (the FGD authors' kube-scheduler fork, `selectHost` in
/// `vendor/k8s.io/kubernetes/pkg/scheduler/core/generic_scheduler.go`, picks the smallest
/// node name among the best instead of upstream's uniform random choice; node names carry a
/// per-seed random prefix, see [`State::with_tie_order`]). `score` is called only for nodes
/// that pass `fits`.
pub fn select_host(
    state: &State,
    pod: &PodSpec,
    mut score: impl FnMut(usize) -> i64,
) -> Option<u32> {
    let mut best: Option<(i64, u32, u32)> = None;
    for i in 0..state.nodes.len() {
        if !state.fits(i, pod) {
            continue;
        }
        let s = score(i);
        let rank = state.tie_rank[i];
        if best.is_none_or(|(b, r, _)| s > b || (s == b && rank < r)) {
            best = Some((s, rank, i as u32));
        }
    }
    best.map(|(_, _, i)| i)
}

/// The simulator's default GPU choice on a chosen node (`allocateGpuIdBasedOnBestFit`,
/// `pkg/simulator/plugin/open_gpu_share.go`): a share goes to the GPU with the least room
/// that fits it (lowest index on ties); whole GPUs are the first fully free ones by index.
pub fn gpus_best_fit(node: &NodeState, pod: &PodSpec) -> Vec<u8> {
    if pod.num_gpu == 0 {
        return Vec::new();
    }
    if pod.is_share() {
        let mut best: Option<usize> = None;
        for (g, &left) in node.gpu_left.iter().enumerate() {
            if left >= pod.gpu_milli && best.is_none_or(|b| left < node.gpu_left[b]) {
                best = Some(g);
            }
        }
        return best.map(|g| vec![g as u8]).unwrap_or_default();
    }
    first_free(node, pod.num_gpu)
}

/// The first `n` GPUs with `gpu_milli` free, by index (`AllocateExclusiveGpuId`).
pub fn first_free(node: &NodeState, n: u32) -> Vec<u8> {
    node.gpu_left
        .iter()
        .enumerate()
        .filter(|(_, &g)| g == MILLI)
        .take(n as usize)
        .map(|(g, _)| g as u8)
        .collect()
}
