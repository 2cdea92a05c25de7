//! Percent-encoding for SKUs, ids and query values, as Walmart's specs ask.
//!
//! The inventory spec lists the characters a SKU must have encoded (`: / ? # [ ] @ ! $ & ' ( ) * +
//! , ; = %`, and space as `%20`, never `+`). Characters that are not valid in a URL at all
//! (controls, non-ASCII, quotes, braces) are encoded too. Everything else goes as is.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

const WALMART_COMPONENT: &AsciiSet = &CONTROLS
    // Walmart's list.
    .add(b':')
    .add(b'/')
    .add(b'?')
    .add(b'#')
    .add(b'[')
    .add(b']')
    .add(b'@')
    .add(b'!')
    .add(b'$')
    .add(b'&')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b',')
    .add(b';')
    .add(b'=')
    .add(b'%')
    .add(b' ')
    // Not allowed in a URL unencoded.
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Encodes one path segment or query value.
pub fn component(raw: &str) -> String {
    utf8_percent_encode(raw, WALMART_COMPONENT).to_string()
}

/// Builds `?k=v&k2=v2` from pairs, encoding the values (keys are our own ASCII names). Empty when
/// there are no pairs.
pub fn query(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&component(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_walmart_lists_and_nothing_else() {
        assert_eq!(component("ABC-123_x.y~z"), "ABC-123_x.y~z");
        assert_eq!(component("a b+c/d"), "a%20b%2Bc%2Fd");
        assert_eq!(component("F1@AU8BAQA"), "F1%40AU8BAQA");
        assert_eq!(component("100%#?&="), "100%25%23%3F%26%3D");
        assert_eq!(component("é"), "%C3%A9");
        assert_eq!(
            query(&[("sku", "a b".into()), ("limit", "5".into())]),
            "?sku=a%20b&limit=5"
        );
        assert_eq!(query(&[]), "");
    }
}
