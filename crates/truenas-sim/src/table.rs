//! Rows of one collection by integer id, ids counted up from 1 and never reused, written once
//! for every store: [`Rows`] answers `None` for an unknown id (stores that name their own
//! errors, as the sharing stores do), [`Table`] answers the collection's `InstanceNotFound`
//! (`Replication 7 does not exist`). Plain JSON CRUD rows are `records::Records`, a `Table`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::failure::Failure;

/// Rows of type `T` (stored JSON fields unless said otherwise) by id.
#[derive(Debug, Clone)]
pub(crate) struct Rows<T = Map<String, Value>> {
    rows: BTreeMap<i64, T>,
    next: i64,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows { rows: BTreeMap::new(), next: 1 }
    }
}

impl<T> Rows<T> {
    pub(crate) fn get(&self, id: i64) -> Option<&T> {
        self.rows.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: i64) -> Option<&mut T> {
        self.rows.get_mut(&id)
    }

    /// Stores a new row and returns its id.
    pub(crate) fn insert(&mut self, row: T) -> i64 {
        self.insert_with(|_| row)
    }

    /// Stores the row `make` builds for the next id (rows that hold their own id), and returns
    /// that id.
    pub(crate) fn insert_with(&mut self, make: impl FnOnce(i64) -> T) -> i64 {
        let id = self.next;
        self.next += 1;
        self.rows.insert(id, make(id));
        id
    }

    /// Stores `row` under the given `id` (demo data that names its own ids), replacing any row
    /// there; later ids follow it.
    pub(crate) fn insert_at(&mut self, id: i64, row: T) {
        self.next = self.next.max(id.saturating_add(1));
        self.rows.insert(id, row);
    }

    pub(crate) fn contains(&self, id: i64) -> bool {
        self.rows.contains_key(&id)
    }

    pub(crate) fn remove(&mut self, id: i64) -> Option<T> {
        self.rows.remove(&id)
    }

    /// Keeps only the rows `keep` passes.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.rows.retain(|_, row| keep(row));
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &T)> {
        self.rows.iter().map(|(id, row)| (*id, row))
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (i64, &mut T)> {
        self.rows.iter_mut().map(|(id, row)| (*id, row))
    }

    /// Every row, by id.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }

    /// Every row, by id, to change.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.rows.values_mut()
    }

    pub(crate) fn ids(&self) -> Vec<i64> {
        self.rows.keys().copied().collect()
    }
}

impl Rows<Map<String, Value>> {
    /// Ids of the rows whose `key` equals `value`.
    pub(crate) fn ids_where(&self, key: &str, value: &Value) -> Vec<i64> {
        self.iter().filter(|(_, row)| row.get(key) == Some(value)).map(|(id, _)| id).collect()
    }
}

/// [`Rows`] with the name the collection's errors use.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    /// The service's verbose name, as in `CloudSync 7 does not exist`.
    noun: &'static str,
    rows: Rows<T>,
}

impl<T> Table<T> {
    pub(crate) fn new(noun: &'static str) -> Table<T> {
        Table { noun, rows: Rows::default() }
    }

    /// `InstanceNotFound` for `id`.
    pub(crate) fn not_found(&self, id: i64) -> Failure {
        not_found(self.noun, id)
    }

    pub(crate) fn get(&self, id: i64) -> Result<&T, Failure> {
        self.rows.get(id).ok_or_else(|| self.not_found(id))
    }

    pub(crate) fn get_mut(&mut self, id: i64) -> Result<&mut T, Failure> {
        let noun = self.noun;
        self.rows.get_mut(id).ok_or_else(|| not_found(noun, id))
    }

    /// Stores the row `make` builds for the next id, and returns that id.
    pub(crate) fn insert(&mut self, make: impl FnOnce(i64) -> T) -> i64 {
        self.rows.insert_with(make)
    }

    /// Removes row `id` and returns it; `InstanceNotFound` when there is none.
    pub(crate) fn delete(&mut self, id: i64) -> Result<T, Failure> {
        let noun = self.noun;
        self.rows.remove(id).ok_or_else(|| not_found(noun, id))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &T)> {
        self.rows.iter()
    }

    /// Every row, by id.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }
}

fn not_found(noun: &str, id: i64) -> Failure {
    Failure::not_found(format!("{noun} {id} does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_are_never_reused() {
        let mut rows = Rows::default();
        let a = rows.insert(Map::new());
        rows.remove(a);
        assert_eq!(rows.insert(Map::new()), a + 1);
        assert!(rows.get(a).is_none());
    }

    #[test]
    fn a_row_stored_at_an_id_moves_later_ids_past_it() {
        let mut rows = Rows::default();
        rows.insert_at(5, "five");
        rows.insert_at(2, "two");
        assert_eq!(rows.insert("six"), 6);
        assert!(rows.contains(2) && rows.contains(5) && !rows.contains(3));
        rows.retain(|row| *row != "two");
        for row in rows.values_mut() {
            *row = "seen";
        }
        assert_eq!(rows.iter().collect::<Vec<_>>(), vec![(5, &"seen"), (6, &"seen")]);
    }

    #[test]
    fn a_table_counts_ids_up_and_names_unknown_ones_not_found() {
        let mut t = Table::new("Replication");
        let a = t.insert(|id| id * 10);
        assert_eq!(t.delete(a), Ok(10));
        let b = t.insert(|id| id * 10);
        assert_eq!((a, b, t.get(b).copied()), (1, 2, Ok(20)));
        assert_eq!(t.values().count(), 1);
        assert_eq!(t.get(1).unwrap_err().reason(), "[ENOENT] None: Replication 1 does not exist\n");
        assert!(t.get_mut(1).is_err());
        assert!(t.delete(1).is_err());
    }
}
