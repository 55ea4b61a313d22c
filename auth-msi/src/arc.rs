//! Azure Arc's challenge (§2.4): a first GET answered 401 with
//! `WWW-Authenticate: Basic realm=<key file>`, then the same GET with `Authorization: Basic
//! <file contents>`. The key file must be a `.key` file of at most 4096 bytes directly in the
//! agent's token directory; a path the server names anywhere else is refused.

use std::path::{Path, PathBuf};

use auth_core::{Env, Error, ErrorKind, Secret};

/// The largest key file read (checked before reading).
pub const ARC_KEY_MAX_BYTES: u64 = 4096;

/// The directory the Arc agent writes its key files to on this OS, if Arc supports the OS.
pub(crate) fn default_key_directory(env: &dyn Env) -> Result<PathBuf, Error> {
    if cfg!(target_os = "linux") {
        Ok(PathBuf::from("/var/opt/azcmagent/tokens"))
    } else if cfg!(windows) {
        let data = env.var("PROGRAMDATA").ok_or_else(|| {
            Error::unavailable("Azure Arc: the PROGRAMDATA environment variable is not set")
        })?;
        Ok(Path::new(&data)
            .join("AzureConnectedMachineAgent")
            .join("Tokens"))
    } else {
        Err(Error::unavailable(
            "Azure Arc managed identity is supported on Linux and Windows only",
        ))
    }
}

/// The key file a `WWW-Authenticate` value names, checked against the allowed directory.
pub(crate) fn key_path(header: Option<&str>, allowed: &Path) -> Result<PathBuf, Error> {
    let unrecognised = || {
        Error::new(
            ErrorKind::Authentication,
            "Azure Arc answered its challenge with an unrecognizable WWW-Authenticate header (expected `Basic realm=<key file>`)",
        )
    };
    let value = header.ok_or_else(unrecognised)?;
    let parts: Vec<&str> = value.split('=').collect();
    let [scheme, path] = parts.as_slice() else {
        return Err(unrecognised());
    };
    if !scheme.trim().eq_ignore_ascii_case("basic realm") {
        return Err(unrecognised());
    }
    let path = Path::new(path.trim());
    let refuse = |why: &str| {
        Error::new(
            ErrorKind::Authentication,
            format!("Azure Arc named a key file that is refused: {why}"),
        )
        .with_hint(format!(
            "key files must be .key files directly in {}",
            allowed.display()
        ))
    };
    let name = path
        .file_name()
        .ok_or_else(|| refuse("it has no file name"))?;
    if path.extension().and_then(|e| e.to_str()) != Some("key") {
        return Err(refuse("its name does not end in .key"));
    }
    if path.parent() != Some(allowed) {
        return Err(refuse("it is not in the agent's token directory"));
    }
    // Never read a directory the server chose: the allowed one, joined with the file name.
    Ok(allowed.join(name))
}

/// Reads the key file: at most [`ARC_KEY_MAX_BYTES`], size checked before reading.
pub(crate) fn read_key(path: &Path) -> Result<Secret, Error> {
    let failed = |why: String| {
        Error::new(
            ErrorKind::Authentication,
            format!(
                "Azure Arc: cannot read the key file {}: {why}",
                path.display()
            ),
        )
        .with_hint("reading it needs root, or membership of the himds group")
    };
    let meta = std::fs::metadata(path).map_err(|e| failed(e.to_string()))?;
    if !meta.is_file() {
        return Err(failed("it is not a file".into()));
    }
    if meta.len() > ARC_KEY_MAX_BYTES {
        return Err(failed(format!(
            "it is larger than {ARC_KEY_MAX_BYTES} bytes"
        )));
    }
    let bytes =
        auth_core::fs::read_capped(path, ARC_KEY_MAX_BYTES).map_err(|e| failed(e.to_string()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| failed("it is not UTF-8 text".into()))?;
    Ok(Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_header_rules() {
        let dir = Path::new("/var/opt/azcmagent/tokens");
        assert_eq!(
            key_path(Some("Basic realm=/var/opt/azcmagent/tokens/abc.key"), dir).unwrap(),
            dir.join("abc.key")
        );
        assert!(key_path(Some("basic REALM = /var/opt/azcmagent/tokens/abc.key"), dir).is_ok());
        for bad in [
            None,
            Some("Bearer realm=/var/opt/azcmagent/tokens/abc.key"),
            Some("Basic realm=/var/opt/azcmagent/tokens/a=b.key"),
            Some("Basic realm=/etc/shadow"),
            Some("Basic realm=/tmp/abc.key"),
            Some("Basic realm=/var/opt/azcmagent/tokens/../abc.key"),
            Some("Basic realm=/var/opt/azcmagent/tokens/abc.txt"),
        ] {
            let e = key_path(bad, dir).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Authentication, "{bad:?}");
        }
    }

    #[test]
    fn key_file_size_is_checked() {
        let dir = std::env::temp_dir().join(format!("auth-msi-arc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small.key");
        std::fs::write(&small, "k3y").unwrap();
        assert_eq!(read_key(&small).unwrap().expose_secret(), "k3y");
        let big = dir.join("big.key");
        std::fs::write(&big, vec![b'a'; 4097]).unwrap();
        let e = read_key(&big).unwrap_err();
        assert!(e.message().contains("larger than 4096 bytes"), "{e}");
        let e = read_key(&dir.join("missing.key")).unwrap_err();
        assert!(e.message().contains("cannot read the key file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
