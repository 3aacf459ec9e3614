//! Adapters between fabplan's model and other tools' formats: SARIF out, `nvidia-smi` MIG
//! tables and mig-parted configs in. Parsers return span-carrying errors naming file and line.

pub mod focus;
pub mod ibnetdiscover;
pub mod kueue;
pub mod lldp;
pub mod mig_parted;
pub mod names;
pub mod nvidia_smi;
pub mod openb;
pub mod sarif;
pub mod slurm;

/// YAML text of `v` through serde-saphyr, the one way fabplan writes YAML: long strings
/// stay single-line scalars (no folded `>-` blocks, which some readers mishandle).
pub fn to_yaml<T: serde::Serialize>(v: &T) -> String {
    let opts = serde_saphyr::ser_options! { prefer_block_scalars: false };
    serde_saphyr::to_string_with_options(v, opts).expect("plain data serializes")
}
