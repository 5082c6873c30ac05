//! TrueNAS's own method tables, one per supported release, embedded at build time.
//!
//! Each table comes from the middleware's API dump, slimmed by `scripts/slim-schemas.py` to
//! structure only (types, required keys, enums, bounds, defaults, the job flag and roles; no
//! prose). The client validates every params array it is about to send against the table of
//! the release it is connected to, and the simulated NAS validates every params array it
//! receives against the same table, as the real middleware does with its pydantic models.
//!
//! Three tables are approximations:
//!
//! - TrueNAS 25.04 (`schemas/v25.04.2.json`, overlay `schemas/v25.04-overlay.json`). Its dump
//!   is partial: it holds only the ~414 methods 25.04 had converted to the new API models,
//!   and those are taken as they are (names, params, roles; job flags, which the dump lacks,
//!   from 25.10.5 for the same name). The methods it lacks are filled from 25.10.5, minus the
//!   names 25.10 introduced (`pool.snapshot.*`, `service.control`, `update.status/config/run/...`,
//!   `directoryservices.*`, `nvmet.*`, `zfs.resource.*`); so their schemas are those of 25.10,
//!   which may be stricter or looser than what 25.04 accepts. Last, the old names 25.04 still
//!   has and the dump lacks (`zfs.snapshot.*`, `service.start/stop/restart/reload`, the
//!   train-based `update.*`) take the hand-written 24.10 signatures below. `boot.environment.*`
//!   and `system.reboot(reason, options)` come from the dump: 25.04 already has those.
//! - TrueNAS 24.10 has no API dump (its methods predate the pydantic models) and no JSON-RPC
//!   API (only REST and the legacy websocket). Its table is the 25.04.2 dump, which kept
//!   almost every 24.10 name, filled with the 25.10.5 methods the partial 25.04 dump lacks,
//!   minus the names added in 25.04 or 25.10 (`boot.environment.*`, `pool.snapshot.*`,
//!   `service.control`, the new `update.*`, `directoryservices.*`, ...), plus hand-written
//!   24.10 signatures of the methods the catalog routes to (`bootenv.*`, `zfs.snapshot.*`,
//!   `service.start/stop/...`, the old `update.*`, `system.reboot/shutdown({delay})`); the
//!   overlay is `schemas/v24.10-overlay.json`. Schemas of methods outside the catalog's routes
//!   may be those of 25.04 or 25.10.
//! - TrueNAS 24.04 (REST only, like 24.10) takes the 24.10 table without the Docker apps API
//!   (`app.*`, `docker.*`, `catalog.*`): 24.04 ran apps on Kubernetes (`chart.release.*`),
//!   which the catalog does not drive, so the app actions answer that they do not exist there.
//!   Its other differences from 24.10 are not modelled.
//!
//! The 27.0 table (`schemas/v27.0.0.json`) is its dump without the methods whose `removed_in`
//! is `v27` (`auth.login`, `auth.login_with_api_key` and one syslog choices method): the
//! middleware makes them private in the v27 API, though the dump still lists them. A NAS newer
//! than every table (28 and later) is served with the newest one, [`Release::NEWEST`].
//!
//! Nothing is parsed at start. `build.rs` indexes every table file at build time (method
//! names, sorted, and where each method's object lies in the embedded text); a method's
//! declaration is parsed from its own slice of the text when it is first looked at, and its
//! validator compiled on its first use ([`MethodTable::prepare`] does it ahead, e.g. off an
//! async runtime's worker threads); both are kept. A process that talks to one release reads
//! only the methods it calls, of that release's table; the text of the others stays in the
//! binary's read-only pages, untouched.

pub mod exact;
pub mod returns;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use serde_json::Value;

