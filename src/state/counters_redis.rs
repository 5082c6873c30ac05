//! [`RedisStore`]: the counters of a policy's limits kept in Redis, shared exactly by every
//! server process that points at the same Redis (`--state redis://HOST:PORT/N`).
//!
//! Each operation is one Lua script (src/state/lua/), and a script runs atomically on the Redis
//! side, so a reservation takes every charge of a call or none, whatever the other processes
//! do at the same moment: no over-admission. The keys (all under [`KEY_PREFIX`]`ctr:`):
//! - a calendar window: `ctr:fixed:<window start ms>:<counter>`, a count that expires a minute
//!   after its window ends;
//! - a rolling window (and a cooldown): `ctr:rolling:<counter>`, a sorted set of
//!   `<ticket>:<i>:<amount>` scored by when it was taken, trimmed as the span moves;
//! - calls in flight: `ctr:inflight:<counter>`, a sorted set of leases scored by when they
//!   expire (a process that dies mid-call holds its lease at most `lease_ms`);
//! - `ctr:refunded:<ticket>`: a ticket's counts were given back (a minute), so that a refund
//!   retried after a dropped connection does not give them back twice.
//!
//! Time is the caller's clock (`now_ms`), not the Redis server's: processes sharing a Redis
//! must keep their clocks in step (NTP). A process whose clock runs ahead sees rolling entries
//! leave early by that much; expiry times sent to Redis are relative, so Redis's own clock
//! does not matter. Any Redis error (unreachable, timed out after [`super::redis::TIMEOUT`],
//! a script error) is a [`Refusal::Unavailable`]: the call is denied (fail closed).

use std::sync::Arc;

use super::StateError;
use super::counters::{Charge, ChargeKind, CounterStore, Persisting, Refusal, Ticket};
use super::redis::{KEY_PREFIX, RedisLink};

/// How long a key outlives the last moment it can matter (clock steps, slow calls).
const SLACK_MS: u64 = 60_000;

/// Lua numbers are doubles: integers above this are not exact, so a charge using them is
/// refused rather than counted wrong.
const MAX_EXACT: u64 = 1 << 53;

/// Counters in Redis. Cheap to share (`Arc`); connections are opened on demand.
#[derive(Debug)]
pub struct RedisStore {
    link: Arc<RedisLink>,
    reserve: redis::Script,
    give_back: redis::Script,
    remaining: redis::Script,
}

/// The key of a charge's counter in Redis.
fn redis_key(charge: &Charge) -> String {
    match charge.kind {
        ChargeKind::Fixed { start_ms, .. } => format!("{KEY_PREFIX}ctr:fixed:{start_ms}:{}", charge.key),
        ChargeKind::Rolling { .. } => format!("{KEY_PREFIX}ctr:rolling:{}", charge.key),
        ChargeKind::InFlight { .. } => format!("{KEY_PREFIX}ctr:inflight:{}", charge.key),
    }
}

/// The one-letter kind the scripts read.
fn kind_tag(kind: &ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Fixed { .. } => "f",
        ChargeKind::Rolling { .. } => "r",
        ChargeKind::InFlight { .. } => "c",
    }
}

/// The five script arguments of a charge at `now_ms`: kind, amount, max, the kind's time
/// (window end, rolling cutoff, lease expiry) and how long the key must live.
fn charge_args(charge: &Charge, now_ms: u64) -> Result<[String; 5], Refusal> {
    let (max, time, ttl) = match charge.kind {
        ChargeKind::Fixed { start_ms, len_ms, max } => {
            let end = start_ms.saturating_add(len_ms);
            (max, end, end.saturating_sub(now_ms).saturating_add(SLACK_MS))
        }
        ChargeKind::Rolling { len_ms, max } => (max, now_ms.saturating_sub(len_ms), len_ms.saturating_add(SLACK_MS)),
        ChargeKind::InFlight { max, lease_ms } => {
            (max, now_ms.saturating_add(lease_ms), lease_ms.saturating_add(SLACK_MS))
        }
    };
    if [charge.amount, max, time, ttl, now_ms].iter().any(|v| *v > MAX_EXACT) {
        return Err(Refusal::Unavailable(format!(
            "counter `{}`: a number above 2^53 cannot be kept exactly in the shared store",
            charge.key
        )));
    }
    Ok([
        kind_tag(&charge.kind).to_owned(),
        charge.amount.to_string(),
        max.to_string(),
        time.to_string(),
        ttl.to_string(),
    ])
}

