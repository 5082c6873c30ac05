//! The app catalog the simulated NAS offers (the `TRUENAS` catalog with its `stable` and
//! `community` trains): what `app.available`, `app.categories`, `catalog.*` list and what
//! `app.create`/`app.upgrade` install from. Fixed data; each app has a few versions so upgrades
//! and rollbacks have somewhere to go.

use serde_json::{Value, json};

use crate::failure::{Failure, errno};

/// Where the catalog is checked out on the NAS.
const LOCATION: &str = "/mnt/.ix-apps/truenas_catalog";

/// One app of the catalog.
#[derive(Debug)]
pub(crate) struct CatalogApp {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) train: &'static str,
    pub(crate) categories: &'static [&'static str],
    pub(crate) description: &'static str,
    pub(crate) home: &'static str,
    /// `(catalog version, upstream app version)`, oldest first.
    pub(crate) versions: &'static [(&'static str, &'static str)],
    /// Image repository; the tag is the upstream app version.
    pub(crate) image: &'static str,
    /// `(container port, host port)` of the web UI, if it has one.
    pub(crate) web_port: Option<(u16, u16)>,
    /// Where its configuration lives inside the container.
    pub(crate) config_mount: &'static str,
    pub(crate) recommended: bool,
    pub(crate) popularity_rank: Option<i64>,
}

impl CatalogApp {
    /// The newest `(version, app version)`.
    pub(crate) fn latest(&self) -> (&'static str, &'static str) {
        self.versions.last().copied().unwrap_or(("1.0.0", "1.0.0"))
    }

    /// The upstream version of catalog version `version`.
    pub(crate) fn app_version(&self, version: &str) -> Option<&'static str> {
        self.versions.iter().find(|(v, _)| *v == version).map(|(_, a)| *a)
    }

    pub(crate) fn icon_url(&self) -> String {
        format!("https://media.sys.truenas.net/apps/{}/icons/icon.png", self.name)
    }

    /// The `app.available` entry.
    pub(crate) fn available_entry(&self, installed: bool) -> Value {
        let (version, app_version) = self.latest();
        json!({
            "app_readme": format!("<h1>{}</h1>\n<p>{}</p>", self.title, self.description),
            "categories": self.categories,
            "description": self.description,
            "healthy": true,
            "healthy_error": null,
            "home": self.home,
            "location": format!("{LOCATION}/trains/{}/{}", self.train, self.name),
            "latest_version": version,
            "latest_app_version": app_version,
            "latest_human_version": human_version(app_version, version),
            "last_update": {"$date": 1_751_328_000_000_i64},
            "name": self.name,
            "recommended": self.recommended,
            "title": self.title,
            "maintainers": [{"name": "truenas", "email": "dev@truenas.com", "url": "https://www.truenas.com/"}],
            "tags": self.categories,
            "screenshots": [],
            "sources": [self.home],
            "icon_url": self.icon_url(),
            "catalog": "TRUENAS",
            "installed": installed,
            "train": self.train,
            "popularity_rank": self.popularity_rank,
        })
    }
}

/// `"1.41.4.9463_1.2.1"`: how TrueNAS shows an installed version.
pub(crate) fn human_version(app_version: &str, version: &str) -> String {
    format!("{app_version}_{version}")
}

/// Orders dotted versions numerically (`1.10.0` after `1.9.3`).
pub(crate) fn version_key(version: &str) -> Vec<u64> {
    version.split('.').map(|part| part.trim_start_matches('v').parse().unwrap_or(0)).collect()
}

