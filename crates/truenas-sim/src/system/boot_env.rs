//! Boot environments (`boot.environment.*`): one ZFS clone of the root filesystem per installed
//! version or copy. One is running (`active`), one boots next (`activated`); the running one
//! cannot be destroyed. Errors are the middleware's `ValidationError`s, whose errno defaults to
//! EFAULT.

use serde_json::{Value, json};

use crate::clock::{date, hours_ago_ms, now_ms};
use crate::failure::{Failure, Invalid, errno};
use truenas_api::schema::Release;

const MIB: i64 = 1024 * 1024;
const GIB: i64 = 1024 * MIB;

/// One boot environment.
#[derive(Debug, Clone)]
pub(crate) struct BootEnv {
    pub(crate) id: String,
    created_ms: i64,
    used_bytes: i64,
    keep: bool,
    can_activate: bool,
}

/// Every boot environment of the boot pool.
#[derive(Debug)]
pub(crate) struct BootEnvs {
    envs: Vec<BootEnv>,
    /// The one running now.
    pub(crate) active: String,
    /// The one the next boot uses.
    activated: String,
}

/// `2.61 GiB`, as the middleware's `format_size` prints sizes.
pub(crate) fn format_size(bytes: i64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", units.get(unit).copied().unwrap_or("B"))
}

/// A single `ValidationError` raised by `method`.
fn invalid(method: &str, message: String, errno: i64) -> Failure {
    Failure::Validation(vec![Invalid { attribute: Some(method.to_string()), message, errno }])
}

impl BootEnvs {
    /// The environments a NAS that went through a few updates has: older releases kept behind
    /// the running one.
    pub(crate) fn demo(release: Release) -> BootEnvs {
        let history: &[(&str, i64, i64)] = match release {
            Release::V27_0 => {
                &[("25.04.2.6", 24 * 240, 2 * GIB), ("26.0.0", 24 * 60, 3 * GIB), ("27.0.0", 24 * 6, 4 * GIB)]
            }
            Release::V26_0 => {
                &[("25.04.2.6", 24 * 240, 2 * GIB), ("25.10.5", 24 * 60, 3 * GIB), ("26.0.0", 24 * 6, 4 * GIB)]
            }
            Release::V25_10 => {
                &[("25.04.2.6", 24 * 200, 2 * GIB), ("25.10.1", 24 * 90, 3 * GIB), ("25.10.5", 24 * 6, 4 * GIB)]
            }
            Release::V25_04 => {
                &[("24.10.2.2", 24 * 200, 2 * GIB), ("25.04.1", 24 * 90, 3 * GIB), ("25.04.2.6", 24 * 6, 4 * GIB)]
            }
            Release::V24_04 => {
                &[("23.10.2", 24 * 300, 2 * GIB), ("24.04.1", 24 * 90, 3 * GIB), ("24.04.2.5", 24 * 6, 4 * GIB)]
            }
            Release::V24_10 => {
                &[("24.04.2.5", 24 * 200, 2 * GIB), ("24.10.1", 24 * 90, 3 * GIB), ("24.10.2.2", 24 * 6, 4 * GIB)]
            }
        };
        let envs: Vec<BootEnv> = history
            .iter()
            .map(|(id, hours, used)| BootEnv {
                id: id.to_string(),
                created_ms: hours_ago_ms(*hours),
                used_bytes: *used + 317 * MIB,
                keep: false,
                can_activate: true,
            })
            .collect();
        let active = envs.last().map(|e| e.id.clone()).unwrap_or_default();
        BootEnvs { envs, activated: active.clone(), active }
    }

    fn entry(&self, env: &BootEnv) -> Value {
        json!({
            "id": env.id,
            "dataset": format!("boot-pool/ROOT/{}", env.id),
            "active": env.id == self.active,
            "activated": env.id == self.activated,
            "created": date(env.created_ms),
            "used_bytes": env.used_bytes,
            "used": format_size(env.used_bytes),
            "keep": env.keep,
            "can_activate": env.can_activate,
        })
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.envs.iter().map(|e| self.entry(e)).collect()
    }

    /// The entry of `id`, or the `'<id>' not found` error `method` raises.
    pub(crate) fn get(&self, method: &str, id: &str) -> Result<Value, Failure> {
        let env = self.envs.iter().find(|e| e.id == id);
        env.map(|e| self.entry(e)).ok_or_else(|| invalid(method, format!("'{id}' not found"), errno::EFAULT))
    }

