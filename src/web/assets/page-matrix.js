// Matrix: symbols x timeframes, each cell the timeframe's current bias, cells a live signal
// aligns with outlined, the signal's confluence and confidence in its own column. Sortable,
// filterable, refreshed (debounced) on pattern and signal events from the stream.

import { h, clear, replace, loading, errorBox, debounce, badge, preserveFocus } from './dom.js';
import { formatPercent, formatAge } from './format.js';

const REFRESH_DEBOUNCE_MS = 300;
const FEED_REFRESH_MS = 30000;

// Filters and sort survive leaving and re-entering the page.
const view = { text: '', direction: 'all', onlySignals: false, sortKey: 'symbol', sortDescending: false };

const BIAS_ARROW = { bullish: '▲', bearish: '▼', neutral: '·' };
const BIAS_WORD = { bullish: 'Bull', bearish: 'Bear', neutral: 'None' };

async function loadMatrix(api) {
  const [matrix, signals, symbols] = await Promise.all([
    api.get('/api/matrix'),
    api.get('/api/signals', { status: 'live' }),
    api.get('/api/symbols'),
  ]);
  return { matrix, signals: signals.signals || [], symbols: symbols.symbols || [] };
}

/** The strongest live signal per symbol (highest confidence). */
function strongestSignals(signals) {
  const bySymbol = new Map();
  for (const signal of signals) {
    const held = bySymbol.get(signal.symbol);
    if (!held || signal.confidence > held.confidence) bySymbol.set(signal.symbol, signal);
  }
  return bySymbol;
}

function buildRows(data) {
  const signals = strongestSignals(data.signals);
  const feeds = new Map(data.symbols.map((entry) => [entry.symbol, entry]));
  // A followed symbol still warming (or failed) has no matrix row yet: show it anyway.
  const inMatrix = new Set((data.matrix.symbols || []).map((row) => row.symbol));
  const feedOnly = data.symbols.filter((entry) => !inMatrix.has(entry.symbol)).map((entry) => ({ symbol: entry.symbol, timeframes: {} }));
  return [...(data.matrix.symbols || []), ...feedOnly].map((row) => {
    const signal = signals.get(row.symbol) || null;
    const feed = feeds.get(row.symbol)?.feed || null;
    return {
      symbol: row.symbol,
      cells: row.timeframes || {},
      signal,
      feed,
      stale: Boolean(feed?.stale || signal?.stale),
      lastOpen: feeds.get(row.symbol)?.last_open_time_ms ?? null,
    };
  });
}

/** Timeframe columns: the server's order, only those some symbol has. */
function shownTimeframes(data) {
  const held = new Set();
  for (const row of data.matrix.symbols || []) Object.keys(row.timeframes || {}).forEach((tf) => held.add(tf));
  const all = data.matrix.timeframes || [...held];
  const shown = all.filter((tf) => held.has(tf));
  return shown.length ? shown : all;
}

function passesFilters(row) {
  if (view.text && !row.symbol.toLowerCase().includes(view.text.toLowerCase())) return false;
  if (view.onlySignals && !row.signal) return false;
  if (view.direction !== 'all') {
    // A symbol with a signal is its signal's direction; without one, any cell of that bias counts.
    const matches = row.signal
      ? row.signal.direction === view.direction
      : Object.values(row.cells).includes(view.direction);
    if (!matches) return false;
  }
  return true;
}

function compareRows(a, b) {
  let order;
  if (view.sortKey === 'signal') {
    order = (a.signal?.confidence ?? -1) - (b.signal?.confidence ?? -1)
      || (a.signal?.confluence ?? -1) - (b.signal?.confluence ?? -1);
    if (order === 0) order = b.symbol.localeCompare(a.symbol);
  } else {
    order = a.symbol.localeCompare(b.symbol);
  }
  return view.sortDescending ? -order : order;
}

