//! Metrics (`reporting.*`): how long they are kept, which graphs exist, and their time series.
//! The series are synthetic but deterministic (a function of the timestamp), so asking twice
//! for the same window gives the same numbers.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use truenas_api::schema::Release;

/// Most points one series returns.
const MAX_POINTS: i64 = 60;

const DISKS: [&str; 10] = ["nvme0n1", "sda", "sdb", "sdc", "sdd", "sde", "sdf", "sdg", "sdh", "sdi"];
const INTERFACES: [&str; 2] = ["enp1s0", "br0"];
const ARC_RESULTS: [&str; 4] = ["demand_data", "demand_metadata", "prefetch_data", "prefetch_metadata"];

/// One graph: name, title, unit, identifiers, series names, `(base, swing)` of its values.
struct Graph {
    name: &'static str,
    title: &'static str,
    unit: &'static str,
    identifiers: Option<&'static [&'static str]>,
    series: &'static [&'static str],
    level: (f64, f64),
    /// Only on releases before 26.0.
    legacy: bool,
}

const GRAPHS: [Graph; 12] = [
    Graph {
        name: "cpu",
        title: "CPU Usage",
        unit: "%",
        identifiers: None,
        series: &["cpu", "cpu0", "cpu1", "cpu2", "cpu3"],
        level: (14.0, 9.0),
        legacy: false,
    },
    Graph {
        name: "cputemp",
        title: "CPU Temperature",
        unit: "Celsius",
        identifiers: None,
        series: &["cpu0", "cpu1", "cpu2", "cpu3"],
        level: (46.0, 6.0),
        legacy: false,
    },
    Graph {
        name: "disk",
        title: "Disk I/O ({identifier})",
        unit: "Kibibytes/s",
        identifiers: Some(&DISKS),
        series: &["reads", "writes"],
        level: (900.0, 850.0),
        legacy: false,
    },
    Graph {
        name: "disktemp",
        title: "Disks Temperature ({identifier})",
        unit: "Celsius",
        identifiers: Some(&DISKS),
        series: &["temperature_value"],
        level: (36.0, 3.0),
        legacy: false,
    },
    Graph {
        name: "interface",
        title: "Interface Traffic ({identifier})",
        unit: "Kilobits/s",
        identifiers: Some(&INTERFACES),
        series: &["received", "sent"],
        level: (2400.0, 2200.0),
        legacy: false,
    },
    Graph {
        name: "load",
        title: "System Load Average",
        unit: "Processes",
        identifiers: None,
        series: &["shortterm", "midterm", "longterm"],
        level: (0.9, 0.5),
        legacy: false,
    },
    Graph {
        name: "processes",
        title: "System Active Processes",
        unit: "Processes",
        identifiers: None,
        series: &["active"],
        level: (420.0, 12.0),
        legacy: false,
    },
    Graph {
        name: "memory",
        title: "Physical memory utilization",
        unit: "Mebibytes",
        identifiers: None,
        series: &["available"],
        level: (14_800.0, 900.0),
        legacy: false,
    },
    Graph {
        name: "uptime",
        title: "System Uptime",
        unit: "Seconds",
        identifiers: None,
        series: &["uptime"],
        level: (274_620.0, 0.0),
        legacy: false,
    },
    Graph {
        name: "arcsize",
        title: "ARC Size",
        unit: "Mebibytes",
        identifiers: None,
        series: &["arc_size"],
        level: (10_240.0, 300.0),
        legacy: false,
    },
    Graph {
        name: "arcrate",
        title: "ARC Hit Rate",
        unit: "Hits/s",
        identifiers: None,
        series: &["hits", "misses"],
        level: (380.0, 250.0),
        legacy: true,
    },
    Graph {
        name: "arcresult",
        title: "ARC Result ({identifier})",
        unit: "Percentage",
        identifiers: Some(&ARC_RESULTS),
        series: &["hits", "misses"],
        level: (50.0, 45.0),
        legacy: true,
    },
];

/// Retention settings.
#[derive(Debug)]
pub(crate) struct Reporting {
    tier0_days: i64,
    tier1_days: i64,
    tier1_update_interval: i64,
}

impl Default for Reporting {
    fn default() -> Self {
        Reporting { tier0_days: 7, tier1_days: 365, tier1_update_interval: 300 }
    }
}

