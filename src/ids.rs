//! Newtypes for the names that flow between modules, so an action is never passed where a
//! middleware method is expected.

use std::fmt;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a name.
            pub fn new(name: impl Into<String>) -> Self {
                Self(name.into())
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// An action of the tool set, e.g. `vm_start`: what agents call and policies name.
    ActionName
);
name_type!(
    /// A TrueNAS middleware method, e.g. `vm.start`: what goes on the wire.
    MethodName
);
name_type!(
    /// Who is calling: one grant per stdio session, one per bearer token over HTTP.
    /// Never the token itself.
    GrantId
);
name_type!(
    /// A rule in the policy document, as a JSON Pointer (`/tools/vm_start/limits/vm_start_rate`)
    /// or one of the literals `(default deny)`, `(hidden)`.
    RuleId
);

/// A TrueNAS job id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How much an action can change on the NAS. Drives tool annotations and policy defaults;
/// an action without a declared class is treated as [`Risk::Destructive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Reads state, changes nothing.
    Read,
    /// Changes state in a way that can be undone (start or stop a VM, create a share).
    Write,
    /// Can lose data, or take the NAS itself down (delete, wipe, rollback, reboot).
    Destructive,
}

impl Risk {
    /// The lowercase name used in policies and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Read => "read",
            Risk::Write => "write",
            Risk::Destructive => "destructive",
        }
    }
}
