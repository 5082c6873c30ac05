//! The rmcp `ServerHandler`: tools (the `truenas` tool or one tool per action, the latter with
//! structured results: `output.rs`), resources, logging (`logging.rs`), and the bridge from
//! TrueNAS job progress to MCP progress notifications and log messages. Every call goes
//! through the [`Gateway`]; this file only speaks MCP.
//!
//! `tools/list` is in a fixed order: flat mode lists the catalog's actions by category (in the
//! reference's order) and, within one, in `tools/*.toml` order, then `policy_status`.

use std::sync::Arc;

use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestMethod, CompleteRequestParams, CompleteResult,
    CustomRequest, CustomResult, GetPromptRequestMethod, GetPromptRequestParams, GetPromptResponse, Implementation,
    JsonObject, ListPromptsRequestMethod, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
// Logging is deprecated by SEP-2577 in rmcp, but clients of 2025-06-18 and 2025-11-25 use it.
#[allow(deprecated)]
use rmcp::model::SetLevelRequestParams;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tokio::sync::mpsc;

use super::elicit;
use super::hierarchical::{self, Lookup, Step};
use super::logging::{self, Threshold};
use super::output::Outputs;
use super::reply;
use super::resources::{self, ResourceDef};
use super::session::SessionState;
use crate::catalog::ActionDef;
use crate::config::ToolMode;
use crate::gateway::{CallError, Event, Gateway, Invocation};
use crate::ids::{GrantId, JobId};
use crate::nas::{JobProgress, ProgressSink};
use crate::policy::{AuditTransport, ErrorSummary, RecordKind};
use crate::schema::Release;

#[path = "policy_status.rs"]
mod policy_status;

/// The audit word (action and error kind) of a request for a method this server does not offer.
const UNKNOWN_METHOD: &str = "unknown_method";

/// The MCP server. Cheap to clone: one per HTTP session shares the same gateway.
#[derive(Clone)]
pub struct TrueNasServer {
    gateway: Arc<Gateway>,
    mode: ToolMode,
    resources: Arc<Vec<ResourceDef>>,
    // The grant of calls that carry none (stdio, or HTTP without tokens).
    default_grant: GrantId,
    // Categories this client sees; empty means all.
    categories: Arc<Vec<String>>,
    // Whether a client that declared elicitation is asked to approve calls (the operator can
    // turn it off so that only out-of-band answers count).
    elicitation: bool,
    // Output schemas and validators of flat tools, shared by every session.
    outputs: Arc<Outputs>,
    // This session's own: log level, listed release, event forwarder.
    session: Arc<SessionState>,
}

impl TrueNasServer {
    /// A server over `gateway` exposing tools in `mode`; calls without an HTTP grant are
    /// attributed to `default_grant`.
    pub fn new(gateway: Arc<Gateway>, mode: ToolMode, default_grant: GrantId) -> TrueNasServer {
        let resources = resources::builtin().unwrap_or_else(|e| {
            tracing::error!(error = %e, "tools/resources.toml is broken; no resources offered");
            Vec::new()
        });
        TrueNasServer {
            gateway,
            mode,
            resources: Arc::new(resources),
            default_grant,
            categories: Arc::default(),
            elicitation: true,
            outputs: Arc::default(),
            session: Arc::default(),
        }
    }

    /// The same server for a new session: shared gateway and caches, its own log level,
    /// listing and event forwarder.
    pub fn for_session(&self) -> TrueNasServer {
        TrueNasServer { session: Arc::default(), ..self.clone() }
    }

    /// The release a listing is made for: the connected NAS's, else the last connected one's,
    /// else the release the catalog names its methods for (25.10).
    fn listing_release(&self) -> Release {
        self.gateway.nas().last_release().unwrap_or(crate::gateway::DEFAULT_RELEASE)
    }

    /// Whether to ask clients that declared elicitation to approve calls (on by default).
    pub fn with_elicitation(mut self, enabled: bool) -> TrueNasServer {
        self.elicitation = enabled;
        self
    }

    /// Narrows what this client sees to some categories (all when `categories` is empty).
    pub fn with_categories(mut self, categories: &[String]) -> TrueNasServer {
        self.categories = Arc::new(categories.to_vec());
        self
    }

