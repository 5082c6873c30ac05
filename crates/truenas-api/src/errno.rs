//! TrueNAS's errno numbers and their symbolic names: Python's `errno.errorcode` for the system
//! ones, and the middleware's own codes from 201 up. The client names them in messages when a
//! reply carries only the number (REST); the simulated NAS sends both.

const NAMES: [(i64, &str); 19] = [
    (1, "EPERM"),
    (2, "ENOENT"),
    (4, "EINTR"),
    (5, "EIO"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (22, "EINVAL"),
    (28, "ENOSPC"),
    (95, "ENOTSUP"),
    (110, "ETIMEDOUT"),
    (201, "ENOMETHOD"),
    (202, "ETOOMANYCONCURRENTCALLS"),
    (203, "ENOTIMPLEMENTED"),
    (206, "EWAITING"),
    (207, "ENOTAUTHENTICATED"),
];

/// No such file or object: what "does not exist" carries.
pub const ENOENT: i64 = 2;
/// Bad address: the errno TrueNAS gives a `CallError` raised without one.
pub const EFAULT: i64 = 14;
/// Invalid argument: what every validation error carries.
pub const EINVAL: i64 = 22;

/// The JSON-RPC error codes TrueNAS's middleware answers with (beside JSON-RPC's own).
pub mod rpc {
    /// No method of that name.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The params failed the method's schema (a validation error, errno `EINVAL`).
    pub const INVALID_PARAMS: i64 = -32602;
    /// Too many calls in flight on the connection.
    pub const TOO_MANY_CONCURRENT_CALLS: i64 = -32000;
    /// The method raised an error (a `CallError`, with its errno).
    pub const CALL_ERROR: i64 = -32001;
}

/// The symbolic name of an errno, `EUNKNOWN` when it has none.
pub fn name(code: i64) -> &'static str {
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n).unwrap_or("EUNKNOWN")
}

/// The number behind a symbolic name, if known.
pub fn code(name: &str) -> Option<i64> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_go_both_ways() {
        assert_eq!((name(2), name(207), name(999)), ("ENOENT", "ENOTAUTHENTICATED", "EUNKNOWN"));
        assert_eq!((code("EINVAL"), code("ENOPE")), (Some(22), None));
        assert_eq!([name(ENOENT), name(EFAULT), name(EINVAL)], ["ENOENT", "EFAULT", "EINVAL"]);
    }
}
