//! Rate limits: counters in fixed, calendar-aligned UTC windows, reserved all or nothing when a
//! call is allowed and refunded by [`Reservation::rollback`] when nothing reached the NAS.
//!
//! One mutex guards every counter. A decision holds it for a few hash lookups, which keeps
//! reservation atomic across the limits of a call without any lock ordering to get wrong.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::decision::Denial;
use super::document::{Scope, Window};
use crate::ids::{GrantId, RuleId};

/// How often (in seconds of policy time) counters of past windows are dropped.
const PRUNE_EVERY_SECS: u64 = 60;

/// One limit of the policy.
#[derive(Debug)]
pub(crate) struct LimitSpec {
    /// `/tools/<tool>/limits/<counter>` or `/all_tools/limits/<counter>`.
    pub(crate) rule: RuleId,
    pub(crate) counter: String,
    pub(crate) window: Window,
    pub(crate) max: u64,
    pub(crate) scope: Scope,
    /// The limit's own `on_deny`, else its tool entry's.
    pub(crate) on_deny: Option<String>,
}

impl LimitSpec {
    /// `10 per minute`, `100 per day across all grants`.
    pub(crate) fn describe(&self) -> String {
        let across = match self.scope {
            Scope::Grant => "",
            Scope::Server => " across all grants",
        };
        format!("{} per {}{across}", self.max, self.window.as_str())
    }
}

/// Every limit of a policy and its counters.
pub(crate) struct Limiter {
    specs: Vec<LimitSpec>,
    state: Mutex<State>,
}

struct State {
    /// Indexed like `specs`.
    counters: Vec<Counters>,
    /// Policy time (Unix seconds) at which stale grant counters are next dropped.
    next_prune: u64,
}

#[derive(Default)]
struct Counters {
    /// Used when the limit's scope is `server`.
    server: Count,
    /// Used when the limit's scope is `grant`.
    grants: HashMap<String, Count>,
}

/// Calls counted in one window. A count from an older window reads as zero.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    window_start: u64,
    used: u64,
}

impl Count {
    fn used_in(&self, window_start: u64) -> u64 {
        if self.window_start == window_start { self.used } else { 0 }
    }

    fn add_one(&mut self, window_start: u64) {
        if self.window_start != window_start {
            *self = Count { window_start, used: 0 };
        }
        self.used += 1;
    }
}

/// Slots taken by one allowed call. Dropping it keeps them (the call counted); `rollback`
/// gives them back.
pub(crate) struct Reservation {
    limiter: Arc<Limiter>,
    slots: Vec<Slot>,
}

#[derive(Debug)]
struct Slot {
    limit: usize,
    /// `None` for a server-scoped limit.
    grant: Option<String>,
    window_start: u64,
}

/// A limit that would be exceeded, and how long until its window resets (`None`: never, as
/// with `max: 0`).
struct Exceeded {
    limit: usize,
    retry_after: Option<Duration>,
}

