//! Parse the item the attribute is written on: a test fn, or an inline module of tests.
//!
//! Parsing is shallow on purpose, and done on tokens (`scan.rs`), not with syn's `full` syntax
//! tree: a function body stays an unparsed token group (it is emitted verbatim, a body that does
//! not parse yet still expands, and a body nested a thousand levels deep costs no recursion), a
//! signature is split into the pieces the expansion rearranges, and a module is split into items
//! without parsing any of them beyond what `#[isolated]` reads (fns, modules, `use` trees).
//! Whatever is not read is written back as it came; rustc reports any syntax error in it.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};

use crate::errors::{self, Errors};
use crate::meta::Meta;
use crate::scan::{self, Attr, Cursor};

/// A function, with its body kept as unparsed tokens.
pub(crate) struct TestFn {
    pub(crate) attrs: Vec<Attr>,
    pub(crate) vis: TokenStream,
    pub(crate) sig: Signature,
    pub(crate) body: Group,
}

/// A fn's signature, in the pieces the expansion rearranges; each kept as written.
pub(crate) struct Signature {
    /// Refused by the checks, dropped by the fallback.
    pub(crate) constness: Option<Ident>,
    pub(crate) asyncness: Option<Ident>,
    pub(crate) unsafety: Option<Ident>,
    /// `extern "C"`, `extern`.
    pub(crate) abi: TokenStream,
    pub(crate) fn_token: Ident,
    pub(crate) ident: Ident,
    /// `<..>`, without the where clause.
    pub(crate) generics: TokenStream,
    pub(crate) params: Group,
    pub(crate) inputs: Vec<Param>,
    /// `-> T`, empty for the default `()`.
    pub(crate) output: TokenStream,
    /// `T` of `-> T`.
    pub(crate) return_type: Vec<TokenTree>,
    pub(crate) where_clause: TokenStream,
}

/// One parameter: `#[case] (a, b): (u8, u8)`, or a receiver (`&self`).
pub(crate) struct Param {
    pub(crate) pat: TokenStream,
    pub(crate) receiver: bool,
    /// The whole parameter, to point at.
    pub(crate) tokens: TokenStream,
}

/// Names that are keywords in a pattern, never bindings.
const PATTERN_KEYWORDS: [&str; 10] = [
    "ref", "mut", "box", "_", "true", "false", "self", "Self", "crate", "super",
];

impl TestFn {
    /// Attributes, visibility, signature and body; `None` when the tokens are not a fn.
    fn parse(cursor: &mut Cursor) -> Option<TestFn> {
        let attrs = cursor.attrs(false);
        let vis = cursor.visibility();
        let sig = Signature::parse(cursor)?;
        let body = match cursor.next()? {
            TokenTree::Group(group) => unwrap_invisible(group),
            _ => return None,
        };
        (body.delimiter() == Delimiter::Brace).then_some(TestFn {
            attrs,
            vis,
            sig,
            body,
        })
    }

    /// Every name the fn's parameters bind, also inside patterns (`(a, b): (u8, u8)`).
    pub(crate) fn parameter_names(&self) -> Vec<Ident> {
        let mut names = Vec::new();
        for param in self.sig.inputs.iter().filter(|param| !param.receiver) {
            pattern_names(&scan::flatten(param.pat.clone()), &mut names);
        }
        names
    }

    /// Whether the test is expected to panic, so a panic counts as a pass.
    pub(crate) fn expects_panic(&self) -> bool {
        !self.should_panic_attrs().is_empty()
    }

    fn should_panic_attrs(&self) -> Vec<&Attr> {
        self.attrs
            .iter()
            .filter(|attr| attr.path_is("should_panic"))
            .collect()
    }

    /// The value of a `#[should_panic = value]` that is no literal (`concat!("a", "b")`):
    /// libtest reads no message from it, and whether the test expects a panic at all depends
    /// on the rustc version (1.71 expects any panic, 1.95 none).
    pub(crate) fn should_panic_not_a_literal(&self) -> Option<TokenStream> {
        self.should_panic_attrs()
            .into_iter()
            .find_map(|attr| match attr.meta()? {
                Meta::NameValue(pair) if crate::lit::literal(&pair.value).is_none() => {
                    Some(pair.value)
                }
                _ => None,
            })
    }

    /// The string literal a `#[should_panic(expected = "..")]` (or `#[should_panic = ".."]`)
    /// test's panic message must contain, as written (escapes mean what they meant). `None`
    /// wherever libtest reads no message either: a list that is not exactly `expected = ".."`
    /// (rustc 1.71 warns and checks no message, later ones refuse it), a value that is not a
    /// string literal (refused: see [`TestFn::should_panic_not_a_literal`]), and with two
    /// `should_panic` attributes (rustc 1.71 reads the first, later ones the last).
    pub(crate) fn expected_panic(&self) -> Option<TokenTree> {
        let attr = match self.should_panic_attrs().as_slice() {
            [attr] => *attr,
            _ => return None,
        };
        let value = match attr.meta()? {
            Meta::NameValue(pair) => pair.value,
            Meta::List(list) => match crate::meta::parse_list(list.tokens).ok()?.as_mut_slice() {
                [Meta::NameValue(pair)] if pair.path.is_ident("expected") => {
                    std::mem::take(&mut pair.value)
                }
                _ => return None,
            },
            Meta::Path(_) => return None,
        };
        crate::lit::string(&value)?;
        crate::lit::literal(&value).map(TokenTree::Literal)
    }

