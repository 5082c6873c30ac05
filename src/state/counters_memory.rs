//! [`MemoryStore`]: the counters of one process, in a hash map behind one mutex. Calendar
//! windows keep a count, rolling windows an exact log of `(time, amount)` per key (so "at most N
//! in any span" holds exactly, never N+1), in-flight caps a list of leases. The table
//! (`Book`) is also what the file store writes to disk.
//!
//! Memory is bounded: at most [`MAX_KEYS`] distinct keys (stale ones are pruned first); a
//! reservation that would need one more is refused, so a flood of distinct `x-key` values denies
//! calls rather than growing the process without bound.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use super::counters::{Charge, ChargeKind, CounterStore, Persisting, Refusal, Ticket};

/// The most distinct counter keys a store keeps.
pub const MAX_KEYS: usize = 100_000;

/// How often (store time, milliseconds) stale keys are dropped.
const PRUNE_EVERY_MS: u64 = 60_000;

/// Counters in memory, lost when the process ends.
#[derive(Debug)]
pub struct MemoryStore {
    book: Mutex<Book>,
    max_keys: usize,
}

/// Every counter, by key. Serialized as the file store's saved document (leases are not:
/// calls in flight die with the process).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Book {
    /// The last ticket number handed out; tickets are numbered so that a refund finds its
    /// log entries and leases, across a restart too.
    pub(crate) seq: u64,
    pub(crate) counters: HashMap<String, Entry>,
    #[serde(skip)]
    pub(crate) next_prune_ms: u64,
}

/// One counter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Entry {
    /// A calendar window's total.
    Fixed {
        /// When the window counted began.
        start_ms: u64,
        /// Its length.
        len_ms: u64,
        /// The amount taken in it.
        used: u64,
    },
    /// A rolling window's log, oldest first.
    Rolling {
        /// The span's length.
        len_ms: u64,
        /// `(at_ms, amount, ticket)` per reservation still inside the span.
        log: VecDeque<(u64, u64, u64)>,
        /// The sum of the log's amounts (recomputed when read back), so a check after
        /// [`Entry::trim`] costs no walk of the log.
        #[serde(skip)]
        total: u64,
    },
    /// Calls in flight.
    InFlight {
        /// `(ticket, expires_ms)` per lease.
        #[serde(skip)]
        leases: Vec<(u64, u64)>,
    },
}

impl Entry {
    fn new(kind: &ChargeKind) -> Entry {
        match *kind {
            ChargeKind::Fixed { start_ms, len_ms, .. } => Entry::Fixed { start_ms, len_ms, used: 0 },
            ChargeKind::Rolling { len_ms, .. } => Entry::Rolling { len_ms, log: VecDeque::new(), total: 0 },
            ChargeKind::InFlight { .. } => Entry::InFlight { leases: Vec::new() },
        }
    }

    /// Whether the entry counts the same way as `kind` (else a policy change turned the
    /// counter into another form, and it starts afresh).
    fn fits(&self, kind: &ChargeKind) -> bool {
        matches!(
            (self, kind),
            (Entry::Fixed { .. }, ChargeKind::Fixed { .. })
                | (Entry::Rolling { .. }, ChargeKind::Rolling { .. })
                | (Entry::InFlight { .. }, ChargeKind::InFlight { .. })
        )
    }

    /// What the counter holds at `now_ms` under `kind`'s bound.
    fn used(&self, kind: &ChargeKind, now_ms: u64) -> u64 {
        match (self, *kind) {
            // A count from an earlier window reads as zero; one taken in a shorter window that
            // lies inside this one (a policy changed `hour` to `day`) still counts.
            (Entry::Fixed { start_ms, used, .. }, ChargeKind::Fixed { start_ms: window, len_ms, .. })
                if *start_ms >= window && *start_ms < window.saturating_add(len_ms) =>
            {
                *used
            }
            (Entry::Rolling { log, .. }, ChargeKind::Rolling { len_ms, .. }) => {
                // Newest first, stopping at the first entry out of the span: only live entries.
                let from = now_ms.saturating_sub(len_ms);
                log.iter()
                    .rev()
                    .take_while(|(at, ..)| *at > from)
                    .fold(0u64, |sum, (_, amount, _)| sum.saturating_add(*amount))
            }
            (Entry::InFlight { leases }, ChargeKind::InFlight { .. }) => {
                leases.iter().filter(|(_, expires)| *expires > now_ms).count() as u64
            }
            _ => 0,
        }
    }

