//! `threadkit::socket` calls against their floor, in one run (ratios hold on a
//! noisy machine, absolute times do not): `sendfile` of an 8 MiB file over the
//! loopback against `std::io::copy` from the file into a `std::net::TcpStream`
//! (read and write through user space); and `socketpair()` (a Unix-domain
//! pair, as Python's `socketpair` makes on Linux) against
//! `std::os::unix::net::UnixStream::pair()`, the floor: the same system call.
//!
//! Run: `cargo bench -p threadkit --bench socket -- --warm-up-time 1
//! --measurement-time 2`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use threadkit::socket::{self, Socket};

const FILE_LEN: usize = 8 << 20;

/// An 8 MiB temp file, removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A connected client socket and a thread on the server side that reads and
/// drops everything until the client closes.
fn drained_connection() -> (Socket, thread::JoinHandle<()>) {
    let server = socket::create_server("127.0.0.1:0").unwrap();
    let client = socket::create_connection(server.getsockname().unwrap(), None).unwrap();
    let (conn, _) = server.accept().unwrap();
    let drain = thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        while (&conn).read(&mut buf).is_ok_and(|n| n > 0) {}
    });
    (client, drain)
}

fn sendfile(c: &mut Criterion) {
    let path = std::env::temp_dir().join(format!("threadkit-bench-{}", std::process::id()));
    std::fs::write(&path, vec![7u8; FILE_LEN]).unwrap();
    let tmp = TempFile(path);
    let mut g = c.benchmark_group("sendfile_8MiB");
    g.throughput(Throughput::Bytes(FILE_LEN as u64));

    let (client, drain) = drained_connection();
    let file = File::open(&tmp.0).unwrap();
    g.bench_function("threadkit_sendfile", |b| {
        b.iter(|| assert_eq!(client.sendfile(&file, 0, None).unwrap(), FILE_LEN as u64))
    });
    drop(client);
    drain.join().unwrap();

    let (client, drain) = drained_connection();
    let mut stream = TcpStream::from(client);
    let mut file = File::open(&tmp.0).unwrap();
    g.bench_function("std_io_copy", |b| {
        b.iter(|| {
            file.seek(SeekFrom::Start(0)).unwrap();
            assert_eq!(
                std::io::copy(&mut file, &mut stream).unwrap(),
                FILE_LEN as u64
            );
        })
    });
    drop(stream);
    drain.join().unwrap();
    g.finish();
}

fn socketpair(c: &mut Criterion) {
    let mut g = c.benchmark_group("socketpair");
    g.bench_function("threadkit_socketpair", |b| {
        b.iter(|| socket::socketpair().unwrap())
    });
    g.bench_function("std_unixstream_pair", |b| {
        b.iter(|| UnixStream::pair().unwrap())
    });
    g.finish();
}

criterion_group!(benches, sendfile, socketpair);
criterion_main!(benches);
