//! The cascade format: the model (serde types), loading with `file:line:col` errors,
//! validation that collects every diagnostic, and templates.
//!
//! Pure: no tokio, network or database here, and nothing else from this crate.

pub mod catalog;
pub mod check;
pub mod decode;
pub mod diagnostic;
pub mod lax;
pub mod load;
pub mod model;
pub mod requirements;
pub mod resolve;
pub mod schema;
pub mod template;
pub mod tool_file;
pub mod tree;
pub mod triggers;

pub use diagnostic::{Diagnostic, FileReport, Severity};
pub use load::{load_file, load_file_in, load_slice, load_str, Loaded};
pub use model::Cascade;
