//! `auth.*`: API-key logins (`auth.login_with_api_key`, `auth.login_ex` with `API_KEY_PLAIN`),
//! `auth.me`, `auth.logout`. The simulated NAS has one account, owner of one key; passwords and
//! tokens never succeed.

use serde_json::{Value, json};

use super::{Ctx, Handlers};
use crate::sim::failure::Failure;

pub(super) fn register(h: &mut Handlers) {
    h.call("auth.login_with_api_key", login_with_api_key);
    h.call("auth.login_ex", login_ex);
    h.call("auth.login", refuse_login);
    h.call("auth.login_with_token", refuse_login);
    h.call("auth.mechanism_choices", |_| Ok(json!(["API_KEY_PLAIN", "PASSWORD_PLAIN", "TOKEN_PLAIN", "OTP_TOKEN"])));
    h.call("auth.me", me);
    h.call("auth.logout", logout);
}

/// The account as `auth.me` and `user_info` describe it.
fn user_info(username: &str) -> Value {
    json!({
        "pw_name": username,
        "pw_gecos": "TrueNAS Administrator",
        "pw_dir": format!("/home/{username}"),
        "pw_shell": "/usr/bin/zsh",
        "pw_uid": 950,
        "pw_gid": 950,
        "grouplist": [950, 544],
        "sid": null,
        "source": "LOCAL",
        "local": true,
        "attributes": {},
        "two_factor_config": {"secret_configured": false, "interval": 30, "otp_digits": 6},
        "privilege": {
            "roles": {"$set": ["FULL_ADMIN"]},
            "allowlist": [{"method": "*", "resource": "*"}],
            "web_shell": true,
        },
        "account_attributes": ["LOCAL", "SYS_ADMIN", "API_KEY"],
    })
}

fn login_with_api_key(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let key = ctx.params.str(0)?;
    let ok = key == ctx.machine.config.api_key;
    if ok {
        ctx.session.login(&ctx.machine.config.username);
    }
    tracing::debug!(connection = ctx.session.id, ok, "auth.login_with_api_key");
    Ok(json!(ok))
}

fn login_ex(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let config = &ctx.machine.config;
    let ok = text("mechanism") == Some("API_KEY_PLAIN")
        && text("username") == Some(config.username.as_str())
        && text("api_key") == Some(config.api_key.as_str());
    tracing::debug!(connection = ctx.session.id, ok, mechanism = ?text("mechanism"), "auth.login_ex");
    if !ok {
        return Ok(json!({"response_type": "AUTH_ERR"}));
    }
    ctx.session.login(&config.username);
    let want_info = data.get("login_options").and_then(|o| o.get("user_info")).and_then(Value::as_bool).unwrap_or(true);
    let info = if want_info { user_info(&config.username) } else { Value::Null };
    Ok(json!({"response_type": "SUCCESS", "user_info": info, "authenticator": "LEVEL_1"}))
}

fn refuse_login(_: &Ctx<'_>) -> Result<Value, Failure> {
    Ok(json!(false))
}

fn me(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let user = ctx.session.user().unwrap_or_default();
    Ok(user_info(&user))
}

fn logout(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    ctx.session.logout();
    Ok(json!(true))
}
