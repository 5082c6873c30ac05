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
    /// `x-loop-breaker`.
    LoopBreaker,
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
    (ROLLING, Location::Limit, "in a limit"),
    (COOLDOWN, Location::Limit, "in a limit"),
    (CONCURRENCY, Location::Limit, "in a limit"),
    (KEY, Location::Limit, "in a limit"),
    (AMOUNT, Location::Limit, "in a limit"),
    (LOOP_BREAKER, Location::Top, "at the top level"),
    (ROLLING, Location::LoopBreaker, "in `x-loop-breaker`"),
];

/// Maintenance windows: calls only inside one (a `tools` entry or a risk default object).
pub(crate) const WHEN: &str = "x-when";

/// `true` keeps listing tools the policy denies outright (flat mode).
pub(crate) const LIST_DENIED: &str = "x-list-denied";

/// A limit's rolling span (`10m`), instead of a calendar `window`.
pub(crate) const ROLLING: &str = "x-rolling";
/// A limit's minimum gap between two calls, in seconds.
pub(crate) const COOLDOWN: &str = "x-cooldown";
/// A limit on calls in flight at once.
pub(crate) const CONCURRENCY: &str = "x-concurrency";
/// The argument whose value splits a limit's counter.
pub(crate) const KEY: &str = "x-key";
/// The argument whose value a limit adds instead of 1.
pub(crate) const AMOUNT: &str = "x-amount";
/// The runaway-loop breaker (top level).
pub(crate) const LOOP_BREAKER: &str = "x-loop-breaker";
/// The longest rolling span or cooldown: 30 days, in seconds.
pub(crate) const MAX_SPAN_SECS: u64 = 30 * 86_400;
/// The largest `x-concurrency`.
pub(crate) const MAX_CONCURRENCY: u64 = 10_000;

/// Reads a span `<n>s|m|h|d` into seconds (1 s to 30 d); the error says what is wrong.
pub(crate) fn parse_span(text: &str) -> Result<u64, String> {
    let bad = || format!("must be a span like `90s`, `10m`, `2h` or `1d` (1 s to 30 d), found `{text}`");
    let unit = match text.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3_600,
        Some('d') => 86_400,
        _ => return Err(bad()),
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let secs = digits.parse::<u64>().ok().and_then(|n| n.checked_mul(unit)).ok_or_else(bad)?;
    if secs > MAX_SPAN_SECS {
        return Err(bad());
    }
    Ok(secs)
}

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
