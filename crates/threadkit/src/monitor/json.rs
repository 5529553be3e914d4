//! The JSON the monitor serves: `/threads.json` from [`dump_all`] and
//! [`deadlocks`], `/server.json` from the registered server's counters.
//!
//! Keys are the Rust field names; durations are seconds as floats; `state` and
//! `kind` are their `Display` text.

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

use crate::threading::{deadlocks, dump_all, ThreadInfo, WaitInfo};

fn wait_json(w: &WaitInfo) -> Value {
    json!({
        "kind": w.kind.to_string(),
        "object": w.object,
        "waited": w.waited.as_secs_f64(),
        "timeout": w.timeout.map(|t| t.as_secs_f64()),
        "holder": w.holder,
        "holder_name": w.holder_name,
    })
}

fn thread_json(t: &ThreadInfo) -> Value {
    json!({
        "name": t.name,
        "ident": t.ident,
        "native_id": t.native_id,
        "daemon": t.daemon,
        "state": t.state.to_string(),
        "age": t.age.as_secs_f64(),
        "internal": t.internal,
        "waiting": t.waiting.as_ref().map(wait_json),
    })
}

/// `{"threads": [...], "deadlocks": [{"threads": [...], "report": "..."}]}`.
pub(crate) fn threads() -> String {
    let threads: Vec<Value> = dump_all().iter().map(thread_json).collect();
    let deadlocks: Vec<Value> = deadlocks()
        .iter()
        .map(|d| {
            json!({
                "threads": d.threads().iter().map(thread_json).collect::<Vec<_>>(),
                "report": d.to_string(),
            })
        })
        .collect();
    json!({ "threads": threads, "deadlocks": deadlocks }).to_string()
}

/// A server's counters as `/server.json` shows them: what
/// [`register_server`] is given.
///
/// # Examples
///
/// ```
/// use threadkit::monitor::ServerCounters;
///
/// let c = ServerCounters { clients: 2, accepted: 5, ..ServerCounters::default() };
/// assert_eq!(c.refused, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerCounters {
    /// Clients connected now.
    pub clients: u64,
    /// Connections accepted since the start.
    pub accepted: u64,
    /// Connections refused (over the client limit).
    pub refused: u64,
    /// Lines received.
    pub lines_in: u64,
    /// Lines sent.
    pub lines_out: u64,
    /// Disconnections by reason (`closed`, `reset`, ...).
    pub disconnects: Vec<(String, u64)>,
}

type Source = Arc<dyn Fn() -> ServerCounters + Send + Sync>;

fn source() -> &'static Mutex<Option<Source>> {
    static S: OnceLock<Mutex<Option<Source>>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(None))
}

/// Makes `/server.json` show the counters `read` returns (called on each
/// request); a later registration replaces an earlier one.
///
/// # Examples
///
/// ```
/// use threadkit::monitor::{register_server, ServerCounters};
///
/// register_server(|| ServerCounters { clients: 1, ..ServerCounters::default() });
/// ```
pub fn register_server(read: impl Fn() -> ServerCounters + Send + Sync + 'static) {
    *crate::sync::lock(source()) = Some(Arc::new(read));
}

/// `/server.json`, or `None` while no server registered.
pub(crate) fn server() -> Option<String> {
    // Cloned out: the registered function runs under no lock of ours.
    let read = crate::sync::lock(source()).clone()?;
    let c = read();
    let disconnects: serde_json::Map<String, Value> = c
        .disconnects
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    Some(
        json!({
            "clients": c.clients,
            "accepted": c.accepted,
            "refused": c.refused,
            "lines_in": c.lines_in,
            "lines_out": c.lines_out,
            "disconnects": disconnects,
        })
        .to_string(),
    )
}
