//! The refresh of learned scores (`[learned_scores]`, opt-in): on a schedule, every
//! symbol's stored closed base candles are replayed through the backtest's outcome study on a
//! blocking thread, pooled into one table, and published for `/api/signals` to read.

use crate::config::LearnedScoreSettings;
use cryptolens_actors::actors::Engine;
use cryptolens_actors::clock::SharedClock;
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::backtest::history::{study_signals, LearnedScores};
use cryptolens_actors::domain::backtest::Series;
use parking_lot::RwLock;
use std::sync::Arc;

/// The latest table, None until the first refresh (or when off).
pub type Published = Arc<RwLock<Option<Arc<LearnedScores>>>>;

/// One refresh: every symbol studied, the pooled table published. A symbol that cannot be
/// read now is left out of this round (logged) and read again at the next.
pub async fn refresh(
    engine: &Engine,
    analysis: &Arc<AnalysisSettings>,
    settings: &LearnedScoreSettings,
    clock: &SharedClock,
    published: &Published,
) {
    let mut scores = LearnedScores::new(clock.now_ms());
    for view in engine.analysis_views() {
        let symbol = view.symbol.clone();
        let Some(base) = engine.base_timeframe(&symbol) else {
            continue;
        };
        let candles = match engine
            .read_candles(&symbol, base, engine.settings().ring_capacity)
            .await
        {
            Ok(snapshot) => snapshot.closed,
            Err(error) => {
                tracing::warn!(%symbol, %error, "learned scores: candles not read this round");
                continue;
            }
        };
        let (analysis, expiry_bars) = (Arc::clone(analysis), settings.expiry_bars);
        let studied = tokio::task::spawn_blocking(move || {
            let series = Series {
                symbol: &symbol,
                timeframe: base,
                bars: &candles,
            };
            study_signals(series, analysis, expiry_bars)
        })
        .await;
        match studied {
            Ok(table) => scores.add(&table),
            Err(error) => tracing::error!(%error, "learned scores: a study stopped"),
        }
    }
    *published.write() = Some(Arc::new(scores));
}
