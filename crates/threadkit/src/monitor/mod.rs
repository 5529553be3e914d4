//! The live page: [`Monitor`] serves an HTML page and `/threads.json` (every
//! thread, its wait and holder, the deadlocks) over HTTP/1.1 on threadkit's own
//! threads, and `/server.json` once a server called [`register_server`].

mod http;
mod json;

pub use http::Monitor;
pub use json::{register_server, ServerCounters};
