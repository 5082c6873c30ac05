//! `docker.*`: the app runtime's settings and status over `state::docker`. `docker.update` is a
//! job that restarts Docker when the pool or the networks change.

use std::sync::Arc;

use serde_json::Value;

use crate::methods::{Ctx, Handlers, JobPlan};
use crate::system::audit_methods::record;

pub(crate) fn register(h: &mut Handlers) {
    h.call("docker.config", |ctx| Ok(ctx.machine.state().docker.entry(ctx.machine.config.release)));
    h.call("docker.status", |ctx| Ok(ctx.machine.state().docker.status()));
    h.call("docker.nvidia_present", |_| Ok(Value::Bool(false)));
    h.job("docker.update", update);
}

fn update(ctx: &Ctx<'_>) -> JobPlan {
    let changes = ctx.params.object(0);
    record(ctx, "docker.update", "Docker: Updating Configurations");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.progress(10, "Validating docker configuration");
        let pool_changed = machine.state().docker.update(&changes)?;
        job.step().await;
        job.progress(20, "Updating docker configuration");
        job.step().await;
        if pool_changed || changes.contains_key("address_pools") || changes.contains_key("cidr_v6") {
            job.progress(60, "Restarting docker service");
            job.step().await;
        }
        job.progress(100, "Requested configuration applied");
        Ok(machine.state().docker.entry(machine.config.release))
    })
    .lock("docker_update")
}
