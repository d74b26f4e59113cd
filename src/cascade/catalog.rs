//! What names mean: the tools and validators this build provides, and the ones the
//! original project had that this build knows but does not run (reported as warnings
//! naming the feature, never silently accepted).
//!
//! The runtime registry (`src/tools/`) is tested against this list so the two agree.

/// Tools built into windlass, with a one-line description.
pub const BUILTIN_TOOLS: &[(&str, &str)] = &[
    ("set_state", "store a value in the session state: set_state(key, value)"),
    ("route_to", "choose the next phase among the handoffs: route_to(target)"),
    ("ask_human", "ask the human a question and wait for the answer: ask_human(question, context, ui_hint, options)"),
    ("await_signal", "wait for a named signal: await_signal(signal_name, timeout)"),
    ("fire_signal", "fire a named signal: fire_signal(signal_name, payload)"),
    ("smart_sql_run", "run SQL on a DuckDB database: smart_sql_run(query, db_path)"),
    ("sql_data", "run SQL on the session database and keep the result as table _<phase>"),
    ("python_data", "run Python over earlier phases' data; `result` is kept as table _<phase> (needs --allow-shell)"),
    ("js_data", "run JavaScript (node) over earlier phases' data; `result` is kept as table _<phase> (needs --allow-shell)"),
    ("clojure_data", "run Clojure (bb, nbb or the JVM's clojure) over earlier phases' data; the last value is kept as table _<phase> (needs --allow-shell)"),
    ("bash_data", "run a bash script over the previous table as CSV; its stdout is kept as table _<phase> (needs --allow-shell)"),
    ("windlass_data", "run an LLM phase given inline (inputs.phase_yaml or inputs.code); its structured output is kept as table _<phase>"),
    ("research_query", "query the cascade's research database"),
    ("research_execute", "change the cascade's research database"),
    ("read_file", "read a file inside the working folder"),
    ("write_file", "write a file inside the working folder"),
    ("list_files", "list files inside the working folder"),
    ("run_code", "run a code snippet in a local subprocess (needs --allow-shell)"),
    ("linux_shell", "run a shell command in a local subprocess (needs --allow-shell)"),
    ("spawn_cascade", "start another cascade"),
    ("map_cascade", "run a cascade once per item of a list"),
    ("validate_sql", "demo: check that a SQL query looks valid"),
    ("transform_data", "demo: transform rows of data"),
    ("file_exists", "demo: whether a file exists"),
    ("parse_json", "demo: parse a JSON document"),
];

/// Demo functions reachable as `python:windlass.demo_tools.<fn>`.
pub const DEMO_FUNCTIONS: &[&str] = &["validate_sql", "transform_data", "file_exists", "parse_json"];

/// Tools of the original project that this build recognises but does not provide.
pub const UNSUPPORTED_TOOLS: &[(&str, &str)] = &[
    ("sql_search", "the Elasticsearch schema index"),
    ("sql_query", "external SQL connections"),
    ("list_sql_connections", "external SQL connections"),
    ("rag_search", "RAG (needs an embeddings service)"),
    ("rag_read_chunk", "RAG (needs an embeddings service)"),
    ("rag_list_sources", "RAG (needs an embeddings service)"),
    ("demo_memory", "memory banks (need an embeddings service)"),
    ("sql_patterns_memory", "memory banks (need an embeddings service)"),
    ("take_screenshot", "browser automation"),
    ("rabbitize_start", "browser automation"),
    ("rabbitize_execute", "browser automation"),
    ("say", "text-to-speech"),
    ("create_chart", "chart generation"),
    ("create_vega_lite", "chart generation"),
    ("create_plotly", "chart generation"),
    ("generate_image", "image generation"),
    ("ask_human_custom", "generative UI"),
    ("show_ui", "generative UI"),
];

/// Validators built into windlass.
pub const BUILTIN_VALIDATORS: &[(&str, &str)] = &[
    ("simple_validator", "the output is not empty (and at least `min_length` characters)"),
    ("keyword_validator", "the output contains the required keywords"),
    ("length_check", "the output length is within bounds"),
    ("grammar_check", "an LLM judge of spelling and grammar"),
    ("content_safety", "an LLM judge of safety and appropriateness"),
    ("satisfied", "an LLM judge of whether the task is fully done"),
    ("code_execution_validator", "the code in the output runs without error (needs --allow-shell)"),
];

/// What a tool name means to this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolStatus {
    Builtin,
    /// Known from the original project; this build does not run it.
    Unsupported {
        feature: &'static str,
    },
}

/// Look a tool name up among the built-ins and the known-but-unsupported tools.
///
/// Handles the `python:windlass.demo_tools.<fn>` form. `None` means the name may still be
/// a cascade on the tool path.
pub fn tool_status(name: &str) -> Option<ToolStatus> {
    if let Some(f) = name.strip_prefix("python:") {
        return Some(match f.strip_prefix("windlass.demo_tools.") {
            Some(func) if DEMO_FUNCTIONS.contains(&func) => ToolStatus::Builtin,
            _ => ToolStatus::Unsupported {
                feature: "arbitrary Python functions (only windlass.demo_tools.* are built in)",
            },
        });
    }
    if BUILTIN_TOOLS.iter().any(|(n, _)| *n == name) {
        return Some(ToolStatus::Builtin);
    }
    UNSUPPORTED_TOOLS.iter().find(|(n, _)| *n == name).map(|(_, feature)| ToolStatus::Unsupported { feature })
}

pub fn is_builtin_validator(name: &str) -> bool {
    BUILTIN_VALIDATORS.iter().any(|(n, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        assert_eq!(tool_status("set_state"), Some(ToolStatus::Builtin));
        assert_eq!(tool_status("python:windlass.demo_tools.parse_json"), Some(ToolStatus::Builtin));
        assert!(matches!(tool_status("python:os.system"), Some(ToolStatus::Unsupported { .. })));
        assert!(matches!(tool_status("sql_search"), Some(ToolStatus::Unsupported { .. })));
        assert_eq!(tool_status("no_such_tool"), None);
        assert!(is_builtin_validator("grammar_check"));
        assert!(!is_builtin_validator("grammar"));
    }

    #[test]
    fn no_name_is_both_builtin_and_unsupported() {
        for (name, _) in UNSUPPORTED_TOOLS {
            assert!(!BUILTIN_TOOLS.iter().any(|(b, _)| b == name), "{name}");
        }
    }
}