    fn in_scope(&self, action: &ActionDef) -> bool {
        self.categories.is_empty() || self.categories.contains(&action.category)
    }

    fn visible(&self) -> impl Fn(&ActionDef) -> bool + '_ {
        |action| self.in_scope(action) && self.gateway.is_visible(action)
    }

    fn grant(&self, ctx: &RequestContext<RoleServer>) -> GrantId {
        ctx.extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<GrantId>())
            .cloned()
            .unwrap_or_else(|| self.default_grant.clone())
    }

    /// HTTP requests carry their parts; anything else came over stdio.
    fn transport(ctx: &RequestContext<RoleServer>) -> AuditTransport {
        if ctx.extensions.get::<Parts>().is_some() { AuditTransport::Http } else { AuditTransport::Stdio }
    }

    /// Audits a request answered without an action. When its record cannot be written, a
    /// successful answer is replaced by a refusal: nothing goes unrecorded.
    async fn answered(
        &self,
        ctx: &RequestContext<RoleServer>,
        lookup: Lookup,
        args: &JsonObject,
        result: rmcp::model::CallToolResult,
    ) -> rmcp::model::CallToolResult {
        let grant = self.grant(ctx);
        let failed = lookup.error.is_some();
        let event = Event {
            grant: &grant,
            transport: Self::transport(ctx),
            kind: lookup.kind,
            action: &lookup.action,
            args,
            error: lookup.error,
        };
        match self.gateway.audit_event(event).await {
            Err(e) if !failed => reply::failure(&CallError::AuditUnavailable(e), &[]),
            _ => result,
        }
    }

    /// Audits a request refused before any action ran (the refusal stands either way).
    async fn refused(&self, ctx: &RequestContext<RoleServer>, kind: RecordKind, action: &str, error: ErrorSummary) {
        let grant = self.grant(ctx);
        let empty = JsonObject::new();
        let event =
            Event { grant: &grant, transport: Self::transport(ctx), kind, action, args: &empty, error: Some(error) };
        let _ = self.gateway.audit_event(event).await;
    }

    /// Audits a protocol request that runs no action (ping, a listing, a method this server does
    /// not offer), under a fixed word, never the name the client sent. A request answered with
    /// success is refused when its record cannot be written: nothing goes unrecorded.
    async fn protocol(
        &self,
        ctx: &RequestContext<RoleServer>,
        action: &str,
        error: Option<&'static str>,
    ) -> Result<(), McpError> {
        let grant = self.grant(ctx);
        let empty = JsonObject::new();
        let kind = if error.is_some() { RecordKind::Refusal } else { RecordKind::Lookup };
        let event = Event {
            grant: &grant,
            transport: Self::transport(ctx),
            kind,
            action,
            args: &empty,
            error: error.map(ErrorSummary::new),
        };
        match self.gateway.audit_event(event).await {
            Err(e) if error.is_none() => Err(reply::audit_unavailable(e)),
            _ => Ok(()),
        }
    }

    /// The tools this client sees, with the output schemas of `release` in flat mode. Flat mode
    /// leaves out the actions the policy denies outright (unless it says `x-list-denied`);
    /// calling one still answers with its denial.
    fn tools(&self, release: Release) -> Vec<Tool> {
        let catalog = self.gateway.catalog();
        let visible = self.visible();
        match self.mode {
            ToolMode::Hierarchical => vec![hierarchical::tool(catalog, &visible, &self.extra_categories())],
            ToolMode::Flat => catalog
                .actions()
                .filter(|a| visible(a) && self.gateway.listed(&self.gateway.standing(a)))
                .map(|a| flat_tool(a, self.outputs.schema(a, release)))
                .chain(self.policy_status_listed().then(policy_status::flat_tool))
                .collect(),
        }
    }

    async fn run(
        &self,
        action: &ActionDef,
        params: JsonObject,
        ctx: &RequestContext<RoleServer>,
        request: &CallToolRequestParams,
    ) -> CallToolResponse {
        let grant = self.grant(ctx);
        let secrets = crate::redact::secret_values(&params);
        let threshold = self.session.threshold.for_request(ctx);
        let (progress, forwarder) = progress_bridge(ctx, &threshold, action.name.as_str(), &secrets);
        let call = Invocation {
            grant: &grant,
            action: action.name.as_str(),
            args: params,
            progress,
            cancel: ctx.ct.clone(),
            transport: Self::transport(ctx),
            kind: RecordKind::Call,
        };
        let elicitation = elicit::for_call(ctx, request, self.elicitation);
        let outcome = self.gateway.execute_asking(call, elicitation.as_ref().map(|e| Arc::clone(&e.asker))).await;
        // The sink was dropped with the call: let the last notifications out before the result.
        if let Some(forwarder) = forwarder {
            let _ = forwarder.await;
        }
        match outcome {
            Ok(done) if self.mode == ToolMode::Flat => {
                // Checked against the structure this session was shown, whatever the NAS runs now.
                let release = self.session.listed().unwrap_or_else(|| self.listing_release());
                reply::success_with(done, |whole, done| self.outputs.structured(action, release, done, whole)).into()
            }
            Ok(done) => reply::success(done).into(),
            Err(e) => {
                // 2026-07-28: the form goes back in the result; the retry carries the answer.
                let ask = match &e {
                    CallError::ApprovalRequired { id, .. } if elicit::deferred(elicitation.as_ref()) => {
                        self.gateway.approvals().get(id).as_ref().and_then(elicit::input_required)
                    }
                    _ => None,
                };
                match ask {
                    Some(ask) => ask.into(),
                    None => reply::failure(&e, &secrets).into(),
                }
            }
        }
    }
}

