//! Error text that may quote input: serde's messages (JSON or TOML) repeat the offending value,
//! which for a credentials file is a secret and for an order is a buyer's name.

/// A serde (JSON or TOML) error message with every quoted value replaced by `[redacted]`, keeping
/// what helps find the mistake: line and column, and field and variant names the message expects
/// or misses.
///
/// serde's messages quote the offending value ("invalid type: string \"...\"", "invalid value:
/// integer `...`", "unknown variant `...`"), which for a credentials file is a secret. A quoted
/// span is kept only when it names a field (after `unknown field`, `missing field`, `duplicate
/// field`) or lists what was expected (after `expected`, joined by `,` or `or`); those come from
/// our own types, or are keys, never values.
pub fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    // Inside a list of expected names: each next span joined by ", " or " or " is kept too.
    let mut in_expected_list = false;
    while let Some(start) = rest.find(['`', '"']) {
        let (before, from_quote) = rest.split_at(start);
        out.push_str(before);
        let quote = from_quote.chars().next().unwrap_or('"');
        let body = &from_quote[1..];
        // The closing quote; double-quoted spans are Rust-escaped (`\"` inside).
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\\' if quote == '"' && !escaped => escaped = true,
                c if c == quote && !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            // An unclosed quote: what follows may be a value.
            out.push(quote);
            out.push_str("[redacted]");
            return out;
        };
        let joined = before.ends_with(", ") || before.ends_with(" or ") || before.is_empty();
        in_expected_list = (in_expected_list && joined)
            || before.ends_with("expected ")
            || before.ends_with("expected one of ");
        let names_a_field = ["unknown field ", "missing field ", "duplicate field "]
            .iter()
            .any(|p| before.ends_with(p));
        out.push(quote);
        if names_a_field || in_expected_list {
            out.push_str(&body[..end]);
        } else {
            out.push_str("[redacted]");
        }
        out.push(quote);
        rest = &body[end + quote.len_utf8()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_field_names_and_expected_lists() {
        assert_eq!(
            redact_values("unknown field `walmartt`, expected one of `walmart`, `commerce` at line 2"),
            "unknown field `walmartt`, expected one of `walmart`, `commerce` at line 2"
        );
        assert_eq!(
            redact_values(r#"invalid type: string "a\"b", expected `oauth1` or `bearer`"#),
            r#"invalid type: string "[redacted]", expected `oauth1` or `bearer`"#
        );
        assert_eq!(
            redact_values("unknown variant `s3cret`"),
            "unknown variant `[redacted]`"
        );
        assert_eq!(redact_values("bad \"s3cret"), "bad \"[redacted]");
    }
}