    /// The body's leading inner attributes (`#![allow(..)]`) and the statements after them.
    pub(crate) fn split_body(&self) -> (Vec<Attr>, TokenStream) {
        let mut cursor = Cursor::new(self.body.stream());
        let inner = cursor.attrs(true);
        (inner, cursor.rest().into_iter().collect())
    }
}

/// A body passed through `macro_rules!` as a `$body:block` fragment arrives wrapped in an
/// invisible group; the braces inside are the body.
fn unwrap_invisible(group: Group) -> Group {
    if group.delimiter() != Delimiter::None {
        return group;
    }
    let mut inside = group.stream().into_iter();
    match (inside.next(), inside.next()) {
        (Some(TokenTree::Group(body)), None) => body,
        _ => group,
    }
}

impl ToTokens for TestFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.body.to_tokens(tokens);
    }
}

impl Signature {
    /// From the qualifiers to the last token before the body.
    fn parse(cursor: &mut Cursor) -> Option<Signature> {
        let constness = cursor.next_ident("const");
        let asyncness = cursor.next_ident("async");
        let unsafety = cursor.next_ident("unsafe");
        let mut abi = TokenStream::new();
        if let Some(extern_token) = cursor.next_ident("extern") {
            abi.append(extern_token);
            if let Some(TokenTree::Literal(_)) = cursor.peek() {
                abi.extend(cursor.next());
            }
        }
        let fn_token = cursor.next_ident("fn")?;
        let Some(TokenTree::Ident(ident)) = cursor.next() else {
            return None;
        };
        let mut generics = TokenStream::new();
        if cursor
            .peek()
            .is_some_and(|token| scan::is_punct(token, '<'))
        {
            let (mut depth, mut previous) = (0usize, None);
            loop {
                let token = cursor.next()?;
                depth = angle_depth(depth, &token, previous.as_ref());
                previous = Some(token.clone());
                generics.append(token);
                if depth == 0 {
                    break;
                }
            }
        }
        let params = match cursor.next()? {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Parenthesis => group,
            _ => return None,
        };
        let inputs = split_at_commas(params.stream())
            .into_iter()
            .map(|param| Param::parse(&param))
            .collect::<Option<Vec<Param>>>()?;
        // Up to the body: the first brace group outside `<..>` (a type may hold `{N}` inside).
        let mut output = TokenStream::new();
        let mut return_type = Vec::new();
        let mut where_clause = TokenStream::new();
        let arrow = matches!(
            (cursor.peek(), cursor.peek_nth(1)),
            (Some(TokenTree::Punct(minus)), Some(TokenTree::Punct(gt)))
                if minus.as_char() == '-' && gt.as_char() == '>'
        );
        if arrow {
            output.extend(cursor.next());
            output.extend(cursor.next());
        }
        let (mut depth, mut previous, mut in_where) = (0usize, None, false);
        while let Some(token) = cursor.peek() {
            // The body, or the `;` of a declaration.
            if depth == 0 && (is_body(token) || scan::is_punct(token, ';')) {
                break;
            }
            let token = cursor.next()?;
            depth = angle_depth(depth, &token, previous.as_ref());
            previous = Some(token.clone());
            in_where |= scan::is_ident(&token, "where");
            if in_where {
                where_clause.append(token);
            } else if arrow {
                return_type.push(token.clone());
                output.append(token);
            } else {
                return None;
            }
        }
        if arrow && return_type.is_empty() {
            return None;
        }
        Some(Signature {
            constness,
            asyncness,
            unsafety,
            abi,
            fn_token,
            ident,
            generics,
            params,
            inputs,
            output,
            return_type,
            where_clause,
        })
    }

    /// The return type for an expression's turbofish (`None::<R>`), each `impl Trait` in it
    /// left to inference (`_`); `None` for an opaque return type, of which nothing is known.
    pub(crate) fn return_type_inferred(&self) -> Option<TokenStream> {
        match self.return_type.first() {
            Some(first) if !scan::is_ident(first, "impl") => {
                Some(impl_inferred(self.return_type.iter().cloned()))
            }
            _ => None,
        }
    }

    /// The receiver, if the fn has one: `&self` in `fn method(&self)`.
    pub(crate) fn receiver(&self) -> Option<&Param> {
        self.inputs.first().filter(|param| param.receiver)
    }
}

/// Braces, or a `$body:block` fragment: braces in an invisible group.
fn is_body(token: &TokenTree) -> bool {
    match token {
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            matches!(
                unwrap_invisible(group.clone()).delimiter(),
                Delimiter::Brace
            )
        }
        other => is_brace(other),
    }
}

fn is_brace(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Group(group) if group.delimiter() == Delimiter::Brace)
}

