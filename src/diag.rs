//! Diagnostics: code, severity, message, labels and help. Rendering-agnostic.
