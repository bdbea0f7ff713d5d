//! `PatternQuery`: which published patterns a reader wants, and one page of them.
//!
//! Each timeframe's patterns are published newest first ([`newest_first`]), so a page is a
//! k-way merge of those lists that stops once the page is full, instead of sorting every
//! pattern on every request. The page points into the views it was run over, so a caller
//! can reuse what it derived from a view (the API keeps each pattern's JSON there).

use super::symbol::{newest_first, AnalysisView, TimeframeView};
use crate::domain::analysis::{Pattern, PatternKind, PatternStatus};
use crate::domain::market::{Symbol, Timeframe};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// Which lifecycle states a query accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Any,
    /// Active or touched.
    Live,
    Exactly(PatternStatus),
}

impl StatusFilter {
    pub fn accepts(self, status: PatternStatus) -> bool {
        match self {
            StatusFilter::Any => true,
            StatusFilter::Live => status.is_live(),
            StatusFilter::Exactly(wanted) => status == wanted,
        }
    }
}

/// Filters and a page window; `None` filters accept everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternQuery {
    pub symbol: Option<Symbol>,
    pub timeframe: Option<Timeframe>,
    pub kind: Option<PatternKind>,
    pub status: StatusFilter,
    pub offset: usize,
    /// At most [`PatternQuery::LIMIT_MAX`]; more is cut to it.
    pub limit: usize,
}

impl Default for PatternQuery {
    fn default() -> Self {
        PatternQuery {
            symbol: None,
            timeframe: None,
            kind: None,
            status: StatusFilter::Any,
            offset: 0,
            limit: PatternQuery::LIMIT_DEFAULT,
        }
    }
}

/// One listed pattern: where it was found, so the caller can use that view's cache.
#[derive(Debug, Clone, Copy)]
pub struct PatternEntry<'a> {
    pub symbol: &'a Symbol,
    pub view: &'a TimeframeView,
    /// The pattern's position in `view.patterns`.
    pub index: usize,
}

impl<'a> PatternEntry<'a> {
    pub fn pattern(&self) -> &'a Pattern {
        &self.view.patterns[self.index]
    }
}

/// The patterns of one page, newest first, and how many match in all.
#[derive(Debug)]
pub struct PatternPage<'a> {
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub entries: Vec<PatternEntry<'a>>,
}

impl PatternQuery {
    pub const LIMIT_MAX: usize = 1000;
    pub const LIMIT_DEFAULT: usize = 100;

    fn wants(&self, pattern: &Pattern) -> bool {
        self.kind.is_none_or(|wanted| pattern.kind == wanted)
            && self.status.accepts(pattern.lifecycle.status)
    }

    /// The timeframe lists of `views` this query reads, with their symbol.
    fn lists<'a>(&self, views: &'a [Arc<AnalysisView>]) -> Vec<(&'a Symbol, &'a TimeframeView)> {
        views
            .iter()
            .filter(|view| {
                self.symbol
                    .as_ref()
                    .is_none_or(|wanted| view.symbol == *wanted)
            })
            .flat_map(|view| {
                view.timeframes
                    .iter()
                    .filter(|tf| self.timeframe.is_none_or(|wanted| tf.timeframe == wanted))
                    .map(move |tf| (&view.symbol, tf.as_ref()))
            })
            .collect()
    }

    /// Runs the query over `views`: newest first, then by symbol, then by key.
    pub fn run<'a>(&self, views: &'a [Arc<AnalysisView>]) -> PatternPage<'a> {
        let limit = self.limit.min(PatternQuery::LIMIT_MAX);
        let lists = self.lists(views);
        let matching = |tf: &'a TimeframeView| {
            tf.patterns
                .iter()
                .enumerate()
                .filter(|(_, pattern)| self.wants(pattern))
        };
        let total = lists.iter().map(|(_, tf)| matching(tf).count()).sum();
        let mut cursors: Vec<_> = lists.iter().map(|(_, tf)| matching(tf)).collect();
        let mut heads = BinaryHeap::with_capacity(lists.len());
        for (list, cursor) in cursors.iter_mut().enumerate() {
            if let Some((index, pattern)) = cursor.next() {
                let symbol = lists[list].0;
                heads.push(Head {
                    symbol,
                    pattern,
                    list,
                    index,
                });
            }
        }
        let mut entries = Vec::with_capacity(limit.min(total));
        for taken in 0..self.offset.saturating_add(limit) {
            let Some(head) = heads.pop() else { break };
            if taken >= self.offset {
                let (symbol, view) = lists[head.list];
                entries.push(PatternEntry {
                    symbol,
                    view,
                    index: head.index,
                });
            }
            if let Some((index, pattern)) = cursors[head.list].next() {
                heads.push(Head {
                    pattern,
                    index,
                    ..head
                });
            }
        }
        PatternPage {
            total,
            offset: self.offset,
            limit,
            entries,
        }
    }
}

