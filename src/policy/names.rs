//! What a policy may name: actions of the catalog, middleware methods of the known TrueNAS
//! releases, the pseudo-actions `job_status` and `policy_status`, and the arguments each tool entry's predicates can
//! test. Names are compared exactly (no case folding, trimming or look-alike folding); a near
//! miss gets a "did you mean" suggestion.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::catalog::{ActionDef, ArgType, Catalog};
use crate::gateway::{JOB_STATUS, POLICY_STATUS};
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

/// The method the pseudo-action `job_status` calls.
pub(crate) const JOB_STATUS_METHOD: &str = "core.get_jobs";

/// The name of the hierarchical MCP tool itself, which `hide` cannot name.
const TOOL_NAME: &str = "truenas";

/// One argument a predicate may test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arg<'c> {
    pub(crate) name: &'c str,
    pub(crate) kind: ArgType,
    pub(crate) enum_values: Option<&'c [Value]>,
    /// Every call has it (declared required, or with a default the policy sees filled in), so
    /// `exists` on it always holds.
    pub(crate) always_given: bool,
}

/// An action a tool entry applies to, with its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Target<'c> {
    pub(crate) action: &'c str,
    pub(crate) risk: Risk,
    /// Every method it may call (for `hide` by method).
    pub(crate) methods: Vec<&'c str>,
    pub(crate) args: Vec<Arg<'c>>,
}

/// What a name under `tools` or in `hide` stands for.
#[derive(Debug, Clone)]
pub(crate) enum Tool<'c> {
    /// An action, or the pseudo-action `job_status`: one target.
    Action(Target<'c>),
    /// A middleware method: the non-raw actions that call it on some release.
    Method { name: &'c str, callers: Vec<Target<'c>> },
}

/// The names a policy may use, built from the catalog and the release method tables.
pub(crate) struct Vocabulary<'c> {
    catalog: &'c Catalog,
    methods: BTreeSet<&'static str>,
}

impl<'c> Vocabulary<'c> {
    pub(crate) fn new(catalog: &'c Catalog) -> Vocabulary<'c> {
        let methods = Release::KNOWN.iter().flat_map(|r| MethodTable::get(*r).names()).collect();
        Vocabulary { catalog, methods }
    }

    /// Resolves a key under `tools`, or says why it names nothing.
    pub(crate) fn tool<'a>(&'a self, name: &'a str) -> Result<Tool<'a>, String> {
        if name == JOB_STATUS {
            return Ok(Tool::Action(job_status()));
        }
        if name == POLICY_STATUS {
            return Ok(Tool::Action(policy_status()));
        }
        if let Some(def) = self.catalog.action(name) {
            return Ok(Tool::Action(target(def)));
        }
        if name == JOB_STATUS_METHOD || self.methods.contains(name) {
            let callers = self
                .catalog
                .actions()
                .filter(|a| !a.is_rest_call() && a.methods().any(|m| m.as_str() == name))
                .map(target)
                .chain((name == JOB_STATUS_METHOD).then(job_status))
                .collect();
            return Ok(Tool::Method { name, callers });
        }
        Err(self.unknown(name))
    }

    /// Checks one `hide` entry.
    pub(crate) fn hidden(&self, name: &str) -> Result<(), String> {
        if name == "*" {
            return Ok(());
        }
        if name == TOOL_NAME {
            return Err(format!(
                "`{TOOL_NAME}` is the name of the MCP tool itself, not an action; use `\"*\"` to hide every tool"
            ));
        }
        self.tool(name).map(|_| ())
    }

    fn unknown(&self, name: &str) -> String {
        let mut message = if name.contains('.') {
            format!("unknown middleware method `{name}` (in no TrueNAS release this server knows)")
        } else {
            format!("unknown action `{name}`")
        };
        if name.trim() != name {
            message.push_str("; names are not trimmed: remove the surrounding spaces");
        } else if !name.is_ascii() {
            message.push_str("; it contains a character that is not ASCII (a look-alike?)");
        }
        let candidates = self
            .catalog
            .actions()
            .map(|a| a.name.as_str())
            .chain([JOB_STATUS, JOB_STATUS_METHOD, POLICY_STATUS])
            .chain(self.methods.iter().copied());
        if let Some(best) = suggest(name, candidates) {
            message.push_str(&format!("; did you mean `{best}`?"));
        }
        message
    }
}

/// The closest candidate to `name`, if one is close enough to be a likely typo. Case and
/// surrounding spaces do not count toward the distance, so `VM_START` suggests `vm_start`.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.trim().to_lowercase();
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (distance(&wanted, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one
/// each (optimal string alignment).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows are enough.
    let mut before: Vec<usize> = Vec::new();
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

fn target(def: &ActionDef) -> Target<'_> {
    let mut args: Vec<Arg<'_>> = def
        .args
        .iter()
        .map(|a| Arg {
            name: &a.name,
            kind: a.kind,
            enum_values: a.enum_values.as_deref(),
            always_given: a.required || a.default.is_some(),
        })
        .collect();
    if def.confirm.is_some() && !args.iter().any(|a| a.name == "confirm") {
        args.push(Arg { name: "confirm", kind: ArgType::Boolean, enum_values: None, always_given: false });
    }
    Target { action: def.name.as_str(), risk: def.risk, methods: def.methods().map(|m| m.as_str()).collect(), args }
}

/// `job_status` takes the job's id (see `Gateway::read_job`).
fn job_status() -> Target<'static> {
    Target {
        action: JOB_STATUS,
        risk: Risk::Read,
        methods: vec![JOB_STATUS_METHOD],
        args: vec![Arg { name: "id", kind: ArgType::Integer, enum_values: None, always_given: true }],
    }
}

/// `policy_status` takes no arguments and calls no middleware method.
fn policy_status() -> Target<'static> {
    Target { action: POLICY_STATUS, risk: Risk::Read, methods: Vec::new(), args: Vec::new() }
}

