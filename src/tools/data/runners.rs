//! The runner programs of the code data phases, one per interpreter (the files beside this
//! one): each reads the context file, runs the phase's code and writes the result file.

/// Which runner program a code data phase starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Python,
    Node,
    Babashka,
    Nbb,
}

impl Runner {
    /// The file the runner is written to (its extension tells the interpreter the language).
    pub fn file_name(self) -> &'static str {
        match self {
            Runner::Python => "runner.py",
            Runner::Node => "runner.js",
            Runner::Babashka => "runner.clj",
            Runner::Nbb => "runner.cljs",
        }
    }

    /// The runner's source. Python and Babashka read the code from the context file; node and
    /// nbb compile it in place, between a head and a tail.
    pub fn source(self, code: &str) -> String {
        match self {
            Runner::Python => include_str!("runners/python.py").to_string(),
            Runner::Babashka => include_str!("runners/bb_head.clj").to_string(),
            Runner::Node => {
                format!("{}{code}{}", include_str!("runners/node_head.js"), include_str!("runners/node_tail.js"))
            }
            Runner::Nbb => {
                format!("{}{code}{}", include_str!("runners/nbb_head.cljs"), include_str!("runners/nbb_tail.cljs"))
            }
        }
    }
}
