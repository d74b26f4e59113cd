//! Keys that take either a short form (a string) or a full object.

/// Implement `Deserialize` for an enum with a string form and an object form, keeping
/// field paths and unknown-key reporting intact for the object form, and `JsonSchema` as
/// "a string, or the inner object".
macro_rules! string_or_struct {
    ($ty:ty, $from_str:expr, $from_struct:expr, $inner:ty, $expecting:literal) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        let from_str: fn(String) -> $ty = $from_str;
                        Ok(from_str(v.to_string()))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        let from_struct: fn($inner) -> $ty = $from_struct;
                        <$inner as serde::Deserialize>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                            .map(from_struct)
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": concat!("Either ", $expecting),
                    "anyOf": [{ "type": "string" }, g.subschema_for::<$inner>()]
                })
            }
        }
    };
}

pub(crate) use string_or_struct;