/// `tokens` with each `impl Trait` (up to the `,` or `>` that ends it) as `_`, also inside
/// groups: `Result<impl Display + '_, E>` is `Result<_, E>`.
fn impl_inferred(tokens: impl IntoIterator<Item = TokenTree>) -> TokenStream {
    let mut out = TokenStream::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(ident) if ident == "impl" => {
                out.append(Ident::new("_", ident.span()));
                let (mut depth, mut previous) = (0usize, None);
                while let Some(next) = tokens.peek() {
                    let closes = scan::is_punct(next, '>')
                        && !previous
                            .as_ref()
                            .is_some_and(|p: &TokenTree| scan::is_punct(p, '-'));
                    if depth == 0 && (scan::is_punct(next, ',') || closes) {
                        break;
                    }
                    depth = angle_depth(depth, next, previous.as_ref());
                    previous = tokens.next();
                }
            }
            TokenTree::Group(group) => {
                let mut inferred = Group::new(group.delimiter(), impl_inferred(group.stream()));
                inferred.set_span(group.span());
                out.append(inferred);
            }
            other => out.append(other),
        }
    }
    out
}

/// The nesting of `<..>` after `token`, `->` not closing one.
fn angle_depth(depth: usize, token: &TokenTree, previous: Option<&TokenTree>) -> usize {
    let TokenTree::Punct(punct) = token else {
        return depth;
    };
    let arrow = previous.is_some_and(|previous| {
        matches!(previous, TokenTree::Punct(p) if p.as_char() == '-' || p.as_char() == '=')
    });
    match punct.as_char() {
        '<' => depth + 1,
        '>' if !arrow => depth.saturating_sub(1),
        _ => depth,
    }
}

/// A list split at the commas outside `<..>` (`m: HashMap<K, V>` is one parameter).
fn split_at_commas(stream: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    let (mut depth, mut previous) = (0usize, None);
    for token in stream {
        if depth == 0 && scan::is_punct(&token, ',') {
            items.push(Vec::new());
        } else {
            depth = angle_depth(depth, &token, previous.as_ref());
            previous = Some(token.clone());
            if let Some(item) = items.last_mut() {
                item.push(token);
            }
        }
    }
    items.retain(|item| !item.is_empty());
    items
}

impl Param {
    fn parse(tokens: &[TokenTree]) -> Option<Param> {
        let whole: TokenStream = tokens.iter().cloned().collect();
        let mut cursor = Cursor::new(whole.clone());
        cursor.attrs(false);
        let rest = cursor.rest();
        let (mut depth, mut colon) = (0usize, None);
        for i in 0..rest.len() {
            depth = angle_depth(depth, &rest[i], i.checked_sub(1).map(|j| &rest[j]));
            if depth == 0 && scan::is_lone_colon(&rest, i) {
                colon = Some(i);
                break;
            }
        }
        let (pat, ty) = match colon {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (&rest[..], &[][..]),
        };
        let receiver = is_receiver(&scan::flatten(pat.iter().cloned()));
        if pat.is_empty() || (ty.is_empty() && !receiver) {
            return None;
        }
        Some(Param {
            pat: pat.iter().cloned().collect(),
            receiver,
            tokens: whole,
        })
    }
}

/// `self`, `mut self`, `&self`, `&'a mut self`.
fn is_receiver(pat: &[TokenTree]) -> bool {
    let mut rest = pat;
    if let [first, tail @ ..] = rest {
        if scan::is_punct(first, '&') {
            rest = tail;
            if let [TokenTree::Punct(quote), TokenTree::Ident(_), tail @ ..] = rest {
                if quote.as_char() == '\'' {
                    rest = tail;
                }
            }
        }
    }
    if let [first, tail @ ..] = rest {
        if scan::is_ident(first, "mut") {
            rest = tail;
        }
    }
    matches!(rest, [only] if scan::is_ident(only, "self"))
}

/// The names a pattern binds: every identifier that is not a keyword or part of a path
/// (`Some` in `Some(x)`, `a` in `a::B`), and a struct pattern's fields.
fn pattern_names(tokens: &[TokenTree], names: &mut Vec<Ident>) {
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                for field in scan::comma_separated(group.stream()) {
                    field_names(&scan::flatten(field), names);
                }
            }
            TokenTree::Group(group) => pattern_names(&scan::flatten(group.stream()), names),
            TokenTree::Ident(ident) => {
                let next = tokens.get(i + 1);
                let before_path = next.is_some_and(|next| match next {
                    TokenTree::Group(group) => group.delimiter() != Delimiter::Bracket,
                    other => scan::is_punct(other, ':') || scan::is_punct(other, '!'),
                });
                let after_path = i > 0 && scan::is_punct(&tokens[i - 1], ':');
                let keyword = PATTERN_KEYWORDS.contains(&&*ident.to_string());
                if !before_path && !after_path && !keyword {
                    names.push(ident.clone());
                }
            }
            _ => {}
        }
    }
}

/// One field of a struct pattern: `a` and `ref mut a` bind `a`, `a: pattern` what the pattern binds.
fn field_names(field: &[TokenTree], names: &mut Vec<Ident>) {
    if let Some(colon) = (0..field.len()).find(|&i| scan::is_lone_colon(field, i)) {
        pattern_names(&field[colon + 1..], names);
    } else if let Some(TokenTree::Ident(ident)) = field.last() {
        if !PATTERN_KEYWORDS.contains(&&*ident.to_string()) {
            names.push(ident.clone());
        }
    }
}

