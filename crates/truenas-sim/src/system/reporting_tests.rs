use serde_json::{Value, json};

use super::*;

const NOW: i64 = 1_767_229_200;

use crate::test_support::object as query;

#[test]
fn graphs_follow_the_release() {
    let r = Reporting::default();
    let names = |release| -> Vec<String> {
        r.graphs(release).iter().map(|g| g["name"].as_str().unwrap().to_string()).collect()
    };
    assert!(names(Release::V25_10).contains(&"arcrate".to_string()));
    assert!(!names(Release::V26_0).contains(&"arcrate".to_string()), "26.0 dropped the ARC rate graphs");
    let disk = r.graphs(Release::V25_10).into_iter().find(|g| g["name"] == "disk").unwrap();
    assert_eq!(disk["identifiers"][0], "nvme0n1");
}

#[test]
fn data_covers_the_last_hour_by_default_with_aggregations() {
    let r = Reporting::default();
    let out = r.get_data(Release::V25_10, &[json!({"name": "cpu"})], &query(json!({"aggregate": true})), NOW).unwrap();
    let cpu = &out[0];
    assert_eq!((cpu["start"].as_i64(), cpu["end"].as_i64()), (Some(NOW - 3600), Some(NOW)));
    assert_eq!(cpu["data"].as_array().unwrap().len(), 60);
    assert_eq!(cpu["legend"][0], "time");
    assert_eq!(cpu["data"][0].as_array().unwrap().len(), cpu["legend"].as_array().unwrap().len());
    let (min, max) =
        (cpu["aggregations"]["min"]["cpu"].as_f64().unwrap(), cpu["aggregations"]["max"]["cpu"].as_f64().unwrap());
    assert!(min <= max);
    let again = r.get_data(Release::V25_10, &[json!({"name": "cpu"})], &query(json!({})), NOW).unwrap();
    assert_eq!(again[0]["data"], cpu["data"], "the same window gives the same numbers");
}

#[test]
fn windows_identifiers_and_unit_conflicts() {
    let r = Reporting::default();
    let day = r.get_data(Release::V25_10, &[json!({"name": "load"})], &query(json!({"unit": "DAY"})), NOW).unwrap();
    assert_eq!(day[0]["start"], NOW - 86_400);
    let e = r
        .get_data(Release::V25_10, &[json!({"name": "load"})], &query(json!({"unit": "DAY", "start": 5})), NOW)
        .unwrap_err();
    assert_eq!(
        e.reason(),
        "[EINVAL] query.start: 'start' should only be used if \"unit\" attribute is not provided.\n"
    );
    let disk =
        r.get_data(Release::V25_10, &[json!({"name": "disk", "identifier": "sdb"})], &query(json!({})), NOW).unwrap();
    assert_eq!(disk[0]["identifier"], "sdb");
    let e = r
        .get_data(Release::V25_10, &[json!({"name": "disk", "identifier": "sdz"})], &query(json!({})), NOW)
        .unwrap_err();
    assert!(e.reason().contains("not a valid identifier"));
    let raw =
        r.get_data(Release::V26_0, &[json!({"name": "memory"})], &query(json!({"aggregate": false})), NOW).unwrap();
    assert_eq!(raw[0]["aggregations"], Value::Null);
    assert!(r.get_data(Release::V26_0, &[json!({"name": "arcrate"})], &query(json!({})), NOW).is_err());
}
