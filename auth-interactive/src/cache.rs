//! The persistent cache of accounts and refresh tokens, and the in-memory store used without it.
//!
//! # File format and guarantees
//!
//! One file (by default `$XDG_CACHE_HOME/azureml-auth/interactive_cache.json`, else
//! `~/.cache/azureml-auth/…`) holding a header line `AMLAUTH-CACHE 1 <hex HMAC-SHA256>` and the
//! JSON document the HMAC covers. Beside it:
//!
//! - `<file>.key`: 32 random bytes, the HMAC key, created once (mode `0600`);
//! - `<file>.lock`: the lock file every writer holds with `flock(LOCK_EX)`.
//!
//! Every file is created with mode `0600` (the directory `0700`), never widened later; a cache
//! file readable by group or others is not trusted (it is ignored and replaced on the next
//! write). A write goes to a new temporary file in the same directory (created `0600`), is
//! `fsync`ed, renamed over the cache file, and the directory is `fsync`ed: a reader sees the
//! old or the new file, never a mix, and a writer killed mid-write leaves the old file intact
//! (its temporary file is removed by the next writer). A refresh holds the lock from reading
//! the refresh token to writing its replacement, because Entra rotates refresh tokens: two
//! processes refreshing at once take turns instead of spending the same token twice.
//!
//! The HMAC catches a torn or corrupted file and a file written by something that does not
//! know the key. The key lives in a separate file, not beside the data in the same file, so
//! a cache file copied elsewhere, or planted by a process that cannot read the key, is
//! rejected. It is not encryption: anyone who can read both files (the same user, root) can
//! read the refresh tokens, as with the Azure CLI's plaintext MSAL cache. An OS keyring is not
//! supported yet.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use auth_core::{Env, Error, ErrorKind, Secret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Largest cache file read.
const MAX_FILE: u64 = 4 * 1024 * 1024;
const MAGIC: &str = "AMLAUTH-CACHE 1 ";
const FORMAT_VERSION: u32 = 1;

/// The signed-in account, for silent sign-in later (azure-identity's `AuthenticationRecord`).
/// It holds no secret: store it where you like (see [`AuthenticationRecord::to_json`]) and hand
/// it back with [`InteractiveOptions::authentication_record`](crate::InteractiveOptions::authentication_record).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthenticationRecord {
    /// The authority host signed in at, such as `https://login.microsoftonline.com`.
    pub authority_host: String,
    /// The user's home tenant (`utid` of `client_info`, or the `tid` of the ID token).
    pub tenant_id: String,
    /// The public client signed in with.
    pub client_id: String,
    /// `{uid}.{utid}`: the account's key in the cache.
    pub home_account_id: String,
    /// The user name (`preferred_username`), for display and `login_hint`.
    pub username: String,
}

impl AuthenticationRecord {
    /// The record as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A record from [`AuthenticationRecord::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text)
            .map_err(|e| Error::configuration(format!("not an authentication record: {e}")))
    }

    fn same_account(&self, other: &Self) -> bool {
        self.home_account_id == other.home_account_id
            && self.client_id.eq_ignore_ascii_case(&other.client_id)
            && self
                .authority_host
                .eq_ignore_ascii_case(&other.authority_host)
    }
}

#[derive(serde::Serialize, serde::Deserialize, Zeroize, ZeroizeOnDrop)]
struct RtEntry {
    authority_host: String,
    client_id: String,
    home_account_id: String,
    secret: String,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Data {
    version: u32,
    /// Most recently used last.
    accounts: Vec<AuthenticationRecord>,
    refresh_tokens: Vec<RtEntry>,
}

impl Data {
    fn account(&self, wanted: &Wanted<'_>) -> Option<AuthenticationRecord> {
        self.accounts
            .iter()
            .rev()
            .find(|a| wanted.matches(a))
            .cloned()
    }

    fn refresh_token(&self, record: &AuthenticationRecord) -> Option<Secret> {
        self.refresh_tokens
            .iter()
            .find(|r| {
                r.home_account_id == record.home_account_id
                    && r.client_id.eq_ignore_ascii_case(&record.client_id)
                    && r.authority_host
                        .eq_ignore_ascii_case(&record.authority_host)
            })
            .map(|r| Secret::new(r.secret.clone()))
    }

