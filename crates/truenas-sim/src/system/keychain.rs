//! The SSH keychain's rules (`keychaincredential.*`): unique names, key pairs checked and their
//! public half derived from the private one, what uses a credential, and deleting with or
//! without `cascade`. Key material is simulated: a "private key" is any OpenSSH/PEM-armoured
//! block, and its public half is derived from a digest of it, so a generated pair matches.
//!
//! Replication tasks also use SSH credentials; they live in another domain, so the
//! `keychaincredential.*` handler adds them to what is said here ([`Tasks::credential_closure`]).
//! SFTP cloud credentials are not consulted.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::failure::{Failure, Invalid, errno};
use crate::records::invalid;
use crate::system::tasks::Tasks;

/// Key types `ssh-keygen -l` accepts in a public key line.
const KEY_TYPES: [&str; 6] =
    ["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-dss"];

/// TrueNAS's refusal to delete a credential something uses, without `cascade`.
pub(crate) fn in_use() -> Failure {
    Failure::Validation(vec![Invalid {
        attribute: Some("options.cascade".into()),
        message: "This credential is used and no cascade option is specified".into(),
        errno: errno::EINVAL,
    }])
}

/// `key type + base64` of the public half of a simulated private key.
pub(crate) fn derive_public_key(private_key: &str) -> String {
    let digest = Sha256::digest(private_key.trim().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{hex}")
}

/// A fresh key pair, as `keychaincredential.generate_ssh_key_pair` returns it.
pub(crate) fn generate_key_pair() -> Value {
    let body = uuid::Uuid::new_v4().simple().to_string();
    let private_key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    );
    let public_key = format!("{} root@truenas\n", derive_public_key(&private_key));
    json!({"private_key": private_key, "public_key": public_key})
}

/// What `ssh-keyscan` finds on `host:port`, without the host names: one line per host key type.
pub(crate) fn host_key_scan(host: &str, port: i64) -> String {
    let digest = Sha256::digest(format!("{host}:{port}").as_bytes());
    let tag: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    [
        format!("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQSimulated{tag}"),
        format!("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYSimulated{tag}"),
        format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulated{tag}"),
    ]
    .join("\n")
}

fn looks_like_private_key(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("-----BEGIN ") && text.ends_with("PRIVATE KEY-----") && text.lines().count() >= 3
}

