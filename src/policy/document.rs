//! The policy document as typed data: what `serde` reads once the loader has checked the raw
//! JSON, and what `policy/policy.schema.json` is generated from.
//!
//! The doc comments here become the schema's descriptions, so they speak to policy authors.
//! Every object refuses unknown keys, `x-` extensions included unless known where they stand;
//! serde itself ignores unknown keys because the loader has already refused them with their
//! JSON paths.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// A truenas-mcp policy: PolicyLayer's JSON format (version 1) plus extensions under `x-` keys.
/// Only the extensions documented here are accepted; any other key, `x-` or not, is an error.
/// Every name (action, method, `hide` entry, predicate argument) must exist in the tool set;
/// a file over 1 MiB is refused.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "truenas-mcp policy", extend("additionalProperties" = false))]
pub(crate) struct PolicyDocument {
    /// The schema this document follows, for editors; ignored by the engine.
    #[serde(default, rename = "$schema", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    #[allow(dead_code, reason = "read by editors, not by the engine")]
    pub(crate) schema: Option<String>,
    /// A note for humans; ignored by the engine.
    #[serde(default, rename = "$comment", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    #[allow(dead_code, reason = "read by people, not by the engine")]
    pub(crate) comment: Option<String>,
    /// Format version. Only `"1"` exists.
    pub(crate) version: Version,
    /// Free text for humans; ignored by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub(crate) description: Option<String>,
    /// What happens to a call whose action and method are not listed under `tools`.
    pub(crate) default: Effect,
    /// Tools removed from `tools/list` and denied at call time: action names (`vm_delete`),
    /// middleware methods (`vm.delete`), or `"*"` for every tool. Names must exist exactly
    /// (no case folding or trimming); `"truenas"`, the MCP tool's own name, is refused.
    #[serde(default)]
    pub(crate) hide: Vec<ToolName>,
    /// Rules that apply to every call that is otherwise allowed.
    #[serde(default)]
    pub(crate) all_tools: AllTools,
    /// Rules per action (`vm_start`) or per middleware method (a name containing a dot,
    /// `vm.start`). A call must pass the entry for its action and the entry for its method.
    /// An empty entry `{}` allows the tool under `default: deny`. `job_status` (reading a job
    /// through `truenas://jobs/{id}`, method `core.get_jobs`) and `policy_status` (what the
    /// caller may do and the limits it has left; read risk, no NAS method) are pseudo-actions.
    #[serde(default)]
    pub(crate) tools: BTreeMap<String, ToolRules>,
    /// Extension: the default decision per risk class, for actions not listed under `tools`.
    /// A class left out falls back to `default`.
    #[serde(default, rename = "x-risk-defaults")]
    pub(crate) risk_defaults: RiskDefaults,
    /// Extension: seconds an approval stays valid after it is asked for (default 600). A tool
    /// entry's own `x-approval-ttl` overrides it.
    #[serde(default, rename = "x-approval-ttl", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 86_400))]
    pub(crate) approval_ttl: Option<u64>,
    /// Extension: seconds a call that needs approval is held open waiting for a person's answer
    /// (default 0: answer at once with `[APPROVAL REQUIRED]`, and the agent repeats the call).
    /// A tool entry's own `x-approval-wait` overrides it.
    #[serde(default, rename = "x-approval-wait", skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 3_600))]
    pub(crate) approval_wait: Option<u64>,
    /// Extension: the runaway-loop breaker. The same action with the same arguments (compared
    /// canonically) more than `max` times in the span, per grant, is denied with a message
    /// telling the agent it is repeating itself (rule `/x-loop-breaker`). Absent or `false`: off.
    #[serde(default, rename = "x-loop-breaker", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "LoopBreakerSetting")]
    pub(crate) loop_breaker: Option<LoopBreakerSetting>,
    /// Extension: `true` keeps listing, in flat mode, the tools this policy denies outright
    /// (denied whatever the arguments: no entry and a deny default, or a limit of `max: 0`).
    /// By default they are left out of `tools/list`; called anyway, they answer with the
    /// denial. Hidden tools are never listed.
    #[serde(default, rename = "x-list-denied")]
    pub(crate) list_denied: bool,
    /// Extension: `"shadow"` makes every rule of the document advisory: a call it would deny,
    /// or put to a person, goes through, and its audit `decided` record says `would_deny` (the
    /// rule and reason) or `would_approve` (the rule). Hidden tools stay hidden. Default
    /// `"enforce"`.
    #[serde(default, rename = "x-mode", skip_serializing_if = "Option::is_none")]
    pub(crate) mode: Option<Mode>,
}