impl Limiter {
    pub(crate) fn new(specs: Vec<LimitSpec>) -> Limiter {
        let counters = specs.iter().map(|_| Counters::default()).collect();
        Limiter { specs, state: Mutex::new(State { counters, next_prune: 0 }) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a count half-written, so the state
        // is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one slot of every limit in `groups` for `grant`, or none of them if any limit
    /// would go over its `max`. `Ok(None)` when no limit applies.
    pub(crate) fn reserve(
        self: &Arc<Self>,
        groups: &[&[usize]],
        grant: &GrantId,
        now: SystemTime,
    ) -> Result<Option<Reservation>, Denial> {
        let applicable = || groups.iter().flat_map(|g| g.iter().copied()).filter(|&i| i < self.specs.len());
        let Some(first) = applicable().next() else {
            return Ok(None);
        };
        let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
            let spec = &self.specs[first];
            return Err(Denial {
                rule: spec.rule.clone(),
                reason: format!("the clock reads before 1970, so limit `{}` cannot be checked", spec.counter),
                retry_after: None,
            });
        };
        let secs = since_epoch.as_secs();
        let mut state = self.lock();
        if secs >= state.next_prune {
            self.prune(&mut state, secs);
        }

        // First pass: find every limit this call would exceed, changing nothing.
        let mut worst: Option<Exceeded> = None;
        for i in applicable() {
            let spec = &self.specs[i];
            let start = window_start(secs, spec.window);
            let used = match spec.scope {
                Scope::Server => state.counters[i].server.used_in(start),
                Scope::Grant => state.counters[i].grants.get(grant.as_str()).map_or(0, |c| c.used_in(start)),
            };
            if used < spec.max {
                continue;
            }
            let retry_after =
                (spec.max > 0).then(|| Duration::from_secs(start + spec.window.seconds()).saturating_sub(since_epoch));
            // Report the limit that binds longest: one that never resets, else the latest reset.
            let binds_longer = match (&worst, retry_after) {
                (None, _) => true,
                (Some(w), None) => w.retry_after.is_some(),
                (Some(w), Some(r)) => w.retry_after.is_some_and(|wr| r > wr),
            };
            if binds_longer {
                worst = Some(Exceeded { limit: i, retry_after });
            }
        }
        if let Some(exceeded) = worst {
            return Err(self.denial(exceeded));
        }

        // Second pass: every limit has room; take one slot of each.
        let mut slots = Vec::new();
        for i in applicable() {
            let spec = &self.specs[i];
            let start = window_start(secs, spec.window);
            let counters = &mut state.counters[i];
            let slot_grant = match spec.scope {
                Scope::Server => {
                    counters.server.add_one(start);
                    None
                }
                Scope::Grant => {
                    match counters.grants.get_mut(grant.as_str()) {
                        Some(count) => count.add_one(start),
                        None => {
                            counters.grants.insert(grant.as_str().to_owned(), Count { window_start: start, used: 1 });
                        }
                    }
                    Some(grant.as_str().to_owned())
                }
            };
            slots.push(Slot { limit: i, grant: slot_grant, window_start: start });
        }
        Ok(Some(Reservation { limiter: Arc::clone(self), slots }))
    }

    /// Each limit of `groups`, with what `grant` has used of it in the window containing `now`
    /// and its description (`10 per minute`), for `policy explain`.
    pub(crate) fn usage(&self, groups: &[&[usize]], grant: &GrantId, now: SystemTime) -> Vec<(RuleId, u64, String)> {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let state = self.lock();
        let applicable = groups.iter().flat_map(|g| g.iter().copied());
        applicable
            .filter_map(|i| {
                let spec = self.specs.get(i)?;
                let start = window_start(secs, spec.window);
                let used = match spec.scope {
                    Scope::Server => state.counters.get(i)?.server.used_in(start),
                    Scope::Grant => state.counters.get(i)?.grants.get(grant.as_str()).map_or(0, |c| c.used_in(start)),
                };
                Some((spec.rule.clone(), used, spec.describe()))
            })
            .collect()
    }

    fn denial(&self, exceeded: Exceeded) -> Denial {
        let spec = &self.specs[exceeded.limit];
        let base = match (&spec.on_deny, spec.max) {
            (Some(text), _) => text.clone(),
            (None, 0) => format!("limit `{}` allows no calls", spec.counter),
            (None, _) => format!("limit `{}` reached: {}", spec.counter, spec.describe()),
        };
        let reason = match exceeded.retry_after {
            Some(wait) => format!("{base}; retry after {} s", whole_seconds_up(wait)),
            None => base,
        };
        Denial { rule: spec.rule.clone(), reason, retry_after: exceeded.retry_after }
    }

    /// Drops grant counters whose window has ended.
    fn prune(&self, state: &mut State, secs: u64) {
        for (spec, counters) in self.specs.iter().zip(state.counters.iter_mut()) {
            let current = window_start(secs, spec.window);
            counters.grants.retain(|_, count| count.window_start >= current);
        }
        state.next_prune = secs.saturating_add(PRUNE_EVERY_SECS);
    }

    /// The limit at index `i`.
    pub(crate) fn spec(&self, i: usize) -> Option<&LimitSpec> {
        self.specs.get(i)
    }

    /// Every limit, indexed as the tool entries name them.
    pub(crate) fn specs(&self) -> &[LimitSpec] {
        &self.specs
    }

    /// Calls counted for `grant` (everyone's, for a server-scoped limit) in limit `i`'s window
    /// containing `secs` (Unix seconds).
    pub(crate) fn used_at(&self, i: usize, grant: &GrantId, secs: u64) -> u64 {
        let Some(spec) = self.specs.get(i) else { return 0 };
        let start = window_start(secs, spec.window);
        let state = self.lock();
        let Some(counters) = state.counters.get(i) else { return 0 };
        match spec.scope {
            Scope::Server => counters.server.used_in(start),
            Scope::Grant => counters.grants.get(grant.as_str()).map_or(0, |c| c.used_in(start)),
        }
    }

    /// Calls counted so far in the window containing `now` (for tests and introspection).
    #[cfg(test)]
    pub(crate) fn used(&self, limit: usize, grant: &GrantId, now: SystemTime) -> u64 {
        let Some(spec) = self.specs.get(limit) else { return 0 };
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let start = window_start(secs, spec.window);
        let state = self.lock();
        match spec.scope {
            Scope::Server => state.counters[limit].server.used_in(start),
            Scope::Grant => state.counters[limit].grants.get(grant.as_str()).map_or(0, |c| c.used_in(start)),
        }
    }

    #[cfg(test)]
    pub(crate) fn tracked_grants(&self) -> usize {
        self.lock().counters.iter().map(|c| c.grants.len()).sum()
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter").field("specs", &self.specs).finish_non_exhaustive()
    }
}

impl Reservation {
    /// Gives back every slot still in its window; a slot whose window has passed needs no refund.
    pub(crate) fn rollback(self) {
        let mut state = self.limiter.lock();
        for slot in &self.slots {
            let Some(counters) = state.counters.get_mut(slot.limit) else { continue };
            let count = match &slot.grant {
                None => Some(&mut counters.server),
                Some(grant) => counters.grants.get_mut(grant.as_str()),
            };
            if let Some(count) = count
                && count.window_start == slot.window_start
            {
                count.used = count.used.saturating_sub(1);
            }
        }
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation").field("slots", &self.slots).finish_non_exhaustive()
    }
}

/// The start (Unix seconds) of the window containing `secs`.
fn window_start(secs: u64, window: Window) -> u64 {
    let len = window.seconds();
    secs - secs % len
}

/// Whole seconds, rounded up: 29.5 s reads as 30 s.
pub(crate) fn whole_seconds_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
