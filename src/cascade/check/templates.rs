//! Template checks: every template compiles, and uses only variables that exist there.

use super::Ctx;
use crate::cascade::diagnostic::Diagnostic;
use crate::cascade::model::{Callouts, Factor, HumanInput, OnError, Phase, Soundings};
use crate::cascade::template::{analyze, TemplateKind, VALIDATOR_INPUTS};
use crate::cascade::tree::{join_index, join_key};
use serde_json::Value;

/// One template string of the file.
struct Field<'a> {
    path: String,
    text: &'a str,
    kind: TemplateKind,
    phase: Option<&'a str>,
}

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for field in fields(ctx) {
        check_field(ctx, &field, out);
    }
}

fn fields<'a>(ctx: &Ctx<'a>) -> Vec<Field<'a>> {
    let mut all = Vec::new();
    for (name, v) in &ctx.cascade.validators {
        if let Some(Value::String(t)) = v.get("instructions") {
            let path = join_key(&join_key("validators", name), "instructions");
            all.push(Field { path, text: t, kind: TemplateKind::Validator, phase: None });
        }
    }
    if let Some(s) = &ctx.cascade.soundings {
        soundings_fields(s, "soundings", None, &mut all);
    }
    for (i, phase) in ctx.cascade.phases.iter().enumerate() {
        phase_fields(phase, &ctx.phase_path(i), &mut all);
    }
    all
}

fn phase_fields<'a>(phase: &'a Phase, path: &str, all: &mut Vec<Field<'a>>) {
    let name = Some(phase.name.as_str());
    let mut push = |p: String, text: &'a str, kind| all.push(Field { path: p, text, kind, phase: name });
    if let Some(t) = &phase.instructions {
        push(join_key(path, "instructions"), t, TemplateKind::Instructions);
    }
    let rules = join_key(path, "rules");
    if let Some(t) = &phase.rules.turn_prompt {
        push(join_key(&rules, "turn_prompt"), t, TemplateKind::TurnPrompt);
    }
    if let Some(t) = &phase.rules.retry_instructions {
        push(join_key(&rules, "retry_instructions"), t, TemplateKind::RetryInstructions);
    }
    if let Some(t) = &phase.rules.loop_until_prompt {
        push(join_key(&rules, "loop_until_prompt"), t, TemplateKind::Instructions);
    }
    if let Some(HumanInput::Spec(spec)) = &phase.human_input {
        if let Some(t) = &spec.prompt {
            push(join_key(&join_key(path, "human_input"), "prompt"), t, TemplateKind::Instructions);
        }
    }
    match &phase.callouts {
        Some(Callouts::Label(t)) => push(join_key(path, "callouts"), t, TemplateKind::Instructions),
        Some(Callouts::Spec(spec)) => {
            for (key, t) in [("output", &spec.output), ("messages", &spec.messages)] {
                if let Some(t) = t {
                    push(join_key(&join_key(path, "callouts"), key), t, TemplateKind::Instructions);
                }
            }
        }
        None => {}
    }
    if let Some(OnError::Inline(inline)) = &phase.on_error {
        push(join_key(&join_key(path, "on_error"), "instructions"), &inline.instructions, TemplateKind::OnError);
    }
    for (k, v) in &phase.inputs {
        value_fields(v, &join_key(&join_key(path, "inputs"), k), TemplateKind::Inputs, name, all);
    }
    for (j, s) in phase.sub_cascades.iter().enumerate() {
        let p = join_key(&join_index(&join_key(path, "sub_cascades"), j), "input_map");
        for (k, v) in &s.input_map {
            value_fields(v, &join_key(&p, k), TemplateKind::Inputs, name, all);
        }
    }
    for (j, s) in phase.async_cascades.iter().enumerate() {
        let p = join_key(&join_index(&join_key(path, "async_cascades"), j), "input_map");
        for (k, v) in &s.input_map {
            value_fields(v, &join_key(&p, k), TemplateKind::Inputs, name, all);
        }
    }
    if let Some(f) = &phase.for_each_row {
        let p = join_key(path, "for_each_row");
        if let Some(t) = &f.instructions {
            all.push(Field {
                path: join_key(&p, "instructions"),
                text: t,
                kind: TemplateKind::ForEachRow,
                phase: name,
            });
        }
        for (k, v) in &f.inputs {
            value_fields(v, &join_key(&join_key(&p, "inputs"), k), TemplateKind::ForEachRow, name, all);
        }
    }
    if let Some(s) = &phase.soundings {
        soundings_fields(s, &join_key(path, "soundings"), name, all);
    }
}

