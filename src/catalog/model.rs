//! The typed definitions the catalog is made of: categories, actions and their arguments, and
//! what each action declares to MCP clients (input schema, annotations).

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Number, Value};

use super::template::Template;
use crate::ids::{ActionName, MethodName, Risk};

/// The name of the argument a gated action requires; it is checked here, never forwarded.
pub(crate) const CONFIRM: &str = "confirm";

/// A group of actions, as listed by the `truenas` tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Short name agents pass as `category`, e.g. `vm`.
    pub name: String,
    /// One line shown in the category listing.
    pub description: String,
    /// The category's actions, in the order they are listed.
    pub actions: Vec<ActionName>,
}

/// The JSON type of an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgType {
    /// A whole number; an integral float such as `3.0` is accepted and sent as `3`.
    Integer,
    /// Any number.
    Number,
    /// A string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
}

impl ArgType {
    /// The JSON Schema name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::Integer => "integer",
            ArgType::Number => "number",
            ArgType::String => "string",
            ArgType::Boolean => "boolean",
            ArgType::Object => "object",
            ArgType::Array => "array",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<ArgType> {
        Some(match name {
            "integer" => ArgType::Integer,
            "number" => ArgType::Number,
            "string" => ArgType::String,
            "boolean" => ArgType::Boolean,
            "object" => ArgType::Object,
            "array" => ArgType::Array,
            _ => return None,
        })
    }

    /// The type's name with its article, for messages ("an integer").
    pub(crate) fn with_article(self) -> &'static str {
        match self {
            ArgType::Integer => "an integer",
            ArgType::Number => "a number",
            ArgType::String => "a string",
            ArgType::Boolean => "a boolean",
            ArgType::Object => "an object",
            ArgType::Array => "an array",
        }
    }

    /// Whether `value` has this type (integral floats count as integers).
    pub(crate) fn accepts(self, value: &Value) -> bool {
        match self {
            ArgType::Integer => as_integer(value).is_some(),
            ArgType::Number => value.is_number(),
            ArgType::String => value.is_string(),
            ArgType::Boolean => value.is_boolean(),
            ArgType::Object => value.is_object(),
            ArgType::Array => value.is_array(),
        }
    }
}

/// `value` as a JSON integer, when it is one within i64 or an integral float below 2^53 in
/// magnitude (beyond that a float no longer holds every integer: it is refused, never rounded).
pub(crate) fn as_integer(value: &Value) -> Option<Number> {
    let Value::Number(n) = value else { return None };
    if n.is_i64() {
        return Some(n.clone());
    }
    let f = n.as_f64()?;
    if crate::schema::exact::is_exact(n) && f.fract() == 0.0 {
        // INVARIANT: |f| < 2^53, so the conversion is exact.
        Some(Number::from(f as i64))
    } else {
        None
    }
}

/// One argument of an action, as agents pass it in `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDef {
    /// Name agents use, e.g. `vm_id`.
    pub name: String,
    /// Its JSON type.
    pub kind: ArgType,
    /// Whether a call without it is refused.
    pub required: bool,
    /// What the argument means; shown in listings and the JSON Schema.
    pub description: String,
    /// The only values accepted, when restricted.
    pub enum_values: Option<Vec<Value>>,
    /// The value used when the argument is absent.
    pub default: Option<Value>,
    /// Lowest accepted number (inclusive).
    pub minimum: Option<Number>,
    /// Highest accepted number (inclusive).
    pub maximum: Option<Number>,
    /// A valid value, used by the tests and in documentation.
    pub example: Option<Value>,
    /// How this argument differs from the server we replace, when it does.
    pub compat: Option<String>,
    /// What the string (or each string of the array) names, when it names a path, dataset or
    /// snapshot: it must then be canonical (`kind = "path"` in `tools/*.toml`).
    pub value_kind: Option<super::value_kind::ValueKind>,
    /// Another name for argument `same_as` (the reference's name for it): given alone it stands
    /// for that argument; given with it, both must be equal (`same_as = "dev_name"`).
    pub same_as: Option<String>,
    /// A required argument that may be left out when this other argument is given
    /// (`required_unless = "id"`: the saved object named by `id` supplies it).
    pub required_unless: Option<String>,
    /// Where the value comes from when the argument is absent and has no `default`.
    pub default_from: Option<DefaultFrom>,
    /// The first release that has the argument (`since = "26.0"`); on older ones giving it is
    /// refused, with `compat` as the reason.
    pub since: Option<crate::schema::Release>,
    /// The last release that has the argument (`until = "25.10"`); on newer ones giving it is
    /// refused, with `compat` as the reason.
    pub until: Option<crate::schema::Release>,
}

