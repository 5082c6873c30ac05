//! Lexes the embedded tool set (`tools/*.toml`) at build time, so that nothing parses TOML at
//! start.
//!
//! Each `tools/NAME.toml` becomes `$OUT_DIR/tools/NAME.toml.json`: the same document as JSON,
//! which `catalog` reads at start (several times cheaper than TOML) and then checks exactly as
//! it checks TOML sources. The TOML files stay the source of truth, embedded beside the JSON:
//! when a check finds anything to report, the catalog is loaded again from them, so that every
//! diagnostic names its file and line. A file that is not valid TOML stops the build, located.

use std::path::Path;

type BuildResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BuildResult<()> {
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
