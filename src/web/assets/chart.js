// The symbol chart: candles + volume on the price pane, fair value gap / order block boxes,
// liquidity sweep markers, the current signal's entry/stop/target lines, optional overlays
// (EMA, SMA, Bollinger) and indicator panes (RSI, MACD).
//
// Prices arrive as decimal strings; the chart needs numbers, so they are converted with
// plotNumber for plotting only. The container's data-candles / data-zones /
// data-last-open-time attributes are kept current for the browser tests.

import {
  createChart, CandlestickSeries, HistogramSeries, LineSeries, createSeriesMarkers,
  ColorType, CrosshairMode, LineStyle, TickMarkType,
} from './lightweight-charts.mjs';
import { decimalsOf, plotNumber } from './format.js';
import { ZonesPrimitive, nearestBarIndex } from './chart-zones.js';
import { bollinger, ema, macd, rsi, sma } from './chart-indicators.js';

export const THEME = {
  background: '#0f1419',
  text: '#c9d1d9',
  grid: 'rgba(48, 54, 61, 0.55)',
  border: '#30363d',
  up: '#26a269',
  down: '#e5484d',
  upVolume: 'rgba(38, 162, 105, 0.45)',
  downVolume: 'rgba(229, 72, 77, 0.45)',
  entry: '#4da3ff',
  stop: '#e5484d',
  target: '#3fd68c',
  muted: '#8b949e',
};

/** The overlays and panes a user can toggle, with their colours. */
export const INDICATORS = [
  { key: 'ema12', label: 'EMA 12', colour: '#f0b429' },
  { key: 'ema26', label: 'EMA 26', colour: '#c678dd' },
  { key: 'sma20', label: 'SMA 20', colour: '#4da3ff' },
  { key: 'sma50', label: 'SMA 50', colour: '#e07b39' },
  { key: 'bb', label: 'Bollinger 20·2', colour: '#8b949e' },
  { key: 'rsi', label: 'RSI 14', colour: '#b392f0' },
  { key: 'macd', label: 'MACD 12·26·9', colour: '#4da3ff' },
];
/** `resolvedZones`: also draw the boxes of filled, invalidated and expired patterns. */
export const DEFAULT_INDICATORS = {
  ema12: true, ema26: true, sma20: false, sma50: false, bb: false, rsi: true, macd: true, resolvedZones: true,
};

const MAX_PRICE_DECIMALS = 10;
const FIT_MAX_CANDLES = 120;
const RSI_BANDS = [70, 30];
const MACD_SIGNAL_COLOUR = '#f778ba';

// ---- time in the browser's zone -------------------------------------------------------------

const CROSSHAIR_TIME = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});
const TICK_FORMATS = {
  [TickMarkType.Year]: new Intl.DateTimeFormat(undefined, { year: 'numeric' }),
  [TickMarkType.Month]: new Intl.DateTimeFormat(undefined, { month: 'short' }),
  [TickMarkType.DayOfMonth]: new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' }),
  [TickMarkType.Time]: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }),
  [TickMarkType.TimeWithSeconds]: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
};

// lightweight-charts works in UTC seconds; these render them in the local zone instead.
function crosshairTime(seconds) {
  return CROSSHAIR_TIME.format(new Date(seconds * 1000));
}

function tickMark(seconds, tickMarkType) {
  const format = TICK_FORMATS[tickMarkType] || TICK_FORMATS[TickMarkType.Time];
  return format.format(new Date(seconds * 1000));
}

// ---- conversions ----------------------------------------------------------------------------

const toSeconds = (ms) => Math.floor(ms / 1000);

function barOf(candle) {
  return {
    time: toSeconds(candle.t),
    open: plotNumber(candle.o),
    high: plotNumber(candle.h),
    low: plotNumber(candle.l),
    close: plotNumber(candle.c),
  };
}

function volumeOf(candle) {
  const rising = plotNumber(candle.c) >= plotNumber(candle.o);
  return { time: toSeconds(candle.t), value: plotNumber(candle.v) ?? 0, color: rising ? THEME.upVolume : THEME.downVolume };
}

