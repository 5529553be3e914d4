//! The Unix datagram server's constructor: [`UnixDatagramServer::bind`] takes
//! a path.

use std::io;
use std::path::Path;

use super::{check, DatagramHandler, DatagramServer, UnixDatagramServer};
use crate::server::config::ServerConfig;
use crate::server::unix_path::bind_unix;
use crate::socket::{Kind, UnixAddr};

impl DatagramServer<UnixAddr> {
    /// Binds a Unix datagram socket to `path`, ready to serve `handler` as a
    /// [`UdpServer`](super::UdpServer) does; logs `listening on unix:PATH`.
    /// A path whose first byte is NUL is a Linux abstract name. A stale
    /// socket file is replaced, and [`server_close`](DatagramServer::server_close)
    /// (or dropping the server) removes the file it made, as for a
    /// [`UnixStreamServer`](crate::server::UnixStreamServer). The handler's
    /// [`handle_unix`](DatagramHandler::handle_unix) gets each datagram.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `config.model` is not one this server runs;
    /// `AddrInUse` when a server answers at `path`; `AlreadyExists` when
    /// something other than a socket is there; any other system error. A bind
    /// error names the path.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixDatagram;
    /// use std::time::Duration;
    /// use threadkit::server::{ServerConfig, UdpEcho, UnixDatagramServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let dir = std::env::temp_dir().join(format!("tk-doc-dgram-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let server = UnixDatagramServer::bind(dir.join("server.sock"), ServerConfig::default(), UdpEcho)?;
    /// let handle = server.shutdown_handle();
    /// std::thread::scope(|s| -> std::io::Result<()> {
    ///     let serving = s.spawn(|| server.serve_forever());
    ///     // A client must bind a path (or a name) to get an answer.
    ///     let client = UnixDatagram::bind(dir.join("client.sock"))?;
    ///     client.set_read_timeout(Some(Duration::from_secs(5)))?;
    ///     client.send_to(b"ping", dir.join("server.sock"))?;
    ///     let mut buf = [0u8; 16];
    ///     let n = client.recv(&mut buf)?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     handle.shutdown();
    ///     serving.join().unwrap()
    /// })?;
    /// server.server_close();
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(
        path: impl AsRef<Path>,
        config: ServerConfig,
        handler: impl DatagramHandler,
    ) -> io::Result<UnixDatagramServer> {
        check(&config)?;
        let (sock, local, made) = bind_unix(path.as_ref(), Kind::Datagram)?;
        Ok(DatagramServer::new(sock, local, made, config, handler))
    }
}
