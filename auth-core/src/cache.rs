//! The in-memory token cache every flow shares: lock-free hits, single flight per key, early
//! refresh that keeps serving a still-valid token when it fails.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::hash::Hasher;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::{AccessToken, Clock, Error, Scopes, SystemClock, TenantId};

/// After a failed early refresh, the next attempt for the same key waits this long (the still
/// valid token is served meanwhile), as azure-identity does.
pub const REFRESH_RETRY_INTERVAL_SECS: u64 = 30;

/// The fixed part of a cache key: one authority and one client. A credential builds it once;
/// clones share it, and equality checks identity first, so a lookup compares no bytes.
#[derive(Clone, Eq)]
pub struct CachePartition(Arc<PartitionInner>);

#[derive(PartialEq, Eq)]
struct PartitionInner {
    authority: Box<str>,
    client_id: Box<str>,
    hash: u64,
}

impl PartialEq for CachePartition {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl CachePartition {
    /// The partition of `client_id` at `authority` (the authority host URL).
    pub fn new(authority: &str, client_id: &str) -> Self {
        let mut h = FxHasher::default();
        h.write(authority.as_bytes());
        h.write_u8(0xff);
        h.write(client_id.as_bytes());
        Self(Arc::new(PartitionInner {
            authority: authority.into(),
            client_id: client_id.into(),
            hash: h.finish(),
        }))
    }
}

impl fmt::Debug for CachePartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachePartition")
            .field("authority", &self.0.authority)
            .field("client_id", &self.0.client_id)
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
    /// Combines the parts' hashes, each computed once when the part was built.
    fn hash(&self) -> u64 {
        let mixed = self.partition.0.hash
            ^ self.tenant.fingerprint().rotate_left(21)
            ^ self.scopes.fingerprint().rotate_left(42)
            ^ u64::from(self.cae);
        mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
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
        VIEWS.with(|v| self.pick_for(v.borrow_mut().stripe()))
    }

    fn pick_for(&self, stripe: usize) -> AccessToken {
        // `copies.len()` is a power of two: a mask, not a division, on the hit path.
        self.copies[stripe & (self.copies.len() - 1)].clone()
    }
}

/// The views one thread holds of the caches it reads: a snapshot of each cache's map with the
/// generation it was taken at. A hit reads the cache's generation (a shared, read-mostly atomic)
/// and, when it has not moved, uses the thread's own snapshot: no lock, no reference count.
struct Views {
    stripe: usize,
    list: Vec<View>,
}

struct View {
    cache: u64,
    generation: u64,
    snapshot: Arc<SlotMap>,
}

/// A thread keeps views of at most this many caches; the oldest is dropped first.
const MAX_VIEWS: usize = 16;

thread_local! {
    static VIEWS: RefCell<Views> = const { RefCell::new(Views { stripe: usize::MAX, list: Vec::new() }) };
}

impl Views {
    /// This thread's stripe, given out round-robin on first use.
    fn stripe(&mut self) -> usize {
        if self.stripe == usize::MAX {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            self.stripe = NEXT.fetch_add(1, Ordering::Relaxed) % 1024;
        }
        self.stripe
    }
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
    current: Mutex<Option<Arc<Entry>>>,
    flight: Mutex<Flight>,
    last_failed_refresh: AtomicU64,
}

