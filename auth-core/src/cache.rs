//! The in-memory token cache every flow shares: lock-free hits, single flight per key, early
//! refresh that keeps serving a still-valid token when it fails.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::{AccessToken, Clock, Error, Scopes, SystemClock, TenantId};

/// After a failed early refresh, the next attempt for the same key waits this long (the still
/// valid token is served meanwhile), as azure-identity does.
pub const REFRESH_RETRY_INTERVAL_SECS: u64 = 30;

/// The fixed part of a cache key: one authority and one client. A credential builds it once.
#[derive(Clone, PartialEq, Eq)]
pub struct CachePartition {
    authority: Box<str>,
    client_id: Box<str>,
    hash: u64,
}

impl CachePartition {
    /// The partition of `client_id` at `authority` (the authority host URL).
    pub fn new(authority: &str, client_id: &str) -> Self {
        let mut h = FxHasher::default();
        h.write(authority.as_bytes());
        h.write_u8(0xff);
        h.write(client_id.as_bytes());
        Self {
            authority: authority.into(),
            client_id: client_id.into(),
            hash: h.finish(),
        }
    }
}

impl fmt::Debug for CachePartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachePartition")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .finish()
    }
}

/// A cache key: authority and client, tenant, sorted scopes, and whether the token is a CAE
/// token (CAE and non-CAE tokens never mix). Requests with claims bypass the cache lookup.
#[derive(Clone, Copy, Debug)]
pub struct CacheKey<'a> {
    /// Authority and client.
    pub partition: &'a CachePartition,
    /// The tenant the token is for.
    pub tenant: &'a TenantId,
    /// The scopes.
    pub scopes: &'a Scopes,
    /// Whether the token was asked for with client capability `cp1`.
    pub cae: bool,
}

impl CacheKey<'_> {
    fn hash(&self) -> u64 {
        let mut h = FxHasher(self.partition.hash);
        h.write(self.tenant.as_str().as_bytes());
        h.write_u64(self.scopes.fingerprint());
        h.write_u8(u8::from(self.cae));
        h.finish()
    }

    fn to_owned_key(self) -> OwnedKey {
        OwnedKey {
            partition: self.partition.clone(),
            tenant: self.tenant.clone(),
            scopes: self.scopes.clone(),
            cae: self.cae,
        }
    }
}

struct OwnedKey {
    partition: CachePartition,
    tenant: TenantId,
    scopes: Scopes,
    cae: bool,
}

impl OwnedKey {
    fn matches(&self, k: &CacheKey<'_>) -> bool {
        self.cae == k.cae
            && self.partition == *k.partition
            && self.tenant == *k.tenant
            && self.scopes == *k.scopes
    }
}

/// A cached token, copied once per stripe: each thread clones its own copy, so concurrent hits
/// do not contend on one reference count.
struct Entry {
    copies: Box<[AccessToken]>,
    refresh_at: u64,
    expires_at: u64,
}

impl Entry {
    fn new(token: &AccessToken, stripes: usize) -> Self {
        let copies = (0..stripes)
            .map(|i| {
                if i == 0 {
                    token.clone()
                } else {
                    token.deep_copy()
                }
            })
            .collect();
        Self {
            copies,
            refresh_at: token.refresh_on_unix(),
            expires_at: token.expires_on_unix(),
        }
    }

    fn pick(&self) -> AccessToken {
        self.copies[stripe() % self.copies.len()].clone()
    }
}

fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local!(static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed));
    STRIPE.with(|s| *s)
}

#[derive(Default)]
struct Flight {
    active: bool,
    generation: u64,
    outcome: Option<Result<AccessToken, Error>>,
    waiters: Vec<Waker>,
}

struct Slot {
    key: OwnedKey,
    current: ArcSwapOption<Entry>,
    flight: Mutex<Flight>,
    last_failed_refresh: AtomicU64,
}

impl Slot {
    fn flight(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self, outcome: Option<Result<AccessToken, Error>>) {
        let waiters = {
            let mut f = self.flight();
            f.active = false;
            f.generation += 1;
            f.outcome = outcome;
            std::mem::take(&mut f.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// Ends a flight when its leader is dropped before finishing (a cancelled task), so that a
/// waiter can take over.
struct Leader<'a> {
    slot: &'a Slot,
    done: bool,
}

impl Leader<'_> {
    fn complete(mut self, outcome: Result<AccessToken, Error>) {
        self.done = true;
        self.slot.finish(Some(outcome));
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.slot.finish(None);
        }
    }
}

/// Waits until the flight of `generation` ends; `None` when its leader gave up.
struct Wait<'a> {
    slot: &'a Slot,
    generation: u64,
}

impl Future for Wait<'_> {
    type Output = Option<Result<AccessToken, Error>>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut f = self.slot.flight();
        if f.generation != self.generation {
            return Poll::Ready(f.outcome.clone());
        }
        if !f.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            f.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

type SlotMap = HashMap<u64, Vec<Arc<Slot>>, BuildHasherDefault<IdentityHasher>>;

