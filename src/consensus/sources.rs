//! Who sent bad proofs: a network source (IP address) whose submissions carried too many
//! invalid proofs lately is refused for a while.
//!
//! Verifying a Groth16 proof costs the validator about a millisecond of CPU; making a garbage
//! proof of valid points costs the sender next to nothing. Under a flood, admission verifies
//! every proof (see `Admission::DeferProofs`), so the flood would take the CPU from honest
//! submitters. A source that sent `max_bad` invalid proofs within `window_ms` (found at
//! admission or when its transactions' block was built) is refused without any check for
//! `ban_ms` (`Busy`, HTTP 429 with `Retry-After`). And trust is earned: until a source has
//! had [`TRUSTED_AFTER`] proofs verified good, its proofs are verified at admission even when
//! proofs are otherwise deferred to the block, so garbage from a new address is caught (and
//! the address refused) before any of it reaches the mempool. Institutions stay anonymous on
//! the ledger; the validator sees their network address anyway, and uses it only here, in
//! memory.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Proofs a source must have had verified good before its proofs may be deferred.
pub const TRUSTED_AFTER: u32 = 3;

/// Most sources remembered; past it the oldest-seen are forgotten (a flood from many
/// addresses cannot exhaust memory, it only shortens what is remembered).
const MAX_SOURCES: usize = 100_000;

#[derive(Default)]
struct Record {
    /// Times of recent bad proofs, oldest first.
    bad: VecDeque<u64>,
    /// Refused until this time (ms since the epoch).
    banned_until: u64,
    /// Last time anything was recorded (for forgetting).
    seen: u64,
    /// Proofs verified good since the last bad one.
    good: u32,
}

/// The key a source is tracked under: an IPv4 address, or an IPv6 address's /64 prefix (one
/// host commonly holds a whole /64, so per-address keys would give it endless fresh ones).
fn key(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V4(_) => source,
        IpAddr::V6(v6) => {
            let mut o = v6.octets();
            o[8..].fill(0);
            IpAddr::from(o)
        }
    }
}

/// The bad-proof record of each source.
pub struct SourceLimiter {
    max_bad: usize,
    window_ms: u64,
    ban_ms: u64,
    records: HashMap<IpAddr, Record>,
}

impl SourceLimiter {
    /// A limiter banning a source for `ban_ms` once it sent `max_bad` bad proofs within
    /// `window_ms`.
    pub fn new(max_bad: usize, window_ms: u64, ban_ms: u64) -> Self {
        SourceLimiter {
            max_bad: max_bad.max(1),
            window_ms,
            ban_ms,
            records: HashMap::new(),
        }
    }

    /// `Err(seconds to wait)` while `source` is banned at `now_ms`.
    pub fn check(&self, source: IpAddr, now_ms: u64) -> Result<(), u32> {
        match self.records.get(&key(source)) {
            Some(r) if r.banned_until > now_ms => {
                Err((r.banned_until - now_ms).div_ceil(1000).max(1) as u32)
            }
            _ => Ok(()),
        }
    }

    /// Whether `source` has had [`TRUSTED_AFTER`] proofs verified good since its last bad one.
    pub fn trusted(&self, source: IpAddr) -> bool {
        self.records
            .get(&key(source))
            .is_some_and(|r| r.good >= TRUSTED_AFTER)
    }

    /// Records a proof from `source` verified good at `now_ms`.
    pub fn good_proof(&mut self, source: IpAddr, now_ms: u64) {
        let r = self.record(source, now_ms);
        r.good = r.good.saturating_add(1);
    }

    fn record(&mut self, source: IpAddr, now_ms: u64) -> &mut Record {
        let source = key(source);
        if self.records.len() >= MAX_SOURCES && !self.records.contains_key(&source) {
            self.forget_oldest(now_ms);
        }
        let r = self.records.entry(source).or_default();
        r.seen = now_ms;
        r
    }

