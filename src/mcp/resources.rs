//! MCP resources: the `truenas://` URIs listed in `tools/resources.toml`, each read through a
//! catalog action and so through the same policy, NAS client and audit as a tool call.

use serde::Deserialize;

/// One resource as declared in `tools/resources.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceDef {
    pub(crate) uri: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) action: String,
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
            let action = catalog.action(&r.action).unwrap_or_else(|| panic!("{}: no action {}", r.uri, r.action));
            assert_eq!(action.risk, crate::ids::Risk::Read, "{} must read, not change", r.uri);
            assert!(action.args.iter().all(|a| !a.required), "{}: a resource read takes no arguments", r.uri);
        }
    }
}
