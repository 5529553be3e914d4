//! The Unix stream server's constructors: [`UnixStreamServer::bind`] and
//! [`UnixStreamServer::bind_without_activate`] take a path.

use std::io;
use std::path::Path;

use super::{check, StreamServer, UnixStreamServer};
use crate::server::config::ServerConfig;
use crate::server::service::Service;
use crate::server::unix_path::bind_unix;
use crate::socket::{Kind, UnixAddr};

impl StreamServer<UnixAddr> {
    /// Binds a Unix stream socket to `path` and listens with
    /// `config.backlog`, ready to serve `service` in any model, with every
    /// limit of a [`TcpServer`](super::TcpServer); logs `listening on
    /// unix:PATH`. A path whose first byte is NUL (`"\0name"`) is a Linux
    /// abstract name, with no file (as in Python).
    ///
    /// A socket file nothing listens on (left by a server that died) is
    /// replaced; [`server_close`](StreamServer::server_close), or dropping the
    /// server, removes the file it made. `reuse_address` and
    /// `allow_reuse_port` do not apply. Services see the peer as `0.0.0.0:0`
    /// (see [`Peer`](crate::server::Peer)); the events show `unix:#ID`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when a server answers at `path`; `AlreadyExists` when
    /// something other than a socket is there (it is left alone);
    /// `InvalidInput` when `config.model` cannot run `service`; for
    /// `ServerConfig::tls` (feature `tls`), as [`TcpServer::bind`](super::TcpServer);
    /// any other
    /// system error (a missing directory, no permission). A bind error names
    /// the path.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{BufRead, BufReader, Write};
    /// use std::os::unix::net::UnixStream;
    /// use threadkit::server::{Echo, ServerConfig, UnixStreamServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let path = std::env::temp_dir().join(format!("tk-doc-{}.sock", std::process::id()));
    /// let server = UnixStreamServer::bind(&path, ServerConfig::default(), Echo)?;
    /// let handle = server.shutdown_handle();
    /// std::thread::scope(|s| -> std::io::Result<()> {
    ///     let serving = s.spawn(|| server.serve_forever());
    ///     let mut client = UnixStream::connect(&path)?;
    ///     client.write_all(b"hello\n")?;
    ///     let mut line = String::new();
    ///     BufReader::new(&client).read_line(&mut line)?;
    ///     assert_eq!(line, "hello\n");
    ///     handle.shutdown();
    ///     serving.join().unwrap()
    /// })?;
    /// server.server_close();
    /// assert!(!path.exists()); // the socket file is gone
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(
        path: impl AsRef<Path>,
        config: ServerConfig,
        service: impl Into<Service>,
    ) -> io::Result<UnixStreamServer> {
        let server = UnixStreamServer::bind_without_activate(path, config, service)?;
        server.server_activate()?;
        Ok(server)
    }

    /// Binds as [`bind`](StreamServer::<UnixAddr>::bind) does, without
    /// listening yet (Python's `bind_and_activate=False`): clients are refused
    /// until [`server_activate`](StreamServer::server_activate).
    ///
    /// # Errors
    ///
    /// As [`bind`](StreamServer::<UnixAddr>::bind).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use threadkit::server::{Echo, ServerConfig, UnixStreamServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let name = format!("\0tk-doc-{}", std::process::id()); // abstract: no file
    /// let server = UnixStreamServer::bind_without_activate(&name, ServerConfig::default(), Echo)?;
    /// assert_eq!(server.local_addr().as_abstract_name(), Some(&name.as_bytes()[1..]));
    /// server.server_activate()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_without_activate(
        path: impl AsRef<Path>,
        config: ServerConfig,
        service: impl Into<Service>,
    ) -> io::Result<UnixStreamServer> {
        let service = service.into();
        check(&config, &service)?;
        let (listener, local, made) = bind_unix(path.as_ref(), Kind::Stream)?;
        StreamServer::new(listener, local, made, config, service)
    }
}
