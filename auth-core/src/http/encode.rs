//! Percent-encoding, for form bodies and URL path segments.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// How a value is encoded.
#[derive(Clone, Copy)]
pub(crate) enum Encoding {
    /// `application/x-www-form-urlencoded`: `A-Z a-z 0-9 - . _ *` as is, space as `+`.
    Form,
    /// One URL path segment: RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) as is.
    PathSegment,
}

/// Appends `s` to `out`, percent-encoded as `encoding` says.
pub(crate) fn percent_encode(s: &str, encoding: Encoding, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        match (b, encoding) {
            (b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_', _)
            | (b'*', Encoding::Form)
            | (b'~', Encoding::PathSegment) => out.push(b),
            (b' ', Encoding::Form) => out.push(b'+'),
            _ => out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
        }
    }
}

/// Percent-encodes one URL path segment (everything but RFC 3986's unreserved characters), so
/// that a name can never change the path: `a/b` becomes `a%2Fb`.
pub fn encode_path_segment(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    percent_encode(s, Encoding::PathSegment, &mut out);
    // Only ASCII was pushed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings() {
        let mut form = Vec::new();
        percent_encode("a b~*/é", Encoding::Form, &mut form);
        assert_eq!(form, b"a+b%7E*%2F%C3%A9");
        assert_eq!(encode_path_segment("a b~*/é"), "a%20b~%2A%2F%C3%A9");
        assert_eq!(encode_path_segment("rg-ml_1.x"), "rg-ml_1.x");
    }
}
