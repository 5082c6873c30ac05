//! The one place that knows what a secret looks like, and the one scrubber every output uses:
//! results ([`redact`]: values of fields that hold secrets, passwords, password hashes, private
//! keys, API keys, tokens, cloud credentials, dataset unlock keys, app environment secrets,
//! webhook URLs), and text ([`scrub_text`]: errors to the agent, audit and log lines), where the
//! configured API key and HTTP bearer tokens are replaced wherever they appear, and the password
//! of a credentialed URL (`https://user:pw@host`) is masked.
//!
//! A field is secret by its name; only non-empty strings are masked, so flags and numbers such
//! as `password_disabled: true` or `min_password_length: 8` stay readable. Names that merely
//! look like secrets (`public_key`, `key_format`, `sshpubkey`, `*_pub`, ...) are on an
//! allow-list. The lists were drawn from every field name in TrueNAS 25.10's result schemas.

use std::sync::{PoisonError, RwLock};

use serde_json::{Map, Value};

/// What a masked value reads as.
pub const MASK: &str = "<redacted>";

/// Field names (lowercase) that are always secret. (`key` is handled apart, see
/// `key_is_secret`.)
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

/// Field names whose answer [`is_secret_field`] keeps per thread: results repeat the same few
/// names thousands of times (every item of a query), and the rules below scan a dozen lists.
/// Bounded, so that a result with endless distinct keys cannot grow it.
const SEEN_NAMES_MAX: usize = 2048;

/// Longest field name [`is_secret_field`] remembers, in bytes: TrueNAS's field names are short,
/// and a longer one (a hostile NAS's megabyte key) is decided by the rules each time instead of
/// being kept.
const SEEN_NAME_LEN_MAX: usize = 64;

thread_local! {
    static SEEN_NAMES: std::cell::RefCell<std::collections::HashMap<Box<str>, bool, NameHash>> =
        std::cell::RefCell::new(std::collections::HashMap::default());
}

/// The hasher of [`SEEN_NAMES`]: FNV-1a, a few instructions a byte where SipHash spent most of
/// the redaction walk. Flooding it with colliding names gains nothing: the map is per thread,
/// holds at most [`SEEN_NAMES_MAX`] names, and a name it does not hold is decided by the rules.
type NameHash = std::hash::BuildHasherDefault<Fnv1a>;

/// FNV-1a over the bytes written, 64 bits.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Whether a field of this name holds a secret.
pub fn is_secret_field(name: &str) -> bool {
    // A pure function of the name: remembering its answer changes no answer.
    let seen = SEEN_NAMES.with(|seen| seen.borrow().get(name).copied());
    if let Some(secret) = seen {
        return secret;
    }
    let secret = secret_by_rules(name);
    SEEN_NAMES.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() < SEEN_NAMES_MAX && name.len() <= SEEN_NAME_LEN_MAX {
            seen.insert(name.into(), secret);
        }
    });
    secret
}

