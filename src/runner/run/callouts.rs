//! After a phase: `callouts` (label its output or messages) and `decision_points` (a
//! `<decision>` block in the output asks a human).

use crate::cascade::model::{Callouts, MessagesFilter, Phase};
use crate::llm::{Message, Role};
use crate::runner::emitter::Emitter;
use crate::runner::event::RunEvent;
use crate::runner::state::{CalloutRecord, RunState};
use crate::runner::templating::{self, SoundingVars};

/// Emit the phase's callouts (the label, a template, with the tagged content) and remember
/// them in the run state.
pub fn emit(emitter: &Emitter, phase: &Phase, output: &str, conversation: &[Message], state: &mut RunState) {
    let Some(c) = &phase.callouts else { return };
    let vars = templating::base(state, SoundingVars::default());
    let render = |t: &str| templating::render(t, &vars).unwrap_or_else(|_| t.to_string());
    let mut found = Vec::new();
    let mut send = |label: String, content: String| {
        emitter.emit(RunEvent::Callout { phase: phase.name.clone(), label: label.clone(), content: content.clone() });
        found.push(CalloutRecord { phase: phase.name.clone(), label, content });
    };
    match c {
        Callouts::Label(l) => send(render(l), output.to_string()),
        Callouts::Spec(spec) => {
            if let Some(l) = &spec.output {
                send(render(l), output.to_string());
            }
            if let Some(l) = &spec.messages {
                let keep = |m: &&Message| match spec.messages_filter.unwrap_or_default() {
                    MessagesFilter::AssistantOnly | MessagesFilter::LastTurn => m.role == Role::Assistant,
                    MessagesFilter::All => m.role != Role::System,
                };
                let picked: Vec<&Message> = conversation.iter().filter(keep).collect();
                let picked = if spec.messages_filter == Some(MessagesFilter::LastTurn) {
                    picked.last().copied().into_iter().collect()
                } else {
                    picked
                };
                for m in picked {
                    send(render(l), m.content.clone());
                }
            }
        }
    }
    state.callouts.extend(found);
}

/// A `<decision>` block asks a human to choose. This build asks on a terminal only through
/// `ask_human`; a decision block is reported so it is never silently lost.
pub fn decision_points(emitter: &Emitter, phase: &Phase, output: &str) {
    let Some(dp) = &phase.decision_points else { return };
    if dp.enabled && output.contains("<decision>") {
        emitter.emit(RunEvent::Warning {
            phase: Some(phase.name.clone()),
            message: "the output holds a <decision> block, but decision points need a human answer, which this build does not collect yet; the cascade continues on its normal route".into(),
        });
    }
}
