//! The engine against a real actor system: every outcome of [`SymbolHandle::ask`].
//!
//! [`SymbolHandle::ask`]: crate::actors::SymbolHandle::ask

use super::Engine;
use crate::actors::symbol::ReadCandles;
use crate::actors::{EngineError, EngineSettings};
use crate::domain::analysis::AnalysisSettings;
use crate::domain::market::{Symbol, Timeframe};
use crate::domain::test_candles::raw_candle;

fn settings() -> EngineSettings {
    EngineSettings {
        shards: 1,
        mailbox_capacity: 2,
        ..EngineSettings::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

#[test]
fn asks_are_answered_refused_when_full_and_stopped_after_shutdown() {
    let engine = Engine::start(settings(), AnalysisSettings::default()).unwrap();
    runtime().block_on(async {
        let candles = vec![raw_candle(0, 10, 12, 9, 11), raw_candle(1, 11, 13, 10, 12)];
        let report = engine.ingest(&btc(), Timeframe::M1, candles).await.unwrap();
        assert_eq!((report.received, report.tally.appended), (2, 2));
        let snapshot = engine.read_candles(&btc(), Timeframe::M1, 5).await.unwrap();
        assert_eq!(
            snapshot.closed.len() + usize::from(snapshot.forming.is_some()),
            2
        );
        assert_eq!(engine.rescan(None).await.unwrap().0, 1);

        let handle = engine.handle(&btc()).unwrap();
        assert!(handle.health.try_reserve_slot() && handle.health.try_reserve_slot());
        let full = handle
            .ask(
                ReadCandles {
                    timeframe: Timeframe::M1,
                    limit: 1,
                },
                1000,
            )
            .await;
        assert!(matches!(
            full,
            Err(EngineError::MailboxFull { capacity: 2, .. })
        ));
        handle.health.release_slot();
        handle.health.release_slot();
        assert_eq!(
            handle.health.view().mailbox_len,
            0,
            "a refused ask keeps no slot"
        );

        engine.shutdown().await;
        let stopped = handle
            .ask(
                ReadCandles {
                    timeframe: Timeframe::M1,
                    limit: 1,
                },
                1000,
            )
            .await;
        assert!(matches!(stopped, Err(EngineError::ActorStopped(_))));
        assert_eq!(
            handle.health.view().mailbox_len,
            0,
            "a stopped actor keeps no slot"
        );
    });
}

#[test]
fn unknown_symbols_and_closed_ingest_are_refused_before_any_ask() {
    let engine = Engine::start_restoring(settings(), AnalysisSettings::default()).unwrap();
    runtime().block_on(async {
        let restoring = engine.ingest(&btc(), Timeframe::M1, Vec::new()).await;
        assert!(matches!(restoring, Err(EngineError::Restoring)));
        let unknown = engine.read_candles(&btc(), Timeframe::M1, 1).await;
        assert!(matches!(unknown, Err(EngineError::UnknownSymbol(_))));
        assert!(matches!(
            engine.last_price(&btc()).await,
            Err(EngineError::UnknownSymbol(_))
        ));
        engine.shutdown().await;
        let stopping = engine.ingest(&btc(), Timeframe::M1, Vec::new()).await;
        assert!(matches!(stopping, Err(EngineError::ShuttingDown)));
    });
}

#[test]
fn bad_settings_are_refused_before_any_thread_starts() {
    let no_mailbox = EngineSettings {
        mailbox_capacity: 0,
        ..settings()
    };
    let refused = Engine::start(no_mailbox, AnalysisSettings::default());
    assert!(matches!(refused, Err(EngineError::Startup(_))));
}

fn minutes(range: std::ops::Range<i64>) -> Vec<crate::domain::market::Candle> {
    range
        .map(|minute| raw_candle(minute, 10, 12, 9, 11))
        .collect()
}

#[test]
fn closed_base_candles_queue_for_the_exit_feed_in_order_and_a_full_backlog_counts_its_drops() {
    let capped = EngineSettings {
        exit_backlog_candles_max: 3,
        ..settings()
    };
    let engine = Engine::start(capped, AnalysisSettings::default()).unwrap();
    runtime().block_on(async {
        engine
            .ingest(&btc(), Timeframe::M1, minutes(0..3))
            .await
            .unwrap();
        let view = &engine.actor_health()[0];
        assert_eq!(
            view.exit_backlog_candles, 0,
            "no feed attached: nothing queued"
        );
        assert!(engine.exit_wakeups().take().is_empty());

        engine.exit_wakeups().attach();
        // Minutes 2..=6 close (minute 7 still forms); the cap keeps the newest 3.
        engine
            .ingest(&btc(), Timeframe::M1, minutes(3..8))
            .await
            .unwrap();
        let view = &engine.actor_health()[0];
        assert_eq!(
            (view.exit_backlog_candles, view.exit_candles_dropped),
            (3, 2)
        );
        assert_eq!(
            engine.exit_wakeups().take().len(),
            1,
            "the symbol is marked"
        );
        let open_minutes = |batch: crate::actors::symbol::ExitBatch| -> Vec<i64> {
            batch
                .candles
                .iter()
                .map(|c| c.open_time_ms / 60_000)
                .collect()
        };
        let first = engine.take_exit_candles(&btc(), None, 2).await.unwrap();
        assert_eq!(open_minutes(first), [4, 5]);
        let rest = engine
            .take_exit_candles(&btc(), Some(5 * 60_000), 10)
            .await
            .unwrap();
        assert_eq!(open_minutes(rest), [6]);
        let empty = engine
            .take_exit_candles(&btc(), Some(6 * 60_000), 10)
            .await
            .unwrap();
        assert!(empty.candles.is_empty());
        let view = &engine.actor_health()[0];
        assert_eq!(view.exit_backlog_candles, 0);
        assert_eq!(view.exit_last_handed_open_time_ms, Some(6 * 60_000));
        let eth = Symbol::parse("ETHUSDT").unwrap();
        let unknown = engine.take_exit_candles(&eth, None, 1).await;
        assert!(matches!(unknown, Err(EngineError::UnknownSymbol(_))));
        engine.shutdown().await;
    });
}

#[test]
fn older_history_prepended_through_the_engine_reads_back_whole_and_refreshes_the_view() {
    use crate::domain::market::aggregator::prepend_tests::walk;
    let series = walk(Timeframe::M1, 0, 600, 5);
    let engine = Engine::start(settings(), AnalysisSettings::default()).unwrap();
    runtime().block_on(async {
        engine
            .ingest(&btc(), Timeframe::M1, series[300..].to_vec())
            .await
            .unwrap();
        let before = engine.analysis_view(&btc()).unwrap();
        let report = engine
            .prepend(
                &btc(),
                Timeframe::M1,
                vec![(Timeframe::M1, series[..300].to_vec())],
            )
            .await
            .unwrap();
        assert_eq!(report.tally.prepended, 300);
        assert_eq!(report.first_open_time_ms, Some(0));
        assert_eq!(report.last_open_time_ms, Some(series[599].open_time_ms));
        let snapshot = engine
            .read_candles(&btc(), Timeframe::M1, 1_000)
            .await
            .unwrap();
        let mut read = snapshot.closed.clone();
        read.extend(snapshot.forming);
        assert_eq!(read, series);
        let after = engine.analysis_view(&btc()).unwrap();
        assert!(
            !std::sync::Arc::ptr_eq(&before, &after),
            "a new view is published"
        );
        let refused = engine
            .prepend(
                &btc(),
                Timeframe::M1,
                vec![(Timeframe::M5, series[..2].to_vec())],
            )
            .await;
        assert!(
            matches!(refused, Err(EngineError::Domain(_))),
            "{refused:?}"
        );
        engine.shutdown().await;
    });
}

#[test]
fn a_removed_symbol_is_gone_from_routing_and_from_the_store() {
    use crate::domain::market::aggregator::prepend_tests::walk;
    use crate::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let engine = Engine::start_restoring(settings(), AnalysisSettings::default()).unwrap();
    engine.restore_from(std::sync::Arc::clone(&store)).unwrap();
    let eth = Symbol::parse("ETHUSDT").unwrap();
    runtime().block_on(async {
        for symbol in [btc(), eth.clone()] {
            let candles = walk(Timeframe::M1, 0, 10, 3);
            engine
                .ingest(&symbol, Timeframe::M1, candles)
                .await
                .unwrap();
        }
        assert_eq!(engine.snapshot_now().await.unwrap(), 2);
        engine.remove_symbol(&btc()).await.unwrap();
        assert!(matches!(
            engine.read_candles(&btc(), Timeframe::M1, 5).await,
            Err(EngineError::UnknownSymbol(_))
        ));
        assert!(matches!(
            engine.remove_symbol(&btc()).await,
            Err(EngineError::UnknownSymbol(_))
        ));
        engine.snapshot_now().await.unwrap();
        assert!(
            store.raw_symbol("BTCUSDT").unwrap().is_none(),
            "its snapshot is deleted"
        );
        assert!(
            store.raw_symbol("ETHUSDT").unwrap().is_some(),
            "the others stay"
        );
        let symbols: Vec<Symbol> = engine.symbols().into_iter().map(|s| s.symbol).collect();
        assert_eq!(symbols, vec![eth]);
        engine.shutdown().await;
    });
}

#[test]
fn a_new_symbol_takes_its_exchange_tick_unless_the_settings_name_one() {
    use crate::actors::symbol::TakeSnapshot;
    use crate::domain::market::aggregator::prepend_tests::walk;
    use rust_decimal::Decimal;
    let configured = Symbol::parse("ETHUSDT").unwrap();
    let mut analysis = AnalysisSettings::default();
    analysis
        .tick_sizes
        .insert("ETHUSDT".into(), Decimal::new(1, 2));
    let engine = Engine::start(settings(), analysis).unwrap();
    engine.set_tick_size(&btc(), Decimal::new(5, 1));
    engine.set_tick_size(&configured, Decimal::new(1, 4));
    runtime().block_on(async {
        let mut ticks = Vec::new();
        for symbol in [btc(), configured.clone()] {
            let candles = walk(Timeframe::M1, 0, 5, 1);
            engine
                .ingest(&symbol, Timeframe::M1, candles)
                .await
                .unwrap();
            let copy = engine
                .handle(&symbol)
                .unwrap()
                .addr
                .send(TakeSnapshot)
                .await
                .unwrap();
            ticks.push(copy.scanner.analysis().tick_size());
        }
        let expected = vec![Some(Decimal::new(5, 1)), Some(Decimal::new(1, 2))];
        assert_eq!(
            ticks, expected,
            "the exchange's tick; the settings' when named"
        );
        engine.shutdown().await;
    });
}
