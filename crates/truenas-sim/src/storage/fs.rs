//! The simulated filesystem under `/mnt`: directories and files with mode, owner and ACL, and
//! the dataset mountpoints that decide the ACL type. Answers `filesystem.stat`, `listdir` and
//! `mkdir`, and applies what `setperm`, `chown` and `setacl` change (their jobs live in the
//! handler). Paths are resolved lexically; there are no symlinks.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::clock::now_ms;
use crate::failure::{Failure, Invalid, errno};
use crate::json::object;
pub(crate) use crate::storage::fs_acl::{Acl, AclType};
use crate::storage::fs_acl::{Owner, getacl};
use crate::storage::fs_names::{group_name, user_name};

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
}

/// One path.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// Permission bits (`0o7777`).
    pub(crate) mode: u32,
    pub(crate) uid: i64,
    pub(crate) gid: i64,
    pub(crate) size: i64,
    inode: i64,
    /// Creation and modification, seconds since the epoch.
    btime: f64,
    mtime: f64,
    /// On dataset mountpoints: the dataset's ACL type and device number.
    pub(crate) dataset: Option<(AclType, i64)>,
    pub(crate) acl: Option<Acl>,
}

/// A `CallError` whose errno the simulator's table does not name.
fn call_named(errno: i64, name: &str, message: String) -> Failure {
    Failure::Call { errno, errname: Some(name.to_string()), message, extra: None }
}

/// `/a/./b/../c/` as `/a/c`.
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) if path.len() > 1 => Some("/"),
        Some(0) | None => None,
        Some(i) => Some(&path[..i]),
    }
}

/// Every path of the simulated NAS.
#[derive(Debug, Default)]
pub(crate) struct FileSystem {
    nodes: BTreeMap<String, Node>,
    next_inode: i64,
}

impl FileSystem {
    /// Adds a path (seed data and mkdir); the parent is assumed to exist.
    pub(crate) fn add(&mut self, path: &str, kind: Kind, mode: u32, uid: i64, gid: i64, size: i64) -> &mut Node {
        self.next_inode += 1;
        let now = now_ms() as f64 / 1000.0;
        let node = Node {
            kind,
            mode,
            uid,
            gid,
            size,
            inode: self.next_inode + 127,
            btime: now - 86_400.0 * 30.0,
            mtime: now - 3_600.0,
            dataset: None,
            acl: None,
        };
        self.nodes.entry(normalize(path)).or_insert(node)
    }

