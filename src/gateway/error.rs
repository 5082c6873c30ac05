//! Why a call produced no result ([`CallError`]), and its audit summary: what the audit
//! records of a failure (a kind, TrueNAS's errno, the names of the arguments at fault, never a
//! value). Which wire form each variant takes is `mcp::reply`'s business.

use crate::catalog::{ArgsError, MappingError};
use crate::ids::{ActionName, JobId};
use crate::nas::NasError;
use crate::policy::{AuditWriteError, Denial, ErrorSummary};
use crate::state::approvals::ApprovalError;

/// Why a call produced no result. Each variant has one wire form, chosen in `mcp::reply`.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No action of that name.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// The arguments break the action's schema; nothing was sent.
    #[error("{error}")]
    InvalidArgs {
        /// The action called.
        action: ActionName,
        /// Every problem found.
        error: ArgsError,
    },
    /// A gated action without `confirm: true`; nothing was sent.
    #[error("{refusal}")]
    NotConfirmed {
        /// The action's refusal text.
        refusal: String,
    },
    /// The policy said no; nothing was sent.
    #[error("{0}")]
    Denied(Denial),
    /// The arguments could not be turned into middleware params; nothing was sent.
    #[error("{0}")]
    Mapping(MappingError),
    /// The NAS call failed.
    #[error("{0}")]
    Nas(NasError),
    /// No job of that id that this caller may read: it does not exist, or another grant (or
    /// another client of the NAS) started it. Both answer alike.
    #[error("no job `{0}`")]
    NoSuchJob(JobId),
    /// The audit record that must precede the call could not be written; nothing was sent.
    #[error("refused: the audit log cannot be written, so nothing was sent to TrueNAS (see the server log)")]
    AuditUnavailable(AuditWriteError),
    /// The call needs a person's approval, asked for as approval `id`; nothing was sent.
    #[error(
        "[APPROVAL REQUIRED] {action} needs approval {id} (rule: {rule}); ask a person to approve it with: truenas-mcp approvals approve {id}"
    )]
    ApprovalRequired {
        /// The action called.
        action: String,
        /// The pending approval's id.
        id: String,
        /// The rule that asks (JSON Pointer).
        rule: String,
    },
    /// A person denied the call; nothing was sent.
    #[error("[APPROVAL DENIED] {action} was denied by {by} (approval {id}){}", .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    ApprovalDenied {
        /// The action called.
        action: String,
        /// The approval's id.
        id: String,
        /// Who denied it.
        by: String,
        /// Why, if they said.
        reason: Option<String>,
    },
    /// The limit counters cannot be saved; nothing was sent.
    #[error("refused: the limit counters cannot be saved, so nothing was sent to TrueNAS (see the server log)")]
    CountersUnavailable(crate::state::StateError),
    /// The approval state cannot be read or saved; nothing was sent.
    #[error("refused: the approval state cannot be saved, so nothing was sent to TrueNAS ({0})")]
    ApprovalState(ApprovalError),
}

impl CallError {
    /// What went wrong, for the audit log: a kind and argument names, never values (the
    /// `Display` text may quote them).
    pub fn summary(&self) -> ErrorSummary {
        match self {
            CallError::UnknownAction(_) => ErrorSummary::new("unknown_action"),
            CallError::InvalidArgs { error, .. } => args_summary(error),
            CallError::NotConfirmed { .. } => ErrorSummary::new("not_confirmed").with_args(vec!["confirm".into()]),
            CallError::Denied(_) => ErrorSummary::new("denied"),
            CallError::Mapping(e) => match e {
                MappingError::Args(error) => args_summary(error),
                MappingError::NotAnObject { arg, .. } => ErrorSummary::new("invalid_args").with_args(vec![arg.clone()]),
                MappingError::Body(_) => ErrorSummary::new("invalid_body").with_args(vec!["body".into()]),
                MappingError::Rest(_) => ErrorSummary::new("invalid_raw_call"),
                MappingError::Unavailable { .. } => ErrorSummary::new("method_unavailable"),
                MappingError::Hole { .. } => ErrorSummary::new("invalid_params"),
                MappingError::ArgUnavailable { arg, .. } => {
                    ErrorSummary::new("arg_unavailable").with_args(vec![arg.clone()])
                }
                MappingError::LookupEmpty { .. } => ErrorSummary::new("lookup_empty"),
                MappingError::LookupLacks { arg, .. } => {
                    ErrorSummary::new("lookup_incomplete").with_args(vec![arg.clone()])
                }
                MappingError::NotAChoice { arg, .. } => ErrorSummary::new("invalid_args").with_args(vec![arg.clone()]),
            },
            CallError::Nas(e) => e.summary(),
            CallError::AuditUnavailable(_) => ErrorSummary::new("audit_unavailable"),
            CallError::NoSuchJob(_) => ErrorSummary::new("no_such_job"),
            CallError::ApprovalRequired { .. } => ErrorSummary::new("approval_required"),
            CallError::ApprovalDenied { .. } => ErrorSummary::new("approval_denied"),
            CallError::ApprovalState(_) => ErrorSummary::new("approval_state"),
            CallError::CountersUnavailable(_) => ErrorSummary::new("counters_unavailable"),
        }
    }
}

/// The names of the arguments at fault.
fn args_summary(error: &ArgsError) -> ErrorSummary {
    let mut names: Vec<String> = error.problems.iter().map(|p| p.name().to_string()).collect();
    names.dedup();
    ErrorSummary::new("invalid_args").with_args(names)
}
