//! Deterministic phases: a tool (registered, a cascade, `python:`, `sql:`, `shell:`) run
//! with rendered inputs, `windlass_data` (an inline LLM phase), and the SQL functions that call
//! back into the engine.

pub mod phase;
pub mod sql_functions;
pub mod tool_specs;
pub mod windlass_data;
