//! The account names `stat` and `getacl` resolve uids and gids to: the account domain's seed,
//! as the file tree knows it.

/// Local users by uid (the account domain's seed).
const USERS: [(i64, &str); 7] = [
    (0, "root"),
    (1, "daemon"),
    (568, "apps"),
    (950, "truenas_admin"),
    (3000, "alice"),
    (3001, "bob"),
    (65534, "nobody"),
];

/// Local groups by gid.
const GROUPS: [(i64, &str); 11] = [
    (0, "root"),
    (1, "daemon"),
    (544, "builtin_administrators"),
    (545, "builtin_users"),
    (568, "apps"),
    (950, "truenas_admin"),
    (3000, "alice"),
    (3001, "bob"),
    (3002, "family"),
    (3003, "media"),
    (65534, "nogroup"),
];

pub(crate) fn user_name(uid: i64) -> Option<&'static str> {
    USERS.iter().find(|(id, _)| *id == uid).map(|(_, n)| *n)
}

pub(crate) fn group_name(gid: i64) -> Option<&'static str> {
    GROUPS.iter().find(|(id, _)| *id == gid).map(|(_, n)| *n)
}
