//! TCP listeners and UDP sockets bound to port 0 and handed over still open.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};

use crate::Error;

/// A TCP listener bound to a loopback address with port 0, handed over still open and
/// already accepting: no other test, thread or process can take its port.
///
/// Connections made before the server thread calls `accept` wait in the backlog, so a client
/// may connect as soon as it has [`addr`](Port::addr): there is no startup race to sleep over.
/// It displays as its address (`127.0.0.1:41234`), ready for a URL.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let port = isolate_runtime::Port::bind()?;
/// let mut client = std::net::TcpStream::connect(port.addr()).unwrap(); // already accepting
/// client.write_all(b"ping").unwrap();
/// let (listener, addr) = port.into_parts();
/// let (mut server_side, _) = listener.accept().unwrap();
/// let mut buf = [0; 4];
/// server_side.read_exact(&mut buf).unwrap();
/// assert_eq!(&buf, b"ping");
/// assert!(addr.ip().is_loopback());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
///
/// The number is held by the listener, and only while it is open: a listener dropped and the
/// number bound again later is the pick-then-release race this type exists to end (meanwhile
/// the kernel may give the number to anyone's port-0 bind). Hand the listener itself to the
/// server ([`into_listener`](Port::into_listener)); for code that must bind a number itself,
/// use a [`ReservedPort`](crate::ReservedPort).
///
/// For an async server, hand over a non-blocking listener: with tokio,
/// `tokio::net::TcpListener::from_std(port.into_nonblocking_listener()?)`.
///
/// A server that every test of a process shares (one `setup()` in a `Once`, with a fixed port
/// today) takes a `Port` of its own in a `static`, with no attribute: under `cargo test` the
/// tests of a binary share one server, under nextest each test process starts its own, and
/// no two processes ever collide on a number. Build the URLs (and any the server itself hands
/// out, as redirects) from the address it got:
///
/// ```
/// use std::net::{SocketAddr, TcpStream};
/// use std::sync::OnceLock;
///
/// fn server() -> SocketAddr {
///     static ADDR: OnceLock<SocketAddr> = OnceLock::new();
///     *ADDR.get_or_init(|| {
///         let port = isolate_runtime::Port::bind().expect("loopback port");
///         let addr = port.addr();
///         let listener = port.into_listener();
///         std::thread::spawn(move || {
///             for stream in listener.incoming() {
///                 drop(stream); // serve it
///             }
///         });
///         addr
///     })
/// }
///
/// TcpStream::connect(server()).unwrap();
/// assert_eq!(server(), server());
/// ```
///
/// A server that outlives one test process, for a whole run, is a `Fixture` instead.
///
/// ```
/// let port = isolate_runtime::Port::bind()?;
/// let url = format!("http://{port}/health");
/// let listener = port.into_nonblocking_listener()?;
/// // Nobody is connecting: a non-blocking accept returns at once.
/// assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
/// assert!(url.starts_with("http://127.0.0.1:"));
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct Port {
    bound: Bound<TcpListener>,
}

/// A UDP socket bound to a loopback address with port 0, handed over still open. It displays
/// as its address.
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
/// assert_eq!(a.to_string(), a.addr().to_string());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpPort {
    bound: Bound<UdpSocket>,
}

/// A socket and the address it is bound to: what `Port` and `UdpPort` share.
#[derive(Debug)]
struct Bound<S> {
    socket: S,
    addr: SocketAddr,
}

