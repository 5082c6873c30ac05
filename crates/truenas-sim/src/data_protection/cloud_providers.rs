//! `cloudsync.providers`: the cloud providers TrueNAS syncs with, whether they keep files in
//! buckets (and what the provider calls a bucket), OAuth sign-up where there is one, and the task
//! attributes each takes.

use serde_json::{Value, json};

const OAUTH: &str = "https://truenas.com/oauth/";

/// `(name, title, oauth, bucket title, extra task attributes)`.
type Provider = (&'static str, &'static str, bool, Option<&'static str>, &'static [&'static str]);

const PROVIDERS: [Provider; 19] = [
    ("AZUREBLOB", "Microsoft Azure Blob Storage", false, Some("Container"), &[]),
    ("B2", "Backblaze B2", false, Some("Bucket"), &["chunk_size", "fast_list"]),
    ("BOX", "Box", true, None, &["chunk_size"]),
    ("DROPBOX", "Dropbox", true, None, &["chunk_size"]),
    ("FTP", "FTP", false, None, &[]),
    ("GOOGLE_CLOUD_STORAGE", "Google Cloud Storage", false, Some("Bucket"), &["bucket_policy_only"]),
    ("GOOGLE_DRIVE", "Google Drive", true, None, &["acknowledge_abuse"]),
    ("GOOGLE_PHOTOS", "Google Photos", true, None, &[]),
    ("HTTP", "HTTP", false, None, &[]),
    ("HUBIC", "Hubic", false, Some("Container"), &[]),
    ("MEGA", "Mega", false, None, &[]),
    ("ONEDRIVE", "Microsoft OneDrive", true, None, &[]),
    ("OPENSTACK_SWIFT", "OpenStack Swift", false, Some("Container"), &["chunk_size"]),
    ("PCLOUD", "pCloud", true, None, &[]),
    ("S3", "Amazon S3", false, Some("Bucket"), &["region", "fast_list", "encryption", "storage_class"]),
    ("SFTP", "SFTP", false, None, &[]),
    ("STORJ_IX", "Storj iX", false, Some("Bucket"), &[]),
    ("WEBDAV", "WebDAV", false, None, &[]),
    ("YANDEX", "Yandex", true, None, &["chunk_size"]),
];

/// The provider list as TrueNAS returns it.
pub(crate) fn providers() -> Value {
    let list = PROVIDERS.iter().map(|(name, title, oauth, bucket_title, extra)| {
        let mut schema: Vec<Value> = Vec::new();
        if bucket_title.is_some() {
            schema.push(json!({"property": "bucket"}));
        }
        schema.push(json!({"property": "folder"}));
        schema.extend(extra.iter().map(|p| json!({"property": p})));
        json!({
            "name": name,
            "title": title,
            "credentials_oauth": if *oauth { Some(format!("{OAUTH}{}", name.to_lowercase())) } else { None },
            "buckets": bucket_title.is_some(),
            "bucket_title": bucket_title,
            "task_schema": schema,
        })
    });
    Value::Array(list.collect())
}
