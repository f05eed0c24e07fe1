//! Port numbers reserved across processes, for code that must bind a number itself.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};

use crate::wait::{self, Mode};
use crate::{env, lockdir, Error};

/// A port number that no other isolated test, in any process on this machine, receives while
/// this value lives.
///
/// Use it only when code insists on binding a number itself (a child process, a library that
/// takes a port number). The number comes from a band outside the kernel's ephemeral range, so
/// the kernel never hands it out for port 0 or outgoing connections, and it was free when
/// reserved. Unlike [`Port`](crate::Port), nothing *holds* it: a program that is not an isolated
/// test may still bind it in the meantime. Prefer `port` whenever the code can take a listener.
///
/// # Examples
///
/// ```
/// let reserved = isolate_runtime::ReservedPort::reserve()?;
/// // Hand the number to code that binds it itself:
/// let listener = std::net::TcpListener::bind(("127.0.0.1", reserved.port())).unwrap();
/// assert_eq!(listener.local_addr().unwrap().port(), reserved.port());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct ReservedPort {
    port: u16,
    _lock: File,
}

impl ReservedPort {
    /// Reserves a free number from the band.
    ///
    /// # Errors
    ///
    /// Fails when every number in the band is reserved or in use, or `ISOLATE_PORT_BAND` is
    /// malformed.
    pub fn reserve() -> Result<Self, Error> {
        let (low, high) = band()?;
        let dir = lockdir::subdir("ports")?;
        let size = u32::from(high - low) + 1;
        // Start at a random offset so concurrent reservers rarely probe the same numbers.
        let start = u32::from(u16::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..2]
                .try_into()
                .unwrap_or_default(),
        ));
        let (mut reserved_by_tests, mut in_use) = (0u32, 0u32);
        for step in 0..size {
            let port = low + u16::try_from((start + step) % size).unwrap_or(0);
            let lock = lockdir::lock_file(&dir.join(format!("{port}.lock")))?;
            if !wait::try_lock(&lock, Mode::Exclusive).unwrap_or(false) {
                reserved_by_tests += 1;
                continue;
            }
            if !is_free(port) {
                in_use += 1;
                continue;
            }
            return Ok(ReservedPort { port, _lock: lock });
        }
        Err(Error::refused(format!(
            "no free port number in the reserved band {low}-{high}: {reserved_by_tests} are reserved by \
             isolated tests and {in_use} are in use by other programs; widen the band with `{}=LOW-HIGH`, \
             or use `port` (a held listener needs no band)",
            env::PORT_BAND
        )))
    }

    /// The reserved number.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Free for both TCP and UDP on the IPv4 loopback and wildcard addresses, right now.
fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
        && UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The band reserved numbers come from: `ISOLATE_PORT_BAND`, or 20000 up to just below the
/// kernel's ephemeral range, or above that range when it starts too low.
///
/// # Errors
///
/// Fails when `ISOLATE_PORT_BAND` is malformed, or no band of at least 1000 numbers lies
/// outside the ephemeral range.
///
/// # Examples
///
/// ```
/// let (low, high) = isolate_runtime::reserved_port_band()?;
/// let reserved = isolate_runtime::ReservedPort::reserve()?;
/// assert!((low..=high).contains(&reserved.port()));
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn band() -> Result<(u16, u16), Error> {
    if let Some(band) = env::port_band()? {
        return Ok(band);
    }
    let (eph_low, eph_high) = ephemeral_range();
    if eph_low >= 21_000 {
        Ok((20_000, eph_low - 1))
    } else if eph_high <= 64_535 {
        Ok((eph_high + 1, 65_535))
    } else {
        Err(Error::config(format!(
            "the kernel's ephemeral range {eph_low}-{eph_high} leaves no band of 1000 port numbers for \
             reservations; set `{}=LOW-HIGH`",
            env::PORT_BAND
        )))
    }
}

/// `net.ipv4.ip_local_port_range`, or the Linux default where it cannot be read.
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut numbers = text.split_whitespace().map(str::parse::<u16>);
            Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
        })
        .unwrap_or((32_768, 60_999))
}
