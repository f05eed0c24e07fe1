//! The error accumulator and every message the attribute can produce.
//!
//! All independent misuses of one attribute are reported in one build, each with its own
//! caret (serde's `Ctxt`). Messages live here so unit tests assert on them without copying.

use std::cell::RefCell;
use std::fmt::Display;

use isolate_rules::DURATION_FORMS;
use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;

/// One or more messages, each with the first and last span of what it points at; emitted as
/// `::core::compile_error! { "message" }` spanned the way syn's `Error` spans it, so rustc
/// underlines the same tokens.
#[derive(Debug)]
pub(crate) struct Error {
    messages: Vec<(Span, Span, String)>,
}

impl Error {
    pub(crate) fn new(span: Span, message: impl Display) -> Error {
        Error {
            messages: vec![(span, span, message.to_string())],
        }
    }

    /// Pointing from the first of `tokens` to the last.
    pub(crate) fn new_spanned(tokens: impl ToTokens, message: impl Display) -> Error {
        let mut tokens = tokens.into_token_stream().into_iter();
        let start = tokens
            .next()
            .map_or_else(Span::call_site, |token| token.span());
        let end = tokens.last().map_or(start, |token| token.span());
        Error {
            messages: vec![(start, end, message.to_string())],
        }
    }

    #[cfg(test)]
    pub(crate) fn messages(&self) -> impl Iterator<Item = &str> {
        self.messages.iter().map(|(_, _, message)| message.as_str())
    }

    pub(crate) fn into_compile_error(self) -> TokenStream {
        let mut tokens = TokenStream::new();
        for (start, end, message) in self.messages {
            let punct = |ch, spacing| {
                let mut punct = Punct::new(ch, spacing);
                punct.set_span(start);
                TokenTree::Punct(punct)
            };
            let mut literal = Literal::string(&message);
            literal.set_span(end);
            let mut group = Group::new(Delimiter::Brace, TokenTree::Literal(literal).into());
            group.set_span(end);
            tokens.extend([
                punct(':', Spacing::Joint),
                punct(':', Spacing::Alone),
                TokenTree::Ident(Ident::new("core", start)),
                punct(':', Spacing::Joint),
                punct(':', Spacing::Alone),
                TokenTree::Ident(Ident::new("compile_error", start)),
                punct('!', Spacing::Alone),
                TokenTree::Group(group),
            ]);
        }
        tokens
    }
}

/// Collects errors instead of stopping at the first. Dropping it without [`Errors::check`]
/// panics (outside a panic): an error pushed and never reported would expand a broken test as
/// if it were fine.
pub(crate) struct Errors {
    errors: RefCell<Option<Vec<Error>>>,
}