/// The resource template of TrueNAS jobs.
const JOBS_TEMPLATE: &str = "truenas://jobs/{id}";
const JOBS_PREFIX: &str = "truenas://jobs/";

fn json_contents(uri: &str, value: &serde_json::Value) -> ResourceContents {
    ResourceContents::TextResourceContents {
        uri: uri.to_string(),
        mime_type: Some("application/json".into()),
        text: reply::pretty(value),
        meta: None,
    }
}

/// One MCP tool for one action (flat mode), with its output schema if it has one.
fn flat_tool(action: &ActionDef, output: Option<Arc<JsonObject>>) -> Tool {
    let a = action.annotations();
    let annotations = ToolAnnotations::new()
        .read_only(a.read_only)
        .destructive(a.destructive)
        .idempotent(a.idempotent)
        .open_world(a.open_world);
    let tool = Tool::new(action.name.to_string(), action.description.clone(), Arc::clone(action.input_schema()))
        .with_annotations(annotations);
    match output {
        Some(schema) => tool.with_raw_output_schema(schema),
        None => tool,
    }
}

/// Turns job progress into MCP progress notifications, in order, when the client asked for
/// them (sent a progress token), and into log messages when its log level takes info.
#[allow(deprecated)]
fn progress_bridge(
    ctx: &RequestContext<RoleServer>,
    threshold: &Threshold,
    action: &str,
    secrets: &[String],
) -> (Option<ProgressSink>, Option<tokio::task::JoinHandle<()>>) {
    let token = ctx.meta.get_progress_token();
    let log = threshold.allows(rmcp::model::LoggingLevel::Info);
    if token.is_none() && !log {
        return (None, None);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<JobProgress>();
    let peer = ctx.peer.clone();
    let (action, secrets) = (action.to_string(), secrets.to_vec());
    let forwarder = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if log && peer.notify_logging_message(logging::job_message(&action, &p, &secrets)).await.is_err() {
                break;
            }
            let Some(token) = &token else { continue };
            // Job 0 is no job: the call itself (waiting for an approval).
            let message = if p.job.0 == 0 {
                p.description.clone()
            } else if p.description.is_empty() {
                format!("TrueNAS job {}", p.job)
            } else {
                format!("TrueNAS job {}: {}", p.job, p.description)
            };
            let note = ProgressNotificationParam::new(token.clone(), p.percent).with_total(100.0).with_message(message);
            if peer.notify_progress(note).await.is_err() {
                break;
            }
        }
    });
    let sink: ProgressSink = Arc::new(move |p| {
        let _ = tx.send(p);
    });
    (Some(sink), Some(forwarder))
}

