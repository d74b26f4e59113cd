//! The JSON Schema (draft 2020-12) of the cascade format: `windlass schema` prints it and
//! `schema/cascade.schema.json` publishes it for editors (`tests/generated_files.rs` keeps the
//! file true).
//!
//! It is generated from the model types (their doc comments become descriptions), so it says
//! what the loader accepts: the lax forms of [`super::lax`], the short and long forms of keys
//! such as `handoffs` and validators, and unknown keys allowed (`check` only warns about them).
//! The loader decodes `phases` one by one, so the model skips the key; it is added here, with
//! the aliases (`cells`, `candidates`, `traits`) serde knows and the schema generator does not.

use super::model::{Cascade, Phase};
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

/// Where the repository publishes the schema, relative to its root.
pub const PUBLISHED_PATH: &str = "schema/cascade.schema.json";

/// Keys the loader also takes under a second name: (definition, key, alias); `""` is the top
/// level.
const ALIASES: &[(&str, &str, &str)] = &[
    ("", "soundings", "candidates"),
    ("Phase", "soundings", "candidates"),
    ("Phase", "tackle", "traits"),
    ("InlineLlmPhase", "tackle", "traits"),
];

/// The schema as a JSON value.
pub fn cascade_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let phase = generator.subschema_for::<Phase>().to_value();
    let mut root = generator.into_root_schema_for::<Cascade>().to_value();

    let top = root.as_object_mut().expect("a struct's schema is an object");
    top.insert("title".into(), "windlass cascade".into());
    top.insert(
        "description".into(),
        "A windlass cascade file: a `cascade_id` and a list of `phases`, each an LLM phase \
         (`instructions`), a deterministic phase (`tool`) or a fan-out (`for_each_row`)"
            .into(),
    );
    let phases = json!({
        "description": "The phases, run from the first; handoffs choose the next",
        "type": "array",
        "minItems": 1,
        "items": phase,
    });
    let properties = object(top, "properties");
    properties.insert("phases".into(), phases.clone());
    let mut cells = phases;
    cells["description"] = "The phases under their old name (compat); `phases` wins when both are present".into();
    properties.insert("cells".into(), cells);
    top.insert("anyOf".into(), json!([{ "required": ["phases"] }, { "required": ["cells"] }]));

    // The head first, for people reading the file: `$schema`, `title`, `description`.
    let head = ["$schema", "title", "description"];
    let mut ordered: Map<String, Value> =
        head.iter().filter_map(|k| top.remove(*k).map(|v| (k.to_string(), v))).collect();
    ordered.append(top);
    *top = ordered;

    for (definition, key, alias) in ALIASES {
        let holder = if definition.is_empty() {
            &mut root
        } else {
            root.pointer_mut(&format!("/$defs/{definition}")).expect("an aliased definition exists")
        };
        let properties = object(holder.as_object_mut().expect("a struct's schema is an object"), "properties");
        let mut schema = properties.get(*key).cloned().expect("an aliased key exists");
        schema["description"] = format!("Another name for `{key}`").into();
        properties.insert(alias.to_string(), schema);
    }
    root
}

/// The published file's text: the schema, pretty, with a final newline.
pub fn cascade_schema_text() -> String {
    serde_json::to_string_pretty(&cascade_schema()).expect("a JSON value serialises") + "\n"
}

fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    map.entry(key).or_insert_with(|| json!({})).as_object_mut().expect("an object")
}
