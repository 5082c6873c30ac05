//! `certificate.*` (create, update and delete are jobs, as in the middleware) and
//! `acme.dns.authenticator.*`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::crud::Collection;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::system::acme::authenticator_not_found;
use crate::system::certificate::certificate_not_found;

/// The ACME directories TrueNAS offers.
const ACME_SERVERS: [(&str, &str); 2] = [
    ("https://acme-staging-v02.api.letsencrypt.org/directory", "Let's Encrypt Staging Directory"),
    ("https://acme-v02.api.letsencrypt.org/directory", "Let's Encrypt Production Directory"),
];

const AUTHENTICATORS: Collection =
    Collection { namespace: "acme.dns.authenticator", entry: |s, id| Ok(s.acme.get(id)?.entry()), published: false };

pub(crate) fn register(h: &mut Handlers) {
    h.reads("certificate", |ctx| ctx.machine.state().certificates.entries(), certificate_not_found);
    h.job("certificate.create", create);
    h.job("certificate.update", update);
    h.job("certificate.delete", delete);
    h.call("certificate.acme_server_choices", |_| {
        Ok(Value::Object(ACME_SERVERS.iter().map(|(uri, label)| (uri.to_string(), json!(label))).collect()))
    });
    h.call("certificate.ec_curve_choices", |_| {
        Ok(json!({"SECP256R1": "SECP256R1", "SECP384R1": "SECP384R1", "SECP521R1": "SECP521R1", "ed25519": "ed25519"}))
    });
    h.reads("acme.dns.authenticator", |ctx| ctx.machine.state().acme.entries(), authenticator_not_found);
    h.call("acme.dns.authenticator.create", |ctx| AUTHENTICATORS.create(ctx, |s, data| s.acme.create(&data)));
    h.call("acme.dns.authenticator.update", |ctx| AUTHENTICATORS.update(ctx, |s, id, data| s.acme.update(id, &data)));
    h.call("acme.dns.authenticator.delete", |ctx| {
        AUTHENTICATORS.delete(ctx, |s, id| {
            let used_by = s.certificates.using_authenticator(id);
            s.acme.delete(id, &used_by)
        })
    });
}

/// `certificate.create`: validated inside the job, as the middleware does, so a refusal fails
/// the job; ACME goes through the order steps.
fn create(ctx: &Ctx<'_>) -> JobPlan {
    let data = ctx.with_defaults("certificate.create", 0);
    let machine: Arc<Machine> = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let planned = {
            let state = machine.state();
            state.certificates.plan_create(&data, &state.acme)?
        };
        let acme = data.get("create_type").and_then(Value::as_str) == Some("CERTIFICATE_CREATE_ACME");
        if acme {
            job.steps(&[
                (10, "Registering ACME account"),
                (30, "Creating DNS challenges"),
                (60, "Waiting for DNS propagation"),
                (85, "Finalizing order"),
            ])
            .await;
        } else {
            job.steps(&[(25, "Generating key"), (75, "Saving certificate")]).await;
        }
        let mut state = machine.state();
        let id = state.certificates.insert(planned)?;
        Ok(state.certificates.get(id)?.entry())
    })
}

fn update(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let data = ctx.params.object(1);
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.steps(&[(50, "Updating certificate")]).await;
        let mut state = machine.state();
        state.certificates.update(id, &data)?;
        Ok(state.certificates.get(id)?.entry())
    })
}

fn delete(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        machine.state().certificates.check_delete(id)?;
        job.steps(&[(50, "Deleting certificate"), (90, "Reloading services")]).await;
        machine.state().certificates.delete(id)?;
        Ok(json!(true))
    })
}

#[cfg(test)]
#[path = "certificate_methods_tests.rs"]
mod tests;
