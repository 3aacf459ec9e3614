//! GPU, switch and NIC models: data and lookup.
