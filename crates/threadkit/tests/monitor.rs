//! The live page over real HTTP on 127.0.0.1: JSON that parses with every field,
//! 404, 400 (and still serving), a silent client that delays nobody, and 100
//! requests at once.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use threadkit::monitor::{register_server, Monitor, ServerCounters};
use threadkit::threading::{Lock, Thread};

const GUARD: Duration = Duration::from_secs(20);

/// Sends `request` as is and returns (status, body).
fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(GUARD)).unwrap();
    c.write_all(request).unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
    )
}

#[test]
fn threads_json_lists_every_field_with_the_wait_and_holder() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    let lock = Arc::new(Lock::new().with_name("mon-lock"));
    lock.acquire();
    let l = Arc::clone(&lock);
    let t = Thread::builder()
        .name("mon-waiter")
        .daemon(true)
        .target(move || {
            let _ = l.acquire_timeout(Duration::from_secs(60));
        })
        .spawn()
        .unwrap();
    let start = Instant::now();
    let row = loop {
        let (status, body) = get(m.local_addr(), "/threads.json");
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["deadlocks"].is_array());
        let found = v["threads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "mon-waiter" && !r["waiting"].is_null())
            .cloned();
        if let Some(r) = found {
            break r;
        }
        assert!(start.elapsed() < GUARD, "mon-waiter never waited");
        std::thread::sleep(Duration::from_millis(5));
    };
    for key in [
        "name",
        "ident",
        "native_id",
        "daemon",
        "state",
        "age",
        "internal",
        "waiting",
    ] {
        assert!(row.get(key).is_some(), "{key} missing from {row}");
    }
    let w = &row["waiting"];
    for key in [
        "kind",
        "object",
        "waited",
        "timeout",
        "holder",
        "holder_name",
    ] {
        assert!(w.get(key).is_some(), "{key} missing from {w}");
    }
    assert_eq!(w["kind"], "Lock");
    assert_eq!(w["object"], "mon-lock");
    assert_eq!(row["state"], "running");
    assert!(w["waited"].is_f64() && w["timeout"].is_f64());
    assert_eq!(w["holder"], threadkit::threading::get_ident());
    t.stop();
    t.join().unwrap();
    lock.release().unwrap();
    m.shutdown();
}

#[test]
fn the_page_is_html_and_other_paths_are_404() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    let (status, page) = get(m.local_addr(), "/");
    assert_eq!(status, 200);
    assert!(page.contains("/threads.json") && page.contains("<table"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "external asset"
    );
    assert_eq!(get(m.local_addr(), "/nope").0, 404);
    assert_eq!(
        raw(m.local_addr(), b"POST / HTTP/1.1\r\nHost: x\r\n\r\n").0,
        404
    );
    m.shutdown();
}

#[test]
fn server_json_is_404_until_a_server_registers_its_counters() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    assert_eq!(get(m.local_addr(), "/server.json").0, 404);
    register_server(|| ServerCounters {
        clients: 3,
        accepted: 10,
        refused: 1,
        lines_in: 20,
        lines_out: 40,
        disconnects: vec![("closed".into(), 6), ("reset".into(), 1)],
    });
    let (status, body) = get(m.local_addr(), "/server.json");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"clients": 3, "accepted": 10, "refused": 1, "lines_in": 20,
            "lines_out": 40, "disconnects": {"closed": 6, "reset": 1}})
    );
    m.shutdown();
}

#[test]
fn a_malformed_request_gets_400_and_the_page_still_serves() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        raw(m.local_addr(), b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").0,
        400
    );
    assert_eq!(raw(m.local_addr(), b"\x00\x01garbage\r\n\r\n").0, 400);
    assert_eq!(get(m.local_addr(), "/threads.json").0, 200);
    m.shutdown();
}

#[test]
fn silent_and_half_sent_requests_delay_nobody() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    let _silent = TcpStream::connect(m.local_addr()).unwrap();
    let mut half = TcpStream::connect(m.local_addr()).unwrap();
    half.write_all(b"GET /threads.json HTTP/1.1\r\nHo").unwrap();
    let start = Instant::now();
    assert_eq!(get(m.local_addr(), "/threads.json").0, 200);
    // Far below the 5 s the stalled ones may take.
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    m.shutdown();
}

#[test]
fn a_hundred_parallel_requests_are_all_answered() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    let addr = m.local_addr();
    let clients: Vec<_> = (0..100)
        .map(|_| std::thread::spawn(move || get(addr, "/threads.json")))
        .collect();
    for c in clients {
        let (status, body) = c.join().unwrap();
        assert_eq!(status, 200);
        serde_json::from_str::<Value>(&body).unwrap();
    }
    m.shutdown();
}

#[test]
fn a_deadlock_is_listed_in_threads_json() {
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    let l = Arc::new(Lock::new().with_name("mon-self"));
    let l2 = Arc::clone(&l);
    let t = Thread::builder()
        .name("mon-stuck")
        .daemon(true)
        .target(move || {
            l2.acquire();
            let _ = l2.acquire_timeout(Duration::from_secs(60));
        })
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let v: Value = serde_json::from_str(&get(m.local_addr(), "/threads.json").1).unwrap();
        let hit = v["deadlocks"].as_array().unwrap().iter().find(|d| {
            d["threads"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "mon-stuck")
        });
        if let Some(d) = hit {
            assert!(d["report"].as_str().unwrap().contains("Lock \"mon-self\""));
            break;
        }
        assert!(start.elapsed() < GUARD, "no deadlock listed");
        std::thread::sleep(Duration::from_millis(5));
    }
    t.stop();
    t.join().unwrap();
    m.shutdown();
}
