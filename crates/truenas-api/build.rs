//! Indexes the embedded method tables at build time, so that nothing parses them at start.
//!
//! Every `schemas/*.json` that is a table (its top level has the API `version` and the
//! `methods`; the overlays, inputs of `scripts/slim-schemas.py`, have no `version`, and the
//! `*.returns.json` files are declared results, not tables) becomes one [`EmbeddedTable`] in
//! `$OUT_DIR/tables.rs`: the file's text, embedded as it is, and its method names, sorted, each
//! with the byte range of its method object inside that text and whether it is a job (so that
//! telling a job from a plain call reads no declaration). A method's object is parsed
//! only when that method is first looked at, whatever fields it holds. The JSON files stay the
//! source of truth: a table that is not valid JSON, a method without a name, or a name given
//! twice stops the build.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct TableFile<'a> {
    version: Option<String>,
    #[serde(borrow)]
    methods: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
    job: bool,
}

type BuildResult<T> = Result<T, Box<dyn std::error::Error>>;

/// One method of a table: its name, the byte range of its object in the file, whether it is a job.
type Indexed = (String, usize, usize, bool);

fn main() -> BuildResult<()> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")?;
    let dir = Path::new(&manifest).join("schemas");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        // `*.returns.json` hold the declared results (`schema::returns` reads them), not tables.
        .filter(|name| name.ends_with(".json") && !name.ends_with(".returns.json"))
        .collect();
    files.sort();
    let mut out = String::from("/// The method tables found in `schemas/` at build time, by file name.\n");
    out.push_str("pub(crate) static TABLES: &[EmbeddedTable] = &[\n");
    for file in &files {
        let path = dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)?;
        let Some(index) = index(file, &text)? else { continue };
        writeln!(out, "    EmbeddedTable {{")?;
        writeln!(out, "        file: {file:?},")?;
        writeln!(out, "        text: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/schemas/\", {file:?})),")?;
        writeln!(out, "        methods: &[")?;
        for (name, start, end, job) in index {
            writeln!(out, "            ({name:?}, {start}, {end}, {job}),")?;
        }
        writeln!(out, "        ],\n    }},")?;
    }
    out.push_str("];\n");
    std::fs::write(Path::new(&std::env::var("OUT_DIR")?).join("tables.rs"), out)?;
    Ok(())
}

/// The sorted `(name, start, end, job)` of every method object in a table file; `None` for a JSON
/// file that is not a table (no `version`, or no `methods`).
fn index(file: &str, text: &str) -> BuildResult<Option<Vec<Indexed>>> {
    let table: TableFile<'_> = serde_json::from_str(text).map_err(|e| format!("schemas/{file}: {e}"))?;
    let (Some(_), Some(methods)) = (table.version, table.methods) else { return Ok(None) };
    let base = text.as_ptr() as usize;
    let mut index = Vec::with_capacity(methods.len());
    for raw in methods {
        let named: Named = serde_json::from_str(raw.get()).map_err(|e| format!("schemas/{file}: a method: {e}"))?;
        let start = raw.get().as_ptr() as usize - base;
        index.push((named.name, start, start + raw.get().len(), named.job));
    }
    index.sort();
    if let Some(pair) = index.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(format!("schemas/{file}: method `{}` is given twice", pair[0].0).into());
    }
    Ok(Some(index))
}
