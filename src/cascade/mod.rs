//! The cascade format: the model (serde types), loading with `file:line:col` errors,
//! validation that collects every diagnostic, and templates.
//!
//! Pure: no tokio, network or database here, and nothing else from this crate.

pub mod diagnostic;
pub mod check;
