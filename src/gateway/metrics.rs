//! What `/metrics` reports, counted where the gateway decides and calls: decisions by action and
//! outcome, denials by rule, NAS call latency, calls and jobs in flight; rendered in the
//! Prometheus text exposition format 0.0.4 by hand (a few families need no crate).
//!
//! Cardinality is bounded: an action label is a catalog action or pseudo-action (any other name
//! a client sends counts as `(other)`), a rule label is a rule of the policy or a fixed marker,
//! an outcome is one of a fixed set. Label values never carry arguments.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the NAS call latency histogram's buckets.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// What a decision came to, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DecisionOutcome {
    /// The policy allowed the call (its `decided` record).
    Allow,
    /// The policy denied it.
    Deny,
    /// It waits for a person's approval.
    ApprovalRequired,
    /// Refused before or apart from the policy (bad arguments, unknown action, denied approval).
    Rejected,
}

impl DecisionOutcome {
    fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Allow => "allow",
            DecisionOutcome::Deny => "deny",
            DecisionOutcome::ApprovalRequired => "approval_required",
            DecisionOutcome::Rejected => "rejected",
        }
    }
}

/// The counters behind `/metrics`.
#[derive(Default)]
pub(crate) struct Metrics {
    counts: Mutex<Counts>,
    /// Calls sent to the NAS and not answered yet (job waits included).
    calls_in_flight: AtomicI64,
    /// Of those, calls of job methods (waiting for their job).
    jobs_in_flight: AtomicI64,
}

#[derive(Default)]
struct Counts {
    decisions: BTreeMap<(String, DecisionOutcome), u64>,
    denials: BTreeMap<String, u64>,
    /// Per bucket of [`BUCKETS`] (not cumulative), then the sum and count.
    latency: [u64; BUCKETS.len()],
    latency_sum: f64,
    latency_count: u64,
}

/// Counts one call in flight until dropped.
pub(crate) struct InFlight<'a> {
    metrics: &'a Metrics,
    job: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.calls_in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.job {
            self.metrics.jobs_in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // Each update is a few additions: a poisoned lock still holds consistent counts.
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one decision of `action` (already bounded by the caller); a denial by `rule` too.
    pub(crate) fn decision(&self, action: &str, outcome: DecisionOutcome, rule: Option<&str>) {
        let mut counts = self.lock();
        *counts.decisions.entry((action.to_owned(), outcome)).or_default() += 1;
        if let (DecisionOutcome::Deny, Some(rule)) = (outcome, rule) {
            *counts.denials.entry(rule.to_owned()).or_default() += 1;
        }
    }

    /// Counts a NAS call in flight (a job method's also as a job) until the guard is dropped.
    pub(crate) fn in_flight(&self, job: bool) -> InFlight<'_> {
        self.calls_in_flight.fetch_add(1, Ordering::Relaxed);
        if job {
            self.jobs_in_flight.fetch_add(1, Ordering::Relaxed);
        }
        InFlight { metrics: self, job }
    }

    /// Records how long one NAS call took.
    pub(crate) fn nas_latency(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let mut counts = self.lock();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            counts.latency[i] += 1;
        }
        counts.latency_sum += secs;
        counts.latency_count += 1;
    }

    /// The exposition text, with the approval queue's length read by the caller.
    pub(crate) fn render(&self, approvals_pending: usize) -> String {
        let counts = self.lock();
        let mut out = String::new();
        family(&mut out, "truenas_mcp_decisions_total", "counter", "Policy decisions by action and outcome.");
        for ((action, outcome), n) in &counts.decisions {
            let _ = writeln!(
                out,
                "truenas_mcp_decisions_total{{action=\"{}\",outcome=\"{}\"}} {n}",
                escape(action),
                outcome.as_str()
            );
        }
        family(&mut out, "truenas_mcp_denials_total", "counter", "Policy denials by the rule that denied.");
        for (rule, n) in &counts.denials {
            let _ = writeln!(out, "truenas_mcp_denials_total{{rule=\"{}\"}} {n}", escape(rule));
        }
        family(
            &mut out,
            "truenas_mcp_nas_call_duration_seconds",
            "histogram",
            "Time from sending a call to TrueNAS to its answer (job waits included).",
        );
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(counts.latency) {
            cumulative += n;
            let _ = writeln!(out, "truenas_mcp_nas_call_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "truenas_mcp_nas_call_duration_seconds_bucket{{le=\"+Inf\"}} {}", counts.latency_count);
        let _ = writeln!(out, "truenas_mcp_nas_call_duration_seconds_sum {}", counts.latency_sum);
        let _ = writeln!(out, "truenas_mcp_nas_call_duration_seconds_count {}", counts.latency_count);
        drop(counts);
        let gauges = [
            (
                "truenas_mcp_nas_calls_in_flight",
                "Calls sent to TrueNAS and not answered yet.",
                self.calls_in_flight.load(Ordering::Relaxed).max(0),
            ),
            (
                "truenas_mcp_jobs_in_flight",
                "Calls of job methods waiting for their TrueNAS job.",
                self.jobs_in_flight.load(Ordering::Relaxed).max(0),
            ),
            (
                "truenas_mcp_approvals_pending",
                "Approvals asked for and not answered yet.",
                i64::try_from(approvals_pending).unwrap_or(i64::MAX),
            ),
        ];
        for (name, help, value) in gauges {
            family(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the format wants it: backslash, double quote and line feed escaped.
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape("a\nb"), "a\\nb");
    }

    #[test]
    fn the_histogram_is_cumulative_and_gauges_come_back_down() {
        let m = Metrics::default();
        m.nas_latency(Duration::from_millis(3));
        m.nas_latency(Duration::from_millis(70));
        m.nas_latency(Duration::from_secs(60));
        {
            let _call = m.in_flight(true);
            let text = m.render(2);
            assert!(text.contains("\ntruenas_mcp_jobs_in_flight 1\n"), "{text}");
            assert!(text.contains("\ntruenas_mcp_nas_calls_in_flight 1\n"), "{text}");
        }
        m.decision("vm_start", DecisionOutcome::Deny, Some("/tools/vm_start/limits/\"x\""));
        let text = m.render(2);
        assert!(text.contains("_bucket{le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("_bucket{le=\"0.1\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"30\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("\ntruenas_mcp_jobs_in_flight 0\n"), "{text}");
        assert!(text.contains("\ntruenas_mcp_approvals_pending 2\n"), "{text}");
        assert!(text.contains("truenas_mcp_denials_total{rule=\"/tools/vm_start/limits/\\\"x\\\"\"} 1\n"), "{text}");
        assert!(text.contains("truenas_mcp_decisions_total{action=\"vm_start\",outcome=\"deny\"} 1\n"), "{text}");
    }
}
