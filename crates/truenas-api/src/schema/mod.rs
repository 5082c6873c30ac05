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
    /// with the byte range of its method object in the text and its `job` flag.
    pub(crate) struct EmbeddedTable {
        /// The file name, e.g. `v25.10.5.json`.
        pub(crate) file: &'static str,
        /// The file's text.
        pub(crate) text: &'static str,
        /// `(name, start, end, job)` of every method, sorted by name.
        pub(crate) methods: &'static [(&'static str, usize, usize, bool)],
    }

    include!(concat!(env!("OUT_DIR"), "/tables.rs"));
}

/// A method's declaration, parsed at its first read (`None`: its text does not parse).
type SpecCell = OnceLock<Option<Box<MethodSpec>>>;

/// The method table of one release. Building it costs nothing: the index of method names is
/// made at build time, and a method's declaration is parsed from the embedded text when that
/// method is first looked at, its validator compiled when it is first used.
pub struct MethodTable {
    release: Release,
    text: &'static str,
    index: &'static [(&'static str, usize, usize, bool)],
    // INVARIANT: once made (at the first declaration read), one cell per `index` entry; a cell
    // holds `None` only when the method's text does not parse (a build defect, which the unit
    // tests rule out).
    specs: OnceLock<Box<[SpecCell]>>,
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
        MethodTable { release, text, index, specs: OnceLock::new(), validators: Mutex::new(HashMap::new()) }
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
        self.index.binary_search_by(|(n, ..)| (*n).cmp(name)).ok()
    }

    /// Whether the release has the method, without reading its declaration.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Whether the method runs as a job (`None` if the release lacks it), from the build-time
    /// index: no declaration is read.
    pub fn is_job(&self, name: &str) -> Option<bool> {
        let position = self.position(name)?;
        self.index.get(position).map(|(.., job)| *job)
    }

    /// The method's declaration, if the release has it: parsed from the embedded text on the
    /// first look, then kept.
    pub fn method(&self, name: &str) -> Option<&MethodSpec> {
        let position = self.position(name)?;
        let (_, start, end, _) = *self.index.get(position)?;
        let specs = self.specs.get_or_init(|| self.index.iter().map(|_| OnceLock::new()).collect());
        let cell = specs.get(position)?;
        let parse = || self.text.get(start..end).and_then(|raw| serde_json::from_str(raw).ok()).map(Box::new);
        cell.get_or_init(parse).as_deref()
    }

    /// Every method name of the release, in name order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.index.iter().map(|(name, ..)| *name).filter(|name| self.kept(name))
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
#[path = "tests.rs"]
mod tests;
