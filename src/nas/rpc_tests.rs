use super::*;

fn waiting(id: u64) -> (Pending, oneshot::Receiver<Reply>) {
    let (tx, rx) = oneshot::channel();
    let pending: Pending = Arc::new(Mutex::new(HashMap::from([(id, tx)])));
    (pending, rx)
}

fn answer(frame: &str) -> Option<Reply> {
    let (pending, mut rx) = waiting(7);
    let (events, _keep) = mpsc::unbounded_channel();
    dispatch(frame, &pending, &events);
    rx.try_recv().ok()
}

#[test]
fn a_reply_reaches_its_caller_whatever_its_result() {
    let reply = answer(r#"{"jsonrpc":"2.0","id":7,"result":[{"id":1,"name":"vm"}]}"#);
    assert!(matches!(reply, Some(Ok(v)) if v == json!([{"id": 1, "name": "vm"}])));
    // A `null` result is a result; a reply with neither is not read as one.
    assert!(matches!(answer(r#"{"jsonrpc":"2.0","id":7,"result":null}"#), Some(Ok(Value::Null))));
    assert!(matches!(answer(r#"{"jsonrpc":"2.0","id":7}"#), Some(Err(Fault::NoResult))));
    let error = answer(r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"},"result":1}"#);
    assert!(matches!(error, Some(Err(Fault::Rpc(e))) if e.code == -32601));
    // Another id, or a frame that is no reply, answers nobody.
    assert!(answer(r#"{"jsonrpc":"2.0","id":8,"result":1}"#).is_none());
    assert!(answer("[1]").is_none());
    assert!(answer("not json").is_none());
}

#[test]
fn a_notification_goes_to_the_channel_with_its_params() {
    let (pending, _rx) = waiting(7);
    let (events, mut notes) = mpsc::unbounded_channel();
    dispatch(r#"{"jsonrpc":"2.0","method":"collection_update","params":{"id":3}}"#, &pending, &events);
    let note = notes.try_recv().expect("a notification");
    assert_eq!((note.method.as_str(), note.params), ("collection_update", json!({"id": 3})));
    assert_eq!(pending.lock().unwrap().len(), 1, "no caller was answered");
}

#[test]
fn a_request_is_written_with_the_callers_params() {
    let params = json!([[["id", "=", 1]], {"get": true}]);
    let text = serde_json::to_string(&Request { jsonrpc: "2.0", id: 9, method: "vm.query", params: &params });
    let sent: Value = serde_json::from_str(&text.unwrap()).unwrap();
    assert_eq!(sent, json!({"jsonrpc": "2.0", "id": 9, "method": "vm.query", "params": params}));
}
