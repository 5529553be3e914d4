//! `socket::setdefaulttimeout` is process-wide, so this binary has one test:
//! a server's own sockets ignore it (its loops block), while line
//! connections keep the idle timeout of their config.

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{Client, Running, GUARD};
use threadkit::server::{ChatRoom, Model, ServerConfig, ServerEvent, UdpEcho};
use threadkit::socket;

#[test]
fn servers_ignore_the_default_timeout() {
    socket::setdefaulttimeout(Some(Duration::from_millis(20)));
    for model in [Model::ThreadPerConnection, Model::Scalable] {
        let server = Running::start(
            ServerConfig {
                model,
                ..ServerConfig::default()
            },
            ChatRoom::new(),
        );
        let accept_errors = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&accept_errors);
        server.server.on_event(move |e| {
            if let ServerEvent::AcceptError { .. } = e {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Longer than the default timeout: the accept loop and the
        // connection are still there.
        std::thread::sleep(Duration::from_millis(100));
        let mut c = Client::connect(server.addr());
        assert_eq!(c.recv(), "* welcome, you are guest-1", "{model:?}");
        std::thread::sleep(Duration::from_millis(100));
        c.line("/who");
        assert_eq!(c.recv(), "* online: guest-1", "{model:?}");
        assert_eq!(
            accept_errors.load(Ordering::Relaxed),
            0,
            "{model:?}: accept timed out"
        );
        drop(c);
        server.stop();
    }
    let server = Running::start_udp(ServerConfig::default(), UdpEcho);
    std::thread::sleep(Duration::from_millis(100));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(GUARD)).unwrap();
    client.send_to(b"ping", server.addr()).unwrap();
    let mut buf = [0u8; 8];
    let (n, _) = client.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    server.stop();
    socket::setdefaulttimeout(None);
}
