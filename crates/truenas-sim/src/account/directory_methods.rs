//! `directoryservices.*` and `kerberos.*` over `state::directory`. `update`, `leave` and
//! `cache_refresh` are jobs with progress under TrueNAS's `directoryservices_change` lock; they
//! join, leave and refresh nothing real.

use serde_json::{Map, Value, json};

use crate::defaults;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, JobPlan, run_query};
use crate::query;
use crate::records::Records;
use crate::state::State;
use truenas_api::schema::MethodTable;

fn realms(s: &State) -> &Records {
    &s.directory.realms
}
fn keytabs(s: &State) -> &Records {
    &s.directory.keytabs
}

pub(crate) fn register(h: &mut Handlers) {
    h.call("directoryservices.config", |ctx| Ok(ctx.machine.state().directory.config()));
    h.call("directoryservices.status", |ctx| Ok(ctx.machine.state().directory.status()));
    h.job("directoryservices.update", update);
    h.job("directoryservices.leave", leave);
    h.job("directoryservices.cache_refresh", |ctx| {
        const STEPS: &[(i64, &str)] =
            &[(10, "Refreshing directory services cache"), (80, "Filling user and group cache")];
        JobPlan::stepped(ctx.machine, STEPS, |_| Ok(Value::Null)).lock(LOCK)
    });
    h.call("kerberos.config", |ctx| Ok(ctx.machine.state().directory.kerberos.get()));
    h.call("kerberos.update", |ctx| Ok(ctx.machine.state().directory.kerberos.update(&ctx.params.object(0))));
    h.call("kerberos.realm.query", |ctx| rows(ctx, realms));
    h.call("kerberos.realm.get_instance", |ctx| instance(ctx, realms));
    h.call("kerberos.keytab.query", |ctx| rows(ctx, keytabs));
    h.call("kerberos.keytab.get_instance", |ctx| instance(ctx, keytabs));
}

fn rows(ctx: &Ctx<'_>, pick: fn(&State) -> &Records) -> Result<Value, Failure> {
    let entries = pick(&ctx.machine.state()).entries();
    run_query(ctx, entries)
}

/// `get_instance`: the row with id `params[0]`, or `<Kerberos Realm> <id> does not exist`.
fn instance(ctx: &Ctx<'_>, pick: fn(&State) -> &Records) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let (entries, missing) = {
        let state = ctx.machine.state();
        (pick(&state).entries(), pick(&state).not_found(id))
    };
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(entries, &json!([["id", "=", id]]), &Value::Object(options))
        .map_err(|e| if e == query::match_not_found() { missing } else { e })
}

/// The middleware's lock around every directory services job.
const LOCK: &str = "directoryservices_change";

/// `directoryservices.update`: the given keys, with the defaults TrueNAS fills into a
/// `configuration`, merged into the settings; enabling AD or IPA joins the domain.
fn update(ctx: &Ctx<'_>) -> JobPlan {
    let mut changes: Map<String, Value> = crate::methods::object(ctx.params.value(0));
    if let Some(conf) = changes.get_mut("configuration").filter(|c| c.is_object()) {
        let table = MethodTable::get(ctx.machine.config.release);
        let schema = table
            .method("directoryservices.update")
            .map(|m| &m.params["prefixItems"][0]["properties"]["configuration"]["anyOf"][0]);
        if let Some(schema) = schema {
            defaults::fill(schema, conf);
        }
    }
    const STEPS: &[(i64, &str)] = &[(10, "Validating configuration"), (40, "Joining domain"), (80, "Filling cache")];
    JobPlan::stepped(ctx.machine, STEPS, move |m| m.state().directory.update(changes)).lock(LOCK)
}

/// `directoryservices.leave`: the credential is checked by the schema only (there is no domain to
/// ask); an enabled AD or IPA domain is left.
fn leave(ctx: &Ctx<'_>) -> JobPlan {
    const STEPS: &[(i64, &str)] =
        &[(5, "Obtaining kerberos ticket"), (40, "Leaving domain"), (90, "Restarting services")];
    JobPlan::stepped(ctx.machine, STEPS, |m| {
        m.state().directory.leave()?;
        Ok(json!(null))
    })
    .lock(LOCK)
}
