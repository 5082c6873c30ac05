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
    }
}
