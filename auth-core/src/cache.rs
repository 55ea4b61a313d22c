//! The in-memory token cache every flow shares: lock-free hits, single flight per key with a
//! load timeout, early refresh that keeps serving a still-valid token when it fails, and a bound
//! on the number of keys.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::hash::Hasher;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::http::{Sleep, select};
use crate::token::WeakToken;
use crate::{AccessToken, Clock, Error, ErrorKind, Pipeline, Scopes, SystemClock, TenantId};

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
    /// The tenant the token is for (`None`: no tenant, as for managed identity, or the tool's
    /// default tenant, as for the Azure CLI).
    pub tenant: Option<&'a TenantId>,
    /// The scopes.
    pub scopes: &'a Scopes,
    /// Whether the token was asked for with client capability `cp1`.
    pub cae: bool,
}

impl CacheKey<'_> {
    /// Combines the parts' hashes, each computed once when the part was built.
    fn hash(&self) -> u64 {
        let mixed = self.partition.0.hash
            ^ self
                .tenant
                .map_or(0x7e57, TenantId::fingerprint)
                .rotate_left(21)
            ^ self.scopes.fingerprint().rotate_left(42)
            ^ u64::from(self.cae);
        mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn to_owned_key(self) -> OwnedKey {
        OwnedKey {
            partition: self.partition.clone(),
            tenant: self.tenant.cloned(),
            scopes: self.scopes.clone(),
            cae: self.cae,
        }
    }
}

struct OwnedKey {
    partition: CachePartition,
    tenant: Option<TenantId>,
    scopes: Scopes,
    cae: bool,
}

impl OwnedKey {
    fn matches(&self, k: &CacheKey<'_>) -> bool {
        self.cae == k.cae
            && self.partition == *k.partition
            && self.tenant.as_ref() == k.tenant
            && self.scopes == *k.scopes
    }
}

/// The cache's own copies of a token, one per stripe. Only the slot holds them: readers see
/// [`Shown`], weak references, so that replacing, evicting or clearing a token frees it even
/// while idle threads still hold a view of the map it was in.
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
        let stripe = VIEWS.with(|v| v.borrow_mut().stripe());
        // `copies.len()` is a power of two: a mask, not a division.
        self.copies[stripe & (self.copies.len() - 1)].clone()
    }
}

/// What readers see of an [`Entry`]: each thread upgrades its own stripe's weak reference, so
/// concurrent hits do not contend on one reference count.
struct Shown {
    copies: Box<[WeakToken]>,
    refresh_at: u64,
}

impl Shown {
    fn of(entry: &Entry) -> Self {
        Self {
            copies: entry.copies.iter().map(AccessToken::downgrade).collect(),
            refresh_at: entry.refresh_at,
        }
    }
}

/// The views one thread holds of the caches it reads: a snapshot of each cache's map with the
/// generation it was taken at. A hit reads the cache's generation (a shared, read-mostly atomic)
/// and, when it has not moved, uses the thread's own snapshot: no lock.
struct Views {
    stripe: usize,
    list: Vec<View>,
}

struct View {
    cache: u64,
    generation: u64,
    snapshot: Arc<Map>,
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
    /// The token, held strongly here only.
    current: Mutex<Option<Arc<Entry>>>,
    flight: Mutex<Flight>,
    last_failed_refresh: AtomicU64,
    /// When a hit last served the key (seconds; written only when it changes): eviction drops
    /// the least recently used keys first.
    last_used: AtomicU64,
    /// How many times [`TokenCache::insert`] stored a token (a claims challenge's): a fetch that
    /// began before one does not overwrite it.
    inserts: AtomicU64,
}