/// A default derived from another argument (`default_from = { last_component = "path" }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultFrom {
    /// The last component of the path in the named argument (`/mnt/tank/photos` -> `photos`).
    LastComponent(String),
}

impl DefaultFrom {
    /// The derived value, when the argument it reads is given.
    pub(crate) fn derive(&self, args: &Map<String, Value>) -> Option<Value> {
        match self {
            DefaultFrom::LastComponent(source) => {
                let path = args.get(source)?.as_str()?;
                let last = path.rsplit('/').find(|c| !c.is_empty())?;
                Some(Value::String(last.to_string()))
            }
        }
    }
}

impl ArgDef {
    /// Whether `release` has the argument (`since`, `until`).
    pub fn exists_on(&self, release: crate::schema::Release) -> bool {
        self.since.is_none_or(|s| release >= s) && self.until.is_none_or(|u| release <= u)
    }

    /// A valid value for the argument: its declared example, else one derived from its default,
    /// its enum, its type (`true` for booleans) or its bounds (numbers). `None` when nothing can
    /// be derived (strings, objects and arrays without an example).
    pub fn example_value(&self) -> Option<Value> {
        if let Some(v) = self.example.as_ref().or(self.default.as_ref()) {
            return Some(v.clone());
        }
        if let Some(first) = self.enum_values.as_ref().and_then(|e| e.first()) {
            return Some(first.clone());
        }
        match self.kind {
            ArgType::Boolean => Some(Value::Bool(true)),
            ArgType::Integer | ArgType::Number => {
                Some(Value::Number(self.minimum.clone().or_else(|| self.maximum.clone()).unwrap_or(Number::from(1))))
            }
            ArgType::String | ArgType::Object | ArgType::Array => None,
        }
    }

    /// The argument's JSON Schema.
    pub(crate) fn schema(&self) -> Value {
        let mut s = Map::new();
        s.insert("type".into(), Value::String(self.kind.as_str().into()));
        s.insert("description".into(), Value::String(self.description.clone()));
        if let Some(values) = &self.enum_values {
            s.insert("enum".into(), Value::Array(values.clone()));
        }
        if let Some(d) = &self.default {
            s.insert("default".into(), d.clone());
        }
        if let Some(n) = &self.minimum {
            s.insert("minimum".into(), Value::Number(n.clone()));
        }
        if let Some(n) = &self.maximum {
            s.insert("maximum".into(), Value::Number(n.clone()));
        }
        Value::Object(s)
    }
}

/// MCP tool annotations of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    /// The action changes nothing.
    pub read_only: bool,
    /// The action can lose data or availability.
    pub destructive: bool,
    /// Repeating the call with the same arguments has no further effect.
    pub idempotent: bool,
    /// The action reaches beyond the NAS it manages; always `false` here.
    pub open_world: bool,
}

/// One action of the tool set: what agents call, and the middleware call it becomes.
#[derive(Debug, Clone)]
pub struct ActionDef {
    /// What agents call, e.g. `vm_start`.
    pub name: ActionName,
    /// The category it is listed under.
    pub category: String,
    /// What it does, in our words.
    pub description: String,
    /// How much it can change; drives annotations and policy defaults.
    pub risk: Risk,
    /// Whether repeating it has no further effect (always true for reads).
    pub idempotent: bool,
    /// The middleware method it calls (whether that is a job comes from the method table).
    pub method: MethodName,
    /// For gated actions, the text returned when `confirm` is not `true`.
    pub confirm: Option<String>,
    /// Its arguments, in listing order.
    pub args: Vec<ArgDef>,
    /// How this action differs from the server we replace, when it does.
    pub compat: Option<String>,
    /// How each positional param is built from the arguments.
    pub(crate) params: Vec<Template>,
    /// `rest[i]` is true for the arguments a `$rest` in `params` gathers.
    pub(crate) rest: Vec<bool>,
    /// Other methods for some releases (`[[action.route]]`).
    pub(crate) routes: Vec<super::route::Route>,
    /// Built from `args` on first use (the first `tools/list`), not at load: a start that
    /// lists no tool builds none.
    pub(crate) schema: OnceLock<Arc<Map<String, Value>>>,
    /// The raw escape hatch: the method comes from the `method`/`path`/`body` arguments.
    pub(crate) rest_call: bool,
    /// Reads made under the call's permit before the call itself (`[[action.lookup]]`).
    pub(crate) lookups: Vec<super::lookup::Lookup>,
    /// Why the action cannot run on a release whose table lacks its method (`unavailable`).
    pub(crate) unavailable: Option<String>,
    /// Said beside the result, when the result is not what the action's name suggests.
    pub result_note: Option<String>,
}

