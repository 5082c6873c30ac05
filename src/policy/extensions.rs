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
}

/// Every known `x-` extension and where it may appear: one table, so later extensions are
/// added here. An `x-` key not listed is a load error (an ignored extension could loosen a rule
/// its author meant to tighten).
pub(crate) const EXTENSIONS: &[(&str, Location, &str)] =
    &[("x-risk-defaults", Location::Top, "at the top level"), (ANY_JOB, Location::Tool, "in `tools.job_status`")];

/// Lets `job_status` read jobs this server did not start (only on the `job_status` entry).
pub(crate) const ANY_JOB: &str = "x-any-job";

/// The message for an `x-` key not known where it stands, listing every known extension.
pub(crate) fn unknown_extension(key: &str) -> String {
    let known: Vec<String> = EXTENSIONS.iter().map(|(name, _, place)| format!("`{name}` ({place})")).collect();
    format!("unknown extension `{key}`; the known extensions are {}", known.join(", "))
}