    fn remove(&mut self, record: &AuthenticationRecord) {
        self.accounts.retain(|a| !a.same_account(record));
        self.refresh_tokens.retain(|r| {
            !(r.home_account_id == record.home_account_id
                && r.client_id.eq_ignore_ascii_case(&record.client_id)
                && r.authority_host
                    .eq_ignore_ascii_case(&record.authority_host))
        });
    }

    fn save(&mut self, record: &AuthenticationRecord, rt: Option<&Secret>) {
        let old_rt = self.refresh_token(record);
        self.remove(record);
        self.accounts.push(record.clone());
        if let Some(rt) = rt.or(old_rt.as_ref()) {
            self.refresh_tokens.push(RtEntry {
                authority_host: record.authority_host.clone(),
                client_id: record.client_id.clone(),
                home_account_id: record.home_account_id.clone(),
                secret: rt.expose_secret().to_owned(),
            });
        }
    }
}

/// Which account a credential wants.
pub(crate) struct Wanted<'a> {
    pub(crate) authority_host: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) record: Option<&'a AuthenticationRecord>,
    pub(crate) username: Option<&'a str>,
}

impl Wanted<'_> {
    fn matches(&self, a: &AuthenticationRecord) -> bool {
        if let Some(r) = self.record {
            return r.same_account(a);
        }
        a.client_id.eq_ignore_ascii_case(self.client_id)
            && a.authority_host.eq_ignore_ascii_case(self.authority_host)
            && self
                .username
                .is_none_or(|u| u.eq_ignore_ascii_case(&a.username))
    }
}

/// A persistent cache of accounts and refresh tokens in a file only its owner can read
/// (module docs of [`PersistentCache`] below: format, locking, integrity).
///
/// Share one path between credentials and processes: a sign-in in one process lets every other
/// process get tokens silently.
#[derive(Clone, Debug)]
pub struct PersistentCache {
    path: PathBuf,
}

impl PersistentCache {
    /// A cache in the file at `path` (created on first write, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The default location: `$XDG_CACHE_HOME/azureml-auth/interactive_cache.json`, else
    /// `$HOME/.cache/azureml-auth/…`, else (Windows) `%LOCALAPPDATA%\azureml-auth\…`.
    pub fn default_location(env: &dyn Env) -> Result<Self, Error> {
        let dir = env
            .var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| env.var("HOME").map(|h| Path::new(&h).join(".cache")))
            .or_else(|| env.var("LOCALAPPDATA").map(PathBuf::from))
            .ok_or_else(|| {
                Error::configuration(
                    "no cache directory: none of XDG_CACHE_HOME, HOME, LOCALAPPDATA is set",
                )
                .with_hint("give the cache an explicit path with PersistentCache::new")
            })?;
        Ok(Self::new(
            dir.join("azureml-auth").join("interactive_cache.json"),
        ))
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The accounts in the cache, most recently used last. A missing file has none; a file
    /// that fails its integrity check is an error here (the credentials ignore it instead).
    pub fn accounts(&self) -> Result<Vec<AuthenticationRecord>, Error> {
        Ok(self.read_strict()?.accounts)
    }

    /// Removes every account and refresh token (the file is rewritten empty).
    pub fn clear(&self) -> Result<(), Error> {
        let lock = self.lock()?;
        self.write(&Data::default(), &lock)
    }

    fn side_file(&self, suffix: &str) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn io_error(&self, what: &str, e: std::io::Error) -> Error {
        Error::configuration(format!(
            "the token cache {}: could not {what}: {e}",
            self.path.display()
        ))
    }