impl ToTokens for Signature {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.constness.clone().map(TokenTree::Ident));
        tokens.extend(self.asyncness.clone().map(TokenTree::Ident));
        tokens.extend(self.unsafety.clone().map(TokenTree::Ident));
        tokens.extend(self.abi.clone());
        tokens.append(self.fn_token.clone());
        tokens.append(self.ident.clone());
        tokens.extend(self.generics.clone());
        tokens.append(self.params.clone());
        tokens.extend(self.output.clone());
        tokens.extend(self.where_clause.clone());
    }
}

/// An inline module, split into items without parsing any fn body.
pub(crate) struct Module {
    pub(crate) attrs: Vec<Attr>,
    pub(crate) vis: TokenStream,
    pub(crate) mod_token: Ident,
    pub(crate) ident: Ident,
    /// `Err` for a file module `mod name;`, with the span of its `;`.
    pub(crate) content: Result<Content, Span>,
}

pub(crate) struct Content {
    pub(crate) brace: Span,
    pub(crate) inner_attrs: Vec<Attr>,
    pub(crate) items: Vec<ModItem>,
}

/// One item of a module: the ones `#[isolated]` looks into, and the rest as written.
// A module holds tens of items, an expansion one item: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ModItem {
    Fn(TestFn),
    Mod(Module),
    /// A `use` item, with the names it brings into scope.
    Use(TokenStream, Vec<Ident>),
    Other(TokenStream),
}

impl Module {
    fn parse(cursor: &mut Cursor) -> Option<Module> {
        let attrs = cursor.attrs(false);
        let vis = cursor.visibility();
        let mod_token = cursor.next_ident("mod")?;
        let Some(TokenTree::Ident(ident)) = cursor.next() else {
            return None;
        };
        let content = match cursor.next()? {
            TokenTree::Punct(semi) if semi.as_char() == ';' => Err(semi.span()),
            TokenTree::Group(body) if body.delimiter() == Delimiter::Brace => {
                let mut body_cursor = Cursor::new(body.stream());
                let inner_attrs = body_cursor.attrs(true);
                let mut items = Vec::new();
                ModItem::parse_all(&mut body_cursor, &mut items)?;
                Ok(Content {
                    brace: body.span(),
                    inner_attrs,
                    items,
                })
            }
            _ => return None,
        };
        Some(Module {
            attrs,
            vis,
            mod_token,
            ident,
            content,
        })
    }
}

impl ModItem {
    /// Every item up to the end of `cursor`. An `$item:item` fragment arrives in an invisible
    /// group: its items are read as if written in place (as syn did), or they would be taken
    /// for one unknown item running on into the next.
    fn parse_all(cursor: &mut Cursor, items: &mut Vec<ModItem>) -> Option<()> {
        while !cursor.is_empty() {
            if let Some(fragment) = item_fragment(cursor.peek()) {
                cursor.next();
                ModItem::parse_all(&mut Cursor::new(fragment), items)?;
            } else {
                items.push(ModItem::parse(cursor)?);
            }
        }
        Some(())
    }

    fn parse(cursor: &mut Cursor) -> Option<ModItem> {
        let start = cursor.position();
        if let Some(func) = TestFn::parse(cursor) {
            return Some(ModItem::Fn(func));
        }
        cursor.rewind(start);
        if let Some(module) = Module::parse(cursor) {
            return Some(ModItem::Mod(module));
        }
        cursor.rewind(start);
        let mut tokens = TokenStream::new();
        tokens.append_all(cursor.attrs(false));
        tokens.extend(cursor.visibility());
        if cursor.peek_ident("use") {
            let item = scan_item(cursor, true);
            let names = imported_names(&item[1..]);
            tokens.extend(item);
            return Some(ModItem::Use(tokens, names));
        }
        let first = cursor.peek().cloned();
        let semicolon_only = ["const", "static", "type", "extern"].iter().any(|word| {
            first
                .as_ref()
                .is_some_and(|first| scan::is_ident(first, word))
        });
        let item = scan_item(cursor, semicolon_only);
        if item.is_empty() {
            return None;
        }
        tokens.extend(item);
        Some(ModItem::Other(tokens))
    }
}

/// The contents of an invisible group that holds an item (an `$item:item` fragment), not a
/// `$vis:vis` one, which `Cursor::visibility` reads.
fn item_fragment(token: Option<&TokenTree>) -> Option<TokenStream> {
    match token {
        Some(TokenTree::Group(group))
            if group.delimiter() == Delimiter::None && !scan::is_vis_fragment(group) =>
        {
            Some(group.stream())
        }
        _ => None,
    }
}

/// `#[isolated] $item`: the item as one fragment.
fn whole_fragment(tokens: &TokenStream) -> Option<TokenStream> {
    let mut all = tokens.clone().into_iter();
    let first = all.next();
    item_fragment(first.as_ref()).filter(|_| all.next().is_none())
}

