//! Parse the attribute's arguments into [`Args`]: values with the spans they came from.
//!
//! Only per-argument checks live here (value types, ranges, duplicates); rules that relate
//! arguments to each other or to the function are in `validate.rs`.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};

use crate::lit;
use crate::meta::{self, Meta};

use crate::errors::{self, Errors};
use crate::process::{self, Held, FRESH_PROCESS, STATES};
use crate::resource::{self, Kind, FIXTURE, KINDS};

pub(crate) const SERIAL: &str = "serial";
pub(crate) const SHARED: &str = "shared";
pub(crate) const MAX_SOCKETS: &str = "max_sockets";
pub(crate) const TIMEOUT: &str = "timeout";

/// The largest `max_sockets`: the kernel's default ceiling on descriptors per process
/// (`fs.nr_open`); asking for more can never be granted.
pub(crate) const MAX_SOCKETS_LIMIT: u64 = 1 << 20;

fn all_keys() -> impl Iterator<Item = &'static str> {
    KINDS
        .iter()
        .map(|kind| kind.key)
        .chain([FIXTURE, SERIAL, SHARED, MAX_SOCKETS, TIMEOUT])
        .chain(STATES.iter().map(|state| state.key))
        .chain([FRESH_PROCESS])
}

/// A local the attribute binds, named by the user's own token.
#[derive(Clone)]
pub(crate) struct Binding {
    pub(crate) kind: Kind,
    pub(crate) ident: Ident,
}

/// A run-wide fixture bound as a local: `db = DB` binds `db` to `&T` of `static DB: Fixture<T>`.
#[derive(Clone)]
pub(crate) struct FixtureBinding {
    pub(crate) ident: Ident,
    /// The path's tokens, spans kept.
    pub(crate) path: TokenStream,
    /// The path as written, to compare and to show.
    pub(crate) text: String,
}

/// A group the test joins, with the span of its string literal.
#[derive(Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) span: Span,
}

/// Everything one `#[isolated(...)]` asked for.
#[derive(Clone, Default)]
pub(crate) struct Args {
    pub(crate) bindings: Vec<Binding>,
    pub(crate) fixtures: Vec<FixtureBinding>,
    pub(crate) serial: Vec<Group>,
    pub(crate) shared: Vec<Group>,
    pub(crate) max_sockets: Option<(u32, Span)>,
    /// Milliseconds.
    pub(crate) timeout: Option<(u64, Span)>,
    /// `env`, `cwd` and their `(read)` forms, in the order written.
    pub(crate) states: Vec<Held>,
    pub(crate) fresh_process: Option<Span>,
}

impl Args {
    /// Parses `tokens`, pushing every misuse into `cx` and keeping what was valid.
    pub(crate) fn parse(cx: &Errors, tokens: TokenStream) -> Args {
        let metas = match meta::parse_list(tokens) {
            Ok(metas) => metas,
            Err(error) => {
                cx.push(error);
                return Args::default();
            }
        };
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
        for meta in &metas {
            let Some(key) = meta.path().get_ident() else {
                cx.spanned(
                    meta.path(),
                    errors::unknown_argument(&meta.path().text(), &expected_keys()),
                );
                continue;
            };
            let name = key.to_string();
            if seen.contains(&name) {
                cx.at(key.span(), errors::duplicate_argument(&name));
                continue;
            }
            seen.push(name.clone());
            if let Some(kind) = resource::by_key(&name) {
                args.parse_binding(cx, kind, meta);
            } else if name == FIXTURE {
                args.parse_fixtures(cx, meta);
            } else if name == SERIAL {
                args.serial = parse_groups(cx, SERIAL, meta);
            } else if name == SHARED {
                args.shared = parse_groups(cx, SHARED, meta);
            } else if name == MAX_SOCKETS {
                args.max_sockets = parse_max_sockets(cx, meta);
            } else if name == TIMEOUT {
                args.timeout = parse_timeout(cx, meta);
            } else if let Some(state) = process::by_key(&name) {
                args.states.extend(process::parse_state(cx, state, meta));
            } else if name == FRESH_PROCESS {
                args.fresh_process = process::parse_fresh_process(cx, meta);
            } else {
                cx.at(key.span(), unknown_key_message(&name, meta));
            }
        }
        args
    }

