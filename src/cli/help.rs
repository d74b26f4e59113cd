//! The long help of `windlass --help` (and the man page): exit codes and environment, drawn
//! from their registries so the documentation cannot drift from the code.

use crate::env;
use crate::exit_code::ExitCode;
use std::fmt::Write as _;

pub fn after_long_help() -> String {
    let mut out = String::from("Exit codes:\n");
    for code in ExitCode::ALL {
        let _ = writeln!(out, "  {:<5}{}", code.code(), code.meaning());
    }
    out.push_str(
        "\nEnvironment (flags win over the environment, which wins over .env in the working \
         directory; see .env.example):\n",
    );
    for var in env::ALL {
        let _ = writeln!(out, "  {}\n          {}", var.name, var.help);
    }
    out
}
