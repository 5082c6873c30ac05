//! Outgoing mail (`mail.*`): the SMTP settings and an outbox holding every message
//! `mail.send` delivered, since the simulated NAS talks to no mail server.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};

/// Members of the mail settings, in the order `mail.config` returns them.
const FIELDS: [&str; 10] =
    ["fromemail", "fromname", "outgoingserver", "port", "security", "smtp", "user", "pass", "oauth", "id"];

/// The mail settings and what was sent.
#[derive(Debug)]
pub(crate) struct MailStore {
    config: Map<String, Value>,
    /// Messages delivered, oldest first.
    pub(crate) outbox: Vec<Value>,
}

impl MailStore {
    /// A home server relaying through an authenticated submission port.
    pub(crate) fn demo() -> MailStore {
        let config = json!({
            "fromemail": "truenas@home.lan",
            "fromname": "TrueNAS",
            "outgoingserver": "smtp.fastmail.com",
            "port": 587,
            "security": "TLS",
            "smtp": true,
            "user": "truenas@home.lan",
            "pass": "sim-smtp-password",
            "oauth": null,
            "id": 1,
        });
        MailStore { config: config.as_object().cloned().unwrap_or_default(), outbox: Vec::new() }
    }

    /// The `mail.config` result.
    pub(crate) fn config(&self) -> Value {
        Value::Object(
            FIELDS.iter().map(|k| (k.to_string(), self.config.get(*k).cloned().unwrap_or(Value::Null))).collect(),
        )
    }

    fn merged(&self, changes: &Map<String, Value>) -> Map<String, Value> {
        let mut config = self.config.clone();
        config.extend(
            changes
                .iter()
                .filter(|(k, _)| FIELDS.contains(&k.as_str()) && *k != "id")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        config
    }

    /// `mail.update`: SMTP authentication needs a user and a password.
    pub(crate) fn update(&mut self, changes: &Map<String, Value>) -> Result<Value, Failure> {
        let config = self.merged(changes);
        let mut problems = Vec::new();
        if config.get("smtp").and_then(Value::as_bool) == Some(true) {
            for key in ["user", "pass"] {
                if config.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                    problems.push(Invalid {
                        attribute: Some(format!("mail_update.{key}")),
                        message: "This field is required when SMTP authentication is enabled".into(),
                        errno: errno::EINVAL,
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        self.config = config;
        Ok(self.config())
    }

    /// `mail.send`: delivers `message` with the stored settings overridden by `overrides`;
    /// without recipients it goes to the administrators' addresses (`fallback`).
    pub(crate) fn send(
        &mut self,
        message: &Map<String, Value>,
        overrides: &Map<String, Value>,
        fallback: Vec<String>,
    ) -> Result<(), Failure> {
        let config = self.merged(overrides);
        let to: Vec<Value> = match message.get("to").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.clone(),
            _ => fallback.into_iter().map(Value::String).collect(),
        };
        if to.is_empty() {
            return Err(Failure::fault("Email address for root is not configured"));
        }
        if config.get("outgoingserver").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(Failure::fault("Outgoing mail server is not configured"));
        }
        self.outbox.push(json!({
            "from": config.get("fromemail"),
            "to": to,
            "cc": message.get("cc").cloned().unwrap_or(json!([])),
            "subject": message.get("subject"),
            "text": message.get("text"),
            "server": config.get("outgoingserver"),
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::object as map;

    #[test]
    fn smtp_authentication_needs_credentials() {
        let mut m = MailStore::demo();
        let err = m.update(&map(json!({"user": ""}))).unwrap_err();
        assert_eq!(
            err.reason(),
            "[EINVAL] mail_update.user: This field is required when SMTP authentication is enabled\n"
        );
        let config = m.update(&map(json!({"smtp": false, "user": "", "port": 465, "security": "SSL"}))).unwrap();
        assert_eq!(config["port"], 465);
        assert_eq!(m.config()["security"], "SSL");
        assert_eq!(config.as_object().unwrap().keys().next_back().unwrap(), "id");
    }

    #[test]
    fn messages_land_in_the_outbox_and_fall_back_to_the_administrators() {
        let mut m = MailStore::demo();
        m.send(&map(json!({"subject": "hi", "text": "body", "to": ["a@x.org"]})), &Map::new(), vec![]).unwrap();
        m.send(&map(json!({"subject": "alert"})), &Map::new(), vec!["admin@home.lan".into()]).unwrap();
        assert_eq!(m.outbox[0]["to"], json!(["a@x.org"]));
        assert_eq!(m.outbox[1]["to"], json!(["admin@home.lan"]));
        let err = m.send(&map(json!({"subject": "x"})), &Map::new(), vec![]).unwrap_err();
        assert_eq!(err.reason(), "[EFAULT] Email address for root is not configured");
        let err = m.send(&map(json!({"subject": "x", "to": ["a@x.org"]})), &map(json!({"outgoingserver": ""})), vec![]);
        assert!(err.is_err());
        assert_eq!(m.outbox.len(), 2);
    }
}
