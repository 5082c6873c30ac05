//! The Docker runtime behind apps: its settings (`docker.config`/`docker.update`) and whether it
//! runs (`docker.status`). Apps live on the configured pool; without one Docker is
//! UNCONFIGURED and `app.query` lists nothing.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use truenas_api::schema::Release;

/// Pools apps may live on. The boot pool never qualifies.
// The storage domain owns pools; until the two are wired together the seeded data pool is it.
pub(crate) const DATA_POOLS: [&str; 2] = ["tank", "offsite"];

/// Docker's settings and run state.
#[derive(Debug, Clone)]
pub(crate) struct Docker {
    pub(crate) pool: Option<String>,
    enable_image_updates: bool,
    address_pools: Vec<Value>,
    cidr_v6: String,
    nvidia: bool,
    /// `(url, insecure)`.
    registry_mirrors: Vec<(String, bool)>,
}

impl Default for Docker {
    fn default() -> Self {
        Docker {
            pool: Some("tank".to_string()),
            enable_image_updates: true,
            address_pools: vec![json!({"base": "172.17.0.0/12", "size": 24})],
            cidr_v6: "fdd0::/64".to_string(),
            nvidia: false,
            registry_mirrors: Vec::new(),
        }
    }
}

impl Docker {
    /// Whether apps can run: a pool is configured.
    pub(crate) fn running(&self) -> bool {
        self.pool.is_some()
    }

    /// What app methods check first (`docker.state.validate`).
    pub(crate) fn validate(&self) -> Result<(), Failure> {
        if self.running() { Ok(()) } else { Err(Failure::fault("Docker service is not running")) }
    }

    /// The `docker.config` entry, in the release's shape (25.10 added the mirror lists, 26.0
    /// merged them and dropped `nvidia`).
    pub(crate) fn entry(&self, release: Release) -> Value {
        let mut out = json!({
            "id": 1,
            "enable_image_updates": self.enable_image_updates,
            "dataset": self.pool.as_ref().map(|p| format!("{p}/ix-apps")),
            "pool": self.pool,
            "address_pools": self.address_pools,
            "cidr_v6": self.cidr_v6,
        });
        if release >= Release::V26_0 {
            let mirrors: Vec<Value> =
                self.registry_mirrors.iter().map(|(url, insecure)| json!({"url": url, "insecure": insecure})).collect();
            out["registry_mirrors"] = json!(mirrors);
        } else if release >= Release::V25_10 {
            let pick = |insecure: bool| -> Vec<&String> {
                self.registry_mirrors.iter().filter(|(_, i)| *i == insecure).map(|(u, _)| u).collect()
            };
            out["nvidia"] = json!(self.nvidia);
            out["secure_registry_mirrors"] = json!(pick(false));
            out["insecure_registry_mirrors"] = json!(pick(true));
        } else {
            out["nvidia"] = json!(self.nvidia);
        }
        out
    }

    /// The `docker.status` answer.
    pub(crate) fn status(&self) -> Value {
        if self.running() {
            json!({"status": "RUNNING", "description": ""})
        } else {
            json!({"status": "UNCONFIGURED", "description": "Docker is not configured: no pool has been selected for apps"})
        }
    }

    /// `docker.update`: checks and applies `changes`. Returns whether the pool changed.
    pub(crate) fn update(&mut self, changes: &Map<String, Value>) -> Result<bool, Failure> {
        let mut next = self.clone();
        let mut problems = Vec::new();
        if let Some(pool) = changes.get("pool") {
            match pool.as_str() {
                None => next.pool = None,
                Some(name) if DATA_POOLS.contains(&name) => next.pool = Some(name.to_string()),
                Some(_) => problems.push(Invalid {
                    attribute: Some("docker_update.pool".into()),
                    message: "Pool not found.".into(),
                    errno: errno::ENOENT,
                }),
            }
        }
        if let Some(flag) = changes.get("enable_image_updates").and_then(Value::as_bool) {
            next.enable_image_updates = flag;
        }
        if let Some(Value::Array(pools)) = changes.get("address_pools") {
            for (i, pool) in pools.iter().enumerate() {
                let prefix =
                    pool["base"].as_str().and_then(|b| b.split_once('/')).and_then(|(_, p)| p.parse::<i64>().ok());
                let size = pool["size"].as_i64().unwrap_or(0);
                if prefix.is_some_and(|p| size < p) {
                    problems.push(Invalid {
                        attribute: Some(format!("docker_update.address_pools.{i}.size")),
                        message: "Size must not be smaller than the prefix length of the base network.".into(),
                        errno: errno::EINVAL,
                    });
                }
            }
            next.address_pools = pools.clone();
        }
        if let Some(cidr) = changes.get("cidr_v6").and_then(Value::as_str) {
            next.cidr_v6 = cidr.to_string();
        }
        if let Some(flag) = changes.get("nvidia").and_then(Value::as_bool) {
            next.nvidia = flag;
        }
        let urls = |key: &str, insecure: bool| -> Option<Vec<(String, bool)>> {
            let list = changes.get(key)?.as_array()?;
            Some(list.iter().filter_map(Value::as_str).map(|u| (u.to_string(), insecure)).collect())
        };
        if let Some(mirrors) = changes.get("registry_mirrors").and_then(Value::as_array) {
            next.registry_mirrors = mirrors
                .iter()
                .filter_map(|m| Some((m["url"].as_str()?.to_string(), m["insecure"].as_bool().unwrap_or(false))))
                .collect();
        }
        if let Some(secure) = urls("secure_registry_mirrors", false) {
            next.registry_mirrors.retain(|(_, insecure)| *insecure);
            next.registry_mirrors.extend(secure);
        }
        if let Some(insecure) = urls("insecure_registry_mirrors", true) {
            next.registry_mirrors.retain(|(_, i)| !*i);
            next.registry_mirrors.extend(insecure);
        }
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        let pool_changed = next.pool != self.pool;
        *self = next;
        Ok(pool_changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::object as changes;

    #[test]
    fn config_shape_follows_the_release() {
        let d = Docker::default();
        let old = d.entry(Release::V25_10);
        assert_eq!(old["dataset"], "tank/ix-apps");
        assert!(old.get("nvidia").is_some() && old.get("registry_mirrors").is_none());
        let new = d.entry(Release::V26_0);
        assert!(new.get("nvidia").is_none() && new["registry_mirrors"] == json!([]));
    }

    #[test]
    fn unknown_pools_are_refused_and_unsetting_the_pool_unconfigures_docker() {
        let mut d = Docker::default();
        let e = d.update(&changes(json!({"pool": "nope"}))).unwrap_err();
        assert_eq!(e.reason(), "[ENOENT] docker_update.pool: Pool not found.\n");
        assert!(d.running());
        assert!(d.update(&changes(json!({"pool": null}))).unwrap());
        assert_eq!(d.status()["status"], "UNCONFIGURED");
        assert!(d.validate().is_err());
    }

    #[test]
    fn mirrors_round_trip_between_the_two_shapes() {
        let mut d = Docker::default();
        d.update(&changes(json!({"insecure_registry_mirrors": ["http://mirror.lan"]}))).unwrap();
        assert_eq!(
            d.entry(Release::V26_0)["registry_mirrors"],
            json!([{"url": "http://mirror.lan", "insecure": true}])
        );
        let e = d.update(&changes(json!({"address_pools": [{"base": "10.0.0.0/16", "size": 8}]}))).unwrap_err();
        assert!(e.reason().contains("address_pools.0.size"));
    }
}
