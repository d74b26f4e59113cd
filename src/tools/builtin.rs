//! The registry of the built-in local tools. Tools that need the engine or the store
//! (`ask_human`, the signals, sub-cascades) are provided where they are built.

use super::demo::{FileExists, ParseJson, TransformData, ValidateSql};
use super::files::{ListFiles, ReadFile, WriteFile};
use super::shell::{LinuxShell, RunCode};
use super::sql::{Research, SmartSqlRun, SqlData};
use super::state::{RouteTo, SetState};
use super::{Registry, Tool};
use std::sync::Arc;

/// Every built-in tool of this module, by name.
pub fn builtin_registry() -> Registry {
    let [python, js, clojure] = super::data::CodeData::all().map(|t| Arc::new(t) as Arc<dyn Tool>);
    let tools: [Arc<dyn Tool>; 19] = [
        Arc::new(SetState),
        Arc::new(RouteTo),
        Arc::new(ReadFile),
        Arc::new(WriteFile),
        Arc::new(ListFiles),
        Arc::new(LinuxShell),
        Arc::new(RunCode),
        Arc::new(ValidateSql),
        Arc::new(TransformData),
        Arc::new(FileExists),
        Arc::new(ParseJson),
        Arc::new(SqlData),
        Arc::new(SmartSqlRun),
        Arc::new(Research::query()),
        Arc::new(Research::execute()),
        python,
        js,
        clojure,
        Arc::new(super::data::bash::BashData),
    ];
    let mut registry = Registry::new();
    for tool in tools {
        registry.register(tool);
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cascade::catalog::{BUILTIN_TOOLS, DEMO_FUNCTIONS};

    /// Catalog tools registered by other modules (engine, store, SQL).
    const PROVIDED_ELSEWHERE: &[&str] =
        &["spawn_cascade", "map_cascade", "ask_human", "await_signal", "fire_signal", "windlass_data"];

    #[test]
    fn the_catalog_and_the_registry_agree() {
        let registry = builtin_registry();
        for (name, _) in BUILTIN_TOOLS {
            let here = registry.get(name).is_some();
            let elsewhere = PROVIDED_ELSEWHERE.contains(name);
            assert!(here != elsewhere, "`{name}` must be provided exactly once (here: {here}, elsewhere: {elsewhere})");
        }
        for name in registry.names() {
            assert!(BUILTIN_TOOLS.iter().any(|(known, _)| *known == name), "`{name}` is missing from the catalog");
        }
        for name in DEMO_FUNCTIONS {
            assert!(registry.get(name).is_some(), "demo function `{name}`");
        }
    }

    #[test]
    fn parameters_are_object_schemas() {
        for tool in builtin_registry().iter() {
            let schema = tool.parameters();
            assert_eq!(schema["type"], "object", "{}", tool.name());
            for required in schema["required"].as_array().unwrap() {
                let name = required.as_str().unwrap();
                assert!(schema["properties"].get(name).is_some(), "{}: {name}", tool.name());
            }
            assert!(!tool.description().is_empty());
        }
    }
}