/// The two socket types, as far as binding them goes.
trait Bindable: Sized {
    /// "TCP listener", "UDP socket": for messages.
    const WHAT: &'static str;
    fn bind(addr: SocketAddr) -> io::Result<Self>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

impl Bindable for TcpListener {
    const WHAT: &'static str = "TCP listener";
    fn bind(addr: SocketAddr) -> io::Result<Self> {
        TcpListener::bind(addr)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}

impl Bindable for UdpSocket {
    const WHAT: &'static str = "UDP socket";
    fn bind(addr: SocketAddr) -> io::Result<Self> {
        UdpSocket::bind(addr)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        UdpSocket::local_addr(self)
    }
}

impl<S: Bindable> Bound<S> {
    fn bind_to(addr: SocketAddr) -> Result<Self, Error> {
        let socket = S::bind(addr).map_err(|e| bind_error(S::WHAT, addr, e))?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::io(format!("cannot read the bound {}'s address", S::WHAT), e))?;
        Ok(Bound { socket, addr })
    }
}

/// The constructors and accessors `Port` and `UdpPort` share, written once.
macro_rules! bound_socket {
    ($ty:ident, $socket:ty) => {
        impl $ty {
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
            /// Fails when the host has no IPv6 loopback; the message says to use the IPv4 key.
            pub fn bind_v6() -> Result<Self, Error> {
                Self::bind_to(SocketAddr::from((Ipv6Addr::LOCALHOST, 0)))
            }

            /// Binds `addr` (usually with port 0).
            ///
            /// # Errors
            ///
            /// Fails when the kernel refuses the bind.
            pub fn bind_to(addr: SocketAddr) -> Result<Self, Error> {
                Bound::bind_to(addr).map(|bound| $ty { bound })
            }

            /// The bound address.
            #[must_use]
            pub fn addr(&self) -> SocketAddr {
                self.bound.addr
            }

            /// The bound port number.
            #[must_use]
            pub fn port(&self) -> u16 {
                self.bound.addr.port()
            }

            /// The socket and its address, in one call.
            #[must_use]
            pub fn into_parts(self) -> ($socket, SocketAddr) {
                (self.bound.socket, self.bound.addr)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.bound.addr, f)
            }
        }
    };
}

bound_socket!(Port, TcpListener);
bound_socket!(UdpPort, UdpSocket);

impl Port {
    /// The listener, still open.
    #[must_use]
    pub fn listener(&self) -> &TcpListener {
        &self.bound.socket
    }

    /// Takes the listener out.
    #[must_use]
    pub fn into_listener(self) -> TcpListener {
        self.bound.socket
    }

    /// Takes the listener out in non-blocking mode, as async runtimes' `from_std` expect.
    ///
    /// # Errors
    ///
    /// Fails when the mode cannot be set.
    pub fn into_nonblocking_listener(self) -> Result<TcpListener, Error> {
        let listener = self.bound.socket;
        listener.set_nonblocking(true).map_err(|e| {
            Error::io(
                format!(
                    "cannot make the listener on `{}` non-blocking",
                    self.bound.addr
                ),
                e,
            )
        })?;
        Ok(listener)
    }
}

impl UdpPort {
    /// The socket, still open.
    #[must_use]
    pub fn socket(&self) -> &UdpSocket {
        &self.bound.socket
    }

    /// Takes the socket out.
    #[must_use]
    pub fn into_socket(self) -> UdpSocket {
        self.bound.socket
    }
}

/// Explains the usual reasons a loopback bind fails: a host without IPv6, a process out of
/// file descriptors.
fn bind_error(what: &str, addr: SocketAddr, e: io::Error) -> Error {
    let no_ipv6 = addr.is_ipv6()
        && (matches!(
            e.kind(),
            io::ErrorKind::AddrNotAvailable | io::ErrorKind::Unsupported
        ) || e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error()));
    let out_of_files = [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE]
        .iter()
        .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()));
    let why = if no_ipv6 {
        ": this host has no IPv6 loopback; use `port`/`udp` (127.0.0.1) instead of \
         `port6`/`udp6`"
    } else if out_of_files {
        ": the process is out of file descriptors; raise the limit (`ulimit -n`), or give the \
         tests that open many `max_sockets = N` so that fewer of them run at once"
    } else {
        ""
    };
    Error::io(format!("cannot bind a {what} on `{addr}`{why}"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(addr: &str, errno: rustix::io::Errno) -> String {
        let e = io::Error::from_raw_os_error(errno.raw_os_error());
        bind_error("TCP listener", addr.parse().unwrap(), e).to_string()
    }

    /// An IPv4 bind refused for its address family is not blamed on IPv6.
    #[test]
    fn only_an_ipv6_bind_is_blamed_on_missing_ipv6() {
        use rustix::io::Errno;
        assert!(message("[::1]:0", Errno::AFNOSUPPORT).contains("no IPv6 loopback"));
        assert!(message("[::1]:0", Errno::ADDRNOTAVAIL).contains("no IPv6 loopback"));
        let v4 = message("127.0.0.1:0", Errno::AFNOSUPPORT);
        assert!(!v4.contains("IPv6"), "{v4}");
        assert!(v4.starts_with("cannot bind a TCP listener on `127.0.0.1:0`: "));
    }

    #[test]
    fn running_out_of_descriptors_names_the_limit() {
        for errno in [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE] {
            let text = message("127.0.0.1:0", errno);
            assert!(text.contains("out of file descriptors"), "{text}");
        }
    }
}
