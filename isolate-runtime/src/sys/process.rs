//! The platform side of [`Child`](crate::Child): a process group of its own, the parent-death
//! signal, group signals and a process's start time. Everything that needs `unsafe` or `/proc`
//! for child processes is here, behind safe functions.
//!
//! Why a spawner thread: Linux sends the parent-death signal when the *thread* that forked the
//! child exits, not the process. A test thread under `cargo test` ends with its test, while a
//! [`Child`](crate::Child) may be moved elsewhere and outlive it; so every child is forked by
//! one helper thread that lives as long as the process.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use rustix::process::{kill_process_group, Pid, Signal};

/// The spawner thread's mailbox. A slot and a condvar rather than two channels: every channel
/// type instantiates all of std's channel flavours, a tenth of this crate's code, which every
/// test binary links and every cold build compiles.
struct Spawner {
    /// Held by a caller for its whole exchange: one request at a time.
    turn: Mutex<()>,
    slot: Mutex<Slot>,
    changed: Condvar,
}

enum Slot {
    Empty,
    Request(Command),
    /// The command handed back configured as it was, and the started process.
    Answer(Command, io::Result<std::process::Child>),
    /// The thread ended (it panicked): nothing will answer any more.
    Gone,
}

impl Spawner {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `ready` holds of the slot.
    fn wait<'a>(
        &self,
        mut slot: MutexGuard<'a, Slot>,
        ready: fn(&Slot) -> bool,
    ) -> MutexGuard<'a, Slot> {
        while !ready(&slot) {
            slot = self
                .changed
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
        slot
    }

    fn set(&self, value: Slot) {
        *self.slot() = value;
        self.changed.notify_all();
    }

    /// The spawner thread: forks each request, until the process ends.
    fn serve(&self) {
        /// Marks the slot `Gone` when the thread unwinds, so no caller waits for it forever.
        struct Farewell<'a>(&'a Spawner);
        impl Drop for Farewell<'_> {
            fn drop(&mut self) {
                self.0.set(Slot::Gone);
            }
        }
        let _farewell = Farewell(self);
        loop {
            let mut slot = self.wait(self.slot(), |slot| matches!(slot, Slot::Request(_)));
            let Slot::Request(mut command) = std::mem::replace(&mut *slot, Slot::Empty) else {
                continue;
            };
            drop(slot);
            let child = command.spawn();
            self.set(Slot::Answer(command, child));
        }
    }
}

/// Starts `command` in a process group of its own (so stopping it reaches its own children too,
/// and a runner signalling the test's group does not reach it), with the parent-death signal
/// set on Linux when `tied` (a fixture's child must outlive the test process that started it:
/// its run's watcher stops it instead). The command is handed back configured as it was, plus
/// these settings.
pub(crate) fn spawn_tied(command: &mut Command, tied: bool) -> io::Result<std::process::Child> {
    static SPAWNER: Spawner = Spawner {
        turn: Mutex::new(()),
        slot: Mutex::new(Slot::Empty),
        changed: Condvar::new(),
    };
    static STARTED: OnceLock<bool> = OnceLock::new();
    let started = *STARTED.get_or_init(|| {
        let started =
            crate::background::spawn("isolate-spawner".into(), Box::new(|| SPAWNER.serve()));
        if let Err(error) = &started {
            // Without the thread, children are forked here; the sweep of records still
            // stops them if this process dies.
            eprintln!("isolate: cannot start the spawner thread ({error}); spawning inline");
        }
        started.is_ok()
    });
    command.process_group(0);
    if tied {
        set_parent_death_signal(command);
    }
    let _turn = SPAWNER.turn.lock().unwrap_or_else(PoisonError::into_inner);
    let mut slot = SPAWNER.slot();
    if !started || matches!(*slot, Slot::Gone) {
        return command.spawn();
    }
    *slot = Slot::Request(std::mem::replace(command, Command::new("")));
    SPAWNER.changed.notify_all();
    if tied {
        // A test process's first child also starts its watchdog: here, while the spawner
        // thread forks, the two starts overlap.
        drop(slot);
        super::watchdog::start_once();
        slot = SPAWNER.slot();
    }
    let mut slot = SPAWNER.wait(slot, |slot| matches!(slot, Slot::Answer(..) | Slot::Gone));
    if let Slot::Answer(original, child) = std::mem::replace(&mut *slot, Slot::Empty) {
        *command = original;
        return child;
    }
    *slot = Slot::Gone;
    Err(io::Error::new(
        io::ErrorKind::Other,
        "the isolate spawner thread is gone",
    ))
}