    fn parse_binding(&mut self, cx: &Errors, kind: Kind, meta: &Meta) {
        match meta {
            Meta::Path(path) => {
                if let Some(ident) = path.get_ident() {
                    self.bindings.push(Binding {
                        kind,
                        ident: ident.clone(),
                    });
                }
            }
            Meta::List(list) if !list.is_parenthesized() => {
                cx.at(list.group.span(), errors::binding_list_delimiter(kind.key));
            }
            Meta::List(list) => match meta::idents(list.tokens.clone()) {
                Ok(names) if names.is_empty() => {
                    cx.spanned(list, errors::binding_list_empty(kind.key));
                }
                Ok(names) => self
                    .bindings
                    .extend(names.into_iter().map(|ident| Binding { kind, ident })),
                Err(span) => cx.at(span, errors::binding_list_form(kind.key)),
            },
            Meta::NameValue(pair) => {
                let message = if kind.is_port {
                    errors::binding_takes_no_value(kind.key)
                } else {
                    errors::tmpdir_takes_no_value(kind.key)
                };
                cx.spanned(&pair.value, message);
            }
        }
    }

    /// `fixture(db = DB, cache = crate::CACHE)`: each a name and the path of a static.
    fn parse_fixtures(&mut self, cx: &Errors, meta: &Meta) {
        let list = match meta {
            Meta::List(list) if list.is_parenthesized() => list,
            other => {
                cx.spanned(other, errors::fixture_form(FIXTURE));
                return;
            }
        };
        let pairs = meta::parse_list(list.tokens.clone()).map(|metas| {
            metas
                .into_iter()
                .map(|meta| match meta {
                    Meta::NameValue(pair) => Some(pair),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        });
        let pairs = match pairs {
            Ok(Some(pairs)) if pairs.is_empty() => {
                cx.spanned(list, errors::fixture_form(FIXTURE));
                return;
            }
            Ok(Some(pairs)) => pairs,
            Ok(None) | Err(_) => {
                cx.spanned(&list.tokens, errors::fixture_form(FIXTURE));
                return;
            }
        };
        for pair in pairs {
            let Some(ident) = pair.path.get_ident() else {
                cx.spanned(&pair.path, errors::fixture_form(FIXTURE));
                continue;
            };
            let tokens = pair.value.clone();
            let Some(path) = static_path(&tokens) else {
                cx.spanned(tokens, errors::fixture_not_a_path(&ident.to_string()));
                continue;
            };
            self.add_fixture(
                cx,
                FixtureBinding {
                    ident: ident.clone(),
                    path: tokens,
                    text: path.text(),
                },
            );
        }
    }

    /// Adds a fixture unless this attribute binds it already (reported on the second path).
    pub(crate) fn add_fixture(&mut self, cx: &Errors, fixture: FixtureBinding) {
        if self
            .fixtures
            .iter()
            .any(|earlier| earlier.text == fixture.text)
        {
            cx.spanned(&fixture.path, errors::duplicate_fixture(&fixture.text));
        } else {
            self.fixtures.push(fixture);
        }
    }

    /// Every name the attribute binds, in order: resources, then fixtures.
    pub(crate) fn binding_names(&self) -> impl Iterator<Item = &Ident> {
        self.bindings
            .iter()
            .map(|binding| &binding.ident)
            .chain(self.fixtures.iter().map(|fixture| &fixture.ident))
    }

    /// Whether a test left out of these arguments would run without an exclusion it asked
    /// for: groups, the socket budget, a wait bound, process-wide state or its own process.
    pub(crate) fn constrains(&self) -> bool {
        !self.serial.is_empty()
            || !self.shared.is_empty()
            || self.max_sockets.is_some()
            || self.timeout.is_some()
            || !self.states.is_empty()
            || self.fresh_process.is_some()
    }
}

fn expected_keys() -> String {
    all_keys()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `DB`, `crate::fixtures::DB`: a path an expression can name (keywords only as `crate`,
/// `self`, `super`, `Self`).
fn static_path(tokens: &TokenStream) -> Option<meta::Path> {
    match meta::parse_one(tokens.clone())? {
        Meta::Path(path)
            if path.segments.iter().all(|segment| {
                let name = segment.to_string();
                !crate::scan::is_keyword(&name)
                    || ["crate", "self", "super", "Self"].contains(&name.as_str())
            }) =>
        {
            Some(path)
        }
        _ => None,
    }
}

/// The message for a key we don't know: `serial_test`'s spellings get their translation with
/// the user's own keys, close spellings a suggestion, anything else the list of keys.
fn unknown_key_message(name: &str, meta: &Meta) -> String {
    let ours = match name {
        "serial" | "file_serial" => Some(SERIAL),
        "parallel" | "file_parallel" => Some(SHARED),
        _ => None,
    };
    if let Some(ours) = ours {
        let (found, keys) = match meta {
            Meta::List(list) => {
                let items: Vec<String> = crate::scan::comma_separated(list.tokens.clone())
                    .iter()
                    .map(|item| item.iter().cloned().collect::<TokenStream>().to_string())
                    .collect();
                let found = format!("{name}({})", items.join(", "));
                (found, serial_test_keys(list.tokens.clone()))
            }
            _ => (name.to_owned(), Vec::new()),
        };
        return errors::serial_test_spelling(&found, &format!("{ours} = {}", group_value(&keys)));
    }
    let synonyms = [
        ("tempdir", "tmpdir"),
        ("temp_dir", "tmpdir"),
        ("tmp_dir", "tmpdir"),
        ("ports", "port"),
        ("environment", "env"),
        ("env_vars", "env"),
        ("vars", "env"),
        ("current_dir", "cwd"),
        ("working_dir", "cwd"),
        ("fork", FRESH_PROCESS),
        ("rusty_fork", FRESH_PROCESS),
        ("process", FRESH_PROCESS),
        ("new_process", FRESH_PROCESS),
    ];
    if let Some((_, ours)) = synonyms.iter().find(|(theirs, _)| *theirs == name) {
        return errors::did_you_mean(name, ours);
    }
    match all_keys().map(|key| (edit_distance(name, key), key)).min() {
        Some((distance, key)) if distance <= 2 => errors::did_you_mean(name, key),
        _ => errors::unknown_argument(name, &expected_keys()),
    }
}

/// The keys of a `serial_test` attribute's list (`a, b`, `"a"`), skipping its options
/// (`path => ".."`, `crate = ..`, `timeout_ms = ..`).
fn serial_test_keys(tokens: TokenStream) -> Vec<String> {
    crate::scan::comma_separated(tokens)
        .iter()
        .filter_map(|item| match item.as_slice() {
            [TokenTree::Ident(ident)] => Some(ident.to_string()),
            [TokenTree::Literal(literal)] => {
                lit::string(&TokenTree::Literal(literal.clone()).into()).map(|(value, _)| value)
            }
            _ => None,
        })
        .collect()
}

/// `"a"`, `["a", "b"]`, or `serial_test`'s unnamed key.
fn group_value(keys: &[String]) -> String {
    match keys {
        [] => format!("\"{}\"", errors::DEFAULT_GROUP),
        [one] => format!("\"{one}\""),
        many => format!(
            "[{}]",
            many.iter()
                .map(|key| format!("\"{key}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn parse_groups(cx: &Errors, key: &str, meta: &Meta) -> Vec<Group> {
    let value = match meta {
        Meta::NameValue(pair) => pair.value.clone(),
        Meta::Path(path) => {
            cx.spanned(path, errors::group_needs_name(key));
            return Vec::new();
        }
        Meta::List(list) => {
            // serial_test's `#[serial(a, b)]` habit: show the isolate spelling of the same names.
            let keys = serial_test_keys(list.tokens.clone());
            let names = if keys.is_empty() {
                "\"name\"".to_owned()
            } else {
                group_value(&keys)
            };
            cx.spanned(list, errors::group_list_form(key, &names));
            return Vec::new();
        }
    };
    let literals: Vec<TokenStream> = match array(&value) {
        Some(array) if array.stream().is_empty() => {
            cx.spanned(array, errors::empty_group_list(key));
            return Vec::new();
        }
        Some(array) => crate::scan::comma_separated(array.stream())
            .into_iter()
            .map(|element| element.into_iter().collect())
            .collect(),
        None => vec![value],
    };
    let mut groups: Vec<Group> = Vec::new();
    for element in literals {
        let Some((name, span)) = lit::string(&element) else {
            cx.spanned(element, errors::expected_group_names(key));
            continue;
        };
        if let Err(error) = isolate_rules::check_group_name(&name) {
            cx.at(span, error);
        } else if groups.iter().any(|group| group.name == name) {
            cx.at(span, errors::duplicate_group(&name));
        } else {
            groups.push(Group { name, span });
        }
    }
    groups
}

/// `["a", "b"]`.
fn array(value: &TokenStream) -> Option<proc_macro2::Group> {
    let mut tokens = value.clone().into_iter();
    match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Group(group)), None) if group.delimiter() == Delimiter::Bracket => {
            Some(group)
        }
        _ => None,
    }
}

/// The value's tokens (`meta.rs` keeps every value as written), or an error on the argument.
fn name_value(cx: &Errors, meta: &Meta, expected: &str) -> Option<TokenStream> {
    match meta {
        Meta::NameValue(pair) => Some(pair.value.clone()),
        other => {
            cx.spanned(other, expected);
            None
        }
    }
}

fn parse_max_sockets(cx: &Errors, meta: &Meta) -> Option<(u32, Span)> {
    let expected = errors::expected_integer(MAX_SOCKETS);
    let value = name_value(cx, meta, &expected)?;
    let int = lit::literal(&value).and_then(|literal| Some((lit::int(&literal)?, literal.span())));
    let Some((int, span)) = int else {
        // `-1`: a number, just below the range (pointed at by its `-`, as syn did).
        match crate::scan::flatten(value.clone()).as_slice() {
            [TokenTree::Punct(minus), TokenTree::Literal(lit)]
                if minus.as_char() == '-' && lit::int(lit).is_some() =>
            {
                cx.at(minus.span(), errors::MAX_SOCKETS_TOO_FEW);
            }
            _ => cx.spanned(value, expected),
        }
        return None;
    };
    if int.negative {
        cx.at(span, errors::MAX_SOCKETS_TOO_FEW);
        return None;
    }
    // `300u8` would read as "300 of a u8", `0x40` as a bit mask: only the plain form means a count.
    if !int.plain {
        cx.at(span, errors::plain_integer(MAX_SOCKETS));
        return None;
    }
    match int.value {
        Some(0) => cx.at(span, errors::MAX_SOCKETS_TOO_FEW),
        Some(n) if n <= MAX_SOCKETS_LIMIT => return u32::try_from(n).ok().map(|n| (n, span)),
        // Too large, or too large even for u64.
        Some(_) | None => cx.at(span, errors::max_sockets_too_large(MAX_SOCKETS_LIMIT)),
    }
    None
}

fn parse_timeout(cx: &Errors, meta: &Meta) -> Option<(u64, Span)> {
    let value = name_value(cx, meta, errors::EXPECTED_TIMEOUT)?;
    let Some((text, span)) = lit::string(&value) else {
        cx.spanned(value, errors::EXPECTED_TIMEOUT);
        return None;
    };
    let ms = isolate_rules::parse_duration(&text)
        .and_then(|duration| u64::try_from(duration.as_millis()).ok());
    match ms {
        Some(0) => cx.at(span, errors::ZERO_TIMEOUT),
        Some(ms) => return Some((ms, span)),
        None => cx.at(span, errors::invalid_timeout(&text)),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> (Args, Vec<String>) {
        let cx = Errors::new();
        let args = Args::parse(&cx, tokens);
        let messages = match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.messages().map(str::to_owned).collect(),
        };
        (args, messages)
    }

    #[test]
    fn parses_every_key() {
        let (args, errors) = parse(quote!(
            port,
            port6(a),
            udp(b, c),
            udp6,
            reserved_port,
            tmpdir(d),
            serial = ["ws", "db"],
            shared = "cache",
            max_sockets = 64,
            timeout = "1m30s"
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = args.binding_names().map(ToString::to_string).collect();
        assert_eq!(names, ["port", "a", "b", "c", "udp6", "reserved_port", "d"]);
        assert_eq!(
            args.serial
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>(),
            ["ws", "db"]
        );
        assert_eq!(args.shared[0].name, "cache");
        assert_eq!(args.max_sockets.map(|m| m.0), Some(64));
        assert_eq!(args.timeout.map(|t| t.0), Some(90_000));
    }

    #[test]
    fn accumulates_independent_errors() {
        let (_, errors) = parse(quote!(
            prot,
            max_sockets = 0,
            serial = "",
            timeout = "soon",
            port,
            port
        ));
        assert_eq!(
            errors,
            [
                errors::did_you_mean("prot", "port"),
                errors::MAX_SOCKETS_TOO_FEW.to_owned(),
                isolate_rules::GroupNameError::Empty.to_string(),
                errors::invalid_timeout("soon"),
                errors::duplicate_argument("port"),
            ]
        );
    }

    #[test]
    fn translates_serial_test_habits() {
        let (_, errors) = parse(quote!(serial(ws, db), parallel, file_serial));
        assert_eq!(
            errors,
            [
                errors::group_list_form("serial", "[\"ws\", \"db\"]"),
                errors::serial_test_spelling("parallel", "shared = \"default\""),
                errors::serial_test_spelling("file_serial", "serial = \"default\""),
            ]
        );
        let (_, errors) = parse(quote!(serial));
        assert_eq!(errors, [errors::group_needs_name("serial")]);
    }

    #[test]
    fn rejects_bad_values() {
        let (_, errors) = parse(quote!(
            serial = ws,
            max_sockets = "8",
            timeout = 30,
            port = 8080
        ));
        assert_eq!(
            errors,
            [
                errors::expected_group_names("serial"),
                errors::expected_integer("max_sockets"),
                errors::EXPECTED_TIMEOUT.to_owned(),
                errors::binding_takes_no_value("port"),
            ]
        );
        let (_, errors) = parse(quote!(
            max_sockets = 1048577,
            shared = ["a b", "ok", "ok"],
            tmpdir()
        ));
        assert_eq!(
            errors,
            [
                errors::max_sockets_too_large(MAX_SOCKETS_LIMIT),
                isolate_rules::GroupNameError::Invalid("a b".into()).to_string(),
                errors::duplicate_group("ok"),
                errors::binding_list_empty("tmpdir"),
            ]
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            unknown_key_message("tempdir", &meta::parse_one(quote!(tempdir)).unwrap()),
            errors::did_you_mean("tempdir", "tmpdir")
        );
        assert_eq!(
            unknown_key_message("serail", &meta::parse_one(quote!(serail)).unwrap()),
            errors::did_you_mean("serail", "serial")
        );
        assert_eq!(
            unknown_key_message("max_socket", &meta::parse_one(quote!(max_socket)).unwrap()),
            errors::did_you_mean("max_socket", "max_sockets")
        );
        assert!(
            unknown_key_message("banana", &meta::parse_one(quote!(banana)).unwrap())
                .starts_with("unknown argument `banana`; expected one of `port`")
        );
    }

    /// Issue 15 item 16: every `serial_test` spelling keeps the user's keys.
    #[test]
    fn serial_test_hints_keep_the_keys() {
        let (_, errors) = parse(quote!(
            file_serial(x),
            parallel(a, b),
            file_parallel("c", path => "/tmp/lock"),
        ));
        assert_eq!(
            errors,
            [
                errors::serial_test_spelling("file_serial(x)", "serial = \"x\""),
                errors::serial_test_spelling("parallel(a, b)", "shared = [\"a\", \"b\"]"),
                errors::serial_test_spelling(
                    "file_parallel(\"c\", path => \"/tmp/lock\")",
                    "shared = \"c\""
                ),
            ]
        );
    }

    /// Issue 15 item 15: the error for bare `serial` names `serial_test`'s unnamed key.
    #[test]
    fn bare_serial_names_the_default_group() {
        let (_, errors) = parse(quote!(serial));
        assert!(errors[0].contains("`serial = \"default\"`"), "{errors:?}");
        let (args, errors) = parse(quote!(serial = "default"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.serial[0].name, "default");
    }

    /// Issue 17: `fixture(a = A)` binds by path; each misuse is an error on its token.
    #[test]
    fn fixtures() {
        let (args, errors) = parse(quote!(fixture(db = DB, cache = crate::CACHE), port));
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = args.binding_names().map(ToString::to_string).collect();
        assert_eq!(names, ["port", "db", "cache"]);
        assert_eq!(args.fixtures[1].text, "crate::CACHE");
        let (_, errors) = parse(quote!(fixture(db = "DB", x = DB, y = DB)));
        assert_eq!(
            errors,
            [
                errors::fixture_not_a_path("db"),
                errors::duplicate_fixture("DB")
            ]
        );
        for bad in [
            quote!(fixture),
            quote!(fixture = DB),
            quote!(fixture()),
            quote!(fixture(DB)),
        ] {
            let (_, errors) = parse(bad);
            assert_eq!(errors, [errors::fixture_form("fixture")]);
        }
    }

    /// Issue 15 item 11: each lenient spelling is refused.
    #[test]
    fn lenient_spellings_are_refused() {
        let (_, errors) = parse(quote!(
            serial = [],
            shared = [],
            port[a],
            tmpdir { d },
            max_sockets = 300u8
        ));
        assert_eq!(
            errors,
            [
                errors::empty_group_list("serial"),
                errors::empty_group_list("shared"),
                errors::binding_list_delimiter("port"),
                errors::binding_list_delimiter("tmpdir"),
                errors::plain_integer("max_sockets"),
            ]
        );
        let (_, errors) = parse(quote!(max_sockets = 0x40));
        assert_eq!(errors, [errors::plain_integer("max_sockets")]);
        let (_, errors) = parse(quote!(max_sockets = -1));
        assert_eq!(errors, [errors::MAX_SOCKETS_TOO_FEW]);
        let (args, errors) = parse(quote!(max_sockets = 1_024));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.max_sockets.map(|m| m.0), Some(1024));
    }

    /// Issue 19: the process-wide keys, and each misuse on its token.
    #[test]
    fn process_keys() {
        let (args, errors) = parse(quote!(env(read), cwd, fresh_process));
        assert!(errors.is_empty(), "{errors:?}");
        let states: Vec<(&str, bool)> = args.states.iter().map(|h| (h.kind.key, h.read)).collect();
        assert_eq!(states, [("env", true), ("cwd", false)]);
        assert!(args.fresh_process.is_some() && args.constrains());
        let (args, errors) = parse(quote!(env(write), cwd = "x", fresh_process(1), environment));
        assert!(args.states.is_empty());
        assert_eq!(
            errors,
            [
                errors::state_form("env"),
                errors::state_form("cwd"),
                errors::FRESH_PROCESS_FORM.to_owned(),
                errors::did_you_mean("environment", "env"),
            ]
        );
        let (_, errors) = parse(quote!(env[read], cwd(), cwd(read, read)));
        assert_eq!(
            errors,
            [
                errors::state_form("env"),
                errors::state_form("cwd"),
                errors::duplicate_argument("cwd"),
            ]
        );
    }
}
