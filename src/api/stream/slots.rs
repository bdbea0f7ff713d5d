//! How many stream clients may be connected, in all and per user: a slot is claimed before
//! the upgrade and given back when the session ends, so the bound holds however clients race.

use super::super::error::ApiError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use warp::http::StatusCode;

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_user: HashMap<String, usize>,
}

#[derive(Debug)]
pub struct SessionSlots {
    clients_max: usize,
    clients_per_user_max: usize,
    open: Arc<Mutex<Open>>,
}

/// A claimed slot; dropping it gives it back.
#[derive(Debug)]
pub struct SessionSlot {
    user: String,
    open: Arc<Mutex<Open>>,
}

/// Why a client was turned away, for the refusal's metric label.
pub const REFUSED_USER_LIMIT: &str = "per_user";
pub const REFUSED_SERVER_LIMIT: &str = "server";

impl SessionSlots {
    pub fn new(clients_max: usize, clients_per_user_max: usize) -> SessionSlots {
        SessionSlots {
            clients_max,
            clients_per_user_max,
            open: Arc::new(Mutex::new(Open::default())),
        }
    }

    /// A slot for `user`, or the refusal: 429 when the user has all theirs, 503 when the
    /// server is full.
    pub fn claim(&self, user: &str) -> Result<SessionSlot, (ApiError, &'static str)> {
        let mut open = self.open.lock();
        let users_own = open.by_user.get(user).copied().unwrap_or(0);
        if users_own >= self.clients_per_user_max {
            let message = format!(
                "at most {} stream connections per user; close one first",
                self.clients_per_user_max
            );
            return Err((
                refusal(StatusCode::TOO_MANY_REQUESTS, "too_many_streams", message),
                REFUSED_USER_LIMIT,
            ));
        }
        if open.total >= self.clients_max {
            let message = format!(
                "the server holds its most stream connections ({})",
                self.clients_max
            );
            return Err((
                refusal(StatusCode::SERVICE_UNAVAILABLE, "stream_full", message),
                REFUSED_SERVER_LIMIT,
            ));
        }
        open.total += 1;
        *open.by_user.entry(user.to_owned()).or_default() += 1;
        Ok(SessionSlot {
            user: user.to_owned(),
            open: Arc::clone(&self.open),
        })
    }

    /// Clients connected now.
    pub fn open(&self) -> usize {
        self.open.lock().total
    }
}

fn refusal(status: StatusCode, code: &'static str, message: String) -> ApiError {
    ApiError::Rejected {
        status,
        code,
        message,
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_user.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.by_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_per_user_and_in_all_and_given_back_on_drop() {
        let slots = SessionSlots::new(3, 2);
        let first = slots.claim("ann").unwrap();
        let _second = slots.claim("ann").unwrap();
        let (error, reason) = slots.claim("ann").unwrap_err();
        assert_eq!((error.status().as_u16(), reason), (429, REFUSED_USER_LIMIT));
        let _bob = slots.claim("bob").unwrap();
        let (error, reason) = slots.claim("cid").unwrap_err();
        assert_eq!(
            (error.status().as_u16(), reason),
            (503, REFUSED_SERVER_LIMIT)
        );
        assert_eq!(slots.open(), 3);
        drop(first);
        assert_eq!(slots.open(), 2);
        assert!(
            slots.claim("cid").is_ok(),
            "a slot given back is free again"
        );
    }
}
