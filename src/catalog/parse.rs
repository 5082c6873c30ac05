//! Reading one TOML source into raw definitions: syntax, unknown keys and field types, every
//! problem reported with its file and line (typed fields through `parse_reader.rs`'s `Reader`).
//! Checks across fields and files live in `load`.

use serde_json::Value;
use toml::de::{DeTable, DeValue};

use super::args::check_value;
use super::diagnostics::{Findings, LineIndex, Loc, line_of};
use super::model::{ArgDef, ArgType, DefaultFrom};
use super::value_kind::ValueKind;
use crate::ids::Risk;
use reader::Reader;

#[path = "parse_reader.rs"]
mod reader;

/// `categories.toml`: the categories, in listing order.
#[derive(Debug, Default)]
pub(crate) struct RawCategories {
    pub(crate) loc: Loc,
    /// Category of names that match no prefix, as the reference's `categorize` does.
    pub(crate) fallback: Option<String>,
    pub(crate) categories: Vec<RawCategory>,
}

#[derive(Debug)]
pub(crate) struct RawCategory {
    pub(crate) loc: Loc,
    pub(crate) name: String,
    pub(crate) description: String,
    /// An action belongs here when its name starts with one of these...
    pub(crate) prefixes: Vec<String>,
    /// ...or equals one of these.
    pub(crate) names: Vec<String>,
}

/// A tools file: actions of one category.
#[derive(Debug)]
pub(crate) struct RawTools {
    pub(crate) loc: Loc,
    pub(crate) category: String,
    pub(crate) actions: Vec<RawAction>,
}

#[derive(Debug)]
pub(crate) struct RawAction {
    pub(crate) loc: Loc,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) risk: Option<Risk>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) method: String,
    /// `rest` for the raw escape hatch: the method is resolved from the arguments at call time.
    pub(crate) resolve: Option<String>,
    pub(crate) confirm: Option<String>,
    pub(crate) compat: Option<String>,
    pub(crate) params: Option<toml::Value>,
    pub(crate) args: Vec<ArgDef>,
    /// `[[action.route]]`: other methods for some releases.
    pub(crate) routes: Vec<RawRoute>,
    /// `[[action.lookup]]`: reads made before the call (checked in `lookup`).
    pub(crate) lookups: Vec<RawLookup>,
    /// Why the action cannot run where its method is missing.
    pub(crate) unavailable: Option<String>,
    /// Said beside the result.
    pub(crate) result_note: Option<String>,
    /// Set when a field could not be read; the action is then not built.
    pub(crate) broken: bool,
}

/// One `[[action.route]]` table, as read (checked in `route`).
#[derive(Debug)]
pub(crate) struct RawRoute {
    pub(crate) loc: Loc,
    /// Release names, e.g. `24.10`.
    pub(crate) releases: Vec<String>,
    pub(crate) method: Option<String>,
    pub(crate) params: Option<toml::Value>,
    /// Why the action cannot run on these releases (instead of a method).
    pub(crate) unavailable: Option<String>,
}

/// One `[[action.lookup]]` table, as read (checked in `lookup`).
#[derive(Debug)]
pub(crate) struct RawLookup {
    pub(crate) loc: Loc,
    /// Release names; empty for every release the action runs on, less `except`.
    pub(crate) releases: Vec<String>,
    pub(crate) except: Vec<String>,
    pub(crate) method: String,
    pub(crate) params: toml::Value,
    /// Runs only when this argument is given.
    pub(crate) if_given: Option<String>,
    /// Runs only when this argument is not an absolute path; its fills replace given values.
    pub(crate) unless_path: Option<String>,
    /// Argument -> JSON Pointers into the result, the first that resolves wins.
    pub(crate) fill: Vec<(String, Vec<String>)>,
    /// Argument -> JSON Pointer of the object whose keys are its allowed values.
    pub(crate) choices: Vec<(String, String)>,
    /// Said when the result is empty.
    pub(crate) missing: Option<String>,
}

