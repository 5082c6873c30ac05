//! Version routes: which middleware method an action calls on each TrueNAS release.
//!
//! An action's `method` and `params` are those of the current releases (25.10 and later).
//! Where an older release names the method differently or takes other params, the action adds
//! `[[action.route]]` tables:
//!
//! ```toml
//! [[action.route]]
//! releases = ["24.10"]            # release names, as `Release::name` spells them
//! method = "service.start"        # the method on those releases
//! params = ["$service", {}]       # optional: the action's own `params` when left out
//!
//! [[action.route]]
//! releases = ["24.10"]
//! unavailable = "added in 25.10"  # the action cannot run there; said in the error
//! ```
//!
//! A route's params template follows the rules of `template.rs` and may leave arguments out
//! (an old signature can lack what a new one takes). A release no route names uses the
//! action's own method; when that release's table lacks it, the call is refused before
//! anything is sent, naming the method and the release.

use serde_json::{Map, Value};

use super::args::ValidArgs;
use super::diagnostics::Severity;
use super::diagnostics::{Findings, Loc};
use super::model::{ActionDef, CONFIRM};
use super::parse::{RawAction, RawRoute};
use super::template::{self, Context, MappingError, Template};
use crate::ids::MethodName;
use crate::schema::{MethodTable, Release};

/// The method (and params, when they differ) an action calls on some releases, or why it
/// cannot run there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Route {
    pub(crate) releases: Vec<Release>,
    pub(crate) target: Target,
}

/// What a route does on its releases.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// Call `method`; `params` is `None` to reuse the action's own template.
    Call { method: MethodName, params: Option<RouteParams> },
    /// The action cannot run there; the text says why or what to use instead.
    Unavailable(String),
}

/// A route's own params template with the arguments its `$rest` gathers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RouteParams {
    positions: Vec<Template>,
    rest: Vec<bool>,
}

/// Checks the routes of one action; `None` after reporting any problem.
pub(crate) fn check(raw: &RawAction, findings: &mut Findings) -> Option<Vec<Route>> {
    let mut routes = Vec::with_capacity(raw.routes.len());
    let mut named: Vec<Release> = Vec::new();
    let mut ok = true;
    for route in &raw.routes {
        match check_one(raw, route, &mut named, findings) {
            Some(r) => routes.push(r),
            None => ok = false,
        }
    }
    ok.then_some(routes)
}

fn check_one(raw: &RawAction, route: &RawRoute, named: &mut Vec<Release>, findings: &mut Findings) -> Option<Route> {
    let loc = &route.loc;
    let errors = findings.all.len();
    let mut releases = Vec::new();
    for name in &route.releases {
        match Release::from_name(name) {
            Some(r) if named.contains(&r) => findings.error(loc, format!("route: release `{name}` is routed twice")),
            Some(r) => {
                named.push(r);
                releases.push(r);
            }
            None => {
                let known: Vec<String> = Release::KNOWN.iter().map(|r| format!("`{}`", r.name())).collect();
                findings.error(loc, format!("route: unknown release `{name}` (known: {})", known.join(", ")));
            }
        }
    }
    let target = match (&route.method, &route.unavailable) {
        (Some(method), None) => {
            for release in &releases {
                if !MethodTable::get(*release).contains(method) {
                    findings.error(loc, format!("route: method `{method}` does not exist on TrueNAS {release}"));
                }
            }
            let params = route.params.as_ref().map(|p| parse_params(raw, p, loc, findings));
            Target::Call { method: MethodName::new(method), params }
        }
        (None, Some(note)) if route.params.is_none() && !note.trim().is_empty() => Target::Unavailable(note.clone()),
        (None, Some(_)) => {
            findings.error(loc, "route: `unavailable` takes a non-empty text and no `params`");
            Target::Unavailable(String::new())
        }
        _ => {
            findings.error(loc, "route: give either `method` (with optional `params`) or `unavailable`");
            Target::Unavailable(String::new())
        }
    };
    let clean = findings.all[errors..].iter().all(|d| d.severity != Severity::Error);
    clean.then_some(Route { releases, target })
}

