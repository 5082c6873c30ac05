//! The one filter every result passes before an agent sees it: values of fields that hold
//! secrets (passwords, password hashes, private keys, API keys, tokens, cloud credentials) are
//! replaced by a marker, wherever they sit in the result.
//!
//! A field is secret by its name; only non-empty strings are masked, so flags and numbers such
//! as `password_disabled: true` or `min_password_length: 8` stay readable. Names that merely
//! look like secrets (`public_key`, `key_format`, `sshpubkey`, `*_pub`, ...) are on an
//! allow-list. The lists were drawn from every field name in TrueNAS 25.10's result schemas.

use serde_json::Value;

/// What a masked value reads as.
pub const MASK: &str = "<redacted>";

/// Field names (lowercase) that are always secret. (`key` is handled apart: alerts use it
/// for a harmless de-duplication key, API keys and cloud credentials for the secret itself.)
/// `community` is the SNMP v1/v2c shared secret; `file` is a Kerberos keytab, the keys of the
/// NAS's domain account (no other TrueNAS result has a `file` field).
const SECRET_NAMES: &[&str] = &[
    "token",
    "secret",
    "pass",
    "passwd",
    "bindpw",
    "monpwd",
    "salt",
    "smbhash",
    "unixhash",
    "nthash",
    "keyhash",
    "peersecret",
    "community",
    "file",
];

/// Parts of a name that make it secret (`vnc_password`, `aws_secret_access_key`, `refresh_token`,
/// `v3_privkey`, `service_account_credentials`, `encryption_salt`).
const SECRET_PARTS: &[&str] = &[
    "password",
    "passphrase",
    "secret",
    "private_key",
    "privatekey",
    "privkey",
    "authkey",
    "token",
    "credentials",
    "_salt",
];

/// Names that look secret but are not: public halves, formats, locations, flags, policies, ids.
const HARMLESS: &[&str] = &[
    "public_key",
    "sshpubkey",
    "remote_host_key",
    "access_key_id",
    "aws_access_key_id",
    "key_format",
    "keyformat",
    "key_location",
    "keylocation",
    "encryption_key_format",
    "encryption_key_location",
    "key_type",
    "key_length",
    "privatekey_path",
    "credential_type",
    "kpasswd_server",
    "sudo_commands_nopasswd",
    "receive_resume_token",
    "password_complexity_ruleset",
    "password_login_groups",
    "dhchap_hash",
    "subject_name_hash",
];

/// Whether a field of this name holds a secret.
pub fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if HARMLESS.contains(&name.as_str()) || name.ends_with("_pub") {
        return false;
    }
    SECRET_NAMES.contains(&name.as_str())
        || name.ends_with("_key")
        || SECRET_PARTS.iter().any(|part| name.contains(part))
}

/// A TrueNAS API key reads `<id>-<64 letters and digits>`.
fn looks_like_api_key(text: &str) -> bool {
    match text.split_once('-') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && secret.len() >= 16
                && secret.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Masks every secret value in `value`, in place.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // A cloud credential's provider object (`{type: "B2", account, key}`, also Azure and
            // Swift) holds its secret in `key`; alerts and the like carry no `type` beside theirs.
            let provider = map.get("type").is_some_and(Value::is_string);
            for (name, field) in map.iter_mut() {
                let secret = is_secret_field(name) || (provider && name.eq_ignore_ascii_case("key"));
                match field {
                    Value::String(s) if secret && !s.is_empty() => *s = MASK.to_string(),
                    Value::String(s) if name.eq_ignore_ascii_case("key") && looks_like_api_key(s) => {
                        *s = MASK.to_string()
                    }
                    // A list of secret strings (e.g. several keys) is masked item by item.
                    Value::Array(items) if secret => {
                        for item in items.iter_mut() {
                            if matches!(item, Value::String(s) if !s.is_empty()) {
                                *item = Value::String(MASK.to_string());
                            } else {
                                redact(item);
                            }
                        }
                    }
                    other => redact(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
