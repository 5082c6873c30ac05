//! `auth.*`: API-key logins (`auth.login_with_api_key`, `auth.login_ex` with `API_KEY_PLAIN`),
//! `auth.me`, `auth.logout`. The simulated NAS has one account, owner of one key; passwords and
//! tokens never succeed.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};
use truenas_api::schema::Release;

pub(crate) fn register(h: &mut Handlers) {
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

/// What a presented API key amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyCheck {
    Valid,
    Wrong,
    /// Revoked, now or earlier, for travelling over an insecure transport.
    Expired,
}

/// Checks `key` (and, for `auth.login_ex`, its owner). A right key sent over plain HTTP from
/// another host is revoked on the spot, as TrueNAS does.
fn check_key(ctx: &Ctx<'_>, username: Option<&str>, key: &str) -> KeyCheck {
    let config = &ctx.machine.config;
    if key != config.api_key || username.is_some_and(|u| u != config.username) {
        return KeyCheck::Wrong;
    }
    if ctx.machine.key_revoked.load(Ordering::SeqCst) {
        return KeyCheck::Expired;
    }
    if !ctx.session.secure_transport {
        ctx.machine.key_revoked.store(true, Ordering::SeqCst);
        tracing::warn!(connection = ctx.session.id, "simulated NAS: API key revoked due to insecure transport");
        return KeyCheck::Expired;
    }
    ctx.session.login(&config.username);
    KeyCheck::Valid
}

fn login_with_api_key(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let outcome = check_key(ctx, None, ctx.params.str(0)?);
    tracing::debug!(connection = ctx.session.id, ?outcome, "auth.login_with_api_key");
    Ok(json!(outcome == KeyCheck::Valid))
}

fn login_ex(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let outcome = match (text("mechanism"), text("username"), text("api_key")) {
        (Some("API_KEY_PLAIN"), Some(user), Some(key)) => check_key(ctx, Some(user), key),
        _ => KeyCheck::Wrong,
    };
    tracing::debug!(connection = ctx.session.id, ?outcome, mechanism = ?text("mechanism"), "auth.login_ex");
    match outcome {
        KeyCheck::Wrong => Ok(json!({"response_type": "AUTH_ERR"})),
        KeyCheck::Expired => Ok(json!({"response_type": "EXPIRED"})),
        KeyCheck::Valid => {
            let want_info =
                data.get("login_options").and_then(|o| o.get("user_info")).and_then(Value::as_bool).unwrap_or(true);
            let info = if want_info { user_info(&ctx.machine.config.username) } else { Value::Null };
            let mut success = json!({"response_type": "SUCCESS", "user_info": info, "authenticator": "LEVEL_1"});
            if ctx.machine.config.release >= Release::V26_0 {
                // 26.0 added reconnect tokens; null unless the login asked for one.
                success["reconnect_token"] = Value::Null;
            }
            Ok(success)
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::machine::Machine;
    use crate::params::Params;
    use crate::session::Session;
    use crate::{DEMO_API_KEY, DEMO_USERNAME, SimConfig};

    fn login(machine: &Arc<Machine>, session: &Arc<Session>, params: Value) -> Value {
        let ctx = Ctx { machine, session, params: Params::new("auth.login_ex", &params) };
        login_ex(&ctx).unwrap()
    }

    #[test]
    fn a_key_sent_over_an_insecure_transport_is_revoked() {
        let machine = Arc::new(Machine::new(SimConfig::default()));
        let remote = Arc::new(Session::new(1, false));
        let local = Arc::new(Session::new(2, true));
        let params = json!([{"mechanism": "API_KEY_PLAIN", "username": DEMO_USERNAME, "api_key": DEMO_API_KEY}]);
        assert_eq!(login(&machine, &remote, params.clone()), json!({"response_type": "EXPIRED"}));
        assert!(!remote.is_authenticated());
        // The key is gone for everyone, even over loopback.
        assert_eq!(login(&machine, &local, params), json!({"response_type": "EXPIRED"}));
        let key = json!([DEMO_API_KEY]);
        let ctx = Ctx { machine: &machine, session: &local, params: Params::new("x", &key) };
        assert_eq!(login_with_api_key(&ctx).unwrap(), json!(false));
        assert!(!local.is_authenticated());
    }

    #[test]
    fn a_wrong_key_over_an_insecure_transport_revokes_nothing() {
        let machine = Arc::new(Machine::new(SimConfig::default()));
        let remote = Arc::new(Session::new(1, false));
        let local = Arc::new(Session::new(2, true));
        let wrong = json!([{"mechanism": "API_KEY_PLAIN", "username": DEMO_USERNAME, "api_key": "1-x"}]);
        assert_eq!(login(&machine, &remote, wrong), json!({"response_type": "AUTH_ERR"}));
        let right = json!([{"mechanism": "API_KEY_PLAIN", "username": DEMO_USERNAME, "api_key": DEMO_API_KEY}]);
        assert_eq!(login(&machine, &local, right)["response_type"], "SUCCESS");
        assert!(local.is_authenticated());
    }
}