    /// Records a bad proof from `source` at `now_ms`; bans it when it reaches the limit.
    pub fn bad_proof(&mut self, source: IpAddr, now_ms: u64) {
        let (window_ms, max_bad, ban_ms) = (self.window_ms, self.max_bad, self.ban_ms);
        let r = self.record(source, now_ms);
        r.good = 0;
        r.bad.push_back(now_ms);
        while r
            .bad
            .front()
            .is_some_and(|t| t.saturating_add(window_ms) < now_ms)
        {
            r.bad.pop_front();
        }
        if r.bad.len() >= max_bad {
            r.banned_until = now_ms.saturating_add(ban_ms);
            r.bad.clear();
        }
    }

    /// Forgets the older half of the records, but never a ban still running: cycling through
    /// fresh addresses must not lift the bans of earlier ones.
    fn forget_oldest(&mut self, now_ms: u64) {
        let mut seen: Vec<u64> = self.records.values().map(|r| r.seen).collect();
        let cut = seen.len() / 2;
        let (_, median, _) = seen.select_nth_unstable(cut);
        let median = *median;
        self.records
            .retain(|_, r| r.seen > median || r.banned_until > now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_banned_after_the_limit_and_released_after_the_ban() {
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 1].into();
        let mut l = SourceLimiter::new(3, 10_000, 60_000);
        l.bad_proof(a, 1_000);
        l.bad_proof(a, 2_000);
        assert_eq!(l.check(a, 2_000), Ok(()), "under the limit");
        l.bad_proof(a, 3_000);
        assert_eq!(l.check(a, 3_000), Err(60));
        assert_eq!(l.check(a, 62_500), Err(1));
        assert_eq!(l.check(a, 63_000), Ok(()));
        assert_eq!(l.check(b, 3_000), Ok(()), "another source is not affected");
    }

    #[test]
    fn trust_is_earned_by_good_proofs_and_lost_by_a_bad_one() {
        let a: IpAddr = [127, 0, 0, 1].into();
        let mut l = SourceLimiter::new(3, 10_000, 60_000);
        for _ in 0..TRUSTED_AFTER {
            assert!(!l.trusted(a));
            l.good_proof(a, 1);
        }
        assert!(l.trusted(a));
        l.bad_proof(a, 2);
        assert!(!l.trusted(a));
    }

    #[test]
    fn bad_proofs_spread_wider_than_the_window_do_not_ban() {
        let a: IpAddr = [10, 0, 0, 1].into();
        let mut l = SourceLimiter::new(3, 10_000, 60_000);
        for t in [0, 11_000, 22_000, 33_000] {
            l.bad_proof(a, t);
        }
        assert_eq!(l.check(a, 33_000), Ok(()));
    }

    #[test]
    fn an_ipv6_host_cannot_escape_a_ban_by_changing_its_interface_id() {
        let mut l = SourceLimiter::new(2, 10_000, 60_000);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff:1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        l.bad_proof(a, 1);
        l.bad_proof(b, 2);
        assert!(l.check(a, 3).is_err() && l.check(b, 3).is_err());
        assert!(l.check(other, 3).is_ok(), "another /64");
    }

    #[test]
    fn cycling_fresh_addresses_does_not_lift_a_ban() {
        let mut l = SourceLimiter::new(1, 10_000, 60_000);
        let banned: IpAddr = [192, 0, 2, 1].into();
        l.bad_proof(banned, 0);
        for i in 0..(MAX_SOURCES as u32 + 10) {
            l.good_proof(
                IpAddr::from(((i + 1) << 8).to_be_bytes()),
                1 + i as u64 / 1000,
            );
        }
        assert!(l.check(banned, 200).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_many_sources() {
        let mut l = SourceLimiter::new(3, 10_000, 60_000);
        for i in 0..(MAX_SOURCES as u32 + 10) {
            l.bad_proof(IpAddr::from(i.to_be_bytes()), i as u64);
        }
        assert!(l.records.len() <= MAX_SOURCES);
    }
}
