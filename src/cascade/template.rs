//! Templates: Jinja syntax rendered with minijinja.
//!
//! Undefined variables render as empty (compat), attribute lookups on them too. Values
//! passed in are data: a rendered result is never rendered again, so an input holding
//! `{{ ... }}` stays literal text.

use minijinja::{Environment, UndefinedBehavior};
use std::collections::BTreeSet;

/// Where a template is used; decides which variables it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// `instructions`, evaluator/aggregator instructions, callouts, human prompts.
    Instructions,
    /// `rules.turn_prompt`.
    TurnPrompt,
    /// `rules.retry_instructions`.
    RetryInstructions,
    /// `soundings.reforge.honing_prompt`.
    HoningPrompt,
    /// Deterministic `inputs`, `input_map`, `factor`.
    Inputs,
    /// `for_each_row` inputs and instructions.
    ForEachRow,
    /// The instructions of an inline `on_error` phase.
    OnError,
    /// The instructions of a cascade-level LLM validator: its input is `{content, original_input}`.
    Validator,
}

/// The input keys a cascade-level LLM validator's instructions may use.
pub const VALIDATOR_INPUTS: &[&str] = &["content", "original_input"];

impl TemplateKind {
    /// The top-level variables available to this kind of template.
    pub fn variables(self) -> &'static [&'static str] {
        const INSTRUCTIONS: &[&str] =
            &["input", "state", "outputs", "lineage", "history", "sounding_index", "sounding_factor", "is_sounding"];
        match self {
            TemplateKind::Instructions => INSTRUCTIONS,
            TemplateKind::TurnPrompt => &[
                "input",
                "state",
                "outputs",
                "lineage",
                "history",
                "sounding_index",
                "sounding_factor",
                "is_sounding",
                "turn",
                "max_turns",
            ],
            TemplateKind::RetryInstructions => {
                &["input", "state", "outputs", "validation_error", "schema_error", "attempt", "max_attempts"]
            }
            TemplateKind::HoningPrompt => &[
                "input",
                "state",
                "outputs",
                "lineage",
                "history",
                "sounding_index",
                "sounding_factor",
                "is_sounding",
                "validation_reason",
                "validation_error",
                "step",
                "steps",
            ],
            TemplateKind::Inputs => &["input", "state", "outputs", "lineage"],
            TemplateKind::ForEachRow => &["input", "state", "outputs", "lineage", "row", "index", "total"],
            TemplateKind::OnError => &["input", "state", "outputs", "lineage", "error"],
            TemplateKind::Validator => &["input", "state", "outputs", "lineage", "history"],
        }
    }
}

/// Names minijinja provides itself; never reported as undeclared.
const GLOBALS: &[&str] = &[
    "range",
    "dict",
    "namespace",
    "debug",
    "loop",
    "lipsum",
    "cycler",
    "joiner",
    "self",
    "super",
    "varargs",
    "kwargs",
    "caller",
];

/// The process-wide template environment (compiling filters once).
pub fn shared() -> &'static Environment<'static> {
    static ENV: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(environment)
}

/// The one template environment: lenient undefined, the filters the corpus uses.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    // Python's Jinja keeps the trailing newline of block scalars only when asked; the
    // original asked, and instructions read the same either way, so keep it.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder().keep_trailing_newline(true).build() {
        env.set_syntax(syntax);
    }
    // A structured value printed whole renders as JSON (cascade-format.md, outputs keep their shape).
    env.set_formatter(|out, state, value| match value.kind() {
        minijinja::value::ValueKind::Map | minijinja::value::ValueKind::Seq => {
            let text = serde_json::to_string(value)
                .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string()))?;
            out.write_str(&text).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.add_filter("from_json", from_json);
    env.add_filter("fromjson", from_json);
    env
}

fn from_json(text: String) -> Result<minijinja::Value, minijinja::Error> {
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("not valid JSON: {e}")))?;
    Ok(minijinja::Value::from(minijinja::value::Serde(v)))
}

/// A template that does not compile.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxIssue {
    /// 1-based line inside the template, when known.
    pub line: Option<usize>,
    pub message: String,
}

/// Compile a template; on success return the variables it reads from outside
/// (dotted: `input.topic`, `outputs.research`).
pub fn analyze(env: &Environment<'_>, source: &str) -> Result<BTreeSet<String>, SyntaxIssue> {
    if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
        return Ok(BTreeSet::new());
    }
    let template = env.template_from_str(source).map_err(|e| SyntaxIssue {
        line: e.line(),
        message: e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string()),
    })?;
    Ok(template
        .undeclared_variables(true)
        .into_iter()
        .filter(|v| !GLOBALS.contains(&v.split('.').next().unwrap_or(v)))
        .collect())
}

/// Render a template with a context. Errors carry minijinja's description.
pub fn render(env: &Environment<'_>, source: &str, ctx: &minijinja::Value) -> Result<String, minijinja::Error> {
    if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
        return Ok(source.to_string());
    }
    env.render_str(source, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn undefined_renders_empty_and_filters_work() {
        let env = environment();
        let ctx = context! { input => context! { items => vec!["a", "b"], n => "3" } };
        let out = render(&env, "[{{ input.missing.deep }}]{{ input.items | join(',') }} {{ input.items | length }} {{ input.n | int + 1 }} {{ x | default('d') }} {{ input.items | tojson }} {{ 'a' | upper }}", &ctx).unwrap();
        assert_eq!(out, "[]a,b 2 4 d [\"a\", \"b\"] A");
    }

    #[test]
    fn inputs_are_never_templates() {
        let env = environment();
        let ctx = context! { input => context! { text => "{{ 7 * 6 }}" } };
        assert_eq!(render(&env, "said: {{ input.text }}", &ctx).unwrap(), "said: {{ 7 * 6 }}");
    }

    #[test]
    fn analyze_reports_syntax_and_variables() {
        let env = environment();
        let vars =
            analyze(&env, "{{ input.topic }} {% for x in outputs.research %}{{ x }}{{ loop.index }}{% endfor %}")
                .unwrap();
        assert!(vars.contains("input.topic"), "{vars:?}");
        assert!(vars.iter().any(|v| v.starts_with("outputs.research")), "{vars:?}");
        assert!(!vars.iter().any(|v| v == "x" || v.starts_with("loop")), "{vars:?}");
        let err = analyze(&env, "line one\n{% if input.x %}\nunclosed").unwrap_err();
        assert!(err.line.is_some());
        assert!(!err.message.is_empty());
    }
}
