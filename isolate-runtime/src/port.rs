//! TCP listeners and UDP sockets bound to port 0 and handed over still open.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};

use crate::Error;

/// A TCP listener bound to a loopback address with port 0, handed over still open and
/// already accepting: no other test, thread or process can take its port.
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

    fn bind_to(addr: SocketAddr) -> Result<Self, Error> {
        let listener = TcpListener::bind(addr)
            .map_err(|e| Error::io(format!("cannot bind a TCP listener on `{addr}`"), e))?;
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
}

/// A UDP socket bound to a loopback address with port 0, handed over still open.
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

    fn bind_to(addr: SocketAddr) -> Result<Self, Error> {
        let socket = UdpSocket::bind(addr)
            .map_err(|e| Error::io(format!("cannot bind a UDP socket on `{addr}`"), e))?;
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
