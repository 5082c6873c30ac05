//! `filesystem.*`: paths over `state::fs`. `setperm`, `chown` and `setacl` are jobs sharing the
//! middleware's `perm_change` lock; they validate first, then walk the tree with progress.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::failure::{Failure, Invalid, errno};
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::query;
use crate::storage::fs::{Acl, parse_mode};
use crate::system::audit_methods::record;

pub(crate) fn register(h: &mut Handlers) {
    h.call("filesystem.stat", |ctx| ctx.machine.state().fs.stat(ctx.params.str(0)?));
    h.call("filesystem.listdir", |ctx| {
        let rows = ctx.machine.state().fs.listdir(ctx.params.str(0)?)?;
        query::run(rows, &ctx.params.value(1), &ctx.params.value(2))
    });
    h.call("filesystem.mkdir", |ctx| {
        let data = ctx.params.object(0);
        let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
        let mode = data.get("options").and_then(|o| o.get("mode")).and_then(Value::as_str).unwrap_or("755");
        ctx.machine.state().fs.mkdir(path, mode)
    });
    h.call("filesystem.getacl", |ctx| {
        let simplified = ctx.params.get(1).and_then(Value::as_bool).unwrap_or(true);
        ctx.machine.state().fs.getacl(ctx.params.str(0)?, simplified)
    });
    h.job("filesystem.setperm", setperm);
    h.job("filesystem.chown", chown);
    h.job("filesystem.setacl", setacl);
}

/// The request with the schema's defaults (options, uid/gid) filled in.
fn request(ctx: &Ctx<'_>, method: &str) -> Map<String, Value> {
    let data = ctx.with_defaults(method, 0);
    let text = match method {
        "filesystem.chown" => "Filesystem change owner",
        "filesystem.setperm" => "Filesystem set permission",
        _ => "Filesystem set ACL",
    };
    let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
    record(ctx, method, &format!("{text} {path}"));
    data
}

fn flag(data: &Map<String, Value>, key: &str) -> bool {
    data.get("options").and_then(|o| o.get(key)).and_then(Value::as_bool).unwrap_or(false)
}

/// A uid or gid to set: `None` for absent, null or -1 (unchanged).
fn id(data: &Map<String, Value>, key: &str) -> Option<i64> {
    data.get(key).and_then(Value::as_i64).filter(|id| *id >= 0)
}

/// A `perm_change` job: `work` validates against the state and applies the change to every
/// target path in one go; a recursive request reports the tree walk as an extra step.
fn perm_job(
    ctx: &Ctx<'_>,
    data: Map<String, Value>,
    texts: [&'static str; 3],
    work: impl FnOnce(&Machine, &Map<String, Value>) -> Result<Value, Failure> + Send + 'static,
) -> JobPlan {
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.progress(0, texts[0]);
        let path = data.get("path").and_then(Value::as_str).unwrap_or_default().to_string();
        if flag(&data, "recursive") {
            job.step().await;
            job.progress(10, &format!("{} {path}.", texts[1]));
            job.step().await;
        }
        let result = work(&machine, &data)?;
        job.progress(100, texts[2]);
        Ok(result)
    })
    .lock("perm_change")
}

/// A dataset created through the storage methods has its mountpoint on disk: the first time a
/// permission method reaches such a path, it joins the simulated file tree.
fn adopt_dataset_mount(state: &mut crate::state::State, path: &str) {
    let Some(name) = path.strip_prefix("/mnt/").map(|n| n.trim_end_matches('/')) else { return };
    if state.fs.node(path).is_none() && state.storage.datasets.contains(name) {
        state.fs.add(path, crate::storage::fs::Kind::Dir, 0o755, 0, 0, 0);
    }
}