impl<'c> Tool<'c> {
    /// The actions the entry applies to.
    pub(crate) fn targets(&self) -> &[Target<'c>] {
        match self {
            Tool::Action(t) => std::slice::from_ref(t),
            Tool::Method { callers, .. } => callers,
        }
    }
}

/// Checks a predicate path (`args.name[.more]`) against every target; `None` when it fits.
pub(crate) fn check_path(tool: &Tool<'_>, segments: &[String]) -> Option<String> {
    let targets: &[Target<'_>] = match tool {
        Tool::Action(t) => std::slice::from_ref(t),
        Tool::Method { name, callers } if callers.is_empty() => {
            return Some(format!(
                "no action calls method `{name}`, so there are no arguments a predicate could test; \
                 put the rule on an action, or hide the method"
            ));
        }
        Tool::Method { callers, .. } => callers,
    };
    let first = segments.first()?;
    for t in targets {
        match t.args.iter().find(|a| a.name == first.as_str()) {
            None => {
                let mut message = format!("`{}` has no argument `{first}`", t.action);
                if let Tool::Method { name, .. } = tool {
                    message.push_str(&format!(" (a method entry applies to every action that calls `{name}`)"));
                }
                match suggest(first, t.args.iter().map(|a| a.name)) {
                    Some(best) => message.push_str(&format!("; did you mean `args.{best}`?")),
                    None => {
                        let names: Vec<String> = t.args.iter().map(|a| format!("`{}`", a.name)).collect();
                        if names.is_empty() {
                            message.push_str("; it takes no arguments");
                        } else {
                            message.push_str(&format!("; its arguments are {}", names.join(", ")));
                        }
                    }
                }
                return Some(message);
            }
            Some(arg) if segments.len() > 1 && !matches!(arg.kind, ArgType::Object | ArgType::Array) => {
                return Some(format!(
                    "argument `{first}` of `{}` is {}, so the path cannot go deeper into it",
                    t.action,
                    arg.kind.with_article()
                ));
            }
            Some(_) => {}
        }
    }
    None
}
