//! Installed apps: what each runs (catalog app, train, version, settings), its state, the
//! versions it had (for rollbacks) and whether newer images exist. `app.query` entries are built
//! here in the shape of the release; the job pacing lives in the handler.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::apps::app_catalog::{Catalog, CatalogApp, human_version, version_key};
use crate::failure::{Failure, Invalid, errno};
use truenas_api::schema::Release;

/// The address portals point at when the connection does not say.
pub(crate) const NAS_ADDRESS: &str = "192.168.1.50";

/// What `app.query` reports as `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppState {
    Running,
    Stopped,
    Deploying,
    Stopping,
}

impl AppState {
    fn name(self) -> &'static str {
        match self {
            AppState::Running => "RUNNING",
            AppState::Stopped => "STOPPED",
            AppState::Deploying => "DEPLOYING",
            AppState::Stopping => "STOPPING",
        }
    }
}

/// One installed app.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) catalog: &'static CatalogApp,
    pub(crate) version: String,
    /// Every catalog version installed so far (the current one included).
    pub(crate) installed: BTreeSet<String>,
    pub(crate) state: AppState,
    pub(crate) values: Map<String, Value>,
    pub(crate) image_updates_available: bool,
    /// The pool whose ix-apps dataset holds it.
    pub(crate) pool: String,
}

impl App {
    fn app_version(&self) -> &'static str {
        self.catalog.app_version(&self.version).unwrap_or("1.0.0")
    }

    fn image(&self) -> String {
        format!("{}:{}", self.catalog.image, self.app_version())
    }

    /// Versions it can roll back to: installed before and older than the current one.
    pub(crate) fn rollback_versions(&self) -> Vec<String> {
        let current = version_key(&self.version);
        self.installed.iter().filter(|v| version_key(v) < current).cloned().collect()
    }

    /// The `app.query` entry.
    pub(crate) fn entry(&self, release: Release) -> Value {
        let catalog = self.catalog;
        let (latest, latest_app) = catalog.latest();
        let running = self.state == AppState::Running;
        let ports: Vec<Value> = catalog
            .web_port
            .filter(|_| running)
            .map(|(container, host)| {
                json!({
                    "container_port": container,
                    "protocol": "tcp",
                    "host_ports": [{"host_port": host, "host_ip": "0.0.0.0"}, {"host_port": host, "host_ip": "::"}],
                })
            })
            .into_iter()
            .collect();
        let mounts = vec![json!({
            "source": format!("/mnt/.ix-apps/app_mounts/{}/config", self.name),
            "destination": catalog.config_mount,
            "mode": "rw",
            "type": "bind",
        })];
        let project = format!("ix-{}", self.name);
        let workloads = if running {
            json!({
                "containers": 1,
                "used_ports": ports,
                "used_host_ips": [],
                "container_details": [{
                    "id": short_id(&self.name, 0),
                    "service_name": self.name,
                    "image": self.image(),
                    "port_config": ports,
                    "state": "running",
                    "volume_mounts": mounts,
                }],
                "volumes": mounts,
                "images": [self.image()],
                "networks": [{
                    "Name": format!("{project}_default"),
                    "Id": short_id(&self.name, 1),
                    "Labels": {"com.docker.compose.network": "default", "com.docker.compose.project": project},
                }],
            })
        } else {
            json!({
                "containers": 0, "used_ports": [], "used_host_ips": [], "container_details": [],
                "volumes": [], "images": [], "networks": [],
            })
        };
        let portals: Map<String, Value> = catalog
            .web_port
            .map(|(_, host)| ("Web UI".to_string(), json!(format!("http://{NAS_ADDRESS}:{host}/"))))
            .into_iter()
            .collect();
        let mut out = json!({
            "name": self.name,
            "id": self.name,
            "state": self.state.name(),
            "upgrade_available": version_key(latest) > version_key(&self.version),
            "latest_version": latest,
            "image_updates_available": self.image_updates_available,
            "custom_app": false,
            "migrated": false,
            "human_version": human_version(self.app_version(), &self.version),
            "version": self.version,
            "metadata": {
                "app_version": self.app_version(),
                "categories": catalog.categories,
                "description": catalog.description,
                "home": catalog.home,
                "icon": catalog.icon_url(),
                "name": catalog.name,
                "title": catalog.title,
                "train": catalog.train,
                "version": self.version,
            },
            "active_workloads": workloads,
            "notes": format!("{} is installed. Open the Web UI portal to finish its setup.\n", catalog.title),
            "portals": portals,
            "version_details": null,
            "config": null,
        });
        if release < Release::V25_10
            && let Some(w) = out["active_workloads"].as_object_mut()
        {
            w.remove("used_host_ips");
        }
        if release >= Release::V26_0 {
            out["latest_app_version"] = json!(latest_app);
            out["action_required"] = json!(false);
        }
        out
    }
}