/// A TrueNAS release whose API this crate knows. Ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Release {
    /// TrueNAS SCALE 24.04 ("Dragonfish"): REST only, like 24.10, whose table it takes
    /// without the Docker apps API (`app.*`, `docker.*`, `catalog.*`): 24.04 ran apps on
    /// Kubernetes (`chart.release.*`), which the catalog does not drive.
    V24_04,
    /// TrueNAS SCALE 24.10 ("Electric Eel"): REST `/api/v2.0` only, no JSON-RPC; its method
    /// table is approximated (see the module documentation).
    V24_10,
    /// TrueNAS SCALE 25.04 ("Fangtooth"), API `v25.04.2`: JSON-RPC, but the old names of
    /// snapshots, services and updates; its method table is partly approximated (see the
    /// module documentation).
    V25_04,
    /// TrueNAS SCALE 25.10 ("Goldeye"), API `v25.10.5`.
    V25_10,
    /// TrueNAS 26.0, API `v26.0.0`.
    V26_0,
    /// TrueNAS 27.0, API `v27.0.0`: `auth.login` and `auth.login_with_api_key` are gone (an
    /// API key logs in with `auth.login_ex` and the key's username only).
    V27_0,
}

impl Release {
    /// Every release served over JSON-RPC (`/api/<version>`), oldest first. 24.10 is not
    /// among them: it is in [`Release::KNOWN`] only.
    pub const ALL: [Release; 4] = [Release::V25_04, Release::V25_10, Release::V26_0, Release::V27_0];

    /// Every release with a method table, oldest first, the REST-only 24.04 and 24.10 included.
    pub const KNOWN: [Release; 6] =
        [Release::V24_04, Release::V24_10, Release::V25_04, Release::V25_10, Release::V26_0, Release::V27_0];

    /// The newest release with a method table: a NAS running a later one is served with it.
    pub const NEWEST: Release = Release::V27_0;

    /// The release as people name it and as `tools/*.toml` routes name it: `24.10`, `25.04`,
    /// `25.10`, `26.0`, `27.0`.
    pub fn name(self) -> &'static str {
        match self {
            Release::V24_04 => "24.04",
            Release::V24_10 => "24.10",
            Release::V25_04 => "25.04",
            Release::V25_10 => "25.10",
            Release::V26_0 => "26.0",
            Release::V27_0 => "27.0",
        }
    }

    /// The release named `name` (as [`Release::name`] spells it).
    pub fn from_name(name: &str) -> Option<Release> {
        Release::KNOWN.into_iter().find(|r| r.name() == name)
    }

    /// Whether the release serves JSON-RPC 2.0 at `/api/current` (25.04 and later).
    pub fn has_json_rpc(self) -> bool {
        self >= Release::V25_04
    }

    /// The versioned API name, as used in `/api/<name>` and `GET /api/versions`. For 24.10,
    /// which has no versioned JSON-RPC API, it is `v2.0`, the version of its REST API
    /// (`/api/v2.0`).
    pub fn api_version(self) -> &'static str {
        match self {
            Release::V24_04 | Release::V24_10 => "v2.0",
            Release::V25_04 => "v25.04.2",
            Release::V25_10 => "v25.10.5",
            Release::V26_0 => "v26.0.0",
            Release::V27_0 => "v27.0.0",
        }
    }

    /// The `system.version` string a NAS of this release reports.
    pub fn system_version(self) -> &'static str {
        match self {
            Release::V24_04 => "TrueNAS-SCALE-24.04.2.5",
            Release::V24_10 => "TrueNAS-SCALE-24.10.2.2",
            Release::V25_04 => "TrueNAS-SCALE-25.04.2.6",
            Release::V25_10 => "TrueNAS-25.10.5",
            Release::V26_0 => "TrueNAS-26.0.0",
            Release::V27_0 => "TrueNAS-27.0.0",
        }
    }

    /// Picks the embedded table for a reported version string such as
    /// `TrueNAS-SCALE-24.10.2.2`, `TrueNAS-SCALE-25.04.2.6`, `25.10.5` or `v26.0.0`: 24.10.x is
    /// 24.10, 25.04.x is 25.04 (a table partly approximated, see the module documentation);
    /// 25.10 and later take the closest table not newer than them.
    ///
    /// 24.04.x is 24.04. Returns `None` for 23.10 and older (no table comes near them), for
    /// the releases between the known ones that never
    /// shipped (24.11 .. 25.03, 25.05 .. 25.09), and for text without a version.
    pub fn from_version_string(version: &str) -> Option<Release> {
        let (major, minor) = parse_major_minor(version)?;
        match (major, minor) {
            (24, 4) => return Some(Release::V24_04),
            (24, 10) => return Some(Release::V24_10),
            (25, 4) => return Some(Release::V25_04),
            _ => {}
        }
        Release::ALL.iter().rev().copied().filter(|r| *r >= Release::V25_10).find(|r| {
            let (rmaj, rmin) = parse_major_minor(r.api_version()).unwrap_or((0, 0));
            (major, minor) >= (rmaj, rmin)
        })
    }

    /// Whether `version` (as [`Release::from_version_string`] reads it) names a release newer
    /// than [`Release::NEWEST`]: one this server serves with the newest table, which may not
    /// match it in every method.
    pub fn is_newer_than_known(version: &str) -> bool {
        let newest = parse_major_minor(Release::NEWEST.api_version()).unwrap_or((0, 0));
        parse_major_minor(version).is_some_and(|found| found > newest)
    }

    /// The file of `schemas/` that holds the release's table.
    fn table_file(self) -> &'static str {
        match self {
            Release::V24_04 | Release::V24_10 => "v24.10.json",
            Release::V25_04 => "v25.04.2.json",
            Release::V25_10 => "v25.10.5.json",
            Release::V26_0 => "v26.0.0.json",
            Release::V27_0 => "v27.0.0.json",
        }
    }
}