    pub(crate) fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(&normalize(path))
    }

    pub(crate) fn is_file(&self, path: &str) -> bool {
        self.node(path).is_some_and(|n| n.kind == Kind::File)
    }

    /// The mountpoint of the dataset holding `path`, with its ACL type and device.
    pub(crate) fn dataset_of(&self, path: &str) -> (String, AclType, i64) {
        let mut current = Some(normalize(path));
        while let Some(p) = current {
            if let Some((acltype, dev)) = self.nodes.get(&p).and_then(|n| n.dataset) {
                return (p, acltype, dev);
            }
            current = parent(&p).map(str::to_string);
        }
        ("/".to_string(), AclType::Posix, 1)
    }

    fn absolute(path: &str) -> Result<String, Failure> {
        if path.starts_with('/') {
            Ok(normalize(path))
        } else {
            Err(Failure::call(errno::EINVAL, format!("{path}: path must be absolute")))
        }
    }

    /// `filesystem.stat`.
    pub(crate) fn stat(&self, path: &str) -> Result<Value, Failure> {
        let real = Self::absolute(path)?;
        let node =
            self.nodes.get(&real).ok_or_else(|| Failure::call(errno::ENOENT, format!("Path {path} not found")))?;
        let (_, _, dev) = self.dataset_of(&real);
        let mut out = Map::new();
        out.insert("realpath".into(), json!(real));
        out.extend(self.shape(node, dev));
        out.extend(object(json!({
            "uid": node.uid,
            "gid": node.gid,
            "atime": node.mtime,
            "mtime": node.mtime,
            "ctime": node.mtime,
            "btime": node.btime,
            "dev": dev,
            "inode": node.inode,
            "nlink": if node.kind == Kind::Dir { 2 } else { 1 },
            "acl": node.acl.is_some(),
            "is_mountpoint": node.dataset.is_some(),
            "is_ctldir": false,
            "attributes": if node.dataset.is_some() { vec!["MOUNT_ROOT"] } else { Vec::new() },
            "user": user_name(node.uid),
            "group": group_name(node.gid),
        })));
        Ok(Value::Object(out))
    }

    fn full_mode(&self, node: &Node) -> u32 {
        node.mode | if node.kind == Kind::Dir { S_IFDIR } else { S_IFREG }
    }

    fn listdir_entry(&self, path: &str, node: &Node) -> Value {
        let (_, _, dev) = self.dataset_of(path);
        let name = path.rsplit('/').next().unwrap_or_default();
        let mut out = object(json!({"name": name, "path": path, "realpath": path}));
        out.extend(self.shape(node, dev));
        out.extend(object(json!({
            "acl": node.acl.is_some(),
            "uid": node.uid,
            "gid": node.gid,
            "is_mountpoint": node.dataset.is_some(),
            "is_ctldir": false,
            "attributes": if node.dataset.is_some() { vec!["MOUNT_ROOT"] } else { Vec::new() },
            "xattrs": [],
            "zfs_attrs": ["ARCHIVE"],
        })));
        Value::Object(out)
    }

    /// What `stat` and `listdir` both show of a node, in their order: its type, size, mode and
    /// mount.
    fn shape(&self, node: &Node, dev: i64) -> Map<String, Value> {
        object(json!({
            "type": if node.kind == Kind::Dir { "DIRECTORY" } else { "FILE" },
            "size": node.size,
            "allocation_size": (node.size + 511) / 512 * 512,
            "mode": self.full_mode(node),
            "mount_id": dev + 100,
        }))
    }

    /// `filesystem.listdir` rows, before filters and options. Under `/mnt` only pool
    /// mountpoints are listed, as the middleware does.
    pub(crate) fn listdir(&self, path: &str) -> Result<Vec<Value>, Failure> {
        let real = normalize(path);
        let node = self
            .nodes
            .get(&real)
            .ok_or_else(|| Failure::call(errno::ENOENT, format!("Directory {path} does not exist")))?;
        if node.kind != Kind::Dir {
            return Err(call_named(20, "ENOTDIR", format!("Path {path} is not a directory")));
        }
        let rows = self
            .nodes
            .iter()
            .filter(|(p, n)| parent(p) == Some(real.as_str()) && (real != "/mnt" || n.dataset.is_some()))
            .map(|(p, n)| self.listdir_entry(p, n))
            .collect();
        Ok(rows)
    }

    /// `filesystem.mkdir`: a new directory under `/mnt` whose parent exists; it inherits the
    /// parent's ACL.
    pub(crate) fn mkdir(&mut self, path: &str, mode: &str) -> Result<Value, Failure> {
        if !path.starts_with('/') {
            return Err(Failure::call(errno::EINVAL, format!("{path}: not an absolute path.")));
        }
        let real = normalize(path);
        if self.nodes.contains_key(&real) {
            return Err(Failure::call(errno::EEXIST, format!("{path}: path already exists.")));
        }
        if !real.starts_with("/mnt/") {
            return Err(call_named(1, "EPERM", format!("{path}: path not permitted")));
        }
        let bits = parse_mode(mode)?;
        let parent_path = parent(&real).unwrap_or("/").to_string();
        let Some(parent_node) = self.nodes.get(&parent_path).cloned() else {
            return Err(Failure::call(errno::ENOENT, format!("[Errno 2] No such file or directory: '{path}'")));
        };
        let node = self.add(&real, Kind::Dir, bits, 0, parent_node.gid, 2);
        node.acl = parent_node.acl;
        let node = node.clone();
        Ok(self.listdir_entry(&real, &node))
    }

    /// `_common_perm_path_validate`: what `setperm`, `chown` and `setacl` refuse.
    pub(crate) fn validate_perm_path(&self, schema: &str, path: &str, recursive: bool) -> Result<(), Failure> {
        let problem = |message: String| {
            Failure::Validation(vec![Invalid {
                attribute: Some(format!("{schema}.path")),
                message,
                errno: errno::EINVAL,
            }])
        };
        let stat = match self.stat(path) {
            Ok(stat) => stat,
            // The middleware formats this attribute name without its f-string prefix.
            Err(Failure::Call { errno: errno::EINVAL, .. }) => {
                let attribute = Some("f{schema}.path".to_string());
                return Err(Failure::Validation(vec![Invalid {
                    attribute,
                    message: "Must be an absolute path".into(),
                    errno: errno::EINVAL,
                }]));
            }
            Err(e) => return Err(e),
        };
        let real = stat["realpath"].as_str().unwrap_or_default();
        if stat["type"] == "FILE" && recursive {
            return Err(problem("Recursive operations on a file are invalid.".into()));
        }
        if !real.starts_with("/mnt/") {
            return Err(problem(format!(
                "Changes to permissions on paths that are not beneath the directory /mnt are not permitted: {path}"
            )));
        }
        if real.matches('/').count() == 2 {
            return Err(problem(format!("The specified path is a ZFS pool mountpoint \"({path})\" ")));
        }
        Ok(())
    }

    /// `path` and, when `recursive`, what lies below it (not inside child datasets unless
    /// `traverse`).
    pub(crate) fn targets(&self, path: &str, recursive: bool, traverse: bool) -> Vec<String> {
        let root = normalize(path);
        if !recursive {
            return vec![root];
        }
        let prefix = format!("{root}/");
        let children: Vec<&String> = self.nodes.keys().filter(|p| p.starts_with(&prefix)).collect();
        let nested: Vec<String> = children
            .iter()
            .filter(|p| self.nodes.get(p.as_str()).is_some_and(|n| n.dataset.is_some()))
            .map(|p| format!("{p}/"))
            .collect();
        let mut out = vec![root];
        for p in children {
            let in_child_dataset = nested.iter().any(|n| p.starts_with(n.as_str()) || format!("{p}/") == *n);
            if traverse || !in_child_dataset {
                out.push(p.clone());
            }
        }
        out
    }

    pub(crate) fn node_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.nodes.get_mut(&normalize(path))
    }

    /// The `filesystem.getacl` answer.
    pub(crate) fn getacl(&self, path: &str, simplified: bool) -> Result<Value, Failure> {
        if !path.starts_with('/') {
            return Err(Failure::call(errno::EINVAL, format!("{path}: path must be absolute")));
        }
        let node = self.node(path).ok_or_else(|| Failure::call(errno::ENOENT, "Path not found."))?;
        let (_, acltype, _) = self.dataset_of(path);
        let owner = Owner { uid: node.uid, gid: node.gid, user: user_name(node.uid), group: group_name(node.gid) };
        Ok(getacl(&normalize(path), acltype, node.acl.as_ref(), node.mode, &owner, simplified))
    }
}

/// An octal mode string, as `int(mode, 8)` reads it.
pub(crate) fn parse_mode(mode: &str) -> Result<u32, Failure> {
    u32::from_str_radix(mode, 8).ok().filter(|m| *m <= 0o7777).ok_or_else(|| Failure::Exception {
        class: "ValueError",
        reason: format!("invalid literal for int() with base 8: '{mode}'"),
    })
}

#[cfg(test)]
#[path = "fs_tests.rs"]
mod tests;
