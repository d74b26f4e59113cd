//! An LLM phase: its attempts and turns, the conversation it sees (context, budget,
//! prompting), tool calls found in replies, the tool manifest, output extraction and
//! `output_schema`, and phase-level soundings.

pub mod budget;
pub mod context;
pub mod extraction;
pub mod manifest;
pub mod output_schema;
pub mod phase;
pub mod prompting;
pub mod reply_tool_calls;
pub mod soundings;
pub mod turn;