impl RedisStore {
    /// Counters over `link` (shared with the approvals when both live in Redis).
    pub fn new(link: Arc<RedisLink>) -> RedisStore {
        RedisStore {
            link,
            reserve: redis::Script::new(include_str!("lua/reserve.lua")),
            give_back: redis::Script::new(include_str!("lua/give_back.lua")),
            remaining: redis::Script::new(include_str!("lua/remaining.lua")),
        }
    }

    /// The link it uses.
    pub fn link(&self) -> &Arc<RedisLink> {
        &self.link
    }

    /// Runs the give-back script (`refund` or `release`); a failure is logged and otherwise
    /// ignored: what was not given back stays spent (a count until its window ends, a lease
    /// until it expires), which errs on the side of refusing.
    fn give_back(&self, ticket: &Ticket, mode: &str) {
        if ticket.charges.is_empty() || (mode == "release" && !has_lease(ticket)) {
            return;
        }
        let mut invocation = self.give_back.prepare_invoke();
        invocation.key(format!("{KEY_PREFIX}ctr:refunded:{}", ticket.id)).arg(&ticket.id).arg(mode).arg(SLACK_MS);
        for charge in &ticket.charges {
            invocation.key(redis_key(charge)).arg(kind_tag(&charge.kind)).arg(charge.amount);
        }
        if let Err(e) = self.link.with(|conn| invocation.invoke::<i64>(conn)) {
            tracing::warn!(ticket = %ticket.id, mode, error = %e, "shared counters: could not give back a reservation");
        }
    }
}

fn has_lease(ticket: &Ticket) -> bool {
    ticket.charges.iter().any(|c| matches!(c.kind, ChargeKind::InFlight { .. }))
}

impl CounterStore for RedisStore {
    fn reserve(&self, charges: &[Charge], now_ms: u64) -> Result<Ticket, Refusal> {
        let ticket = Ticket { id: uuid::Uuid::new_v4().simple().to_string(), at_ms: now_ms, charges: charges.to_vec() };
        if charges.is_empty() {
            return Ok(ticket);
        }
        let mut invocation = self.reserve.prepare_invoke();
        invocation.arg(now_ms).arg(&ticket.id);
        for charge in charges {
            invocation.key(redis_key(charge));
            for arg in charge_args(charge, now_ms)? {
                invocation.arg(arg);
            }
        }
        let reply: Vec<i64> = self.link.with(|conn| invocation.invoke(conn)).map_err(Refusal::Unavailable)?;
        match reply.as_slice() {
            [1] => Ok(ticket),
            [0, index, retry] => Err(Refusal::Exceeded {
                index: usize::try_from(*index).map_err(|_| garbled(&reply))?,
                retry_after_ms: u64::try_from(*retry).ok(),
            }),
            _ => Err(garbled(&reply)),
        }
    }

    fn refund(&self, ticket: &Ticket) {
        self.give_back(ticket, "refund");
    }

    fn release(&self, ticket: &Ticket) {
        self.give_back(ticket, "release");
    }

    fn remaining(&self, charges: &[Charge], now_ms: u64) -> Result<Vec<u64>, Refusal> {
        if charges.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.remaining.prepare_invoke();
        invocation.arg(now_ms).arg("");
        for charge in charges {
            invocation.key(redis_key(charge));
            for arg in charge_args(charge, now_ms)? {
                invocation.arg(arg);
            }
        }
        let reply: Vec<i64> = self.link.with(|conn| invocation.invoke(conn)).map_err(Refusal::Unavailable)?;
        if reply.len() != charges.len() {
            return Err(garbled(&reply));
        }
        Ok(reply.into_iter().map(|left| u64::try_from(left).unwrap_or(0)).collect())
    }

    /// Nothing to wait for: a reservation is in Redis when `reserve` returns.
    fn persist(&self) -> Persisting<'_> {
        Box::pin(async { Ok::<(), StateError>(()) })
    }
}

/// A script reply of the wrong shape (should not happen): refused.
fn garbled(reply: &[i64]) -> Refusal {
    Refusal::Unavailable(format!("unexpected reply from the shared counters script: {reply:?}"))
}
