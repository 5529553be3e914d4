//! E12, TCP server and client: the server creates its socket, binds it to a host
//! and port, listens, accepts a client, receives its message and replies; the
//! client (on a thread of its own) connects, sends, receives the reply and closes.
//!
//! Both halves use `threadkit::socket`, Python's calls one for one. The server
//! binds port 0 (the system picks a free one) on 127.0.0.1.
//!
//! Run with `cargo run --example e12_tcp_server`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use threadkit::socket::{Family, Kind, Socket};
use threadkit::threading::Thread;

/// The client half: socket, connect, send, recv, close.
fn client(server: SocketAddr) -> io::Result<()> {
    let sock = Socket::new(Family::Inet, Kind::Stream)?; // socket(AF_INET, SOCK_STREAM)
    sock.settimeout(Some(Duration::from_secs(5)))?; // never hang the example
    sock.connect(server)?;
    println!("client: connected to {server} from {}", sock.getsockname()?);

    let message = "hello, server";
    println!("client: sending {message:?}");
    sock.sendall(message.as_bytes())?;

    let reply = sock.recv(1024)?;
    println!("client: received {:?}", String::from_utf8_lossy(&reply));
    sock.close();
    println!("client: closed");
    Ok(())
}

fn main() -> io::Result<()> {
    // The server half: socket, bind, listen, accept, recv, send, close.
    let server = Socket::new(Family::Inet, Kind::Stream)?;
    server.set_reuse_address(true)?;
    server.bind(("127.0.0.1", 0))?;
    server.listen(5)?; // at most 5 connections waiting to be accepted
    let addr = server.getsockname()?;
    println!("server: listening on {addr}");

    // The client runs on a threadkit thread while the server waits in accept().
    let client_thread = Thread::builder()
        .name("client")
        .target(move || {
            if let Err(e) = client(addr) {
                eprintln!("client: error: {e}");
            }
        })
        .spawn()
        .map_err(io::Error::other)?;

    server.settimeout(Some(Duration::from_secs(5)))?; // give up if no client comes
    let (conn, peer) = server.accept()?;
    println!("server: accepted a connection from {peer}");
    conn.settimeout(Some(Duration::from_secs(5)))?;

    let data = conn.recv(1024)?;
    let text = String::from_utf8_lossy(&data);
    println!("server: received {text:?}");

    let reply = format!("you said: {text}");
    conn.sendall(reply.as_bytes())?;
    println!("server: replied {reply:?}");

    conn.close();
    server.close();
    println!("server: closed");

    client_thread.join().map_err(io::Error::other)?;
    Ok(())
}