fn soundings_fields<'a>(s: &'a Soundings, path: &str, phase: Option<&'a str>, all: &mut Vec<Field<'a>>) {
    let mut push = |p: String, text: &'a str, kind| all.push(Field { path: p, text, kind, phase });
    if let Some(t) = &s.evaluator_instructions {
        push(join_key(path, "evaluator_instructions"), t, TemplateKind::Instructions);
    }
    if let Some(t) = &s.aggregator_instructions {
        push(join_key(path, "aggregator_instructions"), t, TemplateKind::Instructions);
    }
    if let Factor::Template(t) = &s.factor {
        push(join_key(path, "factor"), t, TemplateKind::Inputs);
    }
    if let Some(t) = s.reforge.as_ref().and_then(|r| r.honing_prompt.as_ref()) {
        push(join_key(&join_key(path, "reforge"), "honing_prompt"), t, TemplateKind::HoningPrompt);
    }
}

/// Every string inside an `inputs`-like value is a template.
fn value_fields<'a>(v: &'a Value, path: &str, kind: TemplateKind, phase: Option<&'a str>, all: &mut Vec<Field<'a>>) {
    match v {
        Value::String(s) => all.push(Field { path: path.to_string(), text: s, kind, phase }),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                value_fields(item, &join_index(path, i), kind, phase, all);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                value_fields(item, &join_key(path, k), kind, phase, all);
            }
        }
        _ => {}
    }
}

fn where_(field: &Field<'_>) -> String {
    match field.phase {
        Some(p) => format!("`{}` (phase `{p}`)", field.path),
        None => format!("`{}`", field.path),
    }
}

fn check_field(ctx: &Ctx<'_>, field: &Field<'_>, out: &mut Vec<Diagnostic>) {
    let vars = match analyze(&ctx.env, field.text) {
        Ok(vars) => vars,
        Err(issue) => {
            let mut d = ctx.error(
                "template-syntax",
                &field.path,
                format!("template syntax error in {}: {}", where_(field), issue.message),
            );
            if let Some(file) = ctx.loaded.template_files.get(&field.path) {
                d.message.push_str(&format!(
                    " (in template file {}, line {})",
                    file.display(),
                    issue.line.unwrap_or(1)
                ));
            } else if let (Some(line), Some(tline)) = (d.line, issue.line) {
                let block = ctx.loaded.spans.value(&field.path).is_some_and(|s| s.block);
                d.line = Some(line + tline - 1 + usize::from(block));
                d.column = None;
            }
            out.push(d);
            return;
        }
    };
    let allowed = field.kind.variables();
    let mut reported = std::collections::BTreeSet::new();
    for var in &vars {
        let mut parts = var.split('.');
        let top = parts.next().unwrap_or_default();
        let second = parts.next();
        if !allowed.contains(&top) {
            if reported.insert(top.to_string()) {
                out.push(ctx.warning(
                    "undefined-variable",
                    &field.path,
                    format!(
                        "{} uses `{top}`, which is not defined there (it renders empty); available: {}",
                        where_(field),
                        allowed.join(", ")
                    ),
                ));
            }
            continue;
        }
        match (top, second) {
            ("input", Some(name))
                if field.kind == TemplateKind::Validator
                    && !VALIDATOR_INPUTS.contains(&name)
                    && reported.insert(format!("input.{name}")) =>
            {
                out.push(ctx.warning(
                    "undeclared-input",
                    &field.path,
                    format!(
                        "{} uses `input.{name}`; a validator's input has only {}",
                        where_(field),
                        VALIDATOR_INPUTS.join(", ")
                    ),
                ));
            }
            ("input", _) if field.kind == TemplateKind::Validator => {}
            ("input", Some(name))
                if !ctx.cascade.inputs_schema.contains_key(name) && reported.insert(format!("input.{name}")) =>
            {
                out.push(ctx.warning(
                    "undeclared-input",
                    &field.path,
                    format!("{} uses `input.{name}`, which `inputs_schema` does not declare", where_(field)),
                ));
            }
            ("outputs", Some(name)) if !ctx.is_phase(name) && reported.insert(format!("outputs.{name}")) => {
                out.push(ctx.warning(
                    "unknown-phase",
                    &field.path,
                    format!(
                        "{} uses `outputs.{name}`, but there is no phase `{name}`{}",
                        where_(field),
                        ctx.suggest_phase(name)
                    ),
                ));
            }
            _ => {}
        }
    }
}