/// What one source holds.
pub(crate) enum Source {
    Categories(RawCategories),
    Tools(RawTools),
}

/// The file holding the categories; every other source holds actions.
pub(crate) const CATEGORIES_FILE: &str = "categories.toml";

/// Parses one source; `None` when its syntax is broken (each syntax error is reported). The
/// text is lexed once: the spanned parse gives the lines of the tables a diagnostic can name,
/// then becomes the plain table the fields are read from.
pub(crate) fn parse_source(file: &str, text: &str, findings: &mut Findings) -> Option<Source> {
    let loc = Loc::file(file);
    let (spans, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let line = e.span().map(|s| line_of(text, s.start));
        findings.error(&loc.at(line), format!("invalid TOML: {}", e.message().trim_end()));
    }
    if !errors.is_empty() {
        return None;
    }
    let lines = Lines::new(text, spans.get_ref());
    let table: toml::Table = match serde::Deserialize::deserialize(toml::de::Deserializer::from(spans)) {
        Ok(t) => t,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start));
            findings.error(&loc.at(line), format!("invalid TOML: {}", e.message().trim_end()));
            return None;
        }
    };
    Some(if file == CATEGORIES_FILE {
        Source::Categories(parse_categories(&table, &lines, loc, findings))
    } else {
        Source::Tools(parse_tools(&table, &lines, loc, findings))
    })
}

/// Reads one source lexed into JSON at build time (`build.rs`): the same reading as
/// [`parse_source`], with no source lines. `None` when the JSON is not a table (a build out of
/// step with its sources).
pub(crate) fn parse_lexed(file: &str, json: &str, findings: &mut Findings) -> Option<Source> {
    let loc = Loc::file(file);
    let table: toml::Table = match serde_json::from_str(json) {
        Ok(t) => t,
        Err(e) => {
            findings.error(&loc, format!("the build's lexed copy does not read back: {e}"));
            return None;
        }
    };
    let lines = Lines { top: Vec::new(), nested: Vec::new() };
    Some(if file == CATEGORIES_FILE {
        Source::Categories(parse_categories(&table, &lines, loc, findings))
    } else {
        Source::Tools(parse_tools(&table, &lines, loc, findings))
    })
}