/// An in-memory token cache.
///
/// - A hit takes no lock and allocates nothing: a snapshot of the key map and the entry are read
///   through `arc-swap`, the clock is read coarsely, and the token is cloned from a per-thread
///   copy.
/// - A miss, or an expired token, fetches once however many tasks ask at the same time (single
///   flight per key); one key's fetch never blocks another key's hits. No lock is held across an
///   await.
/// - When the refresh time has come but the token is still valid, one task refreshes while the
///   others keep getting the old token; if the refresh fails, the old token is served, the
///   failure is logged, and the key is not tried again for [`REFRESH_RETRY_INTERVAL_SECS`].
/// - An expired token is never served.
pub struct TokenCache {
    map: ArcSwap<SlotMap>,
    insert: Mutex<()>,
    clock: Arc<dyn Clock>,
    stripes: usize,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: usize = self.map.load().values().map(Vec::len).sum();
        f.debug_struct("TokenCache")
            .field("keys", &keys)
            .finish_non_exhaustive()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenCache {
    /// An empty cache on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty cache on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let stripes = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        Self {
            map: ArcSwap::from_pointee(SlotMap::default()),
            insert: Mutex::new(()),
            clock,
            stripes,
        }
    }

    /// The token for `key` if one is cached and its refresh time has not come.
    pub fn get(&self, key: &CacheKey<'_>) -> Option<AccessToken> {
        let now = self.clock.now_unix_secs();
        let map = self.map.load();
        let slot = map.get(&key.hash())?.iter().find(|s| s.key.matches(key))?;
        let entry = slot.current.load();
        let entry = entry.as_ref()?;
        (now < entry.refresh_at).then(|| entry.pick())
    }

    /// Stores `token` for `key` (such as a token fetched to answer a claims challenge, which
    /// replaces the one the resource rejected).
    pub fn insert(&self, key: &CacheKey<'_>, token: &AccessToken) {
        self.slot(key)
            .current
            .store(Some(Arc::new(Entry::new(token, self.stripes))));
    }

    /// Forgets every token.
    pub fn clear(&self) {
        let _g = self.insert.lock().unwrap_or_else(|p| p.into_inner());
        self.map.store(Arc::new(SlotMap::default()));
    }

    /// The token for `key`: from the cache when fresh, else from `fetch`, run once for all
    /// concurrent callers of the key.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        key: &CacheKey<'_>,
        fetch: F,
    ) -> Result<AccessToken, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, Error>>,
    {
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        let slot = self.slot(key);
        let mut fetch = Some(fetch);
        loop {
            enum Step {
                Serve(AccessToken),
                Wait(u64),
                Lead(Option<Arc<Entry>>),
            }
            let now = self.clock.now_unix_secs();
            let step = {
                let mut flight = slot.flight();
                let current = slot.current.load_full();
                let valid = current.filter(|e| now < e.expires_at);
                match valid {
                    Some(e) if now < e.refresh_at => Step::Serve(e.pick()),
                    Some(e) if flight.active => Step::Serve(e.pick()),
                    Some(e)
                        if now
                            < slot
                                .last_failed_refresh
                                .load(Ordering::Relaxed)
                                .saturating_add(REFRESH_RETRY_INTERVAL_SECS) =>
                    {
                        Step::Serve(e.pick())
                    }
                    None if flight.active => Step::Wait(flight.generation),
                    old => {
                        flight.active = true;
                        Step::Lead(old)
                    }
                }
            };
            match step {
                Step::Serve(token) => return Ok(token),
                Step::Wait(generation) => {
                    if let Some(outcome) = (Wait {
                        slot: &slot,
                        generation,
                    })
                    .await
                    {
                        return outcome;
                    }
                }
                Step::Lead(old) => {
                    let leader = Leader {
                        slot: &slot,
                        done: false,
                    };
                    let Some(fetch) = fetch.take() else {
                        return Err(Error::new(
                            crate::ErrorKind::Service,
                            "token cache: a fetch was led twice",
                        ));
                    };
                    return match (fetch().await, old) {
                        (Ok(token), _) => {
                            slot.current
                                .store(Some(Arc::new(Entry::new(&token, self.stripes))));
                            leader.complete(Ok(token.clone()));
                            Ok(token)
                        }
                        (Err(e), Some(old)) => {
                            tracing::warn!(error = %e, "early token refresh failed; serving the cached token until it expires");
                            slot.last_failed_refresh
                                .store(self.clock.now_unix_secs(), Ordering::Relaxed);
                            let token = old.pick();
                            leader.complete(Ok(token.clone()));
                            Ok(token)
                        }
                        (Err(e), None) => {
                            leader.complete(Err(e.clone()));
                            Err(e)
                        }
                    };
                }
            }
        }
    }

    fn slot(&self, key: &CacheKey<'_>) -> Arc<Slot> {
        let hash = key.hash();
        let find = |map: &SlotMap| {
            map.get(&hash)
                .and_then(|v| v.iter().find(|s| s.key.matches(key)).cloned())
        };
        if let Some(s) = find(&self.map.load()) {
            return s;
        }
        let _g = self.insert.lock().unwrap_or_else(|p| p.into_inner());
        let map = self.map.load_full();
        if let Some(s) = find(&map) {
            return s;
        }
        let slot = Arc::new(Slot {
            key: key.to_owned_key(),
            current: ArcSwapOption::empty(),
            flight: Mutex::new(Flight::default()),
            last_failed_refresh: AtomicU64::new(0),
        });
        let mut next = (*map).clone();
        next.entry(hash).or_default().push(slot.clone());
        self.map.store(Arc::new(next));
        slot
    }
}

/// A small, fast, non-cryptographic hasher (the rustc "Fx" mix). Keys come from the process's
/// own credentials, not from an attacker, so hash flooding is not a concern.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The map is keyed by an already mixed hash.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
