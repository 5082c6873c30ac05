//! Cron jobs, rsync tasks and init/shutdown scripts through the dispatcher, on both releases: results in the shape of TrueNAS's `returns` schemas, state that
//! create/update/delete change, TrueNAS's validation texts, and runs as jobs.

use serde_json::{Value, json};

use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn cron_jobs_are_created_changed_run_and_deleted() {
    for release in Release::ALL {
        let h = Harness::new(release);
        assert_eq!(h.ok("cronjob.query", json!([])).await.as_array().unwrap().len(), 2);
        let job = h.ok("cronjob.create", json!([{"user": "alice", "command": "df -h"}])).await;
        assert_eq!(job["schedule"], json!({"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"}));
        assert_eq!((&job["enabled"], &job["description"]), (&json!(true), &json!("")));
        let id = job["id"].clone();
        let changed = h.ok("cronjob.update", json!([id, {"schedule": {"hour": "4"}, "enabled": false}])).await;
        assert_eq!(changed["schedule"]["hour"], "4");
        assert_eq!(changed["schedule"]["minute"], "00", "a partial schedule takes TrueNAS's defaults");
        assert_eq!(h.ok("cronjob.get_instance", json!([id])).await, changed);
        assert_eq!(h.ok("cronjob.run", json!([id, true])).await, Value::Null, "skipped while disabled");
        assert_eq!(h.ok("cronjob.run", json!([1])).await, Value::Null);
        assert_eq!(h.ok("cronjob.delete", json!([id])).await, true);
        let gone = h.err("cronjob.get_instance", json!([id])).await;
        assert!(gone.reason().contains(&format!("CronJob {id} does not exist")), "{}", gone.reason());
        let nobody = h.err("cronjob.create", json!([{"user": "mallory", "command": "id"}])).await;
        assert!(nobody.reason().contains("cron_job_create.user"), "{}", nobody.reason());
        assert!(nobody.reason().contains("Specified user does not exist"), "{}", nobody.reason());
        assert!(h.err("cronjob.run", json!([99])).await.reason().contains("CronJob 99 does not exist"));
    }
}

#[tokio::test]
async fn rsync_tasks_embed_their_ssh_credential_and_check_their_mode() {
    for release in Release::ALL {
        let h = Harness::new(release);
        let tasks = h.ok("rsynctask.query", json!([])).await;
        assert_eq!(tasks[0]["ssh_credentials"]["name"], "backup-box");
        let task = h
            .ok(
                "rsynctask.create",
                json!([{"path": "/mnt/tank/documents", "user": "root", "mode": "SSH", "ssh_credentials": 2,
                "remotepath": "/srv/backup/documents", "desc": "Documents offsite"}]),
            )
            .await;
        assert_eq!(task["ssh_credentials"]["id"], 2);
        assert_eq!(task.get("dataset").cloned(), (release >= Release::V26_0).then(|| json!("tank/documents")));
        let id = task["id"].clone();
        let changed = h.ok("rsynctask.update", json!([id, {"desc": "Documents to the backup box"}])).await;
        assert_eq!(
            (&changed["desc"], &changed["ssh_credentials"]["id"]),
            (&json!("Documents to the backup box"), &json!(2))
        );
        assert_eq!(h.ok("rsynctask.run", json!([id])).await, Value::Null);
        let ran = h.ok("rsynctask.get_instance", json!([id])).await;
        assert_eq!(ran["job"]["state"], "SUCCESS");
        assert_eq!(h.ok("rsynctask.delete", json!([id])).await, true);
        assert!(h.err("rsynctask.run", json!([id])).await.reason().contains("does not exist"));

        let reason = |params: Value| async { h.err("rsynctask.create", params).await.reason() };
        let module_with_key = json!([{"path": "/mnt/tank/media", "user": "root", "mode": "MODULE",
            "remotehost": "nas2", "remotemodule": "media", "ssh_credentials": 2}]);
        assert!(reason(module_with_key).await.contains("SSH credentials can't be used when mode is MODULE"));
        let outside = json!([{"path": "/root", "user": "root", "remotehost": "nas2", "remotemodule": "m"}]);
        assert!(reason(outside).await.contains("The path must reside within a pool mount point"));
        let key_pair = json!([{"path": "/mnt/tank", "user": "root", "mode": "SSH", "ssh_credentials": 1,
            "remotepath": "/x"}]);
        assert!(reason(key_pair).await.contains("Credential is not of type SSH_CREDENTIALS"));
    }
}

#[tokio::test]
async fn init_scripts_need_their_command_or_an_executable_file() {
    for release in Release::ALL {
        let h = Harness::new(release);
        let script = h
            .ok("initshutdownscript.create", json!([{"type": "COMMAND", "command": "echo hi", "when": "PREINIT"}]))
            .await;
        assert_eq!((&script["timeout"], &script["enabled"]), (&json!(10), &json!(true)));
        let id = script["id"].clone();
        let changed = h.ok("initshutdownscript.update", json!([id, {"when": "SHUTDOWN", "timeout": 30}])).await;
        assert_eq!((&changed["when"], &changed["command"]), (&json!("SHUTDOWN"), &json!("echo hi")));
        assert_eq!(h.ok("initshutdownscript.delete", json!([id])).await, true);
        let empty = h.err("initshutdownscript.create", json!([{"type": "SCRIPT", "when": "POSTINIT"}])).await;
        assert!(empty.reason().contains("init_shutdown_script_create.script"), "{}", empty.reason());
        let not_exec = json!([{"type": "SCRIPT", "script": "/mnt/tank/documents/taxes_2025.pdf", "when": "POSTINIT"}]);
        let reason = h.err("initshutdownscript.create", not_exec).await.reason();
        assert!(reason.contains("Script must have execute bit set for the user"), "{reason}");
        let dir = json!([{"type": "SCRIPT", "script": "/mnt/tank/isos", "when": "POSTINIT"}]);
        assert!(h.err("initshutdownscript.create", dir).await.reason().contains("Script must be a regular file"));
        let missing = json!([{"type": "SCRIPT", "script": "/mnt/tank/nope.sh", "when": "POSTINIT"}]);
        h.err("initshutdownscript.create", missing).await;
    }
}
