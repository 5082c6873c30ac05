//! The method table: which handler answers which middleware method name. [`Handlers::for_release`]
//! calls each domain's `register` (the `*_methods.rs` files of `storage/`, `sharing/`, `account/`,
//! `network/`, `apps/`, `system/`, `vm/`, `data_protection/`, and `core_methods`), which adds
//! the methods the release has. A handler is a plain call or a job, a function or a closure; the
//! dispatcher does authentication, schema validation and job bookkeeping around it. What
//! handlers share lives here once: [`Ctx`] (with `with_defaults` for creates and `id_and_data`
//! for updates), [`JobPlan`], and `query`/`get_instance` over rows; the CRUD registrations built
//! on them are in `crate::crud`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::defaults;
use super::failure::Failure;
use super::jobs::{JobCtx, JobFuture};
use super::machine::Machine;
use super::params::Params;
use super::query;
use super::session::Session;
use truenas_api::schema::{MethodTable, Release};

/// What a handler sees of its call.
pub(crate) struct Ctx<'a> {
    pub(crate) machine: &'a Arc<Machine>,
    pub(crate) session: &'a Arc<Session>,
    pub(crate) params: Params<'a>,
}

impl Ctx<'_> {
    /// Param `index` as an object with `method`'s defaults for it filled in: what a create gets.
    pub(crate) fn with_defaults(&self, method: &str, index: usize) -> Map<String, Value> {
        defaults::filled(self.machine.config.release, method, index, self.params.value(index))
    }

    /// `(id, data)`: the params of an `update(id, data)` method.
    pub(crate) fn id_and_data(&self) -> Result<(i64, Map<String, Value>), Failure> {
        Ok((self.params.int(0)?, self.params.object(1)))
    }
}

