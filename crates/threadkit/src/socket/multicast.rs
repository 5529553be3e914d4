//! Multicast on datagram sockets, IPv4 and IPv6: joining and leaving a group
//! (Python's `IP_ADD_MEMBERSHIP` / `IP_DROP_MEMBERSHIP`, `IPV6_JOIN_GROUP` /
//! `IPV6_LEAVE_GROUP`), and the time-to-live and loopback of what the socket
//! sends (`IP_MULTICAST_TTL`, `IP_MULTICAST_LOOP`, `IPV6_MULTICAST_HOPS`,
//! `IPV6_MULTICAST_LOOP`), over socket2, with std's names.
//!
//! An IPv4 interface is named by one of its addresses (`Ipv4Addr::UNSPECIFIED`
//! lets the system choose), an IPv6 one by its index (0 lets the system choose).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::Socket;

impl Socket {
    /// Joins the IPv4 multicast group `group` on the interface with address
    /// `interface`: datagrams sent to the group and the socket's port arrive.
    ///
    /// # Errors
    ///
    /// Fails when `group` is not a multicast address, the interface does not
    /// exist, or the socket already joined (`AddrInUse`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::net::Ipv4Addr;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.bind("127.0.0.1:0")?;
    /// let group = Ipv4Addr::new(239, 1, 2, 3);
    /// sock.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// sock.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.sock().join_multicast_v4(group, interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](Socket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// `AddrNotAvailable` when the socket is not in that group on that interface.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::net::Ipv4Addr;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// let group = Ipv4Addr::new(239, 1, 2, 4);
    /// assert!(sock.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn leave_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.sock().leave_multicast_v4(group, interface)
    }

    /// Sets how many hops the IPv4 multicast datagrams this socket sends may
    /// travel (`IP_MULTICAST_TTL`; the default 1 keeps them on the local network).
    ///
    /// # Errors
    ///
    /// Fails above 255, or on an IPv6 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.set_multicast_ttl_v4(3)?;
    /// assert_eq!(sock.multicast_ttl_v4()?, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.sock().set_multicast_ttl_v4(ttl)
    }

    /// The time-to-live of this socket's IPv4 multicast datagrams
    /// (`IP_MULTICAST_TTL`).
    ///
    /// # Errors
    ///
    /// Fails on an IPv6 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// assert_eq!(sock.multicast_ttl_v4()?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.sock().multicast_ttl_v4()
    }

    /// Sets whether this host's own members of a group receive the IPv4
    /// multicast datagrams this socket sends (`IP_MULTICAST_LOOP`, on by default).
    ///
    /// # Errors
    ///
    /// Fails on an IPv6 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.set_multicast_loop_v4(false)?;
    /// assert!(!sock.multicast_loop_v4()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.sock().set_multicast_loop_v4(on)
    }

    /// Whether this host's members receive this socket's IPv4 multicast
    /// datagrams (`IP_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// Fails on an IPv6 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// assert!(sock.multicast_loop_v4()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.sock().multicast_loop_v4()
    }

    /// Joins the IPv6 multicast group `group` on the interface with index
    /// `interface` (0: the system's choice) (`IPV6_JOIN_GROUP`).
    ///
    /// # Errors
    ///
    /// Fails when `group` is not a multicast address, the interface does not
    /// exist, or on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::net::Ipv6Addr;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Datagram).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Datagram)?;
    /// let group: Ipv6Addr = "ff02::1:3".parse().unwrap();
    /// if sock.join_multicast_v6(&group, 0).is_ok() {
    ///     sock.leave_multicast_v6(&group, 0)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.sock().join_multicast_v6(group, interface)
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](Socket::join_multicast_v6) (`IPV6_LEAVE_GROUP`).
    ///
    /// # Errors
    ///
    /// Fails when the socket is not in that group on that interface.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::net::Ipv6Addr;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Datagram).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Datagram)?;
    /// let group: Ipv6Addr = "ff02::1:4".parse().unwrap();
    /// assert!(sock.leave_multicast_v6(&group, 0).is_err()); // never joined
    /// # Ok(())
    /// # }
    /// ```
    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.sock().leave_multicast_v6(group, interface)
    }

    /// Sets the hop limit of the IPv6 multicast datagrams this socket sends
    /// (`IPV6_MULTICAST_HOPS`, the IPv6 time-to-live; default 1).
    ///
    /// # Errors
    ///
    /// Fails above 255, or on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Datagram).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Datagram)?;
    /// sock.set_multicast_hops_v6(5)?;
    /// assert_eq!(sock.multicast_hops_v6()?, 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_hops_v6(&self, hops: u32) -> io::Result<()> {
        self.sock().set_multicast_hops_v6(hops)
    }

    /// The hop limit of this socket's IPv6 multicast datagrams
    /// (`IPV6_MULTICAST_HOPS`).
    ///
    /// # Errors
    ///
    /// Fails on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Datagram).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Datagram)?;
    /// assert_eq!(sock.multicast_hops_v6()?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_hops_v6(&self) -> io::Result<u32> {
        self.sock().multicast_hops_v6()
    }

    /// Sets whether this host's own members of a group receive the IPv6
    /// multicast datagrams this socket sends (`IPV6_MULTICAST_LOOP`, on by
    /// default).
    ///
    /// # Errors
    ///
    /// Fails on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Datagram).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Datagram)?;
    /// sock.set_multicast_loop_v6(false)?;
    /// assert!(!sock.multicast_loop_v6()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.sock().set_multicast_loop_v6(on)
    }

    /// Whether this host's members receive this socket's IPv6 multicast
    /// datagrams (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// Fails on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Datagram).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Datagram)?;
    /// assert!(sock.multicast_loop_v6()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.sock().multicast_loop_v6()
    }
}