static APPS: [CatalogApp; 10] = [
    CatalogApp {
        name: "plex",
        title: "Plex",
        train: "stable",
        categories: &["media"],
        description: "Media server that organises movies, shows and music and streams them to every screen.",
        home: "https://www.plex.tv",
        versions: &[("1.2.0", "1.41.3.9314"), ("1.2.1", "1.41.4.9463"), ("1.3.0", "1.41.6.9685")],
        image: "plexinc/pms-docker",
        web_port: Some((32400, 32400)),
        config_mount: "/config",
        recommended: true,
        popularity_rank: Some(2),
    },
    CatalogApp {
        name: "jellyfin",
        title: "Jellyfin",
        train: "stable",
        categories: &["media"],
        description: "Free software media system for libraries of video, music and books.",
        home: "https://jellyfin.org",
        versions: &[("1.1.0", "10.10.3"), ("1.1.3", "10.10.7")],
        image: "jellyfin/jellyfin",
        web_port: Some((30013, 30013)),
        config_mount: "/config",
        recommended: true,
        popularity_rank: Some(1),
    },
    CatalogApp {
        name: "nextcloud",
        title: "Nextcloud",
        train: "stable",
        categories: &["productivity"],
        description: "Self-hosted file sync, calendars, contacts and collaboration.",
        home: "https://nextcloud.com",
        versions: &[("1.6.0", "31.0.4"), ("1.6.2", "31.0.6")],
        image: "nextcloud",
        web_port: Some((80, 30027)),
        config_mount: "/var/www/html",
        recommended: true,
        popularity_rank: Some(3),
    },
    CatalogApp {
        name: "syncthing",
        title: "Syncthing",
        train: "stable",
        categories: &["storage"],
        description: "Continuous peer-to-peer file synchronisation between devices.",
        home: "https://syncthing.net",
        versions: &[("1.2.3", "1.30.0")],
        image: "syncthing/syncthing",
        web_port: Some((8384, 20910)),
        config_mount: "/var/syncthing",
        recommended: false,
        popularity_rank: Some(8),
    },
    CatalogApp {
        name: "minio",
        title: "MinIO",
        train: "stable",
        categories: &["storage"],
        description: "S3-compatible object storage server.",
        home: "https://min.io",
        versions: &[("1.3.0", "2025.06.13")],
        image: "minio/minio",
        web_port: Some((9001, 30001)),
        config_mount: "/data",
        recommended: false,
        popularity_rank: Some(9),
    },
    CatalogApp {
        name: "pihole",
        title: "Pi-hole",
        train: "community",
        categories: &["networking"],
        description: "Network-wide ad blocking through a local DNS sinkhole.",
        home: "https://pi-hole.net",
        versions: &[("1.3.0", "2025.06.1"), ("1.3.1", "2025.06.2")],
        image: "pihole/pihole",
        web_port: Some((80, 20720)),
        config_mount: "/etc/pihole",
        recommended: false,
        popularity_rank: Some(5),
    },
    CatalogApp {
        name: "home-assistant",
        title: "Home Assistant",
        train: "community",
        categories: &["home-automation"],
        description: "Open-source home automation that puts local control and privacy first.",
        home: "https://www.home-assistant.io",
        versions: &[("1.5.2", "2025.7.1")],
        image: "homeassistant/home-assistant",
        web_port: Some((8123, 30103)),
        config_mount: "/config",
        recommended: false,
        popularity_rank: Some(4),
    },
    CatalogApp {
        name: "immich",
        title: "Immich",
        train: "community",
        categories: &["photos"],
        description: "Self-hosted photo and video backup with face and object search.",
        home: "https://immich.app",
        versions: &[("1.7.1", "1.135.3")],
        image: "ghcr.io/immich-app/immich-server",
        web_port: Some((2283, 30041)),
        config_mount: "/data",
        recommended: false,
        popularity_rank: Some(6),
    },
    CatalogApp {
        name: "qbittorrent",
        title: "qBittorrent",
        train: "community",
        categories: &["downloaders"],
        description: "BitTorrent client with a web interface.",
        home: "https://www.qbittorrent.org",
        versions: &[("1.2.0", "5.1.1")],
        image: "ghcr.io/home-operations/qbittorrent",
        web_port: Some((30024, 30024)),
        config_mount: "/config",
        recommended: false,
        popularity_rank: Some(7),
    },
    CatalogApp {
        name: "tailscale",
        title: "Tailscale",
        train: "community",
        categories: &["networking"],
        description: "WireGuard-based mesh VPN that reaches the NAS from anywhere.",
        home: "https://tailscale.com",
        versions: &[("1.3.2", "1.84.3")],
        image: "tailscale/tailscale",
        web_port: None,
        config_mount: "/var/lib/tailscale",
        recommended: false,
        popularity_rank: Some(10),
    },
];

/// The catalog, as `catalog.config` describes it.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub(crate) preferred_trains: Vec<String>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog { preferred_trains: vec!["stable".to_string()] }
    }
}

impl Catalog {
    pub(crate) fn apps(&self) -> &'static [CatalogApp] {
        &APPS
    }

    /// The app `name` of `train`, with the error `catalog.get_app_details` raises.
    pub(crate) fn find(&self, name: &str, train: &str) -> Result<&'static CatalogApp, Failure> {
        APPS.iter()
            .find(|a| a.name == name && a.train == train)
            .ok_or_else(|| Failure::call(errno::ENOENT, format!("App {name:?} not found in {train:?} train")))
    }

    /// Every category, sorted, once.
    pub(crate) fn categories(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = APPS.iter().flat_map(|a| a.categories.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Every train, sorted.
    pub(crate) fn trains(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = APPS.iter().map(|a| a.train).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    pub(crate) fn config(&self) -> Value {
        json!({"id": "TRUENAS", "label": "TRUENAS", "preferred_trains": self.preferred_trains, "location": LOCATION})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert!(version_key("1.10.0") > version_key("1.9.3"));
        assert!(version_key("1.2.1") > version_key("1.2.0"));
    }

    #[test]
    fn lookups_are_per_train() {
        let c = Catalog::default();
        assert_eq!(c.find("plex", "stable").unwrap().latest(), ("1.3.0", "1.41.6.9685"));
        let e = c.find("plex", "community").unwrap_err();
        assert_eq!(e.reason(), "[ENOENT] App \"plex\" not found in \"community\" train");
        assert_eq!(c.trains(), ["community", "stable"]);
        assert!(c.categories().contains(&"media"));
    }
}
