//! A plain CRUD store of JSON rows keyed by an integer id: what the simulated NAS keeps for
//! TrueNAS's simple `CRUDService`s (cron jobs, rsync tasks, init/shutdown scripts, keychain
//! credentials, tunables, Kerberos realms and keytabs). Rows are stored as their `query` entries.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::table::Table;

/// Rows of one service, with the name its errors use.
#[derive(Debug, Clone)]
pub(crate) struct Records {
    /// Stored as their entries, named by the service's verbose name (`Cron Job 7 does not exist`).
    rows: Table<Map<String, Value>>,
}

/// `row` with `"id": id` first, as TrueNAS's entries list it (an `id` in `row` is dropped).
fn with_id(id: i64, row: Map<String, Value>) -> Map<String, Value> {
    let mut ordered = Map::new();
    ordered.insert("id".into(), json!(id));
    ordered.extend(row.into_iter().filter(|(k, _)| k != "id"));
    ordered
}

impl Records {
    pub(crate) fn new(verbose: &'static str) -> Records {
        Records { rows: Table::new(verbose) }
    }

    /// Every row, by id.
    pub(crate) fn entries(&self) -> Vec<Value> {
        self.rows.values().map(|r| Value::Object(r.clone())).collect()
    }

    /// `InstanceNotFound` for `id`.
    pub(crate) fn not_found(&self, id: i64) -> Failure {
        self.rows.not_found(id)
    }

    pub(crate) fn get(&self, id: i64) -> Result<Value, Failure> {
        self.rows.get(id).map(|r| Value::Object(r.clone()))
    }

    /// Adds a row (its `id` is assigned) and returns it.
    pub(crate) fn insert(&mut self, row: Map<String, Value>) -> Value {
        let id = self.rows.insert(|id| with_id(id, row));
        self.get(id).unwrap_or_default()
    }

    /// Merges `changes` into row `id` (nested objects such as `schedule` are merged too).
    pub(crate) fn update(&mut self, id: i64, changes: Map<String, Value>) -> Result<Value, Failure> {
        let row = self.rows.get_mut(id)?;
        for (key, value) in changes {
            if key == "id" {
                continue;
            }
            match (row.get_mut(&key), value) {
                (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
                (_, value) => {
                    row.insert(key, value);
                }
            }
        }
        Ok(Value::Object(row.clone()))
    }

    /// Replaces row `id` with `row` as given (no merging; its `id` is kept).
    pub(crate) fn replace(&mut self, id: i64, row: Map<String, Value>) -> Result<Value, Failure> {
        let stored = self.rows.get_mut(id)?;
        *stored = with_id(id, row);
        Ok(Value::Object(stored.clone()))
    }

    pub(crate) fn delete(&mut self, id: i64) -> Result<Value, Failure> {
        self.rows.delete(id).map(Value::Object)
    }

    /// Whether another row than `except` has `field` equal to `value`.
    pub(crate) fn taken(&self, field: &str, value: &Value, except: Option<i64>) -> bool {
        self.rows.iter().any(|(id, r)| Some(id) != except && r.get(field) == Some(value))
    }
}

/// A validation error on one attribute (`cronjob_create.user`).
pub(crate) fn invalid(attribute: &str, message: impl Into<String>) -> Failure {
    Failure::Validation(vec![Invalid {
        attribute: Some(attribute.to_string()),
        message: message.into(),
        errno: errno::EINVAL,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_get_increasing_ids_and_unknown_ids_are_not_found() {
        let mut r = Records::new("Cron Job");
        let a = r.insert(Map::new());
        let b = r.insert(Map::new());
        assert_eq!((a["id"].as_i64(), b["id"].as_i64()), (Some(1), Some(2)));
        r.delete(1).unwrap();
        assert_eq!(r.entries().len(), 1);
        assert!(r.get(1).unwrap_err().reason().contains("Cron Job 1 does not exist"));
        assert!(r.update(9, Map::new()).is_err());
    }

    #[test]
    fn updates_merge_nested_objects() {
        let mut r = Records::new("Rsync Task");
        let row = json!({"schedule": {"minute": "00", "hour": "*"}, "desc": "a"});
        r.insert(row.as_object().cloned().unwrap());
        let changes = json!({"schedule": {"hour": "3"}, "desc": "b"}).as_object().cloned().unwrap();
        let row = r.update(1, changes).unwrap();
        assert_eq!(row["schedule"], json!({"minute": "00", "hour": "3"}));
        assert_eq!(row["desc"], "b");
        assert!(r.taken("desc", &json!("b"), None));
        assert!(!r.taken("desc", &json!("b"), Some(1)));
    }

    #[test]
    fn replacing_a_row_drops_fields_the_new_one_lacks_and_keeps_the_id() {
        let mut r = Records::new("Keychain Credential");
        r.insert(json!({"attributes": {"host": "a", "port": 22}}).as_object().cloned().unwrap());
        let row = r.replace(1, json!({"id": 9, "attributes": {"host": "b"}}).as_object().cloned().unwrap()).unwrap();
        assert_eq!(row, json!({"id": 1, "attributes": {"host": "b"}}));
        assert_eq!(r.get(1).unwrap(), row);
        assert!(r.replace(2, Map::new()).unwrap_err().reason().contains("Keychain Credential 2 does not exist"));
    }
}
