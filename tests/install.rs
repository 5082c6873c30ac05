//! Installing and plugging in, through the real binary: `--version` names the supported TrueNAS
//! releases, `completions` and `man` are generated from the clap definitions and parse, and
//! `server.json` (the MCP registry entry) validates against the registry's published schema.

use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Runs the binary with `args` (no NAS needed); returns exit code, stdout and stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin()).args(args).env_remove("TRUENAS_URL").output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every subcommand's name, from the clap definition the binary is built from.
fn subcommands() -> Vec<String> {
    truenas_mcp::config::cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

#[test]
fn version_names_every_supported_truenas_release() {
    let (code, out, err) = run(&["--version"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with(&format!("truenas-mcp {}\n", env!("CARGO_PKG_VERSION"))), "{out}");
    for release in truenas_mcp::schema::Release::KNOWN {
        assert!(out.contains(release.name()), "`{}` missing from --version: {out}", release.name());
    }
    assert!(out.contains("supported TrueNAS releases:"), "{out}");
    let (code, short, _) = run(&["-V"]);
    assert_eq!(code, Some(0));
    assert_eq!(short.lines().count(), 1, "{short}");
    assert!(short.contains("TrueNAS 24.04") && short.contains("26.0"), "{short}");
}

#[test]
fn bash_completions_parse_and_offer_every_subcommand() {
    let (code, script, err) = run(&["completions", "bash"]);
    assert_eq!(code, Some(0), "{err}");
    let subcommands = subcommands();
    for name in ["serve", "policy", "approvals", "audit", "completions", "man"] {
        assert!(subcommands.iter().any(|s| s == name), "{name} is not a subcommand: {subcommands:?}");
    }
    for name in &subcommands {
        assert!(script.contains(name.as_str()), "`{name}` missing from the bash completions");
    }
    // Loaded into a real bash, it registers a completion for the binary, and completing
    // `truenas-mcp pol` offers `policy`.
    let dir = tempdir::Dir::new("completions");
    let file = dir.path().join("truenas-mcp.bash");
    std::fs::write(&file, &script).unwrap();
    let probe = format!(
        "source '{}' && complete -p truenas-mcp && f=$(complete -p truenas-mcp | sed -E 's/.* -F ([^ ]+) .*/\\1/') && \
         COMP_WORDS=(truenas-mcp pol); COMP_CWORD=1; COMP_LINE='truenas-mcp pol'; COMP_POINT=${{#COMP_LINE}}; \
         \"$f\" truenas-mcp pol truenas-mcp; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash").args(["--noprofile", "--norc", "-c", &probe]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bash refused the script: {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.lines().next().is_some_and(|l| l.starts_with("complete ") && l.ends_with(" truenas-mcp")),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l == "policy"), "completing `pol` offered: {stdout}");

    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (code, script, err) = run(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {err}");
        assert!(script.contains("approvals") && script.contains("policy"), "{shell}: {script}");
    }
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, Some(2), "an unknown shell is a usage error");
    assert!(err.contains("bash"), "the error lists the shells: {err}");
}

#[test]
fn the_man_page_renders_with_groff_and_lists_the_subcommands() {
    let (code, page, err) = run(&["man"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(page.contains(".TH truenas-mcp 1"), "{page}");
    // groff renders it without a warning, and the text names each subcommand and the version.
    let dir = tempdir::Dir::new("man");
    let file = dir.path().join("truenas-mcp.1");
    std::fs::write(&file, &page).unwrap();
    let out = Command::new("groff").args(["-man", "-Tutf8", "-ww", "-z"]).arg(&file).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("groff").args(["-man", "-Tascii", "-P", "-cbou"]).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for name in subcommands().iter().filter(|n| n.as_str() != "help") {
        assert!(text.contains(&format!("truenas-mcp-{name}(1)")), "`{name}` missing from the man page: {text}");
    }
    assert!(text.contains("SUBCOMMANDS") && text.contains(env!("CARGO_PKG_VERSION")), "{text}");

    // --dir writes a page per subcommand, nested ones included.
    let (code, _, err) = Command::new(bin())
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .map(|o| (o.status.code(), (), String::from_utf8_lossy(&o.stderr).into_owned()))
        .unwrap();
    assert_eq!(code, Some(0), "{err}");
    for page in ["truenas-mcp.1", "truenas-mcp-serve.1", "truenas-mcp-policy-check.1", "truenas-mcp-approvals.1"] {
        assert!(dir.path().join(page).is_file(), "{page} not written");
    }
    let (code, _, err) = run(&["man", "--dir", "/nonexistent/truenas-mcp-man"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("error: cannot write the man page to `/nonexistent/truenas-mcp-man`"), "{err}");
}

/// The registry's schema, compiled (draft 7, as its `$schema` says).
fn registry_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("tests/data/mcp-registry/server.schema.json")).unwrap())
            .unwrap();
    assert_eq!(schema["$id"], REGISTRY_SCHEMA_ID);
    jsonschema::options().should_validate_formats(true).build(&schema).unwrap()
}

#[test]
fn server_json_is_a_valid_registry_entry_for_this_build() {
    let validator = registry_validator();
    let entry: Value = serde_json::from_str(&std::fs::read_to_string(repo("server.json")).unwrap()).unwrap();
    let problems: Vec<String> = validator.iter_errors(&entry).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(problems.is_empty(), "server.json does not validate: {problems:#?}");
    assert_eq!(entry["$schema"], REGISTRY_SCHEMA_ID, "server.json names the schema it is checked against");

    // The validator bites: entries the registry refuses are refused here too.
    for (pointer, bad) in [
        ("/name", Value::from("truenas-mcp")),
        ("/description", Value::from("x".repeat(101))),
        ("/packages/0/version", Value::from("latest")),
        ("/remotes/0/url", Value::from("ftp://{host}/mcp")),
    ] {
        let mut broken = entry.clone();
        match broken.pointer_mut(pointer) {
            Some(slot) => *slot = bad,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                broken.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.into(), bad);
            }
        }
        assert!(!validator.is_valid(&broken), "{pointer} should be refused");
    }

    // One stdio package (the image, told to serve stdio) and one streamable HTTP remote, both
    // of this version.
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(entry["version"], version);
    let packages = entry["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 1);
    assert_eq!(packages[0]["transport"]["type"], "stdio");
    assert!(packages[0]["identifier"].as_str().unwrap().ends_with(&format!(":{version}")));
    assert_eq!(packages[0]["packageArguments"][0]["value"], "serve", "the image serves HTTP unless told `serve`");
    assert_eq!(entry["remotes"][0]["type"], "streamable-http");
    assert!(entry["remotes"][0]["url"].as_str().unwrap().ends_with("/mcp"));

    // Every variable it asks for is one the binary reads, and the secret ones are marked so.
    let known = known_env_vars();
    for var in packages[0]["environmentVariables"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap();
        assert!(known.iter().any(|k| k == name), "server.json names `{name}`, which the binary does not read");
        assert_eq!(var["isSecret"].as_bool().unwrap_or(false), name == "TRUENAS_API_KEY", "{name}");
    }
    // The image is labelled with the registry name (the registry checks it for OCI packages).
    let dockerfile = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    let label = format!("io.modelcontextprotocol.server.name=\"{}\"", entry["name"].as_str().unwrap());
    assert!(dockerfile.contains(&label), "the Dockerfile lacks {label}");
}