function priceDecimalsOf(candles) {
  let decimals = 0;
  for (const candle of candles) {
    decimals = Math.max(decimals, decimalsOf(candle.o), decimalsOf(candle.h), decimalsOf(candle.l), decimalsOf(candle.c));
  }
  return Math.min(decimals, MAX_PRICE_DECIMALS);
}

function priceFormatOf(decimals) {
  return { type: 'price', precision: decimals, minMove: 1 / 10 ** decimals };
}

/** Points for a line series: one per bar, whitespace while the indicator warms up. */
function linePoints(times, values) {
  return times.map((time, i) => (values[i] === null ? { time } : { time, value: values[i] }));
}

function histogramPoints(times, values) {
  return times.map((time, i) => (values[i] === null
    ? { time }
    : { time, value: values[i], color: values[i] >= 0 ? THEME.upVolume : THEME.downVolume }));
}

const isLive = (pattern) => pattern.status === 'active' || pattern.status === 'touched';

/** Where a resolved pattern's box ends: when it resolved (or, lacking that, when last seen). */
function resolvedAtMs(pattern) {
  return pattern.filled_at ?? pattern.invalidated_at ?? pattern.expired_at ?? pattern.touched_at ?? pattern.formed_at;
}

const ZONE_LABELS = { fair_value_gap: 'FVG', order_block: 'OB' };

export function zoneOf(pattern) {
  const live = isLive(pattern);
  return {
    id: pattern.id,
    label: `${ZONE_LABELS[pattern.kind]}${pattern.status === 'touched' ? ' · touched' : ''}`,
    direction: pattern.direction,
    live,
    touched: pattern.status === 'touched',
    top: plotNumber(pattern.top),
    bottom: plotNumber(pattern.bottom),
    startTime: toSeconds(pattern.anchor_at ?? pattern.formed_at),
    endTime: live ? null : toSeconds(resolvedAtMs(pattern)),
  };
}

// ---- the chart ------------------------------------------------------------------------------

