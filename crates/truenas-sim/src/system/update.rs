//! Software updates the 25.10 way: an update profile chooses which releases the NAS follows,
//! `update.status` reports the newest one the profile allows, `update.download` fetches it and
//! `update.run` installs it into a new boot environment, after which a reboot is pending.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use truenas_api::schema::Release;

/// Profiles from the least to the most conservative; `(name, title, community availability)`.
const PROFILES: [(&str, &str, bool); 4] = [
    ("DEVELOPER", "Developer", true),
    ("EARLY_ADOPTER", "Early Adopter", true),
    ("GENERAL", "General", true),
    ("MISSION_CRITICAL", "Mission Critical", false),
];

/// What a profile is for, in our words.
fn profile_description(name: &str) -> &'static str {
    match name {
        "DEVELOPER" => "Nightly and pre-release builds: newest features, least tested.",
        "EARLY_ADOPTER" => "New major releases as soon as they are out, before most users.",
        "GENERAL" => "Releases once they have proven themselves with early adopters.",
        _ => "Only releases with the longest track record, for systems that must not break.",
    }
}

/// The errno TrueNAS gives "reboot required" (`EREBOOTREQUIRED`).
const EREBOOTREQUIRED: i64 = 209;

/// Update settings and progress.
#[derive(Debug)]
pub(crate) struct Updates {
    release: Release,
    pub(crate) autocheck: bool,
    pub(crate) profile: String,
    /// Version whose update file has been downloaded.
    downloaded: Option<String>,
    /// Set once an update has been installed; cleared by nothing short of a reboot.
    pub(crate) applied: bool,
    /// The train 24.10 follows (`update.set_train`); later releases choose a profile instead.
    pub(crate) selected_train: String,
}

impl Updates {
    pub(crate) fn demo(release: Release) -> Updates {
        let mut updates = Updates {
            release,
            autocheck: true,
            profile: "GENERAL".into(),
            downloaded: None,
            applied: false,
            selected_train: String::new(),
        };
        updates.selected_train = updates.train().to_string();
        updates
    }

