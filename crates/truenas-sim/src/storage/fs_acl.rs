//! Access control lists of the simulated filesystem: NFSv4 ACLs (datasets with `acltype=NFS4`,
//! the SMB default) and POSIX.1e ACLs. Stored in the full (advanced) NFSv4 form; `getacl` can
//! collapse entries into the BASIC forms. A path without a stored ACL is trivial: its ACL is
//! derived from its mode.

use serde_json::{Map, Value, json};

/// ACL type of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AclType {
    Nfs4,
    Posix,
}

impl AclType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            AclType::Nfs4 => "NFS4",
            AclType::Posix => "POSIX1E",
        }
    }
}

const PERMS: [&str; 14] = [
    "READ_DATA",
    "WRITE_DATA",
    "APPEND_DATA",
    "READ_NAMED_ATTRS",
    "WRITE_NAMED_ATTRS",
    "EXECUTE",
    "DELETE",
    "DELETE_CHILD",
    "READ_ATTRIBUTES",
    "WRITE_ATTRIBUTES",
    "READ_ACL",
    "WRITE_ACL",
    "WRITE_OWNER",
    "SYNCHRONIZE",
];

const FLAGS: [&str; 5] = ["FILE_INHERIT", "DIRECTORY_INHERIT", "NO_PROPAGATE_INHERIT", "INHERIT_ONLY", "INHERITED"];

const READ_SET: [&str; 6] = ["READ_DATA", "READ_NAMED_ATTRS", "EXECUTE", "READ_ATTRIBUTES", "READ_ACL", "SYNCHRONIZE"];
const TRAVERSE_SET: [&str; 5] = ["READ_NAMED_ATTRS", "EXECUTE", "READ_ATTRIBUTES", "READ_ACL", "SYNCHRONIZE"];

/// The advanced permissions a BASIC permission stands for.
fn basic_perms(basic: &str) -> Vec<&'static str> {
    match basic {
        "FULL_CONTROL" => PERMS.to_vec(),
        "MODIFY" => PERMS.iter().copied().filter(|p| !["WRITE_ACL", "WRITE_OWNER"].contains(p)).collect(),
        "READ" => READ_SET.to_vec(),
        "TRAVERSE" => TRAVERSE_SET.to_vec(),
        _ => Vec::new(),
    }
}

fn full(keys: &[&str], set: &[&str]) -> Map<String, Value> {
    keys.iter().map(|k| (k.to_string(), json!(set.contains(k)))).collect()
}

/// `perms` or `flags` of an ACE in the full advanced form.
fn expand(value: &Value, keys: &[&str], basic: fn(&str) -> Vec<&'static str>) -> Map<String, Value> {
    if let Some(b) = value.get("BASIC").and_then(Value::as_str) {
        return full(keys, &basic(b));
    }
    let set: Vec<&str> =
        keys.iter().copied().filter(|k| value.get(*k).and_then(Value::as_bool) == Some(true)).collect();
    full(keys, &set)
}

fn basic_flags(basic: &str) -> Vec<&'static str> {
    if basic == "INHERIT" { vec!["FILE_INHERIT", "DIRECTORY_INHERIT"] } else { Vec::new() }
}

/// The BASIC form of a full map, when one matches exactly.
fn collapse(
    map: &Map<String, Value>,
    names: &[&'static str],
    expand: fn(&str) -> Vec<&'static str>,
    keys: &[&str],
) -> Option<Value> {
    names.iter().find(|name| full(keys, &expand(name)) == *map).map(|name| json!({"BASIC": name}))
}

/// A stored, non-trivial ACL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Acl {
    /// ACEs in full form, and the ACL flags.
    Nfs4 { aces: Vec<Value>, flags: Value },
    /// POSIX ACEs as given (`id` defaulted to -1).
    Posix(Vec<Value>),
}

