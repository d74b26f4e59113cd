//! Sections of `windlass.1` that clap does not know about: EXIT STATUS, ENVIRONMENT, FILES,
//! written from the same registries as `--help`.

use crate::env::{self, DefaultValue};
use crate::exit_code::ExitCode;
use std::fmt::Write as _;

/// Roff for the sections, to go before VERSION.
pub fn top_level() -> String {
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for code in ExitCode::ALL {
        let _ = write!(roff, ".TP\n\\fB{}\\fR\n{}\n", code.code(), escape(code.meaning()));
    }
    roff.push_str(".SH ENVIRONMENT\n");
    roff.push_str(&escape(
        "Flags win over the environment, which wins over .env in the working directory, which \
         wins over the defaults. An empty value means unset.",
    ));
    roff.push('\n');
    for var in env::ALL {
        let _ = write!(roff, ".TP\n\\fB{}\\fR\n{}\n", var.name, escape(var.help));
        if let DefaultValue::Value(text) | DefaultValue::Computed(text) = var.default {
            let _ = write!(roff, ".br\nDefault: {}\n", escape(text));
        }
    }
    roff.push_str(".SH FILES\n.TP\n\\fB.env\\fR\n");
    roff.push_str(&escape(
        "Read from the working directory; sets variables the environment does not. \
         .env.example in the source lists every variable.",
    ));
    roff.push('\n');
    roff
}

/// Escape text for roff: backslashes, hyphens (so they are not hyphenation points), and a
/// leading dot or quote that would read as a request.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
