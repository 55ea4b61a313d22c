//! Helpers every flow could use, kept apart so that they can move to `auth-core` as they are:
//! strict boolean variables, text files in UTF-8 or UTF-16, and
//! random UUIDs for `jti`.

use std::fmt;
use std::path::Path;

use auth_core::Error;
use zeroize::Zeroizing;

/// `e` with the path it is about appended to its message; kind, hint and status are kept.
pub(crate) fn at_path(e: Error, path: &Path) -> Error {
    let mut out = Error::new(e.kind(), format!("{} ({})", e.message(), ShownPath(path)));
    if let Some(h) = e.hint() {
        out = out.with_hint(h.to_owned());
    }
    if let Some(s) = e.status() {
        out = out.with_status(s);
    }
    out
}

pub(crate) use auth_core::env_flag;

/// Decodes a text file written as UTF-8 (with or without a byte-order mark) or UTF-16 (with a
/// byte-order mark, or little-endian without one, as PowerShell's `>` writes it).
pub(crate) fn decode_text(bytes: &[u8]) -> Option<String> {
    fn utf16(bytes: &[u8], little: bool) -> Option<String> {
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        let units = bytes.chunks_exact(2).map(|c| {
            if little {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        // Sized up front (a UTF-16 unit is at most 3 UTF-8 bytes) and zeroed if decoding stops
        // half-way: growth or an early return would leave unzeroed copies behind.
        let mut text = Zeroizing::new(String::with_capacity(bytes.len() / 2 * 3));
        for c in char::decode_utf16(units) {
            text.push(c.ok()?);
        }
        Some(std::mem::take(&mut *text))
    }
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [a, 0, ..] if *a != 0 => utf16(bytes, true),
        [0, b, ..] if *b != 0 => utf16(bytes, false),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// A path from a variable or an argument, for errors and `Debug`: shown as is unless the value
/// looks like the file's content instead of its path (PEM, JSON, a JWT, base64 DER, several
/// lines), a common mistake with `AZURE_CLIENT_CERTIFICATE_PATH`, `AZURE_FEDERATED_TOKEN_FILE`
/// and `AZURE_AUTH_LOCATION` in CI. Such a value may be a key, a client secret or a token, so it
/// is never shown.
pub(crate) struct ShownPath<'a>(pub(crate) &'a Path);

impl ShownPath<'_> {
    /// Whether the value looks like file content (maybe a secret) rather than a path.
    pub(crate) fn looks_like_content(&self) -> bool {
        let text = self.0.to_string_lossy();
        let t = text.trim_start();
        text.len() > 1024
            || text.contains(['\n', '\r'])
            || text.contains("-----BEGIN")
            || t.starts_with('{')
            || t.starts_with("eyJ")
            || t.starts_with("MII")
    }
}

impl fmt::Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.looks_like_content() {
            f.write_str("(a value that looks like the file's content, not its path; not shown)")
        } else {
            fmt::Display::fmt(&self.0.display(), f)
        }
    }
}

impl fmt::Debug for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.looks_like_content() {
            f.write_str("[not a path: redacted]")
        } else {
            fmt::Debug::fmt(self.0, f)
        }
    }
}

/// The most bytes read from a certificate, federated token or sdk-auth file (each is a few KiB).
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a small file that may hold a secret, at most [`MAX_FILE_BYTES`]
/// ([`auth_core::fs::read_capped`]).
pub(crate) fn read_secret_file(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    auth_core::fs::read_capped(path, MAX_FILE_BYTES)
}

/// A random (version 4) UUID from the operating system's generator, for a `jti`.
#[cfg(feature = "certificate")]
pub(crate) fn random_uuid() -> Result<String, Error> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| {
        Error::new(
            auth_core::ErrorKind::Configuration,
            "the system random number generator failed",
        )
    })?;
    Ok(auth_core::entra::format_uuid_v4(b))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use auth_core::ErrorKind;

    use super::*;

    fn check_flag(value: &str, expected: Result<Option<bool>, ()>) {
        let env: HashMap<&'static str, &'static str> =
            [("F", Box::leak(value.to_owned().into_boxed_str()) as &str)].into();
        let got = env_flag(&env, "F").map_err(|e| {
            assert_eq!(e.kind(), ErrorKind::Configuration);
            assert!(e.to_string().contains("F is"), "{e}");
        });
        assert_eq!(got, expected, "{value:?}");
    }

    #[test]
    fn strict_flags() {
        check_flag("", Ok(None));
        check_flag("true", Ok(Some(true)));
        check_flag("TRUE", Ok(Some(true)));
        check_flag("1", Ok(Some(true)));
        check_flag(" 1 ", Ok(Some(true)));
        check_flag("false", Ok(Some(false)));
        check_flag("0", Ok(Some(false)));
        check_flag("yes", Err(()));
        check_flag("on", Err(()));
        check_flag("2", Err(()));
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn text_decoding() {
        let s = "{\"clientId\":\"é\"}";
        assert_eq!(decode_text(s.as_bytes()).as_deref(), Some(s));
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend_from_slice(s.as_bytes());
        assert_eq!(decode_text(&bom8).as_deref(), Some(s));
        assert_eq!(decode_text(&utf16le(s, true)).as_deref(), Some(s));
        assert_eq!(decode_text(&utf16le(s, false)).as_deref(), Some(s));
        let mut be = vec![0xFE, 0xFF];
        be.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_text(&be).as_deref(), Some(s));
        assert_eq!(decode_text(&[0xFF, 0xFE, 0x00]), None);
        assert_eq!(decode_text(&[0xC3, 0x28]), None);
        assert_eq!(decode_text(b"").as_deref(), Some(""));
    }

    #[test]
    fn content_is_not_shown_as_a_path() {
        for path in [
            "/var/run/secrets/azure/tokens/azure-identity-token",
            "cert.pem",
            "C:\\certs\\sp.pfx",
            "\"C:\\certs\\quoted by mistake.pem\"",
        ] {
            assert_eq!(ShownPath(Path::new(path)).to_string(), path);
            assert_eq!(
                format!("{:?}", ShownPath(Path::new(path))),
                format!("{path:?}")
            );
        }
        for content in [
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
            r#"{"clientId": "c", "clientSecret": "s3cret"}"#,
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
            "MIIKYQIBAzCCCicGCSqGSIb3DQEHAaCCChgEggoUMIIKEDCCBMcGCSqGSIb3DQEHBqCCBLgwggS0",
            "line one\nline two",
        ] {
            let shown = ShownPath(Path::new(content));
            assert!(shown.to_string().contains("not shown"), "{content}");
            assert_eq!(format!("{shown:?}"), "[not a path: redacted]");
        }
    }

    #[cfg(unix)]
    #[test]
    fn endless_files_are_refused() {
        let e = read_secret_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[cfg(feature = "certificate")]
    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = random_uuid().unwrap();
        let b = random_uuid().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_eq!(a.matches('-').count(), 4);
    }
}