fn looks_like_public_key(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let kind = words.next().unwrap_or_default();
    let body = words.next().unwrap_or_default();
    (KEY_TYPES.contains(&kind) || kind.starts_with("sk-"))
        && body.starts_with("AAAA")
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

/// `key type + base64`, as TrueNAS compares public keys (comments ignored).
fn normalize_public_key(text: &str) -> String {
    text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Fills the defaults of an `SSH_KEY_PAIR`'s attributes, checks them and derives a missing
/// public key. `schema` is the attributes' prefix (`keychain_credential_create.attributes`).
fn check_key_pair(attributes: &mut Map<String, Value>, schema: &str) -> Result<(), Failure> {
    attributes.entry("private_key").or_insert(Value::Null);
    attributes.entry("public_key").or_insert(Value::Null);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let private = text(attributes.get("private_key"));
    let public = text(attributes.get("public_key"));
    match (private, public) {
        (Some(private), public) => {
            if !looks_like_private_key(&private) {
                return Err(invalid(&format!("{schema}.private_key"), "Load key \"/tmp/key\": invalid format\n"));
            }
            let private = format!("{}\n", private.trim());
            let derived = derive_public_key(&private);
            match public {
                Some(given) if normalize_public_key(&given) != derived => {
                    return Err(invalid(&format!("{schema}.public_key"), "Private key and public key do not match"));
                }
                Some(_) => {}
                None => {
                    attributes.insert("public_key".into(), json!(format!("{derived}\n")));
                }
            }
            attributes.insert("private_key".into(), json!(private));
        }
        (None, None) => return Err(invalid(&format!("{schema}.public_key"), "You must specify a key")),
        (None, Some(public)) => {
            if !looks_like_public_key(&public) {
                return Err(invalid(&format!("{schema}.public_key"), "Invalid public key"));
            }
        }
    }
    Ok(())
}

/// Fills the defaults of an `SSH_CREDENTIALS`' attributes.
fn fill_ssh_credentials(attributes: &mut Map<String, Value>) {
    attributes.entry("port").or_insert(json!(22));
    attributes.entry("username").or_insert(json!("root"));
    attributes.entry("connect_timeout").or_insert(json!(10));
}

impl Tasks {
    /// Checks a complete credential row before it is stored (`id` on update) and completes its
    /// attributes. `schema` prefixes attributes: `keychain_credential_create`.
    pub(crate) fn check_keychain(
        &self,
        row: &mut Map<String, Value>,
        schema: &str,
        id: Option<i64>,
    ) -> Result<(), Failure> {
        let name = row.get("name").cloned().unwrap_or(Value::Null);
        if self.keychain.taken("name", &name, id) {
            return Err(invalid(&format!("{schema}.name"), "Object with this name already exists"));
        }
        let kind = row.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut attributes = match row.remove("attributes") {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let checked = match kind.as_str() {
            "SSH_KEY_PAIR" => check_key_pair(&mut attributes, &format!("{schema}.attributes")),
            _ => {
                fill_ssh_credentials(&mut attributes);
                Ok(())
            }
        };
        row.insert("attributes".into(), Value::Object(attributes));
        checked
    }

    /// Credentials of type `SSH_CREDENTIALS` that log in with key pair `id`.
    fn credentials_using(&self, id: i64) -> Vec<Value> {
        self.keychain
            .entries()
            .into_iter()
            .filter(|c| c["type"] == "SSH_CREDENTIALS" && c["attributes"]["private_key"] == id)
            .collect()
    }

    /// Credential `id` and, for a key pair, the SSH credentials that log in with it: what a
    /// cascading delete of `id` removes.
    pub(crate) fn credential_closure(&self, id: i64) -> Vec<i64> {
        std::iter::once(id).chain(self.credentials_using(id).iter().filter_map(|c| c["id"].as_i64())).collect()
    }

    /// Rsync tasks that connect with credential `id`.
    fn rsync_using(&self, id: i64) -> Vec<Value> {
        self.rsync.entries().into_iter().filter(|t| t["ssh_credentials"] == id).collect()
    }

    /// `keychaincredential.used_by`: what uses credential `id`, and how deleting it with
    /// `cascade` unbinds each (recursively through the SSH credentials a key pair backs).
    pub(crate) fn keychain_used_by(&self, id: i64) -> Result<Vec<Value>, Failure> {
        let credential = self.keychain.get(id)?;
        let mut used = Vec::new();
        if credential["type"] == "SSH_KEY_PAIR" {
            for user in self.credentials_using(id) {
                used.push(json!({"title": format!("SSH credentials {}", user["name"].as_str().unwrap_or_default()),
                    "unbind_method": "delete"}));
                used.extend(self.keychain_used_by(user["id"].as_i64().unwrap_or_default())?);
            }
        } else {
            for task in self.rsync_using(id) {
                let path = task["path"].as_str().unwrap_or_default();
                used.push(json!({"title": format!("Rsync task for '{path}'"), "unbind_method": "disable"}));
            }
        }
        Ok(used)
    }

    /// `keychaincredential.delete`: refused while something uses the credential, unless
    /// `cascade`, which deletes the SSH credentials a key pair backs and disables the rsync
    /// tasks that used an SSH credential.
    pub(crate) fn delete_keychain(&mut self, id: i64, cascade: bool) -> Result<(), Failure> {
        let credential = self.keychain.get(id)?;
        let (credentials, tasks) = if credential["type"] == "SSH_KEY_PAIR" {
            (self.credentials_using(id), Vec::new())
        } else {
            (Vec::new(), self.rsync_using(id))
        };
        let used = !(credentials.is_empty() && tasks.is_empty());
        if used && !cascade {
            return Err(in_use());
        }
        for user in credentials {
            self.delete_keychain(user["id"].as_i64().unwrap_or_default(), true)?;
        }
        for task in tasks {
            let mut changes = Map::new();
            changes.insert("enabled".into(), json!(false));
            changes.insert("ssh_credentials".into(), Value::Null);
            self.rsync.update(task["id"].as_i64().unwrap_or_default(), changes)?;
        }
        self.keychain.delete(id)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "keychain_tests.rs"]
mod tests;