impl fmt::Display for Release {
    /// The API version for JSON-RPC releases (`v25.10.5`), the release name for 24.10.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_json_rpc() { f.write_str(self.api_version()) } else { f.write_str(self.name()) }
    }
}

/// Finds the first `MAJOR.MINOR` pair of numbers in a version string.
fn parse_major_minor(version: &str) -> Option<(u32, u32)> {
    let start = version.find(|c: char| c.is_ascii_digit())?;
    let mut parts = version[start..].split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The Docker apps API that 24.10 introduced; 24.04 had Kubernetes apps instead.
const DOCKER_APPS: [&str; 3] = ["app.", "docker.", "catalog."];

/// What the middleware declares about one method.
#[derive(Debug, Deserialize)]
pub struct MethodSpec {
    /// Dotted middleware name, e.g. `vm.start`.
    pub name: String,
    /// Whether a call returns a job id (legacy jobs) rather than the result.
    pub job: bool,
    /// Roles any one of which grants the method; empty for methods open to every session.
    pub roles: Vec<String>,
    /// The release in which the method goes away, when TrueNAS has announced one.
    pub removed_in: Option<String>,
    /// JSON Schema (draft 2020-12) of the positional params array.
    pub params: Value,
}

impl MethodSpec {
    /// The names of the positional params, in order (TrueNAS's REST layer keyed bodies by them).
    pub fn param_names(&self) -> Vec<&str> {
        let items = self.params.get("prefixItems").and_then(Value::as_array);
        items
            .map(|items| items.iter().map(|p| p.get("title").and_then(Value::as_str).unwrap_or("")).collect())
            .unwrap_or_default()
    }
}

/// The method tables of `schemas/`, indexed by `build.rs`.
mod embedded {
    /// One table file of `schemas/`: its text as it is, and its method names, sorted, each
    /// with the byte range of its method object in the text.
    pub(crate) struct EmbeddedTable {
        /// The file name, e.g. `v25.10.5.json`.
        pub(crate) file: &'static str,
        /// The file's text.
        pub(crate) text: &'static str,
        /// `(name, start, end)` of every method, sorted by name.
        pub(crate) methods: &'static [(&'static str, usize, usize)],
    }

    include!(concat!(env!("OUT_DIR"), "/tables.rs"));
}