    /// How long until `amount` more fits under `max`, given it does not now.
    fn wait_for(&self, kind: &ChargeKind, amount: u64, now_ms: u64) -> Option<u64> {
        match (self, *kind) {
            (_, ChargeKind::Fixed { start_ms, len_ms, max }) => {
                (amount <= max).then(|| start_ms.saturating_add(len_ms).saturating_sub(now_ms))
            }
            (Entry::Rolling { log, .. }, ChargeKind::Rolling { len_ms, max }) => {
                if amount > max {
                    return None;
                }
                // Walk the span's entries oldest first until what is left plus `amount` fits.
                let from = now_ms.saturating_sub(len_ms);
                let live: Vec<&(u64, u64, u64)> = log.iter().filter(|(at, ..)| *at > from).collect();
                let mut held = live.iter().fold(0u64, |sum, (_, a, _)| sum.saturating_add(*a));
                for (at, a, _) in live {
                    held = held.saturating_sub(*a);
                    if held.saturating_add(amount) <= max {
                        return Some(at.saturating_add(len_ms).saturating_sub(now_ms));
                    }
                }
                Some(0)
            }
            (Entry::InFlight { leases }, ChargeKind::InFlight { max, .. }) => {
                if max == 0 {
                    return None;
                }
                leases.iter().filter(|(_, e)| *e > now_ms).map(|(_, e)| e.saturating_sub(now_ms)).min()
            }
            (_, ChargeKind::Rolling { max, .. } | ChargeKind::InFlight { max, .. }) => (amount <= max).then_some(0),
        }
    }

    /// Drops rolling entries that left the span of `kind` (a no-op for other forms), so that
    /// [`Entry::used_now`] reads the running total.
    fn trim(&mut self, kind: &ChargeKind, now_ms: u64) {
        if let (Entry::Rolling { log, total, .. }, ChargeKind::Rolling { len_ms, .. }) = (self, *kind) {
            let from = now_ms.saturating_sub(len_ms);
            while let Some((at, amount, _)) = log.front().copied()
                && at <= from
            {
                log.pop_front();
                *total = total.saturating_sub(amount);
            }
        }
    }

    /// [`Entry::used`] after [`Entry::trim`]: constant time for every form but leases.
    fn used_now(&self, kind: &ChargeKind, now_ms: u64) -> u64 {
        match (self, kind) {
            (Entry::Rolling { total, .. }, ChargeKind::Rolling { .. }) => *total,
            _ => self.used(kind, now_ms),
        }
    }

    /// Sets the running total from the log (after reading it back).
    fn recount(&mut self) {
        if let Entry::Rolling { log, total, .. } = self {
            *total = log.iter().fold(0u64, |sum, (_, amount, _)| sum.saturating_add(*amount));
        }
    }

    fn take(&mut self, kind: &ChargeKind, amount: u64, ticket: u64, now_ms: u64) {
        // Only a calendar count needs what it held (a rolling log only grows: no walk of it).
        let held = match kind {
            ChargeKind::Fixed { .. } => self.used(kind, now_ms),
            _ => 0,
        };
        match (self, *kind) {
            (Entry::Fixed { start_ms, len_ms, used }, ChargeKind::Fixed { start_ms: window, len_ms: len, .. }) => {
                *used = held.saturating_add(amount);
                *start_ms = window;
                *len_ms = len;
            }
            (Entry::Rolling { len_ms, log, total }, ChargeKind::Rolling { len_ms: len, .. }) => {
                *len_ms = len;
                log.push_back((now_ms, amount, ticket));
                *total = total.saturating_add(amount);
            }
            (Entry::InFlight { leases }, ChargeKind::InFlight { lease_ms, .. }) => {
                leases.push((ticket, now_ms.saturating_add(lease_ms)));
            }
            // INVARIANT: `reserve` replaced an entry that does not fit its charge.
            _ => {}
        }
    }