/// The published schema copied into tests/data/mcp-registry (see its README).
const REGISTRY_SCHEMA_ID: &str = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/// The environment variables the binary reads (clap's `env`, every subcommand included).
pub(crate) fn known_env_vars() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(env) = arg.get_env() {
                out.push(env.to_string_lossy().into_owned());
            }
        }
        cmd.get_subcommands().for_each(|c| walk(c, out));
    }
    let mut vars = Vec::new();
    walk(&truenas_mcp::config::cli::command(), &mut vars);
    // Read directly, outside clap: the log filter.
    vars.push("RUST_LOG".into());
    vars
}

/// The glibc version of this machine (`getconf GNU_LIBC_VERSION`), if it is glibc.
fn glibc() -> Option<(u32, u32)> {
    let out = Command::new("getconf").arg("GNU_LIBC_VERSION").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts = text.trim().strip_prefix("glibc ")?.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

#[test]
fn the_binary_packs_its_relative_relocations_where_glibc_can_load_them() {
    // build.rs asks for DT_RELR on GNU/Linux with glibc 2.36 or later; elsewhere the binary keeps
    // the usual relocations, and on this machine it runs either way (every other test spawns it).
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || std::env::var_os("TRUENAS_MCP_NO_RELR").is_some() {
        return;
    }
    let Some(version) = glibc() else { return };
    let out = Command::new("readelf")
        .arg("-d")
        .arg(bin())
        .output()
        .expect("readelf (binutils) is installed beside the linker");
    let dynamic = String::from_utf8_lossy(&out.stdout);
    let relr = dynamic.lines().any(|l| l.contains("(RELR)"));
    assert_eq!(relr, version >= (2, 36), "glibc {version:?}, dynamic section:\n{dynamic}");
    if relr {
        // What the loader gave up: the relative relocations it would otherwise apply one by one.
        let rela = dynamic.lines().find(|l| l.contains("(RELACOUNT)"));
        assert!(rela.is_none(), "relative relocations left in .rela.dyn: {rela:?}");
    }
}