/// The method table of one release. Building it costs nothing: the index of method names is
/// made at build time, and a method's declaration is parsed from the embedded text when that
/// method is first looked at, its validator compiled when it is first used.
pub struct MethodTable {
    release: Release,
    text: &'static str,
    index: &'static [(&'static str, usize, usize)],
    // INVARIANT: one cell per `index` entry; a cell holds `None` only when the method's text
    // does not parse (a build defect, which the unit tests rule out).
    specs: Box<[OnceLock<Option<Box<MethodSpec>>>]>,
    // INVARIANT: holds a compiled validator only for names present in `index`.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// Why a params array is not acceptable to a method.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    /// The release has no such method.
    #[error("method `{method}` does not exist on TrueNAS {release}")]
    UnknownMethod {
        /// The method asked for.
        method: String,
        /// The release consulted.
        release: Release,
    },
    /// The params break the method's schema; one entry per problem.
    #[error("invalid params for `{method}`: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The method asked for.
        method: String,
        /// Each problem found.
        problems: Vec<ParamProblem>,
    },
}

/// One schema violation, located TrueNAS-style (`vm_create.memory`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    /// Dotted location: the method name with `_` for `.`, then the path inside the params.
    pub attribute: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.attribute, self.message)
    }
}

impl MethodTable {
    /// The embedded table of `release`, indexed once per process (nothing is parsed).
    pub fn get(release: Release) -> &'static MethodTable {
        static TABLES: [OnceLock<MethodTable>; Release::KNOWN.len()] =
            [const { OnceLock::new() }; Release::KNOWN.len()];
        // INVARIANT: every release is in `Release::KNOWN`, so `index` is within `TABLES`.
        let index = Release::KNOWN.iter().position(|r| *r == release).unwrap_or(0);
        TABLES[index].get_or_init(|| MethodTable::load(release))
    }

    fn load(release: Release) -> MethodTable {
        // The embedded files are indexed by our own build script and checked by unit tests, so
        // a missing table is a build defect, not input: an empty table makes it loud at once.
        let file = release.table_file();
        let (text, index) =
            embedded::TABLES.iter().find(|t| t.file == file).map(|t| (t.text, t.methods)).unwrap_or(("", &[]));
        MethodTable {
            release,
            text,
            index,
            specs: index.iter().map(|_| OnceLock::new()).collect(),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The release this table describes.
    pub fn release(&self) -> Release {
        self.release
    }

    /// Whether a method belongs to this release's table (24.04 lacks the Docker apps API).
    fn kept(&self, name: &str) -> bool {
        self.release != Release::V24_04 || !DOCKER_APPS.iter().any(|p| name.starts_with(p))
    }

    /// The method's place in the index, if the release has it.
    fn position(&self, name: &str) -> Option<usize> {
        if !self.kept(name) {
            return None;
        }
        self.index.binary_search_by(|(n, _, _)| (*n).cmp(name)).ok()
    }

    /// Whether the release has the method, without reading its declaration.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The method's declaration, if the release has it: parsed from the embedded text on the
    /// first look, then kept.
    pub fn method(&self, name: &str) -> Option<&MethodSpec> {
        let position = self.position(name)?;
        let (_, start, end) = *self.index.get(position)?;
        let cell = self.specs.get(position)?;
        let parse = || self.text.get(start..end).and_then(|raw| serde_json::from_str(raw).ok()).map(Box::new);
        cell.get_or_init(parse).as_deref()
    }

    /// Every method name of the release, in name order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.index.iter().map(|(name, _, _)| *name).filter(|name| self.kept(name))
    }

    /// Number of methods in the table.
    pub fn len(&self) -> usize {
        self.names().count()
    }

    /// Whether the table is empty (only when the embedded data is broken).
    pub fn is_empty(&self) -> bool {
        self.names().next().is_none()
    }

    /// Checks a positional params array against the method's schema.
    pub fn validate(&self, method: &str, params: &Value) -> Result<(), ParamsError> {
        let validator = self.validator(method)?;
        // TrueNAS names the attribute after the method with dots as underscores: `vm_create.memory`.
        let prefix = method.replace('.', "_");
        let mut problems: Vec<ParamProblem> = validator
            .iter_errors(params)
            .map(|e| ParamProblem {
                attribute: attribute(&prefix, &e.instance_path().to_string()),
                message: e.to_string(),
            })
            .collect();
        // The schema's `integer` takes any integral number, 1e300 included: refuse what would
        // reach TrueNAS rounded.
        if let Some((at, n)) = exact::find_inexact(params, &prefix) {
            problems.push(ParamProblem { attribute: at, message: format!("{n} {}", exact::INEXACT_REASON) });
        }
        if problems.is_empty() { Ok(()) } else { Err(ParamsError::Invalid { method: method.to_string(), problems }) }
    }

    /// Whether the method's validator is compiled already (so [`MethodTable::validate`] will
    /// not compile it).
    pub fn is_prepared(&self, method: &str) -> bool {
        self.validators.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).contains_key(method)
    }

    /// Compiles and keeps the method's validator now, if it is not yet: compiling a large
    /// schema takes a while, which a caller on an async runtime can spend on a blocking
    /// thread. Fails as [`MethodTable::validate`] would for an unknown method or an unusable
    /// schema.
    pub fn prepare(&self, method: &str) -> Result<(), ParamsError> {
        self.validator(method).map(|_| ())
    }

    fn validator(&self, method: &str) -> Result<Arc<jsonschema::Validator>, ParamsError> {
        let unknown = || ParamsError::UnknownMethod { method: method.to_string(), release: self.release };
        let spec = self.method(method).ok_or_else(unknown)?;
        let mut cache = self.validators.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(v) = cache.get(method) {
            return Ok(Arc::clone(v));
        }
        let compiled = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&compilable(&spec.params))
            .map_err(|e| ParamsError::Invalid {
                method: method.to_string(),
                problems: vec![ParamProblem {
                    attribute: method.to_string(),
                    message: format!("unusable schema: {e}"),
                }],
            })?;
        let compiled = Arc::new(compiled);
        cache.insert(method.to_string(), Arc::clone(&compiled));
        Ok(compiled)
    }
}

