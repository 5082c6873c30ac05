//! MCP resources: the `truenas://` URIs listed in `tools/resources.toml`, each read through a
//! catalog action and so through the same policy, NAS client and audit as a tool call.

use serde::Deserialize;

/// One resource as declared in `tools/resources.toml`: read through one action, or through
/// several whose results are gathered under their keys (`truenas://sharing`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceDef {
    pub(crate) uri: String,
    pub(crate) name: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) action: Option<String>,
    #[serde(default)]
    pub(crate) parts: Vec<Part>,
}

/// One read of a gathered resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Part {
    pub(crate) key: String,
    pub(crate) action: String,
}

impl ResourceDef {
    /// (key, action) of every read; the key is `None` for a single-action resource.
    pub(crate) fn reads(&self) -> Vec<(Option<&str>, &str)> {
        match &self.action {
            Some(action) => vec![(None, action.as_str())],
            None => self.parts.iter().map(|p| (Some(p.key.as_str()), p.action.as_str())).collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceFile {
    resource: Vec<ResourceDef>,
}

/// The embedded resource table.
pub(crate) fn builtin() -> Result<Vec<ResourceDef>, toml::de::Error> {
    let file: ResourceFile = toml::from_str(include_str!("../../tools/resources.toml"))?;
    Ok(file.resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn every_resource_reads_through_a_read_only_catalog_action() {
        let catalog = Catalog::builtin().unwrap();
        let resources = builtin().unwrap();
        assert!(!resources.is_empty());
        for r in &resources {
            assert!(r.uri.starts_with("truenas://"), "{}", r.uri);
            assert!(r.action.is_some() == r.parts.is_empty(), "{}: one action or several parts", r.uri);
            for (_, name) in r.reads() {
                let action = catalog.action(name).unwrap_or_else(|| panic!("{}: no action {name}", r.uri));
                assert_eq!(action.risk, crate::ids::Risk::Read, "{} must read, not change", r.uri);
                assert!(action.args.iter().all(|a| !a.required), "{}: a resource read takes no arguments", r.uri);
            }
        }
    }
}
