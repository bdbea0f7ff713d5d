//! Journal notes are records of their own: a thousand notes on one trade grow the real store
//! linearly (one note per record, not one trade snapshot per note), and the limits hold.

use super::PortfolioBounds;
use super::{PortfolioBook, PortfolioError};
use crate::domain::ledger::{test_spec, LedgerError, Mutation, Side, TradeSource};
use crate::domain::market::Symbol;
use crate::domain::money::test_values::{dec, price, quantity};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

fn directory_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => directory_bytes(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn note(text: String) -> Mutation {
    Mutation::Journal {
        trade_id: 1,
        text,
        tags: vec!["plan".into()],
    }
}

#[test]
fn a_thousand_notes_grow_the_store_by_less_than_five_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    actix_rt::System::new().block_on(async move {
        let shards = vec![actix_rt::Arbiter::current()];
        let timeout = Duration::from_secs(10);
        let (book, _) = PortfolioBook::restore(
            Arc::clone(&store),
            shards,
            timeout,
            PortfolioBounds::default(),
        )
        .unwrap();
        let id = book
            .create(test_spec("10000", dec("0.001")), None)
            .await
            .unwrap()
            .spec()
            .id;
        let open = Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            quantity: quantity("1"),
            price: price("100"),
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        };
        book.mutate(id, open, None, 0).await.unwrap();
        store.sync_ledger(id).await.unwrap();
        let before = directory_bytes(dir.path());
        for n in 0..1_000 {
            let text = format!("{n:04} {}", "x".repeat(195));
            book.mutate(id, note(text), None, n).await.unwrap();
        }
        store.sync_ledger(id).await.unwrap();
        let grown = directory_bytes(dir.path()).saturating_sub(before);
        println!("1,000 notes of 200 characters grew the store by {grown} bytes");
        assert!(grown < 5_000_000, "{grown} bytes");
        let full = book.mutate(id, note("one more".into()), None, 2_000).await;
        assert!(matches!(
            full,
            Err(PortfolioError::Refused(LedgerError::Invalid {
                field: "text",
                ..
            }))
        ));
        let portfolio = book.portfolio(id).await.unwrap();
        assert_eq!(portfolio.journal_of(1).len(), 1_000);
    });
}

#[test]
fn a_note_over_ten_thousand_characters_is_refused_by_its_field() {
    let mut portfolio =
        crate::domain::ledger::Portfolio::create(test_spec("1000", dec("0"))).unwrap();
    let open = Mutation::Open {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        side: Side::Long,
        quantity: quantity("1"),
        price: price("10"),
        stop_loss: None,
        take_profits: Vec::new(),
        source: TradeSource::Manual,
    };
    portfolio.apply(&open, 0).unwrap();
    assert!(portfolio.apply(&note("y".repeat(10_000)), 1).is_ok());
    let long = portfolio.apply(&note("y".repeat(10_001)), 2).unwrap_err();
    assert_eq!(long.field(), Some("text"));
}
