//! ACME DNS authenticators (`acme.dns.authenticator.*`): named provider credentials ACME uses
//! to answer DNS-01 challenges. The provider sits inside `attributes` (`authenticator`); the
//! params schema has already checked each provider's fields.

use serde_json::{Map, Value, json};

use crate::failure::Failure;
use crate::network::interface::invalid;
use crate::table::Table;

/// One DNS authenticator.
#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) attributes: Map<String, Value>,
}

/// Attributes the middleware declares secret: query results show them masked.
const SECRETS: [&str; 8] = [
    "api_key",
    "api_token",
    "digitalocean_token",
    "application_key",
    "application_secret",
    "consumer_key",
    "access_key_id",
    "secret_access_key",
];

impl Authenticator {
    pub(crate) fn entry(&self) -> Value {
        let mut attributes = self.attributes.clone();
        for (key, value) in attributes.iter_mut() {
            if SECRETS.contains(&key.as_str()) && !value.is_null() {
                *value = json!("********");
            }
        }
        json!({"id": self.id, "attributes": attributes, "name": self.name})
    }
}

/// Every DNS authenticator of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Authenticators {
    map: Table<Authenticator>,
}

pub(crate) fn authenticator_not_found(id: i64) -> Failure {
    Failure::not_found(format!("DNSAuthenticator {id} does not exist"))
}

impl Authenticators {
    pub(crate) fn get(&self, id: i64) -> Result<&Authenticator, Failure> {
        self.map.get(id)
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.map.values().map(Authenticator::entry).collect()
    }

    fn check_name(&self, schema: &str, name: &str, except: Option<i64>) -> Result<(), Failure> {
        if self.map.values().any(|a| a.name == name && Some(a.id) != except) {
            return Err(Failure::Validation(vec![invalid(schema, "name", "Specified name is already in use")]));
        }
        Ok(())
    }

    /// `acme.dns.authenticator.create` (defaults already filled in).
    pub(crate) fn create(&mut self, data: &Map<String, Value>) -> Result<i64, Failure> {
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        self.check_name("dns_authenticator_create", &name, None)?;
        let attributes = data.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default();
        Ok(self.map.insert(|id| Authenticator { id, name, attributes }))
    }

    /// `acme.dns.authenticator.update`: a new name and/or new attributes.
    pub(crate) fn update(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        self.get(id)?;
        if let Some(name) = data.get("name").and_then(Value::as_str) {
            self.check_name("dns_authenticator_update", name, Some(id))?;
        }
        let entry = self.map.get_mut(id)?;
        if let Some(name) = data.get("name").and_then(Value::as_str) {
            entry.name = name.to_string();
        }
        if let Some(attributes) = data.get("attributes").and_then(Value::as_object) {
            entry.attributes = attributes.clone();
        }
        Ok(())
    }

    /// `acme.dns.authenticator.delete`: refused while certificates renew through it.
    pub(crate) fn delete(&mut self, id: i64, used_by: &[String]) -> Result<(), Failure> {
        self.get(id)?;
        if !used_by.is_empty() {
            return Err(Failure::fault(format!(
                "DNS Authenticator is being used by the following certificate(s): {}",
                used_by.join(", ")
            )));
        }
        self.map.delete(id).map(drop)
    }
}

/// The authenticators of a fresh simulated NAS: the Cloudflare token the Let's Encrypt
/// certificate renews through, and an unused Route 53 key from an earlier experiment.
pub(crate) fn demo() -> Authenticators {
    let attributes = |v: Value| v.as_object().cloned().unwrap_or_default();
    let mut map = Table::new("DNSAuthenticator");
    map.insert(|id| Authenticator {
        id,
        name: "cloudflare_home".into(),
        attributes: attributes(json!({"authenticator": "cloudflare", "cloudflare_email": null, "api_key": null,
            "api_token": "cf-demo-token-7d1f0e9a42b3c5"})),
    });
    map.insert(|id| Authenticator {
        id,
        name: "route53_lab".into(),
        attributes: attributes(json!({"authenticator": "route53", "access_key_id": "AKIAEXAMPLEDEMO00001",
            "secret_access_key": "demo/secret/key/not+real0000000000000000"})),
    });
    Authenticators { map }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::object;

    #[test]
    fn names_are_unique_and_ids_count_up() {
        let mut store = demo();
        let data =
            object(json!({"name": "do", "attributes": {"authenticator": "digitalocean", "digitalocean_token": "t"}}));
        assert_eq!(store.create(&data), Ok(3));
        let err = store.create(&data).unwrap_err();
        assert_eq!(err.reason(), "[EINVAL] dns_authenticator_create.name: Specified name is already in use\n");
        store.update(3, &object(json!({"name": "do2"}))).unwrap();
        assert_eq!(store.get(3).unwrap().name, "do2");
        assert_eq!(store.get(3).unwrap().attributes["authenticator"], "digitalocean", "attributes kept");
    }

    #[test]
    fn an_authenticator_in_use_is_not_deleted() {
        let mut store = demo();
        let err = store.delete(1, &["letsencrypt_nas".into()]).unwrap_err();
        assert!(err.reason().contains("letsencrypt_nas"), "{}", err.reason());
        assert_eq!(store.delete(2, &[]), Ok(()));
        assert_eq!(store.delete(2, &[]), Err(authenticator_not_found(2)));
    }
}