impl Slot {
    fn flight(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_current(&self) -> MutexGuard<'_, Option<Arc<Entry>>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> Option<Arc<Entry>> {
        self.lock_current().clone()
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

/// A key's hash, its slot, and what readers see of its token.
#[derive(Clone)]
struct Record {
    hash: u64,
    slot: Arc<Slot>,
    shown: Option<Arc<Shown>>,
}

/// The published keys in [`SHARDS`] shards by the top bits of their hash, each sorted by hash. A
/// change copies the shard array (pointers) and the one shard it touches, never the whole map;
/// a lookup is one index and a binary search over a short flat array.
#[derive(Clone)]
struct Map {
    shards: Box<[Arc<Vec<Record>>]>,
    len: usize,
}

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

impl Map {
    fn empty() -> Self {
        let empty = Arc::new(Vec::new());
        Self {
            shards: vec![empty; SHARDS].into_boxed_slice(),
            len: 0,
        }
    }

    #[inline]
    fn shard_of(hash: u64) -> usize {
        (hash >> (64 - SHARD_BITS)) as usize
    }

    #[inline]
    fn find(&self, hash: u64, key: &CacheKey<'_>) -> Option<&Record> {
        let shard = &self.shards[Self::shard_of(hash)];
        let start = shard.partition_point(|r| r.hash < hash);
        shard[start..]
            .iter()
            .take_while(|r| r.hash == hash)
            .find(|r| r.slot.key.matches(key))
    }

    fn shard_mut(&mut self, hash: u64) -> &mut Vec<Record> {
        Arc::make_mut(&mut self.shards[Self::shard_of(hash)])
    }

    fn show(&mut self, hash: u64, slot: &Arc<Slot>, shown: Arc<Shown>) {
        let shard = self.shard_mut(hash);
        let start = shard.partition_point(|r| r.hash < hash);
        if let Some(r) = shard[start..]
            .iter_mut()
            .take_while(|r| r.hash == hash)
            .find(|r| Arc::ptr_eq(&r.slot, slot))
        {
            r.shown = Some(shown);
        }
    }

    fn insert(&mut self, hash: u64, slot: Arc<Slot>) {
        let shard = self.shard_mut(hash);
        let at = shard.partition_point(|r| r.hash <= hash);
        shard.insert(
            at,
            Record {
                hash,
                slot,
                shown: None,
            },
        );
        self.len += 1;
    }

    fn records(&self) -> impl Iterator<Item = &Record> {
        self.shards.iter().flat_map(|s| s.iter())
    }
}

/// Default bound on the number of keys a cache holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;
/// Default longest wait for a fetch (the leader's and its waiters'), when the cache has a timer.
pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// How a [`TokenCache`] is bounded and timed.
#[derive(Clone)]
pub struct CacheOptions {
    capacity: usize,
    load_timeout: Duration,
    clock: Arc<dyn Clock>,
    sleep: Option<Arc<dyn Sleep>>,
}

impl fmt::Debug for CacheOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheOptions")
            .field("capacity", &self.capacity)
            .field("load_timeout", &self.load_timeout)
            .field("timer", &self.sleep.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for CacheOptions {
    /// [`DEFAULT_CACHE_CAPACITY`] keys on the system clock, with no timer (so no load timeout).
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CACHE_CAPACITY,
            load_timeout: DEFAULT_LOAD_TIMEOUT,
            clock: Arc::new(SystemClock),
            sleep: None,
        }
    }
}

impl CacheOptions {
    /// The clock and timer of `pipeline`, with the default capacity and load timeout.
    pub fn for_pipeline(pipeline: &Pipeline) -> Self {
        Self {
            clock: pipeline.clock().clone(),
            sleep: Some(pipeline.sleeper().clone()),
            ..Self::default()
        }
    }

    /// At most `capacity` keys (at least 1): past it, the expired and then the least recently
    /// used keys go, in batches of an eighth, skipping keys whose fetch is in flight.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// A fetch that takes longer than `timeout` fails with [`ErrorKind::Timeout`], for its
    /// leader and every waiter (needs a timer: [`CacheOptions::with_timer`]).
    pub fn with_load_timeout(mut self, timeout: Duration) -> Self {
        self.load_timeout = timeout;
        self
    }

