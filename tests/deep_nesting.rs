//! Issue 15 item 13: deeply nested expressions inside an `#[isolated]` module compile. The
//! module's items are split without parsing fn bodies, so nesting costs the macro no recursion.
#![allow(unused_parens)]

use isolate::isolated;

#[isolated(serial = "deep-nesting")]
mod nested_a_thousand_levels {
    #[test]
    fn compiles() {
        let one = (1);
        assert_eq!(one, 1);
    }
}
