//! The REST transport, for releases without JSON-RPC (24.04, 24.10): each call is one HTTP
//! request to `/api/v2.0` with `Authorization: Bearer <key>`, shaped by `truenas_api::rest::map`, on the same
//! per-connection TLS settings as the websocket. TrueNAS's REST error replies become the same
//! `NasError`s as JSON-RPC errors; jobs are followed by polling (`rest_jobs`).

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::error::{FieldError, NasError, RpcError};
use super::{ApiKey, Endpoint, NasConfig};
use crate::schema::{MethodTable, Release};
use truenas_api::errno;
use truenas_api::rest::map::{self as rest_map, HttpCall, Verb};

/// A REST client for one NAS. Stateless on the wire: every request carries the key.
pub(crate) struct RestClient {
    http: reqwest::Client,
    endpoint: Endpoint,
    key: ApiKey,
    // Named in the auth error, as the websocket login does.
    username: Option<String>,
    // Bounds requests in flight, as on the websocket.
    slots: Arc<Semaphore>,
    pub(crate) timeout: Duration,
}

impl RestClient {
    /// Checks the key and learns the release with `GET /system/version`.
    pub(crate) async fn open(config: &NasConfig) -> Result<(RestClient, Release, String), NasError> {
        let client = RestClient {
            http: config.http.clone(),
            endpoint: config.endpoint.clone(),
            key: config.api_key.clone(),
            username: config.username.clone(),
            slots: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            timeout: config.call_timeout,
        };
        let request = HttpCall { verb: Verb::Get, path: "/system/version".into(), query: Vec::new(), body: None };
        let version = client.send("system.version", &request).await.map_err(|e| match e {
            NasError::ConnectionLost { .. } => NasError::Connect {
                url: client.endpoint.http_url("/api/v2.0/system/version"),
                reason: "the connection failed".into(),
            },
            NasError::RestUnsupported(_) => NasError::Connect {
                url: client.endpoint.http_url("/api"),
                reason: "the NAS serves neither JSON-RPC (`GET /api/versions` is 404) nor REST `/api/v2.0`".into(),
            },
            other => other,
        })?;
        let version = version.as_str().unwrap_or_default().to_string();
        let release =
            Release::from_version_string(&version).ok_or_else(|| NasError::UnsupportedRelease(version.clone()))?;
        Ok((client, release, version))
    }

    /// Calls `method` with its positional params on a NAS of `table`'s release.
    pub(crate) async fn call(&self, table: &MethodTable, method: &str, params: &Value) -> Result<Value, NasError> {
        let request = rest_map::to_http(method, params, table).map_err(|e| NasError::RestUnsupported(e.to_string()))?;
        self.send(method, &request).await
    }

