//! The tools a phase may call: which tool a name means, running a reply's tool calls, and the
//! engine's own tools (asking a human, signals).

pub mod human;
pub mod phase_toolset;
pub mod signals;
