//! Reading positional params after schema validation: the array has the right types, but
//! optional trailing params may be missing and take TrueNAS's defaults.

use serde_json::{Map, Value};

use super::failure::{Failure, errno};

/// The positional params of one call.
#[derive(Debug, Clone)]
pub(crate) struct Params<'a> {
    method: &'a str,
    items: &'a [Value],
}

impl<'a> Params<'a> {
    pub(crate) fn new(method: &'a str, params: &'a Value) -> Params<'a> {
        Params { method, items: params.as_array().map(Vec::as_slice).unwrap_or(&[]) }
    }

    /// The raw value at `index`, if given.
    pub(crate) fn get(&self, index: usize) -> Option<&'a Value> {
        self.items.get(index)
    }

    fn wrong(&self, index: usize, what: &str) -> Failure {
        Failure::call(errno::EINVAL, format!("{}: param {index} must be {what}", self.method))
    }

    /// A required integer (ids).
    pub(crate) fn int(&self, index: usize) -> Result<i64, Failure> {
        self.get(index).and_then(Value::as_i64).ok_or_else(|| self.wrong(index, "an integer"))
    }

    /// A required string.
    pub(crate) fn str(&self, index: usize) -> Result<&'a str, Failure> {
        self.get(index).and_then(Value::as_str).ok_or_else(|| self.wrong(index, "a string"))
    }

    /// An optional string; `null` and absent both give `None`.
    pub(crate) fn opt_str(&self, index: usize) -> Option<&'a str> {
        self.get(index).and_then(Value::as_str)
    }

    /// An object param, empty when absent.
    pub(crate) fn object(&self, index: usize) -> Map<String, Value> {
        self.get(index).and_then(Value::as_object).cloned().unwrap_or_default()
    }

    /// A boolean member of the object param at `index`, `false` when absent.
    pub(crate) fn flag(&self, index: usize, key: &str) -> bool {
        self.get(index).and_then(|o| o.get(key)).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A boolean param, `false` when absent.
    pub(crate) fn bool(&self, index: usize) -> bool {
        self.get(index).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The value at `index`, `null` when absent (query filters and options).
    pub(crate) fn value(&self, index: usize) -> Value {
        self.get(index).cloned().unwrap_or(Value::Null)
    }
}
