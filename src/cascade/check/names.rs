//! Names that must resolve: tools (`tackle`, `tool`), validators, referenced cascades.

use super::{suggest, Ctx};
use crate::cascade::catalog::{self, ToolStatus};
use crate::cascade::decode::decode;
use crate::cascade::diagnostic::Diagnostic;
use crate::cascade::model::{InlineValidator, JudgeValidator, Phase, Soundings, ValidatorDef, ValidatorRef};
use crate::cascade::resolve::resolve_reference;
use crate::cascade::tree::{join_index, join_key};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (name, value) in &ctx.cascade.validators {
        cascade_validator(ctx, name, value, out);
    }
    if let Some(s) = &ctx.cascade.soundings {
        soundings_validators(ctx, s, "soundings", out);
    }
    for (i, phase) in ctx.cascade.phases.iter().enumerate() {
        let path = ctx.phase_path(i);
        tackle(ctx, phase, &path, out);
        if let Some(tool) = &phase.tool {
            deterministic_tool(ctx, tool, &join_key(&path, "tool"), out);
        }
        validators(ctx, phase, &path, out);
        references(ctx, phase, &path, out);
    }
}

/// A cascade-level `validators` entry: an LLM judge `{instructions, model, max_turns}`, or
/// another validator (a name or an inline form) that must itself resolve.
fn cascade_validator(ctx: &Ctx<'_>, name: &str, value: &serde_json::Value, out: &mut Vec<Diagnostic>) {
    let p = join_key("validators", name);
    if ValidatorDef::is_judge(value) {
        // Located errors and unknown-key warnings, like the rest of the file.
        decode::<JudgeValidator>(value, &p, &ctx.loaded.spans, out);
        return;
    }
    match serde_json::from_value::<ValidatorRef>(value.clone()) {
        // A name refers to another validator; it must not be this one.
        Ok(ValidatorRef::Name(other)) if other == name => out.push(ctx.error(
            "invalid-value",
            &p,
            format!("validator `{name}` refers to itself"),
        )),
        Ok(v) => validator(ctx, &v, &p, out),
        Err(_) => out.push(ctx.error(
            "invalid-value",
            &p,
            format!("validator `{name}` must be an LLM judge ({{instructions, model, max_turns}}), an inline validator ({{bash: ...}}, {{python: ...}} or {{tool, inputs}}) or a validator name"),
        )),
    }
}

enum ToolUse {
    Tackle,
    Deterministic,
}

fn tool_name(ctx: &Ctx<'_>, name: &str, path: &str, usage: ToolUse, out: &mut Vec<Diagnostic>) {
    match catalog::tool_status(name) {
        Some(ToolStatus::Builtin) => {}
        Some(ToolStatus::Unsupported { feature }) => out.push(ctx.warning(
            "unsupported-tool",
            path,
            format!("tool `{name}` needs {feature}, which this build does not provide; the phase fails if it is used"),
        )),
        None => match ctx.tool_path.find(name) {
            Some(found) if matches!(usage, ToolUse::Tackle) && !found.has_inputs_schema => out.push(ctx.error(
                "unknown-tool",
                path,
                format!(
                    "`{name}` is the cascade {} but it declares no `inputs_schema`, so it cannot be used as a tool",
                    found.path.display()
                ),
            )),
            Some(_) => {}
            None if ctx.tool_path.find_tool_file(name).is_some() => {
                if let Some(Err(why)) = ctx.tool_path.find_tool_file(name).map(|t| &t.def) {
                    out.push(ctx.error("bad-tool-file", path, format!("tool `{name}`: {why}")));
                }
            }
            None => {
                let builtins = catalog::BUILTIN_TOOLS.iter().map(|(n, _)| *n);
                let ids: Vec<&str> = ctx.tool_path.entries().iter().map(|c| c.cascade_id.as_str()).collect();
                let hint = suggest(name, builtins.chain(ids.iter().copied()));
                out.push(ctx.error(
                    "unknown-tool",
                    path,
                    format!(
                        "unknown tool `{name}`: not a built-in tool and no cascade with that cascade_id in {}{hint}",
                        search_dirs(ctx)
                    ),
                ))
            }
        },
    }
}

fn search_dirs(ctx: &Ctx<'_>) -> String {
    let dirs: Vec<String> = ctx.tool_path.dirs().iter().map(|d| d.display().to_string()).collect();
    format!("the tool path ({})", dirs.join(", "))
}

fn tackle(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    let key = join_key(path, "tackle");
    for (j, name) in phase.tackle.tools.iter().enumerate() {
        // `manifest` entries were filtered out, so indices may shift; point at the list then.
        let p = if phase.tackle.manifest { key.clone() } else { join_index(&key, j) };
        tool_name(ctx, name, &p, ToolUse::Tackle, out);
    }
}

