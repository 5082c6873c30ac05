//! The mail methods through the dispatcher: results in the shape of TrueNAS's own `returns`
//! schemas, and `mail.send` putting the message in the outbox.

use serde_json::{Value, json};

use crate::reference_dumps::SHAPED;
use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn mail_methods_answer_in_the_shape_of_the_dumps() {
    for release in SHAPED {
        let h = Harness::new(release);
        h.ok("mail.config", json!([])).await;
        h.ok("mail.update", json!([{"port": 465, "security": "SSL"}])).await;
        let sent = h.ok("mail.send", json!([{"subject": "test", "text": "body", "to": ["a@example.org"]}])).await;
        assert_eq!(sent, if release >= Release::V26_0 { Value::Null } else { json!(true) });
    }
}

#[tokio::test]
async fn mail_goes_to_the_outbox_or_to_the_administrators() {
    let h = Harness::new(Release::V25_10);
    h.ok("mail.send", json!([{"subject": "one", "text": "x", "to": ["a@example.org"]}])).await;
    h.ok("mail.send", json!([{"subject": "two"}])).await;
    let state = h.machine.state();
    let to: Vec<Value> = state.settings.mail.outbox.iter().map(|m| m["to"].clone()).collect();
    assert_eq!(to, [json!(["a@example.org"]), json!(["admin@home.lan"])]);
}
