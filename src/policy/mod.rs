//! TEMPORARY stand-in for the policy engine being written on the `policy` branch.
#![allow(missing_docs)]
use crate::ids::{ActionName, MethodName, RuleId};

pub struct Permit {
    action: ActionName,
    method: MethodName,
}

impl Permit {
    pub fn action(&self) -> &ActionName {
        &self.action
    }
    pub fn method(&self) -> &MethodName {
        &self.method
    }
    pub fn rule(&self) -> Option<&RuleId> {
        None
    }
    pub fn rollback(self) {}
    #[cfg(test)]
    pub(crate) fn for_tests(action: ActionName, method: MethodName) -> Permit {
        Permit { action, method }
    }
}