    fn find_mut(&mut self, method: &str, id: &str) -> Result<&mut BootEnv, Failure> {
        self.envs
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| invalid(method, format!("'{id}' not found"), errno::EFAULT))
    }

    /// Bytes every environment holds.
    pub(crate) fn used_bytes(&self) -> i64 {
        self.envs.iter().map(|e| e.used_bytes).sum()
    }

    /// `boot.environment.clone`: a copy of `id` named `target`, not activated.
    pub(crate) fn clone_env(&mut self, id: &str, target: &str) -> Result<Value, Failure> {
        const METHOD: &str = "boot.environment.clone";
        self.get(METHOD, id)?;
        if self.envs.iter().any(|e| e.id == target) {
            return Err(invalid(METHOD, format!("'{target}' already exists"), errno::EEXIST));
        }
        let env = BootEnv {
            id: target.to_string(),
            created_ms: now_ms(),
            used_bytes: 8 * MIB,
            keep: false,
            can_activate: true,
        };
        self.envs.push(env);
        self.get(METHOD, target)
    }

    /// `boot.environment.activate`.
    pub(crate) fn activate(&mut self, id: &str) -> Result<Value, Failure> {
        const METHOD: &str = "boot.environment.activate";
        let env = self.find_mut(METHOD, id)?.clone();
        if env.id == self.activated {
            return Err(invalid(METHOD, format!("'{id}' is already activated"), errno::EFAULT));
        }
        if !env.can_activate {
            return Err(invalid(METHOD, format!("'{id}' can not be activated"), errno::EFAULT));
        }
        self.activated = env.id;
        self.get(METHOD, id)
    }

    /// `boot.environment.destroy`: never the running one, nor the one the next boot needs.
    pub(crate) fn destroy(&mut self, id: &str) -> Result<(), Failure> {
        const METHOD: &str = "boot.environment.destroy";
        self.get(METHOD, id)?;
        if id == self.active {
            return Err(invalid(METHOD, "Deleting the active boot environment is not allowed".into(), errno::EFAULT));
        }
        if id == self.activated {
            return Err(Failure::fault(format!(
                "Unexpected error: \"Cannot destroy '{id}': it is activated for the next boot\""
            )));
        }
        self.envs.retain(|e| e.id != id);
        Ok(())
    }

    /// `boot.environment.keep`.
    pub(crate) fn keep(&mut self, id: &str, value: bool) -> Result<Value, Failure> {
        const METHOD: &str = "boot.environment.keep";
        self.find_mut(METHOD, id)?.keep = value;
        self.get(METHOD, id)
    }

    /// The environment the NAS runs.
    pub(crate) fn active(&self) -> &str {
        &self.active
    }

    /// An installed update: a new environment, activated for the next boot.
    pub(crate) fn install(&mut self, version: &str) {
        self.envs.retain(|e| e.id != version);
        let env = BootEnv {
            id: version.to_string(),
            created_ms: now_ms(),
            used_bytes: 3 * GIB,
            keep: false,
            can_activate: true,
        };
        self.envs.push(env);
        self.activated = version.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> BootEnvs {
        BootEnvs::demo(Release::V25_10)
    }

    #[test]
    fn the_newest_environment_is_running_and_activated() {
        let e = envs();
        let rows = e.entries();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[2]["id"].as_str(), rows[2]["active"].as_bool(), rows[2]["activated"].as_bool()),
            (Some("25.10.5"), Some(true), Some(true))
        );
        assert_eq!(rows[2]["dataset"], "boot-pool/ROOT/25.10.5");
        assert_eq!(format_size(3 * GIB + 512 * MIB), "3.50 GiB");
    }

    #[test]
    fn clone_activate_keep_and_destroy_follow_the_middleware_rules() {
        let mut e = envs();
        assert_eq!(
            e.clone_env("nope", "x").unwrap_err().reason(),
            "[EFAULT] boot.environment.clone: 'nope' not found\n"
        );
        let copy = e.clone_env("25.10.5", "pre-upgrade").unwrap();
        assert_eq!((copy["active"].as_bool(), copy["activated"].as_bool()), (Some(false), Some(false)));
        assert_eq!(
            e.clone_env("25.10.5", "pre-upgrade").unwrap_err().reason(),
            "[EEXIST] boot.environment.clone: 'pre-upgrade' already exists\n"
        );
        assert_eq!(e.activate("pre-upgrade").unwrap()["activated"], true);
        assert!(e.activate("pre-upgrade").unwrap_err().reason().contains("is already activated"));
        assert_eq!(e.keep("25.10.1", true).unwrap()["keep"], true);
        assert!(
            e.destroy("25.10.5").unwrap_err().reason().contains("Deleting the active boot environment is not allowed")
        );
        assert!(e.destroy("pre-upgrade").is_err(), "the next boot needs it");
        e.destroy("25.04.2.6").unwrap();
        assert!(e.get("q", "25.04.2.6").is_err());
    }

    #[test]
    fn an_installed_update_boots_next() {
        let mut e = envs();
        e.install("25.10.6");
        let rows = e.entries();
        let new = rows.iter().find(|r| r["id"] == "25.10.6").unwrap();
        assert_eq!((new["active"].as_bool(), new["activated"].as_bool()), (Some(false), Some(true)));
    }
}
