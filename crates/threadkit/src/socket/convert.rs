//! The conversions of a [`Socket`]: `Read` and `Write`, its descriptor, and
//! `std`'s socket types both ways.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

use std::time::Duration;

use socket2::{Domain, SockRef};

use super::{Family, Kind, Socket};

impl Socket {
    /// Wraps a descriptor from `std`, reading its family and its current blocking
    /// mode and read timeout.
    fn from_std_fd(fd: OwnedFd, kind: Kind) -> Socket {
        let sock = SockRef::from(&fd);
        let family = match sock.domain() {
            Ok(d) if d == Domain::IPV6 => Family::Inet6,
            Ok(d) if d == Domain::UNIX => Family::Unix,
            _ => Family::Inet,
        };
        let timeout = if sock.nonblocking().unwrap_or(false) {
            Some(Duration::ZERO)
        } else {
            sock.read_timeout().unwrap_or(None)
        };
        Socket::from_parts(fd, family, kind, timeout)
    }
}

impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_into(buf)
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Socket> for OwnedFd {
    fn from(sock: Socket) -> OwnedFd {
        OwnedFd::from(sock.fd)
    }
}

/// Conversions from `std`: the family, blocking mode and read timeout are read
/// from the descriptor.
///
/// # Examples
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use threadkit::socket::{Family, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let (a, b) = UnixStream::pair()?;
/// let a = Socket::from(a);
/// assert_eq!(a.family(), Family::Unix);
/// a.sendall(b"hi")?;
/// let mut got = [0u8; 2];
/// std::io::Read::read_exact(&mut &b, &mut got)?;
/// assert_eq!(&got, b"hi");
/// # Ok(())
/// # }
/// ```
impl From<TcpStream> for Socket {
    fn from(s: TcpStream) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Stream)
    }
}

impl From<TcpListener> for Socket {
    fn from(s: TcpListener) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Stream)
    }
}

impl From<UdpSocket> for Socket {
    fn from(s: UdpSocket) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Datagram)
    }
}

impl From<UnixStream> for Socket {
    fn from(s: UnixStream) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Stream)
    }
}

impl From<UnixListener> for Socket {
    fn from(s: UnixListener) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Stream)
    }
}

impl From<UnixDatagram> for Socket {
    fn from(s: UnixDatagram) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Datagram)
    }
}

/// Conversions to `std`: the descriptor keeps its mode; a positive timeout shows
/// as `std`'s read and write timeouts. As with any descriptor handed to `std`,
/// the family and type are not checked: a socket converted to a type of another
/// family or kind gives that type's calls the system's errors.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, b) = socket::socketpair()?;
/// let mut a = UnixStream::from(a);
/// a.write_all(b"hi")?;
/// assert!(a.peer_addr()?.is_unnamed());
/// let mut got = [0u8; 2];
/// (&b).read_exact(&mut got)?;
/// assert_eq!(&got, b"hi");
/// # Ok(())
/// # }
/// ```
impl From<Socket> for TcpStream {
    fn from(s: Socket) -> TcpStream {
        TcpStream::from(OwnedFd::from(s))
    }
}

impl From<Socket> for TcpListener {
    fn from(s: Socket) -> TcpListener {
        TcpListener::from(OwnedFd::from(s))
    }
}

impl From<Socket> for UdpSocket {
    fn from(s: Socket) -> UdpSocket {
        s.fd
    }
}

impl From<Socket> for UnixStream {
    fn from(s: Socket) -> UnixStream {
        UnixStream::from(OwnedFd::from(s))
    }
}

impl From<Socket> for UnixListener {
    fn from(s: Socket) -> UnixListener {
        UnixListener::from(OwnedFd::from(s))
    }
}

impl From<Socket> for UnixDatagram {
    fn from(s: Socket) -> UnixDatagram {
        UnixDatagram::from(OwnedFd::from(s))
    }
}
