//! TrueNAS's defaults, read from the method's own params schema: what pydantic fills in for
//! every field the caller left out. Handles plain objects and `oneOf` unions discriminated by a
//! `const` member (VM device `attributes` by `dtype`).

use serde_json::{Map, Value};

use truenas_api::schema::{MethodTable, Release};

/// Fills the defaults of positional param `index` of `method` into `value`.
pub(crate) fn apply(release: Release, method: &str, index: usize, value: &mut Value) {
    let schema = MethodTable::get(release)
        .method(method)
        .and_then(|spec| spec.params.get("prefixItems"))
        .and_then(|items| items.get(index));
    if let Some(schema) = schema {
        fill(schema, value);
    }
}

/// Param `index` of `method` as an object with its defaults filled in: what a create gets.
pub(crate) fn filled(release: Release, method: &str, index: usize, mut value: Value) -> Map<String, Value> {
    apply(release, method, index, &mut value);
    crate::json::object(value)
}

/// Fills `value` from `schema`, recursively into object members.
pub(crate) fn fill(schema: &Value, value: &mut Value) {
    let schema = match schema.get("oneOf").and_then(Value::as_array) {
        Some(branches) => match branches.iter().find(|b| branch_matches(b, value)) {
            Some(branch) => branch,
            None => return,
        },
        None => schema,
    };
    let (Some(properties), Value::Object(object)) = (schema.get("properties").and_then(Value::as_object), value) else {
        return;
    };
    fill_object(properties, object);
}

fn fill_object(properties: &Map<String, Value>, object: &mut Map<String, Value>) {
    for (key, prop) in properties {
        if !object.contains_key(key)
            && let Some(default) = prop.get("default")
        {
            object.insert(key.clone(), default.clone());
        }
        if let Some(member) = object.get_mut(key)
            && member.is_object()
        {
            fill(prop, member);
        }
    }
}

/// A `oneOf` branch matches when every `const` member it declares has that value.
fn branch_matches(branch: &Value, value: &Value) -> bool {
    let Some(properties) = branch.get("properties").and_then(Value::as_object) else { return false };
    properties
        .iter()
        .filter_map(|(key, prop)| prop.get("const").map(|c| (key, c)))
        .all(|(key, constant)| value.get(key) == Some(constant))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vm_create_defaults_come_from_the_schema() {
        let mut vm = json!({"name": "x", "memory": 512});
        apply(Release::V25_10, "vm.create", 0, &mut vm);
        assert_eq!(vm["bootloader"], "UEFI");
        assert_eq!(vm["shutdown_timeout"], 90);
        assert_eq!(vm["autostart"], true);
        assert_eq!(vm["cpu_model"], Value::Null);
        assert_eq!(vm["memory"], 512);
    }

    #[test]
    fn device_attributes_take_the_defaults_of_their_dtype() {
        let mut dev = json!({"attributes": {"dtype": "NIC"}, "vm": 1});
        apply(Release::V25_10, "vm.device.create", 0, &mut dev);
        assert_eq!(dev["attributes"]["type"], "E1000");
        assert_eq!(dev["attributes"]["mac"], Value::Null);
        assert_eq!(dev["order"], Value::Null);
        let mut display = json!({"attributes": {"dtype": "DISPLAY"}, "vm": 1});
        apply(Release::V25_10, "vm.device.create", 0, &mut display);
        assert_eq!(display["attributes"]["type"], "SPICE");
        assert!(display["attributes"].get("mac").is_none());
    }
}
