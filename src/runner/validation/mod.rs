//! Validation: validators (cascade-level, built-in, scripts, cascades on the tool path) and
//! the verdict they return, and wards, the validators around an LLM phase.

pub mod builtins;
pub mod judges;
pub mod scripts;
pub mod validators;
pub mod wards;
