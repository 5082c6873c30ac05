//! The configuration file through the dispatcher: `core.download` saves it (in the shape of the
//! dumps), and the pipe-bound methods called directly fail as the middleware fails them.

use serde_json::{Value, json};

use crate::reference_dumps::SHAPED;
use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn a_download_of_the_configuration_answers_in_the_shape_of_the_dumps() {
    for release in SHAPED {
        let h = Harness::new(release);
        h.ok("core.download", json!(["config.save", [{"secretseed": true}], "truenas-config"])).await;
    }
}

#[tokio::test]
async fn the_configuration_file_moves_only_through_pipes() {
    let h = Harness::new(Release::V25_10);
    let save = h.err("config.save", json!([{}])).await.to_rpc_error();
    assert_eq!(
        (save["code"].clone(), save["data"]["reason"].clone()),
        (json!(-32001), json!("Pipe 'output' is not open"))
    );
    let upload = h.err("config.upload", json!([])).await;
    assert_eq!(upload.reason(), "Pipe 'input' is not open");
    let download = h.ok("core.download", json!(["config.save", [{}], "truenas-config"])).await;
    let job = download[0].as_u64().unwrap();
    let url = download[1].as_str().unwrap();
    assert!(url.starts_with(&format!("/_download/{job}?auth_token=")), "{url}");
    let done = h.machine.jobs.wait(job).await;
    assert!(matches!(done, Some(crate::jobs::Outcome::Success(Value::Null))), "{done:?}");
    let refused = h.err("core.download", json!(["user.query", [], "users.json"])).await;
    assert!(refused.reason().contains("no download"), "{}", refused.reason());
    let bad = h.err("core.download", json!(["config.save", [{"secretseed": "yes"}], "x"])).await;
    assert!(bad.reason().contains("config_save"), "{}", bad.reason());
}
