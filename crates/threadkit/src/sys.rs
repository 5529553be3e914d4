//! The only module with `unsafe`: thin, safe wrappers over the Linux calls
//! threadkit needs and `std` does not expose.
//!
//! - [`futex_wait`] / [`futex_wake`]: block on an `AtomicU32` until it changes or a
//!   deadline passes, and wake such sleepers (the slow path of every wait);
//! - [`gettid`] / [`getpid`]: the kernel's ids (`native_id`, and how the main thread
//!   is recognised: its tid is the process id);
//! - [`thread_cpu_time`]: CPU time of the calling thread (the profile hook);
//! - [`at_exit`]: register a process exit hook (Python's exit rule);
//! - [`recv_from`]: `recvfrom(2)` into initialised memory, keeping a missing sender
//!   address (a socket woken by `shutdown`) instead of failing on it;
//! - [`tcp_peer_closed`]: whether a TCP peer's FIN came (`TCP_INFO`), which
//!   `recv` no longer tells once the receive side is shut down;
//! - [`trim_heap`]: give the allocator's free pages back to the system.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;

use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

/// Blocks while `*futex == expected`, until woken by [`futex_wake`], until `deadline`
/// passes, or spuriously.
///
/// Returns `false` only when the deadline had passed; every other return (a wake, a
/// changed value, a signal, a spurious wake-up) is `true`, and the caller re-checks
/// its condition either way.
// Under loom the parker is loom's own; these stay for the real build.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn futex_wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    let timeout = match deadline {
        None => None,
        Some(deadline) => {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            Some(duration_to_timespec(remaining))
        }
    };
    let timeout_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `futex` is a valid, aligned `u32` for the whole call (we borrow it);
    // FUTEX_WAIT only reads it. The timeout pointer is null or points to a live
    // timespec on this stack frame. FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC).
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            futex.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            timeout_ptr,
        )
    };
    !(r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT))
}

/// Wakes up to `n` threads blocked in [`futex_wait`] on `futex`; returns how many woke.
// Under loom the parker is loom's own; these stay for the real build.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn futex_wake(futex: &AtomicU32, n: u32) -> usize {
    let n = n.min(i32::MAX as u32) as libc::c_int;
    // SAFETY: FUTEX_WAKE does not access the memory behind the pointer; it only uses
    // the address as a key.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            futex.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            n,
        )
    };
    r.max(0) as usize
}

// Under loom the parker is loom's own; these stay for the real build.
#[cfg_attr(loom, allow(dead_code))]
fn duration_to_timespec(d: Duration) -> libc::timespec {
    // Cap at ~292 years so tv_sec never overflows; such a wait is "forever" anyway
    // and the caller loops.
    let secs = d.as_secs().min(i64::MAX as u64 / 2);
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

/// The kernel's id of the calling thread (`gettid(2)`).
pub(crate) fn gettid() -> u64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    tid as u64
}

/// The process id (`getpid(2)`); on Linux it is the main thread's tid.
pub(crate) fn getpid() -> u64 {
    std::process::id() as u64
}

/// CPU time consumed so far by the calling thread.
pub(crate) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID always exists
    // on Linux. On failure `ts` stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Registers `hook` to run when the process exits through `exit(3)`: when `main`
/// returns, or on `std::process::exit`.
///
/// glibc has already run the exiting thread's TLS destructors when such hooks run, so
/// `hook` must not touch thread-locals.
pub(crate) fn at_exit(hook: extern "C" fn()) {
    // SAFETY: `hook` is a plain `extern "C" fn()` with 'static lifetime, as atexit
    // requires. A non-zero result (no memory) only means the hook will not run.
    let r = unsafe { libc::atexit(hook) };
    if r != 0 {
        log::warn!("threadkit: atexit failed; the exit rule will not wait for threads");
    }
}

/// Receives one datagram into `buf`, and the sender's address as the kernel
/// gave it: of length 0 (family `AF_UNSPEC`) when it gave none (a socket whose
/// receive side was shut down returns 0 bytes and no address, and so does an
/// unbound Unix sender; std's `UdpSocket::recv_from` panics on that).
pub(crate) fn recv_from(
    sock: &socket2::SockRef<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, socket2::SockAddr)> {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the buffer is already
    // initialised; `recv_from` only writes bytes into it (socket2 documents this
    // cast for initialised buffers), so it stays initialised.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    sock.recv_from(uninit)
}

/// Whether the peer of a TCP socket has closed its side (its FIN came), read
/// from the connection's state (`TCP_INFO`): once the receive side is shut
/// down, `recv` returns 0 whether the peer closed or not, and only the state
/// tells.
pub(crate) fn tcp_peer_closed(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut info = MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is a writable buffer of `len` bytes for the duration of
    // the call, and the kernel writes at most `len` bytes into it.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zeroed, then (partly) filled by the kernel: every field is an
    // integer, valid for any bytes.
    let state = unsafe { info.assume_init() }.tcpi_state;
    // Still open from the peer: established, or our FIN sent and no FIN back.
    const ESTABLISHED: u8 = 1;
    const FIN_WAIT1: u8 = 4;
    const FIN_WAIT2: u8 = 5;
    Ok(!matches!(state, ESTABLISHED | FIN_WAIT1 | FIN_WAIT2))
}

/// Waits until `fd` can be written (or has an error or hang-up to report,
/// which the next write then returns), for at most `timeout` (`None`: as long
/// as it takes): true when it can, false when the time passed first.
#[cfg(feature = "tls")]
pub(crate) fn wait_writable(
    fd: std::os::fd::BorrowedFd<'_>,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up: a wait of 0.4 ms must not become a busy loop.
                i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid, writable `pollfd` for the duration of the
        // call, and the count passed is 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        match rc {
            0 if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(false),
            0 => {}
            1.. => return Ok(true),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Gives the free pages of glibc's heaps back to the system (`malloc_trim`):
/// a freed burst buffer in the middle of a heap stays resident otherwise.
/// Elsewhere (musl, another allocator) it does nothing.
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointer and only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn tcp_peer_closed_sees_the_fin_after_the_receive_side_was_shut_down() {
        use std::io::Write;
        use std::os::fd::AsFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.shutdown(std::net::Shutdown::Read).unwrap();
        client.write_all(b"still open").unwrap();
        assert!(!tcp_peer_closed(server.as_fd()).unwrap());
        drop(client);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !tcp_peer_closed(server.as_fd()).unwrap() {
            assert!(Instant::now() < deadline, "the FIN never showed");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn futex_wait_returns_at_once_on_changed_value() {
        let f = AtomicU32::new(1);
        assert!(futex_wait(&f, 0, None));
    }

    #[test]
    fn futex_wait_times_out_no_earlier_than_deadline() {
        let f = AtomicU32::new(0);
        let start = Instant::now();
        let deadline = start + Duration::from_millis(30);
        while futex_wait(&f, 0, Some(deadline)) {}
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn futex_wake_wakes_a_sleeper() {
        let f = std::sync::Arc::new(AtomicU32::new(0));
        let f2 = f.clone();
        let t = std::thread::spawn(move || {
            while f2.load(Ordering::Acquire) == 0 {
                futex_wait(&f2, 0, None);
            }
        });
        f.store(1, Ordering::Release);
        futex_wake(&f, 1);
        t.join().unwrap();
    }

    #[test]
    fn ids_are_real() {
        assert!(gettid() > 0);
        assert_eq!(getpid(), std::process::id() as u64);
    }
}
