//! The single `truenas` tool of the server we replace: same input schema and three modes
//! (no category: list categories; category only: list its actions; category and action:
//! execute), with the same listing formats and lookup texts.

use std::sync::Arc;

use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::reply;
use crate::catalog::{ActionDef, Catalog, listing};
use crate::policy::{ErrorSummary, RecordKind};

/// The tool's name.
pub(crate) const TOOL_NAME: &str = "truenas";

/// What a `truenas` call asks for.
pub(crate) enum Step<'a> {
    /// Answer without touching the NAS (a listing, a lookup failure), audited as `Lookup`.
    Reply(Box<CallToolResult>, Lookup),
    /// Run this action with these params.
    Execute { action: &'a ActionDef, params: Map<String, Value> },
}

/// What an answered call was, for its audit record.
pub(crate) struct Lookup {
    /// `Lookup` for listings and unknown names, `Refusal` for a call of the wrong shape.
    pub(crate) kind: RecordKind,
    /// The action asked about, or what was asked (`list_categories`, `list_actions`).
    pub(crate) action: String,
    /// What went wrong, if anything.
    pub(crate) error: Option<ErrorSummary>,
}

impl Lookup {
    pub(crate) fn ok(action: &str) -> Lookup {
        Lookup { kind: RecordKind::Lookup, action: action.to_string(), error: None }
    }

    pub(crate) fn failed(action: &str, kind: &'static str) -> Lookup {
        Lookup { kind: RecordKind::Lookup, action: action.to_string(), error: Some(ErrorSummary::new(kind)) }
    }

    fn bad_shape(arg: &str) -> Lookup {
        let error = ErrorSummary::new("bad_shape").with_args(vec![arg.to_string()]);
        Lookup { kind: RecordKind::Refusal, action: TOOL_NAME.to_string(), error: Some(error) }
    }
}

/// How listings show the policy: a mark after each action, and the server's own categories
/// after the catalog's (name, description, its actions).
pub(crate) struct Listing<'a> {
    /// The mark after an action's line (` [needs approval]`), if any.
    pub(crate) mark: &'a (dyn Fn(&ActionDef) -> Option<String> + Sync),
    /// Categories that are not the catalog's: `policy`.
    pub(crate) extra: &'a [(&'a str, &'a str, usize)],
}

/// The tool definition, with counts and categories of what this client may see.
pub(crate) fn tool(catalog: &Catalog, visible: &dyn Fn(&ActionDef) -> bool, extra: &[(&str, &str, usize)]) -> Tool {
    let categories: Vec<&str> = catalog
        .categories()
        .iter()
        .filter(|c| c.actions.iter().any(|a| catalog.action(a.as_str()).is_some_and(visible)))
        .map(|c| c.name.as_str())
        .chain(extra.iter().map(|(name, _, _)| *name))
        .collect();
    let count = catalog.actions().filter(|a| visible(a)).count() + extra.iter().map(|(_, _, n)| n).sum::<usize>();
    let names = categories.join(", ");
    let description = format!(
        "Manage a TrueNAS SCALE system through {count} actions grouped in categories. \
         Every call is checked by this server's policy before it reaches the NAS.\n\n\
         How to call:\n  \
         - no arguments, or category=\"help\": the categories\n  \
         - category alone: that category's actions and their parameters\n  \
         - category + action (+ params): run the action\n\n\
         Categories: {names}"
    );
    let schema = json!({
        "type": "object",
        "properties": {
            "category": {"type": "string", "description": format!("One of: {names}")},
            "action": {
                "type": "string",
                "description": "The action to run, e.g. 'vm_list'. Leave out to see the actions of the category."
            },
            "params": {
                "type": "object",
                "propertyNames": {"type": "string"},
                "additionalProperties": {},
                "description": "The action's parameters by name. List the category to see which it takes."
            }
        },
        "$schema": "http://json-schema.org/draft-07/schema#"
    });
    let schema: JsonObject = match schema {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    // Whether it writes depends on the action chosen, so the tool as a whole claims nothing safe.
    let annotations = ToolAnnotations::new().read_only(false).destructive(true).idempotent(false).open_world(false);
    Tool::new(TOOL_NAME, description, Arc::new(schema)).with_annotations(annotations)
}

/// Works out which mode a call is in. `visible` says what this client may see (listings);
/// `hidden` says what the policy hides: a hidden action answers exactly as an unknown one, so
/// the answer never tells that it exists.
pub(crate) fn resolve<'a>(
    catalog: &'a Catalog,
    visible: &dyn Fn(&ActionDef) -> bool,
    hidden: &dyn Fn(&ActionDef) -> bool,
    view: &Listing<'_>,
    args: Option<&JsonObject>,
) -> Step<'a> {
    let empty = JsonObject::new();
    let args = args.unwrap_or(&empty);
    let category = match string_arg(args, "category") {
        Ok(c) => c,
        Err(r) => return Step::Reply(r, Lookup::bad_shape("category")),
    };
    let category = match category {
        None | Some("") | Some("help") => {
            return Step::Reply(
                Box::new(reply::text(listing::categories_text_with(catalog, visible, view.extra))),
                Lookup::ok("list_categories"),
            );
        }
        Some(c) => c,
    };
    let action = match string_arg(args, "action") {
        Ok(None) | Ok(Some("")) => {
            return match listing::actions_text_marked(catalog, category, visible, view.mark) {
                Some(text) => Step::Reply(Box::new(reply::text(text)), Lookup::ok("list_actions")),
                None => Step::Reply(
                    Box::new(reply::lookup_error(listing::unknown_category_text(catalog, category))),
                    Lookup::failed("list_actions", "unknown_category"),
                ),
            };
        }
        Ok(Some(a)) => a,
        Err(r) => return Step::Reply(r, Lookup::bad_shape("action")),
    };
    let params = match args.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Step::Reply(
                Box::new(reply::input_error("`params` must be an object")),
                Lookup::bad_shape("params"),
            );
        }
    };
    match catalog.action(action).filter(|def| !hidden(def)) {
        None => Step::Reply(
            Box::new(reply::lookup_error(listing::unknown_action_text(catalog, category, action, visible))),
            Lookup::failed(action, "unknown_action"),
        ),
        Some(def) if def.category != category => Step::Reply(
            Box::new(reply::lookup_error(listing::wrong_category_text(action, category, &def.category))),
            Lookup::failed(action, "wrong_category"),
        ),
        Some(def) => Step::Execute { action: def, params },
    }
}

fn string_arg<'a>(args: &'a JsonObject, key: &str) -> Result<Option<&'a str>, Box<CallToolResult>> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(Box::new(reply::input_error(format!("`{key}` must be a string")))),
    }
}