/// The tokens of one item after its attributes and visibility: up to its `;`, or up to the
/// brace group that ends it (outside `<..>`, so a `{N}` generic argument does not), or a macro
/// call's braces. `semicolon_only` for items whose braces never end them (`use a::{b};`,
/// `const X: S = S {};`, `extern "C" {}` excepted below).
fn scan_item(cursor: &mut Cursor, mut semicolon_only: bool) -> Vec<TokenTree> {
    // `extern "C" { .. }` ends at its braces; `extern crate x;` at its `;`.
    if cursor.peek_ident("extern")
        && !cursor
            .peek_nth(1)
            .is_some_and(|t| scan::is_ident(t, "crate"))
    {
        semicolon_only = false;
    }
    // `const fn` is a fn whose signature did not parse: it ends at its body.
    if cursor.peek_ident("const")
        && cursor.peek_nth(1).is_some_and(|t| {
            ["fn", "async", "unsafe", "extern"]
                .iter()
                .any(|word| scan::is_ident(t, word))
        })
    {
        semicolon_only = false;
    }
    let mut item = Vec::new();
    let mut depth = 0usize;
    while let Some(token) = cursor.next() {
        depth = angle_depth(depth, &token, item.last());
        let macro_bang = scan::is_punct(&token, '!') && depth == 0;
        let ends =
            scan::is_punct(&token, ';') || (!semicolon_only && depth == 0 && is_brace(&token));
        item.push(token);
        if ends {
            break;
        }
        if macro_bang {
            // `m! { .. }` and `macro_rules! m { .. }` end at their braces.
            if let Some(TokenTree::Ident(_)) = cursor.peek() {
                if let Some(TokenTree::Group(_)) = cursor.peek_nth(1) {
                    item.extend(cursor.next());
                }
            }
            if let Some(TokenTree::Group(group)) = cursor.peek() {
                let brace = group.delimiter() == Delimiter::Brace;
                item.extend(cursor.next());
                if brace {
                    break;
                }
            }
        }
    }
    item
}

/// The names a `use` tree brings into scope (`isolated` for `use super::isolated;`, `iso`
/// for `use isolate::isolated as iso;`); globs bring nothing we can name.
fn imported_names(tree: &[TokenTree]) -> Vec<Ident> {
    let tree: Vec<TokenTree> = scan::flatten(tree.iter().cloned())
        .into_iter()
        .filter(|token| !scan::is_punct(token, ';'))
        .collect();
    match tree.as_slice() {
        [.., TokenTree::Group(group)] if group.delimiter() == Delimiter::Brace => {
            scan::comma_separated(group.stream())
                .iter()
                .flat_map(|tree| imported_names(tree))
                .collect()
        }
        [.., TokenTree::Ident(as_token), TokenTree::Ident(rename)] if as_token == "as" => {
            vec![rename.clone()]
        }
        [.., TokenTree::Ident(name)] => vec![name.clone()],
        _ => Vec::new(),
    }
}

impl ToTokens for ModItem {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            ModItem::Fn(func) => func.to_tokens(tokens),
            ModItem::Mod(module) => module.to_tokens(tokens),
            ModItem::Use(item, _) | ModItem::Other(item) => item.to_tokens(tokens),
        }
    }
}

