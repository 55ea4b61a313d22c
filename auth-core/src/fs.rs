//! Reading the small files credentials and configs come from.

use std::io::{self, Read as _};
use std::path::Path;

use zeroize::Zeroizing;

/// Reads at most `max` bytes of the file at `path`. A longer file — or a device such as
/// `/dev/zero` that never ends, or a file that grew since it was measured — is an error of kind
/// [`io::ErrorKind::FileTooLarge`] instead of a read that never stops.
///
/// The buffer is sized once (from the file's size, or `max` when the size is unknown, as for
/// pipes and `/proc` files) and zeroed when dropped, so a file holding a secret leaves no copy
/// behind in freed memory.
pub fn read_capped(path: &Path, max: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let hint = match file.metadata().map_or(0, |m| m.len()) {
        0 => max,
        n => n.min(max),
    };
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        usize::try_from(hint).unwrap_or(0).saturating_add(1),
    ));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn endless_files_are_refused() {
        let e = read_capped(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("larger than 1024 bytes"), "{e}");
    }

    #[test]
    fn small_files_are_read_whole() {
        let path = std::env::temp_dir().join(format!("auth-core-fs-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(&read_capped(&path, 10).unwrap()[..], b"0123456789");
        assert_eq!(
            read_capped(&path, 9).unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
        std::fs::remove_file(&path).unwrap();
    }
}