    /// The running version, e.g. `25.10.5`.
    pub(crate) fn current_version(&self) -> &'static str {
        self.release.system_version().trim_start_matches("TrueNAS-").trim_start_matches("SCALE-")
    }

    /// The release train the running version belongs to.
    pub(crate) fn train(&self) -> &'static str {
        match self.release {
            Release::V24_04 => "TrueNAS-SCALE-Dragonfish",
            Release::V24_10 => "TrueNAS-SCALE-ElectricEel",
            Release::V25_04 => "TrueNAS-SCALE-Fangtooth",
            Release::V25_10 => "TrueNAS-SCALE-Goldeye",
            Release::V26_0 => "TrueNAS-SCALE-Halfmoon",
            // 27's train name is not public yet: the simulated NAS names it by number.
            Release::V27_0 => "TrueNAS-27",
        }
    }

    /// The trains a 24.04, 24.10 or 25.04 NAS may follow, `(name, description)`: its own and
    /// the next release's.
    pub(crate) fn trains(&self) -> [(&'static str, &'static str); 2] {
        if self.release == Release::V24_04 {
            return [
                ("TrueNAS-SCALE-Dragonfish", "TrueNAS SCALE 24.04 [release]"),
                ("TrueNAS-SCALE-ElectricEel", "TrueNAS SCALE 24.10 [release]"),
            ];
        }
        if self.release == Release::V24_10 {
            return [
                ("TrueNAS-SCALE-ElectricEel", "TrueNAS SCALE 24.10 [release]"),
                ("TrueNAS-SCALE-Fangtooth", "TrueNAS SCALE 25.04 [release]"),
            ];
        }
        [
            ("TrueNAS-SCALE-Fangtooth", "TrueNAS SCALE 25.04 [release]"),
            ("TrueNAS-SCALE-Goldeye", "TrueNAS SCALE 25.10 [release]"),
        ]
    }

    /// `update.set_train` (24.10): follow another train.
    pub(crate) fn set_train(&mut self, train: &str) -> Result<(), Failure> {
        if !self.trains().iter().any(|(name, _)| *name == train) {
            let attribute = Some("update.set_train.train".to_string());
            let message = format!("Invalid train name: {train}");
            return Err(Failure::Validation(vec![Invalid { attribute, message, errno: errno::EINVAL }]));
        }
        self.selected_train = train.to_string();
        Ok(())
    }

    /// The newest version the settings allow, if newer than the running one (`None` once an
    /// update is applied).
    pub(crate) fn offered_version(&self) -> Option<String> {
        if self.applied { None } else { self.offered() }
    }

    /// The next maintenance release, which the GENERAL profile (and the earlier ones) accept.
    pub(crate) fn next_version(&self) -> String {
        let current = self.current_version();
        match current.rsplit_once('.') {
            Some((head, last)) => format!("{head}.{}", last.parse::<u64>().unwrap_or(0) + 1),
            None => format!("{current}.1"),
        }
    }

    fn rank(profile: &str) -> usize {
        PROFILES.iter().position(|(name, ..)| *name == profile).unwrap_or(usize::MAX)
    }

    /// The newest version the profile allows, if newer than the running one.
    fn offered(&self) -> Option<String> {
        (Self::rank(&self.profile) <= Self::rank("GENERAL")).then(|| self.next_version())
    }

    fn version_entry(&self, version: &str) -> Value {
        json!({
            "version": version,
            "manifest": {"train": self.train(), "version": version, "profile": "GENERAL", "checksum": "simulated"},
            "release_notes": null,
            "release_notes_url": format!("https://www.truenas.com/docs/scale/{}/gettingstarted/versionnotes/", version.chars().take(5).collect::<String>()),
        })
    }

    pub(crate) fn config(&self) -> Value {
        json!({"id": 1, "autocheck": self.autocheck, "profile": self.profile})
    }

    /// `update.update`: changes the profile and/or the automatic check.
    pub(crate) fn update(&mut self, changes: &Map<String, Value>) -> Result<(), Failure> {
        let profile = changes.get("profile").and_then(Value::as_str).unwrap_or(&self.profile).to_string();
        let message = match PROFILES.iter().find(|(name, ..)| *name == profile) {
            None => Some("Invalid profile."),
            Some((.., available)) if !available => Some("This profile is unavailable."),
            Some(_) => None,
        };
        if let Some(message) = message {
            let attribute = Some("update.profile".to_string());
            return Err(Failure::Validation(vec![Invalid {
                attribute,
                message: message.into(),
                errno: errno::EINVAL,
            }]));
        }
        self.profile = profile;
        if let Some(flag) = changes.get("autocheck").and_then(Value::as_bool) {
            self.autocheck = flag;
        }
        Ok(())
    }

    pub(crate) fn profile_choices(&self) -> Value {
        let choices: Map<String, Value> = PROFILES
            .iter()
            .map(|(name, title, available)| {
                let footnote = if *available { "" } else { "(TrueNAS Enterprise only)" };
                let entry = json!({"name": title, "footnote": footnote, "description": profile_description(name), "available": available});
                (name.to_string(), entry)
            })
            .collect();
        Value::Object(choices)
    }

    fn reboot_required() -> (&'static str, &'static str) {
        ("EREBOOTREQUIRED", "System update was already applied, system reboot is required.")
    }

    /// The failure update methods raise once an update is applied.
    pub(crate) fn check_not_applied(&self) -> Result<(), Failure> {
        if !self.applied {
            return Ok(());
        }
        let (name, reason) = Self::reboot_required();
        Err(Failure::Call { errno: EREBOOTREQUIRED, errname: Some(name.into()), message: reason.into(), extra: None })
    }

    /// `update.status`.
    pub(crate) fn status(&self) -> Value {
        if self.applied {
            let (errname, reason) = Self::reboot_required();
            return json!({
                "code": "ERROR", "status": null, "error": {"errname": errname, "reason": reason},
                "update_download_progress": null,
            });
        }
        let new_version = self.offered();
        let progress = match (&self.downloaded, &new_version) {
            (Some(done), Some(offered)) if done == offered => {
                json!({"percent": 100, "description": "Update downloaded", "version": done})
            }
            _ => Value::Null,
        };
        json!({
            "code": "NORMAL",
            "status": {
                "current_version": {"train": self.train(), "profile": "GENERAL", "matches_profile": self.offered().is_some()},
                "new_version": new_version.as_deref().map(|v| self.version_entry(v)),
            },
            "error": null,
            "update_download_progress": progress,
        })
    }

    /// `update.available_versions`: what can be installed by hand, whatever the profile.
    pub(crate) fn available_versions(&self) -> Value {
        json!([{"train": self.train(), "version": self.version_entry(&self.next_version())}])
    }

    /// The version `update.download`/`update.run` would fetch: the requested one if it is
    /// offered, else the profile's.
    pub(crate) fn target(&self, requested: Option<&str>) -> Result<String, Failure> {
        self.check_not_applied()?;
        let next = self.next_version();
        match requested {
            Some(v) if v != next => {
                Err(Failure::call(errno::ENOENT, format!("Version {v} was not found in train {}", self.train())))
            }
            Some(v) => Ok(v.to_string()),
            None => self.offered().ok_or_else(|| Failure::fault("No update available")),
        }
    }

    pub(crate) fn is_downloaded(&self, version: &str) -> bool {
        self.downloaded.as_deref() == Some(version)
    }

    pub(crate) fn set_downloaded(&mut self, version: &str) {
        self.downloaded = Some(version.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::object as changes;

    #[test]
    fn status_offers_the_next_release_to_general_and_earlier_profiles() {
        let mut u = Updates::demo(Release::V25_10);
        let s = u.status();
        assert_eq!(s["code"], "NORMAL");
        assert_eq!(s["status"]["new_version"]["version"], "25.10.6");
        assert_eq!(s["status"]["current_version"]["train"], "TrueNAS-SCALE-Goldeye");
        u.update(&changes(json!({"profile": "EARLY_ADOPTER"}))).unwrap();
        assert_eq!(u.status()["status"]["new_version"]["version"], "25.10.6");
        assert_eq!(Updates::demo(Release::V26_0).next_version(), "26.0.1");
    }

    #[test]
    fn unknown_and_enterprise_profiles_are_refused() {
        let mut u = Updates::demo(Release::V25_10);
        let e = u.update(&changes(json!({"profile": "stable"}))).unwrap_err();
        assert_eq!(e.reason(), "[EINVAL] update.profile: Invalid profile.\n");
        let e = u.update(&changes(json!({"profile": "MISSION_CRITICAL"}))).unwrap_err();
        assert_eq!(e.reason(), "[EINVAL] update.profile: This profile is unavailable.\n");
        assert_eq!(u.config()["profile"], "GENERAL");
        assert_eq!(u.profile_choices()["MISSION_CRITICAL"]["available"], false);
    }

    #[test]
    fn an_applied_update_makes_status_an_error_and_refuses_more() {
        let mut u = Updates::demo(Release::V25_10);
        assert_eq!(u.target(None).unwrap(), "25.10.6");
        assert!(u.target(Some("24.04.0")).is_err());
        u.set_downloaded("25.10.6");
        assert_eq!(u.status()["update_download_progress"]["percent"], 100);
        u.applied = true;
        let s = u.status();
        assert_eq!((s["code"].as_str(), s["error"]["errname"].as_str()), (Some("ERROR"), Some("EREBOOTREQUIRED")));
        assert_eq!(
            u.target(None).unwrap_err().reason(),
            "[EREBOOTREQUIRED] System update was already applied, system reboot is required."
        );
    }
}