impl ToTokens for Module {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.header(tokens);
        match &self.content {
            Ok(content) => {
                let Content {
                    inner_attrs, items, ..
                } = content;
                tokens.append(content.braced(quote::quote!(#(#inner_attrs)* #(#items)*)));
            }
            Err(span) => tokens.append_all(quote::quote_spanned!(*span=> ;)),
        }
    }
}

impl Module {
    /// Everything before the braces.
    pub(crate) fn header(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.mod_token.to_tokens(tokens);
        self.ident.to_tokens(tokens);
    }
}

impl Content {
    /// `stream` in braces carrying the module's own brace span.
    pub(crate) fn braced(&self, stream: TokenStream) -> Group {
        let mut group = Group::new(Delimiter::Brace, stream);
        group.set_span(self.brace);
        group
    }
}

/// What the attribute was written on.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Item {
    Fn(TestFn),
    Mod(Module),
}

/// Item keywords (after any qualifiers) that are neither a fn nor a module.
const OTHER_ITEMS: [&str; 11] = [
    "struct",
    "enum",
    "union",
    "trait",
    "impl",
    "const",
    "static",
    "type",
    "use",
    "extern",
    "macro_rules",
];

/// Parses `tokens` as a fn or a module. `None` means the item is not valid Rust at all (or
/// is another kind of item, reported into `cx`): the caller emits it unchanged, so rustc
/// reports the real syntax error.
pub(crate) fn parse(cx: &Errors, mut tokens: TokenStream) -> Option<Item> {
    while let Some(fragment) = whole_fragment(&tokens) {
        tokens = fragment;
    }
    let whole = |parse: fn(&mut Cursor) -> Option<Item>| {
        let mut cursor = Cursor::new(tokens.clone());
        parse(&mut cursor).filter(|_| cursor.is_empty())
    };
    if let Some(func) = whole(|cursor| TestFn::parse(cursor).map(Item::Fn)) {
        return Some(func);
    }
    if let Some(Item::Mod(module)) = whole(|cursor| Module::parse(cursor).map(Item::Mod)) {
        if let Err(semi) = module.content {
            cx.at(semi, errors::file_module(&module.ident.to_string()));
            return None;
        }
        return Some(Item::Mod(module));
    }
    if let Some(fn_token) = declaration(tokens.clone()) {
        cx.at(fn_token.span(), errors::FN_WITHOUT_BODY);
        return None;
    }
    let mut cursor = Cursor::new(tokens);
    cursor.attrs(false);
    cursor.visibility();
    let keyword = cursor.peek().cloned()?;
    // Past `unsafe`, `auto`, `default`: `fn` or `mod` here is one that did not parse (rustc says).
    // `const` is a qualifier only before `fn` (or another qualifier); else a `const` item.
    let mut kind = keyword.clone();
    let mut n = 0;
    while ["unsafe", "auto", "default", "async", "const"]
        .iter()
        .any(|word| scan::is_ident(&kind, word))
    {
        n += 1;
        match cursor.peek_nth(n) {
            Some(next) if !matches!(next, TokenTree::Ident(_)) => break,
            Some(next)
                if scan::is_ident(&kind, "const")
                    && !["fn", "unsafe", "async", "extern"]
                        .iter()
                        .any(|word| scan::is_ident(next, word)) =>
            {
                break
            }
            Some(next) => kind = next.clone(),
            None => break,
        }
    }
    let other = OTHER_ITEMS.iter().any(|word| scan::is_ident(&kind, word))
        || (matches!(kind, TokenTree::Ident(_))
            && !scan::is_ident(&kind, "fn")
            && !scan::is_ident(&kind, "mod")
            && cursor
                .peek_nth(n + 1)
                .is_some_and(|next| scan::is_punct(next, '!')));
    if other {
        cx.at(keyword.span(), errors::NOT_A_FN_OR_MOD);
    }
    None
}

/// The `fn` token of a fn declared without a body (`fn f();`, in a trait or an extern block).
fn declaration(tokens: TokenStream) -> Option<Ident> {
    let mut cursor = Cursor::new(tokens);
    cursor.attrs(false);
    cursor.visibility();
    let sig = Signature::parse(&mut cursor)?;
    let semicolon = cursor.next().filter(|token| scan::is_punct(token, ';'));
    (semicolon.is_some() && cursor.is_empty()).then_some(sig.fn_token)
}

#[cfg(test)]
mod tests {
    use proc_macro2::{Delimiter, Group, TokenStream};
    use quote::quote;

    use super::{Cursor, Item, ModItem, TestFn};
    use crate::errors::Errors;

    fn parse_fn(tokens: TokenStream) -> TestFn {
        let mut cursor = Cursor::new(tokens);
        let func = TestFn::parse(&mut cursor).expect("a fn");
        assert!(cursor.is_empty());
        func
    }