/// Extension `x-mode`: whether rules decide or only report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Rules decide (the default).
    Enforce,
    /// Rules only report what they would have decided; the call goes through.
    Shadow,
}

impl Mode {
    /// Every mode, in the order error messages list them.
    pub(crate) const ALL: [Mode; 2] = [Mode::Enforce, Mode::Shadow];

    /// The name used in documents.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Shadow => "shadow",
        }
    }
}

/// The format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub(crate) enum Version {
    /// Version 1, the only one.
    #[serde(rename = "1")]
    V1,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Effect {
    /// The call may proceed (limits still apply).
    Allow,
    /// The call is refused.
    Deny,
}

impl Effect {
    /// Every effect, in the order error messages list them.
    pub(crate) const ALL: [Effect; 2] = [Effect::Allow, Effect::Deny];

    /// The name used in documents.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

/// A tool name: an action, a middleware method, or `"*"` (only in `hide`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct ToolName(#[schemars(length(min = 1))] pub(crate) String);

/// Rules for every tool call.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct AllTools {
    /// Limits counted on every call that the rest of the policy allows.
    #[serde(default)]
    pub(crate) limits: Vec<Limit>,
}

/// The rules for one action or method.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct ToolRules {
    /// A note for humans; ignored by the engine.
    #[serde(default, rename = "$comment", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    #[allow(dead_code, reason = "read by people, not by the engine")]
    pub(crate) comment: Option<String>,
    /// Preconditions: every one must hold, or the call is denied. A missing argument makes a
    /// predicate false.
    #[serde(default)]
    pub(crate) require: Vec<Predicate>,
    /// Denials: the call is denied if any one holds. A missing argument makes a predicate false.
    #[serde(default)]
    pub(crate) deny_if: Vec<Predicate>,
    /// Limits counted on each allowed call of this tool.
    #[serde(default)]
    pub(crate) limits: Vec<Limit>,
    /// The message an agent sees when this entry denies a call, unless the predicate or limit
    /// that denied it has its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub(crate) on_deny: Option<String>,
    /// Extension, only on the `job_status` entry: `true` lets `truenas://jobs/{id}` read jobs
    /// this server did not start (other grants' jobs, the web UI's), with their arguments.
    /// Without it, only jobs started through this server by the same grant are served.
    #[serde(default, rename = "x-any-job")]
    pub(crate) any_job: bool,
    /// Extension: a call this entry allows must also be approved by a person first: `"always"`,
    /// or a list of predicates (same form as `require`) of which any one that holds asks for
    /// approval. Approval comes after every other rule: a call the policy denies is never put to
    /// a person. The agent's `confirm: true` is not an approval.
    #[serde(default, rename = "x-approval", skip_serializing_if = "Option::is_none")]
    pub(crate) approval: Option<Approval>,
    /// Extension: this entry's `x-approval-ttl` (seconds), overriding the top-level one.
    #[serde(default, rename = "x-approval-ttl", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 86_400))]
    pub(crate) approval_ttl: Option<u64>,
    /// Extension: this entry's `x-approval-wait` (seconds), overriding the top-level one.
    #[serde(default, rename = "x-approval-wait", skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 3_600))]
    pub(crate) approval_wait: Option<u64>,
    /// Extension: maintenance windows. Outside every window a call this entry applies to is
    /// denied (rule `/tools/<name>/x-when`) with the seconds until the next one opens. Checked
    /// after the entry's predicates, before limits and approval.
    #[serde(default, rename = "x-when", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "super::when::When")]
    pub(crate) when: Option<Value>,
    /// Extension: `"shadow"` makes this entry advisory: a call it would deny (a predicate or
    /// one of its limits) or put to a person goes through, and the audit `decided` record says
    /// `would_deny` or `would_approve`. Other entries and `all_tools` still decide.
    #[serde(default, rename = "x-mode", skip_serializing_if = "Option::is_none")]
    pub(crate) mode: Option<Mode>,
}

