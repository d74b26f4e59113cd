//! The runner programs of the code data phases, one per interpreter (the files beside this
//! one): each reads the context file, runs the phase's code and writes the result file.

use std::ffi::OsString;
use std::path::Path;

/// Which runner program a code data phase starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Python,
    Node,
    Babashka,
    Nbb,
    /// The JVM's `clojure` command (Debian's package), with clojure.data.json on its classpath.
    JvmClojure,
}

/// Where Debian's `libdata-json-clojure` puts clojure.data.json, which the JVM runner reads and
/// writes JSON with (Babashka has cheshire built in, nbb uses JavaScript's JSON).
pub const DEBIAN_DATA_JSON_JAR: &str = "/usr/share/java/data.json.jar";

impl Runner {
    /// The runner of a `clojure_data` phase, from the file name of the program
    /// (`WINDLASS_CLOJURE`): `nbb…` is nbb, `clojure` or `clj` the JVM, anything else Babashka.
    pub fn for_clojure(program: &str) -> Runner {
        let name = Path::new(program).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("nbb") {
            Runner::Nbb
        } else if name == "clojure" || name == "clj" {
            Runner::JvmClojure
        } else {
            Runner::Babashka
        }
    }

    /// The file the runner is written to (its extension tells the interpreter the language).
    pub fn file_name(self) -> &'static str {
        match self {
            Runner::Python => "runner.py",
            Runner::Node => "runner.js",
            Runner::Babashka | Runner::JvmClojure => "runner.clj",
            Runner::Nbb => "runner.cljs",
        }
    }

    /// The runner's source. Python, Babashka and the JVM read the code from the context file;
    /// node and nbb compile it in place, between a head and a tail.
    pub fn source(self, code: &str) -> String {
        match self {
            Runner::Python => include_str!("runners/python.py").to_string(),
            Runner::Babashka => include_str!("runners/bb_head.clj").to_string(),
            Runner::JvmClojure => include_str!("runners/jvm_head.clj").to_string(),
            Runner::Node => {
                format!("{}{code}{}", include_str!("runners/node_head.js"), include_str!("runners/node_tail.js"))
            }
            Runner::Nbb => {
                format!("{}{code}{}", include_str!("runners/nbb_head.cljs"), include_str!("runners/nbb_tail.cljs"))
            }
        }
    }

    /// Variables the interpreter needs besides the inherited ones, given the inherited value of
    /// each: the JVM's `CLASSPATH` starts with clojure.data.json (Debian's `clojure` adds
    /// `CLASSPATH` to its own jar), then keeps what was there.
    pub fn environment(self, inherited: impl Fn(&str) -> Option<OsString>) -> Vec<(&'static str, OsString)> {
        match self {
            Runner::JvmClojure => {
                let mut classpath = OsString::from(DEBIAN_DATA_JSON_JAR);
                if let Some(more) = inherited("CLASSPATH").filter(|v| !v.is_empty()) {
                    classpath.push(":");
                    classpath.push(more);
                }
                vec![("CLASSPATH", classpath)]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clojure_program_names_its_runner() {
        for (program, runner) in [
            ("bb", Runner::Babashka),
            ("/opt/bb/bin/bb", Runner::Babashka),
            ("nbb", Runner::Nbb),
            ("/x/node_modules/.bin/nbb", Runner::Nbb),
            ("/usr/bin/clojure", Runner::JvmClojure),
            ("clj", Runner::JvmClojure),
        ] {
            assert_eq!(Runner::for_clojure(program), runner, "{program}");
        }
    }

    #[test]
    fn the_jvm_classpath_starts_with_data_json_and_keeps_the_inherited_one() {
        let none = Runner::JvmClojure.environment(|_| None);
        assert_eq!(none, vec![("CLASSPATH", OsString::from(DEBIAN_DATA_JSON_JAR))]);
        let kept = Runner::JvmClojure.environment(|_| Some("/my/lib.jar".into()));
        assert_eq!(kept, vec![("CLASSPATH", OsString::from(format!("{DEBIAN_DATA_JSON_JAR}:/my/lib.jar")))]);
        assert!(Runner::Babashka.environment(|_| Some("/my/lib.jar".into())).is_empty());
    }
}
