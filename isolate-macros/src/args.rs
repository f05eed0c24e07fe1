//! Parse the attribute's arguments into [`Args`]: values with the spans they came from.
//!
//! Only per-argument checks live here (value types, ranges, duplicates); rules that relate
//! arguments to each other or to the function are in `validate.rs`.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, Meta, Token};

use crate::errors::{self, Errors};

/// Keys of the resources bound as locals, each with the runtime accessor that hands it over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Port,
    Port6,
    Udp,
    Udp6,
    ReservedPort,
    TmpDir,
}

impl Kind {
    pub(crate) const ALL: [Kind; 6] = [
        Kind::Port,
        Kind::Port6,
        Kind::Udp,
        Kind::Udp6,
        Kind::ReservedPort,
        Kind::TmpDir,
    ];

    /// The attribute key, which is also the `Spec` field's accessor name on the guard.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Port => "port",
            Kind::Port6 => "port6",
            Kind::Udp => "udp",
            Kind::Udp6 => "udp6",
            Kind::ReservedPort => "reserved_port",
            Kind::TmpDir => "tmpdir",
        }
    }
}

pub(crate) const SERIAL: &str = "serial";
pub(crate) const SHARED: &str = "shared";
pub(crate) const MAX_SOCKETS: &str = "max_sockets";
pub(crate) const TIMEOUT: &str = "timeout";

/// The largest `max_sockets`: the kernel's default ceiling on descriptors per process
/// (`fs.nr_open`); asking for more can never be granted.
pub(crate) const MAX_SOCKETS_LIMIT: u64 = 1 << 20;

fn all_keys() -> impl Iterator<Item = &'static str> {
    Kind::ALL
        .iter()
        .map(|kind| kind.key())
        .chain([SERIAL, SHARED, MAX_SOCKETS, TIMEOUT])
}

/// A local the attribute binds, named by the user's own token.
#[derive(Clone)]
pub(crate) struct Binding {
    pub(crate) kind: Kind,
    pub(crate) ident: Ident,
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
    pub(crate) serial: Vec<Group>,
    pub(crate) shared: Vec<Group>,
    pub(crate) max_sockets: Option<(u32, Span)>,
    /// Milliseconds.
    pub(crate) timeout: Option<(u64, Span)>,
}

impl Args {
    /// Parses `tokens`, pushing every misuse into `cx` and keeping what was valid.
    pub(crate) fn parse(cx: &Errors, tokens: TokenStream) -> Args {
        let metas = match syn::parse::Parser::parse2(
            Punctuated::<Meta, Token![,]>::parse_terminated,
            tokens,
        ) {
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
                    errors::unknown_argument(&path_text(meta.path()), &expected_keys()),
                );
                continue;
            };
            let name = key.to_string();
            if seen.contains(&name) {
                cx.at(key.span(), errors::duplicate_argument(&name));
                continue;
            }
            seen.push(name.clone());
            if let Some(kind) = Kind::ALL.into_iter().find(|kind| kind.key() == name) {
                args.parse_binding(cx, kind, meta);
            } else if name == SERIAL {
                args.serial = parse_groups(cx, SERIAL, meta);
            } else if name == SHARED {
                args.shared = parse_groups(cx, SHARED, meta);
            } else if name == MAX_SOCKETS {
                args.max_sockets = parse_max_sockets(cx, meta);
            } else if name == TIMEOUT {
                args.timeout = parse_timeout(cx, meta);
            } else {
                cx.at(key.span(), unknown_key_message(&name));
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
            Meta::List(list) => {
                match list.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated) {
                    Ok(names) if names.is_empty() => {
                        cx.spanned(list, errors::binding_list_empty(kind.key()));
                    }
                    Ok(names) => self
                        .bindings
                        .extend(names.into_iter().map(|ident| Binding { kind, ident })),
                    Err(error) => cx.at(error.span(), errors::binding_list_form(kind.key())),
                }
            }
            Meta::NameValue(pair) => {
                let message = if kind == Kind::TmpDir {
                    errors::tmpdir_takes_no_value(kind.key())
                } else {
                    errors::binding_takes_no_value(kind.key())
                };
                cx.spanned(&pair.value, message);
            }
        }
    }

    /// Every name the attribute binds, in order.
    pub(crate) fn binding_names(&self) -> impl Iterator<Item = &Ident> {
        self.bindings.iter().map(|binding| &binding.ident)
    }
}

