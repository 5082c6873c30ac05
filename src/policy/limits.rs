//! Rate limits: what each limit of a policy charges a call (calendar windows, rolling windows,
//! cooldowns, calls in flight, optionally split per argument value with `x-key` and weighted
//! by an argument with `x-amount`), the loop breaker, and the denials an agent reads.
//!
//! The numbers live in a [`CounterStore`] (memory, file or Redis): a call's charges are
//! reserved there all or nothing. Counter keys name rules, not positions
//! (`<rule id>|<grant or *>|<x-key value>`), so counts outlive a policy reload or a restart as
//! long as the rule keeps its id. A [`Reservation`] refunds on [`Reservation::rollback`]
//! (nothing reached the NAS) and ends its in-flight leases when dropped (the call finished).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::decision::Denial;
use super::document::{Scope, Window};
use super::predicate::lookup;
use crate::ids::{GrantId, RuleId};
use crate::state::counters::{Charge, ChargeKind, CounterStore, Refusal, Ticket};

/// Rule id of the loop breaker.
pub(crate) const LOOP_BREAKER: &str = "/x-loop-breaker";
/// How long a lease of a call in flight lives if its process dies before releasing it.
const LEASE_MS: u64 = 15 * 60 * 1_000;
/// A key value longer than this is replaced by its SHA-256.
const MAX_KEY_VALUE: usize = 64;

/// How one limit is bounded.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    /// `window` + `max`: a calendar window.
    Window { window: Window, max: u64 },
    /// `x-rolling` + `max`: any span of `len_ms`; `text` as written (`10m`).
    Rolling { text: String, len_ms: u64, max: u64 },
    /// `x-cooldown`: a minimum gap between two calls.
    Cooldown { secs: u64 },
    /// `x-concurrency`: calls in flight at once.
    Concurrency { max: u64 },
}

/// An argument path a limit reads (`args.id`).
#[derive(Debug, Clone)]
pub(crate) struct ArgPath {
    /// As written, for messages.
    pub(crate) path: String,
    /// Below `args`, split at dots.
    pub(crate) segments: Vec<String>,
}

/// One limit of the policy.
#[derive(Debug)]
pub(crate) struct LimitSpec {
    /// `/tools/<tool>/limits/<counter>` or `/all_tools/limits/<counter>`.
    pub(crate) rule: RuleId,
    pub(crate) counter: String,
    pub(crate) bound: Bound,
    pub(crate) scope: Scope,
    /// The limit's own `on_deny`, else its tool entry's.
    pub(crate) on_deny: Option<String>,
    /// `x-key`: one counter per value of this argument.
    pub(crate) key: Option<ArgPath>,
    /// `x-amount`: this argument's value is added instead of 1.
    pub(crate) amount: Option<ArgPath>,
}

impl LimitSpec {
    /// `10 per minute`, `3 in any 10m for each `args.id``, `2 in flight at once across all grants`.
    pub(crate) fn describe(&self) -> String {
        let what = |max: u64| match &self.amount {
            Some(p) => format!("{max} of `{}`", p.path),
            None => max.to_string(),
        };
        let mut text = match &self.bound {
            Bound::Window { window, max } => format!("{} per {}", what(*max), window.as_str()),
            Bound::Rolling { text, max, .. } => format!("{} in any {text}", what(*max)),
            Bound::Cooldown { secs } => format!("one call every {secs} s"),
            Bound::Concurrency { max } => format!("{max} in flight at once"),
        };
        if let Some(key) = &self.key {
            text.push_str(&format!(" for each `{}`", key.path));
        }
        if self.scope == Scope::Server {
            text.push_str(" across all grants");
        }
        text
    }

    /// The counter's kind and bound at `now_ms`.
    fn kind(&self, now_ms: u64) -> ChargeKind {
        match &self.bound {
            Bound::Window { window, max } => {
                let len_ms = window.seconds() * 1_000;
                ChargeKind::Fixed { start_ms: now_ms - now_ms % len_ms, len_ms, max: *max }
            }
            Bound::Rolling { len_ms, max, .. } => ChargeKind::Rolling { len_ms: *len_ms, max: *max },
            Bound::Cooldown { secs } => ChargeKind::Rolling { len_ms: secs.saturating_mul(1_000), max: 1 },
            Bound::Concurrency { max } => ChargeKind::InFlight { max: *max, lease_ms: LEASE_MS },
        }
    }

    fn counter_key(&self, grant: &GrantId, value: &str) -> String {
        let who = match self.scope {
            Scope::Grant => grant.as_str(),
            Scope::Server => "*",
        };
        format!("{}|{who}|{value}", self.rule.as_str())
    }
}