/// A deterministic wave in `[-1, 1]` for a timestamp and a series.
fn wave(ts: i64, salt: usize) -> f64 {
    let t = ts as f64;
    let phase = salt as f64 * 1.7;
    ((t / 900.0 + phase).sin() * 0.7 + (t / 137.0 + phase * 2.3).sin() * 0.3).clamp(-1.0, 1.0)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

impl Reporting {
    pub(crate) fn config(&self) -> Value {
        json!({"id": 1, "tier0_days": self.tier0_days, "tier1_days": self.tier1_days, "tier1_update_interval": self.tier1_update_interval})
    }

    pub(crate) fn update(&mut self, changes: &Map<String, Value>) -> Value {
        let get = |k: &str, old: i64| changes.get(k).and_then(Value::as_i64).unwrap_or(old);
        self.tier0_days = get("tier0_days", self.tier0_days);
        self.tier1_days = get("tier1_days", self.tier1_days);
        self.tier1_update_interval = get("tier1_update_interval", self.tier1_update_interval);
        self.config()
    }

    fn graphs_of(release: Release) -> impl Iterator<Item = &'static Graph> {
        GRAPHS.iter().filter(move |g| !g.legacy || release < Release::V26_0)
    }

    /// `reporting.graphs` rows.
    pub(crate) fn graphs(&self, release: Release) -> Vec<Value> {
        Self::graphs_of(release)
            .map(|g| json!({"name": g.name, "title": g.title, "vertical_label": g.unit, "identifiers": g.identifiers}))
            .collect()
    }

    /// `reporting.get_data` for `graphs` over the window `query` describes, ending by `now`.
    pub(crate) fn get_data(
        &self,
        release: Release,
        graphs: &[Value],
        query: &Map<String, Value>,
        now: i64,
    ) -> Result<Value, Failure> {
        let (after, before) = window(query, now)?;
        let aggregate = query.get("aggregate").and_then(Value::as_bool).unwrap_or(true);
        let mut out = Vec::with_capacity(graphs.len());
        for requested in graphs {
            let name = requested.get("name").and_then(Value::as_str).unwrap_or_default();
            let graph = Self::graphs_of(release)
                .find(|g| g.name == name)
                .ok_or_else(|| Failure::call(errno::ENOENT, format!("Graph '{name}' not found.")))?;
            let identifier = match (graph.identifiers, requested.get("identifier").and_then(Value::as_str)) {
                (None, _) => None,
                (Some(ids), Some(id)) if ids.contains(&id) => Some(id),
                (Some(_), Some(id)) => {
                    return Err(Failure::call(
                        errno::ENOENT,
                        format!("'{id}' is not a valid identifier for the '{name}' graph"),
                    ));
                }
                (Some(ids), None) => ids.first().copied(),
            };
            out.push(series(graph, identifier, after, before, aggregate, release));
        }
        Ok(Value::Array(out))
    }
}

/// `(after, before)` in Unix seconds, as `translate_query_params` computes it.
fn window(query: &Map<String, Value>, now: i64) -> Result<(i64, i64), Failure> {
    let int = |k: &str| query.get(k).and_then(Value::as_i64);
    let end = int("end").unwrap_or(now);
    if let Some(unit) = query.get("unit").and_then(Value::as_str) {
        let conflicts: Vec<Invalid> = ["start", "end"]
            .iter()
            .filter(|k| int(k).is_some())
            .map(|k| Invalid {
                attribute: Some(format!("query.{k}")),
                message: format!("'{k}' should only be used if \"unit\" attribute is not provided."),
                errno: errno::EINVAL,
            })
            .collect();
        if !conflicts.is_empty() {
            return Err(Failure::Validation(conflicts));
        }
        let seconds = match unit {
            "HOUR" => 3_600,
            "DAY" => 86_400,
            "WEEK" => 604_800,
            "MONTH" => 2_592_000,
            _ => 31_536_000,
        };
        let page = int("page").unwrap_or(1).max(1);
        let before = now - seconds * (page - 1);
        return Ok((before - seconds, before));
    }
    Ok((int("start").unwrap_or(end - 3_600), end))
}

fn series(
    graph: &Graph,
    identifier: Option<&str>,
    after: i64,
    before: i64,
    aggregate: bool,
    release: Release,
) -> Value {
    let span = (before - after).max(0);
    let step = (span / MAX_POINTS).max(1);
    let salt = identifier.map_or(0, |id| id.len() * 3 + id.bytes().map(usize::from).sum::<usize>());
    let (base, swing) = graph.level;
    let mut rows: Vec<Value> = Vec::new();
    let mut ts = after + step;
    while ts <= before && span > 0 {
        let mut row = vec![json!(ts)];
        for i in 0..graph.series.len() {
            let value =
                if graph.name == "uptime" { base + (ts - after) as f64 } else { base + swing * wave(ts, salt + i) };
            row.push(json!(round2(value.max(0.0))));
        }
        rows.push(Value::Array(row));
        ts += step;
    }
    let mut legend = vec!["time"];
    legend.extend(graph.series);
    let aggregations = if aggregate {
        let mut stats: [Map<String, Value>; 3] = Default::default();
        for (i, name) in graph.series.iter().enumerate() {
            let values: Vec<f64> = rows.iter().filter_map(|r| r.get(i + 1).and_then(Value::as_f64)).collect();
            if values.is_empty() {
                continue;
            }
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            for (slot, v) in stats.iter_mut().zip([min, mean, max]) {
                slot.insert(name.to_string(), json!(round2(v)));
            }
        }
        let [min, mean, max] = stats;
        json!({"min": min, "mean": mean, "max": max})
    } else if release >= Release::V26_0 {
        Value::Null
    } else {
        json!({"min": {}, "mean": {}, "max": {}})
    };
    json!({
        "name": graph.name,
        "identifier": identifier,
        "data": rows,
        "aggregations": aggregations,
        "start": after.max(1),
        "end": before.max(1),
        "legend": legend,
    })
}

#[cfg(test)]
#[path = "reporting_tests.rs"]
mod tests;
