//! The command line as a whole, built at run time from the clap definitions in `flags`: the
//! version text (which names the TrueNAS releases this build knows, read from
//! [`Release::KNOWN`] so that a new release shows up by itself), and the shell completions and
//! man pages generated from the same definitions.

use std::path::Path;

use clap::{CommandFactory, FromArgMatches};

use super::LowArgs;
use crate::schema::Release;

/// The shells `truenas-mcp completions` writes for.
pub use clap_complete::Shell;

/// The binary's name, as installed and as completions and man pages call it.
pub const BIN_NAME: &str = "truenas-mcp";

/// The clap command with the version texts set: `-V` prints the short one, `--version` the
/// long one.
pub fn command() -> clap::Command {
    LowArgs::command().name(BIN_NAME).bin_name(BIN_NAME).version(short_version()).long_version(long_version())
}

/// Parses the process's command line and environment; on a usage error, `--help` or
/// `--version`, prints what clap prints and exits (as `LowArgs::parse` does).
pub fn parse() -> LowArgs {
    let matches = command().get_matches();
    LowArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Every known release's name, oldest first, comma separated: `24.04, 24.10, ...`.
fn release_names(filter: impl Fn(Release) -> bool) -> String {
    Release::KNOWN.into_iter().filter(|r| filter(*r)).map(Release::name).collect::<Vec<_>>().join(", ")
}

/// `0.1.0 (TrueNAS 24.04, 24.10, 25.04, 25.10, 26.0)`.
pub fn short_version() -> String {
    format!("{} (TrueNAS {})", env!("CARGO_PKG_VERSION"), release_names(|_| true))
}

/// The version, then the supported TrueNAS releases and the API each is reached over.
pub fn long_version() -> String {
    format!(
        "{}\nsupported TrueNAS releases: {}\n  over JSON-RPC 2.0 (websocket /api/current): {}\n  over REST (/api/v2.0): {}",
        env!("CARGO_PKG_VERSION"),
        release_names(|_| true),
        release_names(Release::has_json_rpc),
        release_names(|r| !r.has_json_rpc()),
    )
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), BIN_NAME, &mut script);
    script
}

/// The man page of `truenas-mcp` (section 1, roff).
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command()).render(&mut page)?;
    Ok(page)
}

/// Writes `truenas-mcp.1` and one page per subcommand (`truenas-mcp-policy-check.1`, ...)
/// into `dir`, which must exist.
pub fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    clap_mangen::generate_to(command(), dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_names_every_known_release_and_its_api() {
        let long = long_version();
        for release in Release::KNOWN {
            assert!(long.contains(release.name()), "{long}");
            assert!(short_version().contains(release.name()));
        }
        assert!(long.starts_with(env!("CARGO_PKG_VERSION")), "{long}");
        let rest = long.lines().find(|l| l.contains("REST")).unwrap_or_default();
        assert!(rest.contains("24.10") && !rest.contains("25.10"), "{rest}");
    }

    #[test]
    fn the_command_definition_is_consistent() {
        command().debug_assert();
    }
}