    /// With `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// With the timer the load timeout waits on.
    pub fn with_timer(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }
}

/// An in-memory token cache.
///
/// - A hit takes no lock and allocates nothing: each thread reads its own snapshot of the map
///   while the cache's generation has not moved, the clock is read coarsely, and the token comes
///   from a per-thread copy (so threads do not contend on one reference count). Snapshots hold
///   only weak references: the cache alone keeps tokens alive, so a replaced, evicted or cleared
///   token is freed (and zeroed) at once, and so is every token when the cache drops.
/// - A miss, or an expired token, fetches once however many tasks ask at the same time (single
///   flight per key); one key's fetch never blocks another key's hits. No lock is held across an
///   await. With a timer, a fetch that outlasts the load timeout fails for all of them.
/// - When the refresh time has come but the token is still valid, one task refreshes while the
///   others keep getting the old token; if the refresh fails, the old token is served, the
///   failure is logged, and the key is not tried again for [`REFRESH_RETRY_INTERVAL_SECS`].
///   A token stored by [`TokenCache::insert`] (a claims challenge's) while a fetch is in flight
///   is kept: the fetch's callers get it too.
/// - An expired token is never served.
/// - At most [`CacheOptions::with_capacity`] keys are kept; a new key costs one shard's copy.
pub struct TokenCache {
    id: u64,
    generation: AtomicU64,
    /// The latest published map; the lock also serializes writers (rare: a new key, a new token).
    published: Mutex<Arc<Map>>,
    clock: Arc<dyn Clock>,
    timer: Option<(Arc<dyn Sleep>, Duration)>,
    capacity: usize,
    stripes: usize,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("keys", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TokenCache {
    fn drop(&mut self) {
        // Idle threads' views may outlive the cache; the tokens must not.
        release(&self.lock_published());
    }
}

/// Frees every token of `map`.
fn release(map: &Map) {
    for r in map.records() {
        r.slot.lock_current().take();
    }
}

impl TokenCache {
    /// An empty cache on the system clock, with no load timeout.
    pub fn new() -> Self {
        Self::with_options(CacheOptions::default())
    }

    /// An empty cache on `clock`, with no load timeout.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self::with_options(CacheOptions::default().with_clock(clock))
    }

    /// An empty cache on the clock and timer of `pipeline`, with the default load timeout.
    pub fn for_pipeline(pipeline: &Pipeline) -> Self {
        Self::with_options(CacheOptions::for_pipeline(pipeline))
    }

    /// An empty cache as `options` say.
    pub fn with_options(options: CacheOptions) -> Self {
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
            published: Mutex::new(Arc::new(Map::empty())),
            clock: options.clock,
            timer: options.sleep.map(|s| (s, options.load_timeout)),
            capacity: options.capacity.max(1),
            stripes,
        }
    }

    /// How many keys the cache holds.
    pub fn len(&self) -> usize {
        self.lock_published().len
    }

    /// Whether the cache holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock_published(&self) -> MutexGuard<'_, Arc<Map>> {
        self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn published(&self) -> Arc<Map> {
        self.lock_published().clone()
    }

