//! E13, selectors: the echo server at the end of Python's `selectors` documentation,
//! one thread serving every client through a `DefaultSelector`.
//!
//! Python keeps a callback in each key's `data` and calls
//! `key.data(key.fileobj, mask)`; here `data` is a `Callback` naming the function and
//! holding the socket (a Rust key cannot hand back the borrowed `fileobj`). Python's
//! server runs forever on port 1234; this one binds 127.0.0.1:0, starts three clients
//! of its own on threadkit threads, and ends once they have all been served and
//! closed.
//!
//! Run with `cargo run --example e13_selectors`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use threadkit::selectors::{DefaultSelector, Events, EVENT_READ};
use threadkit::socket::{self, Family, Kind, Socket};
use threadkit::threading::Thread;

/// How many clients the example starts, and how many messages each sends.
const CLIENTS: usize = 3;
const MESSAGES: usize = 2;

/// What Python stores in `key.data`: the callback, with the socket it gets.
#[derive(Clone)]
enum Callback {
    Accept(Arc<Socket>),
    Read(Arc<Socket>),
}

/// The server's state: Python's module-level `sel`, and how many clients closed.
struct Server {
    sel: DefaultSelector<Callback>,
    closed: usize,
}

impl Server {
    fn accept(&mut self, sock: &Socket, _mask: Events) -> io::Result<()> {
        let (conn, addr) = sock.accept()?; // should be ready
        println!("accepted {conn:?} from {addr}");
        conn.setblocking(false)?;
        let conn = Arc::new(conn);
        self.sel
            .register(&*conn, EVENT_READ, Callback::Read(Arc::clone(&conn)))?;
        Ok(())
    }

    fn read(&mut self, conn: &Socket, _mask: Events) -> io::Result<()> {
        let data = conn.recv(1000)?; // should be ready
        if data.is_empty() {
            println!("closing {conn:?}");
            self.sel.unregister(conn)?; // unregister first, then close
            self.closed += 1;
        } else {
            println!("echoing {:?} to {conn:?}", String::from_utf8_lossy(&data));
            conn.sendall(&data)?; // Python's `send`, hoping it won't block
        }
        Ok(())
    }
}

/// One client: connect, send each message and read its echo, close.
fn client(n: usize, server: SocketAddr) -> io::Result<()> {
    let sock = socket::create_connection(server, Some(Duration::from_secs(5)))?;
    for m in 0..MESSAGES {
        let message = format!("client {n}, message {m}");
        sock.sendall(message.as_bytes())?;
        let mut echo = Vec::new();
        while echo.len() < message.len() {
            let data = sock.recv(1000)?;
            if data.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed",
                ));
            }
            echo.extend(data);
        }
        assert_eq!(echo, message.as_bytes(), "the echo differs");
    }
    sock.close();
    Ok(())
}

fn main() -> io::Result<()> {
    let sock = Socket::new(Family::Inet, Kind::Stream)?;
    sock.set_reuse_address(true)?;
    sock.bind(("127.0.0.1", 0))?;
    sock.listen(100)?;
    sock.setblocking(false)?;
    let addr = sock.getsockname()?;
    println!("listening on {addr}");

    let sock = Arc::new(sock);
    let mut server = Server {
        sel: DefaultSelector::new()?,
        closed: 0,
    };
    server
        .sel
        .register(&*sock, EVENT_READ, Callback::Accept(Arc::clone(&sock)))?;

    let clients = (0..CLIENTS)
        .map(|n| {
            Thread::builder()
                .name(format!("client-{n}"))
                .target(move || client(n, addr).expect("client failed"))
                .spawn()
                .map_err(io::Error::other)
        })
        .collect::<io::Result<Vec<Thread>>>()?;

    // Python's `while True:` loop, until every client has been served.
    while server.closed < CLIENTS {
        let events = server.sel.select(Some(Duration::from_secs(10)))?;
        if events.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "clients went quiet",
            ));
        }
        for (key, mask) in events {
            match key.data {
                Callback::Accept(sock) => server.accept(&sock, mask)?,
                Callback::Read(conn) => server.read(&conn, mask)?,
            }
        }
    }

    for t in &clients {
        t.join().map_err(io::Error::other)?;
        if t.panicked() {
            return Err(io::Error::other(format!("{} failed", t.name())));
        }
    }
    server.sel.close();
    println!("served {CLIENTS} clients, done");
    Ok(())
}
