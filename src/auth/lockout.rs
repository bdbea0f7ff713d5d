//! Account lockout: after `failures_max` failed logins within the window an account is
//! locked for the window. Names that are not users are tracked exactly like users, so the
//! answers never reveal which accounts exist. Entries whose window has passed are pruned.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// Start of the current counting window, or of the lock once `count` reached the max.
    since_ms: i64,
}

pub struct Lockouts {
    failures_max: u32,
    window_ms: i64,
    by_name: HashMap<String, Failures>,
}

impl Lockouts {
    pub fn new(failures_max: u32, window_ms: i64) -> Lockouts {
        Lockouts {
            failures_max,
            window_ms,
            by_name: HashMap::new(),
        }
    }

    /// When `name` is locked at `now_ms`, the milliseconds until it is released.
    pub fn locked_for_ms(&self, name: &str, now_ms: i64) -> Option<i64> {
        let failures = self.by_name.get(name)?;
        let until_ms = failures.since_ms + self.window_ms;
        (failures.count >= self.failures_max && now_ms < until_ms).then_some(until_ms - now_ms)
    }

    pub fn record_failure(&mut self, name: &str, now_ms: i64) {
        let window_ms = self.window_ms;
        let failures = self.by_name.entry(name.to_owned()).or_insert(Failures {
            count: 0,
            since_ms: now_ms,
        });
        if now_ms >= failures.since_ms + window_ms {
            *failures = Failures {
                count: 0,
                since_ms: now_ms,
            };
        }
        failures.count += 1;
        if failures.count == self.failures_max {
            failures.since_ms = now_ms;
        }
    }

    pub fn record_success(&mut self, name: &str) {
        self.by_name.remove(name);
    }

    /// Forgets every entry whose window has passed; returns how many remain.
    pub fn prune(&mut self, now_ms: i64) -> usize {
        let window_ms = self.window_ms;
        self.by_name
            .retain(|_, failures| now_ms < failures.since_ms + window_ms);
        self.by_name.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW_MS: i64 = 15 * 60_000;

    #[test]
    fn five_failures_lock_for_the_window_then_release() {
        let mut lockouts = Lockouts::new(5, WINDOW_MS);
        for attempt in 0..4 {
            lockouts.record_failure("ana", attempt * 1000);
            assert_eq!(lockouts.locked_for_ms("ana", attempt * 1000), None);
        }
        lockouts.record_failure("ana", 10_000);
        assert_eq!(lockouts.locked_for_ms("ana", 10_000), Some(WINDOW_MS));
        assert_eq!(
            lockouts.locked_for_ms("ana", 10_000 + WINDOW_MS - 1),
            Some(1)
        );
        assert_eq!(lockouts.locked_for_ms("ana", 10_000 + WINDOW_MS), None);
        assert_eq!(lockouts.locked_for_ms("bob", 10_000), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock_and_success_resets() {
        let mut lockouts = Lockouts::new(5, WINDOW_MS);
        for attempt in 0..10 {
            lockouts.record_failure("ana", attempt * (WINDOW_MS / 4));
        }
        assert_eq!(lockouts.locked_for_ms("ana", 10 * (WINDOW_MS / 4)), None);
        for _ in 0..4 {
            lockouts.record_failure("bob", 0);
        }
        lockouts.record_success("bob");
        lockouts.record_failure("bob", 1);
        assert_eq!(lockouts.locked_for_ms("bob", 1), None);
    }

    #[test]
    fn pruning_forgets_passed_windows() {
        let mut lockouts = Lockouts::new(5, WINDOW_MS);
        for name in 0..1000 {
            lockouts.record_failure(&format!("user{name}"), 0);
        }
        assert_eq!(lockouts.prune(WINDOW_MS - 1), 1000);
        assert_eq!(lockouts.prune(WINDOW_MS), 0);
    }
}
