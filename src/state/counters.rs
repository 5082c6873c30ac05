//! The counters a policy's limits spend: what one call takes ([`Charge`]), what a store hands
//! back for it ([`Ticket`]), and the [`CounterStore`] trait the in-memory, file and Redis stores
//! implement. The policy engine decides *which* charges a call makes; a store only keeps the
//! numbers, atomically, so that counters outlive a policy reload (keys name rules, not
//! positions) and, in a file or Redis, a restart or another process.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use super::StateError;

/// One counter a call spends, and how that counter is bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Which counter. The engine builds it from the limit's rule id, the grant (`*` for a
    /// server-wide limit) and the `x-key` value, if any; it is stable across reloads and
    /// restarts and never holds a secret (key values are hashed when long or sensitive).
    pub key: String,
    /// How much the call adds: 1 for a call count, the argument's value for `x-amount`.
    pub amount: u64,
    /// How the counter is bounded.
    pub kind: ChargeKind,
}

/// How a counter is bounded. Times are Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeKind {
    /// A calendar window: the amounts taken in `[start_ms, start_ms + len_ms)` add up to at most
    /// `max`. A count from an earlier window reads as zero.
    Fixed {
        /// When the current window began.
        start_ms: u64,
        /// The window's length.
        len_ms: u64,
        /// The most the window may hold.
        max: u64,
    },
    /// A rolling window: the amounts taken in any span of `len_ms` add up to at most `max`
    /// (a cooldown is `max: 1` over the cooldown's length).
    Rolling {
        /// The span's length.
        len_ms: u64,
        /// The most any span may hold.
        max: u64,
    },
    /// Calls in flight: at most `max` leases held at once. A lease ends when the call finishes
    /// ([`CounterStore::release`]) or, should the process die first, `lease_ms` after it began.
    InFlight {
        /// The most leases at once.
        max: u64,
        /// How long a lease lives if never released.
        lease_ms: u64,
    },
}

/// What one reservation took, all or nothing; the store needs it to refund or release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Unique per reservation (it names log entries and leases in a shared store).
    pub id: String,
    /// When the reservation was made (Unix milliseconds).
    pub at_ms: u64,
    /// The charges taken, in the order given.
    pub charges: Vec<Charge>,
}

/// Why a reservation took nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The charge at `index` would go over its bound. Of several, the one that binds longest.
    Exceeded {
        /// Index into the charges given.
        index: usize,
        /// How long until it would fit; `None` when it never will (`max` below the amount).
        retry_after_ms: Option<u64>,
    },
    /// The store cannot be read or written (a shared store unreachable): the call is denied.
    Unavailable(String),
}

/// A future that says whether what was reserved so far is durable.
pub type Persisting<'a> = Pin<Box<dyn Future<Output = Result<(), StateError>> + Send + 'a>>;

/// Where counters live. Every method is atomic over all the charges it is given: a
/// reservation takes every charge or none, even with many processes sharing the store.
pub trait CounterStore: Send + Sync + fmt::Debug {
    /// Takes every charge at `now_ms`, or none and says which one does not fit.
    fn reserve(&self, charges: &[Charge], now_ms: u64) -> Result<Ticket, Refusal>;

    /// Gives back everything `ticket` took (nothing reached the NAS): counts still in their
    /// window, rolling entries, leases.
    fn refund(&self, ticket: &Ticket);

    /// Ends the in-flight leases of `ticket` (its call finished); counts stay spent.
    fn release(&self, ticket: &Ticket);

    /// How much of each charge's bound is left at `now_ms`, taking nothing; for an
    /// [`ChargeKind::InFlight`] charge, free leases.
    fn remaining(&self, charges: &[Charge], now_ms: u64) -> Result<Vec<u64>, Refusal>;

    /// Resolves once every reservation made so far is durable (a file store's group commit);
    /// stores that are durable on return (memory: nothing to keep; Redis) resolve at once.
    /// Called before a call goes to the NAS: an error refuses the call.
    fn persist(&self) -> Persisting<'_>;
}
