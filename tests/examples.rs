//! Every example cascade in `cascades/` loads and passes `check --strict` (no errors, no
//! warnings), and together they show the features the README promises.

use std::path::Path;
use windlass::cascade::check::{check_file, CheckOptions};
use windlass::cascade::load_file;
use windlass::cascade::model::PhaseKind;

#[test]
fn examples_are_clean_and_cover_the_format() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cascades");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "at least five examples, found {}", files.len());
    let opts = CheckOptions { tool_path: Vec::new(), cwd: dir.clone() };
    let (mut handoffs, mut tools, mut context, mut validators, mut soundings, mut deterministic) =
        (false, false, false, false, false, false);
    for file in &files {
        let report = check_file(file, &opts);
        let rendered: Vec<String> = report.diagnostics.iter().map(|d| d.render(file)).collect();
        assert!(rendered.is_empty(), "{} is not clean:\n{}", file.display(), rendered.join("\n"));
        let cascade = load_file(file).cascade.expect("loads");
        for p in &cascade.phases {
            handoffs |= !p.handoffs.is_empty();
            tools |= !p.tackle.tools.is_empty();
            context |= p.context.is_some();
            validators |= p.rules.loop_until.is_some() || !p.wards.is_empty();
            soundings |= p.soundings.is_some();
            deterministic |= p.kind() == Some(PhaseKind::Deterministic);
        }
    }
    assert!(handoffs && tools && context && validators && soundings && deterministic);
}