impl Acl {
    /// Builds a stored ACL from `filesystem.setacl`'s `dacl`; errors are `(attribute, message)`.
    pub(crate) fn from_dacl(acltype: AclType, dacl: &[Value], flags: Option<&Value>) -> Result<Acl, (String, String)> {
        let mut aces = Vec::with_capacity(dacl.len());
        for (i, ace) in dacl.iter().enumerate() {
            let tag = ace.get("tag").and_then(Value::as_str).unwrap_or_default();
            let nfs4_shaped = ace.get("type").is_some();
            if nfs4_shaped != (acltype == AclType::Nfs4) {
                let message = format!("ACL entry does not match the {} ACL type of the path", acltype.name());
                return Err((format!("filesystem.setacl.dacl.{i}"), message));
            }
            let id = ace.get("id").and_then(Value::as_i64).unwrap_or(-1);
            if ["USER", "GROUP"].contains(&tag) && id < 0 && ace.get("who").and_then(Value::as_str).is_none() {
                return Err((
                    format!("filesystem.setacl.dacl.{i}.id"),
                    "Numeric ID or name is required for USER and GROUP entries".into(),
                ));
            }
            aces.push(match acltype {
                AclType::Nfs4 => json!({
                    "tag": tag,
                    "id": id,
                    "type": ace.get("type").cloned().unwrap_or(json!("ALLOW")),
                    "perms": expand(ace.get("perms").unwrap_or(&Value::Null), &PERMS, basic_perms),
                    "flags": expand(ace.get("flags").unwrap_or(&Value::Null), &FLAGS, basic_flags),
                }),
                AclType::Posix => json!({
                    "tag": tag,
                    "id": id,
                    "perms": ace.get("perms").cloned().unwrap_or(json!({"READ": false, "WRITE": false, "EXECUTE": false})),
                    "default": ace.get("default").and_then(Value::as_bool).unwrap_or(false),
                }),
            });
        }
        Ok(match acltype {
            AclType::Nfs4 => {
                let defaults = json!({"autoinherit": false, "protected": false, "defaulted": false});
                let mut merged = defaults.as_object().cloned().unwrap_or_default();
                if let Some(Value::Object(given)) = flags {
                    merged.extend(given.clone());
                }
                Acl::Nfs4 { aces, flags: Value::Object(merged) }
            }
            AclType::Posix => Acl::Posix(aces),
        })
    }
}

/// The rwx bits of one class (`shift` 6 owner, 3 group, 0 other).
fn rwx(mode: u32, shift: u32) -> (bool, bool, bool) {
    let bits = (mode >> shift) & 0o7;
    (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0)
}

/// The NFSv4 ACE a trivial ACL has for one class.
fn trivial_nfs4_ace(tag: &str, (r, w, x): (bool, bool, bool), owner: bool) -> Value {
    let mut set: Vec<&str> = vec!["READ_ATTRIBUTES", "READ_ACL", "SYNCHRONIZE"];
    if r {
        set.extend(["READ_DATA", "READ_NAMED_ATTRS"]);
    }
    if w {
        set.extend(["WRITE_DATA", "APPEND_DATA", "WRITE_NAMED_ATTRS", "DELETE_CHILD"]);
    }
    if x {
        set.push("EXECUTE");
    }
    if owner {
        set.extend(["WRITE_ATTRIBUTES", "WRITE_ACL", "WRITE_OWNER"]);
    }
    json!({"tag": tag, "id": -1, "type": "ALLOW", "perms": full(&PERMS, &set), "flags": full(&FLAGS, &[])})
}

fn posix_ace(tag: &str, (r, w, x): (bool, bool, bool)) -> Value {
    json!({"tag": tag, "id": -1, "perms": {"READ": r, "WRITE": w, "EXECUTE": x}, "default": false})
}

/// Who owns the path, for the `getacl` answer.
pub(crate) struct Owner<'a> {
    pub(crate) uid: i64,
    pub(crate) gid: i64,
    pub(crate) user: Option<&'a str>,
    pub(crate) group: Option<&'a str>,
}

