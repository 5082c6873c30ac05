//! ZFS native encryption: encryption roots with a passphrase or a hex key (hex keys are kept in
//! the middleware's database, passphrases are not), and `pool.dataset.lock`, `unlock` and
//! `encryption_summary`. Everything under a locked root is locked with it. The functions here
//! read and change only [`Datasets`]; the `Crypto` a root carries is defined in `dataset.rs`.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::storage::dataset::{Crypto, Datasets, KeyFormat};
use crate::storage::zfs::{invalid, is_within};

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `pool.dataset.validate_encryption_data`: a passphrase, or exactly one way to get a key.
pub(crate) fn check_encryption_options(options: &Value, schema: &str) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let generate = options.get("generate_key").and_then(Value::as_bool).unwrap_or(false);
    if text(options, "passphrase").is_some() {
        for field in ["key", "generate_key"] {
            let set = if field == "key" { text(options, "key").is_some() } else { generate };
            if set {
                problems.push(invalid(
                    format!("{schema}.{field}"),
                    "Must be disabled when dataset is to be encrypted with passphrase.",
                    errno::EINVAL,
                ));
            }
        }
    } else if text(options, "key").is_none() && !generate {
        problems.push(invalid(
            format!("{schema}.key"),
            "Please provide a key or select generate_key to automatically generate a key when passphrase is not provided.",
            errno::EINVAL,
        ));
    }
    problems
}

/// The encryption a (checked) `encryption_options` object asks for.
pub(crate) fn crypto_from_options(options: &Value) -> Crypto {
    let algorithm = text(options, "algorithm").unwrap_or("AES-256-GCM").to_string();
    match text(options, "passphrase") {
        Some(passphrase) => Crypto {
            format: KeyFormat::Passphrase,
            secret: passphrase.to_string(),
            algorithm,
            pbkdf2iters: options.get("pbkdf2iters").and_then(Value::as_u64).unwrap_or(350_000),
            locked: false,
        },
        None => {
            let key = text(options, "key").map(str::to_string).unwrap_or_else(|| {
                let a = uuid::Uuid::new_v4().simple().to_string();
                let b = uuid::Uuid::new_v4().simple().to_string();
                format!("{a}{b}")
            });
            Crypto { format: KeyFormat::Hex, secret: key, algorithm, pbkdf2iters: 0, locked: false }
        }
    }
}

/// The credentials given for each dataset in `options.datasets`.
fn credentials(options: &Map<String, Value>) -> Vec<(String, String)> {
    let items = options.get("datasets").and_then(Value::as_array).cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|item| {
            let name = text(item, "name")?;
            let secret = text(item, "passphrase").or_else(|| text(item, "key"))?;
            Some((name.to_string(), secret.to_string()))
        })
        .collect()
}

/// The encryption checks of `pool.dataset.create` under `parent`.
pub(crate) fn check_new_encryption(datasets: &Datasets, data: &Map<String, Value>, parent: &str) -> Vec<Invalid> {
    const SCHEMA: &str = "pool_dataset_create";
    let encryption = data.get("encryption").and_then(Value::as_bool).unwrap_or(false);
    let inherit = data.get("inherit_encryption").and_then(Value::as_bool).unwrap_or(true);
    let parent_root = datasets.encryption_root(parent);
    let mut problems = Vec::new();
    if encryption {
        if inherit {
            problems.push(invalid(
                format!("{SCHEMA}.inherit_encryption"),
                "Must be disabled when encryption is enabled.",
                errno::EINVAL,
            ));
        }
        let options = data.get("encryption_options").cloned().unwrap_or(Value::Null);
        problems.extend(check_encryption_options(&options, &format!("{SCHEMA}.encryption_options")));
        let passphrase = text(&options, "passphrase").is_some();
        if !passphrase && parent_root.and_then(|r| r.crypto.as_ref()).is_some_and(|c| c.format == KeyFormat::Passphrase)
        {
            problems.push(invalid(
                format!("{SCHEMA}.encryption"),
                "Passphrase encrypted datasets cannot have children encrypted with a key.",
                errno::EINVAL,
            ));
        }
    } else if !inherit && let Some(root) = parent_root {
        problems.push(invalid(
            format!("{SCHEMA}.encryption"),
            format!("Cannot create an unencrypted dataset within an encrypted dataset ({}).", root.name),
            errno::EINVAL,
        ));
    }
    problems
}