/// [`is_secret_field`], decided by the rules.
fn secret_by_rules(name: &str) -> bool {
    // Most names are lowercase already: lowered only when they are not (this runs for every
    // field of every result).
    let name: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(name.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    };
    let name = name.as_ref();
    if HARMLESS.contains(&name) || name.ends_with("_pub") {
        return false;
    }
    SECRET_NAMES.contains(&name)
        || name.ends_with("_key")
        || name.ends_with("_pw")
        || name.ends_with("_pwd")
        || name.ends_with("_pass")
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

/// Alert service types whose `url` is itself the credential (a webhook with its token).
const WEBHOOK_TYPES: &[&str] = &["slack", "mattermost", "msteams", "teams", "googlechat", "discord", "webhook"];

/// What makes a field of one object secret beyond its own name.
struct Siblings {
    // Alert services name their kind in `type`: a chat webhook's `url` is its credential.
    webhook: bool,
    key_is_secret: bool,
    // An environment entry `{name: "POSTGRES_PASSWORD", value: "..."}`.
    env_secret: bool,
}

impl Siblings {
    fn of(map: &Map<String, Value>) -> Siblings {
        let kind = map.get("type").and_then(Value::as_str);
        Siblings {
            webhook: kind.is_some_and(|k| WEBHOOK_TYPES.iter().any(|w| w.eq_ignore_ascii_case(k))),
            key_is_secret: key_is_secret(map),
            env_secret: env_entry_is_secret(map),
        }
    }

    /// Whether the field `name` of this object holds a secret.
    fn is_secret(&self, name: &str) -> bool {
        is_secret_field(name)
            || (self.key_is_secret && name.eq_ignore_ascii_case("key"))
            || (self.webhook && name.eq_ignore_ascii_case("url"))
            || (self.env_secret && name.eq_ignore_ascii_case("value"))
    }
}

/// Masks every secret value in `value`, in place, and scrubs known secrets (the API key, bearer
/// tokens, credentialed URLs) out of every other string.
pub fn redact(value: &mut Value) {
    redact_with(value, &[]);
}

/// [`redact`], also scrubbing `extra` literals (the secret argument values of the call that
/// produced `value`, from [`secret_values`]) out of every string.
pub fn redact_with(value: &mut Value, extra: &[String]) {
    match value {
        Value::Object(map) => {
            let siblings = Siblings::of(map);
            for (name, field) in map.iter_mut() {
                let secret = siblings.is_secret(name);
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
                                redact_with(item, extra);
                            }
                        }
                    }
                    // A numeric password or key (`"password": 1234`) is masked too.
                    Value::Number(_) if secret && is_strict_secret(name) => *field = Value::String(MASK.to_string()),
                    other => redact_with(other, extra),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_with(item, extra)),
        Value::String(s) => {
            if let Some(clean) = scrub_changed(s, extra) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// The secret values among a call's arguments (the strings [`redact`] would mask), so that
/// whatever is said about the call (an error the NAS echoes them in) can be scrubbed of them.
pub fn secret_values(args: &Map<String, Value>) -> Vec<String> {
    let mut found = Vec::new();
    collect_secrets(args, &mut found);
    tidy(found)
}

/// [`secret_values`] of any JSON value: a job's `arguments` list, say, so that the job's error
/// text can be scrubbed of the keys and passwords it was started with.
pub fn secret_values_in(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_in(value, false, &mut found);
    tidy(found)
}

fn tidy(mut found: Vec<String>) -> Vec<String> {
    found.retain(|s| s.len() >= MIN_CALL_SECRET_LEN);
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// Below this length an argument value is not scrubbed from text (it would mask ordinary words).
const MIN_CALL_SECRET_LEN: usize = 4;

fn collect_secrets(map: &Map<String, Value>, found: &mut Vec<String>) {
    let siblings = Siblings::of(map);
    for (name, field) in map {
        let secret = siblings.is_secret(name);
        collect_in(field, secret, found);
    }
}

fn collect_in(value: &Value, secret: bool, found: &mut Vec<String>) {
    match value {
        Value::String(s) if secret => found.push(s.clone()),
        Value::Number(n) if secret => found.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|item| collect_in(item, secret, found)),
        Value::Object(map) => collect_secrets(map, found),
        _ => {}
    }
}

/// Whether an object's `key` field holds a secret. In TrueNAS's schemas `key` is the secret of
/// cloud credentials (`{type, account, key}`), API keys, encryption options, `datasets[]` of
/// `pool.dataset.unlock` and `pool.dataset.change_key`; it is harmless only in alerts
/// (`klass`, a de-duplication key), ACME authenticator schemas (`{key, schema}`) and user
/// properties (`{key, value}`). Any other object's `key` is taken as secret (fail closed).
fn key_is_secret(map: &Map<String, Value>) -> bool {
    !(map.contains_key("klass") || map.contains_key("schema") || map.contains_key("value"))
}

/// Names whose value is secret whatever its JSON type (numbers and objects too): kept narrow so
/// that `min_password_length: 8` and similar settings stay readable.
fn is_strict_secret(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "password" | "passphrase" | "secret" | "token" | "key")
}

/// Whether an object is an environment entry `{name, value}` whose name is secret.
fn env_entry_is_secret(map: &Map<String, Value>) -> bool {
    let Some(Value::String(name)) = map.get("name") else { return false };
    map.contains_key("value") && is_secret_env_name(name)
}

/// Whether an environment variable of this name holds a secret (`POSTGRES_PASSWORD`, `DB_PW`,
/// `API_TOKEN`, `JWT_SECRET`, `APP_KEY`).
pub fn is_secret_env_name(name: &str) -> bool {
    is_secret_field(name) || {
        let n = name.to_ascii_lowercase();
        n == "pw" || n == "pwd" || n == "key" || n.ends_with("key")
    }
}

/// Secrets known as literal strings: the configured API key and the HTTP bearer tokens. Kept
/// process-wide because every output (results, errors, audit and log lines, whoever writes them)
/// must be scrubbed of them, and the logger is process-wide too.
static KNOWN_SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Below this length a literal is too likely to occur in ordinary text to be replaced.
const MIN_SECRET_LEN: usize = 8;

/// Remembers a literal secret (the API key, a bearer token) so that [`scrub_text`] replaces it
/// wherever it appears. The part after the id of an API key (`<id>-<secret>`) is remembered too.
pub fn remember_secret(secret: &str) {
    let secret = secret.trim();
    let mut known = KNOWN_SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    let mut add = |s: &str| {
        if s.len() >= MIN_SECRET_LEN && !known.iter().any(|k| k == s) {
            known.push(s.to_string());
        }
    };
    add(secret);
    if let Some((_, tail)) = secret.split_once('-') {
        add(tail);
    }
    // Longest first, so that a secret containing another is replaced whole.
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
}

/// `text` with every known secret replaced by [`MASK`] and the password of every credentialed
/// URL masked. Used for errors to the agent, audit fields and log lines.
pub fn scrub_text(text: &str) -> String {
    scrub_text_with(text, &[])
}

/// [`scrub_text`], also replacing `extra` literals (a call's secret argument values).
pub fn scrub_text_with(text: &str, extra: &[String]) -> String {
    scrub_changed(text, extra).unwrap_or_else(|| text.to_string())
}

/// The scrubbed text, or `None` when there was nothing to scrub.
fn scrub_changed(text: &str, extra: &[String]) -> Option<String> {
    let mut out: Option<String> = None;
    {
        let known = KNOWN_SECRETS.read().unwrap_or_else(PoisonError::into_inner);
        for secret in known.iter().chain(extra) {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(secret.as_str()) {
                out = Some(current.replace(secret.as_str(), MASK));
            }
        }
    }
    let current = out.as_deref().unwrap_or(text);
    if let Some(masked) = mask_url_passwords(current) {
        out = Some(masked);
    }
    out
}

/// Masks `pw` in every `scheme://user:pw@host` of `text`; `None` when there is none.
fn mask_url_passwords(text: &str) -> Option<String> {
    if !text.contains("://") || !text.contains('@') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '`' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at_sign) => {
                let userinfo = &authority[..at_sign];
                let user = userinfo.split(':').next().unwrap_or_default();
                if userinfo.contains(':') {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(MASK);
                } else {
                    // A lone userinfo may be a token (`https://TOKEN@host`).
                    out.push_str(MASK);
                }
                out.push_str(&authority[at_sign..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