impl ServerHandler for TrueNasServer {
    fn get_info(&self) -> ServerConfig {
        #[allow(deprecated)]
        let capabilities = ServerCapabilities::builder().enable_tools().enable_resources().enable_logging().build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("truenas-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Manages a TrueNAS SCALE system. Every call passes this server's policy: a call it refuses \
                 answers `[POLICY DENIED] <reason> (rule: <rule>)` and nothing reaches the NAS.",
            )
    }

    async fn ping(&self, ctx: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.protocol(&ctx, "ping", None).await
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.protocol(&ctx, "list_tools", None).await?;
        let release = self.listing_release();
        let tools = self.tools(release);
        self.session.set_listed(release);
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        self.protocol(&ctx, "list_prompts", Some(UNKNOWN_METHOD)).await?;
        Err(reply::unsupported::<ListPromptsRequestMethod>())
    }

    async fn get_prompt(
        &self,
        _request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        self.protocol(&ctx, "get_prompt", Some(UNKNOWN_METHOD)).await?;
        Err(reply::unsupported::<GetPromptRequestMethod>())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        self.protocol(&ctx, "complete", Some(UNKNOWN_METHOD)).await?;
        Err(reply::unsupported::<CompleteRequestMethod>())
    }

    /// Sets the level of this session's log messages, and starts sending it connection events.
    #[allow(deprecated)]
    async fn set_level(&self, request: SetLevelRequestParams, ctx: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.protocol(&ctx, "set_level", None).await?;
        self.session.threshold.set(request.level);
        self.session.forward_events(self.gateway.nas(), ctx.peer.clone());
        Ok(())
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        // The method name is the client's text: recorded as a fixed word only.
        self.protocol(&ctx, UNKNOWN_METHOD, Some(UNKNOWN_METHOD)).await?;
        Err(reply::method_not_found(request.method))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let release = self.session.listed().unwrap_or_else(|| self.listing_release());
        self.tools(release).into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let catalog = self.gateway.catalog();
        let visible = self.visible();
        let empty = JsonObject::new();
        let result = match self.mode {
            ToolMode::Hierarchical if request.name == hierarchical::TOOL_NAME => {
                let args = request.arguments.as_ref();
                if let Some(result) = self.policy_category(&ctx, args).await {
                    return Ok(result.into());
                }
                let hidden = |action: &ActionDef| !self.gateway.is_visible(action);
                let mark = |action: &ActionDef| policy_status::mark(&self.gateway.standing(action));
                let extra = self.extra_categories();
                let view = hierarchical::Listing { mark: &mark, extra: &extra };
                match hierarchical::resolve(catalog, &visible, &hidden, &view, args) {
                    Step::Reply(r, lookup) => self.answered(&ctx, lookup, args.unwrap_or(&empty), *r).await.into(),
                    Step::Execute { action, params } if !self.in_scope(action) => {
                        let error = ErrorSummary::new("out_of_scope");
                        let lookup =
                            Lookup { kind: RecordKind::Refusal, action: action.name.to_string(), error: Some(error) };
                        let refusal = reply::input_error(format!(
                            "action `{}` is not offered in this session (categories: {})",
                            action.name,
                            self.categories.join(", ")
                        ));
                        self.answered(&ctx, lookup, &params, refusal).await.into()
                    }
                    // Boxed: a call's state is large, and rmcp moves each request's future when
                    // it spawns it.
                    Step::Execute { action, params } => Box::pin(self.run(action, params, &ctx, &request)).await,
                }
            }
            ToolMode::Flat if request.name == crate::gateway::POLICY_STATUS && self.policy_status_offered() => {
                self.policy_status_call(&ctx).await.into()
            }
            ToolMode::Flat => match catalog.action(&request.name) {
                Some(action) if visible(action) => {
                    let args = request.arguments.clone().unwrap_or_default();
                    Box::pin(self.run(action, args, &ctx, &request)).await
                }
                _ => {
                    self.refused(&ctx, RecordKind::Refusal, &request.name, ErrorSummary::new("unknown_tool")).await;
                    return Err(reply::tool_not_found(&request.name));
                }
            },
            ToolMode::Hierarchical => {
                self.refused(&ctx, RecordKind::Refusal, &request.name, ErrorSummary::new("unknown_tool")).await;
                return Err(reply::tool_not_found(&request.name));
            }
        };
        Ok(result)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.protocol(&ctx, "list_resources", None).await?;
        let catalog = self.gateway.catalog();
        let policy = self.policy_status_offered().then(|| {
            Resource::new(policy_status::RESOURCE_URI, policy_status::RESOURCE_NAME)
                .with_description(policy_status::RESOURCE_DESCRIPTION)
                .with_mime_type("application/json")
        });
        let listed = self
            .resources
            .iter()
            .filter(|r| r.reads().iter().all(|(_, name)| catalog.action(name).is_some_and(|a| self.visible()(a))))
            .map(|r| {
                Resource::new(r.uri.clone(), r.name.clone())
                    .with_description(r.description.clone())
                    .with_mime_type("application/json")
            })
            .chain(policy)
            .collect();
        Ok(ListResourcesResult::with_all_items(listed))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.protocol(&ctx, "list_resource_templates", None).await?;
        let jobs = ResourceTemplate::new(JOBS_TEMPLATE, "job")
            .with_description("A TrueNAS job: state, progress, result or error. Calls whose job outlives the wait answer with its id.")
            .with_mime_type("application/json");
        let templates = if self.gateway.jobs_visible() { vec![jobs] } else { Vec::new() };
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let not_found = || reply::resource_not_found(&request.uri);
        if let Some(id) = request.uri.strip_prefix(JOBS_PREFIX).filter(|_| self.gateway.jobs_visible()) {
            // Only the canonical spelling names a job (`01`, `+1` name none).
            let Some(id) = id.parse::<u64>().ok().filter(|n| n.to_string() == id) else {
                self.refused(&ctx, RecordKind::Job, "read_resource", ErrorSummary::new("unknown_resource")).await;
                return Err(not_found());
            };
            // Another grant's job answers exactly as a job that does not exist.
            let job = match self.gateway.read_job(&self.grant(&ctx), Self::transport(&ctx), JobId(id)).await {
                Ok(job) => job,
                Err(CallError::NoSuchJob(_)) => return Err(not_found()),
                Err(e) => return Err(reply::resource_error(&e)),
            };
            return Ok(ReadResourceResult::new(vec![json_contents(&request.uri, &job)]).into());
        }
        if request.uri == policy_status::RESOURCE_URI && self.policy_status_offered() {
            return match self.policy_status(&ctx, RecordKind::Resource).await {
                Ok(status) => Ok(ReadResourceResult::new(vec![json_contents(&request.uri, &status)]).into()),
                Err(e) => Err(reply::resource_error(&e)),
            };
        }
        let catalog = self.gateway.catalog();
        // A resource reading a hidden action answers exactly as an unknown URI.
        let visible = self.visible();
        let offered = |r: &&ResourceDef| r.reads().iter().all(|(_, name)| catalog.action(name).is_some_and(&visible));
        let Some(def) = self.resources.iter().filter(offered).find(|r| r.uri == request.uri) else {
            self.refused(&ctx, RecordKind::Resource, "read_resource", ErrorSummary::new("unknown_resource")).await;
            return Err(not_found());
        };
        let grant = self.grant(&ctx);
        let mut gathered = serde_json::Map::new();
        let mut single = None;
        for (key, action) in def.reads() {
            let call = Invocation {
                grant: &grant,
                action,
                args: JsonObject::new(),
                progress: None,
                cancel: ctx.ct.clone(),
                transport: Self::transport(&ctx),
                kind: RecordKind::Resource,
            };
            let done = self.gateway.execute(call).await.map_err(|e| reply::resource_error(&e))?;
            match key {
                Some(key) => {
                    gathered.insert(key.to_string(), done.result);
                }
                None => single = Some(done.result),
            }
        }
        let value = single.unwrap_or(serde_json::Value::Object(gathered));
        Ok(ReadResourceResult::new(vec![json_contents(&def.uri, &value)]).into())
    }
}
