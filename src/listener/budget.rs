//! How many connections may be open at once, in all and per client address. A connection
//! holds its [`ConnectionPermit`] while it is open; dropping the permit gives the place back.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Debug)]
struct Counts {
    open: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// The connection budget shared by the accept loop and every open connection.
#[derive(Debug, Clone)]
pub struct ConnectionBudget {
    max_open: usize,
    max_per_address: usize,
    counts: Arc<Mutex<Counts>>,
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverBudget {
    Server,
    Address,
}

/// A place in the budget, given back on drop.
#[derive(Debug)]
pub struct ConnectionPermit {
    address: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl ConnectionBudget {
    pub fn new(max_open: usize, max_per_address: usize) -> ConnectionBudget {
        ConnectionBudget {
            max_open,
            max_per_address,
            counts: Arc::new(Mutex::new(Counts {
                open: 0,
                by_address: HashMap::new(),
            })),
        }
    }

    /// A place for one more connection from `address`, if both budgets have one.
    pub fn admit(&self, address: IpAddr) -> Result<ConnectionPermit, OverBudget> {
        let mut counts = self.counts.lock();
        if counts.open >= self.max_open {
            return Err(OverBudget::Server);
        }
        let from_address = counts.by_address.entry(address).or_insert(0);
        if *from_address >= self.max_per_address {
            return Err(OverBudget::Address);
        }
        *from_address += 1;
        counts.open += 1;
        Ok(ConnectionPermit {
            address,
            counts: Arc::clone(&self.counts),
        })
    }

    /// Connections open now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.counts.lock().open
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock();
        counts.open = counts.open.saturating_sub(1);
        if let Some(from_address) = counts.by_address.get_mut(&self.address) {
            *from_address = from_address.saturating_sub(1);
            if *from_address == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_in_all_and_given_back_on_drop() {
        let budget = ConnectionBudget::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = budget.admit(a).unwrap();
        let _second = budget.admit(a).unwrap();
        assert_eq!(budget.admit(a).unwrap_err(), OverBudget::Address);
        let _third = budget.admit(b).unwrap();
        assert_eq!(budget.admit(b).unwrap_err(), OverBudget::Server);
        drop(first);
        assert_eq!(budget.open(), 2);
        assert!(budget.admit(a).is_ok(), "the dropped place is free again");
        assert_eq!(
            budget.open(),
            2,
            "the permit of the last admit was dropped at once"
        );
        assert_eq!(budget.counts.lock().by_address.len(), 2);
    }
}
