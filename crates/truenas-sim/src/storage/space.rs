//! The space model, read across the pools, datasets and snapshots it needs: a dataset holds
//! `written` bytes of its own, its snapshots hold their `unique` bytes, `used` adds its
//! children and a zvol's unused reservation; a pool's capacity is the usable size of its data
//! vdevs and its allocation is the `used` of its root dataset; `available` is the pool's free
//! space within every quota on the way. [`Space`] borrows the three collections, so it is built
//! for one read (`Storage::space`) and never kept.

use crate::storage::dataset::{Dataset, Datasets};
use crate::storage::pool::{Pool, Pools};
use crate::storage::snapshot::Snapshots;
use crate::storage::zfs::parent_name;

/// The pools, datasets and snapshots, read together for space figures.
#[derive(Clone, Copy)]
pub(crate) struct Space<'a> {
    pub(crate) pools: &'a Pools,
    pub(crate) datasets: &'a Datasets,
    pub(crate) snapshots: &'a Snapshots,
}

/// Bytes a zvol reserved but has not written.
pub(crate) fn usedbyrefreservation(dataset: &Dataset) -> u64 {
    dataset.local_bytes("refreservation").saturating_sub(dataset.written)
}

impl Space<'_> {
    /// Bytes the snapshots of `name` hold.
    pub(crate) fn usedbysnapshots(&self, name: &str) -> u64 {
        self.snapshots.unique_of(name)
    }

    /// Bytes `name` and everything below it hold.
    pub(crate) fn used(&self, name: &str) -> u64 {
        let Some(dataset) = self.datasets.get(name) else { return 0 };
        dataset.written
            + self.usedbysnapshots(name)
            + usedbyrefreservation(dataset)
            + self.datasets.children(name).iter().map(|c| self.used(&c.name)).sum::<u64>()
    }

    /// Bytes `name` may still write: the pool's free space, within every quota on the way.
    pub(crate) fn available(&self, name: &str) -> u64 {
        let Some(pool) = self.pools.of(name) else { return 0 };
        let mut available = self.pools.size(pool).saturating_sub(self.used(&pool.name));
        let mut at = Some(name);
        while let Some(current) = at {
            if let Some(dataset) = self.datasets.get(current) {
                let quota = dataset.local_bytes("quota");
                if quota > 0 {
                    available = available.min(quota.saturating_sub(self.used(current)));
                }
                let refquota = dataset.local_bytes("refquota");
                if current == name && refquota > 0 {
                    available = available.min(refquota.saturating_sub(dataset.written));
                }
            }
            at = parent_name(current);
        }
        available
    }

    /// Bytes the pool's datasets hold.
    pub(crate) fn pool_allocated(&self, pool: &Pool) -> u64 {
        self.used(&pool.name)
    }
}