    /// Reads and verifies the file; a missing file is empty.
    fn read_strict(&self) -> Result<Data, Error> {
        let bytes = match auth_core::fs::read_capped(&self.path, MAX_FILE) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Data::default()),
            Err(e) => return Err(self.io_error("read it", e)),
        };
        check_private(&self.path).map_err(|m| self.corrupt(m))?;
        let key = match auth_core::fs::read_capped(&self.side_file(".key"), 64) {
            Ok(k) if k.len() == 32 => k,
            Ok(_) => return Err(self.corrupt("its key file is not 32 bytes".into())),
            Err(e) => return Err(self.io_error("read its key file", e)),
        };
        let split = bytes
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| self.corrupt("it has no header".into()))?;
        let header = std::str::from_utf8(&bytes[..split]).unwrap_or("");
        let mac_hex = header
            .strip_prefix(MAGIC)
            .ok_or_else(|| self.corrupt("it is not an azureml-auth cache file".into()))?;
        let mac = hex_decode(mac_hex).ok_or_else(|| self.corrupt("its HMAC is not hex".into()))?;
        let body = &bytes[split + 1..];
        let hkey = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        aws_lc_rs::hmac::verify(&hkey, body, &mac).map_err(|_| {
            self.corrupt("its HMAC does not match (torn, corrupted or tampered with)".into())
        })?;
        let data: Data = serde_json::from_slice(body)
            .map_err(|e| self.corrupt(format!("its JSON is invalid: {e}")))?;
        if data.version != FORMAT_VERSION {
            return Err(self.corrupt(format!("format version {} is not supported", data.version)));
        }
        Ok(data)
    }

    fn corrupt(&self, what: String) -> Error {
        Error::new(
            ErrorKind::Configuration,
            format!(
                "the token cache {} is not usable: {what}",
                self.path.display()
            ),
        )
        .with_hint("sign in again; the next sign-in rewrites the cache")
    }

    /// Reads the file; an unusable one counts as empty (with a warning), so a damaged cache
    /// costs a sign-in, never a failure.
    pub(crate) fn read(&self) -> Data {
        match self.read_strict() {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring the persistent token cache");
                Data::default()
            }
        }
    }

    /// Takes the writers' lock (blocking until other writers are done).
    pub(crate) fn lock(&self) -> Result<FileLock, Error> {
        create_private_dir(&self.dir()).map_err(|e| self.io_error("create its directory", e))?;
        let file = open_private(&self.side_file(".lock"), false)
            .map_err(|e| self.io_error("open its lock file", e))?;
        lock_exclusive(&file).map_err(|e| self.io_error("lock it", e))?;
        Ok(FileLock { _file: file })
    }

    /// The HMAC key, created under the lock when missing.
    fn key(&self, _lock: &FileLock) -> Result<Zeroizing<Vec<u8>>, Error> {
        let path = self.side_file(".key");
        match auth_core::fs::read_capped(&path, 64) {
            Ok(k) if k.len() == 32 => return Ok(k),
            Ok(_) => {
                tracing::warn!("the token cache key file is damaged: making a new key");
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io_error("read its key file", e)),
        }
        let key = crate::random::bytes::<32>()?;
        self.write_atomically(&path, &key[..])?;
        Ok(Zeroizing::new(key.to_vec()))
    }

    /// Writes `data` (the caller holds the lock).
    pub(crate) fn write(&self, data: &Data, lock: &FileLock) -> Result<(), Error> {
        let key = self.key(lock)?;
        let mut doc = Data {
            version: FORMAT_VERSION,
            accounts: data.accounts.clone(),
            refresh_tokens: Vec::new(),
        };
        doc.refresh_tokens = data
            .refresh_tokens
            .iter()
            .map(|r| RtEntry {
                authority_host: r.authority_host.clone(),
                client_id: r.client_id.clone(),
                home_account_id: r.home_account_id.clone(),
                secret: r.secret.clone(),
            })
            .collect();
        // Sized once, so no reallocation leaves a copy of a refresh token behind.
        let estimate = 1024
            + doc.accounts.len() * 512
            + doc
                .refresh_tokens
                .iter()
                .map(|r| 512 + 2 * r.secret.len())
                .sum::<usize>();
        let mut body = Zeroizing::new(Vec::with_capacity(estimate * 2));
        serde_json::to_writer(&mut *body, &doc)
            .map_err(|e| Error::configuration(format!("could not encode the token cache: {e}")))?;
        let hkey = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        let tag = aws_lc_rs::hmac::sign(&hkey, &body);
        let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 100));
        out.extend_from_slice(MAGIC.as_bytes());
        out.extend_from_slice(hex_encode(tag.as_ref()).as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&body);
        self.write_atomically(&self.path, &out)
    }

    /// A new file in the same directory (mode `0600`), fsynced, renamed over `target`; the
    /// directory fsynced. Leftover temporary files of killed writers are removed first (the
    /// caller holds the lock, so no other writer is active).
    fn write_atomically(&self, target: &Path, bytes: &[u8]) -> Result<(), Error> {
        let dir = self.dir();
        let prefix = format!(
            ".{}.tmp.",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let suffix: String = crate::random::bytes::<8>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let tmp = dir.join(format!("{prefix}{}.{suffix}", std::process::id()));
        let result = (|| -> std::io::Result<()> {
            let mut f = open_private(&tmp, true)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, target)?;
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|e| self.io_error("write it", e))
    }
}

