//! What the unit tests of every domain share, written once: a JSON literal as members
//! ([`object`]), a create's params with the 25.10 defaults filled in ([`created`]), and the
//! reason a refusal gives ([`reason`]).

use std::fmt::Debug;

use serde_json::{Map, Value};

use crate::defaults;
use crate::failure::Failure;
use truenas_api::schema::Release;

pub(crate) use crate::json::object;

/// Param 0 of `method` with TrueNAS 25.10's defaults filled in: what a create's handler gets.
pub(crate) fn created(method: &str, value: Value) -> Map<String, Value> {
    defaults::filled(Release::V25_10, method, 0, value)
}

/// The reason of a refusal; panics when `outcome` was accepted.
pub(crate) fn reason<T: Debug>(outcome: Result<T, Failure>) -> String {
    outcome.expect_err("should be refused").reason()
}