/// A method that answers at once: a function, or a closure over what it serves (see
/// [`Handlers::reads`]).
pub(crate) type CallFn = Arc<dyn Fn(&Ctx<'_>) -> Result<Value, Failure> + Send + Sync>;
/// A `@job` method: describes the job; the dispatcher creates and runs it.
pub(crate) type JobFn = Arc<dyn Fn(&Ctx<'_>) -> JobPlan + Send + Sync>;

/// How to run one job: built with [`JobPlan::new`], then the builder methods for what differs
/// from the default (no description, not abortable, no lock).
pub(crate) struct JobPlan {
    pub(crate) description: Option<String>,
    pub(crate) abortable: bool,
    pub(crate) lock: Option<String>,
    pub(crate) body: Box<dyn FnOnce(JobCtx) -> JobFuture + Send>,
}

impl JobPlan {
    /// A job running `body`: no description, not abortable, no lock.
    pub(crate) fn new<F, Fut>(body: F) -> JobPlan
    where
        F: FnOnce(JobCtx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Value, Failure>> + Send + 'static,
    {
        JobPlan { description: None, abortable: false, lock: None, body: Box::new(move |job| Box::pin(body(job))) }
    }

    /// A job that reports each of `list` (a job step apart), then applies `finish`.
    pub(crate) fn stepped(
        machine: &Arc<Machine>,
        list: &'static [(i64, &'static str)],
        finish: impl FnOnce(&Machine) -> Result<Value, Failure> + Send + 'static,
    ) -> JobPlan {
        let machine = Arc::clone(machine);
        JobPlan::new(move |job| async move {
            job.steps(list).await;
            finish(&machine)
        })
    }

    /// Runs under the named lock: one job holding it at a time.
    pub(crate) fn lock(mut self, name: impl Into<String>) -> JobPlan {
        self.lock = Some(name.into());
        self
    }

    /// `core.job_abort` may end the job while it runs.
    pub(crate) fn abortable(mut self) -> JobPlan {
        self.abortable = true;
        self
    }

    /// The job's description in `core.get_jobs`.
    pub(crate) fn described(mut self, text: impl Into<String>) -> JobPlan {
        self.description = Some(text.into());
        self
    }
}

/// A simulated method.
#[derive(Clone)]
pub(crate) enum Handler {
    Call(CallFn),
    Job(JobFn),
}

/// Every simulated method of one release.
pub(crate) struct Handlers {
    pub(crate) release: Release,
    map: HashMap<String, Handler>,
}

impl Handlers {
    pub(crate) fn for_release(release: Release) -> Handlers {
        let mut handlers = Handlers { release, map: HashMap::new() };
        crate::account::auth_methods::register(&mut handlers);
        crate::core_methods::register(&mut handlers);
        crate::sharing::iscsi_methods::register(&mut handlers);
        crate::sharing::sharing_methods::register(&mut handlers);
        crate::system::system_methods::register(&mut handlers);
        crate::vm::vm_methods::register(&mut handlers);
        crate::vm::vm_device_methods::register(&mut handlers);
        crate::system::system_settings_methods::register(&mut handlers);
        crate::system::service_methods::register(&mut handlers);
        crate::system::mail_methods::register(&mut handlers);
        crate::system::config_methods::register(&mut handlers);
        crate::account::api_key_methods::register(&mut handlers);
        crate::account::user_methods::register(&mut handlers);
        crate::account::group_methods::register(&mut handlers);
        crate::account::privilege_methods::register(&mut handlers);
        crate::storage::pool_methods::register(&mut handlers);
        crate::storage::dataset_methods::register(&mut handlers);
        crate::storage::snapshot_methods::register(&mut handlers);
        crate::network::interface_methods::register(&mut handlers);
        crate::network::network_methods::register(&mut handlers);
        crate::storage::disk_methods::register(&mut handlers);
        crate::system::certificate_methods::register(&mut handlers);
        crate::system::alert_methods::register(&mut handlers);
        crate::apps::app_methods::register(&mut handlers);
        crate::apps::app_catalog_methods::register(&mut handlers);
        crate::apps::docker_methods::register(&mut handlers);
        crate::system::update_methods::register(&mut handlers);
        crate::system::boot_methods::register(&mut handlers);
        crate::storage::fs_methods::register(&mut handlers);
        crate::system::reporting_methods::register(&mut handlers);
        crate::system::audit_methods::register(&mut handlers);
        crate::system::tasks_methods::register(&mut handlers);
        crate::system::keychain_methods::register(&mut handlers);
        crate::system::service_config_methods::register(&mut handlers);
        crate::account::directory_methods::register(&mut handlers);
        crate::data_protection::replication_methods::register(&mut handlers);
        crate::data_protection::cloud_sync_methods::register(&mut handlers);
        crate::data_protection::cloud_backup_methods::register(&mut handlers);
        handlers
    }

    pub(crate) fn get(&self, method: &str) -> Option<Handler> {
        self.map.get(method).cloned()
    }

    /// Registers `handler` for `method` if the release has that method.
    pub(crate) fn add(&mut self, method: &str, handler: Handler) {
        if MethodTable::get(self.release).method(method).is_some() {
            self.map.insert(method.to_string(), handler);
        }
    }

    pub(crate) fn call(
        &mut self,
        method: &str,
        f: impl Fn(&Ctx<'_>) -> Result<Value, Failure> + Send + Sync + 'static,
    ) {
        self.add(method, Handler::Call(Arc::new(f)));
    }

    pub(crate) fn job(&mut self, method: &str, f: impl Fn(&Ctx<'_>) -> JobPlan + Send + Sync + 'static) {
        self.add(method, Handler::Job(Arc::new(f)));
    }
}

/// A query method over `rows`: params are `(filters, options)`.
pub(crate) fn run_query(ctx: &Ctx<'_>, rows: Vec<Value>) -> Result<Value, Failure> {
    query::run(rows, &ctx.params.value(0), &ctx.params.value(1))
}

/// A `get_instance` method over `rows`: params are `(id, options)`.
pub(crate) fn run_get_instance(
    ctx: &Ctx<'_>,
    rows: Vec<Value>,
    not_found: impl Fn(i64) -> Failure,
) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    instance(ctx, rows, json!(id)).map_err(|e| if e == query::match_not_found() { not_found(id) } else { e })
}

/// A `get_instance` method over rows with string ids (interfaces, disks): params are
/// `(id, options)`.
pub(crate) fn run_get_instance_by_name(
    ctx: &Ctx<'_>,
    rows: Vec<Value>,
    not_found: fn(&str) -> Failure,
) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    instance(ctx, rows, json!(id)).map_err(|e| if e == query::match_not_found() { not_found(id) } else { e })
}

/// The one row of `rows` with `id`, shaped by the options in param 1.
fn instance(ctx: &Ctx<'_>, rows: Vec<Value>, id: Value) -> Result<Value, Failure> {
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(rows, &json!([["id", "=", id]]), &Value::Object(options))
}

pub(crate) use crate::json::object;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_has_no_description_abort_or_lock_until_a_builder_sets_it() {
        let plain = JobPlan::new(|_| async { Ok(Value::Null) });
        assert_eq!((plain.description, plain.abortable, plain.lock), (None, false, None));
        let built = JobPlan::new(|_| async { Ok(Value::Null) }).described("Scrub").lock("pool_scrub").abortable();
        let fields = (built.description.as_deref(), built.abortable, built.lock.as_deref());
        assert_eq!(fields, (Some("Scrub"), true, Some("pool_scrub")));
    }

    #[test]
    fn every_handler_matches_the_release_table() {
        for release in Release::KNOWN {
            let handlers = Handlers::for_release(release);
            let table = MethodTable::get(release);
            assert!(handlers.map.len() > 30, "{release}: {}", handlers.map.len());
            for (name, handler) in &handlers.map {
                let spec = table.method(name).unwrap();
                assert_eq!(spec.job, matches!(handler, Handler::Job(_)), "{release}: job flag of {name}");
            }
        }
    }
}
