//! Adapters for other tools' file formats: read `nvidia-smi` MIG tables and mig-parted
//! configs. Each parser returns span-carrying `InputError`s naming the file and line.

pub mod mig_parted;
pub mod nvidia_smi;