/// The `filesystem.getacl` answer for a path.
pub(crate) fn getacl(
    path: &str,
    acltype: AclType,
    acl: Option<&Acl>,
    mode: u32,
    owner: &Owner<'_>,
    simplified: bool,
) -> Value {
    let mut out = json!({
        "path": path, "user": owner.user, "group": owner.group, "uid": owner.uid, "gid": owner.gid,
        "acltype": acltype.name(), "trivial": acl.is_none(),
    });
    match acltype {
        AclType::Nfs4 => {
            let (aces, flags) = match acl {
                Some(Acl::Nfs4 { aces, flags }) => (aces.clone(), flags.clone()),
                _ => (
                    vec![
                        trivial_nfs4_ace("owner@", rwx(mode, 6), true),
                        trivial_nfs4_ace("group@", rwx(mode, 3), false),
                        trivial_nfs4_ace("everyone@", rwx(mode, 0), false),
                    ],
                    json!({"autoinherit": false, "protected": false, "defaulted": false}),
                ),
            };
            let aces: Vec<Value> = aces.into_iter().map(|ace| if simplified { simplify(ace) } else { ace }).collect();
            out["acl"] = json!(aces);
            out["aclflags"] = flags;
        }
        AclType::Posix => {
            let aces = match acl {
                Some(Acl::Posix(aces)) => aces.clone(),
                _ => vec![
                    posix_ace("USER_OBJ", rwx(mode, 6)),
                    posix_ace("GROUP_OBJ", rwx(mode, 3)),
                    posix_ace("OTHER", rwx(mode, 0)),
                ],
            };
            out["acl"] = json!(aces);
        }
    }
    out
}

/// Collapses an ACE's perms and flags to BASIC where they match one.
fn simplify(mut ace: Value) -> Value {
    if let Some(perms) = ace.get("perms").and_then(Value::as_object).cloned()
        && let Some(basic) = collapse(&perms, &["FULL_CONTROL", "MODIFY", "READ", "TRAVERSE"], basic_perms, &PERMS)
    {
        ace["perms"] = basic;
    }
    if let Some(flags) = ace.get("flags").and_then(Value::as_object).cloned()
        && let Some(basic) = collapse(&flags, &["INHERIT", "NOINHERIT"], basic_flags, &FLAGS)
    {
        ace["flags"] = basic;
    }
    ace
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner<'static> {
        Owner { uid: 568, gid: 568, user: Some("apps"), group: Some("apps") }
    }

    #[test]
    fn basic_entries_round_trip_through_the_full_form() {
        let dacl =
            [json!({"tag": "owner@", "type": "ALLOW", "perms": {"BASIC": "MODIFY"}, "flags": {"BASIC": "INHERIT"}})];
        let acl = Acl::from_dacl(AclType::Nfs4, &dacl, None).unwrap();
        let full = getacl("/mnt/tank/a", AclType::Nfs4, Some(&acl), 0o770, &owner(), false);
        assert_eq!(full["acl"][0]["perms"]["WRITE_ACL"], false);
        assert_eq!(full["acl"][0]["perms"]["DELETE"], true);
        assert_eq!(full["acl"][0]["flags"]["DIRECTORY_INHERIT"], true);
        assert_eq!(full["trivial"], false);
        let simple = getacl("/mnt/tank/a", AclType::Nfs4, Some(&acl), 0o770, &owner(), true);
        assert_eq!(simple["acl"][0]["perms"], json!({"BASIC": "MODIFY"}));
        assert_eq!(simple["acl"][0]["flags"], json!({"BASIC": "INHERIT"}));
    }

    #[test]
    fn trivial_acls_come_from_the_mode() {
        let posix = getacl("/mnt/tank/s", AclType::Posix, None, 0o750, &owner(), true);
        assert_eq!(posix["trivial"], true);
        assert_eq!(posix["acl"][1]["perms"], json!({"READ": true, "WRITE": false, "EXECUTE": true}));
        assert_eq!(posix["acl"][2]["perms"], json!({"READ": false, "WRITE": false, "EXECUTE": false}));
        assert!(posix.get("aclflags").is_none());
        let nfs = getacl("/mnt/tank/m", AclType::Nfs4, None, 0o755, &owner(), true);
        assert_eq!(nfs["acl"][2]["perms"], json!({"BASIC": "READ"}), "r-x for everyone@ is READ");
    }

    #[test]
    fn entries_of_the_wrong_type_or_without_ids_are_refused() {
        let posix_ace =
            json!({"tag": "USER_OBJ", "perms": {"READ": true, "WRITE": true, "EXECUTE": true}, "default": false});
        let e = Acl::from_dacl(AclType::Nfs4, &[posix_ace], None).unwrap_err();
        assert_eq!(e.0, "filesystem.setacl.dacl.0");
        let user = json!({"tag": "USER", "type": "ALLOW", "perms": {"BASIC": "READ"}, "flags": {"BASIC": "INHERIT"}});
        assert_eq!(Acl::from_dacl(AclType::Nfs4, &[user], None).unwrap_err().0, "filesystem.setacl.dacl.0.id");
    }
}
