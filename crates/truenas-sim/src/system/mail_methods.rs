//! `mail.*`: the SMTP settings and `mail.send`, a job that puts the message in the simulated
//! outbox. Without recipients a message goes to the administrators' addresses.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use truenas_api::schema::Release;

pub(crate) fn register(h: &mut Handlers) {
    h.call("mail.config", |ctx| Ok(ctx.machine.state().settings.mail.config()));
    h.call("mail.update", |ctx| ctx.machine.state().settings.mail.update(&ctx.params.object(0)));
    h.job("mail.send", send);
    h.call("mail.local_administrator_email", |ctx| Ok(json!(admin_emails(ctx.machine).into_iter().next())));
}

/// Addresses of users holding the full administrator role.
fn admin_emails(machine: &Machine) -> Vec<String> {
    let state = machine.state();
    let account = &state.account;
    let mut users: Vec<Value> = account.view().user_entries();
    users.retain(|u| u["roles"].as_array().is_some_and(|r| r.contains(&json!("FULL_ADMIN"))));
    users.iter().filter_map(|u| u["email"].as_str().map(str::to_string)).collect()
}

fn send(ctx: &Ctx<'_>) -> JobPlan {
    let message = ctx.params.object(0);
    let overrides = ctx.params.object(1);
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.progress(30, "Connecting to the mail server");
        job.step().await;
        let fallback = admin_emails(&machine);
        machine.state().settings.mail.send(&message, &overrides, fallback)?;
        job.progress(90, "Message sent");
        job.step().await;
        // 25.10 answers `true`; 26.0 answers `null`.
        Ok(if machine.config.release >= Release::V26_0 { Value::Null } else { json!(true) })
    })
}

#[cfg(test)]
#[path = "mail_methods_tests.rs"]
mod tests;