/// Source lines of the array elements a diagnostic can name, taken from the spanned parse
/// before it is turned into plain values: the top-level `[[category]]` and `[[action]]` tables,
/// and each action's `args`, `route` and `lookup` elements.
struct Lines {
    /// Line of each `[[category]]` and each `[[action]]`, by key.
    top: Vec<(&'static str, Vec<usize>)>,
    /// Per action (by position): line of each element of its nested arrays, by key.
    nested: Vec<Vec<(&'static str, Vec<usize>)>>,
}

impl Lines {
    const TOP: [&'static str; 2] = ["category", "action"];
    const NESTED: [&'static str; 3] = ["args", "route", "lookup"];

    fn new(text: &str, root: &DeTable<'_>) -> Lines {
        let index = LineIndex::new(text);
        let lines_of = |table: &DeTable<'_>, key: &str| -> Vec<usize> {
            match Self::array(table, key) {
                Some(items) => items.iter().map(|v| index.line(v.span().start)).collect(),
                None => Vec::new(),
            }
        };
        let top = Self::TOP.iter().map(|k| (*k, lines_of(root, k))).collect();
        let nested = Self::array(root, "action")
            .into_iter()
            .flatten()
            .map(|action| match action.get_ref() {
                DeValue::Table(t) => Self::NESTED.iter().map(|k| (*k, lines_of(t, k))).collect(),
                _ => Vec::new(),
            })
            .collect();
        Lines { top, nested }
    }

    fn array<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t [toml::Spanned<DeValue<'i>>]> {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        match value.get_ref() {
            DeValue::Array(items) => Some(&items[..]),
            _ => None,
        }
    }

    fn find(lists: &[(&'static str, Vec<usize>)], key: &str, index: usize) -> Option<usize> {
        lists.iter().find(|(k, _)| *k == key).and_then(|(_, lines)| lines.get(index).copied())
    }

    /// Line of `root[key][index]`.
    fn top(&self, key: &str, index: usize) -> Option<usize> {
        Self::find(&self.top, key, index)
    }

    /// Line of `root.action[action].args[arg]`.
    fn arg(&self, action: usize, arg: usize) -> Option<usize> {
        self.nested(action, "args", arg)
    }

    /// Line of `root.action[action].<key>[index]`.
    fn nested(&self, action: usize, key: &str, index: usize) -> Option<usize> {
        Self::find(self.nested.get(action)?, key, index)
    }
}

fn parse_categories(table: &toml::Table, lines: &Lines, loc: Loc, findings: &mut Findings) -> RawCategories {
    let mut r = Reader::new(table, loc.clone(), findings, &["fallback", "category"]);
    let fallback = r.string("fallback");
    let tables = r.tables("category");
    let mut categories = Vec::new();
    for (i, t) in tables.into_iter().enumerate() {
        let loc = loc.at(lines.top("category", i));
        let mut r = Reader::new(t, loc.clone(), findings, &["name", "description", "prefixes", "names"]);
        let (name, description) = (r.required_string("name"), r.required_string("description"));
        let (prefixes, names) = (r.strings("prefixes"), r.strings("names"));
        if let (Some(name), Some(description)) = (name, description) {
            categories.push(RawCategory { loc, name, description, prefixes, names });
        }
    }
    RawCategories { loc, fallback, categories }
}

fn parse_tools(table: &toml::Table, lines: &Lines, loc: Loc, findings: &mut Findings) -> RawTools {
    let mut r = Reader::new(table, loc.clone(), findings, &["category", "action"]);
    let category = r.required_string("category").unwrap_or_default();
    let tables = r.tables("action");
    let mut actions = Vec::new();
    for (i, t) in tables.into_iter().enumerate() {
        let mut loc = loc.at(lines.top("action", i));
        if let Some(name) = t.get("name").and_then(toml::Value::as_str).filter(|n| !n.is_empty()) {
            loc = loc.action(name);
        }
        const KEYS: [&str; 14] = [
            "name",
            "description",
            "lookup",
            "unavailable",
            "result_note",
            "risk",
            "idempotent",
            "method",
            "resolve",
            "confirm",
            "compat",
            "params",
            "args",
            "route",
        ];
        let mut r = Reader::new(t, loc.clone(), findings, &KEYS);
        let name = r.required_string("name");
        let description = r.required_string("description");
        let risk = r.required_string("risk").and_then(|s| match s.as_str() {
            "read" => Some(Risk::Read),
            "write" => Some(Risk::Write),
            "destructive" => Some(Risk::Destructive),
            other => r.bad("risk", format!("must be `read`, `write` or `destructive`, not `{other}`")),
        });
        let idempotent = r.boolean("idempotent");
        let resolve = r.string("resolve");
        let method = match resolve {
            // Resolved per call; `*` stands for "whichever method the arguments name".
            Some(_) => Some("*".to_string()),
            None => r.required_string("method"),
        };
        let (confirm, compat) = (r.string("confirm"), r.string("compat"));
        let params = r.value("params").cloned();
        if params.is_none() && resolve.is_none() {
            r.bad::<()>("params", "is required (use `params = []` for a method without arguments)".into());
        }
        let route_tables = r.tables("route");
        let lookup_tables = r.tables("lookup");
        let (unavailable, result_note) = (r.string("unavailable"), r.string("result_note"));
        let arg_tables = r.tables("args");
        let mut broken = r.broken;
        // Exactly as many as there are: the catalog keeps these for the process's life.
        let mut args = Vec::with_capacity(arg_tables.len());
        for (j, at) in arg_tables.into_iter().enumerate() {
            match parse_arg(at, &loc.at(lines.arg(i, j)), findings) {
                Some(a) => args.push(a),
                None => broken = true,
            }
        }
        let mut routes = Vec::new();
        for (j, rt) in route_tables.into_iter().enumerate() {
            match parse_route(rt, &loc.at(lines.nested(i, "route", j)), findings) {
                Some(route) => routes.push(route),
                None => broken = true,
            }
        }
        let mut lookups = Vec::new();
        for (j, lt) in lookup_tables.into_iter().enumerate() {
            match parse_lookup(lt, &loc.at(lines.nested(i, "lookup", j)), findings) {
                Some(lookup) => lookups.push(lookup),
                None => broken = true,
            }
        }
        if let (Some(name), Some(description), Some(method)) = (name, description, method) {
            actions.push(RawAction {
                loc,
                name,
                description,
                risk,
                idempotent,
                method,
                resolve,
                confirm,
                compat,
                params,
                args,
                routes,
                lookups,
                unavailable,
                result_note,
                broken,
            });
        }
    }
    RawTools { loc, category, actions }
}

fn parse_route(table: &toml::Table, loc: &Loc, findings: &mut Findings) -> Option<RawRoute> {
    const KEYS: [&str; 4] = ["releases", "method", "params", "unavailable"];
    let mut r = Reader::with_context(table, loc.clone(), findings, &KEYS, "route");
    let releases = r.strings("releases");
    if releases.is_empty() && !r.broken {
        r.bad::<()>("releases", "is required: the releases (e.g. `24.10`) this route is for".into());
    }
    let method = r.string("method");
    let unavailable = r.string("unavailable");
    let params = r.value("params").cloned();
    if r.broken {
        return None;
    }
    Some(RawRoute { loc: loc.clone(), releases, method, params, unavailable })
}

fn parse_lookup(table: &toml::Table, loc: &Loc, findings: &mut Findings) -> Option<RawLookup> {
    const KEYS: [&str; 9] =
        ["releases", "except", "method", "params", "if_given", "unless_path", "fill", "choices", "missing"];
    let mut r = Reader::with_context(table, loc.clone(), findings, &KEYS, "lookup");
    let (releases, except) = (r.strings("releases"), r.strings("except"));
    let method = r.required_string("method");
    let params = r.value("params").cloned();
    if params.is_none() {
        r.bad::<()>("params", "is required (use `params = []` for a method without arguments)".into());
    }
    let (if_given, unless_path, missing) = (r.string("if_given"), r.string("unless_path"), r.string("missing"));
    let pointers = |v: &toml::Value| match v {
        toml::Value::String(p) => Some(vec![p.clone()]),
        toml::Value::Array(items) if !items.is_empty() && items.iter().all(toml::Value::is_str) => {
            Some(items.iter().filter_map(|i| i.as_str().map(String::from)).collect())
        }
        _ => None,
    };
    let mut fill = Vec::new();
    let mut choices = Vec::new();
    for (key, out) in [("fill", true), ("choices", false)] {
        match r.value(key) {
            None => {}
            Some(toml::Value::Table(t)) => {
                for (arg, v) in t {
                    match (pointers(v), out) {
                        (Some(p), true) => fill.push((arg.clone(), p)),
                        (Some(mut p), false) if p.len() == 1 => choices.push((arg.clone(), p.remove(0))),
                        _ => {
                            r.bad::<()>(key, format!("`{arg}` must map to a JSON Pointer string"));
                        }
                    }
                }
            }
            Some(_) => {
                r.bad::<()>(key, "must be a table of argument = JSON Pointer".into());
            }
        }
    }
    if r.broken {
        return None;
    }
    Some(RawLookup {
        loc: loc.clone(),
        releases,
        except,
        method: method?,
        params: params?,
        if_given,
        unless_path,
        fill,
        choices,
        missing,
    })
}

fn parse_arg(table: &toml::Table, loc: &Loc, findings: &mut Findings) -> Option<ArgDef> {
    const KEYS: [&str; 16] = [
        "name",
        "type",
        "same_as",
        "required_unless",
        "default_from",
        "since",
        "until",
        "required",
        "description",
        "enum",
        "default",
        "minimum",
        "maximum",
        "example",
        "compat",
        "kind",
    ];
    let prefix = format!("argument `{}`", table.get("name").and_then(toml::Value::as_str).unwrap_or("?"));
    let mut r = Reader::with_context(table, loc.clone(), findings, &KEYS, &prefix);
    let name = r.required_string("name");
    let kind = r.required_string("type").and_then(|t| {
        ArgType::parse(&t)
            .or_else(|| r.bad("type", format!("must be integer, number, string, boolean, object or array, not `{t}`")))
    });
    let required = r.boolean("required").unwrap_or(false);
    let description = r.required_string("description");
    let enum_values = r.json("enum").and_then(|v| match v {
        Value::Array(items) if !items.is_empty() => Some(items),
        _ => r.bad("enum", "must be a non-empty array".into()),
    });
    let (minimum, maximum) = (r.number("minimum"), r.number("maximum"));
    let (default, example, compat) = (r.json("default"), r.json("example"), r.string("compat"));
    let value_kind = r.string("kind").and_then(|k| {
        ValueKind::parse(&k).or_else(|| {
            r.bad(
                "kind",
                format!("must be `path`, `dataset`, `dataset_or_mount`, `snapshot` or `paths_within`, not `{k}`"),
            )
        })
    });
    let (same_as, required_unless) = (r.string("same_as"), r.string("required_unless"));
    let default_from = r.value("default_from").and_then(|v| match v {
        toml::Value::Table(t) if t.len() == 1 => match t.get("last_component") {
            Some(toml::Value::String(source)) => Some(DefaultFrom::LastComponent(source.clone())),
            _ => r.bad("default_from", "must be `{ last_component = \"<argument>\" }`".into()),
        },
        _ => r.bad("default_from", "must be `{ last_component = \"<argument>\" }`".into()),
    });
    let mut release = |key: &str| {
        r.string(key).and_then(|name| {
            crate::schema::Release::from_name(&name).or_else(|| r.bad(key, format!("names unknown release `{name}`")))
        })
    };
    let (since, until) = (release("since"), release("until"));
    if r.broken {
        return None;
    }
    let (name, kind, description) = (name?, kind?, description?);
    let def = ArgDef {
        name,
        kind,
        required,
        description,
        enum_values,
        default,
        minimum,
        maximum,
        example,
        compat,
        value_kind,
        same_as,
        required_unless,
        default_from,
        since,
        until,
    };
    let mut ok = true;
    let fits = match def.value_kind {
        None => true,
        Some(ValueKind::PathsWithin) => kind == ArgType::Object,
        Some(_) => matches!(kind, ArgType::String | ArgType::Array),
    };
    if !fits {
        findings
            .error(loc, format!("{prefix}: `kind` `paths_within` is for objects, the others for strings and arrays"));
        ok = false;
    }
    if (def.minimum.is_some() || def.maximum.is_some()) && !matches!(kind, ArgType::Integer | ArgType::Number) {
        findings.error(loc, format!("{prefix}: `minimum` and `maximum` apply to numbers only"));
        ok = false;
    }
    // Enum values are checked for type only; defaults and examples against everything declared.
    // Cloned only for arguments with an enum: most have none, and a start loads them all.
    let type_only =
        def.enum_values.as_ref().map(|_| ArgDef { enum_values: None, minimum: None, maximum: None, ..def.clone() });
    let enum_values = type_only.iter().flat_map(|t| def.enum_values.iter().flatten().map(move |v| ("enum", t, v)));
    let others = [("default", &def.default), ("example", &def.example)];
    let others = others.into_iter().filter_map(|(key, v)| Some((key, &def, v.as_ref()?)));
    for (key, against, v) in enum_values.chain(others) {
        let mut problems = Vec::new();
        check_value(against, v, &mut problems);
        for p in problems {
            findings.error(loc, format!("{prefix}: `{key}` value {v} is invalid: {p}"));
            ok = false;
        }
    }
    ok.then_some(def)
}
