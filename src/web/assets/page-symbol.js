// The Symbol page (#/symbol/BTCUSDT/5m): one symbol's chart on one timeframe, with its
// pattern zones, sweeps, current signal levels and indicator panes, extended live from the
// stream; below it the symbol's patterns (this timeframe) and signals.

import { h, clear, replace, table, loading, errorBox, badge, debounce, select } from './dom.js';
import { formatDecimal, formatPrice, formatQuantity, formatShortTime, formatTime, formatPercent, formatAge, decimalsOf } from './format.js';
import { SymbolChart, INDICATORS, DEFAULT_INDICATORS } from './chart.js';

const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '2h', '4h', '1d'];
const DEFAULT_TIMEFRAME = '5m';
const CANDLE_LIMIT = 500;
const PATTERN_LIMIT = 300;
const ROWS_FIRST = 20;
const ROWS_MORE = 50;
const LIVE_REFRESH_MS = 250;
const SERVER_INDICATORS_REFRESH_MS = 1000;
const LAST_SYMBOL_KEY = 'cryptolens.symbol.last';
const INDICATORS_KEY = 'cryptolens.chart.indicators';

const KIND_NAMES = { fair_value_gap: 'Fair value gap', order_block: 'Order block', liquidity_sweep: 'Liquidity sweep' };
const KIND_SHORT = { fair_value_gap: 'FVG', order_block: 'OB', liquidity_sweep: 'Sweep' };
const PATTERN_STATUS_BADGES = { active: 'ok', touched: 'warn', filled: 'muted', invalidated: 'bad', expired: 'muted' };
const SIGNAL_STATUS_BADGES = { live: 'ok', expired: 'muted', flipped: 'warn' };

export default {
  id: 'symbol',
  title: 'Chart',
  nav: true,
  role: 'viewer',
  route: /^symbol\/([^/]+)(?:\/([^/]+))?$/,
  async mount(root, ctx, params) {
    const page = new SymbolPage(root, ctx);
    await page.start(params[0], params[1]);
    return () => page.stop();
  },
};

// ---- small helpers ----------------------------------------------------------------------------

function ensureStylesheet() {
  const href = new URL('./chart.css', import.meta.url).href;
  for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
    if (link.href === href) return;
  }
  document.head.append(h('link', { rel: 'stylesheet', href }));
}

function readStored(key, fallback) {
  try {
    const text = localStorage.getItem(key);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or a full quota: the preference just does not persist.
  }
}

/** For a bare #/symbol: the last symbol viewed if it is still held, else the first one. */
function defaultSymbol(symbols) {
  const last = readStored(LAST_SYMBOL_KEY, null);
  if (!symbols) return last;
  return symbols.some((entry) => entry.symbol === last) ? last : symbols[0]?.symbol;
}

function directionBadge(direction) {
  return badge(direction, direction === 'bearish' ? 'bearish' : 'bullish');
}

/** The full name, and an abbreviation that replaces it on narrow screens (chart.css). */
function kindName(kind) {
  return [h('span', { class: 'kind-long' }, KIND_NAMES[kind] || kind),
    h('abbr', { class: 'kind-short', title: KIND_NAMES[kind] || kind }, KIND_SHORT[kind] || kind)];
}

function patternEndMs(pattern) {
  return pattern.filled_at ?? pattern.invalidated_at ?? pattern.expired_at ?? null;
}

function isLivePattern(pattern) {
  return pattern.status === 'active' || pattern.status === 'touched';
}

/** Live patterns first, then newest formed first. */
function comparePatterns(a, b) {
  return Number(isLivePattern(b)) - Number(isLivePattern(a)) || b.formed_at - a.formed_at;
}

/** The server's order: live signals first, then newest first. */
function compareSignals(a, b) {
  return Number(b.status === 'live') - Number(a.status === 'live') || b.updated_at - a.updated_at;
}

/** For a stream without onReconnect (the contract's minimum): calls `handler` when live again. */
function onRecovery(stream, handler) {
  let wasLive = stream.status === 'live';
  return stream.onStatus((status) => {
    if (status === 'live' && !wasLive) handler();
    wasLive = status === 'live';
  });
}

function upsert(list, item) {
  const index = list.findIndex((known) => known.id === item.id);
  if (index >= 0) list[index] = item;
  else list.push(item);
}

// ---- the page ---------------------------------------------------------------------------------

class SymbolPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.chart = null;
    this.patterns = [];
    this.signals = [];
    this.cleanups = [];
    this.stopped = false;
    this.toggles = { ...DEFAULT_INDICATORS, ...readStored(INDICATORS_KEY, {}) };
    this.rowLimits = { patterns: ROWS_FIRST, signals: ROWS_FIRST };
  }

  async start(symbolParam, timeframeParam) {
    ensureStylesheet();
    this.setState('loading');
    replace(this.root, loading('Loading chart…'));
    let symbolsError = null;
    const symbols = await this.ctx.api.get('/api/symbols').then((answer) => answer.symbols, (error) => {
      symbolsError = error;
      return null;
    });
    if (this.stopped) return;
    this.symbol = (symbolParam || defaultSymbol(symbols) || '').toUpperCase();
    this.timeframe = timeframeParam || DEFAULT_TIMEFRAME;
    if (!this.symbol && symbolsError) {
      replace(this.root, errorBox(symbolsError, () => this.ctx.navigate('symbol')));
      this.setState('error');
      return;
    }
    if (!this.symbol) {
      this.showMessage('No symbols yet', 'Nothing has been ingested. Add a symbol on the Operations page or POST candles to /api/candles.');
      return;
    }
    if (!TIMEFRAMES.includes(this.timeframe)) {
      this.showMessage('Unknown timeframe', `“${this.timeframe}” is not one of ${TIMEFRAMES.join(', ')}.`, 'error');
      return;
    }
    if (!symbolParam || !timeframeParam) {
      // A bare #/symbol (the nav link) shows the last symbol: make the address say which.
      history.replaceState(null, '', `#/symbol/${encodeURIComponent(this.symbol)}/${this.timeframe}`);
    }
    this.symbolInfo = symbols?.find((entry) => entry.symbol === this.symbol) ?? null;
    // Known to be absent: wait for its first candles rather than ask for what is not there.
    this.awaitingFirstCandle = Boolean(symbols) && !this.symbolInfo;
    if (!this.awaitingFirstCandle) store(LAST_SYMBOL_KEY, this.symbol);
    this.render(symbols);
    this.listenLive();
    await this.load();
  }

  stop() {
    this.stopped = true;
    this.isLoading = false;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.chart) this.chart.remove();
    this.chart = null;
  }

  setState(state) {
    this.root.dataset.state = state;
  }

  showMessage(title, text, state = 'ready') {
    replace(this.root, h('div', { class: 'message-page' }, h('h1', null, title), h('p', null, text)));
    this.setState(state);
  }

  navigateTo(symbol, timeframe) {
    this.ctx.navigate(`symbol/${encodeURIComponent(symbol)}/${timeframe}`);
  }

  // ---- layout ---------------------------------------------------------------------------------

  render(symbols) {
    this.chartBox = h('div', { id: 'symbol-chart', class: 'symbol-chart', role: 'img',
      'aria-label': `${this.symbol} ${this.timeframe} candlestick chart` });
    this.chartBox.dataset.candles = '0';
    this.chartBox.dataset.zones = '0';
    this.chartBox.dataset.lastOpenTime = '';
    this.chartStatus = h('div', { class: 'symbol-chart-status', role: 'status' }, loading('Loading candles…'));
    this.legend = h('div', { class: 'symbol-legend', 'aria-live': 'off' });
    this.lastPrice = h('span', { class: 'symbol-last-price' });
    this.serverIndicators = h('div', { class: 'symbol-server-indicators muted' });
    this.signalCard = h('section', { class: 'card symbol-signal', 'aria-label': 'Current signal' });
    this.patternsSection = h('section', { class: 'symbol-section' });
    this.signalsSection = h('section', { class: 'symbol-section' });
    replace(this.root,
      h('div', { class: 'page-header symbol-header' },
        h('div', { class: 'symbol-title' }, h('h1', null, this.symbol), this.lastPrice),
        h('div', { class: 'page-actions' }, this.symbolPicker(symbols))),
      h('div', { class: 'symbol-toolbar' }, this.timeframeButtons(), this.indicatorButtons()),
      this.legend,
      h('div', { class: 'symbol-chart-wrap' }, this.chartBox, this.chartStatus),
      h('div', { class: 'symbol-chart-foot' },
        h('div', { class: 'symbol-chart-key muted' },
          h('span', { class: 'symbol-key-box symbol-key-bull', 'aria-hidden': 'true' }),
          h('span', { class: 'symbol-key-box symbol-key-bear', 'aria-hidden': 'true' }), ' active FVG / OB zone · ',
          h('span', { class: 'symbol-key-box symbol-key-resolved', 'aria-hidden': 'true' }), ' mitigated · ',
          h('span', { class: 'pos' }, '▲'), h('span', { class: 'neg' }, '▼'), ' liquidity sweep · lines: entry, stop, T1–T3 of the live signal'),
        this.serverIndicators,
        h('a', { class: 'symbol-attribution muted', href: 'https://www.tradingview.com/', target: '_blank', rel: 'noopener noreferrer' },
          'Charts by TradingView Lightweight Charts™')),
      this.signalCard,
      h('div', { class: 'grid symbol-lists' }, this.patternsSection, this.signalsSection));
    this.chartBox.style.height = 'clamp(300px, 60vh, 760px)';
    this.chart = new SymbolChart(this.chartBox, { indicators: this.toggles });
    this.cleanups.push(this.chart.onCrosshair((candle) => this.showLegend(candle)));
    this.renderSignalCard();
    this.renderPatterns();
    this.renderSignals();
  }

  symbolPicker(symbols) {
    if (!symbols || symbols.length === 0) return null;
    const names = symbols.map((entry) => entry.symbol);
    if (!names.includes(this.symbol)) names.unshift(this.symbol);
    const picker = select({ id: 'symbol-picker', 'aria-label': 'Symbol' }, names, this.symbol);
    picker.addEventListener('change', () => this.navigateTo(picker.value, this.timeframe));
    return picker;
  }

  timeframeButtons() {
    const available = this.symbolInfo?.timeframes;
    return h('div', { class: 'symbol-timeframes', role: 'group', 'aria-label': 'Timeframe' },
      TIMEFRAMES.map((timeframe) => {
        const current = timeframe === this.timeframe;
        const unavailable = Array.isArray(available) && available.length > 0 && !available.includes(timeframe);
        return h('button', {
          type: 'button',
          class: ['secondary', 'small', current && 'is-current'],
          dataset: { timeframe },
          'aria-pressed': String(current),
          disabled: unavailable && !current,
          title: unavailable ? `${this.symbol} has no ${timeframe} candles (base timeframe ${this.symbolInfo.base_timeframe})` : `Show ${timeframe} candles`,
          onclick: () => { if (!current) this.navigateTo(this.symbol, timeframe); },
        }, timeframe);
      }));
  }

  indicatorButtons() {
    const toggles = [...INDICATORS, { key: 'resolvedZones', label: 'Mitigated zones', colour: 'rgba(139, 148, 158, 0.6)',
      title: 'Also draw the boxes of filled, invalidated and expired patterns (hatched)' }];
    return h('div', { class: 'symbol-indicators', role: 'group', 'aria-label': 'Overlays and indicators' },
      toggles.map(({ key, label, colour, title }) => {
        const button = h('button', {
          type: 'button', class: ['secondary', 'small', 'symbol-indicator'], dataset: { indicator: key },
          'aria-pressed': String(Boolean(this.toggles[key])), title,
        }, h('span', { class: 'symbol-swatch', 'aria-hidden': 'true' }), label);
        button.firstChild.style.background = colour;
        button.addEventListener('click', () => {
          this.toggles = { ...this.toggles, [key]: !this.toggles[key] };
          button.setAttribute('aria-pressed', String(this.toggles[key]));
          store(INDICATORS_KEY, this.toggles);
          this.chart.setIndicators(this.toggles);
        });
        return button;
      }));
  }

  // ---- data -----------------------------------------------------------------------------------

  /**
   * Fetches candles, patterns, signals and the server's indicator values. Live events that
   * arrive meanwhile are queued and replayed on top, so none is lost to the race.
   */
  async load() {
    const unavailable = this.unavailableReason();
    if (unavailable) {
      this.chart.setCandles([]);
      replace(this.chartStatus, h('p', { class: 'muted' }, unavailable));
      this.chartStatus.hidden = false;
      this.setState('ready');
      return;
    }
    this.isLoading = true;
    this.queuedEvents = [];
    const { api } = this.ctx;
    const symbolPath = encodeURIComponent(this.symbol);
    const [candles, patterns, signals, indicators] = await Promise.allSettled([
      api.get(`/api/candles/${symbolPath}/${this.timeframe}`, { limit: CANDLE_LIMIT }),
      api.get('/api/patterns', { symbol: this.symbol, timeframe: this.timeframe, limit: PATTERN_LIMIT }),
      api.get('/api/signals', { symbol: this.symbol }),
      api.get(`/api/indicators/${symbolPath}/${this.timeframe}`),
    ]);
    if (this.stopped) return;
    this.patternsError = patterns.status === 'rejected' ? patterns.reason : null;
    this.signalsError = signals.status === 'rejected' ? signals.reason : null;
    if (patterns.status === 'fulfilled') {
      this.patterns = patterns.value.patterns;
    }
    if (signals.status === 'fulfilled') this.signals = signals.value.signals;
    this.renderServerIndicators(indicators.status === 'fulfilled' ? indicators.value : null);
    if (candles.status === 'rejected') {
      replace(this.chartStatus, errorBox(candles.reason, () => this.reload()));
      this.chartStatus.hidden = false;
      this.setState('error');
    } else {
      this.chart.setCandles(candles.value.candles);
      this.showChartStatus();
      this.setState('ready');
    }
    this.isLoading = false;
    for (const event of this.queuedEvents.splice(0)) this.onEvent(event);
    this.refreshAnnotations();
    if (this.reloadWanted) {
      this.reloadWanted = false;
      await this.load();
    }
  }

  /** Why there is nothing to fetch for this symbol and timeframe, or null. */
  unavailableReason() {
    if (this.awaitingFirstCandle) {
      return `${this.symbol} has no candles on this server yet. They appear here as soon as they are ingested.`;
    }
    const available = this.symbolInfo?.timeframes;
    if (Array.isArray(available) && available.length > 0 && !available.includes(this.timeframe)) {
      return `${this.symbol} has no ${this.timeframe} candles: its base timeframe is ${this.symbolInfo.base_timeframe}. Pick ${available.join(', ')}.`;
    }
    return null;
  }

  async loadServerIndicators() {
    const symbolPath = encodeURIComponent(this.symbol);
    const answer = await this.ctx.api.get(`/api/indicators/${symbolPath}/${this.timeframe}`).catch(() => null);
    if (!this.stopped) this.renderServerIndicators(answer);
  }

  /** Loads everything again, e.g. after the stream was down and events may have been missed. */
  async reload() {
    if (this.isLoading) {
      this.reloadWanted = true;
      return;
    }
    replace(this.chartStatus, loading('Loading candles…'));
    this.chartStatus.hidden = false;
    await this.load();
  }

  showChartStatus() {
    const empty = this.chart.candles.length === 0;
    clear(this.chartStatus);
    if (empty) {
      this.chartStatus.append(h('p', { class: 'muted' },
        `No ${this.timeframe} candles for ${this.symbol} yet. New candles appear here as they close.`));
    }
    this.chartStatus.hidden = !empty;
  }

  listenLive() {
    const { stream } = this.ctx;
    this.refreshLists = debounce(() => { if (!this.stopped) this.refreshAnnotations(); }, LIVE_REFRESH_MS);
    // 'health' too: the server sends its "lagged" notice (events dropped) on that channel.
    const off = stream.listen({ kinds: ['candle', 'pattern', 'signal', 'health'], symbols: [this.symbol] }, (event) => {
      if (this.stopped) return;
      if (this.isLoading) this.queuedEvents.push(event);
      else this.onEvent(event);
    });
    // Events sent while the socket was down, or dropped by a lagging server, are lost:
    // reload then.
    const resync = () => { if (!this.stopped) this.reload(); };
    const offStatus = stream.onReconnect ? stream.onReconnect(resync) : onRecovery(stream, resync);
    // The server's indicator values move with each closed candle; one fetch per burst.
    this.refreshServerIndicators = debounce(() => this.loadServerIndicators(), SERVER_INDICATORS_REFRESH_MS);
    this.cleanups.push(off, offStatus, () => this.refreshLists.cancel(), () => this.refreshServerIndicators.cancel());
  }

  onEvent(event) {
    if (event.type === 'candle') {
      this.onCandle(event);
    } else if (event.type === 'pattern' && event.pattern?.timeframe === this.timeframe) {
      upsert(this.patterns, event.pattern);
      this.refreshLists();
    } else if (event.type === 'signal' && event.signal) {
      upsert(this.signals, event.signal);
      this.refreshLists();
    }
  }

  onCandle(event) {
    if (event.symbol !== this.symbol || event.timeframe !== this.timeframe || !event.candle) return;
    if (this.awaitingFirstCandle) {
      // A new symbol: from now on the server has it, patterns and signals included.
      this.awaitingFirstCandle = false;
      store(LAST_SYMBOL_KEY, this.symbol);
    }
    // The chart first, at once: the tests expect the bar within a second of the POST.
    this.chart.applyCandle(event.candle);
    if (!this.chartStatus.hidden) this.showChartStatus();
    this.refreshServerIndicators();
  }

  refreshAnnotations() {
    this.patterns.sort(comparePatterns);
    this.signals.sort(compareSignals);
    this.chart.setPatterns(this.patterns);
    this.chart.setSignal(this.currentSignal());
    this.renderSignalCard();
    this.renderPatterns();
    this.renderSignals();
  }

  currentSignal() {
    return this.signals.find((signal) => signal.status === 'live') ?? null;
  }

  /** Price decimals: the chart's (from the candles) once loaded, else as the strings carry. */
  price(text) {
    return formatPrice(text, this.chart && this.chart.candles.length > 0 ? this.chart.priceDecimals : decimalsOf(text));
  }

  // ---- rendering ------------------------------------------------------------------------------

  showLegend(candle) {
    clear(this.legend);
    if (!candle) {
      this.lastPrice.textContent = '';
      return;
    }
    const rising = Number.parseFloat(candle.c) >= Number.parseFloat(candle.o);
    const value = (label, text) => h('span', { class: 'symbol-legend-item' },
      h('span', { class: 'muted' }, label), ' ', h('span', { class: rising ? 'pos' : 'neg' }, text));
    this.legend.append(
      h('span', { class: 'symbol-legend-time' }, formatTime(candle.t), candle.closed === false ? ' (forming)' : ''),
      value('O', this.price(candle.o)), value('H', this.price(candle.h)),
      value('L', this.price(candle.l)), value('C', this.price(candle.c)),
      h('span', { class: 'symbol-legend-item' }, h('span', { class: 'muted' }, 'V'), ' ', formatQuantity(candle.v)));
    const newest = this.chart.candles[this.chart.candles.length - 1];
    if (newest) this.lastPrice.textContent = this.price(newest.c);
  }

  renderServerIndicators(answer) {
    clear(this.serverIndicators);
    const values = answer?.indicators;
    if (!values) return;
    const number = (value, digits = 2) => (value === null || value === undefined ? '—' : Number(value).toFixed(digits));
    if (Object.values(values).every((value) => value === null)) {
      this.serverIndicators.append(`Server indicators warming up at ${formatShortTime(answer.candle_open_time)}: more candles needed.`);
      return;
    }
    const macdDigits = Math.min((this.chart?.priceDecimals ?? 2) + 2, 8);
    this.serverIndicators.append(
      `Server indicators, candle of ${formatShortTime(answer.candle_open_time)}: `,
      `RSI 14 ${number(values.rsi_14)} · MACD ${number(values.macd, macdDigits)} / ${number(values.macd_signal, macdDigits)}`,
      ` · ATR 14 ${number(values.atr_14, macdDigits)} · Stoch ${number(values.stoch_k)} / ${number(values.stoch_d)}`);
  }

  renderSignalCard() {
    clear(this.signalCard);
    const signal = this.currentSignal();
    if (!signal) {
      this.signalCard.append(h('h2', null, 'Current signal'),
        h('p', { class: 'muted' }, this.signalsError ? 'Signals could not be loaded.' : `No live signal for ${this.symbol}.`));
      return;
    }
    const levels = signal.levels;
    const rows = levels ? [
      ['Entry', this.price(levels.entry)], ['Stop', this.price(levels.stop)],
      ...levels.targets.map((target, i) => [`Target ${i + 1}`, this.price(target)]),
      ['Risk : reward', formatDecimal(levels.risk_reward, 2)],
    ] : [];
    replace(this.signalCard,
      h('h2', null, h('span', null, 'Current signal ', directionBadge(signal.direction), ' ',
        signal.stale ? badge('stale feed', 'warn', 'No fresh candle confirms this signal') : null),
      h('span', { class: 'muted symbol-signal-age' }, `since ${formatShortTime(signal.created_at)} · ${formatAge(signal.created_at)} ago`)),
      h('div', { class: 'symbol-signal-body' },
        h('dl', { class: 'levels symbol-levels' }, rows.map(([label, text]) => [h('dt', null, label), h('dd', null, text)]),
          h('dt', null, 'Confidence'), h('dd', null, formatPercent(signal.confidence)),
          h('dt', null, 'Confluence'), h('dd', null, `${signal.confluence} of ${signal.timeframes_with_data} timeframes`),
          h('dt', null, 'Entry timeframe'), h('dd', null, signal.entry_timeframe)),
        h('ul', { class: 'reasons' }, signal.reasons.map((reason) => h('li', null, reason)))),
      this.ctx.canAct('trader') ? h('a', { href: '#/signals', class: 'button small secondary' }, 'Paper trade it on the Signals page') : null);
  }

  renderPatterns() {
    const columns = [
      { label: 'Formed', render: (p) => formatShortTime(p.formed_at), className: 'nowrap' },
      { label: 'Kind', render: (p) => kindName(p.kind) },
      { label: 'Direction', render: (p) => directionBadge(p.direction) },
      { label: 'Zone', render: (p) => `${this.price(p.bottom)} – ${this.price(p.top)}`, className: 'num' },
      { label: 'Status', render: (p) => badge(p.status, PATTERN_STATUS_BADGES[p.status] || 'muted') },
      { label: 'Ended', render: (p) => formatShortTime(patternEndMs(p)), className: 'nowrap hide-narrow' },
      { label: '', render: (p) => this.showOnChartButton(p) },
    ];
    const rows = this.patterns.slice(0, this.rowLimits.patterns);
    this.renderList(this.patternsSection, `${this.timeframe} patterns`, this.patternsError, rows.length, this.patterns.length,
      () => this.showMoreRows('patterns'),
      table(columns, rows, {
        id: 'symbol-patterns',
        rowAttrs: (p) => ({ dataset: { patternId: p.id, status: p.status } }),
        empty: this.patternsError ? 'Patterns could not be loaded.' : `No ${this.timeframe} patterns detected yet.`,
      }));
  }

  showOnChartButton(pattern) {
    return h('button', {
      type: 'button', class: 'secondary small', title: 'Scroll the chart to this pattern',
      'aria-label': `Show the ${KIND_NAMES[pattern.kind] || pattern.kind} of ${formatShortTime(pattern.formed_at)} on the chart`,
      onclick: () => {
        this.chart.focusTime(pattern.anchor_at ?? pattern.formed_at);
        this.chartBox.parentElement.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      },
    }, 'Show');
  }

  renderSignals() {
    const columns = [
      { label: 'Created', render: (s) => formatShortTime(s.created_at), className: 'nowrap' },
      { label: 'Direction', render: (s) => directionBadge(s.direction) },
      { label: 'Status', render: (s) => [badge(s.status, SIGNAL_STATUS_BADGES[s.status] || 'muted'), s.stale ? [' ', badge('stale', 'warn')] : null] },
      { label: 'Confidence', render: (s) => formatPercent(s.confidence), className: 'num' },
      { label: 'Entry', render: (s) => (s.levels ? this.price(s.levels.entry) : '—'), className: 'num' },
      { label: 'Stop', render: (s) => (s.levels ? this.price(s.levels.stop) : '—'), className: 'num' },
      { label: 'Targets', render: (s) => (s.levels ? s.levels.targets.map((t) => this.price(t)).join(' / ') : '—'), className: 'num hide-narrow' },
      { label: 'R:R', render: (s) => (s.levels ? formatDecimal(s.levels.risk_reward, 2) : '—'), className: 'num' },
      { label: 'TF', render: (s) => s.entry_timeframe, className: 'hide-narrow' },
      { label: 'Ended', render: (s) => formatShortTime(s.ended_at), className: 'nowrap hide-narrow' },
    ];
    const rows = this.signals.slice(0, this.rowLimits.signals);
    this.renderList(this.signalsSection, 'Signals', this.signalsError, rows.length, this.signals.length,
      () => this.showMoreRows('signals'),
      table(columns, rows, {
        id: 'symbol-signals',
        rowAttrs: (s) => ({ dataset: { signalId: s.id, status: s.status } }),
        empty: this.signalsError ? 'Signals could not be loaded.' : `No signals for ${this.symbol} yet.`,
      }));
  }

  /** A list section: title with a count, the table, and "show more" while rows are hidden. */
  renderList(section, title, error, shown, total, showMore, tableElement) {
    const count = total > shown ? `${shown} of ${total}` : String(total);
    const more = total > shown
      ? h('button', { type: 'button', class: 'secondary small symbol-more', onclick: showMore },
        `Show ${Math.min(ROWS_MORE, total - shown)} more`)
      : null;
    replace(section, h('h2', null, title, ' ', h('span', { class: 'muted symbol-count' }, count)),
      error ? errorBox(error, () => this.reload()) : null, tableElement, more);
  }

  showMoreRows(list) {
    this.rowLimits[list] += ROWS_MORE;
    if (list === 'patterns') this.renderPatterns();
    else this.renderSignals();
  }

}