/// The middleware writes "no parameters" as `prefixItems: []`, which draft 2020-12 does not
/// allow (the array must be non-empty); the equivalent `maxItems: 0` says the same.
fn compilable(params: &Value) -> Value {
    match params.get("prefixItems") {
        Some(Value::Array(items)) if items.is_empty() => serde_json::json!({"type": "array", "maxItems": 0}),
        _ => params.clone(),
    }
}

/// Turns a JSON Pointer into the params array (`/0/memory`) into TrueNAS's dotted attribute
/// form (`vm_create.memory`); the leading positional index is dropped like the middleware does.
fn attribute(prefix: &str, pointer: &str) -> String {
    let mut segments = pointer.split('/').filter(|s| !s.is_empty());
    let _position = segments.next();
    let rest: Vec<&str> = segments.collect();
    if rest.is_empty() { prefix.to_string() } else { format!("{prefix}.{}", rest.join(".")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_embedded_table_loads_and_compiles() {
        for release in Release::KNOWN {
            let table = MethodTable::get(release);
            assert!(table.len() > 650, "{release}: only {} methods", table.len());
            for name in ["vm.query", "vm.start", "vm.stop", "core.get_jobs", "system.info"] {
                assert!(table.validator(name).is_ok(), "{release}: {name}");
            }
            assert_eq!(table.method("auth.login_ex").is_some(), release.has_json_rpc(), "{release}: auth.login_ex");
            // TrueNAS 27 removed the key-only login; every earlier release has it.
            let old_login = table.method("auth.login_with_api_key").is_some();
            assert_eq!(old_login, release < Release::V27_0, "{release}: auth.login_with_api_key");
        }
    }

    #[test]
    fn the_27_0_table_lacks_what_27_removed_and_has_what_it_changed() {
        let t = MethodTable::get(Release::V27_0);
        for gone in ["auth.login", "auth.login_with_api_key", "system.advanced.syslog_certificate_authority_choices"] {
            assert!(t.method(gone).is_none() && MethodTable::get(Release::V26_0).method(gone).is_some(), "{gone}");
        }
        assert!(t.method("pool.snapshottask.run").map(|m| m.job).unwrap_or(false), "a job on 27");
        assert!(!MethodTable::get(Release::V26_0).method("pool.snapshottask.run").map(|m| m.job).unwrap_or(true));
        assert!(t.validate("snmp.update", &json!([{"loglevel": 3}])).is_err(), "27 dropped the SNMP log level");
        assert_eq!(MethodTable::get(Release::V26_0).validate("snmp.update", &json!([{"loglevel": 3}])), Ok(()));
    }

    #[test]
    fn every_method_of_every_table_file_parses_under_its_indexed_name() {
        assert!(embedded::TABLES.len() >= 4, "tables found by build.rs: {}", embedded::TABLES.len());
        for release in Release::KNOWN {
            assert!(embedded::TABLES.iter().any(|t| t.file == release.table_file()), "{release}: no table file");
        }
        for file in embedded::TABLES {
            assert!(file.methods.windows(2).all(|w| w[0].0 < w[1].0), "{}: index not sorted", file.file);
            // The whole file is valid JSON, and the index covers every method it holds.
            let whole: Value = serde_json::from_str(file.text).unwrap();
            let count = whole["methods"].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(count, file.methods.len(), "{}", file.file);
            for (name, start, end) in file.methods {
                let spec: MethodSpec = serde_json::from_str(&file.text[*start..*end])
                    .unwrap_or_else(|e| panic!("{}: `{name}` does not parse: {e}", file.file));
                assert_eq!(spec.name, *name, "{}", file.file);
            }
        }
        for release in Release::KNOWN {
            let table = MethodTable::get(release);
            for name in table.names() {
                assert!(table.contains(name), "{release}: {name}");
                assert_eq!(table.method(name).map(|m| m.name.as_str()), Some(name), "{release}");
            }
        }
    }

    #[test]
    fn a_validator_prepared_ahead_is_the_one_used() {
        let t = MethodTable::get(Release::V26_0);
        assert!(!t.is_prepared("acme.dns.authenticator.create"));
        assert_eq!(t.prepare("acme.dns.authenticator.create"), Ok(()));
        assert!(t.is_prepared("acme.dns.authenticator.create"));
        assert!(t.validate("acme.dns.authenticator.create", &json!([{"name": 3}])).is_err());
        assert!(matches!(t.prepare("vm.nope"), Err(ParamsError::UnknownMethod { .. })));
        assert!(!t.is_prepared("vm.nope"));
    }

    #[test]
    fn job_flags_come_from_the_dump() {
        let t = MethodTable::get(Release::V25_10);
        assert!(t.method("vm.stop").map(|m| m.job).unwrap_or(false));
        assert!(!t.method("vm.start").map(|m| m.job).unwrap_or(true));
    }

    #[test]
    fn valid_params_pass_and_bad_ones_name_the_field() {
        let t = MethodTable::get(Release::V25_10);
        assert_eq!(t.validate("vm.start", &json!([3, {"overcommit": true}])), Ok(()));
        assert_eq!(t.validate("vm.start", &json!([3])), Ok(()));
        let err = t.validate("vm.start", &json!(["3", {"overcommit": 1}])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("vm_start.overcommit"), "{text}");
        assert!(text.contains("vm_start:"), "{text}");
        assert!(t.validate("vm.start", &json!([1, {}, 3])).is_err(), "extra positional refused");
        assert!(matches!(t.validate("vm.nope", &json!([])), Err(ParamsError::UnknownMethod { .. })));
        assert_eq!(t.validate("system.info", &json!([])), Ok(()), "a method without params takes []");
        assert!(t.validate("system.info", &json!([1])).is_err());
    }

    #[test]
    fn version_strings_pick_the_nearest_older_table() {
        assert_eq!(Release::from_version_string("TrueNAS-SCALE-25.10.1"), Some(Release::V25_10));
        assert_eq!(Release::from_version_string("TrueNAS-26.0.0-BETA.3"), Some(Release::V26_0));
        assert_eq!(Release::from_version_string("v27.0.0"), Some(Release::V27_0));
        assert_eq!(Release::from_version_string("TrueNAS-28.0.0"), Some(Release::V27_0), "newer: the newest table");
        assert_eq!(Release::from_version_string("TrueNAS-SCALE-25.04.2"), Some(Release::V25_04));
        assert_eq!(Release::from_version_string("v25.04.0"), Some(Release::V25_04));
        assert_eq!(Release::from_version_string(Release::V25_04.system_version()), Some(Release::V25_04));
        assert_eq!(Release::from_version_string("TrueNAS-SCALE-25.07.0"), None, "no such release");
        assert_eq!(Release::from_version_string("garbage"), None);
    }

    #[test]
    fn version_strings_of_24_x_pick_their_tables_and_older_ones_none() {
        assert_eq!(Release::from_version_string("TrueNAS-SCALE-24.10.2.2"), Some(Release::V24_10));
        assert_eq!(Release::from_version_string(Release::V24_10.system_version()), Some(Release::V24_10));
        assert_eq!(Release::from_version_string("TrueNAS-SCALE-24.04.2.5"), Some(Release::V24_04));
        assert_eq!(Release::from_version_string("TrueNAS-SCALE-23.10.2"), None);
        assert_eq!(Release::from_version_string(Release::V24_10.api_version()), None, "`v2.0` names no release");
    }

    #[test]
    fn release_names_round_trip_and_only_24_x_lack_json_rpc() {
        for release in Release::KNOWN {
            assert_eq!(Release::from_name(release.name()), Some(release));
            assert_eq!(release.has_json_rpc(), Release::ALL.contains(&release), "{release}");
        }
        assert_eq!(Release::from_name("23.10"), None);
        assert!(!Release::V24_04.has_json_rpc() && !Release::V24_10.has_json_rpc());
        assert_eq!(Release::V25_04.to_string(), "v25.04.2");
        assert_eq!(Release::V24_10.to_string(), "24.10");
        assert_eq!(Release::V26_0.to_string(), "v26.0.0");
        assert_eq!(Release::V27_0.to_string(), "v27.0.0");
    }

    #[test]
    fn only_versions_past_the_newest_table_are_newer_than_known() {
        for newer in ["TrueNAS-28.0.0", "28.0", "v27.10.0", "TrueNAS-SCALE-30.04.1"] {
            assert!(Release::is_newer_than_known(newer), "{newer}");
        }
        for known in ["TrueNAS-27.0.0", "v27.0.0", "27.0.3", "TrueNAS-26.0.0", "garbage", ""] {
            assert!(!Release::is_newer_than_known(known), "{known}");
        }
        for release in Release::KNOWN {
            assert!(!Release::is_newer_than_known(release.system_version()), "{release}");
        }
    }

    #[test]
    fn the_24_04_table_is_24_10_without_the_docker_apps_api() {
        let (old, eel) = (MethodTable::get(Release::V24_04), MethodTable::get(Release::V24_10));
        assert_eq!(old.release(), Release::V24_04);
        for gone in ["app.query", "app.create", "docker.config", "catalog.sync"] {
            assert!(eel.method(gone).is_some() && old.method(gone).is_none(), "{gone}");
        }
        for kept in ["bootenv.query", "zfs.snapshot.create", "service.start", "pool.query", "vm.start"] {
            assert_eq!(old.method(kept).map(|m| &m.params), eel.method(kept).map(|m| &m.params), "{kept}");
        }
    }

    #[test]
    fn the_24_10_table_has_the_old_names_and_not_the_new_ones() {
        let t = MethodTable::get(Release::V24_10);
        assert_eq!(t.release(), Release::V24_10);
        for old in
            ["bootenv.query", "zfs.snapshot.create", "service.start", "update.check_available", "update.set_train"]
        {
            assert!(t.method(old).is_some(), "{old}");
        }
        for new in ["boot.environment.query", "pool.snapshot.create", "service.control", "update.status", "update.run"]
        {
            assert!(t.method(new).is_none(), "{new}");
        }
        assert!(t.method("pool.snapshottask.query").is_some(), "removing `pool.snapshot.*` keeps snapshot tasks");
        assert!(t.method("pool.query").is_some() && t.method("system.info").is_some(), "filled from 25.10");
        // The old signatures: no reboot reason; `update.update` applies an update (a job).
        assert_eq!(t.validate("system.reboot", &json!([{"delay": 5}])), Ok(()));
        assert!(t.validate("system.reboot", &json!(["reason", {}])).is_err());
        assert!(t.method("update.update").map(|m| m.job).unwrap_or(false));
        assert!(t.method("bootenv.delete").map(|m| m.job).unwrap_or(false));
        assert!(!t.method("service.start").map(|m| m.job).unwrap_or(true));
        assert!(t.method("pool.create").map(|m| m.job).unwrap_or(false), "job flags of 25.04 names come from 25.10");
    }

    #[test]
    fn the_25_04_table_has_its_dump_and_the_old_names_it_kept() {
        let t = MethodTable::get(Release::V25_04);
        assert_eq!(t.release(), Release::V25_04);
        // From its own dump: the boot environment API and the reboot reason came with 25.04.
        for dumped in ["boot.environment.query", "boot.environment.keep", "auth.login_ex", "virt.instance.query"] {
            assert!(t.method(dumped).is_some(), "{dumped}");
        }
        assert_eq!(t.validate("system.reboot", &json!(["maintenance", {"delay": 5}])), Ok(()));
        assert!(t.validate("system.reboot", &json!([{"delay": 5}])).is_err(), "the reason is required");
        assert_eq!(
            t.validate(
                "alertservice.create",
                &json!([{"name": "n", "type": "Mail", "attributes": {}, "level": "WARNING"}])
            ),
            Ok(()),
            "`type` beside the attributes"
        );
        // Old names 25.04 kept, with the 24.10 signatures.
        for old in
            ["zfs.snapshot.create", "service.start", "service.reload", "update.check_available", "update.set_train"]
        {
            assert!(t.method(old).is_some(), "{old}");
        }
        assert!(t.method("update.update").map(|m| m.job).unwrap_or(false), "`update.update` installs, as a job");
        // Names 25.10 introduced are absent, as are those 25.04 had already replaced.
        for absent in [
            "pool.snapshot.create",
            "service.control",
            "update.status",
            "update.run",
            "directoryservices.config",
            "bootenv.query",
            "nvmet.subsys.query",
        ] {
            assert!(t.method(absent).is_none(), "{absent}");
        }
        // Filled from 25.10 where the dump is silent, job flags included.
        assert!(t.method("system.info").is_some() && t.method("service.query").is_some());
        assert!(t.method("pool.create").map(|m| m.job).unwrap_or(false));
        assert!(t.method("boot.environment.query").and_then(|m| m.removed_in.as_deref()).is_none());
    }
}
