//! Reading a policy's text into JSON strictly: a size limit before parsing, a bound on nesting,
//! and every duplicate key reported by its JSON Pointer (serde_json alone keeps the last one
//! silently, so a repeated tool entry would drop the first one's rules).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::load::{Problem, child};

/// The largest policy file accepted: 1 MiB.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The deepest nesting of arrays and objects accepted (a policy needs five levels).
pub(crate) const MAX_DEPTH: usize = 32;

/// Parses `text`, or returns the problems: one for oversized or malformed text, or one per
/// duplicate key.
pub(crate) fn parse(text: &str) -> Result<Value, Vec<Problem>> {
    if text.len() > MAX_BYTES {
        return Err(vec![too_large(text.len())]);
    }
    let duplicates = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Node { at: String::new(), depth: 0, duplicates: &duplicates }.deserialize(&mut de).and_then(|v| {
        de.end()?;
        Ok(v)
    });
    let value = parsed.map_err(|e| vec![Problem { pointer: String::new(), message: format!("invalid JSON: {e}") }])?;
    let duplicates = duplicates.into_inner();
    if duplicates.is_empty() { Ok(value) } else { Err(duplicates) }
}

/// The problem for a document of `len` bytes, over [`MAX_BYTES`].
pub(crate) fn too_large(len: usize) -> Problem {
    Problem {
        pointer: String::new(),
        message: format!("the policy is {len} bytes; the limit is {MAX_BYTES} bytes (1 MiB)"),
    }
}

/// One JSON value being read at pointer `at`.
struct Node<'a> {
    at: String,
    depth: usize,
    duplicates: &'a RefCell<Vec<Problem>>,
}

impl Node<'_> {
    fn below(&self, at: String) -> Node<'_> {
        Node { at, depth: self.depth + 1, duplicates: self.duplicates }
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        if self.depth >= MAX_DEPTH {
            let at = if self.at.is_empty() { "(document)" } else { &self.at };
            return Err(E::custom(format!("nesting deeper than {MAX_DEPTH} levels at {at}")));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.below(format!("{}/{}", self.at, items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = child(&self.at, &key);
            let value = map.next_value_seed(self.below(at.clone()))?;
            if object.contains_key(&key) {
                let message =
                    format!("duplicate key `{key}`; only one may appear, or the earlier one is silently lost");
                self.duplicates.borrow_mut().push(Problem { pointer: at, message });
            } else {
                object.insert(key, value);
            }
        }
        Ok(Value::Object(object))
    }
}