impl Errors {
    pub(crate) fn new() -> Errors {
        Errors {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    pub(crate) fn push(&self, error: Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("errors pushed after check")
            .push(error);
    }

    pub(crate) fn at(&self, span: Span, message: impl Display) {
        self.push(Error::new(span, message));
    }

    pub(crate) fn spanned(&self, tokens: impl ToTokens, message: impl Display) {
        self.push(Error::new_spanned(tokens, message));
    }

    /// All errors folded into one, or `Ok` when there were none.
    pub(crate) fn check(self) -> Result<(), Error> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let messages: Vec<(Span, Span, String)> = errors
            .into_iter()
            .flat_map(|error| error.messages)
            .collect();
        if messages.is_empty() {
            Ok(())
        } else {
            Err(Error { messages })
        }
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        assert!(
            std::thread::panicking() || self.errors.borrow().is_none(),
            "forgot to check for errors"
        );
    }
}

pub(crate) fn unknown_argument(found: &str, expected: &str) -> String {
    format!("unknown argument `{found}`; expected one of {expected}")
}

pub(crate) fn did_you_mean(found: &str, suggestion: &str) -> String {
    format!("unknown argument `{found}`; did you mean `{suggestion}`?")
}

/// `found` and `ours` are written out in full, the user's keys kept: `file_serial(x)` and
/// `serial = "x"`.
pub(crate) fn serial_test_spelling(found: &str, ours: &str) -> String {
    format!(
        "`{found}` is serial_test's spelling; write `{ours}` \
         (isolate's groups already hold across threads and processes)"
    )
}

pub(crate) fn duplicate_argument(key: &str) -> String {
    format!("duplicate `{key}` argument")
}

/// The name that stands for `serial_test`'s unnamed key (bare `#[serial]`, `#[parallel]`).
pub(crate) const DEFAULT_GROUP: &str = "default";

pub(crate) fn group_needs_name(key: &str) -> String {
    let theirs = if key == "serial" {
        "serial"
    } else {
        "parallel"
    };
    format!(
        "`{key}` needs a group name: `{key} = \"name\"` or `{key} = [\"a\", \"b\"]`; \
         serial_test's unnamed `#[{theirs}]` is `{key} = \"{DEFAULT_GROUP}\"`"
    )
}

pub(crate) fn group_list_form(key: &str, names: &str) -> String {
    format!("group names are string literals: write `{key} = {names}`")
}

pub(crate) fn expected_group_names(key: &str) -> String {
    format!(
        "expected a string literal or a list of them: `{key} = \"name\"` or `{key} = [\"a\", \"b\"]`"
    )
}

pub(crate) fn empty_group_list(key: &str) -> String {
    format!("`{key} = []` names no group: write `{key} = \"name\"`, or leave `{key}` out")
}

pub(crate) fn duplicate_group(name: &str) -> String {
    format!("duplicate group `{name}`")
}

pub(crate) fn serial_and_shared(name: &str) -> String {
    format!("group `{name}` is both `serial` and `shared`; a test joins a group one way")
}

pub(crate) fn binding_takes_no_value(key: &str) -> String {
    format!(
        "`{key}` takes no value: the OS picks the port; bind it as `{key}` or `{key}(name, ...)` \
         and read the number with `.port()`"
    )
}

pub(crate) fn tmpdir_takes_no_value(key: &str) -> String {
    format!("`{key}` takes no value: bind it as `{key}` or `{key}(name, ...)`")
}

pub(crate) fn binding_list_empty(key: &str) -> String {
    format!("`{key}()` needs at least one name: write `{key}` or `{key}(a, b)`")
}

pub(crate) fn binding_list_form(key: &str) -> String {
    format!("expected names to bind: `{key}(a, b)`")
}

pub(crate) fn binding_list_delimiter(key: &str) -> String {
    format!("expected parentheses: `{key}(a, b)`")
}

pub(crate) fn duplicate_binding(name: &str) -> String {
    format!("`{name}` is bound twice; give each binding its own name")
}

pub(crate) fn fixture_form(key: &str) -> String {
    format!("expected fixtures to bind, each a name and the path of a `static` `Fixture`: `{key}(db = DB)`")
}

pub(crate) fn fixture_not_a_path(name: &str) -> String {
    format!("expected the path of a `static` `Fixture`, like `{name} = DB` or `{name} = crate::fixtures::DB`")
}

pub(crate) fn duplicate_fixture(path: &str) -> String {
    format!("fixture `{path}` is bound twice; bind it once and use that name")
}

pub(crate) fn binding_shadows_parameter(name: &str) -> String {
    format!(
        "`{name}` is already a parameter of this function; bind another name, e.g. `port({name}_port)`"
    )
}

pub(crate) fn binding_unreachable(name: &str) -> String {
    format!(
        "`{name}` is bound here but the test's body never names it where it can reach: below \
         a macro that moves the body into a fn of its own (`#[rstest]`, `#[test_case]`, \
         `#[googletest::test]`, `#[ntest::timeout]`), this attribute lands on the fn that only \
         calls it; put `#[isolated(..)]` above that macro (a test that holds `{name}` without \
         using it: name it `_{name}`)"
    )
}

pub(crate) fn expected_integer(key: &str) -> String {
    format!("expected an integer: `{key} = 64`")
}

pub(crate) fn plain_integer(key: &str) -> String {
    format!("expected a plain decimal integer without a suffix: `{key} = 64`")
}

pub(crate) const MAX_SOCKETS_TOO_FEW: &str = "`max_sockets` must be at least 1";

pub(crate) fn max_sockets_too_large(max: u64) -> String {
    format!("`max_sockets` must be at most {max}")
}

pub(crate) const EXPECTED_TIMEOUT: &str =
    "expected a duration string: `timeout = \"30s\"` (units `ms`, `s`, `m`, `h`)";

pub(crate) fn invalid_timeout(text: &str) -> String {
    format!("invalid timeout `{text}`: expected {DURATION_FORMS}")
}

pub(crate) const ZERO_TIMEOUT: &str = "`timeout` must be greater than zero";

pub(crate) const NOT_A_FN_OR_MOD: &str =
    "`#[isolated]` can only be used on a function or an inline module";

pub(crate) fn file_module(name: &str) -> String {
    format!(
        "`#[isolated]` cannot see into the file module `{name}`: an attribute only receives the \
         code it is written on; write the module inline (`mod {name} {{ ... }}`) or put \
         `#[isolated(...)]` on the tests inside its file"
    )
}

pub(crate) const FN_WITHOUT_BODY: &str =
    "`#[isolated]` cannot be used on a function without a body (a declaration in a trait or an \
     `extern` block): put it on the function that has the body";

pub(crate) const CONST_FN: &str = "`#[isolated]` cannot be used on a `const fn`";

pub(crate) const METHOD: &str =
    "`#[isolated]` cannot be used on a method: tests are free functions without `self`";

pub(crate) const SHOULD_PANIC_NOT_A_LITERAL: &str =
    "`should_panic` takes a string literal: libtest reads no message from a macro, and whether \
     the test must panic at all depends on the rustc version; write the message itself: \
     `#[should_panic = \"message\"]` or `#[should_panic(expected = \"message\")]`";

pub(crate) fn unknown_test_attribute(path: &str) -> String {
    format!(
        "`#[{path}]` looks like a test attribute `#[isolated]` does not know, so this module's \
         groups and budget would not reach this function; put `#[isolated]` on it to make it \
         one of the module's tests, or rename the attribute if it does not mark a test"
    )
}

pub(crate) fn state_form(key: &str) -> String {
    format!(
        "expected `{key}` (exclusive; what the test changes is put back when it ends) or \
         `{key}(read)` (beside other readers, never beside a writer)"
    )
}

pub(crate) const FRESH_PROCESS_FORM: &str = "`fresh_process` takes no value: write `fresh_process`";

pub(crate) const FRESH_PROCESS_RETURN: &str =
    "`fresh_process` needs a test that returns `()`, a `Result` or an `ExitCode`: the parent \
     process produces the passing value of the child's test itself, so the type must be nameable";
