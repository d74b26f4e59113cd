//! Child runs: `sub_cascades` and `async_cascades`, `for_each_row`, cascades used as tools
//! and the `spawn_cascade`/`map_cascade` tools.

pub mod cascade_as_tool;
pub mod for_each_row;
pub mod spawn_tools;
pub mod sub_cascades;
