//! Cloud credentials (`cloudsync.credentials.*`): a name and a provider object `{type, ...}`
//! holding the provider's login (keys, tokens, passwords). Stored and returned with their secrets,
//! as TrueNAS does; the gateway's result filter masks them before an agent sees a result.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, errno};
use crate::storage::{check, invalid};
use crate::table::Table;

/// Providers that keep files in buckets (the task's `attributes` name one).
pub(crate) const BUCKET_PROVIDERS: [&str; 5] = ["AZUREBLOB", "B2", "GOOGLE_CLOUD_STORAGE", "S3", "STORJ_IX"];

/// One stored credential.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// `{type, ...settings}` with the schema's defaults filled in.
    pub(crate) provider: Map<String, Value>,
}

impl Credential {
    pub(crate) fn entry(&self) -> Value {
        json!({"id": self.id, "name": self.name, "provider": self.provider})
    }

    /// The provider type (`B2`, `S3`, ...).
    pub(crate) fn kind(&self) -> &str {
        self.provider.get("type").and_then(Value::as_str).unwrap_or_default()
    }

    /// Whether the provider keeps files in buckets.
    pub(crate) fn has_buckets(&self) -> bool {
        BUCKET_PROVIDERS.contains(&self.kind())
    }
}

/// `InstanceNotFound` of `cloudsync.credentials.get_instance`.
pub(crate) fn credential_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Credentials {id} does not exist"))
}

/// Every stored cloud credential.
#[derive(Debug)]
pub(crate) struct CloudCredentials {
    credentials: Table<Credential>,
}

impl Default for CloudCredentials {
    fn default() -> Self {
        CloudCredentials { credentials: Table::new("Credentials") }
    }
}

impl CloudCredentials {
    pub(crate) fn get(&self, id: i64) -> Result<&Credential, Failure> {
        self.credentials.get(id)
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.credentials.values().map(Credential::entry).collect()
    }

    fn ensure_unique(&self, schema: &str, name: &str, except: Option<i64>) -> Result<(), Failure> {
        let taken = self.credentials.values().any(|c| c.name == name && Some(c.id) != except);
        let problems = if taken {
            vec![invalid(format!("{schema}.name"), "Object with this name already exists", errno::EINVAL)]
        } else {
            Vec::new()
        };
        check(problems)
    }

    /// `cloudsync.credentials.create`, with the provider's defaults already filled in.
    pub(crate) fn create(&mut self, data: &Map<String, Value>) -> Result<i64, Failure> {
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        self.ensure_unique("cloud_sync_credentials_create", &name, None)?;
        let provider = data.get("provider").and_then(Value::as_object).cloned().unwrap_or_default();
        Ok(self.credentials.insert(|id| Credential { id, name, provider }))
    }

    /// `cloudsync.credentials.update`: a new name and/or a whole new provider object.
    pub(crate) fn update(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        self.get(id)?;
        if let Some(name) = data.get("name").and_then(Value::as_str) {
            self.ensure_unique("cloud_sync_credentials_update", name, Some(id))?;
        }
        if let Ok(stored) = self.credentials.get_mut(id) {
            if let Some(name) = data.get("name").and_then(Value::as_str) {
                stored.name = name.to_string();
            }
            if let Some(provider) = data.get("provider").and_then(Value::as_object) {
                stored.provider = provider.clone();
            }
        }
        Ok(())
    }

    /// `cloudsync.credentials.delete`; the caller has checked that no task uses it.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.credentials.delete(id).map(drop)
    }
}

/// `cloudsync.credentials.verify`: the simulated clouds accept any login whose secret is not
/// the word `invalid`, and answer like rclone otherwise.
pub(crate) fn verify(provider: &Map<String, Value>) -> Value {
    let refused = provider.values().any(|v| v.as_str() == Some("invalid"));
    if refused {
        let error = "2025/06/14 10:00:00 ERROR : : error listing: 401 Unauthorized\n";
        json!({"valid": false, "error": error, "excerpt": "401 Unauthorized"})
    } else {
        json!({"valid": true})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> Map<String, Value> {
        let value = json!({"name": name, "provider": {"type": "B2", "account": "a", "key": "k"}});
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn names_are_unique_and_ids_grow() {
        let mut store = CloudCredentials::default();
        assert_eq!(store.create(&data("b2")).unwrap(), 1);
        let err = store.create(&data("b2")).unwrap_err();
        assert!(err.reason().contains("cloud_sync_credentials_create.name: Object with this name already exists"));
        assert_eq!(store.create(&data("b2-2")).unwrap(), 2);
        assert!(store.update(2, &data("b2")).is_err());
        store.update(2, &data("b2-renamed")).unwrap();
        assert_eq!(store.get(2).unwrap().name, "b2-renamed");
    }

    #[test]
    fn unknown_ids_are_not_found() {
        let mut store = CloudCredentials::default();
        assert_eq!(store.delete(4).unwrap_err(), credential_not_found(4));
        assert!(credential_not_found(4).reason().contains("Credentials 4 does not exist"));
    }

    #[test]
    fn verify_refuses_the_word_invalid() {
        let good = json!({"type": "S3", "access_key_id": "A", "secret_access_key": "s"});
        assert_eq!(verify(good.as_object().unwrap())["valid"], true);
        let bad = json!({"type": "S3", "access_key_id": "A", "secret_access_key": "invalid"});
        assert_eq!(verify(bad.as_object().unwrap())["valid"], false);
    }
}
