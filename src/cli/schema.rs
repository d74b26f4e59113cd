//! `windlass schema`: print the JSON Schema of the cascade format.

use crate::cascade::schema;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;
use std::io::Write;

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
The repository publishes the same schema as schema/cascade.schema.json. For completion and
checks in editors that use the YAML language server, start a cascade file with:

  # yaml-language-server: $schema=path/to/cascade.schema.json")]
pub struct SchemaArgs {}

impl SchemaArgs {
    /// Needs no settings, like `completions`.
    pub fn run(self) -> Result<ExitCode, Error> {
        let text = schema::cascade_schema_text();
        std::io::stdout().lock().write_all(text.as_bytes()).map_err(Error::Stdout)?;
        Ok(ExitCode::Success)
    }
}