/// A stable container-like hex id.
fn short_id(name: &str, salt: u8) -> String {
    let sum = name
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64 ^ u64::from(salt), |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{sum:016x}{:016x}", sum.rotate_left(17))
}

pub(crate) fn app_not_found(name: &str) -> Failure {
    Failure::not_found(format!("App {name} does not exist"))
}

/// Every installed app.
#[derive(Debug, Default)]
pub(crate) struct AppStore {
    apps: BTreeMap<String, App>,
}

impl AppStore {
    /// The demo's apps on `tank`: Plex (running, one upgrade behind, upgraded once before),
    /// Pi-hole (running), Nextcloud (stopped) and Syncthing (running, newer image upstream).
    pub(crate) fn demo(catalog: &Catalog) -> AppStore {
        let mut store = AppStore::default();
        let seeds = [
            ("plex", "stable", "1.2.1", AppState::Running, json!({"TZ": "Europe/Berlin", "plex": {"claim_token": ""}})),
            (
                "pihole",
                "community",
                "1.3.1",
                AppState::Running,
                json!({"TZ": "Europe/Berlin", "pihole": {"dns_port": 53}}),
            ),
            ("nextcloud", "stable", "1.6.2", AppState::Stopped, json!({"nextcloud": {"host": "cloud.home.lan"}})),
            ("syncthing", "stable", "1.2.3", AppState::Running, json!({"TZ": "Etc/UTC"})),
        ];
        for (name, train, version, state, values) in seeds {
            if let Ok(app) = catalog.find(name, train) {
                let values = values.as_object().cloned().unwrap_or_default();
                store.insert(name, app, version, state, values, "tank");
            }
        }
        store.add_history("plex", "1.2.0");
        let _ = store.set_image_updates("syncthing", true);
        store
    }

    pub(crate) fn get(&self, name: &str) -> Result<&App, Failure> {
        self.apps.get(name).ok_or_else(|| app_not_found(name))
    }

    fn get_mut(&mut self, name: &str) -> Result<&mut App, Failure> {
        self.apps.get_mut(name).ok_or_else(|| app_not_found(name))
    }

    /// `app.query` rows: the apps on Docker's pool (none without a pool).
    pub(crate) fn entries(&self, pool: Option<&str>, release: Release) -> Vec<Value> {
        self.apps.values().filter(|a| Some(a.pool.as_str()) == pool).map(|a| a.entry(release)).collect()
    }

    /// Whether an app installed from catalog app `name` exists.
    pub(crate) fn uses_catalog_app(&self, name: &str) -> bool {
        self.apps.values().any(|a| a.catalog.name == name)
    }

