//! What a cascade needs from the machine beyond an LLM endpoint: today, whether it runs
//! local subprocesses (which `WINDLASS_ALLOW_SHELL` / `--allow-shell` must allow).

use super::model::{Cascade, InlineValidator, Phase, Soundings, ValidatorRef};

const SHELL_TOOLS: &[&str] = &["linux_shell", "run_code", "python_data", "js_data", "clojure_data", "bash_data"];

/// Every place that runs a local subprocess, as readable descriptions.
pub fn shell_uses(cascade: &Cascade) -> Vec<String> {
    let mut out = Vec::new();
    for (name, v) in &cascade.validators {
        if let Ok(v) = serde_json::from_value::<ValidatorRef>(v.clone()) {
            validator(&v, &format!("validator `{name}`"), &mut out);
        }
    }
    if let Some(s) = &cascade.soundings {
        soundings(s, "cascade soundings", &mut out);
    }
    for p in &cascade.phases {
        phase(p, &mut out);
    }
    out
}

fn phase(p: &Phase, out: &mut Vec<String>) {
    let at = format!("phase `{}`", p.name);
    for t in p.tackle.tools.iter().filter(|t| SHELL_TOOLS.contains(&t.as_str())) {
        out.push(format!("{at} uses the tool `{t}`"));
    }
    if let Some(t) = &p.tool {
        if t.starts_with("shell:") || SHELL_TOOLS.contains(&t.as_str()) {
            out.push(format!("{at} runs `{t}`"));
        }
    }
    if let Some(v) = &p.rules.loop_until {
        validator(v, &format!("{at} loop_until"), out);
    }
    for w in p.wards.pre.iter().chain(&p.wards.post).chain(&p.wards.turn) {
        validator(&w.validator, &format!("{at} ward"), out);
    }
    if let Some(s) = &p.soundings {
        soundings(s, &at, out);
    }
}

fn soundings(s: &Soundings, at: &str, out: &mut Vec<String>) {
    if let Some(v) = &s.validator {
        validator(v, &format!("{at} soundings validator"), out);
    }
    if let Some(t) = s.reforge.as_ref().and_then(|r| r.threshold.as_ref()) {
        validator(&t.validator, &format!("{at} reforge threshold"), out);
    }
}

fn validator(v: &ValidatorRef, at: &str, out: &mut Vec<String>) {
    let what = match v {
        ValidatorRef::Name(n) if n == "code_execution_validator" => "code_execution_validator",
        ValidatorRef::Inline(InlineValidator::Bash(_)) => "an inline bash validator",
        ValidatorRef::Inline(InlineValidator::Python(_)) => "an inline Python validator",
        ValidatorRef::Inline(InlineValidator::JavaScript(_)) => "an inline JavaScript validator",
        ValidatorRef::Inline(InlineValidator::Tool { tool, .. }) if SHELL_TOOLS.contains(&tool.as_str()) => {
            "a shell tool validator"
        }
        _ => return,
    };
    out.push(format!("{at} uses {what}"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_subprocess_uses() {
        let l = crate::cascade::load_str(
            "cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    tackle: [linux_shell]\n    rules:\n      loop_until: {bash: 'echo'}\n  - name: b\n    tool: 'shell:echo hi'\n",
            std::path::Path::new("x.yaml"),
        );
        let uses = super::shell_uses(&l.cascade.unwrap());
        assert_eq!(uses.len(), 3, "{uses:?}");
    }
}
