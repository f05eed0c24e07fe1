//! With the `serial_test` feature: `serial = "g"` also takes `serial_test`'s in-process lock for
//! key `g` (and `shared = "g"` its parallel lock), so `#[serial(g)]` tests and
//! `#[isolated(serial = "g")]` tests in one binary never overlap under `cargo test`.
//!
//! `serial_test`'s public entry points run a `fn()` while holding the lock; they hand out no
//! guard. So a helper thread enters the lock and parks inside that `fn()` until the guard
//! drops. `serial_test`'s lock is in-process only: under nextest (a process per test) it cannot
//! hold between a `#[serial]` test and anything else.

use std::cell::RefCell;
use std::sync::mpsc;
use std::time::Instant;

use crate::wait::Mode;

thread_local! {
    static PARK: RefCell<Option<(mpsc::SyncSender<()>, mpsc::Receiver<()>)>> = const { RefCell::new(None) };
}

/// Holds `serial_test`'s lock for one key until dropped.
#[derive(Debug)]
pub(crate) struct SerialTestLock {
    release: mpsc::SyncSender<()>,
}

fn park() {
    PARK.with(|park| {
        if let Some((entered, release)) = park.borrow_mut().take() {
            let _ = entered.send(());
            let _ = release.recv();
        }
    });
}

impl SerialTestLock {
    pub(crate) fn acquire(name: &str, mode: Mode, deadline: Instant) -> Result<SerialTestLock, ()> {
        let (entered_tx, entered_rx) = mpsc::sync_channel(1);
        let (release_tx, release_rx) = mpsc::sync_channel(1);
        let name = name.to_owned();
        std::thread::Builder::new()
            .name("isolate-serial-test".into())
            .spawn(move || {
                PARK.with(|park| *park.borrow_mut() = Some((entered_tx, release_rx)));
                match mode {
                    Mode::Exclusive => {
                        serial_test::local_serial_core(vec![name.as_str()], None, park);
                    }
                    Mode::Shared => {
                        serial_test::local_parallel_core(vec![name.as_str()], None, park);
                    }
                }
            })
            .map_err(|_| ())?;
        match entered_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(()) => Ok(SerialTestLock {
                release: release_tx,
            }),
            // Dropping `release_tx` lets the parked thread leave as soon as it gets in.
            Err(_) => Err(()),
        }
    }
}

impl Drop for SerialTestLock {
    fn drop(&mut self) {
        let _ = self.release.send(());
    }
}
