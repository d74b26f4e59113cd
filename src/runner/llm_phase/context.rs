//! Which earlier material a phase sees: the `context` key (cascade-format.md, Context).

use crate::cascade::model::{ContextSource, ContextSpec, Include, MessagesFilter, Role as CtxRole, SourceDetail};
use crate::llm::{Message, Role};
use crate::runner::state::RunState;
use serde_json::Value;

/// The context messages for a phase, in order. No context: a clean slate.
pub fn build(spec: Option<&ContextSpec>, state: &RunState, current: &str) -> Vec<Message> {
    let Some(spec) = spec else { return Vec::new() };
    let auto = spec.mode.as_deref() == Some("auto");
    let mut out = Vec::new();
    if spec.include_input || auto {
        out.push(Message::user(format!("Input:\n{}", pretty(&Value::Object(state.input.clone())))));
    }
    let mut sources: Vec<SourceDetail> = Vec::new();
    let default_include = if spec.include.is_empty() { vec![Include::Output] } else { spec.include.clone() };
    let plain = |phase: &str| SourceDetail {
        phase: phase.to_string(),
        include: default_include.clone(),
        messages_filter: MessagesFilter::All,
        as_role: CtxRole::User,
    };
    let from: Vec<ContextSource> =
        if auto && spec.from.is_empty() { vec![ContextSource::Name("previous".into())] } else { spec.from.clone() };
    // Phases that ran, most recent run last, without repeats, excluding this one.
    let mut ran: Vec<&str> = Vec::new();
    for p in state.order.iter().rev() {
        if p != current && !ran.contains(&p.as_str()) {
            ran.insert(0, p);
        }
    }
    for source in &from {
        let detail = match source {
            ContextSource::Name(n) => plain(n),
            ContextSource::Detailed(d) => {
                let mut d = d.clone();
                if d.include.is_empty() {
                    d.include = default_include.clone();
                }
                d
            }
        };
        let names: Vec<&str> = match detail.phase.as_str() {
            "all" => ran.clone(),
            "first" => ran.first().copied().into_iter().collect(),
            "previous" => {
                state.order.iter().rev().find(|p| p.as_str() != current).map(String::as_str).into_iter().collect()
            }
            name => ran.iter().copied().filter(|p| *p == name).collect(),
        };
        for name in names {
            if spec.exclude.iter().any(|e| e == name) || sources.iter().any(|s| s.phase == name) {
                continue;
            }
            sources.push(SourceDetail { phase: name.to_string(), ..detail.clone() });
        }
    }
    for s in &sources {
        add_source(s, state, &mut out);
    }
    out
}

fn add_source(s: &SourceDetail, state: &RunState, out: &mut Vec<Message>) {
    let role = match s.as_role {
        CtxRole::User => Role::User,
        CtxRole::System => Role::System,
    };
    for inc in &s.include {
        match inc {
            Include::Output => {
                if let Some(v) = state.outputs.get(&s.phase) {
                    out.push(Message::new(role, format!("Output of phase `{}`:\n{}", s.phase, text(v))));
                }
            }
            Include::Messages => {
                let Some(conv) = state.conversations.get(&s.phase) else { continue };
                let msgs: Vec<&Message> = conv.iter().filter(|m| m.role != Role::System).collect();
                let picked: Vec<&Message> = match s.messages_filter {
                    MessagesFilter::All => msgs,
                    MessagesFilter::AssistantOnly => msgs.into_iter().filter(|m| m.role == Role::Assistant).collect(),
                    MessagesFilter::LastTurn => {
                        let start = msgs.iter().rposition(|m| m.role == Role::User).unwrap_or(0);
                        msgs[start..].to_vec()
                    }
                };
                for m in picked {
                    // Tool messages lose their call ids out of their conversation: pass them as text.
                    let role = if m.role == Role::Tool { Role::User } else { m.role };
                    out.push(Message::new(role, m.content.clone()));
                }
            }
            Include::State => {
                out.push(Message::new(
                    role,
                    format!("Current state:\n{}", pretty(&Value::Object(state.state.clone()))),
                ));
            }
            // No image support in this build: nothing to pass on. `Other` was reported by `check`.
            Include::Images | Include::Other(_) => {}
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => pretty(other),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cascade::model::ContextSpec;

    fn state() -> RunState {
        let mut s = RunState::default();
        s.input.insert("topic".into(), "owls".into());
        for p in ["a", "b", "c"] {
            s.record_phase(
                p,
                &format!("out-{p}"),
                None,
                vec![Message::user(format!("task {p}")), Message::assistant(format!("out-{p}"))],
            );
            s.order.push(p.into());
        }
        s
    }

    #[test]
    fn previous_all_first_and_exclude() {
        let st = state();
        let spec = ContextSpec { from: vec![ContextSource::Name("previous".into())], ..ContextSpec::default() };
        let m = build(Some(&spec), &st, "d");
        assert_eq!(m.len(), 1);
        assert!(m[0].content.contains("out-c"));
        let spec = ContextSpec {
            from: vec![ContextSource::Name("all".into())],
            exclude: vec!["b".into()],
            include_input: true,
            ..ContextSpec::default()
        };
        let m = build(Some(&spec), &st, "d");
        let text: Vec<&str> = m.iter().map(|m| m.content.as_str()).collect();
        assert!(text[0].contains("owls"));
        assert!(text[1].contains("out-a") && text[2].contains("out-c") && text.len() == 3, "{text:?}");
        assert!(build(None, &st, "d").is_empty());
        let spec = ContextSpec { from: vec![ContextSource::Name("missing".into())], ..ContextSpec::default() };
        assert!(build(Some(&spec), &st, "d").is_empty());
    }

    #[test]
    fn messages_with_filter_and_role() {
        let st = state();
        let spec = ContextSpec {
            from: vec![ContextSource::Detailed(SourceDetail {
                phase: "a".into(),
                include: vec![Include::Messages, Include::State],
                messages_filter: MessagesFilter::AssistantOnly,
                as_role: CtxRole::System,
            })],
            ..ContextSpec::default()
        };
        let m = build(Some(&spec), &st, "d");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].role, Role::Assistant);
        assert_eq!(m[0].content, "out-a");
        assert_eq!(m[1].role, Role::System);
        assert!(m[1].content.contains("output_a"));
    }
}
