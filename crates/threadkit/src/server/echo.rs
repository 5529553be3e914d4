//! [`Echo`]: the echo protocol of `threadkit serve`.

use super::conn::ConnId;
use super::outbox::Outbox;
use super::service::LineService;

/// The echo protocol: every valid line comes back to its sender exactly as sent.
///
/// The server's limits make the rest of the protocol (a bad line is never echoed:
/// see [`server`](super) "Line protocols"); `Echo` keeps no state.
///
/// # Examples
///
/// ```
/// use threadkit::server::{Action, ConnId, Echo, LineService, Outbox};
///
/// let mut out = Outbox::new();
/// Echo.on_line(ConnId::new(1), "hello there\r", &mut out);
/// assert_eq!(out.actions(), [Action::Send {
///     to: ConnId::new(1),
///     text: "hello there\r".to_string(),
/// }]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Echo;

impl LineService for Echo {
    fn on_line(&self, conn: ConnId, line: &str, out: &mut Outbox) {
        out.send(conn, line);
    }

    /// Echo answers only the sender: no server-wide ordering lock is needed.
    fn needs_global_order(&self) -> bool {
        false
    }
}
