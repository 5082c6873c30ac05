//! Lexes the embedded tool set (`tools/*.toml`) at build time, so that nothing parses TOML at
//! start.
//!
//! Each `tools/NAME.toml` becomes `$OUT_DIR/tools/NAME.toml.json`: the same document as JSON,
//! which `catalog` reads at start (several times cheaper than TOML) and then checks exactly as
//! it checks TOML sources. The TOML files stay the source of truth, embedded beside the JSON:
//! when a check finds anything to report, the catalog is loaded again from them, so that every
//! diagnostic names its file and line. A file that is not valid TOML stops the build, located.
//!
//! It also links the server's binaries with packed relative relocations (`DT_RELR`) on GNU/Linux
//! when the C library built against supports them (glibc 2.36 or later, which the binary then
//! requires): the loader's table of pointers to fix up at start shrinks from 1.3 MB, read in
//! full at every start, to a few kilobytes, while the binary stays position-independent.

use std::path::Path;

type BuildResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BuildResult<()> {
    pack_relative_relocations();
    let manifest = std::env::var("CARGO_MANIFEST_DIR")?;
    let dir = Path::new(&manifest).join("tools");
    let out = Path::new(&std::env::var("OUT_DIR")?).join("tools");
    std::fs::create_dir_all(&out)?;
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".toml")) else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)?;
        let value: toml::Table = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(0);
            format!("tools/{name}:{line}: invalid TOML: {}", e.message().trim_end())
        })?;
        std::fs::write(out.join(format!("{name}.json")), serde_json::to_string(&value)?)?;
    }
    Ok(())
}

/// Asks the linker for `-z pack-relative-relocs` when building for GNU/Linux on that same system
/// (not cross-compiling) and its glibc has the loader support (2.36 or later). Elsewhere nothing
/// changes: musl, macOS and older glibc keep the usual relocations. `TRUENAS_MCP_NO_RELR=1`
/// turns it off (e.g. to build on a new system a binary for an older one).
fn pack_relative_relocations() {
    println!("cargo:rerun-if-env-changed=TRUENAS_MCP_NO_RELR");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if !var("TRUENAS_MCP_NO_RELR").is_empty() {
        return;
    }
    let native = var("HOST") == var("TARGET");
    if !(native && var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu") {
        return;
    }
    // `glibc 2.36`; a missing `getconf` or another answer leaves the flag out.
    let Ok(out) = std::process::Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim().strip_prefix("glibc ").unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    if let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next())
        && (major, minor) >= (2, 36)
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
