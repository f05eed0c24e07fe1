//! A small multi-node key-value service: nodes answer TCP requests, gossip updates over UDP,
//! persist to a journal file, push notifications over WebSocket, and read their settings from
//! the environment once per process. Its tests, as found and
//! migrated to `#[isolated]`, are this crate's point (see `tests/` and the `flake-report` bin).

pub mod settings;
pub mod ws;

pub use settings::{Settings, settings};

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One node: an id and a store, optionally persisted to `<dir>/journal`.
#[derive(Debug, Clone)]
pub struct Node {
    id: String,
    store: Arc<Mutex<BTreeMap<String, String>>>,
    journal: Option<PathBuf>,
}

impl Node {
    /// A node that keeps its store in memory.
    #[must_use]
    pub fn new(id: &str) -> Node {
        Node {
            id: id.to_owned(),
            store: Arc::default(),
            journal: None,
        }
    }

    /// An in-memory node preloaded with `entries` fixture keys (`fixture0000=v`, ...), as suites
    /// build their nodes: the loading takes a while, so a port picked before it stays unbound.
    ///
    /// ```
    /// let node = isolate_offenders::Node::with_fixtures("a", 3);
    /// assert_eq!(node.keys(), ["fixture0000", "fixture0001", "fixture0002"]);
    /// ```
    #[must_use]
    pub fn with_fixtures(id: &str, entries: usize) -> Node {
        let node = Node::new(id);
        for i in 0..entries {
            node.store()
                .insert(format!("fixture{i:04}"), "v".to_owned());
        }
        node
    }

    /// A node that replays and appends to `<dir>/journal`.
    ///
    /// # Errors
    ///
    /// Fails when the journal cannot be read.
    pub fn with_storage(id: &str, dir: &Path) -> io::Result<Node> {
        let journal = dir.join("journal");
        let mut store = BTreeMap::new();
        if journal.exists() {
            for line in fs::read_to_string(&journal)?.lines() {
                if let Some((key, value)) = line.split_once('=') {
                    store.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        Ok(Node {
            id: id.to_owned(),
            store: Arc::new(Mutex::new(store)),
            journal: Some(journal),
        })
    }

    /// The store, even if a panicking thread held it: its data is still whole.
    fn store(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The node's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Stores `value` under `key`, appending to the journal if there is one.
    ///
    /// # Errors
    ///
    /// Fails when the journal cannot be written.
    pub fn put(&self, key: &str, value: &str) -> io::Result<()> {
        if let Some(journal) = &self.journal {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(journal)?
                .write_all(format!("{key}={value}\n").as_bytes())?;
        }
        self.store().insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    /// The value under `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<String> {
        self.store().get(key).cloned()
    }

    /// Every key, in order.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.store().keys().cloned().collect()
    }

    /// Writes the whole store to `path` (one `key=value` line each), replacing what was there.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be written.
    pub fn save_snapshot(&self, path: &Path) -> io::Result<()> {
        let mut file = io::BufWriter::new(fs::File::create(path)?);
        for (key, value) in self.store().iter() {
            writeln!(file, "{key}={value}")?;
        }
        file.flush()
    }

    /// A node whose store is the snapshot at `path`.
    ///
    /// # Errors
    ///
    /// Fails when the snapshot cannot be read.
    pub fn restore_snapshot(id: &str, path: &Path) -> io::Result<Node> {
        let node = Node::new(id);
        for line in fs::read_to_string(path)?.lines() {
            if let Some((key, value)) = line.split_once('=') {
                node.store().insert(key.to_owned(), value.to_owned());
            }
        }
        Ok(node)
    }

    /// Serves the line protocol (`ID`, `GET k`, `PUT k v`) on `listener` until the handle drops.
    ///
    /// # Errors
    ///
    /// Fails when the listener's address cannot be read.
    pub fn serve_tcp(&self, listener: TcpListener) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (node, flag) = (self.clone(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let node = node.clone();
                    std::thread::spawn(move || node.answer(stream));
                }
            }
        });
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    fn answer(&self, stream: TcpStream) {
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            let reply = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["ID"] => self.id.clone(),
                ["GET", key] => self.get(key).unwrap_or_else(|| "none".to_owned()),
                ["PUT", key, value] => self
                    .put(key, value)
                    .map_or_else(|e| format!("error {e}"), |()| "ok".to_owned()),
                _ => "error unknown request".to_owned(),
            };
            if writeln!(writer, "{reply}").is_err() {
                return;
            }
        }
    }

    /// Tells `peer` that `key` is `value` here.
    ///
    /// # Errors
    ///
    /// Fails when the datagram cannot be sent.
    pub fn gossip(
        &self,
        socket: &UdpSocket,
        peer: SocketAddr,
        key: &str,
        value: &str,
    ) -> io::Result<()> {
        socket
            .send_to(format!("{} {key}={value}", self.id).as_bytes(), peer)
            .map(drop)
    }

    /// Waits for one gossip datagram, applies it, and returns `(from, key, value)`.
    ///
    /// # Errors
    ///
    /// Fails when nothing arrives in time or the datagram is malformed.
    pub fn receive_gossip(
        &self,
        socket: &UdpSocket,
        timeout: Duration,
    ) -> io::Result<(String, String, String)> {
        socket.set_read_timeout(Some(timeout))?;
        let mut buf = [0; 512];
        let (n, _) = socket.recv_from(&mut buf)?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let (from, pair) = text
            .split_once(' ')
            .ok_or_else(|| io::Error::other("malformed gossip"))?;
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| io::Error::other("malformed gossip"))?;
        self.put(key, value)?;
        Ok((from.to_owned(), key.to_owned(), value.to_owned()))
    }
}

/// A running TCP server; dropping it stops the accept loop and frees the port.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag. With descriptors exhausted the wake-up can
        // fail: then leave the loop parked rather than hang the test that is dropping us.
        let woken = (0..50).any(|_| {
            TcpStream::connect(self.addr).is_ok() || {
                std::thread::sleep(Duration::from_millis(10));
                false
            }
        });
        if let Some(thread) = self.thread.take().filter(|_| woken) {
            let _ = thread.join();
        }
    }
}

/// Sends one request line to a node and returns the reply line.
///
/// # Errors
///
/// Fails when the node cannot be reached or hangs up.
pub fn request(addr: SocketAddr, line: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    writeln!(stream, "{line}")?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    Ok(reply.trim_end().to_owned())
}

/// The admin scenario: serve on `listener`, store 20 keys over TCP, save a snapshot to `snapshot`,
/// and check that the node answering and the snapshot read back are this test's own.
///
/// # Panics
///
/// When a step fails, or another test's node or snapshot answers: the flakes the tests show.
pub fn snapshot_round_trip(id: &str, listener: TcpListener, snapshot: &Path) {
    let node = Node::new(id);
    let server = node.serve_tcp(listener).unwrap();
    for i in 0..20 {
        assert_eq!(
            request(server.addr(), &format!("PUT {id}{i:02} v")).unwrap(),
            "ok"
        );
    }
    node.save_snapshot(snapshot).unwrap();
    assert_eq!(
        request(server.addr(), "ID").unwrap(),
        id,
        "talked to another test's node"
    );
    let restored = Node::restore_snapshot(id, snapshot).unwrap();
    assert_eq!(
        restored.keys(),
        node.keys(),
        "the snapshot holds another test's entries"
    );
}
