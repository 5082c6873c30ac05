//! Tests of `account_users.rs`: what `Users` decides alone.

use crate::account::AccountStore;
use crate::account::account_seed::seeded;
use truenas_api::schema::Release;

fn demo() -> AccountStore {
    seeded(Release::V25_10)
}

#[test]
fn set_password_checks_the_old_one_and_the_account() {
    let mut s = demo();
    let err = s.users.set_password("alice", Some("wrong"), "x").unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] user.set_password.old_password: alice: failed to validate password.\n");
    s.users.set_password("alice", Some("sim-alice-password"), "fresh").unwrap();
    assert!(s.users.named("alice").unwrap().password_matches("fresh"));
    let err = s.users.set_password("root", None, "x").unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] user.set_password.username: root: password authentication disabled for user\n");
    let err = s.users.set_password("zed", None, "x").unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] user.set_password.username: zed: user does not exist.\n");
}