    /// Gives back what `ticket` (taken at `at_ms`) put in.
    fn give_back(&mut self, amount: u64, ticket: u64, at_ms: u64) {
        match self {
            Entry::Fixed { start_ms, len_ms, used } => {
                if at_ms >= *start_ms && at_ms < start_ms.saturating_add(*len_ms) {
                    *used = used.saturating_sub(amount);
                }
            }
            Entry::Rolling { log, .. } => {
                log.retain(|(_, _, t)| *t != ticket);
                self.recount();
            }
            Entry::InFlight { leases } => leases.retain(|(t, _)| *t != ticket),
        }
    }

    /// Whether nothing the entry holds still counts at `now_ms`.
    fn is_stale(&mut self, now_ms: u64) -> bool {
        match self {
            Entry::Fixed { start_ms, len_ms, used } => *used == 0 || start_ms.saturating_add(*len_ms) <= now_ms,
            Entry::Rolling { len_ms, log, total } => {
                let from = now_ms.saturating_sub(*len_ms);
                while let Some((at, amount, _)) = log.front().copied()
                    && at <= from
                {
                    log.pop_front();
                    *total = total.saturating_sub(amount);
                }
                log.is_empty()
            }
            Entry::InFlight { leases } => {
                leases.retain(|(_, expires)| *expires > now_ms);
                leases.is_empty()
            }
        }
    }
}

impl Book {
    /// Drops every key that no longer counts anything.
    pub(crate) fn prune(&mut self, now_ms: u64) {
        self.counters.retain(|_, entry| !entry.is_stale(now_ms));
        self.next_prune_ms = now_ms.saturating_add(PRUNE_EVERY_MS);
    }

    pub(crate) fn reserve(&mut self, charges: &[Charge], now_ms: u64, max_keys: usize) -> Result<Ticket, Refusal> {
        if now_ms >= self.next_prune_ms {
            self.prune(now_ms);
        }
        // Drop what left each rolling span: the checks below then read running totals.
        for charge in charges {
            if let Some(entry) = self.counters.get_mut(&charge.key) {
                entry.trim(&charge.kind, now_ms);
            }
        }
        // First pass: find every charge that does not fit, changing nothing else.
        let mut worst: Option<(usize, Option<u64>)> = None;
        let mut new_keys = 0usize;
        for (i, charge) in charges.iter().enumerate() {
            let entry = self.counters.get(&charge.key).filter(|e| e.fits(&charge.kind));
            if entry.is_none() && !self.counters.contains_key(&charge.key) {
                new_keys += 1;
            }
            let fresh;
            let entry = match entry {
                Some(e) => e,
                None => {
                    fresh = Entry::new(&charge.kind);
                    &fresh
                }
            };
            let max = match charge.kind {
                ChargeKind::Fixed { max, .. } | ChargeKind::Rolling { max, .. } | ChargeKind::InFlight { max, .. } => {
                    max
                }
            };
            let amount = match charge.kind {
                ChargeKind::InFlight { .. } => 1,
                _ => charge.amount,
            };
            let fits = entry.used_now(&charge.kind, now_ms).checked_add(amount).is_some_and(|total| total <= max);
            if fits {
                continue;
            }
            let wait = entry.wait_for(&charge.kind, amount, now_ms);
            // Report the charge that binds longest: one that never fits, else the latest.
            let longer = match (worst, wait) {
                (None, _) => true,
                (Some((_, w)), None) => w.is_some(),
                (Some((_, w)), Some(r)) => w.is_some_and(|w| r > w),
            };
            if longer {
                worst = Some((i, wait));
            }
        }
        if let Some((index, retry_after_ms)) = worst {
            return Err(Refusal::Exceeded { index, retry_after_ms });
        }
        if new_keys > 0 && self.counters.len().saturating_add(new_keys) > max_keys {
            self.prune(now_ms);
            if self.counters.len().saturating_add(new_keys) > max_keys {
                return Err(Refusal::Unavailable(format!(
                    "the counter store holds its most keys ({max_keys}); too many distinct counters are in use"
                )));
            }
        }
        // Second pass: everything fits; take it all.
        self.seq = self.seq.wrapping_add(1);
        let ticket = self.seq;
        for charge in charges {
            let entry = self.counters.entry(charge.key.clone()).or_insert_with(|| Entry::new(&charge.kind));
            if !entry.fits(&charge.kind) {
                *entry = Entry::new(&charge.kind);
            }
            entry.take(&charge.kind, charge.amount, ticket, now_ms);
        }
        Ok(Ticket { id: ticket.to_string(), at_ms: now_ms, charges: charges.to_vec() })
    }