/// The held writers' lock; dropping it unlocks.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

#[cfg(unix)]
fn open_private(path: &Path, create_new: bool) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut o = OpenOptions::new();
    o.read(true).write(true).mode(0o600);
    if create_new {
        o.create_new(true);
    } else {
        o.create(true);
    }
    o.custom_flags(
        rustix::fs::OFlags::NOFOLLOW.bits() as i32 | rustix::fs::OFlags::CLOEXEC.bits() as i32,
    );
    o.open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path, create_new: bool) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    if create_new {
        o.create_new(true);
    } else {
        o.create(true);
    }
    o.open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    loop {
        match rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    // Not yet: no cross-process lock off Unix (the atomic rename still protects readers).
    Ok(())
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let m = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !m.file_type().is_file() {
        return Err("it is not a regular file".into());
    }
    if m.mode() & 0o077 != 0 {
        return Err(format!(
            "its mode {:o} lets others read or write it (it must be 600)",
            m.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where a credential keeps accounts and refresh tokens: the persistent cache, or memory.
#[derive(Debug)]
pub(crate) enum Store {
    Memory(Mutex<Data>),
    File(PersistentCache),
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Data")
            .field("accounts", &self.accounts)
            .field("refresh_tokens", &self.refresh_tokens.len())
            .finish()
    }
}

impl Store {
    /// Runs `f` on the data; with a file, under the lock, on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Data) -> (T, bool) + Send + 'static,
    ) -> Result<T, Error> {
        match self {
            Store::Memory(m) => {
                let mut d = m.lock().unwrap_or_else(|p| p.into_inner());
                Ok(f(&mut d).0)
            }
            Store::File(c) => {
                let c = c.clone();
                auth_core::blocking::run(move || {
                    let lock = c.lock()?;
                    let mut d = c.read();
                    let (t, changed) = f(&mut d);
                    if changed {
                        c.write(&d, &lock)?;
                    }
                    Ok(t)
                })
                .await
            }
        }
    }

    /// The account and its refresh token.
    pub(crate) async fn find(
        &self,
        wanted: &Wanted<'_>,
    ) -> Result<Option<(AuthenticationRecord, Option<Secret>)>, Error> {
        let read = |d: &Data| {
            d.account(wanted).map(|a| {
                let rt = d.refresh_token(&a);
                (a, rt)
            })
        };
        match self {
            Store::Memory(m) => Ok(read(&m.lock().unwrap_or_else(|p| p.into_inner()))),
            Store::File(c) => {
                let c = c.clone();
                let data = auth_core::blocking::run(move || c.read()).await;
                Ok(read(&data))
            }
        }
    }

    /// Saves the account (most recent) and its new refresh token (the old one when `None`).
    pub(crate) async fn save(
        &self,
        record: AuthenticationRecord,
        rt: Option<Secret>,
    ) -> Result<(), Error> {
        self.with(move |d| {
            d.save(&record, rt.as_ref());
            ((), true)
        })
        .await
    }

    /// Forgets an account and its refresh token.
    pub(crate) async fn remove(&self, record: AuthenticationRecord) -> Result<(), Error> {
        self.with(move |d| {
            d.remove(&record);
            ((), true)
        })
        .await
    }

    /// With a file: takes the writers' lock, for a refresh (read → refresh → write).
    pub(crate) async fn lock(&self) -> Result<Option<(PersistentCache, FileLock)>, Error> {
        match self {
            Store::Memory(_) => Ok(None),
            Store::File(c) => {
                let c = c.clone();
                auth_core::blocking::run(move || c.lock().map(|l| Some((c, l)))).await
            }
        }
    }
}

/// Under a held lock: the account's current refresh token.
pub(crate) fn locked_refresh_token(
    cache: &PersistentCache,
    wanted: &Wanted<'_>,
) -> Option<(AuthenticationRecord, Option<Secret>)> {
    let d = cache.read();
    d.account(wanted).map(|a| {
        let rt = d.refresh_token(&a);
        (a, rt)
    })
}

/// Under a held lock: saves the account and its new refresh token.
pub(crate) fn locked_save(
    cache: &PersistentCache,
    lock: &FileLock,
    record: &AuthenticationRecord,
    rt: Option<&Secret>,
) -> Result<(), Error> {
    let mut d = cache.read();
    d.save(record, rt);
    cache.write(&d, lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: &str) -> AuthenticationRecord {
        AuthenticationRecord {
            authority_host: "https://login.example".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            home_account_id: format!("{n}.t"),
            username: format!("{n}@example.com"),
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("auth-interactive-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[cfg(unix)]
    #[test]
    fn round_trip_modes_and_integrity() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = temp_dir("cache");
        let c = PersistentCache::new(dir.join("sub/cache.json"));
        assert!(c.accounts().unwrap().is_empty(), "a missing file is empty");
        {
            let lock = c.lock().unwrap();
            let mut d = c.read();
            d.save(&record("a"), Some(&Secret::new("rt-a-secret")));
            d.save(&record("b"), Some(&Secret::new("rt-b")));
            c.write(&d, &lock).unwrap();
        }
        let accounts = c.accounts().unwrap();
        assert_eq!(accounts, vec![record("a"), record("b")]);
        for (p, mode) in [
            (c.path().to_path_buf(), 0o600),
            (c.side_file(".key"), 0o600),
            (c.side_file(".lock"), 0o600),
            (dir.join("sub"), 0o700),
        ] {
            let m = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, mode, "{}", p.display());
        }
        let d = c.read();
        assert_eq!(
            d.refresh_token(&record("a")).unwrap().expose_secret(),
            "rt-a-secret"
        );
        assert!(!format!("{d:?}").contains("rt-a-secret"));
        // A flipped byte fails the HMAC.
        let mut bytes = fs::read(c.path()).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        fs::write(c.path(), &bytes).unwrap();
        let e = c.accounts().unwrap_err();
        assert!(e.to_string().contains("HMAC does not match"), "{e}");
        assert!(
            c.read().accounts.is_empty(),
            "credentials treat it as empty"
        );
        // A file others can read is not trusted.
        c.clear().unwrap();
        assert!(c.accounts().unwrap().is_empty());
        fs::set_permissions(c.path(), fs::Permissions::from_mode(0o644)).unwrap();
        let e = c.accounts().unwrap_err();
        assert!(e.to_string().contains("mode 644"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn records_and_removal() {
        let mut d = Data::default();
        d.save(&record("a"), Some(&Secret::new("1")));
        d.save(&record("a"), None);
        assert_eq!(
            d.refresh_token(&record("a")).unwrap().expose_secret(),
            "1",
            "kept"
        );
        d.save(&record("a"), Some(&Secret::new("2")));
        assert_eq!(
            d.refresh_token(&record("a")).unwrap().expose_secret(),
            "2",
            "rotated"
        );
        assert_eq!(d.refresh_tokens.len(), 1);
        let w = Wanted {
            authority_host: "https://login.example",
            client_id: "C",
            record: None,
            username: Some("A@example.com"),
        };
        assert_eq!(d.account(&w), Some(record("a")));
        d.remove(&record("a"));
        assert!(d.account(&w).is_none() && d.refresh_tokens.is_empty());
        let r = record("z");
        assert_eq!(AuthenticationRecord::from_json(&r.to_json()).unwrap(), r);
        assert!(AuthenticationRecord::from_json("{}").is_err());
        assert_eq!(
            hex_decode(&hex_encode(&[0, 255, 16])).unwrap(),
            vec![0, 255, 16]
        );
    }
}