/// `x-loop-breaker`: the same action with the same arguments at most `max` times in any span.
#[derive(Debug, Clone)]
pub(crate) struct LoopBreaker {
    pub(crate) max: u64,
    pub(crate) len_ms: u64,
    /// The span as written (`2m`).
    pub(crate) text: String,
}

/// The remaining budget of one limit for a grant (`policy_status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The limit's rule id.
    pub rule: RuleId,
    /// What it allows, in words (`10 per hour`).
    pub describe: String,
    /// What is left now; `None` for counters split per argument value (`x-key`) or per call.
    pub remaining: Option<u64>,
    /// When a calendar window resets; `None` for the other forms.
    pub resets_in: Option<Duration>,
}

/// One call, as the limiter reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) grant: &'a GrantId,
    pub(crate) action: &'a str,
    pub(crate) args: &'a Map<String, Value>,
    /// Arguments whose value cannot be told (a raw call's twin).
    pub(crate) unknown: Option<&'a BTreeSet<String>>,
    /// Whether the loop breaker counts this decision (not again for a raw call's twins).
    pub(crate) breaker: bool,
}

/// Limits to charge, and whether the call's arguments can be read for them (not for a method
/// entry counted on a raw call: the raw call's arguments are not the method's).
pub(crate) type Group<'a> = (&'a [usize], bool);

/// Every limit of a policy, and the store of its counters.
pub(crate) struct Limiter {
    specs: Vec<LimitSpec>,
    breaker: Option<LoopBreaker>,
    store: Arc<dyn CounterStore>,
}

/// What one allowed call took. Dropping it keeps the counts and ends its leases;
/// [`Reservation::rollback`] gives everything back.
pub(crate) struct Reservation {
    store: Arc<dyn CounterStore>,
    ticket: Option<Ticket>,
    leases: bool,
}

/// Where a charge came from, to word its denial.
#[derive(Debug, Clone, Copy)]
enum Source {
    Spec(usize),
    Breaker,
}

impl Limiter {
    pub(crate) fn new(specs: Vec<LimitSpec>, breaker: Option<LoopBreaker>, store: Arc<dyn CounterStore>) -> Limiter {
        Limiter { specs, breaker, store }
    }

    pub(crate) fn store(&self) -> &Arc<dyn CounterStore> {
        &self.store
    }

    /// Takes every charge of the limits in `groups` (and the loop breaker's), or none of them
    /// and says why. `Ok(None)` when nothing applies.
    pub(crate) fn reserve(
        &self,
        groups: &[Group<'_>],
        call: &Call<'_>,
        now: SystemTime,
    ) -> Result<Option<Reservation>, Denial> {
        let applicable = || {
            groups
                .iter()
                .flat_map(|(g, readable)| g.iter().map(move |&i| (i, *readable)))
                .filter(|(i, _)| *i < self.specs.len())
        };
        let breaker = self.breaker.as_ref().filter(|_| call.breaker);
        if applicable().next().is_none() && breaker.is_none() {
            return Ok(None);
        }
        let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
            let rule = applicable().next().map_or(RuleId::new(LOOP_BREAKER), |(i, _)| self.specs[i].rule.clone());
            let reason = "the clock reads before 1970, so the limits cannot be checked".to_owned();
            return Err(Denial { rule, reason, retry_after: None });
        };
        let now_ms = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);

        let mut charges = Vec::new();
        let mut sources = Vec::new();
        let mut leases = false;
        for (i, readable) in applicable() {
            let spec = &self.specs[i];
            let value = match &spec.key {
                None => String::new(),
                Some(path) => key_value(spec, path, call, readable)?,
            };
            let amount = match &spec.amount {
                None => 1,
                Some(path) => amount_value(spec, path, call, readable)?,
            };
            let kind = spec.kind(now_ms);
            leases |= matches!(kind, ChargeKind::InFlight { .. });
            charges.push(Charge { key: spec.counter_key(call.grant, &value), amount, kind });
            sources.push(Source::Spec(i));
        }
        if let Some(b) = breaker {
            let mut canonical = String::new();
            if let Err(e) = crate::jcs::write_object(call.args, &mut canonical) {
                let reason = format!("the loop breaker cannot read the arguments: {e}");
                return Err(Denial { rule: RuleId::new(LOOP_BREAKER), reason, retry_after: None });
            }
            let digest = super::audit::sha256_hex(canonical.as_bytes());
            let key = format!("{LOOP_BREAKER}|{}|{}:{digest}", call.grant.as_str(), call.action);
            charges.push(Charge { key, amount: 1, kind: ChargeKind::Rolling { len_ms: b.len_ms, max: b.max } });
            sources.push(Source::Breaker);
        }