    pub(crate) fn refund(&mut self, ticket: &Ticket) {
        let Ok(seq) = ticket.id.parse::<u64>() else { return };
        for charge in &ticket.charges {
            if let Some(entry) = self.counters.get_mut(&charge.key)
                && entry.fits(&charge.kind)
            {
                entry.give_back(charge.amount, seq, ticket.at_ms);
            }
        }
    }

    pub(crate) fn release(&mut self, ticket: &Ticket) {
        let Ok(seq) = ticket.id.parse::<u64>() else { return };
        for charge in ticket.charges.iter().filter(|c| matches!(c.kind, ChargeKind::InFlight { .. })) {
            if let Some(Entry::InFlight { leases }) = self.counters.get_mut(&charge.key) {
                leases.retain(|(t, _)| *t != seq);
            }
        }
    }

    pub(crate) fn remaining(&self, charges: &[Charge], now_ms: u64) -> Vec<u64> {
        charges
            .iter()
            .map(|charge| {
                let max = match charge.kind {
                    ChargeKind::Fixed { max, .. }
                    | ChargeKind::Rolling { max, .. }
                    | ChargeKind::InFlight { max, .. } => max,
                };
                let used = self
                    .counters
                    .get(&charge.key)
                    .filter(|e| e.fits(&charge.kind))
                    .map_or(0, |e| e.used(&charge.kind, now_ms));
                max.saturating_sub(used)
            })
            .collect()
    }
}

impl MemoryStore {
    /// An empty store holding at most [`MAX_KEYS`] keys.
    pub fn new() -> MemoryStore {
        MemoryStore::with_max_keys(MAX_KEYS)
    }

    /// An empty store holding at most `max_keys` keys.
    pub fn with_max_keys(max_keys: usize) -> MemoryStore {
        MemoryStore { book: Mutex::new(Book::default()), max_keys }
    }

    /// A store starting from counters read back (the file store's).
    pub(crate) fn from_book(mut book: Book, max_keys: usize) -> MemoryStore {
        book.counters.values_mut().for_each(Entry::recount);
        MemoryStore { book: Mutex::new(book), max_keys }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Book> {
        // A panic while holding the lock cannot leave a counter half-written: every change is
        // made after the checks, by code that does not panic.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many keys the store holds (for tests and introspection).
    pub fn keys(&self) -> usize {
        self.lock().counters.len()
    }
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::new()
    }
}

impl CounterStore for MemoryStore {
    fn reserve(&self, charges: &[Charge], now_ms: u64) -> Result<Ticket, Refusal> {
        self.lock().reserve(charges, now_ms, self.max_keys)
    }

    fn refund(&self, ticket: &Ticket) {
        self.lock().refund(ticket);
    }

    fn release(&self, ticket: &Ticket) {
        self.lock().release(ticket);
    }

    fn remaining(&self, charges: &[Charge], now_ms: u64) -> Result<Vec<u64>, Refusal> {
        Ok(self.lock().remaining(charges, now_ms))
    }

    fn persist(&self) -> Persisting<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
#[path = "counters_memory_tests.rs"]
mod tests;
