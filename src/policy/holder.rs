//! The policy in force, swapped whole while the server runs (`policy reload`): every call takes
//! one snapshot ([`PolicyHolder::current`]) and decides, audits (`policy_sha256`) and binds its
//! approval with that one engine, so a reload in the middle of a call changes nothing for it.

use std::sync::{Arc, PoisonError, RwLock};

use super::PolicyEngine;

/// The engine calls decide with, replaceable atomically.
#[derive(Debug)]
pub struct PolicyHolder {
    // A read lock is held only long enough to clone the `Arc`.
    current: RwLock<Arc<PolicyEngine>>,
}

impl PolicyHolder {
    /// Holds `engine` until it is replaced.
    pub fn new(engine: Arc<PolicyEngine>) -> PolicyHolder {
        PolicyHolder { current: RwLock::new(engine) }
    }

    /// The engine in force now. A call keeps it for its whole life.
    pub fn current(&self) -> Arc<PolicyEngine> {
        // A panic while holding the lock cannot leave half an `Arc` behind.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `engine` in force for every call that starts from now on; returns the one it
    /// replaces (calls already running keep deciding with it).
    pub fn replace(&self, engine: Arc<PolicyEngine>) -> Arc<PolicyEngine> {
        std::mem::replace(&mut *self.current.write().unwrap_or_else(PoisonError::into_inner), engine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(default: &str) -> Arc<PolicyEngine> {
        let text = format!(r#"{{"version": "1", "default": "{default}"}}"#);
        Arc::new(PolicyEngine::load(&text, super::super::test_catalog()).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn a_snapshot_taken_before_a_swap_keeps_deciding_with_the_old_policy() {
        let (old, new) = (engine("deny"), engine("allow"));
        let holder = PolicyHolder::new(Arc::clone(&old));
        let snapshot = holder.current();
        let replaced = holder.replace(Arc::clone(&new));
        assert_eq!(replaced.sha256(), old.sha256());
        assert_eq!(snapshot.sha256(), old.sha256(), "a call in flight keeps its policy");
        assert_eq!(holder.current().sha256(), new.sha256(), "the next call takes the new one");
    }
}
