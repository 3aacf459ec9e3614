//! GPU, switch and NIC models: data and lookup.
//!
//! (Interim: the GPU table below holds the models the shipped fabrics use; the full catalog
//! with MIG profile tables replaces it.)

pub mod switches;

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
pub struct GpuModel {
    pub key: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub memory_gib: f64,
    pub hbm_tbps: f64,
    pub tdp_w: u32,
    pub nvlink_gen: u8,
    pub nvlink_gbytes_per_s: u32,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    gpus: Vec<GpuModel>,
}

impl Catalog {
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            let g = |key: &str,
                     name: &str,
                     aliases: &[&str],
                     mem: f64,
                     bw: f64,
                     tdp: u32,
                     gen: u8,
                     nvl: u32| GpuModel {
                key: key.into(),
                name: name.into(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                memory_gib: mem,
                hbm_tbps: bw,
                tdp_w: tdp,
                nvlink_gen: gen,
                nvlink_gbytes_per_s: nvl,
            };
            // fabric.md §1 and §5.
            Catalog {
                gpus: vec![
                    g("b200", "NVIDIA B200", &[], 180.0, 8.0, 1000, 5, 1800),
                    g("gb200", "NVIDIA GB200", &[], 186.0, 8.0, 1200, 5, 1800),
                    g(
                        "h100-80gb",
                        "NVIDIA H100 80GB HBM3",
                        &["h100"],
                        80.0,
                        3.35,
                        700,
                        4,
                        900,
                    ),
                    g(
                        "h200-141gb",
                        "NVIDIA H200",
                        &["h200"],
                        141.0,
                        4.8,
                        700,
                        4,
                        900,
                    ),
                ],
            }
        })
    }

    pub fn gpu(&self, name: &str) -> Option<&GpuModel> {
        self.gpus.iter().find(|g| {
            g.key.eq_ignore_ascii_case(name)
                || g.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    pub fn gpus(&self) -> impl Iterator<Item = &GpuModel> {
        self.gpus.iter()
    }
}
