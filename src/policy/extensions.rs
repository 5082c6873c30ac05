//! The `x-` extensions a policy may use, in one table with the place each may appear. Any
//! other `x-` key is a load error; later extensions are added to [`EXTENSIONS`].

/// Where in a document an object sits, for the extensions allowed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// The document itself.
    Top,
    /// `all_tools`.
    AllTools,
    /// One entry under `tools`.
    Tool,
    /// One predicate of `require` or `deny_if`.
    Predicate,
    /// One limit.
    Limit,
    /// `x-risk-defaults`.
    RiskDefaults,
    /// One entry of `x-risk-defaults` written as an object (`{"effect": ..., "x-when": ...}`).
    RiskDefault,
}

/// Every known `x-` extension and where it may appear: one table, so later extensions are
/// added here. An `x-` key not listed is a load error (an ignored extension could loosen a rule
/// its author meant to tighten).
pub(crate) const EXTENSIONS: &[(&str, Location, &str)] = &[
    ("x-risk-defaults", Location::Top, "at the top level"),
    (ANY_JOB, Location::Tool, "in `tools.job_status`"),
    (APPROVAL, Location::Tool, "in a `tools` entry"),
    (APPROVAL_TTL, Location::Top, "at the top level"),
    (APPROVAL_TTL, Location::Tool, "in a `tools` entry"),
    (APPROVAL_WAIT, Location::Top, "at the top level"),
    (APPROVAL_WAIT, Location::Tool, "in a `tools` entry"),
    (WHEN, Location::Tool, "in a `tools` entry"),
    (WHEN, Location::RiskDefault, "in an `x-risk-defaults` entry written as an object"),
    (LIST_DENIED, Location::Top, "at the top level"),
    (MODE, Location::Top, "at the top level"),
    (MODE, Location::Tool, "in a `tools` entry"),
];

/// Maintenance windows: calls only inside one (a `tools` entry or a risk default object).
pub(crate) const WHEN: &str = "x-when";

/// `true` keeps listing tools the policy denies outright (flat mode).
pub(crate) const LIST_DENIED: &str = "x-list-denied";

/// A call the entry allows needs a person's approval: `"always"` or a list of predicates.
pub(crate) const APPROVAL: &str = "x-approval";
/// Seconds an approval stays valid (top level, or a `tools` entry to override).
pub(crate) const APPROVAL_TTL: &str = "x-approval-ttl";
/// Seconds a call is held open waiting for an approval (top level, or a `tools` entry).
pub(crate) const APPROVAL_WAIT: &str = "x-approval-wait";
/// Default of [`APPROVAL_TTL`]: ten minutes.
pub(crate) const DEFAULT_APPROVAL_TTL: u64 = 600;
/// Largest [`APPROVAL_TTL`]: a day.
pub(crate) const MAX_APPROVAL_TTL: u64 = 86_400;
/// Largest [`APPROVAL_WAIT`]: an hour.
pub(crate) const MAX_APPROVAL_WAIT: u64 = 3_600;

/// `"enforce"` (the default) or `"shadow"`: the document's (or one entry's) denials and
/// approval needs are recorded (`would_deny`, `would_approve`) and the call goes through.
pub(crate) const MODE: &str = "x-mode";

/// Lets `job_status` read jobs this server did not start (only on the `job_status` entry).
pub(crate) const ANY_JOB: &str = "x-any-job";

/// The message for an `x-` key not known where it stands, listing every known extension.
pub(crate) fn unknown_extension(key: &str) -> String {
    // One item per name, its places joined: `x-approval-ttl` (at the top level or in a `tools` entry).
    let mut known: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, _, place) in EXTENSIONS {
        match known.iter_mut().find(|(n, _)| n == name) {
            Some((_, places)) => places.push(place),
            None => known.push((name, vec![place])),
        }
    }
    let known: Vec<String> = known.iter().map(|(name, places)| format!("`{name}` ({})", places.join(" or "))).collect();
    format!("unknown extension `{key}`; the known extensions are {}", known.join(", "))
}
