//! Loading a policy's limits: each `limits` entry (`window`/`max`, `x-rolling`, `x-cooldown`,
//! `x-concurrency`, `x-key`, `x-amount`), the argument paths they read, and `x-loop-breaker`,
//! every mistake reported with its JSON Pointer like the rest of `load`.

// The loader's checker, its key lists and helpers: this file is one part of it.
use super::*;

impl Checker<'_, '_> {
    /// The limits of `all_tools` (`tool` is `None`) or of one tools entry.
    pub(super) fn limits(&mut self, list: &Value, at: &str, tool: Option<Option<&Tool<'_>>>) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, l) in self.array(list, at).iter().enumerate() {
            let at = format!("{at}/{i}");
            let Some(l) = self.object(l, &at, LIMIT_KEYS, Location::Limit) else { continue };
            let counter = self.required(l, &at, "counter").and_then(|v| self.string(v, &child(&at, "counter")));
            self.bound(l, &at);
            if let Some(scope) = self.required(l, &at, "scope") {
                self.choice(scope, &child(&at, "scope"), &Scope::ALL, Scope::as_str);
            }
            if let Some(text) = l.get("on_deny") {
                self.string(text, &child(&at, "on_deny"));
            }
            for key in [KEY, AMOUNT] {
                if let Some(path) = l.get(key) {
                    self.limit_path(path, &child(&at, key), key, tool);
                }
            }
            if l.contains_key(AMOUNT) && (l.contains_key(COOLDOWN) || l.contains_key(CONCURRENCY)) {
                self.problem(
                    child(&at, AMOUNT),
                    format!("`{AMOUNT}` needs a `window` or `{ROLLING}` bound with `max` (it adds up amounts)"),
                );
            }
            if let Some(counter) = counter {
                let counter_at = child(&at, "counter");
                if let Some(first) = seen.get(counter) {
                    self.problem(&counter_at, format!("duplicate counter `{counter}` (also at {first})"));
                } else {
                    seen.insert(counter.to_owned(), counter_at);
                }
            }
        }
    }

    /// Exactly one bound: `window` + `max`, `x-rolling` + `max`, `x-cooldown` or `x-concurrency`.
    fn bound(&mut self, l: &Map<String, Value>, at: &str) {
        let given: Vec<&str> =
            ["window", ROLLING, COOLDOWN, CONCURRENCY].into_iter().filter(|k| l.contains_key(*k)).collect();
        match given.as_slice() {
            [] => self.problem(
                at,
                format!("missing a bound: give one of `window` (with `max`), `{ROLLING}` (with `max`), `{COOLDOWN}` or `{CONCURRENCY}`"),
            ),
            [_] => {}
            [first, rest @ ..] => {
                for other in rest {
                    self.problem(
                        child(at, other),
                        format!("a limit has one bound: `{first}` and `{other}` are both given; split it into two limits"),
                    );
                }
            }
        }
        if let Some(window) = l.get("window") {
            self.choice(window, &child(at, "window"), &Window::ALL, Window::as_str);
        }
        if let Some(span) = l.get(ROLLING) {
            match span.as_str().map(parse_span) {
                Some(Ok(_)) => {}
                Some(Err(message)) => self.problem(child(at, ROLLING), message),
                None => self.problem(child(at, ROLLING), format!("must be a string like `10m`, found {}", shown(span))),
            }
        }
        if let Some(secs) = l.get(COOLDOWN)
            && !secs.as_u64().is_some_and(|n| (1..=MAX_SPAN_SECS).contains(&n))
        {
            self.problem(
                child(at, COOLDOWN),
                format!("must be a whole number of seconds from 1 to {MAX_SPAN_SECS}, found {}", shown(secs)),
            );
        }
        if let Some(n) = l.get(CONCURRENCY)
            && !n.as_u64().is_some_and(|n| (1..=MAX_CONCURRENCY).contains(&n))
        {
            self.problem(
                child(at, CONCURRENCY),
                format!("must be a whole number from 1 to {MAX_CONCURRENCY}, found {}", shown(n)),
            );
        }
        let counts = l.contains_key("window") || l.contains_key(ROLLING);
        match l.get("max") {
            Some(max) if counts && max.as_u64().is_none() => {
                self.problem(child(at, "max"), format!("must be a whole number, 0 or more, found {}", shown(max)));
            }
            Some(_) if !counts && !given.is_empty() => {
                let bound = given.first().copied().unwrap_or("the bound");
                self.problem(child(at, "max"), format!("`max` goes with `window` or `{ROLLING}`, not with `{bound}`"));
            }
            None if counts => self.problem(child(at, "max"), "missing required key `max`"),
            _ => {}
        }
    }

    /// An `x-key` or `x-amount` path: only on a tools entry, naming an argument of every action
    /// the entry applies to, never a secret one.
    fn limit_path(&mut self, path: &Value, at: &str, key: &str, tool: Option<Option<&Tool<'_>>>) {
        let Some(path) = self.string(path, at) else { return };
        let segments = match parse_path(path) {
            Ok(segments) => segments,
            Err(message) => return self.problem(at, message),
        };
        let Some(tool) = tool else {
            return self.problem(
                at,
                format!("`{key}` is only allowed on a limit of a `tools` entry, whose actions all take the argument"),
            );
        };
        if let Some(secret) = segments.iter().find(|s| crate::redact::is_secret_field(s)) {
            return self
                .problem(at, format!("`{key}` must not read a secret argument (`{secret}`): counter keys are stored"));
        }
        if let Some(message) = tool.and_then(|t| names::check_path(t, &segments)) {
            self.problem(at, message);
        }
    }

    /// `x-loop-breaker`: `false` or `{max, x-rolling}`.
    pub(super) fn loop_breaker(&mut self, v: &Value) {
        let at = child("", LOOP_BREAKER);
        match v {
            Value::Bool(false) => {}
            Value::Object(_) => {
                let Some(map) = self.object(v, &at, &["max"], Location::LoopBreaker) else { return };
                if let Some(max) = self.required(map, &at, "max")
                    && max.as_u64().is_none_or(|n| n < 1)
                {
                    self.problem(child(&at, "max"), format!("must be a whole number, 1 or more, found {}", shown(max)));
                }
                if let Some(span) = self.required(map, &at, ROLLING) {
                    let message = match span.as_str().map(parse_span) {
                        Some(Ok(_)) => None,
                        Some(Err(message)) => Some(message),
                        None => Some(format!("must be a string like `2m`, found {}", shown(span))),
                    };
                    if let Some(message) = message {
                        self.problem(child(&at, ROLLING), message);
                    }
                }
            }
            other => self.problem(
                at,
                format!(
                    "must be `false` or an object like `{{\"max\": 10, \"{ROLLING}\": \"2m\"}}`, found {}",
                    shown(other)
                ),
            ),
        }
    }
}

#[cfg(test)]
#[path = "load_limits_tests.rs"]
mod tests;
