//! The live page in a real browser: headless Chromium loads `/`, its script
//! reads `/threads.json`, and the thread names from the JSON must be in the DOM;
//! a screenshot is saved under `target/`. Without a `chromium` binary the test
//! prints that it was skipped, and why, and passes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::monitor::Monitor;
use threadkit::threading::{Event, Lock, Thread};

/// The browser gets this long, then is killed.
const BROWSER_LIMIT: Duration = Duration::from_secs(120);

fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs the browser with `args` against `url`, killing it after the limit.
fn run_browser(browser: &PathBuf, args: &[&str], url: &str) -> Output {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args(["--disable-dev-shm-usage", "--virtual-time-budget=5000"])
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the browser");
    let start = Instant::now();
    while child.try_wait().expect("poll the browser").is_none() {
        if start.elapsed() > BROWSER_LIMIT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("browser output")
}

fn threads_json(addr: SocketAddr) -> serde_json::Value {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"GET /threads.json HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap()
}

#[test]
fn the_page_shows_the_threads_from_the_json_in_headless_chromium() {
    let Some(browser) = find_browser() else {
        println!("SKIPPED browser test: no chromium binary on PATH (apt-get install chromium)");
        return;
    };
    let m = Monitor::bind("127.0.0.1:0").unwrap();
    let go = Arc::new(Event::new().with_name("start signal"));
    let ledger = Arc::new(Lock::new().with_name("ledger"));
    let mut threads = Vec::new();
    for i in 1..=3 {
        let (go, ledger) = (Arc::clone(&go), Arc::clone(&ledger));
        threads.push(
            Thread::builder()
                .name(format!("page-worker-{i}"))
                .daemon(true)
                .target(move || {
                    if i == 1 {
                        // Holds the ledger and then waits on it again: a
                        // deadlock of one, shown in red.
                        ledger.acquire();
                        let _ = ledger.acquire_timeout(Duration::from_secs(300));
                    } else {
                        let _ = go.wait_timeout(Duration::from_secs(300));
                    }
                })
                .spawn()
                .unwrap(),
        );
    }
    let want: Vec<String> = {
        let start = Instant::now();
        loop {
            let v = threads_json(m.local_addr());
            let names: Vec<String> = v["threads"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| !t["waiting"].is_null())
                .filter_map(|t| t["name"].as_str().map(String::from))
                .filter(|n| n.starts_with("page-worker-"))
                .collect();
            if names.len() == 3 && !v["deadlocks"].as_array().unwrap().is_empty() {
                break names;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "threads never waited"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let url = format!("http://{}/", m.local_addr());
    let dom = run_browser(&browser, &["--dump-dom"], &url);
    let html = String::from_utf8_lossy(&dom.stdout);
    for name in &want {
        assert!(
            html.contains(name.as_str()),
            "{name} not in the DOM:\n{html}\nstderr: {}",
            String::from_utf8_lossy(&dom.stderr)
        );
    }
    assert!(
        html.contains("class=\"deadlock\""),
        "no deadlock box:\n{html}"
    );
    assert!(html.contains("Lock ledger"), "{html}");

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("monitor.png");
    let _ = std::fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    run_browser(&browser, &[&arg, "--window-size=1100,560"], &url);
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    println!("screenshot: {}", shot.display());

    go.set();
    for t in threads {
        t.stop();
        t.join().unwrap();
    }
    m.shutdown();
}