/// Extension `x-approval`: when a call needs a person's approval.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Approval {
    /// `"always"`: every call this entry allows.
    Always(AlwaysWord),
    /// Calls for which any one of these predicates holds.
    When(Vec<Predicate>),
}

/// The word `"always"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AlwaysWord {
    /// Every call.
    Always,
}

/// A test on one call argument. Its rule id is `<path>-<op>`, so a path and op pair appears
/// at most once per array.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct Predicate {
    /// A dot path into the call arguments, starting with `args.` (`args.name`, `args.options.force`).
    /// A numeric segment indexes an array. The first segment must be a declared argument of
    /// every action the entry applies to.
    #[schemars(pattern(r"^args(\.[^.]+)+$"))]
    pub(crate) path: String,
    /// The comparison.
    pub(crate) op: Op,
    /// What to compare with. `in`/`not_in` take an array (at most 1,000 values), `lt`/`lte`/`gt`/`gte` a number,
    /// `regex` a pattern string, `exists` an optional boolean (default `true`), `starts_with` and `glob`
    /// a string, `cidr` a CIDR string or an array of them, `len_lte`/`len_gte` a whole number,
    /// `between` `[lo, hi]`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub(crate) value: Value,
    /// The message an agent sees when this predicate denies a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub(crate) on_deny: Option<String>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Op {
    /// Equal (numbers compare by value).
    Eq,
    /// Not equal.
    Neq,
    /// Equal to one element of the array `value`.
    In,
    /// Equal to no element of the array `value`.
    NotIn,
    /// A number less than `value`.
    Lt,
    /// A number less than or equal to `value`.
    Lte,
    /// A number greater than `value`.
    Gt,
    /// A number greater than or equal to `value`.
    Gte,
    /// A string matching the regular expression `value` (unanchored; use `^` and `$`).
    Regex,
    /// A string containing the string `value`, or an array with an element equal to `value`.
    Contains,
    /// The argument is present (`value: true`, the default) or absent (`value: false`).
    Exists,
    /// A string starting with the string `value`.
    StartsWith,
    /// A string matching the glob `value` as a whole: `*` within one `/`-separated segment,
    /// `?` one character other than `/`, `**` (a whole segment) any number of segments. Path,
    /// dataset and snapshot arguments are canonical before any rule reads them, so `..` cannot
    /// walk out of a match.
    Glob,
    /// An IP address string inside the network `value` (a CIDR such as `10.0.0.0/8` or
    /// `fd00::/8`, or an array of them). An IPv4-mapped IPv6 address matches its IPv4 network.
    Cidr,
    /// At most `value` (a whole number) characters of a string, elements of an array or keys of
    /// an object.
    LenLte,
    /// At least `value` (a whole number) characters, elements or keys.
    LenGte,
    /// A number from `value[0]` to `value[1]`, both included (`[lo, hi]`, lo <= hi).
    Between,
}

impl Op {
    /// Every op, in the order error messages list them.
    pub(crate) const ALL: [Op; 17] = [
        Op::Eq,
        Op::Neq,
        Op::In,
        Op::NotIn,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::Regex,
        Op::Contains,
        Op::Exists,
        Op::StartsWith,
        Op::Glob,
        Op::Cidr,
        Op::LenLte,
        Op::LenGte,
        Op::Between,
    ];