/// Makes the kernel SIGKILL the child when the thread that forked it (our spawner thread, which
/// lives as long as the process) dies, however the test process ends.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
fn set_parent_death_signal(command: &mut Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs between fork and exec in the child, where only async-signal-safe
    // calls are sound. It makes two raw system calls (prctl, getppid) through rustix, which
    // neither allocate nor take locks, and touches no state but the copied `parent`.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // The parent may have died between fork and prctl: then no signal will come.
            if rustix::process::getppid() != Some(parent) {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            Ok(())
        });
    }
}

/// Elsewhere there is no parent-death signal: the records in the isolate directory stop the
/// orphans at the next use of isolate (see `orphans.rs`).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_parent_death_signal(_command: &mut Command) {}

/// For a process re-run by its parent as the parent's own child (`fresh_process`): makes the
/// kernel SIGKILL this process when the parent's thread that started it dies (Linux), as
/// [`spawn_tied`] does from the parent's side, without the `pre_exec` closure that keeps std
/// from spawning with `posix_spawn` (a `fork` copies the parent's page tables). `false` when
/// the process is no longer `parent`'s child: the parent died before the signal was set, and
/// none will come.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn die_with_parent(parent: u32) -> bool {
    // Failing leaves the child to end with its test, as elsewhere.
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    rustix::process::getppid()
        .is_some_and(|pid| pid.as_raw_nonzero().get().unsigned_abs() == parent)
}

/// Elsewhere there is no parent-death signal: the child ends with its test.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn die_with_parent(parent: u32) -> bool {
    std::os::unix::process::parent_id() == parent
}

/// `child`'s exit status once it has exited (waiting for that if `block`), leaving it
/// unreaped on Linux: until it is reaped its pid, and so its group's id, is no one else's, so
/// its group may be signalled and its record and watchdog entry dropped without a stranger
/// taking its pid meanwhile. Elsewhere it is reaped.
pub(crate) fn exit_status(
    child: &mut std::process::Child,
    block: bool,
) -> io::Result<Option<std::process::ExitStatus>> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{waitid, WaitId, WaitIdOptions};
        use std::os::unix::process::ExitStatusExt;
        let mut options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
        if !block {
            options |= WaitIdOptions::NOHANG;
        }
        let pid = Pid::from_child(child);
        let status = loop {
            match waitid(WaitId::Pid(pid), options) {
                Err(rustix::io::Errno::INTR) => {}
                result => break result?,
            }
        };
        // As `wait` encodes it, which `ExitStatus` reads.
        Ok(status.map(|status| {
            let raw = match (status.exit_status(), status.terminating_signal()) {
                (Some(code), _) => (code & 0xff) << 8,
                (None, Some(signal)) => signal | if status.dumped() { 0x80 } else { 0 },
                (None, None) => 0,
            };
            std::process::ExitStatus::from_raw(raw)
        }))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    if block {
        child.wait().map(Some)
    } else {
        child.try_wait()
    }
}

/// The signals a child is stopped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Term,
    Kill,
}