/// The next pattern of one list; the heap's greatest is the one to list first.
struct Head<'a> {
    symbol: &'a Symbol,
    pattern: &'a Pattern,
    list: usize,
    index: usize,
}

impl Head<'_> {
    /// Newest first, then by symbol, then by key: within one list this is the published
    /// order ([`newest_first`]), as the symbol is the same.
    fn listing_order(&self, other: &Head) -> Ordering {
        other
            .pattern
            .formed_at_ms
            .cmp(&self.pattern.formed_at_ms)
            .then_with(|| self.symbol.cmp(other.symbol))
            .then_with(|| newest_first(self.pattern, other.pattern))
    }
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.listing_order(self)
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::symbol::DerivedCache;
    use crate::domain::analysis::{Direction, Lifecycle, Zone};
    use crate::domain::market::Price;

    fn pattern(timeframe: Timeframe, formed_at_ms: i64, kind: PatternKind) -> Pattern {
        let mut lifecycle = Lifecycle::new();
        lifecycle.status = PatternStatus::Active;
        Pattern {
            kind,
            direction: Direction::Bullish,
            timeframe,
            anchor_at_ms: formed_at_ms,
            formed_at_ms,
            zone: Zone::new(Price::from_raw(1), Price::from_raw(2)),
            lifecycle,
            levels: None,
        }
    }

    fn with_status(mut pattern: Pattern, status: PatternStatus) -> Pattern {
        pattern.lifecycle.status = status;
        pattern
    }

    fn view(symbol: &str, timeframes: Vec<(Timeframe, Vec<Pattern>)>) -> Arc<AnalysisView> {
        let timeframes = timeframes
            .into_iter()
            .map(|(timeframe, mut patterns)| {
                patterns.sort_by(newest_first);
                Arc::new(TimeframeView {
                    timeframe,
                    latest: None,
                    patterns,
                    derived: DerivedCache::default(),
                })
            })
            .collect();
        Arc::new(AnalysisView {
            symbol: Symbol::parse(symbol).unwrap(),
            timeframes,
            signals: Arc::new(Vec::new()),
            matrix: Vec::new(),
        })
    }

    const FVG: PatternKind = PatternKind::FairValueGap;
    const OB: PatternKind = PatternKind::OrderBlock;

    fn sample() -> Vec<Arc<AnalysisView>> {
        let m1 = Timeframe::M1;
        let m5 = Timeframe::M5;
        vec![
            view(
                "BTCUSDT",
                vec![
                    (m1, vec![pattern(m1, 10, FVG), pattern(m1, 30, OB)]),
                    (m5, vec![pattern(m5, 20, FVG)]),
                ],
            ),
            view(
                "ETHUSDT",
                vec![(
                    m1,
                    vec![
                        pattern(m1, 30, FVG),
                        with_status(pattern(m1, 5, FVG), PatternStatus::Filled),
                    ],
                )],
            ),
        ]
    }

    /// (symbol, formed_at_ms) of each listed pattern.
    fn listed(page: &PatternPage) -> Vec<(String, i64)> {
        page.entries
            .iter()
            .map(|entry| (entry.symbol.to_string(), entry.pattern().formed_at_ms))
            .collect()
    }

    fn row(symbol: &str, formed_at_ms: i64) -> (String, i64) {
        (symbol.to_owned(), formed_at_ms)
    }

    #[test]
    fn lists_every_pattern_newest_first_then_by_symbol() {
        let views = sample();
        let page = PatternQuery::default().run(&views);
        assert_eq!(page.total, 5);
        assert_eq!(
            listed(&page),
            vec![
                row("BTCUSDT", 30),
                row("ETHUSDT", 30),
                row("BTCUSDT", 20),
                row("BTCUSDT", 10),
                row("ETHUSDT", 5),
            ]
        );
    }

    #[test]
    fn filters_by_symbol_timeframe_kind_and_status() {
        let views = sample();
        let run = |query: PatternQuery| listed(&query.run(&views));
        let btc = Symbol::parse("BTCUSDT").ok();
        let by_symbol = run(PatternQuery {
            symbol: btc,
            ..PatternQuery::default()
        });
        assert_eq!(
            by_symbol,
            vec![row("BTCUSDT", 30), row("BTCUSDT", 20), row("BTCUSDT", 10)]
        );
        let by_timeframe = run(PatternQuery {
            timeframe: Some(Timeframe::M5),
            ..PatternQuery::default()
        });
        assert_eq!(by_timeframe, vec![row("BTCUSDT", 20)]);
        let by_kind = run(PatternQuery {
            kind: Some(OB),
            ..PatternQuery::default()
        });
        assert_eq!(by_kind, vec![row("BTCUSDT", 30)]);
        let filled = run(PatternQuery {
            status: StatusFilter::Exactly(PatternStatus::Filled),
            ..PatternQuery::default()
        });
        assert_eq!(filled, vec![row("ETHUSDT", 5)]);
        let live = PatternQuery {
            status: StatusFilter::Live,
            ..PatternQuery::default()
        }
        .run(&views);
        assert_eq!(live.total, 4);
    }

    #[test]
    fn pages_by_offset_and_limit_counting_every_match() {
        let views = sample();
        let page = PatternQuery {
            offset: 1,
            limit: 2,
            ..PatternQuery::default()
        }
        .run(&views);
        assert_eq!((page.total, page.offset, page.limit), (5, 1, 2));
        assert_eq!(listed(&page), vec![row("ETHUSDT", 30), row("BTCUSDT", 20)]);
        let past_the_end = PatternQuery {
            offset: 7,
            ..PatternQuery::default()
        }
        .run(&views);
        assert_eq!(past_the_end.total, 5);
        assert!(past_the_end.entries.is_empty());
        let huge_offset = PatternQuery {
            offset: usize::MAX,
            ..PatternQuery::default()
        }
        .run(&views);
        assert!(huge_offset.entries.is_empty());
    }

    #[test]
    fn the_limit_is_capped() {
        let views = sample();
        let page = PatternQuery {
            limit: usize::MAX,
            ..PatternQuery::default()
        }
        .run(&views);
        assert_eq!(page.limit, PatternQuery::LIMIT_MAX);
        assert_eq!(page.entries.len(), 5);
    }

    #[test]
    fn no_views_give_an_empty_page() {
        let page = PatternQuery::default().run(&[]);
        assert_eq!(page.total, 0);
        assert!(page.entries.is_empty());
    }

    #[test]
    fn the_status_filter_accepts_what_it_names() {
        assert!(StatusFilter::Any.accepts(PatternStatus::Expired));
        assert!(StatusFilter::Live.accepts(PatternStatus::Touched));
        assert!(!StatusFilter::Live.accepts(PatternStatus::Invalidated));
        let filled = StatusFilter::Exactly(PatternStatus::Filled);
        assert!(filled.accepts(PatternStatus::Filled));
        assert!(!filled.accepts(PatternStatus::Active));
    }
}