    /// The name used in documents and rule ids.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Regex => "regex",
            Op::Contains => "contains",
            Op::Exists => "exists",
            Op::StartsWith => "starts_with",
            Op::Glob => "glob",
            Op::Cidr => "cidr",
            Op::LenLte => "len_lte",
            Op::LenGte => "len_gte",
            Op::Between => "between",
        }
    }
}

/// A quota on the calls the rest of the policy allows. Give exactly one bound: `window` (with
/// `max`), `x-rolling` (with `max`), `x-cooldown` or `x-concurrency`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct Limit {
    /// The counter's name, unique within its tool entry (or within `all_tools`). Its rule id is
    /// `/tools/<tool>/limits/<counter>` or `/all_tools/limits/<counter>`; counters are kept by
    /// rule id, so they survive a policy change that keeps it.
    #[schemars(length(min = 1))]
    pub(crate) counter: String,
    /// A calendar window; windows start on the minute, hour or day (UTC). Needs `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Window")]
    pub(crate) window: Option<Window>,
    /// Calls allowed per window or rolling span (with `x-amount`: the total amount); `0` blocks
    /// the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64")]
    pub(crate) max: Option<u64>,
    /// Whose calls share the counter.
    pub(crate) scope: Scope,
    /// The message an agent sees when this limit denies a call (a retry-after is appended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub(crate) on_deny: Option<String>,
    /// Extension: a rolling window instead of a calendar one: at most `max` in any span of
    /// this length, `<n>s`, `<n>m`, `<n>h` or `<n>d` (1 s to 30 d). Exact: a log per counter,
    /// not an approximation.
    #[serde(default, rename = "x-rolling", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(r"^[1-9][0-9]*[smhd]$"))]
    pub(crate) rolling: Option<String>,
    /// Extension: a cooldown: at least this many seconds (1 to 2,592,000) between two calls
    /// with the same counter (and `x-key` value). No `max`.
    #[serde(default, rename = "x-cooldown", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64", range(min = 1, max = 2_592_000))]
    pub(crate) cooldown: Option<u64>,
    /// Extension: at most this many calls in flight at once (1 to 10,000). No `max`.
    #[serde(default, rename = "x-concurrency", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64", range(min = 1, max = 10_000))]
    pub(crate) concurrency: Option<u64>,
    /// Extension: one counter per value of this argument (`args.id`: at most N per VM); an
    /// absent argument is a value of its own. Only in a `tools` entry; never a secret argument.
    #[serde(default, rename = "x-key", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(r"^args(\.[^.]+)+$"))]
    pub(crate) key: Option<String>,
    /// Extension: add this argument's value (a whole number, 0 or more) instead of 1, e.g.
    /// `args.volsize` for bytes of new zvols per day. Reserved before the call, refunded when
    /// nothing was sent; a missing or non-integer amount denies. Only with `window` or
    /// `x-rolling`, in a `tools` entry.
    #[serde(default, rename = "x-amount", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(r"^args(\.[^.]+)+$"))]
    pub(crate) amount: Option<String>,
}

/// Extension `x-loop-breaker`: `false`, or the most times the same action with the same
/// arguments may be called in a rolling span, per grant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum LoopBreakerSetting {
    /// `false`: off (as when absent). The loader refuses `true`.
    #[allow(dead_code, reason = "the loader has checked the value")]
    Off(#[schemars(with = "FalseWord")] bool),
    /// On.
    On(LoopBreakerRules),
}

/// The literal `false`.
#[derive(JsonSchema)]
#[schemars(extend("const" = false))]
#[allow(dead_code, reason = "only its schema is used")]
pub(crate) struct FalseWord(bool);

/// The loop breaker's bound.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct LoopBreakerRules {
    /// The most identical calls in the span (1 or more); one more is denied.
    #[schemars(range(min = 1))]
    pub(crate) max: u64,
    /// The span: `<n>s`, `<n>m`, `<n>h` or `<n>d` (1 s to 30 d).
    #[serde(rename = "x-rolling")]
    #[schemars(pattern(r"^[1-9][0-9]*[smhd]$"))]
    pub(crate) rolling: String,
}

