//! TCP listeners and UDP sockets bound to port 0 and handed over still open.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};

use crate::Error;

/// A TCP listener bound to a loopback address with port 0, handed over still open and
/// already accepting: no other test, thread or process can take its port.
///
/// Connections made before the server thread calls `accept` wait in the backlog, so a client
/// may connect as soon as it has [`addr`](Port::addr): there is no startup race to sleep over.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let port = isolate_runtime::Port::bind()?;
/// let mut client = std::net::TcpStream::connect(port.addr()).unwrap(); // already accepting
/// client.write_all(b"ping").unwrap();
/// let (mut server_side, _) = port.listener().accept().unwrap();
/// let mut buf = [0; 4];
/// server_side.read_exact(&mut buf).unwrap();
/// assert_eq!(&buf, b"ping");
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
///
/// For an async server, hand over a non-blocking listener: with tokio,
/// `tokio::net::TcpListener::from_std(port.into_nonblocking_listener()?)`.
///
/// ```
/// let listener = isolate_runtime::Port::bind()?.into_nonblocking_listener().unwrap();
/// // Nobody is connecting: a non-blocking accept returns at once.
/// assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct Port {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Port {
    /// Binds `127.0.0.1:0`.
    ///
    /// # Errors
    ///
    /// Fails when the kernel refuses the bind (no loopback, descriptors exhausted).
    pub fn bind() -> Result<Self, Error> {
        Self::bind_to(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Binds `[::1]:0`.
    ///
    /// # Errors
    ///
    /// Fails when the host has no IPv6 loopback.
    pub fn bind_v6() -> Result<Self, Error> {
        Self::bind_to(SocketAddr::from((Ipv6Addr::LOCALHOST, 0)))
    }

    /// Binds `addr` (usually with port 0).
    ///
    /// # Errors
    ///
    /// Fails when the kernel refuses the bind.
    pub fn bind_to(addr: SocketAddr) -> Result<Self, Error> {
        let listener = TcpListener::bind(addr).map_err(|e| bind_error("TCP listener", addr, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the bound listener's address", e))?;
        Ok(Port { listener, addr })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port number.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The listener, still open.
    #[must_use]
    pub fn listener(&self) -> &TcpListener {
        &self.listener
    }

    /// Takes the listener out.
    #[must_use]
    pub fn into_listener(self) -> TcpListener {
        self.listener
    }

    /// Takes the listener out in non-blocking mode, as async runtimes' `from_std` expect.
    ///
    /// # Errors
    ///
    /// Fails when the mode cannot be set.
    pub fn into_nonblocking_listener(self) -> std::io::Result<TcpListener> {
        self.listener.set_nonblocking(true)?;
        Ok(self.listener)
    }
}

/// Explains the usual reason a loopback bind fails, most often a host without IPv6.
fn bind_error(what: &str, addr: SocketAddr, e: std::io::Error) -> Error {
    let no_ipv6 = addr.is_ipv6()
        && matches!(
            e.kind(),
            std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
        )
        || e.raw_os_error() == Some(97); // EAFNOSUPPORT
    if no_ipv6 {
        Error::io(
            format!(
                "cannot bind a {what} on `{addr}`: this host has no IPv6 loopback; use `port`/`udp` (127.0.0.1) instead of `port6`/`udp6`"
            ),
            e,
        )
    } else {
        Error::io(format!("cannot bind a {what} on `{addr}`"), e)
    }
}

/// A UDP socket bound to a loopback address with port 0, handed over still open.
///
/// # Examples
///
/// ```
/// let a = isolate_runtime::UdpPort::bind()?;
/// let b = isolate_runtime::UdpPort::bind()?;
/// a.socket().send_to(b"gossip", b.addr()).unwrap();
/// let mut buf = [0; 6];
/// let (n, from) = b.socket().recv_from(&mut buf).unwrap();
/// assert_eq!((&buf[..n], from), (&b"gossip"[..], a.addr()));
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpPort {
    socket: UdpSocket,
    addr: SocketAddr,
}

impl UdpPort {
    /// Binds `127.0.0.1:0`.
    ///
    /// # Errors
    ///
    /// Fails when the kernel refuses the bind.
    pub fn bind() -> Result<Self, Error> {
        Self::bind_to(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Binds `[::1]:0`.
    ///
    /// # Errors
    ///
    /// Fails when the host has no IPv6 loopback.
    pub fn bind_v6() -> Result<Self, Error> {
        Self::bind_to(SocketAddr::from((Ipv6Addr::LOCALHOST, 0)))
    }

    /// Binds `addr` (usually with port 0).
    ///
    /// # Errors
    ///
    /// Fails when the kernel refuses the bind.
    pub fn bind_to(addr: SocketAddr) -> Result<Self, Error> {
        let socket = UdpSocket::bind(addr).map_err(|e| bind_error("UDP socket", addr, e))?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::io("cannot read the bound socket's address", e))?;
        Ok(UdpPort { socket, addr })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port number.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The socket, still open.
    #[must_use]
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Takes the socket out.
    #[must_use]
    pub fn into_socket(self) -> UdpSocket {
        self.socket
    }
}
