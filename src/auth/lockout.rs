//! Login throttling that an attacker cannot turn against the account's owner.
//!
//! - **Per (account, client address)**: after `failures_max` failed attempts within the
//!   window, each further attempt from that address must wait a delay that doubles per
//!   failure (1 s, 2 s, 4 s, ...) up to the window. Another address is not affected, so
//!   failing logins from one place cannot lock the owner out elsewhere.
//! - **Per account**, across addresses: after `account_failures_max` failures within the
//!   window, attempts from addresses that never logged into the account are slowed by
//!   `slow_ms` before their password is checked, never refused: the owner proves the
//!   password from a new address and gets in.
//!
//! An attempt counts as failed before its password is checked (so attempts in flight at once
//! cannot test more passwords than allowed); a success clears its (account, address) entry,
//! an attempt that could not be checked (the hasher was busy) is given back. Names that are
//! not users are tracked exactly like users, so answers never reveal which accounts exist.
//! Entries whose window has passed are pruned.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Addresses remembered per account as having logged in.
const KNOWN_ADDRESSES_KEPT: usize = 16;
/// Longest doubling step, so the shift never overflows.
const DOUBLINGS_MAX: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub failures_max: u32,
    pub window_ms: i64,
    pub account_failures_max: u32,
    pub slow_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    window_start_ms: i64,
    last_ms: i64,
}

impl Failures {
    fn new(now_ms: i64) -> Failures {
        Failures {
            count: 0,
            window_start_ms: now_ms,
            last_ms: now_ms,
        }
    }

    /// Counts one more failure, starting a new window when the last one has passed and the
    /// last failure is more than a window old (a delay of a whole window keeps counting).
    fn add(&mut self, now_ms: i64, window_ms: i64) {
        if now_ms >= self.window_start_ms + window_ms && now_ms > self.last_ms + window_ms {
            *self = Failures::new(now_ms);
        }
        self.count += 1;
        self.last_ms = now_ms;
    }

    fn expired(&self, now_ms: i64, window_ms: i64) -> bool {
        now_ms >= self.window_start_ms + window_ms && now_ms >= self.last_ms + window_ms
    }
}

/// Where an attempt comes from: the account and the client's address (None when unknown).
type Source = (String, Option<IpAddr>);

/// What an admitted attempt must do before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Now,
    /// The account is under attack and the address is new to it: wait this long first.
    SlowedMs(i64),
}

pub struct Lockouts {
    policy: LockoutPolicy,
    by_source: HashMap<Source, Failures>,
    by_account: HashMap<String, Failures>,
    known: HashMap<String, VecDeque<Option<IpAddr>>>,
}

impl Lockouts {
    pub fn new(policy: LockoutPolicy) -> Lockouts {
        Lockouts {
            policy,
            by_source: HashMap::new(),
            by_account: HashMap::new(),
            known: HashMap::new(),
        }
    }

    /// How long attempts on `name` from `address` must still wait at `now_ms`, if at all.
    pub fn wait_ms(&self, name: &str, address: Option<IpAddr>, now_ms: i64) -> Option<i64> {
        let failures = self.by_source.get(&(name.to_owned(), address))?;
        let over = failures.count.checked_sub(self.policy.failures_max)?;
        let delay_ms = (1000_i64 << over.min(DOUBLINGS_MAX)).min(self.policy.window_ms);
        let until_ms = failures.last_ms + delay_ms;
        (now_ms < until_ms).then_some(until_ms - now_ms)
    }

