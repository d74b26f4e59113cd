//! `mode: explicit` (the default): the input, then the `from` sources in source order.

use super::{input_message, output_text, pretty, resolve};
use crate::cascade::model::{ContextSource, ContextSpec, Include, MessagesFilter, Role as CtxRole, SourceDetail};
use crate::llm::{Message, Role};
use crate::runner::state::RunState;
use serde_json::Value;

/// The context messages of an explicit `context` block.
pub fn build(spec: &ContextSpec, state: &RunState, current: &str) -> Vec<Message> {
    let mut out: Vec<Message> = input_message(spec.includes_input(), state).into_iter().collect();
    let default_include = if spec.include.is_empty() { vec![Include::Output] } else { spec.include.clone() };
    let mut sources: Vec<SourceDetail> = Vec::new();
    for source in &spec.from {
        let detail = match source {
            ContextSource::Name(n) => SourceDetail {
                phase: n.clone(),
                include: default_include.clone(),
                messages_filter: MessagesFilter::All,
                as_role: CtxRole::User,
            },
            ContextSource::Detailed(d) => {
                let mut d = d.clone();
                if d.include.is_empty() {
                    d.include = default_include.clone();
                }
                d
            }
        };
        for name in resolve(&detail.phase, state, current, spec) {
            if !sources.iter().any(|s| s.phase == name) {
                sources.push(SourceDetail { phase: name.to_string(), ..detail.clone() });
            }
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
                    out.push(Message::new(role, output_text(&s.phase, v)));
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
                    out.push(as_text(m));
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

/// An earlier message out of its conversation. Tool messages lose their call ids there, so
/// they are passed as user text.
pub(super) fn as_text(m: &Message) -> Message {
    let role = if m.role == Role::Tool { Role::User } else { m.role };
    Message::new(role, m.content.clone())
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
        let spec = ContextSpec {
            from: vec![ContextSource::Name("previous".into())],
            include_input: Some(false),
            ..ContextSpec::default()
        };
        let m = build(&spec, &st, "d");
        assert_eq!(m.len(), 1);
        assert!(m[0].content.contains("out-c"));
        let spec = ContextSpec {
            from: vec![ContextSource::Name("all".into())],
            exclude: vec!["b".into()],
            ..ContextSpec::default()
        };
        let m = build(&spec, &st, "d");
        let text: Vec<&str> = m.iter().map(|m| m.content.as_str()).collect();
        assert!(text[0].contains("owls"));
        assert!(text[1].contains("out-a") && text[2].contains("out-c") && text.len() == 3, "{text:?}");
        let spec = ContextSpec {
            from: vec![ContextSource::Name("missing".into())],
            include_input: Some(false),
            ..ContextSpec::default()
        };
        assert!(build(&spec, &st, "d").is_empty());
    }

    #[test]
    fn an_empty_input_is_not_sent() {
        let mut st = state();
        st.input.clear();
        let spec = ContextSpec { from: vec![ContextSource::Name("previous".into())], ..ContextSpec::default() };
        let m = build(&spec, &st, "d");
        assert_eq!(m.len(), 1, "{m:?}");
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
            include_input: Some(false),
            ..ContextSpec::default()
        };
        let m = build(&spec, &st, "d");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].role, Role::Assistant);
        assert_eq!(m[0].content, "out-a");
        assert_eq!(m[1].role, Role::System);
        assert!(m[1].content.contains("output_a"));
    }
}
