//! Turning parsed sources into checked action definitions: the checks across fields and files
//! (categories, duplicates, methods, templates, confirm gates, examples).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::diagnostics::{Findings, Loc, Severity};
use super::model::{ActionDef, ArgType, CONFIRM, Category};
use super::parse::{
    CATEGORIES_FILE, RawAction, RawCategories, RawCategory, RawTools, Source, parse_lexed, parse_source,
};
use super::route;
use super::template::{self, Template};
use crate::ids::{ActionName, MethodName, Risk};
use crate::schema::{MethodTable, Release};

/// Longest action description that does not draw a warning.
const MAX_DESCRIPTION: usize = 300;
/// Listings cut argument descriptions longer than this (in UTF-16 units, as the reference).
const MAX_ARG_DESCRIPTION: usize = 100;

/// The checked contents of a set of sources.
pub(crate) struct Loaded {
    /// Every category with at least one action, in declaration order.
    pub(crate) categories: Vec<Category>,
    /// Every action, in category order then source order.
    pub(crate) actions: Vec<ActionDef>,
}

/// Loads and checks all sources; `None` when any error was found.
pub(crate) fn load(sources: &[(&str, &str)], findings: &mut Findings) -> Option<Loaded> {
    let parsed = sources.iter().filter_map(|(file, text)| parse_source(file, text, findings)).collect();
    check(parsed, findings)
}

/// [`load`] for sources lexed into JSON at build time (`build.rs`): the same checks, without
/// source lines.
pub(crate) fn load_lexed(sources: &[(&str, &str)], findings: &mut Findings) -> Option<Loaded> {
    let parsed = sources.iter().filter_map(|(file, json)| parse_lexed(file, json, findings)).collect();
    check(parsed, findings)
}

/// Checks parsed sources across fields and files; `None` when any error was found.
fn check(parsed: Vec<Source>, findings: &mut Findings) -> Option<Loaded> {
    let mut categories: Option<RawCategories> = None;
    let mut tools = Vec::new();
    for source in parsed {
        match source {
            Source::Categories(c) => categories = Some(c),
            Source::Tools(t) => tools.push(t),
        }
    }
    let Some(categories) = categories else {
        findings.error(&Loc::file(CATEGORIES_FILE), "missing: no `categories.toml` among the catalog sources");
        return None;
    };
    let rules = Rules::check(&categories, findings);
    let table = MethodTable::get(Release::V25_10);
    let mut seen: HashMap<String, Loc> = HashMap::new();
    let mut built: Vec<ActionDef> = Vec::new();
    for file in &mut tools {
        check_file_category(file, &rules, findings);
        for raw in &mut file.actions {
            if let Some(first) = seen.get(&raw.name) {
                let at = first.line.map(|l| format!(":{l}")).unwrap_or_default();
                findings.error(&raw.loc, format!("duplicate action name, first defined at {}{at}", first.file));
                continue;
            }
            seen.insert(raw.name.clone(), raw.loc.clone());
            if let Some(def) = build_action(raw, &file.category, &rules, table, findings) {
                built.push(def);
            }
        }
    }
    if findings.all.iter().any(|d| d.severity == Severity::Error) {
        return None;
    }
    let mut actions = Vec::with_capacity(built.len());
    let mut listed = Vec::new();
    for raw in &categories.categories {
        let (mine, others): (Vec<ActionDef>, Vec<ActionDef>) = built.into_iter().partition(|a| a.category == raw.name);
        built = others;
        if !mine.is_empty() {
            let names = mine.iter().map(|a| a.name.clone()).collect();
            listed.push(Category { name: raw.name.clone(), description: raw.description.clone(), actions: names });
            actions.extend(mine);
        }
    }
    Some(Loaded { categories: listed, actions })
}

/// The reference's `categorize`: the first category with a matching prefix or name wins;
/// names matching none fall back to one category.
struct Rules<'a> {
    categories: &'a [RawCategory],
    fallback: Option<&'a str>,
}

impl<'a> Rules<'a> {
    fn check(raw: &'a RawCategories, findings: &mut Findings) -> Rules<'a> {
        let mut names: HashMap<&str, &Loc> = HashMap::new();
        for c in &raw.categories {
            if let Some(first) = names.insert(&c.name, &c.loc) {
                let at = first.line.map(|l| format!(" (first at line {l})")).unwrap_or_default();
                findings.error(&c.loc, format!("duplicate category `{}`{at}", c.name));
            }
            if c.prefixes.is_empty() && c.names.is_empty() {
                findings.error(&c.loc, format!("category `{}` has neither `prefixes` nor `names`", c.name));
            }
        }
        if let Some(f) = &raw.fallback
            && !names.contains_key(f.as_str())
        {
            findings.error(&raw.loc, format!("`fallback` names unknown category `{f}`"));
        }
        Rules { categories: &raw.categories, fallback: raw.fallback.as_deref() }
    }

    fn known(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c.name == category)
    }