fn expected_keys() -> String {
    all_keys()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The message for a key we don't know: `serial_test`'s spellings get their translation, close
/// spellings a suggestion, anything else the list of keys.
fn unknown_key_message(name: &str) -> String {
    match name {
        "file_serial" => return errors::serial_test_spelling(name, SERIAL),
        "parallel" | "file_parallel" => return errors::serial_test_spelling(name, SHARED),
        _ => {}
    }
    let synonyms = [
        ("tempdir", "tmpdir"),
        ("temp_dir", "tmpdir"),
        ("tmp_dir", "tmpdir"),
        ("ports", "port"),
    ];
    if let Some((_, ours)) = synonyms.iter().find(|(theirs, _)| *theirs == name) {
        return errors::did_you_mean(name, ours);
    }
    match all_keys().map(|key| (edit_distance(name, key), key)).min() {
        Some((distance, key)) if distance <= 2 => errors::did_you_mean(name, key),
        _ => errors::unknown_argument(name, &expected_keys()),
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
        Meta::NameValue(pair) => &pair.value,
        Meta::Path(path) => {
            cx.spanned(path, errors::group_needs_name(key));
            return Vec::new();
        }
        Meta::List(list) => {
            // serial_test's `#[serial(a, b)]` habit: show the isolate spelling of the same names.
            let names = list
                .parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated)
                .map(|names| {
                    names
                        .iter()
                        .map(|name| format!("\"{name}\""))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let suggestion = match names.as_slice() {
                [one] => one.clone(),
                [] => "\"name\"".to_owned(),
                many => format!("[{}]", many.join(", ")),
            };
            cx.spanned(list, errors::group_list_form(key, &suggestion));
            return Vec::new();
        }
    };
    let literals: Vec<&Expr> = match value {
        Expr::Array(array) => array.elems.iter().collect(),
        other => vec![other],
    };
    let mut groups: Vec<Group> = Vec::new();
    for expr in literals {
        let Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) = expr
        else {
            cx.spanned(expr, errors::expected_group_names(key));
            continue;
        };
        let name = lit.value();
        if name.is_empty() {
            cx.at(lit.span(), errors::EMPTY_GROUP_NAME);
        } else if !is_valid_group_name(&name) {
            cx.at(lit.span(), errors::invalid_group_name(&name));
        } else if groups.iter().any(|group| group.name == name) {
            cx.at(lit.span(), errors::duplicate_group(&name));
        } else {
            groups.push(Group {
                name,
                span: lit.span(),
            });
        }
    }
    groups
}

pub(crate) fn is_valid_group_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b))
}

fn name_value<'a>(cx: &Errors, meta: &'a Meta, expected: &str) -> Option<&'a Expr> {
    match meta {
        Meta::NameValue(pair) => Some(&pair.value),
        other => {
            cx.spanned(other, expected);
            None
        }
    }
}

fn parse_max_sockets(cx: &Errors, meta: &Meta) -> Option<(u32, Span)> {
    let expected = errors::expected_integer(MAX_SOCKETS);
    let value = name_value(cx, meta, &expected)?;
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Int(lit), ..
    }) = value
    else {
        cx.spanned(value, expected);
        return None;
    };
    match lit.base10_parse::<u64>() {
        Ok(0) => cx.at(lit.span(), errors::MAX_SOCKETS_ZERO),
        Ok(n) if n <= MAX_SOCKETS_LIMIT => return u32::try_from(n).ok().map(|n| (n, lit.span())),
        // Too large, or too large even for u64.
        Ok(_) | Err(_) => cx.at(lit.span(), errors::max_sockets_too_large(MAX_SOCKETS_LIMIT)),
    }
    None
}

fn parse_timeout(cx: &Errors, meta: &Meta) -> Option<(u64, Span)> {
    let value = name_value(cx, meta, errors::EXPECTED_TIMEOUT)?;
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(lit), ..
    }) = value
    else {
        cx.spanned(value, errors::EXPECTED_TIMEOUT);
        return None;
    };
    match parse_duration_ms(&lit.value()) {
        Some(0) => cx.at(lit.span(), errors::ZERO_TIMEOUT),
        Some(ms) => return Some((ms, lit.span())),
        None => cx.at(lit.span(), errors::invalid_timeout(&lit.value())),
    }
    None
}

/// Parses `"500ms"`, `"30s"`, `"2m"`, `"1h"` and sums like `"1m30s"` into milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Option<u64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        rest = &rest[unit..];
        total = total.checked_add(number.checked_mul(scale)?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> (Args, Vec<String>) {
        let cx = Errors::default();
        let args = Args::parse(&cx, tokens);
        let messages = match cx.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
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
                errors::MAX_SOCKETS_ZERO.to_owned(),
                errors::EMPTY_GROUP_NAME.to_owned(),
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
                errors::serial_test_spelling("parallel", "shared"),
                errors::serial_test_spelling("file_serial", "serial"),
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
                errors::invalid_group_name("a b"),
                errors::duplicate_group("ok"),
                errors::binding_list_empty("tmpdir"),
            ]
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("30s"), Some(30_000));
        assert_eq!(parse_duration_ms("2m"), Some(120_000));
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
        assert_eq!(parse_duration_ms("1m30s"), Some(90_000));
        for bad in [
            "",
            "30",
            "s",
            "1.5s",
            "30 s",
            "-1s",
            "99999999999999999999h",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            unknown_key_message("tempdir"),
            errors::did_you_mean("tempdir", "tmpdir")
        );
        assert_eq!(
            unknown_key_message("serail"),
            errors::did_you_mean("serail", "serial")
        );
        assert_eq!(
            unknown_key_message("max_socket"),
            errors::did_you_mean("max_socket", "max_sockets")
        );
        assert!(unknown_key_message("banana")
            .starts_with("unknown argument `banana`; expected one of `port`"));
    }
}
