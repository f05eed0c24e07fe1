//! The values of the literals the attribute reads: strings (group names, durations) and
//! integers (`max_sockets`), classified and unescaped as rustc and syn read them.

use proc_macro2::{Literal, Span, TokenStream, TokenTree};

use crate::scan;

/// `tokens` as one literal (also inside a `$x:expr` fragment's invisible group).
pub(crate) fn literal(tokens: &TokenStream) -> Option<Literal> {
    match scan::flatten(tokens.clone()).as_slice() {
        [TokenTree::Literal(literal)] => Some(literal.clone()),
        _ => None,
    }
}

/// A string literal's value and span: `"a\n"`, `r#"a"#`; `None` for anything else (a byte
/// string, a number, several tokens).
pub(crate) fn string(tokens: &TokenStream) -> Option<(String, Span)> {
    let literal = literal(tokens)?;
    let text = literal.to_string();
    let value = if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let body = raw[hashes..].strip_prefix('"')?;
        let close = body.rfind(&format!("\"{}", "#".repeat(hashes)))?;
        body[..close].replace("\r\n", "\n")
    } else {
        let body = text.strip_prefix('"')?;
        // A suffix may follow the closing quote: `"a"suffix`.
        unescape(&body[..body.rfind('"')?])?
    };
    Some((value, literal.span()))
}

/// The text of a (non-raw) string literal between its quotes, escapes resolved.
fn unescape(text: &str) -> Option<String> {
    let mut value = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                'r' => value.push('\r'),
                't' => value.push('\t'),
                '\\' => value.push('\\'),
                '0' => value.push('\0'),
                '\'' => value.push('\''),
                '"' => value.push('"'),
                'x' => {
                    let hex: String = [chars.next()?, chars.next()?].iter().collect();
                    value.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                }
                'u' => {
                    let hex: String = chars
                        .by_ref()
                        .skip(1)
                        .take_while(|&c| c != '}')
                        .filter(|&c| c != '_')
                        .collect();
                    value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                // A line continuation: the newline and the whitespace after it are dropped.
                '\n' | '\r' => {
                    while chars.peek().is_some_and(char::is_ascii_whitespace) {
                        chars.next();
                    }
                }
                _ => return None,
            },
            '\r' if chars.peek() == Some(&'\n') => {}
            other => value.push(other),
        }
    }
    Some(value)
}

/// An integer literal, as far as `max_sockets` asks.
pub(crate) struct Int {
    /// `-1` written as one token (only a macro can).
    pub(crate) negative: bool,
    /// Decimal digits and `_` only: no `0x`, no suffix.
    pub(crate) plain: bool,
    /// The value of a plain literal; `None` when it does not fit a `u64`.
    pub(crate) value: Option<u64>,
}

/// `literal` as an integer, or `None` for a float, a string or anything else (the rules of
/// syn's `LitInt`: `1e3`, `1.0` and `1f32` are floats, `0x40` and `300u8` integers).
pub(crate) fn int(literal: &Literal) -> Option<Int> {
    let text = literal.to_string();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (base, digits) = match unsigned.get(..2) {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.starts_with(|c: char| c.is_ascii_digit()) => (10, unsigned),
        _ => return None,
    };
    let end = digits
        .find(|c: char| !(c.is_digit(base) || c == '_'))
        .unwrap_or(digits.len());
    let suffix = &digits[end..];
    let is_float = base == 10
        && (suffix.starts_with('.')
            || suffix.starts_with(['e', 'E'])
            || suffix == "f32"
            || suffix == "f64");
    if end == 0 || is_float || suffix.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let plain = base == 10 && suffix.is_empty();
    Some(Int {
        negative,
        plain,
        value: plain
            .then(|| digits.replace('_', "").parse().ok())
            .flatten(),
    })
}

#[cfg(test)]
mod tests {
    use proc_macro2::{Literal, TokenStream};
    use quote::quote;

    #[allow(clippy::needless_pass_by_value)]
    fn string(tokens: TokenStream) -> Option<String> {
        super::string(&tokens).map(|(value, _)| value)
    }

    #[test]
    fn strings() {
        assert_eq!(string(quote!("ws")).as_deref(), Some("ws"));
        assert_eq!(string(quote!(r#"a"b"#)).as_deref(), Some("a\"b"));
        assert_eq!(string(quote!(r"a\n")).as_deref(), Some("a\\n"));
        assert_eq!(
            string(quote!("a\n\t\\\"\x41\u{1F600}\u{10_FFFF}")).as_deref(),
            Some("a\n\t\\\"A\u{1F600}\u{10FFFF}")
        );
        let continued: TokenStream = "\"a\\\n    b\"".parse().unwrap();
        assert_eq!(string(continued).as_deref(), Some("ab"));
        for not_a_string in [
            quote!(b"a"),
            quote!('a'),
            quote!(1),
            quote!("a" "b"),
            quote!(a),
        ] {
            assert_eq!(string(not_a_string), None);
        }
    }

    #[test]
    fn integers() {
        let int = |text: &str| super::int(&text.parse::<Literal>().unwrap());
        let plain = int("1_024").unwrap();
        assert!(plain.plain && !plain.negative);
        assert_eq!(plain.value, Some(1024));
        for not_plain in ["300u8", "0x40", "0b1", "0o7", "1_usize"] {
            let parsed = int(not_plain).unwrap();
            assert!(!parsed.plain && parsed.value.is_none(), "{not_plain}");
        }
        assert_eq!(int("99999999999999999999").unwrap().value, None);
        for not_int in ["1.0", "1e3", "1f32", "1.5e-3", "\"1\"", "'1'"] {
            assert!(int(not_int).is_none(), "{not_int}");
        }
        assert!(super::int(&Literal::i32_unsuffixed(-1)).unwrap().negative);
    }
}
