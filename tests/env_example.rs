//! `.env.example` lists every variable of the registry in `src/env.rs`, exactly as rendered.

use std::path::Path;

#[test]
fn env_example_matches_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.example");
    let expected = windlass::env::render_env_example();
    if std::env::var_os("WINDLASS_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        panic!(
            "{} is out of date with the variables in src/env.rs.\n\
             Regenerate it with:\n\n    {}\n\n\
             (and describe a new variable in src/env.rs, not by editing .env.example)",
            path.display(),
            windlass::env::ENV_EXAMPLE_REGENERATE
        );
    }
}

#[test]
fn every_variable_appears_in_env_example() {
    let text = windlass::env::render_env_example();
    for var in windlass::env::ALL {
        assert!(text.contains(&format!("# {}=", var.name)), "{} missing", var.name);
    }
}
