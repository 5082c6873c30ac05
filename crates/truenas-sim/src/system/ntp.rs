//! Time servers (`system.ntpserver.*`): the three Debian pool servers of a fresh install, and
//! the middleware's checks (the server must answer unless `force`; `maxpoll` above `minpoll`).
//! An address under the reserved `.invalid` domain plays a server that does not answer.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::table::Table;

/// Members of a server entry, in `system.ntpserver.query` order.
const FIELDS: [&str; 6] = ["address", "burst", "iburst", "prefer", "minpoll", "maxpoll"];

/// The configured time servers.
#[derive(Debug)]
pub(crate) struct NtpStore {
    servers: Table<Map<String, Value>>,
}

pub(crate) fn ntp_server_not_found(id: i64) -> Failure {
    Failure::not_found(format!("NTPServer {id} does not exist"))
}

/// Whether the simulated network reaches an NTP server at `address`.
fn answers(address: &str) -> bool {
    let host = address.trim().trim_end_matches('.');
    !host.is_empty() && !host.ends_with(".invalid") && host != "invalid"
}

impl NtpStore {
    pub(crate) fn demo() -> NtpStore {
        let mut store = NtpStore { servers: Table::new("NTPServer") };
        for i in 0..3 {
            let server = json!({
                "address": format!("{i}.debian.pool.ntp.org"),
                "burst": false, "iburst": true, "prefer": false, "minpoll": 6, "maxpoll": 10,
            });
            store.insert(server.as_object().cloned().unwrap_or_default());
        }
        store
    }

    fn insert(&mut self, fields: Map<String, Value>) -> i64 {
        self.servers.insert(|_| fields)
    }

    fn entry(id: i64, fields: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(id));
        for key in FIELDS {
            out.insert(key.into(), fields.get(key).cloned().unwrap_or(Value::Null));
        }
        Value::Object(out)
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.servers.iter().map(|(id, f)| NtpStore::entry(id, f)).collect()
    }

    pub(crate) fn get(&self, id: i64) -> Result<Value, Failure> {
        self.servers.get(id).map(|f| NtpStore::entry(id, f))
    }

    fn check(schema: &str, server: &Map<String, Value>, force: bool) -> Result<(), Failure> {
        let mut problems = Vec::new();
        let address = server.get("address").and_then(Value::as_str).unwrap_or_default();
        if !force && !answers(address) {
            problems.push(Invalid {
                attribute: Some(format!("{schema}.address")),
                message: "Server could not be reached. Check \"Force\" to continue regardless.".into(),
                errno: errno::EINVAL,
            });
        }
        let poll = |key: &str| server.get(key).and_then(Value::as_i64).unwrap_or(0);
        if poll("maxpoll") <= poll("minpoll") {
            problems.push(Invalid {
                attribute: Some(format!("{schema}.maxpoll")),
                message: "Max Poll should be higher than Min Poll".into(),
                errno: errno::EINVAL,
            });
        }
        if problems.is_empty() { Ok(()) } else { Err(Failure::Validation(problems)) }
    }

    /// `system.ntpserver.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create(&mut self, data: &Map<String, Value>) -> Result<i64, Failure> {
        let force = data.get("force").and_then(Value::as_bool).unwrap_or(false);
        let mut server = data.clone();
        server.retain(|k, _| FIELDS.contains(&k.as_str()));
        NtpStore::check("ntpserver_create", &server, force)?;
        Ok(self.insert(server))
    }

    /// `system.ntpserver.update`.
    pub(crate) fn update(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        let mut server = self.servers.get(id)?.clone();
        let force = data.get("force").and_then(Value::as_bool).unwrap_or(false);
        server.extend(data.iter().filter(|(k, _)| FIELDS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())));
        NtpStore::check("ntpserver_update", &server, force)?;
        *self.servers.get_mut(id)? = server;
        Ok(())
    }

    /// `system.ntpserver.delete`.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.servers.delete(id).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(v: Value) -> Map<String, Value> {
        crate::test_support::created("system.ntpserver.create", v)
    }

    #[test]
    fn create_checks_reachability_and_polling_then_lists_the_server() {
        let mut s = NtpStore::demo();
        let id = s.create(&server(json!({"address": "time.cloudflare.com"}))).unwrap();
        assert_eq!(id, 4);
        assert_eq!(
            s.get(4).unwrap(),
            json!({"id": 4, "address": "time.cloudflare.com", "burst": false, "iburst": true, "prefer": false,
                   "minpoll": 6, "maxpoll": 10})
        );
        let err = s.create(&server(json!({"address": "ntp.example.invalid", "minpoll": 10}))).unwrap_err();
        assert_eq!(
            err.reason(),
            "[EINVAL] ntpserver_create.address: Server could not be reached. Check \"Force\" to continue regardless.\n\
             [EINVAL] ntpserver_create.maxpoll: Max Poll should be higher than Min Poll\n"
        );
        assert!(s.create(&server(json!({"address": "ntp.example.invalid", "force": true}))).is_ok());
        assert_eq!(s.entries().len(), 5);
    }

    #[test]
    fn update_and_delete_know_their_ids() {
        let mut s = NtpStore::demo();
        s.update(1, &server(json!({"prefer": true})).into_iter().filter(|(k, _)| k == "prefer").collect()).unwrap();
        assert_eq!(s.get(1).unwrap()["prefer"], true);
        s.delete(2).unwrap();
        assert_eq!(s.delete(2).unwrap_err(), ntp_server_not_found(2));
        assert_eq!(s.get(2).unwrap_err().reason(), "[ENOENT] None: NTPServer 2 does not exist\n");
    }
}