/// Sends `stop` to every process of the group led by `pid`. A group that is already empty is
/// not an error.
pub(crate) fn signal_group(pid: u32, stop: Stop) -> io::Result<()> {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return Ok(());
    };
    let signal = match stop {
        Stop::Term => Signal::TERM,
        Stop::Kill => Signal::KILL,
    };
    match kill_process_group(pid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether the group led by `pid`, whose leader has exited, still has a process in it (what
/// the leader left behind). Linux: a scan of `/proc`, since the leader stays a zombie (in its
/// group) until reaped; elsewhere the leader was reaped, so signal 0 to the group tells.
pub(crate) fn group_outlives_leader(pid: u32) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        processes().map_or(true, |all| {
            all.iter()
                .any(|other| other.pid != pid && other.group == pid)
        })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .is_some_and(|pid| {
            !matches!(
                rustix::process::test_kill_process_group(pid),
                Err(rustix::io::Errno::SRCH)
            )
        })
}

/// Whether `pid` leads its process group.
#[cfg(feature = "fixture")]
pub(crate) fn leads_group(pid: u32) -> bool {
    let Some(id) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    rustix::process::getpgid(Some(id)).is_ok_and(|group| group == id)
}

/// One process, as `/proc/<pid>/stat` shows it.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Debug, Clone)]
pub(crate) struct Process {
    pub(crate) pid: u32,
    pub(crate) parent: u32,
    pub(crate) group: u32,
    pub(crate) session: u32,
    /// As [`start_time`] gives it.
    pub(crate) start: String,
    pub(crate) zombie: bool,
}

/// Every process this process can see; `None` when `/proc` cannot be read.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn processes() -> Option<Vec<Process>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    Some(
        entries
            .flatten()
            .filter_map(|entry| {
                let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                // The command name (field 2) is in parentheses and may hold spaces: count
                // after it, from field 3 (the state).
                let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
                let number = |n: usize| fields.get(n)?.parse::<u32>().ok();
                Some(Process {
                    pid,
                    parent: number(1)?,
                    group: number(2)?,
                    session: number(3)?,
                    start: (*fields.get(19)?).to_owned(),
                    zombie: fields.first() == Some(&"Z"),
                })
            })
            .collect(),
    )
}

/// The value of the variable `name` in the environment `pid` started with (`/proc/<pid>/environ`:
/// readable for processes of our user, empty for a zombie).
#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
pub(crate) fn environment_variable(pid: u32, name: &str) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    environ.split(|byte| *byte == 0).find_map(|entry| {
        let value = entry.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
        String::from_utf8(value.to_vec()).ok()
    })
}

/// While one lives, this process is a child subreaper: the orphans of its descendants are
/// reparented to it rather than to init, so what a fixture's init starts cannot leave its
/// reach by daemonizing. Counted, as inits of several fixtures may overlap; a process that was
/// a subreaper before stays one.
#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
#[derive(Debug)]
pub(crate) struct Subreaper(());

#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
static SUBREAPERS: Mutex<(usize, bool)> = Mutex::new((0, false));

#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
impl Subreaper {
    pub(crate) fn start() -> Subreaper {
        let mut state = SUBREAPERS.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 == 0 {
            let already = rustix::process::child_subreaper().is_ok_and(|pid| pid.is_some());
            // Failing leaves what daemonizes unadopted, as on other Unixes: the init says so.
            let set = !already
                && rustix::process::set_child_subreaper(Some(rustix::process::getpid())).is_ok();
            state.1 = set;
        }
        state.0 += 1;
        Subreaper(())
    }
}

#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
impl Drop for Subreaper {
    fn drop(&mut self) {
        let mut state = SUBREAPERS.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 -= 1;
        if state.0 == 0 && state.1 {
            let _ = rustix::process::set_child_subreaper(None);
            state.1 = false;
        }
    }
}

/// Reaps our child `pid`, one we adopted and did not fork (nothing else waits for it): now if
/// it is a zombie, else on a helper thread once it exits, so it is never left a zombie.
#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
pub(crate) fn reap_adopted(pid: u32) {
    use rustix::process::{waitid, WaitId, WaitIdOptions};
    let Some(id) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    let wait = move |options: WaitIdOptions| loop {
        match waitid(WaitId::Pid(id), WaitIdOptions::EXITED | options) {
            Err(rustix::io::Errno::INTR) => {}
            result => break result.ok().flatten().is_some(),
        }
    };
    if wait(WaitIdOptions::NOHANG) {
        return;
    }
    let waited = crate::background::spawn(
        "isolate-reaper".into(),
        Box::new(move || {
            wait(WaitIdOptions::empty());
        }),
    );
    if let Err(error) = waited {
        eprintln!("isolate: cannot start a thread to reap pid {pid} when it exits ({error})");
    }
}

