//! A portfolio whose log is damaged past repair is served as it was up to the damage,
//! read-only, and named in the problems, while every other portfolio goes on; one whose
//! actor stopped (a failed ledger write) is started again from its durable log.

use super::{PortfolioBook, PortfolioBounds, PortfolioError};
use crate::domain::ledger::{test_spec, Mutation, Side, TradeSource};
use crate::domain::market::Symbol;
use crate::domain::money::test_values::{dec, price, quantity};
use crate::store::recovery_tests::damage_in_both_copies;
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn open_trade() -> Mutation {
    Mutation::Open {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        side: Side::Long,
        quantity: quantity("1"),
        price: price("100"),
        stop_loss: None,
        take_profits: Vec::new(),
        source: TradeSource::Manual,
    }
}

fn restore(store: Arc<Store>) -> (PortfolioBook, Vec<crate::store::StoreProblem>) {
    let shards = vec![actix_rt::Arbiter::current()];
    let timeout = Duration::from_secs(10);
    PortfolioBook::restore(store, shards, timeout, PortfolioBounds::default()).unwrap()
}

fn reopen(path: &Path) -> Arc<Store> {
    for _ in 0..100 {
        if let Ok(store) = Store::open(path) {
            return Arc::new(store);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the store stayed locked");
}

#[test]
fn a_portfolio_damaged_past_repair_is_read_only_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    actix_rt::System::new().block_on(async {
        let (book, _) = restore(reopen(&path));
        for _ in 0..2 {
            let id = book
                .create(test_spec("10000", dec("0")), None)
                .await
                .unwrap();
            for at_ms in 0..3 {
                book.mutate(id.spec().id, open_trade(), None, at_ms)
                    .await
                    .unwrap();
            }
        }
    });
    damage_in_both_copies(&path, 1, 2);
    actix_rt::System::new().block_on(async {
        let (book, problems) = restore(reopen(&path));
        let named: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(named, ["1/2", "1"], "{problems:?}");
        let damaged = book.portfolio(1).await.unwrap();
        assert_eq!(damaged.trades().count(), 1, "replayed up to the damage");
        let refused = book.mutate(1, open_trade(), None, 9).await;
        assert!(
            matches!(refused, Err(PortfolioError::ReadOnly { portfolio: 1, .. })),
            "{refused:?}"
        );
        assert_eq!(book.portfolio(2).await.unwrap().trades().count(), 3);
        book.mutate(2, open_trade(), None, 9).await.unwrap();
    });
}

#[test]
fn a_stopped_portfolio_actor_is_started_again_from_its_durable_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    actix_rt::System::new().block_on(async {
        let (book, _) = restore(reopen(&path));
        let id = book
            .create(test_spec("10000", dec("0")), None)
            .await
            .unwrap()
            .spec()
            .id;
        book.mutate(id, open_trade(), None, 0).await.unwrap();
        book.stop_actor(id).unwrap();
        while book.actor_runs(id) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        book.mutate(id, open_trade(), None, 1).await.unwrap();
        assert!(book.actor_runs(id), "a new actor took over");
        assert_eq!(book.portfolio(id).await.unwrap().trades().count(), 2);
    });
}