fn deterministic_tool(ctx: &Ctx<'_>, tool: &str, path: &str, out: &mut Vec<Diagnostic>) {
    if let Some(file) = tool.strip_prefix("sql:") {
        let file = file.trim();
        if resolve_reference(file, &ctx.loaded.dir(), &ctx.cwd).is_none() {
            out.push(ctx.error(
                "missing-file",
                path,
                format!("`{tool}` names the SQL file `{file}`, which does not exist next to the cascade or in the working directory"),
            ));
        }
        return;
    }
    if let Some(script) = tool.strip_prefix("shell:") {
        if script.trim().is_empty() {
            out.push(ctx.error("invalid-value", path, "`shell:` needs a script after the colon".into()));
        }
        return;
    }
    tool_name(ctx, tool, path, ToolUse::Deterministic, out);
}

fn validators(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    if let Some(v) = &phase.rules.loop_until {
        validator(ctx, v, &join_key(&join_key(path, "rules"), "loop_until"), out);
    }
    for (kind, wards) in [("pre", &phase.wards.pre), ("post", &phase.wards.post), ("turn", &phase.wards.turn)] {
        for (j, ward) in wards.iter().enumerate() {
            let p = join_key(&join_index(&join_key(&join_key(path, "wards"), kind), j), "validator");
            validator(ctx, &ward.validator, &p, out);
        }
    }
    if let Some(s) = &phase.soundings {
        soundings_validators(ctx, s, &join_key(path, "soundings"), out);
    }
}

fn soundings_validators(ctx: &Ctx<'_>, s: &Soundings, path: &str, out: &mut Vec<Diagnostic>) {
    if let Some(v) = &s.validator {
        validator(ctx, v, &join_key(path, "validator"), out);
    }
    if let Some(t) = s.reforge.as_ref().and_then(|r| r.threshold.as_ref()) {
        validator(ctx, &t.validator, &join_key(&join_key(&join_key(path, "reforge"), "threshold"), "validator"), out);
    }
}

fn validator(ctx: &Ctx<'_>, v: &ValidatorRef, path: &str, out: &mut Vec<Diagnostic>) {
    match v {
        ValidatorRef::Name(name) => {
            if ctx.cascade.validators.contains_key(name)
                || catalog::is_builtin_validator(name)
                || ctx.tool_path.find(name).is_some()
            {
                return;
            }
            let candidates = catalog::BUILTIN_VALIDATORS
                .iter()
                .map(|(n, _)| *n)
                .chain(ctx.cascade.validators.keys().map(String::as_str));
            out.push(ctx.error(
                "unknown-validator",
                path,
                format!(
                    "unknown validator `{name}`: not in this cascade's `validators`, not a built-in validator, and no cascade with that cascade_id in {}{}",
                    search_dirs(ctx),
                    suggest(name, candidates)
                ),
            ));
        }
        ValidatorRef::Inline(InlineValidator::Tool { tool, .. }) => {
            tool_name(ctx, tool, &join_key(path, "tool"), ToolUse::Deterministic, out)
        }
        // Inline scripts run as local subprocesses; `run` asks for --allow-shell up front.
        ValidatorRef::Inline(
            InlineValidator::Python(_) | InlineValidator::JavaScript(_) | InlineValidator::Bash(_),
        ) => {}
    }
}

fn references(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    let subs = phase.sub_cascades.iter().map(|s| ("sub_cascades", &s.reference));
    let asyncs = phase.async_cascades.iter().map(|s| ("async_cascades", &s.reference));
    let mut counters = std::collections::HashMap::new();
    for (key, reference) in subs.chain(asyncs) {
        let j = counters.entry(key).and_modify(|n| *n += 1).or_insert(0usize);
        let p = join_key(&join_index(&join_key(path, key), *j), "ref");
        reference_exists(ctx, phase, reference, &p, out);
    }
    if let Some(cascade) = phase.for_each_row.as_ref().and_then(|f| f.cascade.as_ref()) {
        let p = join_key(&join_key(path, "for_each_row"), "cascade");
        reference_exists(ctx, phase, cascade, &p, out);
    }
}

fn reference_exists(ctx: &Ctx<'_>, phase: &Phase, reference: &str, path: &str, out: &mut Vec<Diagnostic>) {
    if resolve_reference(reference, &ctx.loaded.dir(), &ctx.cwd).is_none() {
        // A warning, not an error: references are also looked up in the working directory
        // at run time, which may differ from where `check` runs.
        out.push(ctx.warning(
            "missing-cascade",
            path,
            format!(
                "phase `{}` refers to the cascade `{reference}`, which is not found next to {} or in the working directory; the phase fails at run time unless it exists then",
                phase.name,
                ctx.loaded.path.display()
            ),
        ));
    }
}
