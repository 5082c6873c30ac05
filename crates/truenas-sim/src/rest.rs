//! REST `/api/v2.0` of the simulated NAS, as TrueNAS 24.x-25.10 serve it: bearer-key auth
//! (401 `Invalid API key`), each request mapped back to a method and positional params by the
//! client's own rules (`truenas_api::rest`, so one table serves both directions), then the same
//! path as a websocket call: recorded, faults applied, validated against the release's schema,
//! run by the same handler (a job method answers its job id), errors in REST's shapes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::dispatch;
use super::failure::{Failure, errno};
use super::machine::Machine;
use super::session::Session;
use super::tls::Peer;
use truenas_api::rest::map::{self as rest_map, MapError};
use truenas_api::schema::MethodTable;

/// Serves one REST request.
pub(crate) async fn serve(
    State(machine): State<Arc<Machine>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    verb: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // TLS, or plain HTTP from loopback, as the middleware judges it.
    let secure = peer.secure();
    if let Err(text) = authenticate(&machine, &headers, secure) {
        return (StatusCode::UNAUTHORIZED, text).into_response();
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(value) => Some(value),
            Err(e) => {
                let reply = json!({"message": format!("json parse error: {e}"), "errno": errno::EINVAL});
                return json_reply(StatusCode::BAD_REQUEST, &reply);
            }
        }
    };
    let path = match uri.query() {
        Some(query) => format!("{}?{query}", uri.path()),
        None => uri.path().to_string(),
    };
    let table = MethodTable::get(machine.config.release);
    let (method, params) = match rest_map::from_http(verb.as_str(), &path, body.as_ref(), table) {
        Ok(call) => call,
        Err(MapError::NoRoute { .. }) => return (StatusCode::NOT_FOUND, "404: Not Found").into_response(),
        Err(e) => return json_reply(StatusCode::BAD_REQUEST, &json!({"message": e.to_string()})),
    };
    let session = Arc::new(Session::new(machine.next_connection_id(), secure));
    session.login(&machine.config.username);
    machine.recorder.record(session.id, &method, &params);
    tracing::debug!(request = session.id, %method, "simulated NAS: REST call");
    if machine.faults.take_drop(&method) {
        tracing::debug!(request = session.id, %method, "simulated NAS: dropping the connection (fault)");
        return dropped();
    }
    let result = match machine.faults.take_failure(&method) {
        Some(e) => Err(Failure::injected(&e.errname, &e.reason)),
        None => dispatch::call(&machine, &session, None, &method, &params).await,
    };
    let latency = machine.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match result {
        Ok(value) => json_reply(StatusCode::OK, &value),
        // REST reads an item with a `get` query, whose miss is MatchNotFound (404).
        Err(failure) if method.ends_with(".get_instance") && failure.not_found_message().is_some() => {
            json_reply(StatusCode::NOT_FOUND, &json!({"message": failure.not_found_message()}))
        }
        Err(failure) => {
            let (status, reply) = failure.to_rest();
            json_reply(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &reply)
        }
    }
}

/// Checks `Authorization: Bearer <key>`; a refusal is the text of TrueNAS's 401. A right key
/// over an insecure transport is revoked, as TrueNAS does.
fn authenticate(machine: &Machine, headers: &HeaderMap, secure: bool) -> Result<(), &'static str> {
    let unauthorized = |text: &'static str| text;
    let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(unauthorized("401: Unauthorized"));
    };
    let Some(key) = auth.strip_prefix("Bearer ") else {
        return Err(unauthorized("401: Unauthorized"));
    };
    if key != machine.config.api_key || machine.key_revoked.load(Ordering::SeqCst) {
        return Err(unauthorized("Invalid API key"));
    }
    if !secure {
        machine.key_revoked.store(true, Ordering::SeqCst);
        tracing::warn!("simulated NAS: API key revoked due to insecure transport");
        return Err(unauthorized("Invalid API key"));
    }
    Ok(())
}

fn json_reply(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// A reply whose body fails at once: the connection closes after the headers, as a NAS that
/// goes away mid-call.
fn dropped() -> Response {
    let gone = futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("dropped")) });
    Response::new(Body::from_stream(gone))
}
