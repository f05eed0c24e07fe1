//! WebSocket notifications (RFC 6455 handshake and text frames), with a client for tests.
//!
//! The notifier was written for one subscriber at a time, as many in-house test servers are: the
//! handshake in progress lives in one shared session slot. Two clients that overlap overwrite
//! each other's session, so one of them gets the other's `Sec-WebSocket-Accept` (the handshake
//! fails) or the other's welcome message. Tests that share one notifier must not overlap.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

#[derive(Debug, Clone, Default)]
struct Session {
    key: String,
    subscriber: String,
}

/// Starts the notifier on `listener` (a detached accept loop) and returns its address.
///
/// # Errors
///
/// Fails when the listener's address cannot be read.
pub fn start_notifier(listener: TcpListener) -> io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let session = Arc::new(Mutex::new(Session::default()));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let session = Arc::clone(&session);
            std::thread::spawn(move || {
                let _ = handshake(stream, &session);
            });
        }
    });
    Ok(addr)
}

fn handshake(stream: TcpStream, session: &Mutex<Session>) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let subscriber = request
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.strip_prefix("/subscribe/"))
        .unwrap_or("anonymous");
    let mut key = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("sec-websocket-key")
        {
            value.trim().clone_into(&mut key);
        }
    }
    // One session slot for the whole server: the design flaw that makes overlap fatal.
    *session
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Session {
        key,
        subscriber: subscriber.to_owned(),
    };
    writer.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    )?;
    let current = session
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    write!(
        writer,
        "Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(&current.key)
    )?;
    send_text(&mut writer, &format!("hello {}", current.subscriber))?;
    // Wait for the client to close.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    Ok(())
}

fn send_text(writer: &mut impl Write, text: &str) -> io::Result<()> {
    let len = u8::try_from(text.len())
        .map_err(|_| io::Error::other("message too long for this notifier"))?;
    let mut frame = vec![0x81, len];
    frame.extend_from_slice(text.as_bytes());
    writer.write_all(&frame)
}

/// Subscribes as `name`, checks the handshake, and returns the welcome message.
///
/// # Errors
///
/// Fails when the notifier cannot be reached, the handshake's accept key is wrong, or the
/// welcome frame is malformed.
pub fn subscribe(addr: SocketAddr, name: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let key = base64(
        format!("{name}{nanos:>16}")
            .as_bytes()
            .get(..16)
            .unwrap_or(b"0123456789abcdef"),
    );
    write!(
        stream,
        "GET /subscribe/{name} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut accept = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Sec-WebSocket-Accept:") {
            accept = Some(value.trim().to_owned());
        }
    }
    if accept.as_deref() != Some(accept_key(&key).as_str()) {
        return Err(io::Error::other(format!(
            "handshake failed: wrong Sec-WebSocket-Accept {accept:?}"
        )));
    }
    let mut header = [0; 2];
    reader.read_exact(&mut header)?;
    let mut payload = vec![0; usize::from(header[1] & 0x7f)];
    reader.read_exact(&mut payload)?;
    // Close frame (masked, as clients must), then hang up.
    stream.write_all(&[0x88, 0x80, 0, 0, 0, 0])?;
    String::from_utf8(payload).map_err(|_| io::Error::other("welcome is not text"))
}

/// `base64(sha1(key + GUID))`, the server's proof that it read this client's key.
#[must_use]
pub fn accept_key(key: &str) -> String {
    base64(&sha1(format!("{key}{GUID}").as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// Names follow the SHA-1 specification (FIPS 180-4).
#[allow(clippy::many_single_char_names)]
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, temp);
        }
        for (slot, value) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(value);
        }
    }
    let mut out = [0; 20];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Hex, for test vectors.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_example_accept_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
