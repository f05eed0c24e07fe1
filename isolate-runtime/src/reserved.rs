//! Port numbers reserved across processes, for code that must bind a number itself.
//!
//! A number is reserved by an exclusive lock on `ports/<number>.lock`. The holder removes the
//! file before it unlocks, so the directory holds only the numbers reserved now (and those of
//! killed holders, until the next prober passes by); a prober checks that the file it locked
//! is still the one at that path, since a lock on a removed file guards nothing.

use std::fmt;
use std::fs::{self, File};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation};

use crate::holder::{self, Claim, Holder, Record};
use crate::wait::{self, Mode};
use crate::{env, lockdir, sys, Error};

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
    lock: File,
    path: PathBuf,
    _record: Record,
}

impl Drop for ReservedPort {
    fn drop(&mut self) {
        // Remove, then unlock: a prober that opened the file meanwhile sees it is gone.
        let _ = fs::remove_file(&self.path);
        let _ = flock(&self.lock, FlockOperation::Unlock);
        wait::released();
    }
}

/// How the band looked when no number in it could be had.
#[derive(Debug, Default)]
struct Taken {
    by_tests: u32,
    by_others: u32,
}

impl ReservedPort {
    /// Reserves a free number from the band, waiting for one while all are taken, up to
    /// `ISOLATE_TIMEOUT` or [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT).
    ///
    /// # Errors
    ///
    /// Fails when no number comes free in time, or `ISOLATE_PORT_BAND` or `ISOLATE_TIMEOUT`
    /// is malformed.
    pub fn reserve() -> Result<Self, Error> {
        let timeout = env::timeout()?.unwrap_or(crate::DEFAULT_TIMEOUT);
        let thread = std::thread::current();
        let test = thread.name().unwrap_or("reserved_port");
        Self::reserve_for(test, Instant::now() + timeout, timeout)
    }

    /// Reserves a number for `test`, waiting until `deadline`.
    pub(crate) fn reserve_for(
        test: &str,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let (low, high) = band()?;
        let dir = lockdir::subdir("ports")?;
        let mut taken = Taken::default();
        let found = wait::poll_until(deadline, || {
            taken = Taken::default();
            Ok(probe(&dir, low, high, &mut taken).transpose())
        });
        let (port, lock, path) = match found {
            Ok(Some(found)) => found?,
            Ok(None) => return Err(timeout_error(low, high, &taken, timeout)),
            Err(e) => return Err(Error::io(format!("cannot probe `{}`", dir.display()), e)),
        };
        let record = holder::publish("holders", &Holder::me(test, Claim::Port(port)))?;
        Ok(ReservedPort {
            port,
            lock,
            path,
            _record: record,
        })
    }

    /// The reserved number.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The number.
impl fmt::Display for ReservedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.port.fmt(f)
    }
}

/// One pass over the band from a random offset (so concurrent reservers rarely probe the same
/// numbers): the first number nobody reserves and nothing binds, locked.
fn probe(
    dir: &Path,
    low: u16,
    high: u16,
    taken: &mut Taken,
) -> Result<Option<(u16, File, PathBuf)>, Error> {
    let size = u64::from(high - low) + 1;
    let start = lockdir::random();
    for step in 0..size {
        let port = low + u16::try_from((start.wrapping_add(step)) % size).unwrap_or(0);
        let path = dir.join(format!("{port}.lock"));
        let lock = lockdir::lock_file(&path)?;
        if !wait::try_lock(&lock, Mode::Exclusive).unwrap_or(false)
            || !sys::is_file_at(&lock, &path)
        {
            taken.by_tests += 1;
            continue;
        }
        if !is_free(port) {
            taken.by_others += 1;
            let _ = fs::remove_file(&path);
            continue;
        }
        return Ok(Some((port, lock, path)));
    }
    Ok(None)
}

fn timeout_error(low: u16, high: u16, taken: &Taken, timeout: Duration) -> Error {
    let holders: Vec<Holder> = holder::scan("holders")
        .into_iter()
        .filter(|holder| matches!(holder.claim, Claim::Port(port) if (low..=high).contains(&port)))
        .collect();
    Error::timeout(format!(
        "timed out after {:.1}s waiting for a port number in the reserved band {low}-{high}: {} are reserved by \
         isolated tests ({}) and {} are in use by other programs; {}, widen the band with `{}=LOW-HIGH`, or use `port` (a held listener needs no band)",
        timeout.as_secs_f64(),
        taken.by_tests,
        holder::describe_all(&holders),
        taken.by_others,
        env::raise_the_wait(),
        env::PORT_BAND,
    ))
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
    let (eph_low, eph_high) = sys::ephemeral_range();
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
