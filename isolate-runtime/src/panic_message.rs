//! The message of the last panic on a test's thread, so that a `#[should_panic(expected = "..")]`
//! test that panics with another message (a failure) keeps its temp dirs like any failure.
//!
//! `Drop` sees only that a panic is in flight, not its payload; the panic hook sees the
//! payload. So [`watch`] installs, once per process and only for such a test, a hook that notes
//! the message in a thread-local and then calls the hook it replaced: what the test prints on
//! a panic is unchanged. A test that replaces the hook itself (without calling ours) leaves the
//! message unknown, and the guard then judges as it did before it could know (a panic passes).

use std::any::Any;
use std::cell::RefCell;
use std::panic;
use std::sync::Once;

/// What the hook saw on this thread since [`watch`]: nothing, or the last panic's message
/// (`None` when its payload is no string, which libtest's `expected` never matches).
#[derive(Debug)]
enum Seen {
    Nothing,
    Panic(Option<String>),
}

thread_local! {
    static LAST: RefCell<Seen> = const { RefCell::new(Seen::Nothing) };
}

/// Starts noting this thread's panic messages, forgetting earlier ones.
pub(crate) fn watch() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = text(info.payload());
            // A panic while the thread-local is gone (a thread's exit) has nothing to note.
            let _ = LAST.try_with(|last| *last.borrow_mut() = Seen::Panic(message));
            previous(info);
        }));
    });
    LAST.with(|last| *last.borrow_mut() = Seen::Nothing);
}

/// Whether the panic in flight is the one the test expects: its message contains `expected`,
/// as libtest judges (a payload that is no string fails). `true` when the hook saw no panic on
/// this thread since [`watch`] (another hook replaced ours): unknown, so as before.
pub(crate) fn expected(expected: &str) -> bool {
    LAST.with(|last| match &*last.borrow() {
        Seen::Nothing => true,
        Seen::Panic(message) => message.as_deref().is_some_and(|m| m.contains(expected)),
    })
}

/// A panic payload's text, as libtest reads it for `expected`: a `&str` or a `String`.
pub(crate) fn text(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_message_on_this_thread_decides() {
        watch();
        assert!(expected("anything"), "no panic seen: unknown");
        let _ = panic::catch_unwind(|| panic!("first: wanted"));
        assert!(expected("wanted"));
        let _ = panic::catch_unwind(|| panic!("second: {}", 2));
        assert!(!expected("wanted"), "the last panic decides");
        assert!(expected("second: 2"), "a formatted message is a `String`");
        let _ = panic::catch_unwind(|| panic::panic_any(7_u32));
        assert!(!expected(""), "a payload that is no string never matches");
        watch();
        assert!(expected("wanted"), "watch forgets earlier panics");
    }

    #[test]
    fn another_threads_panic_is_not_this_threads() {
        watch();
        std::thread::spawn(|| panic!("elsewhere"))
            .join()
            .unwrap_err();
        assert!(expected("not elsewhere"), "nothing seen on this thread");
    }
}
