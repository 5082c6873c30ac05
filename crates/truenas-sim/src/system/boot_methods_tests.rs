//! The boot methods through the dispatcher: 24.10's `bootenv.*` names over the boot
//! environments.

use serde_json::json;

use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn bootenv_methods_act_on_the_boot_environments() {
    let h = Harness::new(Release::V24_10);
    let envs = h.ok("bootenv.query", json!([])).await;
    let active = envs.as_array().unwrap().iter().find(|e| e["active"] == true).unwrap()["id"].clone();
    assert_eq!(active, "24.10.2.2");
    assert_eq!(h.ok("bootenv.create", json!([{"name": "before-update"}])).await, "before-update");
    assert_eq!(h.ok("bootenv.set_attribute", json!(["before-update", {"keep": true}])).await, true);
    assert_eq!(h.ok("bootenv.activate", json!(["before-update"])).await, true);
    let env = h.ok("bootenv.query", json!([[["id", "=", "before-update"]], {"get": true}])).await;
    assert_eq!((env["keep"].clone(), env["activated"].clone()), (json!(true), json!(true)));
    h.ok("bootenv.activate", json!(["24.10.2.2"])).await;
    assert_eq!(h.ok("bootenv.delete", json!(["before-update"])).await, true, "a job that ends in true");
    assert!(h.err("bootenv.delete", json!(["24.10.2.2"])).await.reason().contains("active boot environment"));
}
