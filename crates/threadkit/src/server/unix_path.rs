//! A Unix server's socket file: binding by path (or Linux abstract name),
//! replacing a stale file, refusing a live one, and removing the file on
//! close.
//!
//! As gunicorn and Python programs that unlink before binding do, but
//! safely: a socket file nothing listens on (a server that died) is replaced;
//! one a server still answers on is an error naming the path; anything else
//! at the path (a regular file, a directory) is never touched.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

use crate::socket::{Family, Kind, Socket, UnixAddr};

/// The socket file a server made, removed when this is dropped, if the file at
/// the path is still that one (same device and inode): a later server's file
/// is left alone.
#[derive(Debug)]
pub(crate) struct SocketPath {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_socket() && m.dev() == self.dev && m.ino() == self.ino);
        if ours {
            if let Err(e) = fs::remove_file(&self.path) {
                log::warn!(
                    "threadkit: cannot remove the socket file {}: {e}",
                    self.path.display()
                );
            }
        }
    }
}

/// A Unix socket of `kind` bound to `path` (a stream not listening yet), its
/// address, and the file it made (none for an abstract name: a path whose
/// first byte is NUL, as in Python).
///
/// # Errors
///
/// `AddrInUse` when a server answers at `path`, `AlreadyExists` when
/// something other than a socket is there, or the system's error; each
/// names the path.
pub(crate) fn bind_unix(
    path: &Path,
    kind: Kind,
) -> io::Result<(Socket, UnixAddr, Option<SocketPath>)> {
    let named =
        |e: io::Error| io::Error::new(e.kind(), format!("cannot bind unix:{}: {e}", shown(path)));
    let is_abstract = path.as_os_str().as_bytes().first() == Some(&0);
    if !is_abstract {
        clear_stale(path, kind).map_err(named)?;
    }
    let sock = Socket::new(Family::Unix, kind)?;
    sock.bind_unix(path).map_err(named)?;
    let local = sock.getsockname_unix()?;
    let made = if is_abstract {
        None
    } else {
        let meta = fs::symlink_metadata(path).map_err(named)?;
        Some(SocketPath {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    };
    Ok((sock, local, made))
}

/// Makes room at `path`: nothing there, or a stale socket file (removed).
fn clear_stale(path: &Path, kind: Kind) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "something other than a socket is there (left alone)",
        ));
    }
    let answered = match kind {
        Kind::Datagram => UnixDatagram::unbound()?.connect(path),
        _ => UnixStream::connect(path).map(drop),
    };
    match answered {
        Ok(()) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "a server is listening there",
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            fs::remove_file(path)?;
            log::info!(
                "threadkit: replaced the stale socket file {}",
                path.display()
            );
            Ok(())
        }
        // EPROTOTYPE: a live socket of the other kind; EACCES: not ours.
        Err(e) => Err(e),
    }
}

/// A path as messages show it: an abstract name as `@NAME`.
fn shown(path: &Path) -> String {
    match path.as_os_str().as_bytes() {
        [0, name @ ..] => format!("@{}", String::from_utf8_lossy(name)),
        _ => path.display().to_string(),
    }
}
