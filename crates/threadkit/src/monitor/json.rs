//! The JSON the monitor serves: `/threads.json` from [`dump_all`] and
//! [`deadlocks`], `/server.json` from the registered server's counters.
//!
//! Keys are the Rust field names; durations are seconds as floats; `state` and
//! `kind` are their `Display` text.

use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

use crate::threading::{deadlocks, dump_all, ThreadInfo, WaitInfo};

/// Appends `s` as a JSON string (serde_json escapes it).
fn string(out: &mut String, s: &str) {
    out.push_str(&Value::from(s).to_string());
}

/// Appends `v` as a number, or `null`.
fn opt<T: std::fmt::Display>(out: &mut String, v: Option<T>) {
    match v {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.push_str("null"),
    }
}

fn wait_json(out: &mut String, w: &WaitInfo) {
    out.push_str("{\"kind\":");
    string(out, &w.kind.to_string());
    out.push_str(",\"object\":");
    string(out, &w.object);
    let _ = write!(out, ",\"waited\":{:?},\"timeout\":", w.waited.as_secs_f64());
    opt(out, w.timeout.map(|t| format!("{:?}", t.as_secs_f64())));
    out.push_str(",\"holder\":");
    opt(out, w.holder);
    out.push_str(",\"holder_name\":");
    match &w.holder_name {
        Some(n) => string(out, n),
        None => out.push_str("null"),
    }
    out.push('}');
}

fn thread_json(out: &mut String, t: &ThreadInfo) {
    out.push_str("{\"name\":");
    string(out, &t.name);
    let _ = write!(out, ",\"ident\":{},\"native_id\":", t.ident);
    opt(out, t.native_id);
    let _ = write!(
        out,
        ",\"daemon\":{},\"state\":\"{}\",\"age\":{:?},\"internal\":{},\"waiting\":",
        t.daemon,
        t.state,
        t.age.as_secs_f64(),
        t.internal
    );
    match &t.waiting {
        Some(w) => wait_json(out, w),
        None => out.push_str("null"),
    }
    out.push('}');
}

fn threads_json(out: &mut String, threads: &[ThreadInfo]) {
    out.push('[');
    for (i, t) in threads.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        thread_json(out, t);
    }
    out.push(']');
}

/// `{"threads": [...], "deadlocks": [{"threads": [...], "report": "..."}]}`,
/// written straight into one string (a `Value` tree per thread costs several
/// times more with 1,000 threads).
pub(crate) fn threads() -> String {
    let threads = dump_all();
    let deadlocks = deadlocks();
    let mut out = String::with_capacity(160 * threads.len() + 64);
    out.push_str("{\"threads\":");
    threads_json(&mut out, &threads);
    out.push_str(",\"deadlocks\":[");
    for (i, d) in deadlocks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"threads\":");
        threads_json(&mut out, d.threads());
        out.push_str(",\"report\":");
        string(&mut out, &d.to_string());
        out.push('}');
    }
    out.push_str("]}");
    out
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
    /// Connections refused (over the client limit, or by `verify_request`).
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