    fn categorize(&self, action: &str) -> Option<&'a str> {
        self.categories
            .iter()
            .find(|c| c.prefixes.iter().any(|p| action.starts_with(p.as_str())) || c.names.iter().any(|n| n == action))
            .map(|c| c.name.as_str())
            .or(self.fallback)
    }
}

fn check_file_category(file: &RawTools, rules: &Rules<'_>, findings: &mut Findings) {
    if !file.category.is_empty() && !rules.known(&file.category) {
        findings.error(&file.loc, format!("unknown category `{}` (not in `{CATEGORIES_FILE}`)", file.category));
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks one action and builds it, moving its arguments out of `raw` (read only here).
fn build_action(
    raw: &mut RawAction,
    category: &str,
    rules: &Rules<'_>,
    table: &MethodTable,
    findings: &mut Findings,
) -> Option<ActionDef> {
    let loc = &raw.loc;
    let errors_before = error_count(findings);
    if !is_identifier(&raw.name) {
        findings.error(loc, "action names use lowercase letters, digits and `_`, starting with a letter");
    }
    match rules.categorize(&raw.name) {
        Some(c) if c == category => {}
        Some(c) => findings.error(loc, format!("by its name this action belongs to category `{c}`, not `{category}`")),
        None => findings.error(loc, format!("no category rule matches this action name (file category `{category}`)")),
    }
    if raw.description.chars().count() > MAX_DESCRIPTION {
        findings.warning(loc, format!("description is longer than {MAX_DESCRIPTION} characters"));
    }
    let rest_call = match raw.resolve.as_deref() {
        None => false,
        Some("rest") if raw.params.is_none() => true,
        Some("rest") => {
            findings.error(loc, "an action with `resolve` takes no `params`: the arguments name the method");
            true
        }
        Some(other) => {
            findings.error(loc, format!("`resolve` must be `rest`, not `{other}`"));
            true
        }
    };
    if !rest_call && raw.unavailable.is_none() && !table.contains(&raw.method) {
        findings.error(loc, format!("method `{}` does not exist on TrueNAS {}", raw.method, table.release()));
    }
    let risk = raw.risk.unwrap_or(Risk::Destructive);
    match (risk, raw.idempotent) {
        (Risk::Read, Some(_)) => findings.warning(loc, "`idempotent` is ignored for read actions"),
        (Risk::Write | Risk::Destructive, None) => {
            findings.error(loc, "`idempotent` is required for write and destructive actions")
        }
        _ => {}
    }
    check_args(raw, risk, findings);
    let mut used = vec![false; raw.args.len()];
    let lookups = super::lookup::check(raw, &mut used, findings);
    let (params, rest) = if rest_call { (Vec::new(), Vec::new()) } else { check_template(raw, &used, findings) };
    if rest_call && !raw.routes.is_empty() {
        findings.error(loc, "an action with `resolve` takes no routes: the arguments name the method");
    }
    let routes = route::check(raw, findings);
    if raw.broken || error_count(findings) > errors_before {
        return None;
    }
    Some(ActionDef {
        name: ActionName::new(&raw.name),
        category: category.to_string(),
        description: raw.description.clone(),
        risk,
        idempotent: risk == Risk::Read || raw.idempotent.unwrap_or(false),
        method: MethodName::new(&raw.method),
        confirm: raw.confirm.clone(),
        compat: raw.compat.clone(),
        schema: OnceLock::new(),
        args: std::mem::take(&mut raw.args),
        params,
        rest,
        routes: routes.unwrap_or_default(),
        rest_call,
        lookups: lookups.unwrap_or_default(),
        unavailable: raw.unavailable.clone(),
        result_note: raw.result_note.clone(),
    })
}

fn error_count(findings: &Findings) -> usize {
    findings.all.iter().filter(|d| d.severity == Severity::Error).count()
}

/// Argument names, the confirm gate, and examples.
fn check_args(raw: &RawAction, risk: Risk, findings: &mut Findings) {
    let loc = &raw.loc;
    for (i, arg) in raw.args.iter().enumerate() {
        let name = &arg.name;
        if !is_identifier(name) || name == "rest" || name == "merge" {
            findings.error(loc, format!("`{name}` is not a usable argument name"));
        }
        if raw.args[..i].iter().any(|a| &a.name == name) {
            findings.error(loc, format!("argument `{name}` is declared twice"));
        }
        let refs = [
            ("same_as", arg.same_as.as_deref()),
            ("required_unless", arg.required_unless.as_deref()),
            ("default_from", arg.default_from.as_ref().map(|super::model::DefaultFrom::LastComponent(s)| s.as_str())),
        ];
        for (key, other) in refs {
            if let Some(other) = other
                && (other == name || !raw.args.iter().any(|a| a.name == other))
            {
                findings.error(loc, format!("argument `{name}`: `{key}` names `{other}`, not another argument"));
            }
        }
        if arg.required && arg.default.is_some() {
            findings.warning(loc, format!("argument `{name}` is required, so its default is never used"));
        }
        if arg.description.encode_utf16().count() > MAX_ARG_DESCRIPTION {
            findings.warning(loc, format!("argument `{name}`: description is cut in listings past 100 characters"));
        }
        match arg.example_value() {
            Some(_) => {}
            None if arg.required => findings.error(loc, format!("required argument `{name}` needs an `example`")),
            None => findings.warning(loc, format!("argument `{name}` has no `example`; the catalog tests need one")),
        }
    }
    let confirm_arg = raw.args.iter().find(|a| a.name == CONFIRM);
    // The raw escape hatch is gated per call, by the actions its method belongs to.
    let per_call = raw.resolve.is_some();
    match (&raw.confirm, confirm_arg) {
        (None, Some(arg)) if per_call => {
            if arg.kind != ArgType::Boolean || arg.required || arg.default.is_some() {
                findings.error(loc, "the raw call's `confirm` argument must be an optional boolean without default");
            }
        }
        (Some(_), None) => findings.error(loc, "a gated action (with a `confirm` text) needs a `confirm` argument"),
        (None, Some(_)) => findings.error(loc, "a `confirm` argument needs the action's `confirm` refusal text"),
        (Some(_), Some(arg)) => {
            if arg.kind != ArgType::Boolean || !arg.required || arg.default.is_some() {
                findings.error(loc, "the `confirm` argument must be a required boolean without default");
            }
            if risk != Risk::Destructive {
                findings.error(loc, "an action gated by `confirm` must have risk `destructive`");
            }
        }
        (None, None) => {}
    }
}

/// Parses the params template; returns its positions and the arguments `$rest` gathers.
/// Arguments `by_lookup[i]` are used by a lookup's params; an argument standing for another
/// (`same_as`) is used through it; those of an action that runs nowhere need no use.
fn check_template(raw: &RawAction, by_lookup: &[bool], findings: &mut Findings) -> (Vec<Template>, Vec<bool>) {
    let loc = &raw.loc;
    let Some(value) = &raw.params else { return (Vec::new(), Vec::new()) };
    let toml::Value::Array(items) = value else {
        findings.error(loc, "`params` must be an array: the positional params of the method");
        return (Vec::new(), Vec::new());
    };
    let mut used = vec![false; raw.args.len()];
    let mut problems = Vec::new();
    let positions: Vec<Template> =
        items.iter().map(|v| template::parse(v, &raw.args, &mut used, &mut problems)).collect();
    for p in problems {
        findings.error(loc, p);
    }
    let has_rest = positions.iter().any(template::contains_rest);
    for (arg, u) in raw.args.iter().zip(used.iter_mut()) {
        if arg.same_as.as_ref().is_some_and(|of| raw.args.iter().any(|a| &a.name == of)) {
            *u = true;
        }
    }
    let rest: Vec<bool> = raw
        .args
        .iter()
        .zip(&used)
        .zip(by_lookup)
        .map(|((a, u), l)| has_rest && !u && !l && a.name != CONFIRM)
        .collect();
    for ((arg, u), l) in raw.args.iter().zip(&used).zip(by_lookup) {
        if !u && !l && !has_rest && arg.name != CONFIRM && raw.unavailable.is_none() {
            findings.error(loc, format!("argument `{}` is declared but `params` never uses it", arg.name));
        }
    }
    if let Some((_, before)) = positions.split_last() {
        for (i, t) in before.iter().enumerate() {
            if t.may_be_absent(&raw.args) {
                findings.error(
                    loc,
                    format!("`params` position {i} can be absent while a later one is present; give it a default"),
                );
            }
        }
    }
    (positions, rest)
}