/// A fixed window, aligned to the Unix epoch in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Window {
    /// From second 0 of each minute.
    Minute,
    /// From minute 0 of each hour.
    Hour,
    /// From midnight UTC.
    Day,
}

impl Window {
    /// Every window, in the order error messages list them.
    pub(crate) const ALL: [Window; 3] = [Window::Minute, Window::Hour, Window::Day];

    /// The name used in documents.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
        }
    }

    /// The window's length in seconds.
    pub(crate) fn seconds(self) -> u64 {
        match self {
            Window::Minute => 60,
            Window::Hour => 3_600,
            Window::Day => 86_400,
        }
    }
}

/// Whose calls a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    /// One counter per grant (a stdio session, or a bearer token over HTTP).
    Grant,
    /// One counter for the whole server, across grants.
    Server,
}

impl Scope {
    /// Every scope, in the order error messages list them.
    pub(crate) const ALL: [Scope; 2] = [Scope::Grant, Scope::Server];

    /// The name used in documents.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Grant => "grant",
            Scope::Server => "server",
        }
    }
}

/// What `x-risk-defaults` may say for a risk class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RiskEffect {
    /// The call may proceed (limits still apply).
    Allow,
    /// The call is refused.
    Deny,
    /// The call may proceed once a person approves it (limits still apply).
    Approve,
}

impl RiskEffect {
    /// Every effect, in the order error messages list them.
    pub(crate) const ALL: [RiskEffect; 3] = [RiskEffect::Allow, RiskEffect::Deny, RiskEffect::Approve];

    /// The name used in documents.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RiskEffect::Allow => "allow",
            RiskEffect::Deny => "deny",
            RiskEffect::Approve => "approve",
        }
    }
}

/// A risk default: the effect alone, or the effect with maintenance windows.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum RiskDefault {
    /// `"allow"`, `"deny"` or `"approve"`.
    Effect(RiskEffect),
    /// `{"effect": "allow", "x-when": {...}}`: outside every window the class is denied (rule
    /// `/x-risk-defaults/<risk>/x-when`).
    Windowed(WindowedEffect),
}

/// A risk default written as an object.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct WindowedEffect {
    /// A note for humans; ignored by the engine.
    #[serde(default, rename = "$comment", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    #[allow(dead_code, reason = "read by people, not by the engine")]
    pub(crate) comment: Option<String>,
    /// The effect inside the windows.
    pub(crate) effect: RiskEffect,
    /// Extension: maintenance windows (as on a `tools` entry).
    #[serde(default, rename = "x-when", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "super::when::When")]
    pub(crate) when: Option<Value>,
}

impl RiskDefault {
    /// The effect, in or without windows.
    pub(crate) fn effect(&self) -> RiskEffect {
        match self {
            RiskDefault::Effect(e) => *e,
            RiskDefault::Windowed(w) => w.effect,
        }
    }

    /// The `x-when` value, if the default has one.
    pub(crate) fn when(&self) -> Option<&Value> {
        match self {
            RiskDefault::Effect(_) => None,
            RiskDefault::Windowed(w) => w.when.as_ref(),
        }
    }
}

/// Extension `x-risk-defaults`: the default decision per risk class.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub(crate) struct RiskDefaults {
    /// A note for humans; ignored by the engine.
    #[serde(default, rename = "$comment", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    #[allow(dead_code, reason = "read by people, not by the engine")]
    pub(crate) comment: Option<String>,
    /// For actions that only read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RiskDefault")]
    pub(crate) read: Option<RiskDefault>,
    /// For actions that change state in a way that can be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RiskDefault")]
    pub(crate) write: Option<RiskDefault>,
    /// For actions that can lose data or availability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RiskDefault")]
    pub(crate) destructive: Option<RiskDefault>,
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