export class SymbolChart {
  /**
   * `container`: an empty element with a height; `indicators`: {key: boolean} (see INDICATORS).
   */
  constructor(container, { indicators = DEFAULT_INDICATORS } = {}) {
    this.container = container;
    this.candles = [];
    this.times = [];
    this.patterns = [];
    this.signal = null;
    this.zoneCount = 0;
    this.derivedTimer = null;
    this.decimals = 2;
    this.priceLines = [];
    this.indicatorSeries = [];
    this.toggles = { ...indicators };
    this.crosshairHandlers = new Set();
    this.chart = createChart(container, chartOptions());
    this.candleSeries = this.chart.addSeries(CandlestickSeries, {
      upColor: THEME.up, downColor: THEME.down, borderVisible: false,
      wickUpColor: THEME.up, wickDownColor: THEME.down,
      priceFormat: priceFormatOf(this.decimals),
    });
    this.candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });
    this.volumeSeries = this.chart.addSeries(HistogramSeries, {
      priceScaleId: 'volume', priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false,
    });
    this.volumeSeries.priceScale().applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    this.zones = new ZonesPrimitive();
    this.candleSeries.attachPrimitive(this.zones);
    this.markers = createSeriesMarkers(this.candleSeries, []);
    this.hoverTime = null;
    this.onCrosshairMove = (param) => {
      this.hoverTime = param.time ?? null;
      this.emitCrosshair();
    };
    this.chart.subscribeCrosshairMove(this.onCrosshairMove);
    this.buildIndicators();
    this.writeAttributes(0);
  }

  /** Replaces every candle (an array of CandleJson, oldest first). */
  setCandles(candles) {
    this.candles = [...candles].sort((a, b) => a.t - b.t);
    this.times = this.candles.map((candle) => toSeconds(candle.t));
    this.refreshPriceFormat();
    this.candleSeries.setData(this.candles.map(barOf));
    this.volumeSeries.setData(this.candles.map(volumeOf));
    this.fillIndicators();
    this.placeAnnotations();
    this.emitCrosshair();
    this.fitShortHistory();
  }

  /**
   * A short history would sit in a corner at the default bar spacing: spread it over the
   * width (while it stays short, so live growth keeps it spread).
   */
  fitShortHistory() {
    if (this.candles.length > 1 && this.candles.length < FIT_MAX_CANDLES) {
      this.chart.timeScale().fitContent();
    }
  }

  /**
   * Adds or replaces one candle (a live event). Newer candles extend the chart, the same open
   * time replaces the bar; an older one is merged in place. The bar shows at once; indicators,
   * zones and the legend follow in one pass per burst of events.
   */
  applyCandle(candle) {
    const last = this.candles[this.candles.length - 1];
    if (!last || candle.t > last.t) {
      this.candles.push(candle);
      this.times.push(toSeconds(candle.t));
    } else if (candle.t === last.t) {
      this.candles[this.candles.length - 1] = candle;
    } else {
      const index = this.candles.findIndex((known) => known.t === candle.t);
      if (index < 0) {
        this.setCandles([...this.candles, candle]);
        return;
      }
      this.candles[index] = candle;
    }
    const historical = Boolean(last) && candle.t < last.t;
    this.refreshPriceFormat(candle);
    this.candleSeries.update(barOf(candle), historical);
    this.volumeSeries.update(volumeOf(candle), historical);
    this.writeAttributes(this.zoneCount);
    this.scheduleDerived();
  }

  /** Recomputes what depends on every candle once the current burst of events is in. */
  scheduleDerived() {
    if (this.derivedTimer) return;
    this.derivedTimer = setTimeout(() => {
      this.derivedTimer = null;
      this.fillIndicators();
      // A new bar can be where a resolved zone ends or a sweep happened.
      this.placeAnnotations();
      this.emitCrosshair();
      this.fitShortHistory();
    }, 0);
  }

  /** Patterns of the shown timeframe (PatternJson): boxes for gaps/blocks, markers for sweeps. */
  setPatterns(patterns) {
    this.patterns = patterns;
    this.placeAnnotations();
  }

  /** The signal whose levels are drawn as price lines (SignalJson), or null. */
  setSignal(signal) {
    this.signal = signal;
    this.placePriceLines();
  }

  setIndicators(toggles) {
    const before = this.toggles;
    this.toggles = { ...toggles };
    if (INDICATORS.some(({ key }) => Boolean(before[key]) !== Boolean(this.toggles[key]))) this.buildIndicators();
    if (before.resolvedZones !== this.toggles.resolvedZones) this.placeAnnotations();
  }

  /** Calls `handler(candle|null)` with the bar under the crosshair (or the newest). Returns off(). */
  onCrosshair(handler) {
    this.crosshairHandlers.add(handler);
    return () => this.crosshairHandlers.delete(handler);
  }

  /** Scrolls so the bar at `ms` (or the nearest one) is in view, a little right of centre. */
  focusTime(ms) {
    if (this.times.length === 0) return;
    const index = nearestBarIndex(this.times, toSeconds(ms));
    const range = this.chart.timeScale().getVisibleLogicalRange();
    const width = range ? range.to - range.from : 120;
    this.chart.timeScale().setVisibleLogicalRange({ from: index - width * 0.4, to: index + width * 0.6 });
  }

  get priceDecimals() {
    return this.decimals;
  }

  remove() {
    clearTimeout(this.derivedTimer);
    this.derivedTimer = null;
    this.crosshairHandlers.clear();
    this.chart.unsubscribeCrosshairMove(this.onCrosshairMove);
    this.chart.remove();
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * The precision shown: the most decimals any price string carries (the server trims
   * trailing zeros, so one candle alone may carry fewer). True if it changed.
   */
  refreshPriceFormat(newCandle = null) {
    const decimals = newCandle && this.candles.length > 1
      ? Math.max(this.decimals, priceDecimalsOf([newCandle]))
      : (this.candles.length > 0 ? priceDecimalsOf(this.candles) : 2);
    if (decimals === this.decimals) return false;
    this.decimals = decimals;
    this.candleSeries.applyOptions({ priceFormat: priceFormatOf(decimals) });
    for (const { key, series } of this.indicatorSeries) {
      const format = this.indicatorFormat(key);
      if (format) series.applyOptions({ priceFormat: format });
    }
    return true;
  }

  placeAnnotations() {
    const zones = this.patterns
      .filter((pattern) => ZONE_LABELS[pattern.kind])
      .map(zoneOf)
      .filter((zone) => zone.live || this.toggles.resolvedZones !== false)
      // Live boxes last, so they are painted over resolved ones.
      .sort((a, b) => Number(a.live) - Number(b.live) || a.startTime - b.startTime);
    this.zoneCount = this.zones.setZones(zones, this.times);
    this.markers.setMarkers(this.sweepMarkers());
    this.writeAttributes(this.zoneCount);
  }

  sweepMarkers() {
    if (this.times.length === 0) return [];
    const first = this.times[0];
    const last = this.times[this.times.length - 1];
    return this.patterns
      .filter((pattern) => pattern.kind === 'liquidity_sweep')
      .map((pattern) => ({ pattern, time: toSeconds(pattern.formed_at) }))
      .filter(({ time }) => time >= first && time <= last)
      .map(({ pattern, time }) => {
        const bullish = pattern.direction === 'bullish';
        return {
          id: pattern.id,
          time: this.times[nearestBarIndex(this.times, time)],
          position: bullish ? 'belowBar' : 'aboveBar',
          shape: bullish ? 'arrowUp' : 'arrowDown',
          color: bullish ? THEME.up : THEME.down,
        };
      })
      .sort((a, b) => a.time - b.time);
  }

  placePriceLines() {
    for (const line of this.priceLines) this.candleSeries.removePriceLine(line);
    this.priceLines = [];
    const levels = this.signal?.levels;
    if (!levels) return;
    const line = (price, title, color, lineStyle) => {
      const value = plotNumber(price);
      if (value === null) return;
      this.priceLines.push(this.candleSeries.createPriceLine({
        price: value, title, color, lineStyle, lineWidth: 1, axisLabelVisible: true,
      }));
    };
    line(levels.entry, 'Entry', THEME.entry, LineStyle.Solid);
    line(levels.stop, 'Stop', THEME.stop, LineStyle.Dashed);
    levels.targets.forEach((target, i) => line(target, `T${i + 1}`, THEME.target, LineStyle.Dotted));
  }

  /** Overlays print like prices; MACD values are price differences, so two digits finer. */
  indicatorFormat(key) {
    if (key.startsWith('macd')) return priceFormatOf(Math.min(this.decimals + 2, MAX_PRICE_DECIMALS));
    if (key === 'rsi') return { type: 'price', precision: 2, minMove: 0.01 };
    return priceFormatOf(this.decimals);
  }

  /** (Re)creates the enabled overlays and panes; the price pane is pane 0. */
  buildIndicators() {
    for (const { series } of this.indicatorSeries) this.chart.removeSeries(series);
    this.indicatorSeries = [];
    const add = (key, type, options, pane) => {
      const series = this.chart.addSeries(type, {
        priceLineVisible: false, lastValueVisible: pane > 0, crosshairMarkerVisible: pane > 0, lineWidth: 1,
        priceFormat: this.indicatorFormat(key), ...options,
      }, pane);
      this.indicatorSeries.push({ key, series });
      return series;
    };
    const colour = (key) => INDICATORS.find((indicator) => indicator.key === key).colour;
    for (const key of ['ema12', 'ema26', 'sma20', 'sma50']) {
      if (this.toggles[key]) add(key, LineSeries, { color: colour(key) }, 0);
    }
    if (this.toggles.bb) {
      add('bbUpper', LineSeries, { color: colour('bb') }, 0);
      add('bbMiddle', LineSeries, { color: colour('bb'), lineStyle: LineStyle.Dashed }, 0);
      add('bbLower', LineSeries, { color: colour('bb') }, 0);
    }
    let pane = 1;
    if (this.toggles.rsi) {
      const series = add('rsi', LineSeries, {
        color: colour('rsi'),
        autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
      }, pane);
      for (const band of RSI_BANDS) {
        series.createPriceLine({ price: band, color: THEME.muted, lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: false, title: '' });
      }
      pane += 1;
    }
    if (this.toggles.macd) {
      add('macdHistogram', HistogramSeries, {}, pane);
      add('macd', LineSeries, { color: colour('macd') }, pane);
      add('macdSignal', LineSeries, { color: MACD_SIGNAL_COLOUR }, pane);
    }
    this.sizePanes();
    this.fillIndicators();
  }

  /** The price pane keeps most of the height; indicator panes share the rest. */
  sizePanes() {
    const panes = this.chart.panes();
    panes.forEach((pane, index) => pane.setStretchFactor(index === 0 ? 3 : 1));
  }

  computeIndicators() {
    const closes = this.candles.map((candle) => plotNumber(candle.c));
    const values = {};
    const wanted = (key) => this.indicatorSeries.some((entry) => entry.key === key);
    if (wanted('ema12')) values.ema12 = ema(closes, 12);
    if (wanted('ema26')) values.ema26 = ema(closes, 26);
    if (wanted('sma20')) values.sma20 = sma(closes, 20);
    if (wanted('sma50')) values.sma50 = sma(closes, 50);
    if (wanted('bbMiddle')) {
      const bands = bollinger(closes, 20, 2);
      Object.assign(values, { bbUpper: bands.upper, bbMiddle: bands.middle, bbLower: bands.lower });
    }
    if (wanted('rsi')) values.rsi = rsi(closes, 14);
    if (wanted('macd')) {
      const lines = macd(closes, 12, 26, 9);
      Object.assign(values, { macd: lines.macd, macdSignal: lines.signal, macdHistogram: lines.histogram });
    }
    return values;
  }

  fillIndicators() {
    const values = this.computeIndicators();
    for (const { key, series } of this.indicatorSeries) {
      const points = key === 'macdHistogram' ? histogramPoints(this.times, values[key]) : linePoints(this.times, values[key]);
      series.setData(points);
    }
  }

  /** Tells the legend which bar to show: the hovered one, else the newest. */
  emitCrosshair() {
    if (this.crosshairHandlers.size === 0) return;
    let candle = this.candles[this.candles.length - 1] ?? null;
    if (this.hoverTime !== null && this.times.length > 0) {
      const index = nearestBarIndex(this.times, this.hoverTime);
      if (this.times[index] === this.hoverTime) candle = this.candles[index];
    }
    for (const handler of this.crosshairHandlers) handler(candle);
  }

  writeAttributes(zoneCount) {
    const last = this.candles[this.candles.length - 1];
    this.container.dataset.candles = String(this.candles.length);
    this.container.dataset.zones = String(zoneCount);
    this.container.dataset.lastOpenTime = last ? String(last.t) : '';
  }
}

function chartOptions() {
  return {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: THEME.background },
      textColor: THEME.text,
      fontSize: 11,
      fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      // The logo injects an inline <style>, which the CSP forbids; the page credits
      // TradingView with a link under the chart instead.
      attributionLogo: false,
      panes: { separatorColor: THEME.border, separatorHoverColor: 'rgba(77, 163, 255, 0.25)', enableResize: true },
    },
    grid: { vertLines: { color: THEME.grid }, horzLines: { color: THEME.grid } },
    crosshair: { mode: CrosshairMode.Normal },
    rightPriceScale: { borderColor: THEME.border },
    timeScale: {
      borderColor: THEME.border, timeVisible: true, secondsVisible: false, rightOffset: 6,
      // Keeps a short history from ballooning into a few giant bars when spread out.
      maxBarSpacing: 24,
      tickMarkFormatter: tickMark,
    },
    localization: { timeFormatter: crosshairTime },
  };
}
