//! Bounded text: what records keep of messages that come from outside (API error text, reasons).

/// Longest reason a record keeps (a failure, a sync problem, a comment that replaced a
/// cancellation): the context and an excerpt of the API's text fit, and a record keeping many
/// stays far below DynamoDB's 400 KB item limit.
pub const MAX_REASON_CHARS: usize = 600;

/// At most `max_chars` characters of `text`, trimmed, with `…` where it was cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// `reason` cut to [`MAX_REASON_CHARS`].
pub fn bounded_reason(reason: String) -> String {
    if reason.chars().count() <= MAX_REASON_CHARS {
        return reason;
    }
    excerpt(&reason, MAX_REASON_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_on_character_boundaries() {
        assert_eq!(excerpt("  short  ", 10), "short");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt(&"x".repeat(1000), 300).chars().count(), 301);
        assert_eq!(bounded_reason("kept as is ".into()), "kept as is ");
        assert_eq!(
            bounded_reason("y".repeat(5000)).chars().count(),
            MAX_REASON_CHARS + 1
        );
    }
}