function signalSummary(signal) {
  if (!signal) return h('span', { class: 'muted' }, 'No signal');
  return h('span', { class: 'signal-summary' },
    badge(signal.direction === 'bullish' ? '▲ Long' : '▼ Short', signal.direction),
    ' ', h('span', { class: 'nowrap', title: 'Timeframes aligned / timeframes with data' },
      `${signal.confluence}/${signal.timeframes_with_data}`),
    ' ', h('span', { class: 'muted nowrap', title: 'Confidence' }, formatPercent(signal.confidence, 0)));
}

function cell(row, timeframe) {
  const bias = row.cells[timeframe];
  const symbolPath = encodeURIComponent(row.symbol);
  if (!bias) {
    return h('td', { class: 'cell cell-none', dataset: { timeframe } }, h('span', { class: 'cell-inner muted', title: 'No data on this timeframe' }, 'n/a'));
  }
  const aligned = row.signal && row.signal.aligned_timeframes.includes(timeframe);
  const isEntry = row.signal && row.signal.entry_timeframe === timeframe;
  const title = `${row.symbol} ${timeframe}: ${bias}${aligned ? `, aligned with the live ${row.signal.direction} signal` : ''}${isEntry ? ' (entry timeframe)' : ''}`;
  return h('td', { class: ['cell', `cell-${bias}`, aligned && 'cell-signal'], dataset: { timeframe, bias } },
    h('a', { class: 'cell-inner', href: `#/symbol/${symbolPath}/${timeframe}`, title, dataset: { focusKey: `cell:${row.symbol}:${timeframe}` } },
      BIAS_ARROW[bias] || '', ' ', h('span', { class: 'cell-word' }, BIAS_WORD[bias] || bias),
      isEntry ? h('span', { class: 'cell-conf' }, 'entry', h('span', { class: 'cell-word' }, ` · ${row.signal.confluence}/${row.signal.timeframes_with_data}`)) : null));
}

function feedBadge(row) {
  if (row.stale) return badge('stale', 'warn', 'No fresh candles within the staleness limit');
  const state = row.feed?.state;
  if (!state) return badge('push', 'muted', 'Candles pushed to the API');
  const kinds = { live: 'ok', warming: 'warn', paused: 'muted', failed: 'bad', stale: 'warn' };
  return badge(state, kinds[state] || 'muted', row.feed.error || undefined);
}

function sortButton(label, key) {
  const active = view.sortKey === key;
  return h('button', {
    type: 'button', class: 'sort', dataset: { focusKey: `sort:${key}` },
    'aria-sort': active ? (view.sortDescending ? 'descending' : 'ascending') : 'none',
    onclick: () => {
      if (view.sortKey === key) view.sortDescending = !view.sortDescending;
      else { view.sortKey = key; view.sortDescending = key === 'signal'; }
      render();
    },
  }, label);
}

let render = () => {};

