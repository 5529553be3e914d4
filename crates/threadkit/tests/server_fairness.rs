//! One client cannot stall the others: while one member of a chat room of
//! 200 floods it (a 64 KiB write of short lines), another's `/who` is answered
//! within 250 ms, in every TCP model. A generous bound for a test on a busy
//! machine; the figure itself is `chat_storm`'s (`cargo bench -p
//! threadkit-cli --bench chat_storm`).

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{Client, Running};
use threadkit::server::{ChatRoom, Model, ServerConfig};

const ROOM: usize = 200;
const BOUND: Duration = Duration::from_millis(250);
const ROUNDS: usize = 5;

/// Reads and throws away what comes until the end (or an error).
fn drain(mut stream: TcpStream) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(1..) = stream.read(&mut buf) {}
        })
        .unwrap()
}

fn who_is_answered_while_another_floods(model: Model) {
    let server = Running::start(
        ServerConfig {
            model,
            max_clients: ROOM + 10,
            ..ServerConfig::default()
        },
        ChatRoom::new(),
    );
    let mut asker = Client::connect(server.addr());
    asker.recv();
    let mut flooder = Client::connect(server.addr());
    flooder.recv();
    let quiet: Vec<_> = (2..ROOM)
        .map(|_| {
            let mut c = Client::connect(server.addr());
            c.recv();
            drain(c.stream)
        })
        .collect();
    // Every member is in: the asker has seen them join.
    asker.line("/who");
    let answer = asker.recv_until_prefix("* online: ");
    assert_eq!(answer.matches(", ").count(), ROOM - 1, "{answer}");
    let flooder_reads = drain(flooder.stream.try_clone().unwrap());
    let flood = "x\n".repeat(32 * 1024);
    let mut worst = Duration::ZERO;
    for _ in 0..ROUNDS {
        // One 64 KiB write of short lines, and at once a question.
        flooder.send(&flood);
        let asked = Instant::now();
        asker.line("/who");
        asker.recv_until_prefix("* online: ");
        worst = worst.max(asked.elapsed());
    }
    eprintln!("{model:?}: worst /who {worst:?} ({ROUNDS} floods of 64 KiB)");
    assert!(
        worst < BOUND,
        "{model:?}: /who took {worst:?} while another client flooded"
    );
    drop(flooder);
    drop(asker);
    server.stop();
    flooder_reads.join().unwrap();
    for q in quiet {
        q.join().unwrap();
    }
}

/// One model after the other: two rooms of 200 at once would share the two
/// cores with 400 reading threads, and measure the scheduler instead.
#[test]
fn who_is_answered_while_another_floods_in_both_models() {
    who_is_answered_while_another_floods(Model::ThreadPerConnection);
    who_is_answered_while_another_floods(Model::Scalable);
}