    /// Admits an attempt and counts it as failed (until [`Lockouts::record_success`] or
    /// [`Lockouts::give_back`]), or answers how long to wait.
    pub fn reserve(
        &mut self,
        name: &str,
        address: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<Admission, i64> {
        if let Some(wait_ms) = self.wait_ms(name, address, now_ms) {
            return Err(wait_ms);
        }
        let window_ms = self.policy.window_ms;
        let account = self
            .by_account
            .entry(name.to_owned())
            .or_insert_with(|| Failures::new(now_ms));
        let under_attack = !account.expired(now_ms, window_ms)
            && account.count >= self.policy.account_failures_max;
        account.add(now_ms, window_ms);
        self.by_source
            .entry((name.to_owned(), address))
            .or_insert_with(|| Failures::new(now_ms))
            .add(now_ms, window_ms);
        let known = self
            .known
            .get(name)
            .is_some_and(|known| known.contains(&address));
        Ok(if under_attack && !known {
            Admission::SlowedMs(self.policy.slow_ms)
        } else {
            Admission::Now
        })
    }

    /// Takes back a reserved attempt whose password could not be checked.
    pub fn give_back(&mut self, name: &str, address: Option<IpAddr>) {
        let source = (name.to_owned(), address);
        for failures in [
            self.by_source.get_mut(&source),
            self.by_account.get_mut(name),
        ]
        .into_iter()
        .flatten()
        {
            failures.count = failures.count.saturating_sub(1);
        }
    }

    /// The password was right: the address's failures are forgotten and it is known to the
    /// account from now on. The account-wide count stays: an attack elsewhere goes on.
    pub fn record_success(&mut self, name: &str, address: Option<IpAddr>) {
        self.by_source.remove(&(name.to_owned(), address));
        if let Some(account) = self.by_account.get_mut(name) {
            account.count = account.count.saturating_sub(1);
        }
        let known = self.known.entry(name.to_owned()).or_default();
        if !known.contains(&address) {
            if known.len() == KNOWN_ADDRESSES_KEPT {
                known.pop_front();
            }
            known.push_back(address);
        }
    }

    /// Forgets every failure entry whose window and delay have passed; returns how many
    /// remain.
    pub fn prune(&mut self, now_ms: i64) -> usize {
        let window_ms = self.policy.window_ms;
        self.by_source
            .retain(|_, failures| !failures.expired(now_ms, window_ms));
        self.by_account
            .retain(|_, failures| !failures.expired(now_ms, window_ms));
        self.by_source.len() + self.by_account.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW_MS: i64 = 15 * 60_000;
    const POLICY: LockoutPolicy = LockoutPolicy {
        failures_max: 5,
        window_ms: WINDOW_MS,
        account_failures_max: 20,
        slow_ms: 1000,
    };

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn failures_from_one_address_delay_it_progressively_and_no_other() {
        let mut lockouts = Lockouts::new(POLICY);
        for attempt in 0..5 {
            assert_eq!(
                lockouts.reserve("ana", address(1), attempt),
                Ok(Admission::Now)
            );
        }
        assert_eq!(lockouts.wait_ms("ana", address(1), 4), Some(1000));
        assert_eq!(lockouts.reserve("ana", address(1), 500), Err(504));
        assert_eq!(lockouts.reserve("ana", address(2), 500), Ok(Admission::Now));
        assert!(lockouts.reserve("ana", address(1), 1004).is_ok());
        assert_eq!(lockouts.wait_ms("ana", address(1), 1004), Some(2000));
        assert!(lockouts.reserve("ana", address(1), 3004).is_ok());
        assert_eq!(lockouts.wait_ms("ana", address(1), 3004), Some(4000));
        let mut now = 10_000_000;
        for _ in 0..20 {
            while let Err(wait_ms) = lockouts.reserve("bob", address(1), now) {
                now += wait_ms;
            }
        }
        assert_eq!(
            lockouts.wait_ms("bob", address(1), now),
            Some(WINDOW_MS),
            "after 15 delays the delay is the window, never more"
        );
    }

    #[test]
    fn an_account_under_attack_slows_new_addresses_and_never_refuses_the_owner() {
        let mut lockouts = Lockouts::new(POLICY);
        let _ = lockouts.reserve("ana", address(9), 0);
        lockouts.record_success("ana", address(9));
        for attacker in 0..20 {
            for attempt in 0..2 {
                let _ = lockouts.reserve("ana", address(100 + attacker), attempt);
            }
        }
        assert_eq!(
            lockouts.reserve("ana", address(1), 10),
            Ok(Admission::SlowedMs(1000))
        );
        lockouts.record_success("ana", address(1));
        assert_eq!(lockouts.reserve("ana", address(1), 20), Ok(Admission::Now));
        assert_eq!(
            lockouts.reserve("ana", address(9), 20),
            Ok(Admission::Now),
            "known"
        );
        assert_eq!(lockouts.reserve("cy", address(1), 20), Ok(Admission::Now));
    }

    #[test]
    fn a_given_back_attempt_does_not_count_and_success_resets_its_address() {
        let mut lockouts = Lockouts::new(POLICY);
        for _ in 0..10 {
            assert!(lockouts.reserve("ana", address(1), 0).is_ok());
            lockouts.give_back("ana", address(1));
        }
        assert_eq!(lockouts.wait_ms("ana", address(1), 0), None);
        for _ in 0..4 {
            let _ = lockouts.reserve("bob", address(1), 0);
        }
        lockouts.record_success("bob", address(1));
        let _ = lockouts.reserve("bob", address(1), 1);
        assert_eq!(lockouts.wait_ms("bob", address(1), 1), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_never_delay() {
        let mut lockouts = Lockouts::new(POLICY);
        for attempt in 0..10 {
            assert!(lockouts
                .reserve("ana", None, attempt * (WINDOW_MS / 4))
                .is_ok());
        }
        assert_eq!(lockouts.wait_ms("ana", None, 10 * (WINDOW_MS / 4)), None);
    }

    #[test]
    fn pruning_forgets_passed_windows() {
        let mut lockouts = Lockouts::new(POLICY);
        for name in 0..1000 {
            let _ = lockouts.reserve(&format!("user{name}"), None, 0);
        }
        assert_eq!(lockouts.prune(WINDOW_MS - 1), 2000);
        assert_eq!(lockouts.prune(WINDOW_MS), 0);
    }
}
