//! Files generated from the code and committed to the repository: shell completions in
//! `completions/` and man pages in `man/` (from the clap definition), and the cascade format's
//! JSON Schema in `schema/` (from the cascade model). `tests/generated_files.rs` fails when they
//! are stale and rewrites them when asked to.

use super::{man_sections, Cli};
use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

/// The command that rewrites every generated file.
pub const REGENERATE: &str = "WINDLASS_BLESS=1 cargo test --test generated_files";

/// The folders that hold nothing but generated files.
pub const FOLDERS: [&str; 3] = ["completions", "man", "schema"];

/// One generated file: where it goes, relative to the repository root, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: Vec<u8>,
}

/// Every generated file: completions, man pages, then the schema.
pub fn generated_files() -> Vec<GeneratedFile> {
    let mut files: Vec<GeneratedFile> = Shell::value_variants()
        .iter()
        .map(|&shell| GeneratedFile {
            path: format!("completions/{}", shell_file_name(shell)),
            contents: completion_script(shell),
        })
        .collect();
    files.extend(man_pages());
    files.push(GeneratedFile {
        path: crate::cascade::schema::PUBLISHED_PATH.to_string(),
        contents: crate::cascade::schema::cascade_schema_text().into_bytes(),
    });
    files
}

/// The completion script for one shell, as `windlass completions <shell>` prints it.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    // Into memory first: clap_complete panics on a write error such as a closed pipe.
    clap_complete::generate(shell, &mut Cli::command(), "windlass", &mut script);
    script
}

fn shell_file_name(shell: Shell) -> String {
    use clap_complete::Generator;
    shell.file_name("windlass")
}

/// `windlass.1`, then one page per subcommand, nested ones included: `windlass-run.1`,
/// `windlass-sessions-show.1`. Same walk as `clap_mangen::generate_to`, but into memory.
fn man_pages() -> Vec<GeneratedFile> {
    fn walk(cmd: clap::Command, pages: &mut Vec<GeneratedFile>) {
        // Subcommands carry no version of their own; name the package's on every page.
        let man = clap_mangen::Man::new(cmd.clone()).source(format!("windlass {}", env!("CARGO_PKG_VERSION")));
        let mut page = Vec::new();
        man.render(&mut page).expect("rendering into memory cannot fail");
        pages.push(GeneratedFile { path: format!("man/{}", man.get_filename()), contents: page });
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub.clone(), pages);
        }
    }
    // The long help's exit codes and environment become proper man sections instead of
    // clap_mangen's generic EXTRA section.
    let mut cmd = Cli::command()
        .disable_help_subcommand(true)
        .after_long_help(clap::builder::Resettable::<clap::builder::StyledStr>::Reset);
    // Building names the subcommands `windlass-run` etc. and propagates the global options.
    cmd.build();
    let mut pages = Vec::new();
    walk(cmd, &mut pages);
    let top = &mut pages[0].contents;
    let text = String::from_utf8(std::mem::take(top)).expect("roff is UTF-8");
    let at = text.find(".SH VERSION").unwrap_or(text.len());
    *top = format!("{}{}{}", &text[..at], man_sections::top_level(), &text[at..]).into_bytes();
    pages
}
