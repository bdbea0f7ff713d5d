//! The first answers to idempotency keys, kept by each portfolio actor.
//!
//! A key sent with a request answers every repeat of that request (same fingerprint) with
//! the first answer, accepted or refused, for at least the configured TTL (24 h by default),
//! across restarts (the answers are rebuilt from the log). Storage is bounded: keys older
//! than the TTL are forgotten, and beyond the configured keys per portfolio (10,000) the
//! oldest go first (a repeat after that is applied as a new request). Keys of exits (named by trade, candle
//! and level) are kept apart: they record what a candle already did.

use super::bounds::{KeyCounters, PortfolioBounds};
use super::record::RequestId;
use super::PortfolioError;
use crate::domain::ledger::{Mutation, Outcome};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The first answer to a key, and the request it answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// None for keys stored before fingerprints existed: those compare the mutation.
    pub fingerprint: Option<String>,
    pub mutation: Mutation,
    pub result: Result<Outcome, PortfolioError>,
    /// The record's sequence number.
    pub seq: u64,
}

impl Answer {
    pub fn to_request(
        request: &RequestId,
        mutation: &Mutation,
        result: &Result<Outcome, PortfolioError>,
        seq: u64,
    ) -> Answer {
        Answer {
            fingerprint: Some(request.fingerprint.clone()),
            mutation: mutation.clone(),
            result: result.clone(),
            seq,
        }
    }

    /// An answer compared by its mutation: an exit's, or a request's stored before
    /// fingerprints existed.
    pub fn to_exit(
        mutation: &Mutation,
        result: Result<Outcome, PortfolioError>,
        seq: u64,
    ) -> Answer {
        Answer {
            fingerprint: None,
            mutation: mutation.clone(),
            result,
            seq,
        }
    }

    /// Whether this answers a request for `mutation` with `fingerprint`.
    pub fn answers(&self, mutation: &Mutation, fingerprint: &str) -> bool {
        match &self.fingerprint {
            Some(first) => first == fingerprint,
            None => self.mutation == *mutation,
        }
    }

    /// Whether this answers a request with `fingerprint` (before its mutation is known); a
    /// key stored without a fingerprint answers by its mutation only.
    pub fn answers_fingerprint(&self, fingerprint: &str) -> bool {
        self.fingerprint.as_deref() == Some(fingerprint)
    }
}

#[derive(Debug)]
pub struct Answers {
    by_key: HashMap<String, Answer>,
    /// Request keys in the order they were answered, with when: the oldest expire first.
    request_order: VecDeque<(i64, String)>,
    ttl_ms: i64,
    request_keys_max: usize,
    /// Shared by every portfolio's answers, for metrics.
    counters: Arc<KeyCounters>,
}

impl Answers {
    pub fn new(bounds: &PortfolioBounds, counters: Arc<KeyCounters>) -> Answers {
        Answers {
            by_key: HashMap::new(),
            request_order: VecDeque::new(),
            ttl_ms: bounds.idempotency_key_ttl_ms,
            request_keys_max: bounds.idempotency_keys_per_portfolio_max,
            counters,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Answer> {
        self.by_key.get(key)
    }

    /// Remembers a request's first answer at `at_ms`, forgetting keys past the TTL or the cap.
    pub fn remember(&mut self, key: String, answer: Answer, at_ms: i64) {
        if self.by_key.insert(key.clone(), answer).is_none() {
            self.request_order.push_back((at_ms, key));
            self.counters.add_held(1);
        }
        self.prune(at_ms);
    }

    /// Remembers what a candle did under its exit key; never expires.
    pub fn remember_exit(&mut self, key: String, answer: Answer) {
        self.by_key.insert(key, answer);
    }

    /// Forgets request keys answered more than the TTL before `now_ms`, and the oldest beyond
    /// the cap.
    pub fn prune(&mut self, now_ms: i64) {
        while let Some((at_ms, key)) = self.request_order.front() {
            let expired = *at_ms < now_ms.saturating_sub(self.ttl_ms);
            if !expired && self.request_order.len() <= self.request_keys_max {
                break;
            }
            self.by_key.remove(key);
            self.request_order.pop_front();
            self.counters.remove_held(1);
            self.counters.add_forgotten();
        }
    }

    /// Request keys held now.
    pub fn request_keys(&self) -> usize {
        self.request_order.len()
    }
}

/// A portfolio that stops no longer holds its keys.
impl Drop for Answers {
    fn drop(&mut self) {
        self.counters.remove_held(self.request_order.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::LedgerError;

    fn answer(fingerprint: &str) -> Answer {
        Answer {
            fingerprint: Some(fingerprint.into()),
            mutation: Mutation::Cancel { trade_id: 1 },
            result: Err(PortfolioError::Refused(LedgerError::NotPending(1))),
            seq: 1,
        }
    }

    #[test]
    fn a_key_answers_for_a_day_and_then_is_forgotten() {
        let counters = Arc::new(KeyCounters::default());
        let bounds = PortfolioBounds::default();
        let ttl_ms = bounds.idempotency_key_ttl_ms;
        assert_eq!(ttl_ms, 86_400_000);
        let mut answers = Answers::new(&bounds, Arc::clone(&counters));
        answers.remember("a".into(), answer("f"), 0);
        answers.prune(ttl_ms);
        assert!(
            answers.get("a").is_some(),
            "exactly 24 h later it still answers"
        );
        assert_eq!((counters.held(), counters.forgotten()), (1, 0));
        answers.prune(ttl_ms + 1);
        assert!(answers.get("a").is_none());
        assert_eq!((counters.held(), counters.forgotten()), (0, 1));
    }

    #[test]
    fn beyond_the_cap_the_oldest_key_goes_first_and_exit_keys_stay() {
        let counters = Arc::new(KeyCounters::default());
        let bounds = PortfolioBounds {
            idempotency_keys_per_portfolio_max: 50,
            ..PortfolioBounds::default()
        };
        let mut answers = Answers::new(&bounds, Arc::clone(&counters));
        answers.remember_exit("exit-1-0-stop".into(), answer(""));
        for n in 0..=50 {
            answers.remember(format!("k{n}"), answer("f"), n as i64);
        }
        assert_eq!(answers.request_keys(), 50);
        assert!(answers.get("k0").is_none());
        assert!(answers.get("k1").is_some());
        assert!(answers.get("exit-1-0-stop").is_some());
        assert_eq!((counters.held(), counters.forgotten()), (50, 1));
        drop(answers);
        assert_eq!(
            counters.held(),
            0,
            "a stopped portfolio's keys are not counted"
        );
    }

    #[test]
    fn a_fingerprint_tells_requests_apart_and_old_keys_compare_the_mutation() {
        let first = answer("f");
        assert!(first.answers(&Mutation::Cancel { trade_id: 2 }, "f"));
        assert!(!first.answers(&Mutation::Cancel { trade_id: 1 }, "g"));
        let old = Answer {
            fingerprint: None,
            ..answer("")
        };
        assert!(old.answers(&Mutation::Cancel { trade_id: 1 }, "g"));
        assert!(!old.answers(&Mutation::Cancel { trade_id: 2 }, "g"));
        assert!(!old.answers_fingerprint("g"));
    }
}
