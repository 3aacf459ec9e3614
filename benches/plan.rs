//! Planner speed and quality on generated fabrics with generated demand: 1k, 10k and 100k
//! GPUs with up to 5,000 workloads, both demand profiles (`contended`, `mixed`); HiGHS (1%
//! gap, 30 s limit) side by side with the greedy baseline. Run: `cargo bench --bench plan`
//! (filters: a size such as `-- 1024`, a profile such as `-- contended`). Figures go to
//! docs/planner-benchmarks.md.

use std::time::Instant;

use fabplan::fabric::generate::{generate, GenerateRequest, Style};
use fabplan::load::load_fabric_str;
use fabplan::plan::gen::Profile;
use fabplan::plan::{self, PlanOptions, SolverChoice};

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cases = [(1_024u64, 200usize), (10_240, 1_000), (100_000, 5_000)];
    let sizes: Vec<&String> = filter.iter().filter(|f| f.parse::<u64>().is_ok()).collect();
    let profiles: Vec<(Profile, &str)> =
        [(Profile::Contended, "contended"), (Profile::Mixed, "mixed")]
            .into_iter()
            .filter(|(_, n)| {
                !filter.iter().any(|f| f.parse::<u64>().is_err()) || filter.iter().any(|f| f == n)
            })
            .collect();
    println!("| profile | GPUs | workloads | solver | status | seconds | objective | bound | gap | priority-weighted GPUs | admitted |");
    println!("| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &(profile, pname) in &profiles {
        for (gpus, workloads) in cases {
            if !sizes.is_empty() && !sizes.iter().any(|f| **f == gpus.to_string()) {
                continue;
            }
            let req = GenerateRequest {
                gpus,
                style: Style::RailOptimized,
                radix: 128,
                nic_gbps: 400,
                gpu_model: "h100-80gb".into(),
                roce: true,
            };
            let yaml = generate(&req).expect("generate");
            let fabric = load_fabric_str("bench.yaml", &yaml)
                .fabric
                .expect("generated fabric loads");
            let text = plan::gen::generate_demand(&fabric, None, workloads, 1, profile);
            let demand = fabplan::load::demand::demand_from_str("demand.yaml", &text, &fabric)
                .expect("generated demand loads");
            let mut pw = [0.0f64; 2];
            for (i, solver) in [SolverChoice::Greedy, SolverChoice::Highs]
                .into_iter()
                .enumerate()
            {
                let opts = PlanOptions {
                    solver,
                    time_limit_seconds: 30.0,
                    mip_gap: 0.01,
                    ..PlanOptions::default()
                };
                let t = Instant::now();
                let (r, doc) = plan::plan_document(&fabric, &demand, None, &opts);
                let secs = t.elapsed().as_secs_f64();
                pw[i] = doc.summary.priority_weighted_gpus;
                println!(
                "| {pname} | {gpus} | {workloads} | {} | {} | {secs:.2} | {:.1} | {} | {} | {:.1} | {} |",
                r.solver,
                r.status,
                r.objective,
                r.bound
                    .map(|b| format!("{b:.1}"))
                    .unwrap_or_else(|| "-".into()),
                r.gap
                    .map(|g| format!("{:.2}%", g * 100.0))
                    .unwrap_or_else(|| "-".into()),
                pw[i],
                doc.summary.admitted,
            );
            }
            println!(
                "|  |  |  | HiGHS vs greedy |  |  |  |  |  | {:+.1}% |  |",
                (pw[1] / pw[0].max(1e-9) - 1.0) * 100.0
            );
        }
    }
}