    /// Publishes a changed map: writers copy the shard array and the shards they change,
    /// readers pick the new map up at their next hit.
    fn publish<R>(&self, change: impl FnOnce(&mut Map) -> R) -> R {
        let mut published = self.lock_published();
        let result = change(Arc::make_mut(&mut published));
        self.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// Stores `token` as the slot's current token and publishes it, unless a token was
    /// inserted since `inserts` was read (then that one is kept, and returned).
    fn store(
        &self,
        hash: u64,
        slot: &Arc<Slot>,
        token: &AccessToken,
        inserts: Option<u64>,
    ) -> Option<Arc<Entry>> {
        let entry = Arc::new(Entry::new(token, self.stripes));
        let shown = Arc::new(Shown::of(&entry));
        {
            let mut current = slot.lock_current();
            if let Some(seen) = inserts
                && slot.inserts.load(Ordering::Acquire) != seen
            {
                return current.clone();
            }
            *current = Some(entry);
        }
        self.publish(|map| map.show(hash, slot, shown));
        None
    }

    /// The token for `key` if one is cached and its refresh time has not come.
    #[inline]
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
            let record = view.snapshot.find(hash, key)?;
            let shown = record.shown.as_ref()?;
            if now >= shown.refresh_at {
                return None;
            }
            let token = shown.copies[stripe & (shown.copies.len() - 1)].upgrade()?;
            if record.slot.last_used.load(Ordering::Relaxed) != now {
                record.slot.last_used.store(now, Ordering::Relaxed);
            }
            Some(token)
        })
    }

    /// Stores `token` for `key` (such as a token fetched to answer a claims challenge, which
    /// replaces the one the resource rejected). A fetch for `key` already in flight does not
    /// overwrite it.
    pub fn insert(&self, key: &CacheKey<'_>, token: &AccessToken) {
        let slot = self.slot(key);
        let entry = Arc::new(Entry::new(token, self.stripes));
        let shown = Arc::new(Shown::of(&entry));
        {
            let mut current = slot.lock_current();
            slot.inserts.fetch_add(1, Ordering::AcqRel);
            *current = Some(entry);
        }
        self.publish(|map| map.show(key.hash(), &slot, shown));
    }

    /// Forgets every token, and frees each at once.
    pub fn clear(&self) {
        self.publish(|map| {
            release(map);
            *map = Map::empty();
        });
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
        // One deadline for the whole call: waiting for another task's fetch, and leading one
        // when that task gives up, together take at most the load timeout.
        self.timed(Box::pin(self.load(key, fetch)))
            .await
            .and_then(|r| r)
    }

    /// [`TokenCache::get_or_fetch`] past its hit: wait for a fetch in flight, or lead one.
    async fn load<F, Fut>(&self, key: &CacheKey<'_>, fetch: F) -> Result<AccessToken, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, Error>>,
    {
        let slot = self.slot(key);
        let mut fetch = Some(fetch);
        loop {
            enum Step {
                Serve(AccessToken),
                Wait(u64),
                Lead(Option<Arc<Entry>>, u64),
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
                        Step::Lead(old, slot.inserts.load(Ordering::Acquire))
                    }
                }
            };
            match step {
                Step::Serve(token) => return Ok(token),
                Step::Wait(generation) => {
                    let wait = Wait {
                        slot: &slot,
                        generation,
                    };
                    if let Some(outcome) = wait.await {
                        return outcome;
                    }
                }
                Step::Lead(old, inserts) => {
                    let leader = Leader {
                        slot: &slot,
                        done: false,
                    };
                    let Some(fetch) = fetch.take() else {
                        return Err(Error::new(
                            ErrorKind::Service,
                            "token cache: a fetch was led twice",
                        ));
                    };
                    let fetched = fetch().await;
                    return match (fetched, old) {
                        (Ok(token), _) => {
                            let token = match self.store(key.hash(), &slot, &token, Some(inserts)) {
                                // A claims token came in meanwhile: it is what the resource
                                // asked for, so every caller gets it.
                                Some(inserted) => inserted.pick(),
                                None => token,
                            };
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

    /// `work`, bounded by the load timeout when the cache has a timer.
    async fn timed<T>(&self, work: impl Future<Output = T> + Unpin) -> Result<T, Error> {
        let Some((sleep, timeout)) = &self.timer else {
            return Ok(work.await);
        };
        select(work, sleep.sleep(*timeout)).await.ok_or_else(|| {
            Error::new(
                ErrorKind::Timeout,
                format!(
                    "getting a token took longer than {} s (the token cache's load timeout)",
                    timeout.as_secs_f64()
                ),
            )
            .with_hint("the token service or tool did not answer; check the network path, or raise the load timeout")
        })
    }

    fn slot(&self, key: &CacheKey<'_>) -> Arc<Slot> {
        let hash = key.hash();
        if let Some(r) = self.published().find(hash, key) {
            return r.slot.clone();
        }
        let now = self.clock.now_unix_secs();
        self.publish(|map| {
            if let Some(r) = map.find(hash, key) {
                return r.slot.clone();
            }
            let slot = Arc::new(Slot {
                key: key.to_owned_key(),
                current: Mutex::new(None),
                flight: Mutex::new(Flight::default()),
                last_failed_refresh: AtomicU64::new(0),
                last_used: AtomicU64::new(now),
                inserts: AtomicU64::new(0),
            });
            map.insert(hash, slot.clone());
            if map.len > self.capacity {
                self.evict(map, now, &slot);
            }
            slot
        })
    }

    /// Drops keys down to seven eighths of the capacity: expired (or empty) keys first, then the
    /// least recently used; never `keep` and never a key whose fetch is in flight.
    fn evict(&self, map: &mut Map, now: u64, keep: &Arc<Slot>) {
        let target = self.capacity - self.capacity / 8;
        let excess = map.len.saturating_sub(target);
        let mut candidates: Vec<(bool, u64, *const Slot)> = map
            .records()
            .filter(|r| !Arc::ptr_eq(&r.slot, keep) && !r.slot.flight().active)
            .map(|r| {
                let live = r.slot.current().is_some_and(|e| now < e.expires_at);
                (
                    live,
                    r.slot.last_used.load(Ordering::Relaxed),
                    Arc::as_ptr(&r.slot),
                )
            })
            .collect();
        if excess == 0 || candidates.is_empty() {
            return;
        }
        let excess = excess.min(candidates.len());
        candidates.select_nth_unstable_by_key(excess - 1, |&(live, used, _)| (live, used));
        let mut victims: Vec<*const Slot> = candidates[..excess].iter().map(|c| c.2).collect();
        victims.sort_unstable();
        let is_victim = |r: &Record| victims.binary_search(&Arc::as_ptr(&r.slot)).is_ok();
        for shard in map.shards.iter_mut() {
            if shard.iter().any(is_victim) {
                let shard = Arc::make_mut(shard);
                shard.retain(|r| {
                    if is_victim(r) {
                        r.slot.lock_current().take();
                        false
                    } else {
                        true
                    }
                });
            }
        }
        map.len -= excess;
        tracing::debug!(
            evicted = excess,
            keys = map.len,
            "token cache over capacity"
        );
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::{Scopes, Secret, TokenType};

    fn token(text: &str) -> AccessToken {
        AccessToken::from_lifetime(
            Secret::new(text),
            TokenType::Bearer,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(3600),
            None,
        )
    }

    #[derive(Debug)]
    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> std::time::SystemTime {
            UNIX_EPOCH + Duration::from_secs(1_700_000_100)
        }
    }

    /// Weak references to the copies the cache hands out on this thread and on another one
    /// (each thread reads its own stripe's copy through its own view of the map).
    fn served_copies(cache: &Arc<TokenCache>, scopes: &Scopes) -> Vec<WeakToken> {
        let partition = CachePartition::new("https://login.example", "client");
        let key = CacheKey {
            partition: &partition,
            tenant: None,
            scopes,
            cae: false,
        };
        cache.insert(&key, &token("secret-token"));
        let here = cache.get(&key).unwrap().downgrade();
        let there = {
            let cache = cache.clone();
            let scopes = scopes.clone();
            std::thread::spawn(move || {
                let key = CacheKey {
                    partition: &partition,
                    tenant: None,
                    scopes: &scopes,
                    cae: false,
                };
                cache.get(&key).unwrap().downgrade()
            })
            .join()
            .unwrap()
        };
        vec![here, there]
    }

    #[test]
    fn clear_and_drop_free_every_copy_even_while_threads_hold_views() {
        let scopes = Scopes::for_resource("https://ml.azure.com").unwrap();
        let cache = Arc::new(TokenCache::with_clock(Arc::new(Fixed)));
        let copies = served_copies(&cache, &scopes);
        assert!(
            copies.iter().all(|c| c.upgrade().is_some()),
            "the cache holds them"
        );
        cache.clear();
        assert!(
            copies.iter().all(|c| c.upgrade().is_none()),
            "clear frees them"
        );

        let copies = served_copies(&cache, &scopes);
        drop(Arc::into_inner(cache).expect("no other owner"));
        assert!(
            copies.iter().all(|c| c.upgrade().is_none()),
            "drop frees them"
        );
    }

    #[test]
    fn eviction_and_replacement_free_the_old_copies() {
        let scopes = Scopes::for_resource("https://ml.azure.com").unwrap();
        let cache = Arc::new(TokenCache::with_options(
            CacheOptions::default()
                .with_clock(Arc::new(Fixed))
                .with_capacity(1),
        ));
        let first = served_copies(&cache, &scopes);
        let replaced = served_copies(&cache, &scopes);
        assert!(
            first.iter().all(|c| c.upgrade().is_none()),
            "a replaced token is freed"
        );
        let other = Scopes::for_resource("https://management.azure.com").unwrap();
        let _kept = served_copies(&cache, &other);
        assert_eq!(cache.len(), 1);
        assert!(
            replaced.iter().all(|c| c.upgrade().is_none()),
            "an evicted token is freed"
        );
    }
}
