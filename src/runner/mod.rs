//! The engine: phases, turns, routing, context, tools. Emits [`event::RunEvent`]s and never
//! prints.

pub mod event;
