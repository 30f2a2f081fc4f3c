//! What keeps authentication cheap for friends and slow for guessers: the cache of successful
//! password checks, the count of failures per client, and the bound on Argon2 runs at once.
//!
//! Cost: a cache look-up is one HMAC-SHA-256 of the header and one hash-map look-up; a
//! throttle check is one hash-map look-up plus O(failures in the window) to drop old ones.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// Most cached verifications kept; when full, expired ones go, then all of them.
const MAX_CACHED: usize = 4096;
/// Most clients whose failures are counted at once; when full, those whose failures are all
/// past go, then the one whose last failure is oldest.
const MAX_CLIENTS: usize = 65_536;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Successful Basic verifications, keyed by an HMAC of the whole header value under a key
/// drawn at start: the cache holds no password nor anything that tests one offline, and its
/// keys say nothing to whoever times the look-up.
pub(crate) struct Cache {
    /// One SHA-256 block: HMAC's own key size.
    key: [u8; 64],
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], Cached>>,
}

struct Cached {
    user: String,
    /// The version of the file the password was checked against.
    generation: u64,
    expires: Instant,
}

impl Cache {
    pub(crate) fn new(key: [u8; 64], ttl: Duration) -> Cache {
        Cache {
            key,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn key_of(&self, header: &str) -> [u8; 32] {
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new(&self.key.into());
        mac.update(header.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The user whose credentials hash to `key`, when they were checked against file version
    /// `generation` less than the time to live ago.
    pub(crate) fn get(&self, key: &[u8; 32], generation: u64, now: Instant) -> Option<String> {
        let entries = lock(&self.entries);
        let hit = entries.get(key)?;
        (hit.generation == generation && hit.expires > now).then(|| hit.user.clone())
    }

    pub(crate) fn insert(&self, key: [u8; 32], user: &str, generation: u64, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_CACHED && !entries.contains_key(&key) {
            entries.retain(|_, e| e.generation == generation && e.expires > now);
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Cached {
                user: user.to_string(),
                generation,
                expires: now + self.ttl,
            },
        );
    }

    pub(crate) fn clear(&self) {
        lock(&self.entries).clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.entries).len()
    }
}

/// Failed attempts per client in a sliding window.
pub(crate) struct Throttle {
    max_failures: usize,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

/// The address failures are counted under: IPv4 addresses as they are (IPv4-mapped IPv6 ones
/// as IPv4), IPv6 addresses by their /64, which one host usually has whole.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

impl Throttle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Throttle {
        Throttle {
            max_failures: max_failures as usize,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn disabled(&self) -> bool {
        self.max_failures == 0 || self.window.is_zero()
    }

    /// `Err(retry after)` when `client` has had too many failures in the window.
    pub(crate) fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.disabled() {
            return Ok(());
        }
        let mut clients = lock(&self.clients);
        let Some(failures) = clients.get_mut(&client) else {
            return Ok(());
        };
        while failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            failures.pop_front();
        }
        if failures.is_empty() {
            clients.remove(&client);
            return Ok(());
        }
        if failures.len() >= self.max_failures {
            // The window passes when the oldest failure in it leaves.
            let oldest = failures[failures.len() - self.max_failures];
            let retry = (oldest + self.window).saturating_duration_since(now);
            return Err(retry.max(Duration::from_millis(1)));
        }
        Ok(())
    }

    /// Counts a failure of `client` at `now`.
    pub(crate) fn fail(&self, client: IpAddr, now: Instant) {
        if self.disabled() {
            return;
        }
        let mut clients = lock(&self.clients);
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&client) {
            let window = self.window;
            clients.retain(|_, f| {
                f.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < window)
            });
            if clients.len() >= MAX_CLIENTS {
                let stalest = clients
                    .iter()
                    .min_by_key(|(_, f)| f.back().copied())
                    .map(|(ip, _)| *ip);
                if let Some(ip) = stalest {
                    clients.remove(&ip);
                }
            }
        }
        let failures = clients.entry(client).or_default();
        failures.push_back(now);
        // Only the last `max_failures` matter.
        while failures.len() > self.max_failures {
            failures.pop_front();
        }
    }
}

/// A counting semaphore bounding how many Argon2 runs (each taking its memory cost) happen at
/// once.
pub(crate) struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

pub(crate) struct Permit<'a>(&'a Permits);

impl Permits {
    pub(crate) fn new(count: usize) -> Permits {
        Permits {
            free: Mutex::new(count.max(1)),
            freed: Condvar::new(),
        }
    }

    /// Waits for a permit.
    pub(crate) fn acquire(&self) -> Permit<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_entries_for_their_generation_and_time() {
        let cache = Cache::new([7; 64], Duration::from_secs(60));
        let now = Instant::now();
        let k = cache.key_of("Basic abc");
        assert_ne!(k, cache.key_of("Basic abd"));
        // Another process key gives other cache keys.
        assert_ne!(
            k,
            Cache::new([8; 64], Duration::from_secs(60)).key_of("Basic abc")
        );
        assert_eq!(cache.get(&k, 1, now), None);
        cache.insert(k, "anna", 1, now);
        assert_eq!(cache.get(&k, 1, now).as_deref(), Some("anna"));
        assert_eq!(cache.get(&k, 2, now), None);
        assert_eq!(cache.get(&k, 1, now + Duration::from_secs(61)), None);
        cache.clear();
        assert_eq!(cache.get(&k, 1, now), None);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = Cache::new([7; 64], Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..MAX_CACHED + 10 {
            cache.insert(cache.key_of(&i.to_string()), "anna", 1, now);
        }
        assert!(cache.len() <= MAX_CACHED);
    }

    #[test]
    fn the_throttle_counts_a_sliding_window() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        t.fail(ip, t0);
        t.fail(ip, t0 + s(10));
        assert_eq!(t.check(ip, t0 + s(11)), Ok(()));
        t.fail(ip, t0 + s(20));
        // Three failures: refused until the first leaves the window.
        assert_eq!(t.check(ip, t0 + s(21)), Err(s(39)));
        assert_eq!(t.check(other, t0 + s(21)), Ok(()));
        assert_eq!(t.check(ip, t0 + s(60)), Ok(()));
        // A failure right then fills the window again until the second leaves it.
        t.fail(ip, t0 + s(60));
        assert_eq!(t.check(ip, t0 + s(61)), Err(s(9)));
        assert_eq!(t.check(ip, t0 + s(200)), Ok(()));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_throttle_stays_bounded() {
        let t = Throttle::new(5, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..MAX_CLIENTS as u32 + 10 {
            t.fail(IpAddr::V4(i.into()), now);
        }
        assert!(lock(&t.clients).len() <= MAX_CLIENTS);
    }

    #[test]
    fn permits_bound_the_runs_at_once() {
        let permits = std::sync::Arc::new(Permits::new(2));
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (permits, running, most) = (permits.clone(), running.clone(), most.clone());
                std::thread::spawn(move || {
                    let _p = permits.acquire();
                    let n = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