        match self.store.reserve(&charges, now_ms) {
            Ok(ticket) => Ok(Some(Reservation { store: Arc::clone(&self.store), ticket: Some(ticket), leases })),
            Err(Refusal::Exceeded { index, retry_after_ms }) => {
                let retry_after = retry_after_ms.map(Duration::from_millis);
                Err(match sources.get(index) {
                    Some(Source::Spec(i)) => self.denial(&self.specs[*i], retry_after),
                    Some(Source::Breaker) | None => breaker_denial(breaker, call.action, retry_after),
                })
            }
            Err(Refusal::Unavailable(why)) => {
                let rule = match sources.first() {
                    Some(Source::Spec(i)) => self.specs[*i].rule.clone(),
                    _ => RuleId::new(LOOP_BREAKER),
                };
                let reason = format!("the limits cannot be checked, so the call is refused: {why}");
                Err(Denial { rule, reason, retry_after: None })
            }
        }
    }

    fn denial(&self, spec: &LimitSpec, retry_after: Option<Duration>) -> Denial {
        let wait = retry_after.map(whole_seconds_up);
        let (base, suffix, retry_after) = match (&spec.bound, wait) {
            (Bound::Window { max: 0, .. } | Bound::Rolling { max: 0, .. }, _) => {
                (format!("limit `{}` allows no calls", spec.counter), String::new(), None)
            }
            (Bound::Window { .. } | Bound::Rolling { .. }, None) => (
                format!(
                    "limit `{}`: this call alone is more than the limit allows ({})",
                    spec.counter,
                    spec.describe()
                ),
                String::new(),
                None,
            ),
            (Bound::Window { .. } | Bound::Rolling { .. }, Some(s)) => (
                format!("limit `{}` reached: {}", spec.counter, spec.describe()),
                format!("; retry after {s} s"),
                retry_after,
            ),
            (Bound::Cooldown { .. }, _) => (
                format!("limit `{}` is cooling down: {}", spec.counter, spec.describe()),
                format!("; wait {} s before calling again", wait.unwrap_or(1)),
                retry_after,
            ),
            (Bound::Concurrency { max }, _) => (
                format!("limit `{}` reached: {max} calls already in flight ({})", spec.counter, spec.describe()),
                "; retry when one of them finishes".to_owned(),
                None,
            ),
        };
        let base = spec.on_deny.clone().unwrap_or(base);
        Denial { rule: spec.rule.clone(), reason: format!("{base}{suffix}"), retry_after }
    }

    /// The limit at index `i`.
    pub(crate) fn spec(&self, i: usize) -> Option<&LimitSpec> {
        self.specs.get(i)
    }

    /// Each limit of `groups`, with what is left of it for `grant` at `now` (`None` for a
    /// counter split per key, or a store that cannot answer) and its description, for
    /// `policy explain`.
    pub(crate) fn usage(
        &self,
        groups: &[Group<'_>],
        grant: &GrantId,
        now: SystemTime,
    ) -> Vec<(RuleId, Option<u64>, String)> {
        let budgets = self.budgets(grant, now);
        groups
            .iter()
            .flat_map(|(g, _)| g.iter())
            .filter_map(|&i| budgets.get(i).map(|b| (b.rule.clone(), b.remaining, b.describe.clone())))
            .collect()
    }

    /// The remaining budget of every limit for `grant` at `now`.
    pub(crate) fn budgets(&self, grant: &GrantId, now: SystemTime) -> Vec<Budget> {
        let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let plain: Vec<(usize, Charge)> = self
            .specs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.key.is_none())
            .map(|(i, s)| (i, Charge { key: s.counter_key(grant, ""), amount: 1, kind: s.kind(now_ms) }))
            .collect();
        let charges: Vec<Charge> = plain.iter().map(|(_, c)| c.clone()).collect();
        // A store that cannot answer reports no remaining budget rather than a made-up one.
        let left = self.store.remaining(&charges, now_ms).unwrap_or_default();
        let mut out: Vec<Budget> = self
            .specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let remaining = plain.iter().position(|(j, _)| *j == i).and_then(|p| left.get(p).copied());
                let resets_in = match (&spec.bound, spec.kind(now_ms)) {
                    // A window that admits nothing never resets into one that admits a call.
                    (Bound::Window { max, .. }, ChargeKind::Fixed { start_ms, len_ms, .. }) if *max > 0 => {
                        Some(Duration::from_millis(start_ms.saturating_add(len_ms).saturating_sub(now_ms)))
                    }
                    _ => None,
                };
                Budget { rule: spec.rule.clone(), describe: spec.describe(), remaining, resets_in }
            })
            .collect();
        if let Some(b) = &self.breaker {
            out.push(Budget {
                rule: RuleId::new(LOOP_BREAKER),
                describe: format!("the same call at most {} times in any {}", b.max, b.text),
                remaining: None,
                resets_in: None,
            });
        }
        out
    }

    /// Amount taken so far by a plain (not keyed) limit (for tests).
    #[cfg(test)]
    pub(crate) fn used(&self, limit: usize, grant: &GrantId, now: SystemTime) -> u64 {
        let Some(spec) = self.specs.get(limit) else { return 0 };
        let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let kind = spec.kind(now_ms);
        let max = match kind {
            ChargeKind::Fixed { max, .. } | ChargeKind::Rolling { max, .. } | ChargeKind::InFlight { max, .. } => max,
        };
        let charge = Charge { key: spec.counter_key(grant, ""), amount: 1, kind };
        max - self.store.remaining(&[charge], now_ms).map_or(0, |r| r[0])
    }
}

