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
pub mod otlp;
pub mod sarif;
pub mod slurm;
pub mod topograph;
