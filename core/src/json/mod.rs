//! Every JSON document Bindify reads goes through here: parsed once into a
//! `serde_json::Value` by one non-generic parser, then read into its type from the tree by
//! [`tree::Tree`]. Reading each type straight from the bytes would make a copy of the parser per
//! type (about 2 KB of Wasm each, over fifty types); reading from a parsed tree shares the parser.
mod tree;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tree::Tree;

/// Reads `T` from JSON bytes.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    T::deserialize(Tree(parse(bytes)?))
}

/// Reads `T` from a JSON string.
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    from_slice(text.as_bytes())
}

/// Reads `T` from a JSON value already parsed.
pub fn from_value<T: DeserializeOwned>(value: Value) -> serde_json::Result<T> {
    T::deserialize(Tree(value))
}

/// The one parser: JSON bytes to a tree.
#[inline(never)]
pub fn parse(bytes: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Record {
        name: String,
        count: u64,
        #[serde(default)]
        note: Option<String>,
    }

    #[test]
    fn reads_the_same_values_as_serde_json() {
        let text = r#"{"name":"a\u00e9\"b","count":18446744073709551615,"extra":[1,{"x":null}]}"#;
        let direct: Record = serde_json::from_str(text).expect("direct");
        let through_tree: Record = super::from_str(text).expect("tree");
        assert_eq!(through_tree, direct);
        assert_eq!(through_tree.name, "a\u{e9}\"b");
        assert_eq!(through_tree.count, u64::MAX);
        assert_eq!(through_tree.note, None);
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in [
            r#"{"name":"a"}"#,
            r#"{"name":"a","count":-1}"#,
            r#"{"name":"a","count":1.5}"#,
            r#"{"name":1,"count":1}"#,
            r#"{"name":"a","count":1"#,
            "",
        ] {
            assert!(serde_json::from_str::<Record>(text).is_err(), "{text}");
            assert!(super::from_str::<Record>(text).is_err(), "{text}");
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Shape {
        Dot,
        Named(String),
        Pair(u8, u8),
        Box { width: u32 },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Nested {
        shapes: Vec<Shape>,
        records: std::collections::BTreeMap<String, Record>,
        pair: (bool, Option<u8>),
        value: serde_json::Value,
    }

    #[test]
    fn enums_maps_tuples_and_values_read_as_serde_json_reads_them() {
        let text = r#"{
            "shapes": ["dot", {"named": "n"}, {"pair": [1, 2]}, {"box": {"width": 3}}, {"dot": null}],
            "records": {"k": {"name": "a", "count": 1, "note": "x"}},
            "pair": [true, null],
            "value": {"a": [1, "b", null, {"c": 2.5}]}
        }"#;
        let direct: Nested = serde_json::from_str(text).expect("direct");
        let through_tree: Nested = super::from_str(text).expect("tree");
        assert_eq!(through_tree, direct);
        assert_eq!(through_tree.shapes.len(), 5);
    }

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        // serde_json also takes a struct's fields as an array in order; Bindify never writes
        // one so, and the tree reader refuses it.
        let text = r#"["a", 1]"#;
        assert!(serde_json::from_str::<Record>(text).is_ok());
        assert!(super::from_str::<Record>(text).is_err());
    }

    #[test]
    fn malformed_enums_and_extra_elements_are_refused() {
        for text in [
            r#"{"shapes": [{"dot": null, "named": "n"}], "records": {}, "pair": [true, null], "value": 1}"#,
            r#"{"shapes": ["round"], "records": {}, "pair": [true, null], "value": 1}"#,
            r#"{"shapes": [{"named": 1}], "records": {}, "pair": [true, null], "value": 1}"#,
            r#"{"shapes": [], "records": {}, "pair": [true, null, 1], "value": 1}"#,
            r#"{"shapes": [], "records": [], "pair": [true, null], "value": 1}"#,
        ] {
            assert!(serde_json::from_str::<Nested>(text).is_err(), "{text}");
            assert!(super::from_str::<Nested>(text).is_err(), "{text}");
        }
    }
}
