//! [`Outbox`] and [`Action`]: what a [`LineService`](super::LineService) asks the
//! server to do.

use std::vec;

use super::conn::ConnId;

/// One request from a service to its server, in the order the service made it.
///
/// A text is one line **without** its `\n`: the server appends the `\n` when it
/// sends it. (A text that contains `\n` goes out as several lines.)
///
/// # Examples
///
/// ```
/// use threadkit::server::{Action, ConnId, Outbox};
///
/// let mut out = Outbox::new();
/// out.close(ConnId::new(3));
/// assert_eq!(out.actions(), [Action::Close(ConnId::new(3))]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Send `text` (plus `\n`) to one connection.
    Send {
        /// The receiving connection.
        to: ConnId,
        /// The line, without `\n`.
        text: String,
    },
    /// Send `text` (plus `\n`) to every open connection of the server, except
    /// `except`.
    Broadcast {
        /// The one connection left out, if any (usually the sender).
        except: Option<ConnId>,
        /// The line, without `\n`.
        text: String,
    },
    /// Close the connection once the lines queued for it before this were sent.
    Close(ConnId),
}

/// Collects what a [`LineService`](super::LineService) callback wants done: lines
/// to send, broadcasts, connections to close.
///
/// A service never touches a socket; it fills the `Outbox` it is given and the
/// server carries the [`Action`]s out after the callback returns, in order. That
/// keeps services testable without a network: make an `Outbox`, call the service,
/// read [`actions`](Outbox::actions).
///
/// # Examples
///
/// ```
/// use threadkit::server::{Action, ConnId, Outbox};
///
/// let (alice, bob) = (ConnId::new(1), ConnId::new(2));
/// let mut out = Outbox::new();
/// out.send(alice, "* welcome");
/// out.broadcast(Some(alice), "* alice joined");
/// assert_eq!(out.actions()[1], Action::Broadcast {
///     except: Some(alice),
///     text: "* alice joined".to_string(),
/// });
/// # let _ = bob;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    actions: Vec<Action>,
}

impl Outbox {
    /// An empty outbox.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::Outbox;
    ///
    /// assert!(Outbox::new().is_empty());
    /// ```
    pub const fn new() -> Outbox {
        Outbox {
            actions: Vec::new(),
        }
    }

    /// Sends `text` as one line (the server adds the `\n`) to `conn`.
    ///
    /// A connection that has already closed is skipped silently.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Action, ConnId, Outbox};
    ///
    /// let mut out = Outbox::new();
    /// out.send(ConnId::new(1), "hello");
    /// assert_eq!(out.actions(), [Action::Send { to: ConnId::new(1), text: "hello".into() }]);
    /// ```
    pub fn send(&mut self, conn: ConnId, text: impl Into<String>) {
        self.actions.push(Action::Send {
            to: conn,
            text: text.into(),
        });
    }

    /// Sends `text` as one line to every open connection of the server, except
    /// `except` (`None`: to everyone).
    ///
    /// "Open connections" are those the service was told of with `on_connect` and
    /// not yet with `on_close`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ConnId, Outbox};
    ///
    /// let mut out = Outbox::new();
    /// out.broadcast(None, "* server news");
    /// out.broadcast(Some(ConnId::new(1)), "alice: hi");
    /// assert_eq!(out.len(), 2);
    /// ```
    pub fn broadcast(&mut self, except: Option<ConnId>, text: impl Into<String>) {
        self.actions.push(Action::Broadcast {
            except,
            text: text.into(),
        });
    }

    /// Closes `conn` after the lines queued for it so far were sent; the service's
    /// `on_close` then runs with [`CloseReason::Closed`](super::CloseReason::Closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Action, ConnId, Outbox};
    ///
    /// let mut out = Outbox::new();
    /// out.send(ConnId::new(1), "* bye");
    /// out.close(ConnId::new(1));
    /// assert_eq!(out.actions()[1], Action::Close(ConnId::new(1)));
    /// ```
    pub fn close(&mut self, conn: ConnId) {
        self.actions.push(Action::Close(conn));
    }

    /// The actions collected so far, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ConnId, Outbox};
    ///
    /// let mut out = Outbox::new();
    /// out.send(ConnId::new(1), "a");
    /// assert_eq!(out.actions().len(), 1);
    /// ```
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// How many actions are collected.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ConnId, Outbox};
    ///
    /// let mut out = Outbox::new();
    /// out.close(ConnId::new(1));
    /// assert_eq!(out.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether no action is collected.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::Outbox;
    ///
    /// assert!(Outbox::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Takes every collected action out, oldest first, leaving the outbox empty
    /// (its allocation is kept for reuse): how a server carries them out.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Action, ConnId, Outbox};
    ///
    /// let mut out = Outbox::new();
    /// out.send(ConnId::new(1), "x");
    /// for action in out.drain() {
    ///     assert!(matches!(action, Action::Send { .. }));
    /// }
    /// assert!(out.is_empty());
    /// ```
    pub fn drain(&mut self) -> vec::Drain<'_, Action> {
        self.actions.drain(..)
    }
}