/// The working directory of `pid` (`/proc/<pid>/cwd`: readable for processes of our user).
#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
pub(crate) fn working_dir(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// Now in the unit of a process's start time on Linux ([`start_time`]: clock ticks since
/// boot), rounded down; `None` when `/proc/uptime` cannot be read.
#[cfg(all(feature = "fixture", any(target_os = "linux", target_os = "android")))]
pub(crate) fn ticks_since_boot() -> Option<u64> {
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let (whole, fraction) = uptime.split_whitespace().next()?.split_once('.')?;
    let per_second = rustix::param::clock_ticks_per_second();
    let scale = 10_u64.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    Some(
        whole.parse::<u64>().ok()? * per_second
            + fraction.parse::<u64>().ok()? * per_second / scale,
    )
}

/// When the process `pid` started, as an opaque token that differs between two processes that
/// had the same pid; `None` when no such process exists. Linux: field 22 of `/proc/<pid>/stat`
/// (clock ticks since boot); elsewhere `ps -o lstart=`.
pub(crate) fn start_time(pid: u32) -> Option<String> {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: count after it.
        let after_name = &stat[stat.rfind(')')? + 1..];
        return after_name.split_whitespace().nth(19).map(str::to_owned);
    }
    let output = Command::new("ps")
        .args(["-o", "lstart=", "-p", &pid.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// Shell functions for the scripts that outlive us (the run's watcher, the watchdog), so that
/// they judge a process as the runtime does. `started_at PID` prints what [`start_time`]
/// returns for `PID`, nothing when there is no such process. `ours PID START` is
/// `orphans::kill_group_if_ours`'s test: whether the group led by `PID` is one we started, its
/// leader having started at `START`. A macro, so that `concat!` can put it in front of each
/// script.
///
/// Both outlive the environment they were started with: a test that had just emptied or
/// replaced `PATH` (in another thread) would leave them without `sleep`, `ps` or `rm`, so the
/// system's directories come first; and `started_at` reads `/proc` with the shell's own `read`,
/// so that without a `cat` no process looks gone (and a stranger's group, ours).
macro_rules! started_at_sh {
    () => {
        r#"
PATH=/usr/bin:/bin${PATH:+:$PATH}
started_at() {
    if [ -d /proc/self ]; then
        line=
        { read -r line <"/proc/$1/stat" || [ -n "$line" ]; } 2>/dev/null || return 0
        set -- ${line##*) }
        shift 19
        echo "$1"
    else
        ps -o lstart= -p "$1" 2>/dev/null | sed 's/^ *//; s/ *$//'
    fi
}
# The leader has its recorded start time, or no process has its pid: then what is left of its
# group is ours, as the kernel hands out no pid while a group of that id exists.
ours() {
    now=$(started_at "$1")
    [ -z "$now" ] || [ "$now" = "$2" ]
}
"#
    };
}
pub(crate) use started_at_sh;

/// The parent of `pid` and the name of `pid`'s program (at most 15 bytes on Linux), `None`
/// when no such process exists. Linux: `/proc/<pid>/stat`; elsewhere `ps -o ppid=,comm=`.
#[cfg(feature = "fixture")]
pub(crate) fn parent_and_name(pid: u32) -> Option<(u32, String)> {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let name = &stat[stat.find('(')? + 1..stat.rfind(')')?];
        let after_name = &stat[stat.rfind(')')? + 1..];
        let parent = after_name.split_whitespace().nth(1)?.parse().ok()?;
        return Some((parent, name.to_owned()));
    }
    let output = Command::new("ps")
        .args(["-o", "ppid=,comm=", "-p", &pid.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let (parent, name) = text.trim().split_once(char::is_whitespace)?;
    let name = name.trim().rsplit('/').next().unwrap_or_default();
    Some((parent.parse().ok()?, name.to_owned()))
}

/// Whether `pid` is a process that has not exited (a zombie has). Linux: the state in
/// `/proc/<pid>/stat`; elsewhere `ps -o stat=`.
#[cfg(feature = "fixture")]
pub(crate) fn running(pid: u32) -> bool {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        return std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rfind(')')
                .is_some_and(|end| !stat[end + 1..].trim_start().starts_with('Z'))
        });
    }
    Command::new("ps")
        .args(["-o", "stat=", "-p", &pid.to_string()])
        .output()
        .is_ok_and(|output| {
            let state = String::from_utf8_lossy(&output.stdout);
            output.status.success() && !state.trim().is_empty() && !state.trim().starts_with('Z')
        })
}
