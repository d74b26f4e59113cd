//! The `windlass` binary: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Usage errors and --help/--version exit here, inside clap (2 and 0).
    let cli = windlass::cli::Cli::parse();
    let code = match windlass::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if let Some(line) = err.report() {
                eprintln!("{line}");
            }
            windlass::error::exit_code(&err)
        }
    };
    code.into()
}
