//! The tool set as data: `tools/*.toml`, embedded at build time, loaded into typed action
//! definitions.
//!
//! `tools/categories.toml` declares the categories (listing order, descriptions, and the name
//! prefixes that place an action in a category, as the reference server's `categorize` does);
//! every other file declares the actions of one category. Each action names its middleware
//! method, its arguments (types, enums, bounds, defaults, examples) and a `params` template
//! that turns the arguments into the method's positional params (rules in `template.rs`).
//! Adding an action is a data change: the loader checks it, and the tests build its params from
//! its examples and validate them against TrueNAS's own schema.
//!
//! # Layout
//!
//! - `model`: the definitions ([`ActionDef`], [`ArgDef`], [`Category`]) and annotations.
//! - `args`: checking an agent's arguments ([`ActionDef::validate_args`]).
//! - `template`: building positional params ([`ActionDef::build_params`]).
//! - `lookup`: reads a call makes first (`[[action.lookup]]`, [`ActionDef::lookups_for`]).
//! - `route`: per-release methods (`[[action.route]]`, [`ActionDef::resolve_for`]).
//! - `value_kind`: path, dataset and snapshot arguments and their canonical form ([`ValueKind`]).
//! - `truenas_api::rest::lenient`, `recover`, `twins`: the raw escape hatch: its REST request as
//!   a method and params, the params read back as the arguments of each twin action
//!   ([`Recovered`]), and the risk and gate it inherits ([`RawReading`]).
//! - `parse`, `load`, `diagnostics`: reading sources, checking them, reporting every problem. The
//!   embedded files are lexed into JSON at build time (`build.rs`); a start reads and checks the
//!   JSON, and only when a check finds something does it load the TOML, for located diagnostics.
//! - [`listing`]: the texts of the `truenas` tool's listing modes, in the reference's format.
//!
//! Tests: each file's beside it (`args_tests.rs`, `template_tests.rs`, ...); the shipped tool
//! set is tested per tools file, `tools/<file>.toml` in `<file>_tests.rs` (the params every
//! action builds, gates, jobs, risk classes), and as a whole in `actions_tests` (every action
//! against TrueNAS's schema), `examples_tests` and `v25_04_tests` (against the simulated NAS);
//! `test_support` holds the checks they share.

mod args;
mod diagnostics;
pub mod listing;
mod load;
mod lookup;
mod model;
mod parse;
mod recover;
mod route;
mod template;
mod twins;
mod value_kind;

use std::collections::HashMap;

pub use args::{ArgProblem, ArgsError, ValidArgs};
pub use diagnostics::{CatalogError, Diagnostic, Severity};
pub use lookup::LookupRead;
pub use model::{ActionDef, Annotations, ArgDef, ArgType, Category, DefaultFrom};
pub use recover::Recovered;
pub use template::MappingError;
pub use twins::RawReading;
pub use value_kind::ValueKind;

/// Declares the embedded sources: [`BUILTIN`], each file's TOML text, and [`BUILTIN_JSON`],
/// the same documents as JSON, lexed at build time by `build.rs` (in the same order).
macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        /// The catalog sources compiled into the binary, as (file name, TOML text).
        const BUILTIN: &[(&str, &str)] = &[$(($name, include_str!(concat!("../../tools/", $name)))),*];
        /// [`BUILTIN`] as JSON, as (file name, JSON text): what a start reads.
        const BUILTIN_JSON: &[(&str, &str)] =
            &[$(($name, include_str!(concat!(env!("OUT_DIR"), "/tools/", $name, ".json")))),*];
    };
}

embedded![
    "api.toml",
    "categories.toml",
    "account.toml",
    "system.toml",
    "sharing.toml",
    "storage.toml",
    "network.toml",
    "disk.toml",
    "vm.toml",
    "data_protection.toml",
    "data_protection_tasks.toml",
    "certificate.toml",
    "alert.toml",
    "app.toml",
    "update.toml",
    "filesystem.toml",
    "reporting.toml",
    "audit.toml",
    "directory.toml",
    "service_config.toml",
];

/// Every action of the tool set, grouped in categories.
#[derive(Debug, Clone)]
pub struct Catalog {
    // INVARIANT: `categories` lists exactly the categories of `actions`, in the same order, and
    // `index` maps every action name to its position in `actions`.
    categories: Vec<Category>,
    actions: Vec<ActionDef>,
    index: HashMap<String, usize>,
}