impl Slot {
    fn flight(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> Option<Arc<Entry>> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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

/// The published slots, each with its entry, sorted by key hash: a process has a handful of
/// keys, and a binary search over a flat array beats a hash map's probe on the hit path.
#[derive(Clone, Default)]
struct SlotMap(Vec<Published>);

/// A key's hash, its slot, and the entry readers see.
type Published = (u64, Arc<Slot>, Option<Arc<Entry>>);

impl SlotMap {
    /// The slots whose key hashes to `hash`.
    fn with_hash(&self, hash: u64) -> &[Published] {
        let start = self.0.partition_point(|(h, _, _)| *h < hash);
        let len = self.0[start..]
            .iter()
            .take_while(|(h, _, _)| *h == hash)
            .count();
        &self.0[start..start + len]
    }

    fn find(&self, hash: u64, key: &CacheKey<'_>) -> Option<&Published> {
        self.with_hash(hash)
            .iter()
            .find(|(_, s, _)| s.key.matches(key))
    }

    fn set_entry(&mut self, hash: u64, slot: &Arc<Slot>, entry: Arc<Entry>) {
        let start = self.0.partition_point(|(h, _, _)| *h < hash);
        if let Some((_, _, e)) = self.0[start..]
            .iter_mut()
            .take_while(|(h, _, _)| *h == hash)
            .find(|(_, s, _)| Arc::ptr_eq(s, slot))
        {
            *e = Some(entry);
        }
    }

    fn insert(&mut self, hash: u64, slot: Arc<Slot>) {
        let at = self.0.partition_point(|(h, _, _)| *h <= hash);
        self.0.insert(at, (hash, slot, None));
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// An in-memory token cache.
///
/// - A hit takes no lock and allocates nothing: each thread reads its own snapshot of the map
///   while the cache's generation has not moved, the clock is read coarsely, and the token is
///   cloned from a per-thread copy (so threads do not contend on one reference count). A thread
///   keeps its views of at most 16 caches; a view is replaced when the thread next reads that
///   cache after a change, so a replaced token may live on in an idle thread's view until then
///   (it is zeroed when the view goes).
/// - A miss, or an expired token, fetches once however many tasks ask at the same time (single
///   flight per key); one key's fetch never blocks another key's hits. No lock is held across an
///   await.
/// - When the refresh time has come but the token is still valid, one task refreshes while the
///   others keep getting the old token; if the refresh fails, the old token is served, the
///   failure is logged, and the key is not tried again for [`REFRESH_RETRY_INTERVAL_SECS`].
/// - An expired token is never served.
pub struct TokenCache {
    id: u64,
    generation: AtomicU64,
    /// The latest published map; the lock also serializes writers (rare: a new key, a new token).
    published: Mutex<Arc<SlotMap>>,
    clock: Arc<dyn Clock>,
    stripes: usize,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.published().0.len();
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
        // Read once per process: `available_parallelism` reads cgroup files (microseconds).
        static STRIPES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let stripes = *STRIPES.get_or_init(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 8)
                .next_power_of_two()
        });
        static IDS: AtomicU64 = AtomicU64::new(0);
        Self {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            published: Mutex::new(Arc::new(SlotMap::default())),
            clock,
            stripes,
        }
    }

    fn lock_published(&self) -> MutexGuard<'_, Arc<SlotMap>> {
        self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn published(&self) -> Arc<SlotMap> {
        self.lock_published().clone()
    }

    /// Publishes a changed map: writers copy it (keys and refreshes are rare), readers pick the
    /// new one up at their next hit.
    fn publish<R>(&self, change: impl FnOnce(&mut SlotMap) -> R) -> R {
        let mut published = self.lock_published();
        let mut next = (**published).clone();
        let result = change(&mut next);
        *published = Arc::new(next);
        self.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// Stores `entry` as the slot's current token and publishes it.
    fn store(&self, hash: u64, slot: &Arc<Slot>, entry: Arc<Entry>) {
        *slot.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(entry.clone());
        self.publish(|map| map.set_entry(hash, slot, entry));
    }

    /// The token for `key` if one is cached and its refresh time has not come.
    pub fn get(&self, key: &CacheKey<'_>) -> Option<AccessToken> {
        let now = self.clock.now_unix_secs();
        let hash = key.hash();
        VIEWS.with(|views| {
            let mut views = views.borrow_mut();
            let generation = self.generation.load(Ordering::Acquire);
            let stripe = views.stripe();
            let view = match views.list.iter().position(|v| v.cache == self.id) {
                Some(i) => &mut views.list[i],
                None => {
                    if views.list.len() >= MAX_VIEWS {
                        views.list.remove(0);
                    }
                    views.list.push(View {
                        cache: self.id,
                        generation,
                        snapshot: self.published(),
                    });
                    let last = views.list.len() - 1;
                    &mut views.list[last]
                }
            };
            if view.generation != generation {
                view.snapshot = self.published();
                view.generation = generation;
            }
            let (_, _, entry) = view.snapshot.find(hash, key)?;
            let entry = entry.as_ref()?;
            (now < entry.refresh_at).then(|| entry.pick_for(stripe))
        })
    }

    /// Stores `token` for `key` (such as a token fetched to answer a claims challenge, which
    /// replaces the one the resource rejected).
    pub fn insert(&self, key: &CacheKey<'_>, token: &AccessToken) {
        let slot = self.slot(key);
        self.store(key.hash(), &slot, Arc::new(Entry::new(token, self.stripes)));
    }

    /// Forgets every token.
    pub fn clear(&self) {
        self.publish(SlotMap::clear);
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
                let current = slot.current();
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
                            self.store(
                                key.hash(),
                                &slot,
                                Arc::new(Entry::new(&token, self.stripes)),
                            );
                            leader.complete(Ok(token.clone()));
                            Ok(token)
                        }
                        // The fetch may have outlasted the old token (retries take up to
                        // minutes): it is served only while it is still valid.
                        (Err(e), Some(old)) if self.clock.now_unix_secs() < old.expires_at => {
                            tracing::warn!(error = %e, "early token refresh failed; serving the cached token until it expires");
                            slot.last_failed_refresh
                                .store(self.clock.now_unix_secs(), Ordering::Relaxed);
                            let token = old.pick();
                            leader.complete(Ok(token.clone()));
                            Ok(token)
                        }
                        (Err(e), _) => {
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
        let find = |map: &SlotMap| map.find(hash, key).map(|(_, s, _)| s.clone());
        if let Some(s) = find(&self.published()) {
            return s;
        }
        self.publish(|map| {
            if let Some(s) = find(map) {
                return s;
            }
            let slot = Arc::new(Slot {
                key: key.to_owned_key(),
                current: Mutex::new(None),
                flight: Mutex::new(Flight::default()),
                last_failed_refresh: AtomicU64::new(0),
            });
            map.insert(hash, slot.clone());
            slot
        })
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
