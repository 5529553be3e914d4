//! A client under load, shared by the shutdown tests of the library
//! (`server_shutdown.rs`) and of the program (`threadkit-cli/tests/sigterm.rs`):
//! it sends lines as fast as it can until it reads a `* ` notice, then
//! half-closes; its reader reads to the end and reports what it saw last.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Every blocking call of the client gives up after this.
const GUARD: Duration = Duration::from_secs(10);

/// How one client saw the end.
#[derive(Debug)]
pub struct Seen {
    pub last: Option<String>,
    pub end: Result<(), ErrorKind>,
}

/// One client under load: a thread that sends lines until the end is seen,
/// and a thread that reads to the end. `echoed` counts clients that got an
/// answer already.
pub fn client(stream: TcpStream, echoed: Arc<AtomicUsize>) -> thread::JoinHandle<Seen> {
    stream.set_read_timeout(Some(GUARD)).unwrap();
    stream.set_write_timeout(Some(GUARD)).unwrap();
    let ended = Arc::new(AtomicBool::new(false));
    let mut writer = stream.try_clone().unwrap();
    let writing = {
        let ended = Arc::clone(&ended);
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut n = 0u64;
                // A client still sending a second after the notice (its reader
                // behind a full queue of answers) may get `EPIPE` once the
                // server closes, as the contract allows: sending stops there.
                while !ended.load(Ordering::Acquire) {
                    if writer.write_all(format!("load {n}\n").as_bytes()).is_err() {
                        return;
                    }
                    n += 1;
                    if n % 8 == 0 {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                // Done: the server sees our end and closes at once.
                let _ = writer.shutdown(Shutdown::Write);
            })
            .unwrap()
    };
    thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut reader = BufReader::new(stream);
            let (mut last, mut line, mut first) = (None, String::new(), true);
            let end = loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) => break Ok(()),
                    Ok(_) => {
                        if first {
                            first = false;
                            echoed.fetch_add(1, Ordering::AcqRel);
                        }
                        if line.starts_with("* ") {
                            ended.store(true, Ordering::Release);
                        }
                        last = Some(line.trim_end().to_string());
                    }
                    Err(e) => break Err(e.kind()),
                }
            };
            ended.store(true, Ordering::Release);
            writing.join().unwrap();
            Seen { last, end }
        })
        .unwrap()
}
