//! Phase kinds, names, handoffs, routing targets, context sources, counts, reachability.

use super::Ctx;
use crate::cascade::diagnostic::Diagnostic;
use crate::cascade::model::{ContextSource, Factor, Include, OnError, Phase, PhaseKind};
use crate::cascade::tree::{join_index, join_key};
use serde_json::Value;
use std::collections::HashMap;

/// Routing and handoff targets with a meaning of their own (compat): `next` and `self`
/// (`decision_points.routing`), `end` (stop the cascade; the corpus hands off to it).
pub const SPECIAL_TARGETS: &[&str] = &["next", "self", "end"];
/// Context sources that are not phase names.
const SPECIAL_SOURCES: &[&str] = &["all", "first", "previous"];

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    duplicate_names(ctx, out);
    for (i, phase) in ctx.cascade.phases.iter().enumerate() {
        let path = ctx.phase_path(i);
        kinds(ctx, phase, &path, out);
        targets(ctx, phase, &path, out);
        context(ctx, phase, &path, out);
        counts(ctx, phase, &path, out);
    }
    if let Some(s) = &ctx.cascade.soundings {
        if s.factor == Factor::Count(0) {
            out.push(ctx.error("invalid-value", "soundings.factor", "`soundings.factor` must be at least 1".into()));
        }
    }
    fallback_models(ctx, &ctx.cascade.fallback_models, "fallback_models", out);
    reachability(ctx, out);
}

fn duplicate_names(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, name) in ctx.loaded.raw_phase_names.iter().enumerate() {
        let Some(name) = name.as_deref() else { continue };
        match first.get(name) {
            Some(&j) => {
                let here = join_key(&join_index("phases", i), "name");
                let there = join_key(&join_index("phases", j), "name");
                let line = ctx.loaded.spans.value(&there).map(|s| s.line).unwrap_or(0);
                out.push(ctx.error(
                    "duplicate-phase",
                    &here,
                    format!("duplicate phase name `{name}` (first defined at line {line}); phase names must be unique"),
                ));
            }
            None => {
                first.insert(name, i);
            }
        }
    }
}

fn kinds(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    let kinds = phase.kinds();
    let key = |k: &PhaseKind| match k {
        PhaseKind::Llm => "`instructions`",
        PhaseKind::Deterministic => "`tool`",
        PhaseKind::ForEachRow => "`for_each_row`",
    };
    match kinds.len() {
        1 => {}
        0 => out.push(ctx.error(
            "phase-kind",
            path,
            format!(
                "phase `{}` has none of `instructions`, `tool` or `for_each_row`; a phase is exactly one of them",
                phase.name
            ),
        )),
        _ => {
            let names: Vec<&str> = kinds.iter().map(key).collect();
            out.push(ctx.error(
                "phase-kind",
                path,
                format!("phase `{}` has both {}; a phase is exactly one kind", phase.name, names.join(" and ")),
            ))
        }
    }
}

fn target_diag(ctx: &Ctx<'_>, phase: &Phase, path: &str, what: &str, target: &str) -> Option<Diagnostic> {
    if ctx.is_phase(target) || SPECIAL_TARGETS.contains(&target) {
        return None;
    }
    Some(ctx.error(
        "unknown-phase",
        path,
        format!(
            "phase `{}` {what} `{target}`, which is not a phase of this cascade{}",
            phase.name,
            ctx.suggest_phase(target)
        ),
    ))
}

fn targets(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    for (j, h) in phase.handoffs.iter().enumerate() {
        let p = join_index(&join_key(path, "handoffs"), j);
        out.extend(target_diag(ctx, phase, &p, "hands off to", h.target()));
    }
    let routing = [("routing", &phase.routing), ("decision_points.routing", &empty_or(&phase.decision_points))];
    for (key, map) in routing {
        for (k, v) in map.iter() {
            let p = join_key(&join_key(path, key), k);
            match v {
                Value::String(t) => out.extend(target_diag(ctx, phase, &p, "routes to", t)),
                other => out.push(ctx.error("invalid-value", &p, format!("`{p}` must name a phase, found {other}"))),
            }
        }
    }
    if let Some(OnError::Phase(t)) = &phase.on_error {
        out.extend(target_diag(ctx, phase, &join_key(path, "on_error"), "sends errors to", t));
    }
}

fn empty_or(dp: &Option<crate::cascade::model::DecisionPoints>) -> serde_json::Map<String, Value> {
    dp.as_ref().map(|d| d.routing.clone()).unwrap_or_default()
}