    /// Sends one request and decodes TrueNAS's answer.
    pub(crate) async fn send(&self, method: &str, call: &HttpCall) -> Result<Value, NasError> {
        let lost = |sent| NasError::ConnectionLost { method: method.to_string(), sent };
        let _slot = self.slots.acquire().await.map_err(|_| lost(false))?;
        let url = self.endpoint.http_url(&format!("/api/v2.0{}", call.path_and_query()));
        let verb = match call.verb {
            Verb::Get => reqwest::Method::GET,
            Verb::Post => reqwest::Method::POST,
            Verb::Put => reqwest::Method::PUT,
            Verb::Delete => reqwest::Method::DELETE,
        };
        // The path is left out: it carries argument values (ids, dataset names).
        tracing::debug!(%method, verb = call.verb.as_str(), "TrueNAS REST call");
        let mut request = self.http.request(verb, url).bearer_auth(self.key.expose()).timeout(self.timeout);
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let failed = |e: reqwest::Error, sent: bool| {
            if e.is_timeout() {
                NasError::Timeout { method: method.to_string(), after: self.timeout, write: false }
            } else {
                lost(sent && !e.is_connect())
            }
        };
        let response = request.send().await.map_err(|e| failed(e, true))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| failed(e, true))?;
        self.decode(method, status, &bytes)
    }

    fn decode(&self, method: &str, status: StatusCode, bytes: &[u8]) -> Result<Value, NasError> {
        let json: Option<Value> = serde_json::from_slice(bytes).ok();
        let message = json.as_ref().and_then(|j| j.get("message")).and_then(Value::as_str).map(str::to_string);
        match status.as_u16() {
            200..=299 if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Null),
            200..=299 => json.ok_or_else(|| NasError::Protocol(format!("`{method}` answered with something not JSON"))),
            401 => Err(NasError::AuthFailed { user: self.username.clone() }),
            403 => Err(NasError::Rpc(call_error(13, "Not authorized".into()))),
            404 => match message {
                // MatchNotFound: the route exists, the item does not.
                Some(message) => Err(NasError::Rpc(call_error(errno::ENOENT, message))),
                None => Err(NasError::RestUnsupported(format!("TrueNAS has no REST route for `{method}`"))),
            },
            422 => Err(NasError::Rpc(unprocessable(&json.unwrap_or(Value::Null)))),
            400 => Err(NasError::Protocol(format!(
                "TrueNAS refused the REST request for `{method}`: {}",
                message.unwrap_or_else(|| String::from_utf8_lossy(bytes).trim().to_string())
            ))),
            _ => Err(NasError::Rpc(RpcError {
                code: errno::rpc::CALL_ERROR,
                message: "Method call error".into(),
                errno: None,
                errname: None,
                reason: Some(message.unwrap_or_else(|| format!("HTTP {status}"))),
                fields: Vec::new(),
            })),
        }
    }
}

/// A 422 body: a `CallError` (`{"message", "errno"}`) or validation errors (`{attr: [{..}]}`).
fn unprocessable(body: &Value) -> RpcError {
    if let (Some(message), errno) = (body.get("message").and_then(Value::as_str), body.get("errno")) {
        return call_error(errno.and_then(Value::as_i64).unwrap_or(errno::EFAULT), message.to_string());
    }
    let fields: Vec<FieldError> = body
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(attribute, items)| {
            let attribute = (attribute != "null").then(|| attribute.clone());
            items.as_array().into_iter().flatten().filter_map(move |item| {
                Some(FieldError {
                    attribute: attribute.clone(),
                    message: item.get("message")?.as_str()?.to_string(),
                    errno: item.get("errno").and_then(Value::as_i64),
                })
            })
        })
        .collect();
    RpcError {
        code: errno::rpc::INVALID_PARAMS,
        message: "Invalid params".into(),
        errno: Some(errno::EINVAL),
        errname: Some("EINVAL".into()),
        reason: None,
        fields,
    }
}

/// A `CallError` as JSON-RPC would carry it: errname from the errno, reason `[ERRNAME] message`.
fn call_error(errno: i64, message: String) -> RpcError {
    let name = errno::name(errno);
    RpcError {
        code: errno::rpc::CALL_ERROR,
        message: "Method call error".into(),
        errno: Some(errno),
        errname: Some(name.to_string()),
        reason: Some(format!("[{name}] {message}")),
        fields: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_error_reads_like_its_json_rpc_twin() {
        let e = unprocessable(&json!({"message": "VM 9 does not exist", "errno": 2}));
        assert_eq!(e.to_string(), "TrueNAS ENOENT: VM 9 does not exist");
        assert_eq!(e.errno, Some(2));
    }

    #[test]
    fn validation_errors_keep_each_field() {
        let e = unprocessable(&json!({
            "vm_create.memory": [{"message": "Field required", "errno": 22}],
            "vm_create.name": [{"message": "Too short", "errno": 22}],
        }));
        assert_eq!(
            e.to_string(),
            "TrueNAS rejected the arguments: vm_create.memory: Field required; vm_create.name: Too short"
        );
        let missing = unprocessable(&json!({"null": [{"message": "VM 99 does not exist", "errno": 2}]}));
        assert_eq!(missing.to_string(), "TrueNAS ENOENT: VM 99 does not exist");
    }
}
