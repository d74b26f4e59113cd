//! The committed completions, man pages and cascade schema match what the code generates.

use std::collections::BTreeSet;
use std::path::Path;
use windlass::cli::generated::{generated_files, FOLDERS, REGENERATE};

#[test]
fn generated_files_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = generated_files();
    let bless = std::env::var_os("WINDLASS_BLESS").is_some_and(|v| v == "1");
    let expected: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();

    let mut problems = Vec::new();
    for file in &files {
        let path = root.join(&file.path);
        match std::fs::read(&path) {
            Ok(contents) if contents == file.contents => continue,
            Ok(_) => problems.push(format!("stale:   {}", file.path)),
            Err(_) => problems.push(format!("missing: {}", file.path)),
        }
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &file.contents).unwrap();
        }
    }
    // A file left over from a removed subcommand is stale too.
    for folder in FOLDERS {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries {
            let relative = format!("{folder}/{}", entry.unwrap().file_name().to_string_lossy());
            if !expected.contains(relative.as_str()) {
                problems.push(format!("extra:   {relative}"));
                if bless {
                    std::fs::remove_file(root.join(&relative)).unwrap();
                }
            }
        }
    }

    if !problems.is_empty() && !bless {
        panic!(
            "generated files differ from what the code generates:\n  {}\n\nRegenerate them with:\n\n    {REGENERATE}\n",
            problems.join("\n  ")
        );
    }
}
