//! The sans-IO pieces of `threadkit::server`: `Outbox`, `ConnId`, `CloseReason`,
//! `Service`, `ServerConfig`.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use threadkit::server::{
    Action, ChatRoom, CloseReason, ConnId, Echo, Model, Outbox, RequestHandler, ServerConfig,
    Service,
};
use threadkit::socket::Socket;

#[test]
fn outbox_keeps_actions_in_order_and_drains() {
    let mut out = Outbox::new();
    out.send(ConnId::new(1), "a");
    out.broadcast(None, String::from("b"));
    out.broadcast(Some(ConnId::new(2)), "c");
    out.close(ConnId::new(1));
    assert_eq!(out.len(), 4);
    let expected = [
        Action::Send {
            to: ConnId::new(1),
            text: "a".into(),
        },
        Action::Broadcast {
            except: None,
            text: "b".into(),
        },
        Action::Broadcast {
            except: Some(ConnId::new(2)),
            text: "c".into(),
        },
        Action::Close(ConnId::new(1)),
    ];
    assert_eq!(out.actions(), expected);
    assert_eq!(out.drain().collect::<Vec<_>>(), expected);
    assert!(out.is_empty());
}

#[test]
fn conn_id_is_a_copyable_hashable_label() {
    let a = ConnId::new(5);
    let b = a;
    assert_eq!(a, b);
    assert_eq!(a.get(), 5);
    assert_eq!(a.to_string(), "#5");
    assert_eq!(format!("{a:?}"), "ConnId(5)");
    let set: HashSet<ConnId> = [a, b, ConnId::new(6)].into_iter().collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn close_reasons_display_the_cli_words() {
    let words = [
        (CloseReason::Closed, "closed"),
        (CloseReason::Reset, "reset"),
        (CloseReason::Idle, "idle"),
        (CloseReason::TooLong, "too long"),
        (CloseReason::TooSlow, "too slow"),
        (CloseReason::Full, "full"),
        (CloseReason::Shutdown, "shutdown"),
        (CloseReason::Tls, "tls"),
        (CloseReason::Error, "error"),
    ];
    for (reason, word) in words {
        assert_eq!(reason.to_string(), word);
        assert_eq!(reason.as_str(), word);
    }
}

#[test]
fn server_config_defaults_match_the_design() {
    let c = ServerConfig::default();
    assert_eq!(c.model, Model::ThreadPerConnection);
    assert_eq!(Model::default(), Model::ThreadPerConnection);
    assert_eq!(c.max_clients, 1024);
    assert_eq!(c.idle_timeout, Some(Duration::from_secs(300)));
    assert_eq!(c.backlog, 1024);
    assert!(c.reuse_address);
    assert!(!c.daemon_threads);
    assert!(c.block_on_close);
    assert_eq!(c.handler_stack_size, None);
    assert_eq!(c.max_line, 65_536);
    assert_eq!(c.max_queue, 1_048_576);
    assert_eq!(c.workers, 0);
    let custom = ServerConfig {
        model: Model::Synchronous,
        ..ServerConfig::default()
    };
    assert_ne!(custom, c);
}

struct Nop;

impl RequestHandler for Nop {
    fn handle(&mut self, _conn: &Socket, _peer: SocketAddr) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn services_from_line_services_and_handler_factories() {
    let lines: Service = Echo.into();
    assert_eq!(format!("{lines:?}"), "Service::Lines(..)");
    let shared = Service::shared(Arc::new(ChatRoom::new()));
    let _clone = shared.clone();
    let handler = Service::handler(|| Nop);
    assert_eq!(format!("{handler:?}"), "Service::Handler(..)");
    let closure = Service::handler(|| |_c: &Socket, _p: SocketAddr| -> io::Result<()> { Ok(()) });
    assert_eq!(format!("{closure:?}"), "Service::Handler(..)");
}

#[test]
fn public_types_are_send_sync_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<Outbox>();
    check::<Action>();
    check::<ConnId>();
    check::<CloseReason>();
    check::<Service>();
    check::<ServerConfig>();
    check::<Model>();
}
