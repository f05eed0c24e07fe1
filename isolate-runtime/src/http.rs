//! The HTTP probe's wire side: a minimal HTTP/1.1 GET over `std::net::TcpStream`, not an HTTP
//! client. It parses `http://` URLs, refuses anything that is not this machine (probes must
//! never send traffic elsewhere, and a host name would need a lookup that may leave the
//! machine), and reads the status line and the first 64 KiB of the body, enough for
//! `body_contains` and for an excerpt in error messages. No dependency: one request, one
//! answer, `Connection: close`.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::Error;

/// The most of an answer that is read.
const READ_MAX: usize = 64 * 1024;
/// How long one attempt may take at most: a server that accepts but never answers is retried.
const ATTEMPT_MAX: Duration = Duration::from_secs(2);

/// Where a GET goes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    addrs: Vec<SocketAddr>,
    host: String,
    path: String,
}

/// What a server answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) body: String,
}

/// Parses `url` (`http://127.0.0.1:8080/health`) and checks that its host is this machine.
pub(crate) fn parse(url: &str) -> Result<Target, Error> {
    let invalid = |why: &str| {
        Error::config(format!(
            "invalid URL `{}` for `ready::http`: {why}",
            url.escape_debug()
        ))
    };
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("http://")
        .map(|_| &url["http://".len()..])
    else {
        return Err(if lower.starts_with("https://") {
            invalid("`ready::http` speaks plain HTTP; probe a TLS server with `ready::tcp` or `ready::probe`")
        } else {
            invalid("expected `http://HOST:PORT/PATH` with HOST an IP address or `localhost`")
        });
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = path.split('#').next().unwrap_or_default();
    let path = match path {
        "" => "/".to_owned(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_owned(),
    };
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "the path must not contain spaces or control characters",
        ));
    }
    if authority.contains('@') {
        return Err(invalid("credentials in the URL are not supported"));
    }
    let (host, port) = match authority.rfind(':') {
        Some(colon) if !authority[colon..].contains(']') => {
            let port = authority[colon + 1..]
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| invalid("the port must be a number from 1 to 65535"))?;
            (&authority[..colon], port)
        }
        _ => (authority, 80),
    };
    let ips: Vec<IpAddr> = if host.eq_ignore_ascii_case("localhost") {
        vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
    } else {
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        match literal.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) if host.is_empty() => return Err(invalid("the host is missing")),
            Err(_) => {
                return Err(invalid(&format!(
                    "`{host}` is a host name; write an IP address of this machine or `localhost`, \
                     so that no name lookup leaves the machine"
                )))
            }
        }
    };
    for ip in &ips {
        if !is_local(*ip) {
            return Err(invalid(&format!(
                "`{ip}` is not an address of this machine; `ready::http` only probes this \
                 machine: use `127.0.0.1`, `[::1]`, `localhost` or one of its own addresses"
            )));
        }
    }
    Ok(Target {
        addrs: ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect(),
        host: authority.to_owned(),
        path,
    })
}

/// Loopback, or an address assigned to one of this machine's interfaces: binding a UDP socket
/// to it succeeds only then, and sends nothing.
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// One GET, bounded by `limit` (and by [`ATTEMPT_MAX`]).
pub(crate) fn get(target: &Target, limit: Duration) -> io::Result<Answer> {
    let limit = limit.min(ATTEMPT_MAX).max(Duration::from_millis(1));
    let mut last = io::Error::from(io::ErrorKind::AddrNotAvailable);
    for addr in &target.addrs {
        match TcpStream::connect_timeout(addr, limit) {
            Ok(stream) => return exchange(stream, target, limit),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// The request and what is read of the answer, all within `limit`: a read timeout alone would
/// let a server that trickles a byte now and then (an event stream) hold the probe for hours.
fn exchange(mut stream: TcpStream, target: &Target, limit: Duration) -> io::Result<Answer> {
    let deadline = Instant::now() + limit;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: isolate-ready\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        target.path, target.host
    )?;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            if head_end(&bytes).is_some() {
                break;
            }
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the server did not finish its answer's head in time",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                if bytes.len() >= READ_MAX || complete(&bytes) {
                    break;
                }
            }
            // A server that keeps the connection open after a full answer is fine.
            Err(error) if is_timeout(&error) && head_end(&bytes).is_some() => break,
            Err(error) => return Err(error),
        }
    }
    answer(&bytes)
}

/// Whether `error` is an I/O's time running out (a read timeout says `WouldBlock` on Unix).
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Whether the whole answer is in: its `Content-Length` read, the last chunk seen, or the
/// head of a 204 or 304, which have no body (a server that ignores `Connection: close` would
/// otherwise hold each such attempt for its whole time).
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = head_end(bytes) else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]);
    if matches!(head.split(' ').nth(1), Some("204" | "304")) {
        return true;
    }
    if let Some(length) = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        return bytes.len() - end >= length;
    }
    header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        && bytes.ends_with(b"0\r\n\r\n")
}

fn answer(bytes: &[u8]) -> io::Result<Answer> {
    let malformed = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    if bytes.is_empty() {
        return Err(malformed(
            "the server closed the connection without answering",
        ));
    }
    let end = head_end(bytes).unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..end]);
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let (true, Some(status)) = (version.starts_with("HTTP/"), status) else {
        let shown: String = status_line.chars().take(80).collect();
        return Err(malformed(&format!(
            "not an HTTP answer: `{}`",
            shown.escape_debug()
        )));
    };
    let raw = &bytes[end..];
    let chunked =
        header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(raw).unwrap_or_else(|| raw.to_vec())
    } else {
        raw.to_vec()
    };
    Ok(Answer {
        status,
        reason: parts.next().unwrap_or_default().trim().to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The body of a chunked answer, as far as it was read.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        // A body cut short (by `READ_MAX` or the deadline) ends at any point.
        let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return Some(body);
        };
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        let take = size.min(raw.len());
        body.extend_from_slice(&raw[..take]);
        if take < size {
            return Some(body);
        }
        raw = raw.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_local_urls() {
        let target = parse("http://127.0.0.1:8080/health?x=1#top").unwrap();
        assert_eq!(target.addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        assert_eq!(target.path, "/health?x=1");
        assert_eq!(
            parse("http://[::1]:9/").unwrap().addrs,
            vec!["[::1]:9".parse().unwrap()]
        );
        assert_eq!(parse("HTTP://localhost").unwrap().addrs.len(), 2);
        assert_eq!(parse("http://127.0.0.1:80?q").unwrap().path, "/?q");
    }

    #[test]
    fn reads_answers() {
        let plain =
            answer(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nwait").unwrap();
        assert_eq!(
            (plain.status, plain.reason.as_str(), plain.body.as_str()),
            (503, "Service Unavailable", "wait")
        );
        let chunked = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(chunked.body, "abcde");
        let cut =
            answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n")
                .unwrap();
        assert_eq!(cut.body, "abcde", "a chunked body read in part");
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok"));
        // No body follows these, whatever the headers: the answer ends with its head, also
        // from a server that keeps the connection open though asked to close it.
        assert!(complete(b"HTTP/1.1 204 No Content\r\n\r\n"));
        assert!(complete(
            b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
        ));
        assert!(!complete(b"HTTP/1.1 204 No Content\r\n"));
        assert!(answer(b"SSH-2.0-OpenSSH\r\n")
            .unwrap_err()
            .to_string()
            .contains("not an HTTP answer"));
    }
}