fn context(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    let Some(spec) = &phase.context else { return };
    let cpath = join_key(path, "context");
    for (j, source) in spec.from.iter().enumerate() {
        let p = join_index(&join_key(&cpath, "from"), j);
        let name = source.phase();
        if !SPECIAL_SOURCES.contains(&name) && !ctx.is_phase(name) {
            out.push(ctx.warning(
                "unknown-phase",
                &p,
                format!(
                    "phase `{}` takes context from `{name}`, which is not a phase of this cascade; it will be skipped{}",
                    phase.name,
                    ctx.suggest_phase(name)
                ),
            ));
        }
        if let ContextSource::Detailed(d) = source {
            includes(ctx, &d.include, &join_key(&p, "include"), out);
        }
    }
    includes(ctx, &spec.include, &join_key(&cpath, "include"), out);
    for (j, name) in spec.exclude.iter().enumerate() {
        if !ctx.is_phase(name) {
            let p = join_index(&join_key(&cpath, "exclude"), j);
            out.push(ctx.warning(
                "unknown-phase",
                &p,
                format!("`{p}` excludes `{name}`, which is not a phase of this cascade"),
            ));
        }
    }
    if spec.is_auto() && !spec.from.is_empty() {
        let p = join_key(&cpath, "from");
        out.push(ctx.warning(
            "ignored-key",
            &p,
            format!("`{p}` is not used with `mode: auto`; name the phases in `anchors.from_phases`"),
        ));
    }
    for (j, name) in spec.anchors.from_phases.iter().enumerate() {
        if !SPECIAL_SOURCES.contains(&name.as_str()) && !ctx.is_phase(name) {
            let p = join_index(&join_key(&join_key(&cpath, "anchors"), "from_phases"), j);
            out.push(ctx.warning(
                "unknown-phase",
                &p,
                format!("`{p}` anchors `{name}`, which is not a phase of this cascade; it will be skipped"),
            ));
        }
    }
}

fn includes(ctx: &Ctx<'_>, list: &[Include], path: &str, out: &mut Vec<Diagnostic>) {
    for (k, inc) in list.iter().enumerate() {
        if let Include::Other(other) = inc {
            let p = join_index(path, k);
            out.push(ctx.warning(
                "unknown-value",
                &p,
                format!(
                    "context include `{other}` is not known (use output, messages, state or images); it is ignored"
                ),
            ));
        }
    }
}

fn counts(ctx: &Ctx<'_>, phase: &Phase, path: &str, out: &mut Vec<Diagnostic>) {
    let rules = join_key(path, "rules");
    for (key, value) in [("max_turns", phase.rules.max_turns), ("max_attempts", phase.rules.max_attempts)] {
        if value == Some(0) {
            let p = join_key(&rules, key);
            out.push(ctx.error("invalid-value", &p, format!("`{p}` must be at least 1")));
        }
    }
    if let Some(s) = &phase.soundings {
        if s.factor == Factor::Count(0) {
            let p = join_key(&join_key(path, "soundings"), "factor");
            out.push(ctx.error("invalid-value", &p, format!("`{p}` must be at least 1")));
        }
    }
    if let Some(models) = &phase.fallback_models {
        fallback_models(ctx, models, &join_key(path, "fallback_models"), out);
    }
}

/// Every fallback model is named.
fn fallback_models(ctx: &Ctx<'_>, models: &[String], path: &str, out: &mut Vec<Diagnostic>) {
    for (i, model) in models.iter().enumerate() {
        if model.trim().is_empty() {
            let p = join_index(path, i);
            out.push(ctx.error("invalid-value", &p, format!("`{p}` must name a model")));
        }
    }
}

/// Which phases can run at all, following the routing rules from the first phase.
fn reachability(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let phases = &ctx.cascade.phases;
    if phases.is_empty() {
        return;
    }
    let index: HashMap<&str, usize> = phases.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let mut seen = vec![false; phases.len()];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let p = &phases[i];
        let mut next: Vec<usize> = p.handoff_targets().filter_map(|t| index.get(t).copied()).collect();
        let routes = p.routing.values().chain(p.decision_points.iter().flat_map(|d| d.routing.values()));
        for t in routes.filter_map(Value::as_str) {
            match t {
                "next" => next.push(i + 1),
                "self" => next.push(i),
                "end" => {}
                name => next.extend(index.get(name).copied()),
            }
        }
        if let Some(OnError::Phase(t)) = &p.on_error {
            next.extend(index.get(t.as_str()).copied());
        }
        // Without handoffs (and without a routing default) control falls through to the next phase.
        if p.handoffs.is_empty() && !p.routing.contains_key("default") {
            next.push(i + 1);
        }
        stack.extend(next.into_iter().filter(|&n| n < phases.len() && !seen[n]));
    }
    for (i, p) in phases.iter().enumerate() {
        if !seen[i] {
            out.push(ctx.warning(
                "unreachable-phase",
                &join_key(&ctx.phase_path(i), "name"),
                format!(
                    "phase `{}` can never run: no phase before it hands off, routes or falls through to it",
                    p.name
                ),
            ));
        }
    }
}