    /// `app.create` checks and the new app (DEPLOYING); `data` has the schema's defaults.
    pub(crate) fn install(
        &mut self,
        catalog: &Catalog,
        pool: &str,
        data: &Map<String, Value>,
    ) -> Result<String, Failure> {
        let text = |key: &str| data.get(key).and_then(Value::as_str);
        let name = text("app_name").unwrap_or_default().to_string();
        if self.apps.contains_key(&name) {
            return Err(Failure::call(errno::EEXIST, format!("Application with name {name} already exists")));
        }
        let Some(catalog_app) = text("catalog_app") else {
            return Err(Failure::Validation(vec![Invalid {
                attribute: Some("app_create.catalog_app".into()),
                message: "This field is required".into(),
                errno: errno::EINVAL,
            }]));
        };
        let app = catalog.find(catalog_app, text("train").unwrap_or("stable"))?;
        let version =
            match text("version").unwrap_or("latest") {
                "latest" => app.latest().0,
                v => app.versions.iter().map(|(v, _)| *v).find(|known| *known == v).ok_or_else(|| {
                    Failure::call(errno::ENOENT, format!("Version {v} not found in {catalog_app} app"))
                })?,
            };
        let values = data.get("values").and_then(Value::as_object).cloned().unwrap_or_default();
        self.insert(&name, app, version, AppState::Deploying, values, pool);
        Ok(name)
    }

    pub(crate) fn insert(
        &mut self,
        name: &str,
        catalog: &'static CatalogApp,
        version: &str,
        state: AppState,
        values: Map<String, Value>,
        pool: &str,
    ) {
        let app = App {
            name: name.to_string(),
            catalog,
            version: version.to_string(),
            installed: BTreeSet::from([version.to_string()]),
            state,
            values,
            image_updates_available: false,
            pool: pool.to_string(),
        };
        self.apps.insert(name.to_string(), app);
    }

    /// Records an earlier installed version (seed data).
    pub(crate) fn add_history(&mut self, name: &str, version: &str) {
        if let Some(app) = self.apps.get_mut(name) {
            app.installed.insert(version.to_string());
        }
    }

    pub(crate) fn set_state(&mut self, name: &str, state: AppState) -> Result<(), Failure> {
        self.get_mut(name)?.state = state;
        Ok(())
    }

    pub(crate) fn set_image_updates(&mut self, name: &str, available: bool) -> Result<(), Failure> {
        self.get_mut(name)?.image_updates_available = available;
        Ok(())
    }

    /// `app.update`: the new values are merged over the current ones.
    pub(crate) fn update_values(&mut self, name: &str, values: Map<String, Value>) -> Result<(), Failure> {
        self.get_mut(name)?.values.extend(values);
        Ok(())
    }

    pub(crate) fn remove(&mut self, name: &str) -> Result<App, Failure> {
        self.apps.remove(name).ok_or_else(|| app_not_found(name))
    }

    /// `app.upgrade` checks: returns the version to install.
    pub(crate) fn upgrade_target(&self, name: &str, requested: &str) -> Result<String, Failure> {
        let app = self.get(name)?;
        let latest = app.catalog.latest().0;
        if version_key(latest) <= version_key(&app.version) {
            return Err(Failure::fault(format!("No upgrade available for {name:?}")));
        }
        let target = if requested == "latest" { latest } else { requested };
        if app.catalog.app_version(target).is_none() {
            return Err(Failure::call(
                errno::ENOENT,
                format!("Version {target} not found in {} app", app.catalog.name),
            ));
        }
        if version_key(target) <= version_key(&app.version) {
            return Err(Failure::fault("Upgrade version must be greater than current version"));
        }
        Ok(target.to_string())
    }

    /// Moves an app to `version` (an upgrade or a rollback); newer images come with it.
    pub(crate) fn set_version(&mut self, name: &str, version: &str) -> Result<(), Failure> {
        let app = self.get_mut(name)?;
        app.version = version.to_string();
        app.installed.insert(version.to_string());
        app.image_updates_available = false;
        Ok(())
    }

    /// `app.rollback` checks.
    pub(crate) fn check_rollback(&self, name: &str, version: &str) -> Result<(), Failure> {
        if self.get(name)?.rollback_versions().iter().any(|v| v == version) {
            return Ok(());
        }
        Err(Failure::Validation(vec![Invalid {
            attribute: Some("options.app_version".into()),
            message: "Specified version is not available for app".into(),
            errno: errno::EINVAL,
        }]))
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