/// `pool.dataset.lock`: only a passphrase-encrypted root can be locked.
pub(crate) fn lock(datasets: &mut Datasets, name: &str) -> Result<(), Failure> {
    datasets.lookup(name)?;
    let Some(root) = datasets.encryption_root(name) else {
        return Err(Failure::fault(format!("{name} is not encrypted")));
    };
    let root_name = root.name.clone();
    let Some(crypto) = root.crypto.as_ref() else { return Ok(()) };
    if crypto.locked {
        return Err(Failure::fault(format!("Dataset {name} is already locked")));
    }
    if crypto.format != KeyFormat::Passphrase {
        return Err(Failure::fault("Only datasets which are encrypted with passphrase can be locked"));
    }
    if root_name != name {
        return Err(Failure::fault(format!("Please lock {root_name}. Only encryption roots can be locked.")));
    }
    if let Some(crypto) = datasets.get_mut(name).and_then(|d| d.crypto.as_mut()) {
        crypto.locked = true;
    }
    Ok(())
}

/// Encryption roots at or below `name`, and the root `name` itself sits under.
fn roots_for(datasets: &Datasets, name: &str, recursive: bool) -> Vec<String> {
    let mut roots: Vec<String> = Vec::new();
    if let Some(root) = datasets.encryption_root(name) {
        roots.push(root.name.clone());
    }
    if recursive {
        for dataset in datasets.iter().filter(|d| d.crypto.is_some() && is_within(&d.name, name)) {
            if !roots.contains(&dataset.name) {
                roots.push(dataset.name.clone());
            }
        }
    }
    roots
}

/// `pool.dataset.unlock`: hex keys come from the database; passphrases must be given in
/// `datasets`. Returns `{unlocked, failed}`.
pub(crate) fn unlock(datasets: &mut Datasets, name: &str, options: &Map<String, Value>) -> Result<Value, Failure> {
    datasets.lookup(name)?;
    let recursive = options.get("recursive").and_then(Value::as_bool).unwrap_or(false);
    let pool_root = recursive && !name.contains('/');
    if datasets.encryption_root(name).is_none() && !pool_root {
        return Err(Failure::fault(format!("{name} is not encrypted")));
    }
    let locked: Vec<String> = roots_for(datasets, name, recursive)
        .into_iter()
        .filter(|r| datasets.get(r).and_then(|d| d.crypto.as_ref()).is_some_and(|c| c.locked))
        .collect();
    if locked.is_empty() {
        return Err(Failure::fault(format!("{name} dataset is not locked")));
    }
    let given = credentials(options);
    let mut unlocked = Vec::new();
    let mut failed = Map::new();
    for root in locked {
        let Some(crypto) = datasets.get_mut(&root).and_then(|d| d.crypto.as_mut()) else { continue };
        let provided = given.iter().find(|(n, _)| *n == root).map(|(_, s)| s.as_str());
        let error = match (provided, crypto.format) {
            (Some(secret), _) if secret == crypto.secret => None,
            (None, KeyFormat::Hex) => None,
            (Some(_), _) => Some("Invalid Key"),
            (None, KeyFormat::Passphrase) => Some("Missing key"),
        };
        match error {
            None => {
                crypto.locked = false;
                unlocked.push(root);
            }
            Some(error) => {
                failed.insert(root, json!({"error": error, "skipped": []}));
            }
        }
    }
    Ok(json!({"unlocked": unlocked, "failed": failed}))
}

/// `pool.dataset.encryption_summary`: each encryption root at or below `name`, whether it
/// is locked and whether the key on hand (given, or from the database) would unlock it.
pub(crate) fn encryption_summary(
    datasets: &Datasets,
    name: &str,
    options: &Map<String, Value>,
) -> Result<Value, Failure> {
    datasets.lookup(name)?;
    let given = credentials(options);
    let mut out = Vec::new();
    for root in roots_for(datasets, name, true) {
        let Some(crypto) = datasets.get(&root).and_then(|d| d.crypto.as_ref()) else { continue };
        let provided = given.iter().find(|(n, _)| *n == root).map(|(_, s)| s.as_str());
        let valid = match provided {
            Some(secret) => secret == crypto.secret,
            None => !crypto.locked || crypto.format == KeyFormat::Hex,
        };
        let error = match (valid, provided) {
            (true, _) => None,
            (false, Some(_)) => Some("Provided key is invalid"),
            (false, None) => Some("Key not provided"),
        };
        out.push(json!({
            "name": root,
            "key_format": match crypto.format { KeyFormat::Passphrase => "PASSPHRASE", KeyFormat::Hex => "HEX" },
            "key_present_in_database": crypto.format == KeyFormat::Hex,
            "valid_key": valid,
            "locked": crypto.locked,
            "unlock_error": error,
            "unlock_successful": valid,
        }));
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
#[path = "dataset_crypto_tests.rs"]
mod tests;
