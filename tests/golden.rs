//! Golden files of the MCP surface, taken from the real binary: `tools/list` in the hierarchical
//! and the flat mode, the `truenas` tool's category list and each category's listing, under an
//! allow-all policy (so every action shows). A change to the surface fails here until the files
//! are regenerated on purpose: `UPDATE_GOLDEN=1 cargo test --test tests golden`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::util::*;

fn golden(name: &str) -> PathBuf {
    repo("tests/golden").join(name)
}

/// Compares `actual` with the golden file `name`, or rewrites it under `UPDATE_GOLDEN=1`.
/// Returns the names of the files that differ.
fn check(name: &str, actual: &str, stale: &mut Vec<String>) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != actual {
        stale.push(name.to_string());
    }
}

/// `tools/list` in the order the server sent it: one tool per line (a change shows as the
/// lines of the tools it touches; flat tools' schemas make a pretty file megabytes long).
async fn listed_tools(session: &Session) -> (Vec<String>, String) {
    let tools = session.list_all_tools().await.unwrap();
    let names = tools.iter().map(|t| t.name.to_string()).collect();
    let lines: Vec<String> = tools.iter().map(|t| serde_json::to_string(t).unwrap()).collect();
    (names, format!("{}\n", lines.join("\n")))
}

#[tokio::test]
async fn tools_list_and_every_category_listing_match_the_golden_files() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("golden");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let catalog = truenas_mcp::catalog::Catalog::builtin().unwrap();
    let mut stale = Vec::new();

    let (session, _) = connect_stdio(&nas, &["--policy", open.to_str().unwrap()]).await;
    let (names, listing) = listed_tools(&session).await;
    assert_eq!(names, ["truenas"]);
    check("tools-hierarchical.jsonl", &listing, &mut stale);
    check("categories.txt", &format!("{}\n", text(&truenas(&session, "help", "", Value::Null).await)), &mut stale);
    // The catalog's categories, then the server's own (`policy`).
    let categories = catalog.categories().iter().map(|c| c.name.as_str()).chain(["policy"]);
    for category in categories {
        let listed = truenas(&session, category, "", Value::Null).await;
        assert!(!is_error(&listed), "{category}");
        check(&format!("category-{category}.txt"), &format!("{}\n", text(&listed)), &mut stale);
    }
    session.cancel().await.unwrap();

    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--policy", open.to_str().unwrap()]).await;
    let (names, listing) = listed_tools(&session).await;
    // The catalog's order: categories as the reference orders them, actions in file order.
    let mut expected: Vec<String> = catalog.actions().map(|a| a.name.to_string()).collect();
    expected.push("policy_status".into());
    assert_eq!(names, expected);
    check("tools-flat.jsonl", &listing, &mut stale);
    // Listing again gives the very same bytes.
    assert_eq!(listed_tools(&session).await.1, listing);
    session.cancel().await.unwrap();

    assert!(
        stale.is_empty(),
        "golden files differ from what the server lists: {}; if the change is intended, rerun with \
         UPDATE_GOLDEN=1 cargo test --test tests golden and commit tests/golden/",
        stale.join(", ")
    );
}