fn parse_params(raw: &RawAction, value: &toml::Value, loc: &Loc, findings: &mut Findings) -> RouteParams {
    let toml::Value::Array(items) = value else {
        findings.error(loc, "route: `params` must be an array: the positional params of the method");
        return RouteParams { positions: Vec::new(), rest: Vec::new() };
    };
    let mut used = vec![false; raw.args.len()];
    let mut problems = Vec::new();
    let positions: Vec<Template> =
        items.iter().map(|v| template::parse(v, &raw.args, &mut used, &mut problems)).collect();
    for p in problems {
        findings.error(loc, format!("route: {p}"));
    }
    if let Some((_, before)) = positions.split_last() {
        for (i, t) in before.iter().enumerate() {
            if t.may_be_absent(&raw.args) {
                findings.error(loc, format!("route: `params` position {i} can be absent while a later one is present"));
            }
        }
    }
    let has_rest = positions.iter().any(template::contains_rest);
    let rest = raw.args.iter().zip(&used).map(|(a, u)| has_rest && !u && a.name != CONFIRM).collect();
    RouteParams { positions, rest }
}

impl Route {
    /// Whether the route says the action cannot run on its releases.
    pub(crate) fn is_unavailable(&self) -> bool {
        matches!(self.target, Target::Unavailable(_))
    }
}

impl ActionDef {
    /// The route that applies on `release`, if any.
    fn route_for(&self, release: Release) -> Option<&Route> {
        self.routes.iter().find(|r| r.releases.contains(&release))
    }

    /// The middleware method the action calls on `release`: its route's, else its own. Refused
    /// when a route says it cannot run there or the release's table lacks the method.
    pub fn method_for(&self, release: Release) -> Result<&MethodName, MappingError> {
        let unavailable = |method: &MethodName, note: Option<&str>| MappingError::Unavailable {
            action: self.name.clone(),
            method: method.clone(),
            release,
            note: note.map(str::to_string),
        };
        let method = match self.route_for(release).map(|r| &r.target) {
            Some(Target::Unavailable(note)) => return Err(unavailable(&self.method, Some(note))),
            Some(Target::Call { method, .. }) => method,
            None => &self.method,
        };
        if !self.rest_call && !MethodTable::get(release).contains(method.as_str()) {
            return Err(unavailable(method, self.unavailable.as_deref()));
        }
        Ok(method)
    }

    /// The middleware method and positional params a call with `args` makes on `release`: the
    /// route for that release if there is one, else the action's own method and params. The raw
    /// escape hatch resolves as [`ActionDef::resolve`] does.
    pub fn resolve_for(&self, release: Release, args: &ValidArgs<'_>) -> Result<(MethodName, Value), MappingError> {
        if self.rest_call {
            return self.resolve(args);
        }
        let method = self.method_for(release)?.clone();
        let args = args.for_action(self)?;
        // Arguments only some releases have: given elsewhere, they are refused, saying why.
        for def in &self.args {
            if !def.exists_on(release) && args.contains_key(&def.name) {
                return Err(MappingError::ArgUnavailable {
                    action: self.name.clone(),
                    arg: def.name.clone(),
                    release,
                    note: def.compat.clone(),
                });
            }
        }
        let (positions, rest) = self.template_for(release);
        let params = template::build(positions, &Context { action: &self.name, defs: &self.args, args, rest })?;
        Ok((method, params))
    }

    /// The params template (and what its `$rest` gathers) the action uses on `release`.
    pub(crate) fn template_for(&self, release: Release) -> (&[Template], &[bool]) {
        match self.route_for(release).map(|r| &r.target) {
            Some(Target::Call { params: Some(own), .. }) => (&own.positions, &own.rest),
            _ => (&self.params, &self.rest),
        }
    }

    /// Every method the action may call, its own first, then those of its routes.
    pub fn methods(&self) -> impl Iterator<Item = &MethodName> {
        let routed = self.routes.iter().filter_map(|r| match &r.target {
            Target::Call { method, .. } => Some(method),
            Target::Unavailable(_) => None,
        });
        std::iter::once(&self.method).chain(routed)
    }

    /// [`ActionDef::validate_args`], then [`ActionDef::resolve_for`]: for callers that hold
    /// arguments no one validated yet (tests, tools over the catalog).
    pub fn check_and_resolve_for(
        &self,
        release: Release,
        args: &Map<String, Value>,
    ) -> Result<(MethodName, Value), MappingError> {
        self.resolve_for(release, &self.validate_args(args)?)
    }

    /// The releases some route of the action names.
    pub fn routed_releases(&self) -> impl Iterator<Item = Release> + '_ {
        self.routes.iter().flat_map(|r| r.releases.iter().copied())
    }
}
