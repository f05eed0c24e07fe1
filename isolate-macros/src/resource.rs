//! The one table of resource kinds the attribute can bind. The grammar (`port`, `tmpdir(a)`),
//! the descriptor (`.bind(Resource::Port, ..)`), the bindings (`take::<Port>(..)`), the fallback
//! placeholders and the "expected one of" list all read it: adding a kind is one row here.

/// One kind of resource bound as a local.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Kind {
    /// The attribute key: `port` in `#[isolated(port)]`.
    pub(crate) key: &'static str,
    /// The runtime's `__private::Resource` variant.
    pub(crate) variant: &'static str,
    /// The type of the binding, in `__private`.
    pub(crate) ty: &'static str,
    /// The port kinds refuse a value with a hint that the OS picks the number.
    pub(crate) is_port: bool,
}

/// Every kind, in the order the descriptor lists them.
pub(crate) const KINDS: [Kind; 6] = [
    Kind {
        key: "port",
        variant: "Port",
        ty: "Port",
        is_port: true,
    },
    Kind {
        key: "port6",
        variant: "Port6",
        ty: "Port",
        is_port: true,
    },
    Kind {
        key: "udp",
        variant: "Udp",
        ty: "UdpPort",
        is_port: true,
    },
    Kind {
        key: "udp6",
        variant: "Udp6",
        ty: "UdpPort",
        is_port: true,
    },
    Kind {
        key: "reserved_port",
        variant: "ReservedPort",
        ty: "ReservedPort",
        is_port: true,
    },
    Kind {
        key: "tmpdir",
        variant: "TmpDir",
        ty: "TmpDir",
        is_port: false,
    },
];

/// The argument that binds run-wide fixtures by path, `fixture(db = DB)`: not a row of
/// [`KINDS`], since its type is the user's (`&T` of a `static DB: Fixture<T>`), named by the
/// path rather than by the table. It binds locals like the kinds above and shares their checks.
pub(crate) const FIXTURE: &str = "fixture";

/// The kind whose temp dirs are kept when the test fails: its outcome must be observed.
pub(crate) const TMPDIR: Kind = KINDS[5];

/// The kind written as `key`.
pub(crate) fn by_key(key: &str) -> Option<Kind> {
    KINDS.into_iter().find(|kind| kind.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_variants_are_unique() {
        for (i, kind) in KINDS.iter().enumerate() {
            assert_eq!(by_key(kind.key), Some(*kind));
            assert!(KINDS[..i]
                .iter()
                .all(|earlier| earlier.variant != kind.variant));
        }
        assert_eq!(TMPDIR.key, "tmpdir");
    }
}