fn setperm(ctx: &Ctx<'_>) -> JobPlan {
    let data = request(ctx, "filesystem.setperm");
    let texts =
        ["Preparing to set permissions.", "Recursively setting permissions on", "Finished setting permissions."];
    perm_job(ctx, data, texts, |machine, data| {
        let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
        let (recursive, traverse, strip) = (flag(data, "recursive"), flag(data, "traverse"), flag(data, "stripacl"));
        let mut state = machine.state();
        adopt_dataset_mount(&mut state, path);
        state.fs.validate_perm_path("filesystem.setperm", path, recursive)?;
        // A dataset's mountpoint: its recorded permissions (and ACL rules) follow.
        if path.strip_prefix("/mnt/").is_some_and(|name| state.storage.datasets.contains(name.trim_end_matches('/'))) {
            crate::storage::dataset_perm::setperm(&mut state.storage.datasets, data)?;
        }
        let mode = data.get("mode").and_then(Value::as_str);
        let trivial = state.fs.node(path).is_none_or(|n| n.acl.is_none());
        let mut problems = Vec::new();
        let mut problem = |message: String| {
            problems.push(Invalid { attribute: Some("filesystem.setperm.mode".into()), message, errno: errno::EINVAL });
        };
        if !trivial && !strip {
            problem(format!("Non-trivial ACL present on [{path}]. Option \"stripacl\" required to change permission."));
        }
        let bits = mode.map(parse_mode).transpose()?;
        if bits == Some(0) {
            problem("Empty permissions are not permitted.".into());
        }
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        let (uid, gid) = (id(data, "uid"), id(data, "gid"));
        for target in state.fs.targets(path, recursive, traverse) {
            if let Some(node) = state.fs.node_mut(&target) {
                node.acl = None;
                if let Some(bits) = bits {
                    node.mode = bits;
                }
                node.uid = uid.unwrap_or(node.uid);
                node.gid = gid.unwrap_or(node.gid);
            }
        }
        Ok(Value::Null)
    })
}

fn chown(ctx: &Ctx<'_>) -> JobPlan {
    let data = request(ctx, "filesystem.chown");
    let texts = ["Preparing to change owner.", "Recursively changing owner of", "Finished changing owner."];
    perm_job(ctx, data, texts, |machine, data| {
        let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
        let (recursive, traverse) = (flag(data, "recursive"), flag(data, "traverse"));
        let mut state = machine.state();
        adopt_dataset_mount(&mut state, path);
        state.fs.validate_perm_path("filesystem.chown", path, recursive)?;
        let (uid, gid) = (id(data, "uid"), id(data, "gid"));
        for target in state.fs.targets(path, recursive, traverse) {
            if let Some(node) = state.fs.node_mut(&target) {
                node.uid = uid.unwrap_or(node.uid);
                node.gid = gid.unwrap_or(node.gid);
            }
        }
        Ok(Value::Null)
    })
}

fn setacl(ctx: &Ctx<'_>) -> JobPlan {
    let data = request(ctx, "filesystem.setacl");
    let texts = ["Preparing to set acl.", "Recursively setting ACL on", "Finished setting ACL."];
    perm_job(ctx, data, texts, |machine, data| {
        let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
        let (recursive, traverse, strip) = (flag(data, "recursive"), flag(data, "traverse"), flag(data, "stripacl"));
        let mut state = machine.state();
        adopt_dataset_mount(&mut state, path);
        state.fs.validate_perm_path("filesystem.setacl", path, recursive)?;
        let (_, acltype, _) = state.fs.dataset_of(path);
        let invalid = |attribute: String, message: String| {
            Failure::Validation(vec![Invalid { attribute: Some(attribute), message, errno: errno::EINVAL }])
        };
        if let Some(given) = data.get("acltype").and_then(Value::as_str)
            && given != acltype.name()
        {
            let message =
                format!("ACL type {given} does not match the {} ACL type of the path's dataset", acltype.name());
            return Err(invalid("filesystem.setacl.acltype".into(), message));
        }
        let dacl = data.get("dacl").and_then(Value::as_array).cloned().unwrap_or_default();
        let acl = if strip {
            None
        } else if dacl.is_empty() {
            return Err(invalid("filesystem.setacl.dacl".into(), "At least one ACL entry must be specified.".into()));
        } else {
            Some(Acl::from_dacl(acltype, &dacl, data.get("nfs41_flags")).map_err(|(a, m)| invalid(a, m))?)
        };
        let (uid, gid) = (id(data, "uid"), id(data, "gid"));
        for target in state.fs.targets(path, recursive, traverse) {
            if let Some(node) = state.fs.node_mut(&target) {
                node.acl = acl.clone();
                node.uid = uid.unwrap_or(node.uid);
                node.gid = gid.unwrap_or(node.gid);
            }
        }
        state.fs.getacl(path, true)
    })
}