/// The counter key part for `x-key`: the JCS of the value, hashed when long; `(absent)`.
fn key_value(spec: &LimitSpec, path: &ArgPath, call: &Call<'_>, readable: bool) -> Result<String, Denial> {
    let found = readable_value(spec, path, call, readable, "counts by")?;
    let Some(value) = found else { return Ok("(absent)".to_owned()) };
    let text = crate::jcs::to_string(value).map_err(|e| Denial {
        rule: spec.rule.clone(),
        reason: format!("limit `{}` cannot read `{}`: {e}", spec.counter, path.path),
        retry_after: None,
    })?;
    Ok(if text.len() > MAX_KEY_VALUE { format!("sha256:{}", super::audit::sha256_hex(text.as_bytes())) } else { text })
}

/// The amount `x-amount` adds: a whole number, 0 or more.
fn amount_value(spec: &LimitSpec, path: &ArgPath, call: &Call<'_>, readable: bool) -> Result<u64, Denial> {
    let found = readable_value(spec, path, call, readable, "adds up")?;
    let deny = |what: &str| Denial {
        rule: spec.rule.clone(),
        reason: format!("limit `{}` adds up `{}`, which {what}", spec.counter, path.path),
        retry_after: None,
    };
    match found {
        None => Err(deny("is missing")),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| deny("is not a whole number, 0 or more")),
        Some(_) => Err(deny("is not a whole number, 0 or more")),
    }
}

/// The argument's value, `None` when absent; a denial when it cannot be told.
fn readable_value<'a>(
    spec: &LimitSpec,
    path: &ArgPath,
    call: &Call<'a>,
    readable: bool,
    verb: &str,
) -> Result<Option<&'a Value>, Denial> {
    let first = path.segments.first().map_or("", String::as_str);
    if !readable || call.unknown.is_some_and(|u| u.contains(first)) {
        return Err(Denial {
            rule: spec.rule.clone(),
            reason: format!(
                "limit `{}` {verb} `{}`, which cannot be told from this raw call; call the action instead",
                spec.counter, path.path
            ),
            retry_after: None,
        });
    }
    Ok(lookup(call.args, &path.segments))
}

fn breaker_denial(breaker: Option<&LoopBreaker>, action: &str, retry_after: Option<Duration>) -> Denial {
    let (max, span) = breaker.map_or((0, String::new()), |b| (b.max, b.text.clone()));
    let wait = retry_after.map_or(String::new(), |d| format!("; retry after {} s", whole_seconds_up(d)));
    Denial {
        rule: RuleId::new(LOOP_BREAKER),
        reason: format!(
            "you are repeating the same call: `{action}` with the same arguments more than {max} times in {span}; \
             it is not working, so change course (other arguments, another action, or ask the user) instead of \
             retrying{wait}"
        ),
        retry_after,
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter").field("specs", &self.specs).field("breaker", &self.breaker).finish_non_exhaustive()
    }
}

impl Reservation {
    /// Gives back everything the call took (nothing reached the NAS).
    pub(crate) fn rollback(mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.store.refund(&ticket);
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.leases
            && let Some(ticket) = self.ticket.take()
        {
            self.store.release(&ticket);
        }
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation").field("ticket", &self.ticket).finish_non_exhaustive()
    }
}

/// Whole seconds, rounded up: 29.5 s reads as 30 s.
pub(crate) fn whole_seconds_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