impl Catalog {
    /// The catalog embedded at build time (`tools/*.toml`). Warnings are logged.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let (catalog, warnings) = Catalog::from_lexed(BUILTIN, BUILTIN_JSON)?;
        for w in warnings {
            tracing::warn!("tool catalog: {w}");
        }
        Ok(catalog)
    }

    /// Loads sources given twice, as TOML (`sources`) and as the same documents already lexed
    /// into JSON (`lexed`, by `build.rs`): the JSON is read and checked, every check as for
    /// TOML; when that finds anything to report, the TOML is loaded instead, so that every
    /// diagnostic names its line (the JSON has none).
    fn from_lexed(
        sources: &[(&str, &str)],
        lexed: &[(&str, &str)],
    ) -> Result<(Catalog, Vec<Diagnostic>), CatalogError> {
        let mut findings = diagnostics::Findings::default();
        match load::load_lexed(lexed, &mut findings) {
            Some(l) if findings.all.is_empty() => Ok((Catalog::new(l), Vec::new())),
            _ => Catalog::from_sources(sources),
        }
    }

    /// Loads a catalog from (file name, TOML) pairs; one must be `categories.toml`. Returns the
    /// catalog with its warnings, or every error found (with the warnings).
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<(Catalog, Vec<Diagnostic>), CatalogError> {
        let mut findings = diagnostics::Findings::default();
        let loaded = load::load(sources, &mut findings);
        let order = |file: &str| sources.iter().position(|(f, _)| *f == file).unwrap_or(usize::MAX);
        findings.all.sort_by_key(|d| (order(&d.file), d.line));
        let (errors, warnings) = findings.split();
        match loaded {
            Some(l) if errors.is_empty() => Ok((Catalog::new(l), warnings)),
            _ => Err(CatalogError { errors, warnings }),
        }
    }

    fn new(l: load::Loaded) -> Catalog {
        let index = l.actions.iter().enumerate().map(|(i, a)| (a.name.as_str().to_string(), i)).collect();
        Catalog { categories: l.categories, actions: l.actions, index }
    }

    /// The categories that have actions, in reference order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The category named `name`, if it has actions.
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.name == name)
    }

    /// The action named `name`, in any category.
    pub fn action(&self, name: &str) -> Option<&ActionDef> {
        self.index.get(name).and_then(|i| self.actions.get(*i))
    }

    /// Every action, in category order, then file order.
    pub fn actions(&self) -> impl Iterator<Item = &ActionDef> {
        self.actions.iter()
    }

    /// Number of actions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether the catalog has no action.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
pub(crate) fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

#[cfg(test)]
#[path = "lexed_tests.rs"]
mod lexed_tests;

/// Two categories, for fixtures.
#[cfg(test)]
pub(crate) const FIXTURE_CATEGORIES: &str = r#"
fallback = "system"
[[category]]
name = "system"
description = "The system"
prefixes = ["system_"]
[[category]]
name = "vm"
description = "VMs"
prefixes = ["vm_"]
"#;

/// Loads `FIXTURE_CATEGORIES` with one `vm.toml` (which need not repeat `category = "vm"`).
#[cfg(test)]
pub(crate) fn fixture(vm_toml: &str) -> Result<(Catalog, Vec<Diagnostic>), CatalogError> {
    let text = format!("category = \"vm\"\n{vm_toml}");
    Catalog::from_sources(&[("categories.toml", FIXTURE_CATEGORIES), ("vm.toml", &text)])
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod actions_tests;

#[cfg(test)]
#[path = "vm_tests.rs"]
mod vm_tests;

#[cfg(test)]
#[path = "network_tests.rs"]
mod network_tests;

#[cfg(test)]
#[path = "disk_tests.rs"]
mod disk_tests;

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod certificate_tests;

#[cfg(test)]
#[path = "alert_tests.rs"]
mod alert_tests;

#[cfg(test)]
#[path = "load_tests.rs"]
mod load_tests;

#[cfg(test)]
#[path = "sharing_tests.rs"]
mod sharing_tests;

#[cfg(test)]
#[path = "system_tests.rs"]
mod system_tests;

#[cfg(test)]
#[path = "account_tests.rs"]
mod account_tests;

#[cfg(test)]
#[path = "storage_tests.rs"]
mod storage_tests;

#[cfg(test)]
#[path = "app_tests.rs"]
mod app_tests;

#[cfg(test)]
#[path = "update_tests.rs"]
mod update_tests;

#[cfg(test)]
#[path = "filesystem_tests.rs"]
mod filesystem_tests;

#[cfg(test)]
#[path = "reporting_tests.rs"]
mod reporting_tests;

#[cfg(test)]
#[path = "audit_tests.rs"]
mod audit_tests;

#[cfg(test)]
#[path = "data_protection_tasks_tests.rs"]
mod data_protection_tasks_tests;

#[cfg(test)]
#[path = "route_tests.rs"]
mod route_tests;

#[cfg(test)]
#[path = "examples_tests.rs"]
mod examples_tests;

#[cfg(test)]
#[path = "v25_04_tests.rs"]
mod v25_04_tests;

#[cfg(test)]
#[path = "data_protection_tests.rs"]
mod data_protection_tests;
