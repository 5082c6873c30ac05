//! The CRUD shape TrueNAS's collections share, written once: `query` and `get_instance`
//! registered together over a collection's rows ([`Handlers::reads`]), and `create`, `update`
//! and `delete` that change the state, read the changed entry back and (for collections with
//! events) publish the change on the collection's `query` ([`Collection`]). Each domain's
//! `*_methods.rs` says only what differs: which store call makes the change.

use serde_json::{Map, Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_get_instance, run_query};
use crate::state::State;

impl Handlers {
    /// `{namespace}.query` and `{namespace}.get_instance` over the rows `rows` reads, with
    /// `not_found` for an unknown id.
    pub(crate) fn reads<R, N>(&mut self, namespace: &str, rows: R, not_found: N)
    where
        R: Fn(&Ctx<'_>) -> Vec<Value> + Send + Sync + 'static,
        N: Fn(i64) -> Failure + Send + Sync + 'static,
    {
        let rows = std::sync::Arc::new(rows);
        let query_rows = std::sync::Arc::clone(&rows);
        self.call(&format!("{namespace}.query"), move |ctx| run_query(ctx, query_rows(ctx)));
        self.call(&format!("{namespace}.get_instance"), move |ctx| run_get_instance(ctx, rows(ctx), &not_found));
    }
}

/// The writes of one collection: `{namespace}.create`/`update`/`delete`, with events on
/// `{namespace}.query` when it is `published`.
pub(crate) struct Collection {
    /// `sharing.smb`, `iscsi.target`, `vm`.
    pub(crate) namespace: &'static str,
    /// Row `id`'s entry as `query` shows it, read back after a change.
    pub(crate) entry: fn(&State, i64) -> Result<Value, Failure>,
    /// Whether changes are published on `{namespace}.query` (TrueNAS sends events for some
    /// collections only).
    pub(crate) published: bool,
}

impl Collection {
    fn publish(&self, ctx: &Ctx<'_>, change: Change, id: i64, entry: Option<Value>) {
        if self.published {
            ctx.machine.events.emit(&format!("{}.query", self.namespace), change, id, entry);
        }
    }

    /// `create(data)`: `insert` stores param 0 with the schema's defaults filled in and returns
    /// the new id; the answer is the new entry.
    pub(crate) fn create(
        &self,
        ctx: &Ctx<'_>,
        insert: impl FnOnce(&mut State, Map<String, Value>) -> Result<i64, Failure>,
    ) -> Result<Value, Failure> {
        let data = ctx.with_defaults(&format!("{}.create", self.namespace), 0);
        let (id, entry) = {
            let mut state = ctx.machine.state();
            let id = insert(&mut state, data)?;
            (id, (self.entry)(&state, id)?)
        };
        self.publish(ctx, Change::Added, id, Some(entry.clone()));
        Ok(entry)
    }

    /// `update(id, data)`: `apply` merges the changes into row `id`; the answer is its entry.
    pub(crate) fn update(
        &self,
        ctx: &Ctx<'_>,
        apply: impl FnOnce(&mut State, i64, Map<String, Value>) -> Result<(), Failure>,
    ) -> Result<Value, Failure> {
        let (id, data) = ctx.id_and_data()?;
        let entry = {
            let mut state = ctx.machine.state();
            apply(&mut state, id, data)?;
            (self.entry)(&state, id)?
        };
        self.publish(ctx, Change::Changed, id, Some(entry.clone()));
        Ok(entry)
    }

    /// `delete(id, ...)`: `remove` drops row `id`; the answer is `true`.
    pub(crate) fn delete(
        &self,
        ctx: &Ctx<'_>,
        remove: impl FnOnce(&mut State, i64) -> Result<(), Failure>,
    ) -> Result<Value, Failure> {
        let id = ctx.params.int(0)?;
        remove(&mut ctx.machine.state(), id)?;
        self.publish(ctx, Change::Removed, id, None);
        Ok(json!(true))
    }
}

/// The entry of `rows` with `id`, `null` when there is none (for [`Collection::entry`] over
/// stores that only list their entries).
pub(crate) fn row(rows: Vec<Value>, id: i64) -> Value {
    rows.into_iter().find(|e| e["id"] == id).unwrap_or(Value::Null)
}
