//! Validators: cascade-level, built-in, script and cascade validators, and the verdict they
//! return.

pub mod builtins;
pub mod scripts;
pub mod validators;
