//! Options of commands that run a cascade in this process (`run`, `resume`).

use crate::env;
use crate::settings::{HttpUrl, HumanDuration, Overrides};
use clap::builder::NonEmptyStringValueParser;
use clap::{Args, ValueEnum};
use std::str::FromStr;

/// How a cascade runs here: model, endpoint, limits, output.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    #[arg(
        long,
        value_name = "MODEL",
        value_parser = NonEmptyStringValueParser::new(),
        help = env::WINDLASS_DEFAULT_MODEL.flag_help()
    )]
    pub model: Option<String>,

    #[arg(long, value_name = "URL", help = env::WINDLASS_BASE_URL.flag_help())]
    pub base_url: Option<HttpUrl>,

    /// What goes to stdout: the final output, one JSON result, or JSON events as they happen
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: OutputFormat,

    /// Stop before spending more than this many US dollars (exit 5)
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<Usd>,

    /// Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits
    /// 75, one still running exits 1; both can be resumed
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<HumanDuration>,

    #[arg(long, help = env::WINDLASS_ALLOW_SHELL.flag_help())]
    pub allow_shell: bool,

    #[command(flatten)]
    pub cassette: super::cassette_args::CassetteArgs,
}

impl EngineArgs {
    /// The flags that override settings.
    pub fn overrides(&self) -> Overrides {
        Overrides { base_url: self.base_url.clone(), model: self.model.clone(), allow_shell: self.allow_shell }
    }
}

/// `--format` of `run` and `resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// The final output of the cascade and nothing else
    #[default]
    Human,
    /// One JSON document: session, status, output, state, lineage, errors, tokens, cost
    Json,
    /// One JSON event per line while it runs, then the result document
    Ndjson,
}

/// An amount of US dollars: finite and not negative. A leading `$` is allowed.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Usd(pub f64);

impl FromStr for Usd {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = text.trim().trim_start_matches('$');
        match number.parse::<f64>() {
            Ok(usd) if usd.is_finite() && usd >= 0.0 => Ok(Usd(usd)),
            _ => Err(format!("`{text}` is not an amount of dollars, like 0.50")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars() {
        assert_eq!("0.5".parse(), Ok(Usd(0.5)));
        assert_eq!("$2".parse(), Ok(Usd(2.0)));
        assert!("-1".parse::<Usd>().is_err());
        assert!("inf".parse::<Usd>().is_err());
        assert!("lots".parse::<Usd>().is_err());
    }
}
