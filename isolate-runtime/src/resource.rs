//! The one table of resources a test binds by name.
//!
//! A row is a [`Resource`] variant, the attribute key that asks for it, the type the test
//! receives and the function that acquires it. The enum, the keys and the acquisition functions
//! a spec's `bind` picks from all come from this table; a new resource is a row here, a
//! [`Binding`] impl for its type (below, unless its type is new) and its own module.

use std::any::Any;
use std::fmt;
use std::time::{Duration, Instant};

use crate::{Error, Port, ReservedPort, TmpDir, UdpPort};

/// What an acquisition function gets to know about the binding it acquires.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acquire<'a> {
    /// The test's name as the runner shows it.
    pub(crate) test: &'a str,
    /// The binding's name (`api` in `port(api)`).
    pub(crate) name: &'a str,
    /// When a resource that must wait for a free one gives up.
    pub(crate) deadline: Instant,
    /// The whole wait, for the timeout's message.
    pub(crate) timeout: Duration,
}

macro_rules! resources {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $key:literal => $ty:ident, $acquire:expr;
    )*) => {
        /// A kind of resource a test binds by name: one per `#[isolated]` key that binds a local.
        ///
        /// # Examples
        ///
        /// ```
        /// use isolate_runtime::Resource;
        ///
        /// assert_eq!(Resource::TmpDir.key(), "tmpdir");
        /// assert!(Resource::ALL.contains(&Resource::Port));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Resource {
            $($(#[$doc])* $variant,)*
        }

        impl Resource {
            /// Every kind, in the order a guard acquires them.
            pub const ALL: &'static [Resource] = &[$(Resource::$variant),*];

            /// The attribute key that asks for this kind (`port`, `tmpdir`, ...).
            #[must_use]
            pub const fn key(self) -> &'static str {
                match self {
                    $(Resource::$variant => $key,)*
                }
            }
        }

        /// How each kind is acquired, by [`Resource`] index: a spec's `bind` copies the one
        /// it needs, so `enter` names no kind and a test binary links only the kinds its
        /// specs bind (the rest is dropped by the linker's section garbage collection).
        pub(crate) const ACQUIRE: [AcquireFn; COUNT] = [
            $(|cx: &Acquire<'_>| ($acquire)(cx).map(Held::new::<$ty>),)*
        ];
    };
}

resources! {
    /// A TCP listener on `127.0.0.1:0`, bound as [`Port`].
    Port = "port" => Port, |_: &Acquire<'_>| Port::bind();
    /// A TCP listener on `[::1]:0`, bound as [`Port`].
    Port6 = "port6" => Port, |_: &Acquire<'_>| Port::bind_v6();
    /// A UDP socket on `127.0.0.1:0`, bound as [`UdpPort`].
    Udp = "udp" => UdpPort, |_: &Acquire<'_>| UdpPort::bind();
    /// A UDP socket on `[::1]:0`, bound as [`UdpPort`].
    Udp6 = "udp6" => UdpPort, |_: &Acquire<'_>| UdpPort::bind_v6();
    /// A port number reserved across processes, bound as [`ReservedPort`].
    ReservedPort = "reserved_port" => ReservedPort,
        |cx: &Acquire<'_>| ReservedPort::reserve_for(cx.test, cx.deadline, cx.timeout);
    /// A fresh directory, bound as [`TmpDir`].
    TmpDir = "tmpdir" => TmpDir, |cx: &Acquire<'_>| TmpDir::for_test(cx.test, cx.name);
}

/// How many kinds the table has: the size of a spec's per-kind name lists.
pub(crate) const COUNT: usize = Resource::ALL.len();

/// Acquires one binding of a kind.
pub(crate) type AcquireFn = fn(&Acquire<'_>) -> Result<Held, Error>;

/// One acquired resource, as the guard stores it until the test takes it: type-erased, so
/// that neither the guard nor its drop glue names every kind's type (see [`ACQUIRE`]).
///
/// Nominally `pub` for [`Binding`]'s signature, but unreachable from outside the crate.
#[derive(Debug)]
#[allow(unreachable_pub)]
pub struct Held(Box<dyn Hold>);

/// What `Held` keeps: any value, still printable (`dyn Any` alone prints as `Any { .. }`).
trait Hold: fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: Any + fmt::Debug + Send + Sync> Hold for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl Held {
    pub(crate) fn new<T: Any + fmt::Debug + Send + Sync>(value: T) -> Held {
        Held(Box::new(value))
    }

    /// The value, if it is a `T`.
    pub(crate) fn get<T: Any>(&self) -> Option<&T> {
        // Through the box: `Box<dyn Hold>` is itself a `Hold`, whose `as_any` is the box.
        (*self.0).as_any().downcast_ref()
    }

    /// The value moved out, if it is a `T`; otherwise `self`, unchanged.
    fn take<T: Any>(self) -> Result<T, Held> {
        if self.get::<T>().is_none() {
            return Err(self);
        }
        Ok(*self.0.into_any().downcast().expect("checked above"))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A type a test receives for a binding: how it comes out of the guard's storage.
///
/// Sealed: implemented for the types of the resource table.
pub trait Binding: Sized + sealed::Sealed {
    /// Hands the value over: moved out of `slot`, or, for a resource whose release depends on
    /// the test's outcome (a temp dir), a handle sharing it. `None` when the slot holds another
    /// type or was taken already.
    #[doc(hidden)]
    fn take(slot: &mut Option<Held>) -> Option<Self>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Port {}
    impl Sealed for crate::UdpPort {}
    impl Sealed for crate::ReservedPort {}
    impl Sealed for crate::TmpDir {}
}

/// Types moved out of their slot.
macro_rules! moved_out {
    ($($ty:ident),*) => {$(
        impl Binding for $ty {
            fn take(slot: &mut Option<Held>) -> Option<Self> {
                match slot.take()?.take() {
                    Ok(value) => Some(value),
                    Err(other) => {
                        *slot = Some(other);
                        None
                    }
                }
            }
        }
    )*};
}

moved_out!(Port, UdpPort, ReservedPort);

impl Binding for TmpDir {
    /// The guard keeps its own handle, to record the test's outcome before the directory is
    /// removed or kept.
    fn take(slot: &mut Option<Held>) -> Option<Self> {
        slot.as_ref()?.get::<TmpDir>().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_value_is_taken_by_its_type_only() {
        let mut slot = Some(Held::new(UdpPort::bind().unwrap()));
        assert!(Port::take(&mut slot).is_none());
        assert!(TmpDir::take(&mut slot).is_none());
        assert!(slot.is_some(), "a wrong type leaves the value in place");
        let udp = UdpPort::take(&mut slot).expect("the value, by its own type");
        assert!(udp.addr().ip().is_loopback());
        assert!(slot.is_none() && UdpPort::take(&mut slot).is_none());
    }
}