function renderTable(container, data, navigate) {
  const timeframes = shownTimeframes(data);
  const rows = buildRows(data).filter(passesFilters).sort(compareRows);
  const head = h('thead', null, h('tr', null,
    h('th', { scope: 'col' }, sortButton('Symbol', 'symbol')),
    h('th', { scope: 'col' }, sortButton([h('span', { class: 'cell-word' }, 'Strongest '), 'signal'], 'signal')),
    timeframes.map((tf) => h('th', { scope: 'col' }, tf)),
    h('th', { scope: 'col', class: 'hide-narrow' }, 'Feed')));
  const body = h('tbody');
  if (rows.length === 0) {
    const total = buildRows(data).length;
    body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: timeframes.length + 3, class: 'muted' },
      total === 0 ? 'No symbols yet: follow one on the Operations page or ingest candles.' : 'No symbol matches the filters.')));
  }
  for (const row of rows) {
    const entryTf = row.signal?.entry_timeframe || timeframes.find((tf) => row.cells[tf]) || '';
    const target = `symbol/${encodeURIComponent(row.symbol)}${entryTf ? `/${entryTf}` : ''}`;
    const tr = h('tr', { class: ['clickable', row.stale && 'stale'], dataset: { symbol: row.symbol } },
      h('td', null, h('a', { class: 'symbol-link', href: `#/${target}`, dataset: { focusKey: `symbol:${row.symbol}` } }, row.symbol), row.stale ? [' ', badge('stale', 'warn')] : null),
      h('td', null, signalSummary(row.signal)),
      timeframes.map((tf) => cell(row, tf)),
      h('td', { class: 'hide-narrow', title: row.lastOpen ? `last candle ${formatAge(row.lastOpen)} ago` : undefined }, feedBadge(row)));
    // The whole row is a target for the mouse; links inside keep keyboard access.
    tr.addEventListener('click', (event) => {
      if (event.target.closest('a, button')) return;
      navigate(target);
    });
    body.append(tr);
  }
  const shown = rows.length;
  const total = buildRows(data).length;
  preserveFocus(container, () => replace(container,
    h('div', { class: 'table-wrap' }, h('table', { id: 'matrix' }, head, body)),
    h('div', { class: 'legend' },
      badge('▲ Bull', 'bullish'), badge('▼ Bear', 'bearish'), badge('· None', 'neutral'),
      h('span', null, 'Outlined cells align with the live signal; "entry" marks its entry timeframe.'),
      h('span', null, `${shown} of ${total} symbols`))));
}

function toolbar() {
  const text = h('input', { type: 'search', id: 'matrix-filter', placeholder: 'BTC…', value: view.text, 'aria-label': 'Filter symbols' });
  text.addEventListener('input', () => { view.text = text.value.trim(); render(); });
  const direction = h('select', { id: 'matrix-direction' },
    [['all', 'Any'], ['bullish', 'Bullish'], ['bearish', 'Bearish']].map(([value, label]) =>
      h('option', { value, selected: view.direction === value }, label)));
  direction.addEventListener('change', () => { view.direction = direction.value; render(); });
  const only = h('input', { type: 'checkbox', id: 'matrix-only-signals', checked: view.onlySignals });
  only.addEventListener('change', () => { view.onlySignals = only.checked; render(); });
  return h('div', { class: 'toolbar' },
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Symbol'), text),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Direction'), direction),
    h('label', { class: 'check' }, only, 'Only with a live signal'));
}

export default {
  id: 'matrix',
  title: 'Matrix',
  nav: true,
  role: 'viewer',
  route: /^matrix$/,

  async mount(root, ctx) {
    let data = null;
    let disposed = false;
    const status = h('div', { class: 'refresh-status muted', 'aria-live': 'polite' });
    const content = h('div', null, loading('Loading the matrix…'));
    root.append(h('div', { class: 'page-header' }, h('h1', null, 'Matrix'), status), toolbar(), content);
    render = () => { if (data) renderTable(content, data, ctx.navigate); };

    const refresh = async () => {
      try {
        const next = await loadMatrix(ctx.api);
        if (disposed) return;
        data = next;
        clear(status);
        render();
        root.dataset.state = 'ready';
      } catch (error) {
        if (disposed) return;
        if (data) {
          // Keep the last good matrix on screen; say it may be out of date.
          replace(status, h('span', { class: 'neg' }, `Refresh failed: ${error.message}`));
        } else {
          replace(content, errorBox(error, refresh));
          root.dataset.state = 'error';
        }
      }
    };
    const refreshSoon = debounce(refresh, REFRESH_DEBOUNCE_MS);
    const off = ctx.stream.listen({ kinds: ['pattern', 'signal'] }, refreshSoon);
    const feedTimer = setInterval(refresh, FEED_REFRESH_MS);
    const offReconnect = ctx.stream.onReconnect(refreshSoon);
    await refresh();
    return () => {
      disposed = true;
      off();
      offReconnect();
      refreshSoon.cancel();
      clearInterval(feedTimer);
      render = () => {};
    };
  },
};
