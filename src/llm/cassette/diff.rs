//! A short, line-based difference between two requests, for the error of a replay miss: what
//! the recorded request had (`-`) and what the run asked now (`+`).

use crate::llm::{ChatRequest, Message};

/// At most this many lines of difference are shown.
const MAX_LINES: usize = 12;
/// Lines longer than this are cut.
const MAX_WIDTH: usize = 120;

/// How different two requests are (changed lines, roughly); for picking the closest one.
pub fn distance(a: &ChatRequest, b: &ChatRequest) -> usize {
    let mut d = usize::from(a.model != b.model) * 5 + usize::from(a.tools != b.tools) * 3;
    d += a.messages.len().abs_diff(b.messages.len()) * 10;
    for (x, y) in a.messages.iter().zip(&b.messages) {
        if x != y {
            let (removed, added) = changed_lines(&x.content, &y.content);
            d += 1 + removed.len() + added.len();
        }
    }
    d
}

/// The difference of `recorded` and `now`, one `- ` or `+ ` line each, indented by two.
pub fn render(recorded: &ChatRequest, now: &ChatRequest) -> String {
    let mut out: Vec<String> = Vec::new();
    if recorded.model != now.model {
        out.push(format!("- model: {}", recorded.model));
        out.push(format!("+ model: {}", now.model));
    }
    if recorded.tools != now.tools {
        let names = |r: &ChatRequest| r.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ");
        out.push(format!("- tools: [{}]", names(recorded)));
        out.push(format!("+ tools: [{}]", names(now)));
    }
    if recorded.temperature != now.temperature || recorded.max_tokens != now.max_tokens {
        out.push(format!("- temperature: {:?}, max_tokens: {:?}", recorded.temperature, recorded.max_tokens));
        out.push(format!("+ temperature: {:?}, max_tokens: {:?}", now.temperature, now.max_tokens));
    }
    let n = recorded.messages.len().max(now.messages.len());
    for i in 0..n {
        match (recorded.messages.get(i), now.messages.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                out.push(format!("message {} ({}):", i + 1, role(b)));
                let (removed, added) = changed_lines(&a.content, &b.content);
                out.extend(removed.iter().map(|l| format!("- {l}")));
                out.extend(added.iter().map(|l| format!("+ {l}")));
                if a.content == b.content {
                    out.push("  (same text; tool calls differ)".into());
                }
            }
            (Some(a), None) => out.push(format!("- message {} ({}): {}", i + 1, role(a), first_line(a))),
            (None, Some(b)) => out.push(format!("+ message {} ({}): {}", i + 1, role(b), first_line(b))),
            (None, None) => {}
        }
    }
    let more = out.len().saturating_sub(MAX_LINES);
    out.truncate(MAX_LINES);
    if more > 0 {
        out.push(format!("  ... {more} more line(s)"));
    }
    out.iter().map(|l| format!("  {}", cut(l))).collect::<Vec<_>>().join("\n")
}

fn role(m: &Message) -> String {
    format!("{:?}", m.role).to_lowercase()
}

fn first_line(m: &Message) -> &str {
    m.content.lines().next().unwrap_or_default()
}

fn cut(line: &str) -> String {
    match line.char_indices().nth(MAX_WIDTH) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// The lines between the common beginning and the common end of two texts.
fn changed_lines<'a>(a: &'a str, b: &'a str) -> (Vec<&'a str>, Vec<&'a str>) {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..].iter().rev().zip(b[head..].iter().rev()).take_while(|(x, y)| x == y).count();
    (a[head..a.len() - tail].to_vec(), b[head..b.len() - tail].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(model: &str, user: &str) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages: vec![Message::system("Be brief."), Message::user(user)],
            tools: Vec::new(),
            temperature: None,
            max_tokens: None,
        }
    }

    #[test]
    fn a_changed_prompt_shows_only_the_changed_line() {
        let d = render(&req("m", "Intro\nGreet Ada.\nThanks"), &req("m", "Intro\nGreet Bob.\nThanks"));
        assert_eq!(d, "  message 2 (user):\n  - Greet Ada.\n  + Greet Bob.");
        assert!(distance(&req("m", "a"), &req("m", "a")) < distance(&req("m", "a"), &req("n", "b")));
    }
}