impl ActionDef {
    /// Arguments for a call that uses every argument that all releases have: each one's
    /// [`ArgDef::example_value`], and `confirm: true` on a gated action. The tests call every
    /// action this way.
    pub fn example_args(&self) -> Map<String, Value> {
        let everywhere = |a: &&ArgDef| a.since.is_none() && a.until.is_none();
        let mut args: Map<String, Value> = self
            .args
            .iter()
            .filter(everywhere)
            .filter_map(|a| a.example_value().map(|v| (a.name.clone(), v)))
            .collect();
        if self.confirm.is_some() {
            args.insert(CONFIRM.into(), Value::Bool(true));
        }
        args
    }

    /// The JSON Schema of the arguments (an object schema, unknown keys refused), for flat MCP tools.
    pub fn input_schema(&self) -> &Arc<Map<String, Value>> {
        self.schema.get_or_init(|| Arc::new(input_schema(&self.args)))
    }

    /// The MCP annotations derived from the risk class.
    pub fn annotations(&self) -> Annotations {
        Annotations {
            read_only: self.risk == Risk::Read,
            destructive: self.risk == Risk::Destructive,
            idempotent: self.risk == Risk::Read || self.idempotent,
            open_world: false,
        }
    }

    /// The declaration of argument `name`.
    pub fn arg(&self, name: &str) -> Option<&ArgDef> {
        self.args.iter().find(|a| a.name == name)
    }

    /// The arguments the params are built from: those given, and each absent argument's
    /// declared default. The policy decides on these, so a rule sees what is sent.
    pub fn effective_args(&self, args: &Map<String, Value>) -> Map<String, Value> {
        let mut effective = args.clone();
        for (i, def) in self.args.iter().enumerate() {
            if !effective.contains_key(&def.name)
                && let Some(value) = fallback(&self.args, i, args)
            {
                effective.insert(def.name.clone(), value);
            }
        }
        effective
    }

    /// False only when the action is gated and `confirm` is not exactly `true`.
    pub fn confirmed(&self, args: &Map<String, Value>) -> bool {
        self.confirm.is_none() || args.get(CONFIRM) == Some(&Value::Bool(true))
    }
}

/// The value of absent argument `i`: its declared default, else the argument given under its
/// other name (`same_as`), else its derived default (`default_from`).
pub(crate) fn fallback(defs: &[ArgDef], i: usize, args: &Map<String, Value>) -> Option<Value> {
    let def = defs.get(i)?;
    if let Some(default) = &def.default {
        return Some(default.clone());
    }
    let alias = defs.iter().find(|a| a.same_as.as_deref() == Some(def.name.as_str()));
    if let Some(value) = alias.and_then(|a| args.get(&a.name)) {
        return Some(value.clone());
    }
    def.default_from.as_ref().and_then(|d| d.derive(args))
}

/// The JSON Schema object for a list of arguments.
pub(crate) fn input_schema(args: &[ArgDef]) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::String("object".into()));
    let properties: Map<String, Value> = args.iter().map(|a| (a.name.clone(), a.schema())).collect();
    schema.insert("properties".into(), Value::Object(properties));
    // An argument another one stands for (`same_as`) may be given under either name.
    let aliased = |a: &ArgDef| args.iter().any(|o| o.same_as.as_deref() == Some(a.name.as_str()));
    let required: Vec<Value> = args
        .iter()
        .filter(|a| a.required && a.required_unless.is_none() && !aliased(a))
        .map(|a| Value::String(a.name.clone()))
        .collect();
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), Value::Bool(false));
    schema
}