    #[test]
    fn the_expected_panic_message_is_the_literal_as_written() {
        let expected = |attr: TokenStream| {
            parse_fn(quote!(#[test] #attr fn t() {}))
                .expected_panic()
                .map(|literal| literal.to_string())
        };
        assert_eq!(
            expected(quote!(#[should_panic(expected = "a")])).as_deref(),
            Some("\"a\"")
        );
        assert_eq!(
            expected(quote!(#[should_panic = "b"])).as_deref(),
            Some("\"b\"")
        );
        let raw: TokenStream = "#[should_panic(expected = r#\"c\"#)]".parse().unwrap();
        assert_eq!(expected(raw).as_deref(), Some("r#\"c\"#"));
        // From a `macro_rules!` `$attr:meta`: in an invisible group.
        let fragment = Group::new(Delimiter::None, quote!(should_panic(expected = "d")));
        assert_eq!(expected(quote!(#[#fragment])).as_deref(), Some("\"d\""));
        assert_eq!(expected(quote!(#[should_panic])), None);
        assert_eq!(expected(quote!(#[should_panic(expected = 1)])), None);
        // Escapes stay as written: the emitted literal means what the attribute's meant.
        let escaped: TokenStream = r#"#[should_panic(expected = "caf\u{e9}\t\x21\"")]"#
            .parse()
            .unwrap();
        assert_eq!(expected(escaped).as_deref(), Some(r#""caf\u{e9}\t\x21\"""#));
        assert_eq!(
            expected(quote!(#[should_panic(expected = "e",)])).as_deref(),
            Some("\"e\"")
        );
    }

    /// Where libtest reads no message (rustc 1.71 warns "argument must be of the form", later
    /// ones refuse the attribute), the test expects a panic, any panic: never a message libtest
    /// does not check, which would judge a passing test failed.
    #[test]
    fn no_expected_message_where_libtest_reads_none() {
        for attr in [
            quote!(#[should_panic(expected = "a", expected = "b")]),
            quote!(#[should_panic(expected = "a", note = "b")]),
            quote!(#[should_panic(note = "b", expected = "a")]),
            quote!(#[should_panic(expected("a"))]),
            quote!(#[should_panic(expect = "a")]),
            quote!(#[should_panic("a")]),
            quote!(#[should_panic(expected = b"a")]),
            // A C string, written as text: rustc 1.71 (the MSRV) cannot even lex `c"a"`.
            "#[should_panic(expected = c\"a\")]".parse().unwrap(),
            quote!(#[should_panic(expected = 'a')]),
            quote!(#[should_panic(expected)]),
            quote!(#[should_panic()]),
            quote!(#[should_panic = b"a"]),
            // rustc 1.71 reads the first, 1.95 the last.
            quote!(#[should_panic = "a"] #[should_panic = "b"]),
            quote!(#[should_panic = "a"] #[should_panic]),
        ] {
            let func = parse_fn(quote!(#[test] #attr fn t() {}));
            assert!(func.expects_panic(), "{attr}");
            assert!(func.expected_panic().is_none(), "{attr}");
            assert!(func.should_panic_not_a_literal().is_none(), "{attr}");
        }
        // Refused by the checks: rustc versions disagree on whether it is a `should_panic`.
        let func = parse_fn(quote!(
            #[test]
            #[should_panic = concat!("a", "b")]
            fn t() {}
        ));
        assert_eq!(
            func.should_panic_not_a_literal().unwrap().to_string(),
            quote!(concat!("a", "b")).to_string()
        );
    }

    #[test]
    fn a_body_in_an_invisible_group_parses() {
        let body = Group::new(
            Delimiter::None,
            quote!({
                assert!(true);
            }),
        );
        let mut tokens: TokenStream = quote!(#[test] fn t());
        tokens.extend([proc_macro2::TokenTree::Group(body)]);
        assert!(TestFn::parse(&mut Cursor::new(tokens)).is_some());
    }

    /// The names the shadowing check sees, in every pattern form a parameter can take.
    #[test]
    fn parameter_names_inside_patterns() {
        let func = parse_fn(quote!(
            fn f(
                #[case] plain: u8,
                mut changed: u8,
                (a, (b, _)): (u8, (u8, u8)),
                Point {
                    x,
                    y: renamed,
                    ref z,
                    ..
                }: Point,
                Wrapper(inner): Wrapper,
                [first, .., last]: [u8; 4],
                &(ref r, mut m): &(u8, u8),
                whole @ Some(part): Option<u8>,
                std::num::Wrapping(w): std::num::Wrapping<u8>,
                _: u8,
            ) {
            }
        ));
        let names: Vec<String> = func
            .parameter_names()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            names,
            [
                "plain", "changed", "a", "b", "x", "renamed", "z", "inner", "first", "last", "r",
                "m", "whole", "part", "w"
            ]
        );
    }

    /// Commas and `->` inside `<..>`, braces inside a return type, a where clause.
    #[test]
    fn signature_pieces() {
        let func = parse_fn(quote!(
            pub(crate) const async unsafe extern "C" fn f<F: Fn(u8) -> u8, const N: usize>(
                map: HashMap<u8, Vec<u8>>,
                f: F,
            ) -> Array<{ N }>
            where
                F: Copy,
            {
            }
        ));
        let sig = &func.sig;
        assert!(sig.constness.is_some() && sig.asyncness.is_some() && sig.unsafety.is_some());
        assert_eq!(sig.abi.to_string(), quote!(extern "C").to_string());
        assert_eq!(
            sig.generics.to_string(),
            quote!(<F: Fn(u8) -> u8, const N: usize>).to_string()
        );
        assert_eq!(sig.inputs.len(), 2);
        assert_eq!(
            sig.inputs[0].tokens.to_string(),
            quote!(map: HashMap<u8, Vec<u8>>).to_string()
        );
        assert_eq!(sig.output.to_string(), quote!(-> Array<{ N }>).to_string());
        assert_eq!(
            sig.where_clause.to_string(),
            quote!(where F: Copy,).to_string()
        );
        assert!(func.body.stream().is_empty());
        for receiver in [
            quote!(&self),
            quote!(&'a mut self),
            quote!(mut self),
            quote!(self: Box<Self>),
        ] {
            let func = parse_fn(quote!(fn m(#receiver, x: u8) {}));
            assert!(func.sig.receiver().is_some(), "{receiver}");
            assert_eq!(func.parameter_names()[0], "x");
        }
        for not_a_fn in [
            quote!(fn f(x) {}),
            quote!(fn f() -> {}),
            quote!(fn f() u8 {}),
            quote!(
                fn f();
            ),
        ] {
            assert!(
                TestFn::parse(&mut Cursor::new(not_a_fn.clone())).is_none(),
                "{not_a_fn}"
            );
        }
    }

    /// The return type a closure's `return`s are typed with: each `impl Trait` inferred,
    /// wherever it ends; an opaque return type is not named at all.
    #[test]
    fn return_type_for_inference() {
        let inferred = |output: TokenStream| {
            parse_fn(quote!(fn f() #output {}))
                .sig
                .return_type_inferred()
                .map(|ty| ty.to_string())
        };
        for (output, expected) in [
            (quote!(-> Result<Self, E>), quote!(Result<Self, E>)),
            (quote!(-> Result<&str, E>), quote!(Result<&str, E>)),
            (
                quote!(-> Result<impl Display + '_, E>),
                quote!(Result<_, E>),
            ),
            (
                quote!(-> Result<impl Iterator<Item = impl Fn(u8) -> u8>, Box<dyn Error>>),
                quote!(Result<_, Box<dyn Error>>),
            ),
            (
                quote!(-> Result<(impl A, impl B), E>),
                quote!(Result<(_, _), E>),
            ),
            (quote!(-> Result<Vec<impl A>, E>), quote!(Result<Vec<_>, E>)),
            (quote!(-> Array<{ N }>), quote!(Array<{ N }>)),
        ] {
            assert_eq!(inferred(output).as_deref(), Some(&*expected.to_string()));
        }
        assert_eq!(inferred(quote!(-> impl Termination)), None);
        assert_eq!(inferred(quote!()), None);
    }

    /// An item that is neither a fn with a body nor an inline module is an error, never an
    /// attribute silently dropped.
    #[test]
    fn other_items_are_errors() {
        for item in [
            quote!(
                const X: u8 = 1;
            ),
            quote!(
                pub const _: () = ();
            ),
            quote!(
                const unsafe fn f();
            ),
            quote!(
                fn declared();
            ),
            quote!(
                unsafe fn declared(a: u8) -> u8;
            ),
            quote!(
                struct S;
            ),
            quote!(impl S {}),
        ] {
            let cx = Errors::new();
            assert!(super::parse(&cx, item.clone()).is_none(), "{item}");
            assert!(cx.check().is_err(), "{item}");
        }
    }

    /// A module's items are found one by one, each kind ending where it ends, and written back
    /// token for token.
    #[test]
    fn module_items() {
        let items = quote!(
            use super::{isolated as iso, other::*, Thing};
            const X: S = S { a: 1 };
            static Y: [u8; 2] = [1, 2];
            type T<const N: usize> = Foo<{ N }>;
            struct Unit;
            struct Tuple(u8) where u8: Copy;
            struct Named<T> where T: Fn() -> u8 { t: T }
            impl<T> Trait for Named<T> where T: Fn() -> u8 { fn f(&self) {} }
            extern "C" { fn c(); }
            extern crate alloc;
            macro_rules! m { () => {}; }
            m! { a }
            m!(b);
            #[test]
            fn t() {}
            mod nested { fn inner() {} }
            fn broken(x) {}
            const fn cf() -> u8 { 1 }
        );
        let cx = Errors::new();
        let Some(Item::Mod(module)) = super::parse(&cx, quote!(mod m { #items })) else {
            panic!("a module");
        };
        cx.check().unwrap();
        let content = module.content.as_ref().ok().unwrap();
        let kinds: Vec<&str> = content
            .items
            .iter()
            .map(|item| match item {
                ModItem::Fn(_) => "fn",
                ModItem::Mod(_) => "mod",
                ModItem::Use(..) => "use",
                ModItem::Other(_) => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "use", "other", "other", "other", "other", "other", "other", "other", "other",
                "other", "other", "other", "other", "fn", "mod", "other", "fn"
            ]
        );
        let ModItem::Use(_, names) = &content.items[0] else {
            unreachable!()
        };
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["iso", "Thing"]);
        let written: TokenStream = content
            .items
            .iter()
            .map(quote::ToTokens::to_token_stream)
            .collect();
        assert_eq!(written.to_string(), items.to_string());
    }

    /// `$item:item` fragments arrive in invisible groups. In a module each is read as the items
    /// it holds (a fn there is a test, and the next item is its own), and a whole item in one
    /// is the fn or module it holds: syn saw through them, and a test must not run
    /// unisolated because a macro wrote it.
    #[test]
    fn items_in_invisible_groups() {
        let fragment = |tokens: TokenStream| Group::new(Delimiter::None, tokens);
        let a = fragment(quote!(
            #[test]
            fn a() {}
        ));
        let b_group = fragment(quote!(
            #[test]
            fn b() {}
        ));
        let nested = fragment(quote!(#b_group));
        let vis = fragment(quote!(pub));
        let public = fragment(quote!(
            pub(crate) fn helper() {}
        ));
        let cx = Errors::new();
        let Some(Item::Mod(module)) = super::parse(
            &cx,
            quote!(mod m { #a #[tokio::test] async fn next() {} #nested #vis fn c() {} #public #[test] fn d() {} }),
        ) else {
            panic!("a module");
        };
        cx.check().unwrap();
        let names: Vec<String> = module
            .content
            .as_ref()
            .ok()
            .unwrap()
            .items
            .iter()
            .map(|item| match item {
                ModItem::Fn(func) => func.sig.ident.to_string(),
                _ => "other".to_owned(),
            })
            .collect();
        assert_eq!(names, ["a", "next", "b", "c", "helper", "d"]);
        let cx = Errors::new();
        let whole = fragment(quote!(
            #[test]
            fn whole() {}
        ));
        assert!(matches!(
            super::parse(&cx, quote!(#whole)),
            Some(Item::Fn(_))
        ));
        let whole_mod = fragment(quote!(
            mod m {
                #[test]
                fn t() {}
            }
        ));
        assert!(matches!(
            super::parse(&cx, quote!(#whole_mod)),
            Some(Item::Mod(_))
        ));
        cx.check().unwrap();
    }
}
