// Portfolio: cash, equity, P&L, its live strategy (portfolio-strategy.js), open positions with
// live unrealised P&L, pending orders,
// trade history (exit reasons, R), a trade's journal, stats, the equity curve with drawdown,
// CSV exports. Refetched (debounced) on trade events of this portfolio and on candles of the
// symbols it holds.

import { h, clear, replace, loading, errorBox, errorText, debounce, badge, toast } from './dom.js';
import {
  decimalsOf, formatPrice, formatMoney, formatQuantity, formatTime, formatShortTime, formatDuration,
  formatPercent, formatDecimal, signOf, plotNumber,
} from './format.js';
import { newIdempotencyKey } from './api.js';
import { createPortfolioForm } from './page-signals.js';
import { strategyCard } from './portfolio-strategy.js';
import { createChart, LineSeries, AreaSeries, ColorType, CrosshairMode } from './lightweight-charts.mjs';

const REFRESH_DEBOUNCE_MS = 500;
const OPEN_STATUSES = new Set(['open', 'partially_closed']);
const REMEMBERED = 'cryptolens.portfolio';

// ---- small renderers -----------------------------------------------------------------------

function pnl(text, suffix = '') {
  if (text === null || text === undefined) return h('span', { class: 'muted' }, '—');
  const sign = signOf(text);
  return h('span', { class: sign > 0 ? 'pos' : (sign < 0 ? 'neg' : null) }, formatMoney(text, { signed: true }) + suffix);
}

/** The precision of a trade's symbol: the most decimals among the prices it carries. */
function tradeDecimals(trade) {
  const prices = [trade.stop_loss, ...(trade.take_profits || []), ...(trade.fills || []).map((fill) => fill.price), trade.order?.price]
    .filter(Boolean);
  return prices.length ? Math.max(...prices.map(decimalsOf)) : 2;
}

/** A price, or a dash when absent or zero (a trade that never filled reports entry "0"). */
function priceOrDash(text, decimals) {
  return text && signOf(text) !== 0 ? formatPrice(text, decimals) : '—';
}

function sideBadge(side) {
  return badge(side === 'long' ? 'Long' : 'Short', side === 'long' ? 'bullish' : 'bearish');
}

function exitReasonText(reason) {
  if (!reason) return '—';
  const target = /^target_(\d+)$/.exec(reason);
  if (target) return `Target ${target[1]}`;
  return { stop: 'Stop', manual: 'Manual', expired: 'Expired', cancelled: 'Cancelled' }[reason] || reason;
}

function sourceText(source) {
  if (!source || source === 'manual') return 'manual';
  if (source.signal) return 'signal';
  if (source.pattern) return 'pattern';
  return String(Object.keys(source)[0] || source);
}

function rText(value) {
  if (value === null || value === undefined || value === '') return h('span', { class: 'muted' }, '—');
  const sign = signOf(value);
  return h('span', { class: sign > 0 ? 'pos' : (sign < 0 ? 'neg' : null) }, `${formatDecimal(value, 2, { signed: true })}R`);
}

function amount(text, quote) {
  return [formatMoney(text), ' ', h('span', { class: 'stat-unit' }, quote)];
}

function stat(label, value, title) {
  return h('div', { class: 'stat', title }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value));
}

function simpleTable(id, headers, rows, empty) {
  const head = h('thead', null, h('tr', null, headers.map(([label, className]) => h('th', { scope: 'col', class: className }, label))));
  const body = h('tbody', null, rows);
  if (rows.length === 0) body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: headers.length, class: 'muted' }, empty)));
  return h('div', { class: 'table-wrap' }, h('table', { id }, head, body));
}

// ---- CSV (R multiples, exit prices, net P&L are only in the export) -----------------------

function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') { cell += '"'; index += 1; } else if (char === '"') quoted = false; else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') { row.push(cell); cell = ''; } else if (char === '\n') { row.push(cell.replace(/\r$/, '')); rows.push(row); row = []; cell = ''; } else cell += char;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/** trade id -> {r_multiple, average_exit_price, net_pnl} from trades.csv. */
async function exportFigures(api, id) {
  const text = await api.get(`/api/portfolios/${id}/trades.csv`);
  if (typeof text !== 'string') return new Map();
  const [header, ...rows] = parseCsv(text);
  const column = (name) => header.indexOf(name);
  const [idAt, rAt, exitAt, netAt] = ['id', 'r_multiple', 'average_exit_price', 'net_pnl'].map(column);
  return new Map(rows.filter((row) => row.length > 1).map((row) => [Number(row[idAt]),
    { r_multiple: row[rAt] || null, average_exit_price: row[exitAt] || null, net_pnl: row[netAt] || null }]));
}

// ---- equity chart --------------------------------------------------------------------------

const CHART_TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const TICK_DAY = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const TICK_TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function createEquityChart(container) {
  const chart = createChart(container, {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: '#161b22' }, textColor: '#8b949e', attributionLogo: false, panes: { separatorColor: '#2a313c' } },
    grid: { vertLines: { color: '#1f2630' }, horzLines: { color: '#1f2630' } },
    crosshair: { mode: CrosshairMode.Normal },
    rightPriceScale: { borderColor: '#2a313c' },
    timeScale: {
      borderColor: '#2a313c', timeVisible: true,
      // Axis labels in the browser's time zone (the chart itself works in UTC seconds).
      tickMarkFormatter: (time, type) => (type <= 2 ? TICK_DAY : TICK_TIME).format(new Date(time * 1000)),
    },
    localization: { timeFormatter: (time) => CHART_TIME.format(new Date(time * 1000)) },
  });
  const equity = chart.addSeries(LineSeries, { color: '#4c9aff', lineWidth: 2, title: 'Equity', priceFormat: { type: 'price', precision: 2, minMove: 0.01 } }, 0);
  const drawdown = chart.addSeries(AreaSeries, {
    lineColor: '#e5484d', topColor: 'rgba(229, 72, 77, 0.05)', bottomColor: 'rgba(229, 72, 77, 0.4)', lineWidth: 1,
    title: 'Drawdown %', priceFormat: { type: 'percent', precision: 2, minMove: 0.01 },
  }, 1);
  const panes = chart.panes();
  if (panes[1]) panes[1].setStretchFactor(0.35);
  return { chart, equity, drawdown };
}

/** Equity and drawdown-from-peak series (floats: for plotting only), one point per second. */
export function equitySeries(points) {
  const bySecond = new Map();
  for (const point of points) {
    const value = plotNumber(point.equity);
    if (value !== null) bySecond.set(Math.floor(point.at_ms / 1000), value);
  }
  const equity = [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
  let peak = -Infinity;
  const drawdown = equity.map(({ time, value }) => {
    peak = Math.max(peak, value);
    return { time, value: peak > 0 ? ((value - peak) / peak) * 100 : 0 };
  });
  return { equity, drawdown };
}

// ---- sections ------------------------------------------------------------------------------

function statsSection(portfolio, stats) {
  const quote = portfolio.quote_currency;
  return h('div', null,
    h('div', { class: 'stat-grid' },
      stat('Cash', amount(portfolio.cash, quote)),
      stat('Equity', amount(portfolio.equity, quote)),
      stat('Realised P&L', pnl(stats.realised_pnl)),
      stat('Unrealised P&L', pnl(portfolio.unrealised_pnl)),
      stat('Fees paid', formatMoney(stats.fees)),
      stat('Open / closed', `${stats.open_trades} / ${stats.closed_trades}`),
      stat('Win rate', formatPercent(stats.win_rate)),
      stat('Profit factor', stats.profit_factor ? formatDecimal(stats.profit_factor, 2) : '—'),
      stat('Expectancy', stats.expectancy ? pnl(stats.expectancy) : '—', 'Average net P&L per closed trade'),
      stat('Average R', stats.average_r ? rText(stats.average_r) : '—'),
      stat('Max drawdown', `${formatMoney(stats.max_drawdown)} (${formatPercent(stats.max_drawdown_ratio)})`),
      stat('Sharpe (daily)', stats.sharpe_daily === null || stats.sharpe_daily === undefined ? '—' : Number(stats.sharpe_daily).toFixed(2)),
      stat('Initial balance', amount(portfolio.initial_balance, quote))),
    breakdownTable(stats.by_symbol, 'Symbol'));
}

function breakdownTable(breakdown, label) {
  const entries = Object.entries(breakdown || {});
  if (entries.length === 0) return null;
  return h('details', { class: 'card' }, h('summary', null, `By ${label.toLowerCase()} (${entries.length})`),
    simpleTable(null, [[label], ['Closed', 'num'], ['Wins', 'num'], ['Net P&L', 'num']],
      entries.map(([key, slice]) => h('tr', null, h('td', null, key), h('td', { class: 'num' }, slice.closed_trades),
        h('td', { class: 'num' }, slice.wins), h('td', { class: 'num' }, pnl(slice.net_pnl)))), ''));
}

// ---- the page ------------------------------------------------------------------------------

export default {
  id: 'portfolio',
  title: 'Portfolio',
  nav: true,
  role: 'viewer',
  route: /^portfolio(?:\/(\d+))?$/,

  async mount(root, ctx, params) {
    let disposed = false;
    const cleanups = [];
    const header = h('div', { class: 'page-header' }, h('h1', null, 'Portfolio'));
    const content = h('div', null, loading('Loading portfolios…'));
    root.append(header, content);

    let list;
    try {
      list = (await ctx.api.get('/api/portfolios')).portfolios || [];
    } catch (error) {
      replace(content, errorBox(error, () => ctx.navigate(`portfolio${params[0] ? `/${params[0]}` : ''}`)));
      root.dataset.state = 'error';
      return () => {};
    }
    if (list.length === 0) {
      replace(content, ctx.canAct('trader')
        ? createPortfolioForm(ctx, (created) => ctx.navigate(`portfolio/${created.id}`), { button: 'portfolio-create' })
        : h('p', { class: 'muted' }, 'No portfolio is shared with you. A trader creates portfolios.'));
      root.dataset.state = 'ready';
      return () => {};
    }

    const wanted = params[0] || sessionStorage.getItem(REMEMBERED);
    const selected = list.find((p) => String(p.id) === String(wanted)) || list[0];
    const id = selected.id;
    sessionStorage.setItem(REMEMBERED, String(id));
    if (String(params[0]) !== String(id)) history.replaceState(null, '', `#/portfolio/${id}`);

    const picker = h('select', { id: 'portfolio-select', 'aria-label': 'Portfolio' }, list.map((p) =>
      h('option', { value: p.id, selected: p.id === id }, `${p.name} (#${p.id}${p.owner !== ctx.session.username ? `, ${p.owner}` : ''})`)));
    picker.addEventListener('change', () => ctx.navigate(`portfolio/${picker.value}`));
    const status = h('span', { class: 'refresh-status muted', 'aria-live': 'polite' });
    replace(header, h('h1', null, 'Portfolio'), h('div', { class: 'page-actions' }, status, picker,
      h('a', { id: 'export-trades', class: 'button secondary small', href: `/api/portfolios/${id}/trades.csv`, download: `portfolio-${id}-trades.csv` }, 'Trades CSV'),
      h('a', { id: 'export-ledger', class: 'button secondary small', href: `/api/portfolios/${id}/ledger.csv`, download: `portfolio-${id}-ledger.csv` }, 'Ledger CSV')));

    const statsEl = h('div', { id: 'portfolio-stats' });
    const chartEl = h('div', { id: 'equity-chart', class: 'chart-box' });
    const chartNote = h('p', { class: 'muted' });
    const positionsEl = h('div');
    const pendingEl = h('div');
    const historyEl = h('div');
    const strategy = strategyCard(ctx, id);
    replace(content,
      statsEl,
      strategy.element,
      h('section', { class: 'card' }, h('h2', null, 'Open positions'), positionsEl),
      h('section', { class: 'card' }, h('h2', null, 'Pending orders'), pendingEl),
      h('section', { class: 'card' }, h('h2', null, 'Equity and drawdown'), chartEl, chartNote),
      h('section', { class: 'card' }, h('h2', null, 'Trade history'), historyEl));

    let chart = null;
    const expanded = new Set(); // trade ids whose journal is open
    const journals = new Map(); // trade id -> journal entries
    const drafts = new Map(); // trade id -> unsent journal text
    let figures = new Map();
    let trades = [];
    let heldSymbols = '';
    let offCandles = null;

    const act = async (button, path, body, done) => {
      button.disabled = true;
      try {
        const answer = await ctx.api.post(path, body, { headers: { 'Idempotency-Key': newIdempotencyKey() } });
        toast(done(answer), 'success');
        refreshSoon();
      } catch (error) {
        toast(errorText(error), 'error');
        button.disabled = false;
      }
    };

    const journalRow = (trade, columns) => {
      const cell = h('td', { colspan: columns });
      const row = h('tr', { class: 'detail-row', dataset: { journalFor: trade.id } }, cell);
      const entries = journals.get(trade.id) || trade.journal || [];
      const list = h('div', { class: 'journal' }, entries.length
        ? entries.map((entry) => h('div', { class: 'journal-entry' },
          h('div', { class: 'muted' }, formatTime(entry.at), entry.tags.length ? ` · ${entry.tags.join(', ')}` : ''),
          h('div', null, entry.text)))
        : h('p', { class: 'muted' }, 'No journal entries yet.'));
      cell.append(h('h3', null, `Journal of trade #${trade.id}`), list);
      if (ctx.canAct('trader')) {
        // Drafts survive the live re-renders (a candle close refetches the trades).
        const text = h('textarea', { 'aria-label': 'Journal entry', placeholder: 'Why you took it, how it went…', maxlength: 2000,
          value: drafts.get(trade.id) || '', dataset: { journalText: trade.id } });
        text.addEventListener('input', () => drafts.set(trade.id, text.value));
        const tags = h('input', { 'aria-label': 'Tags', placeholder: 'tags, comma separated' });
        const error = h('p', { class: 'form-error', role: 'alert' });
        const add = h('button', { type: 'submit', class: 'small' }, 'Add entry');
        const form = h('form', { class: 'dialog-form' }, text, h('div', { class: 'inline-form' }, tags, add), error);
        form.addEventListener('submit', async (event) => {
          event.preventDefault();
          if (!text.value.trim()) { error.textContent = 'Write something first.'; return; }
          add.disabled = true;
          try {
            await ctx.api.post(`/api/portfolios/${id}/trades/${trade.id}/journal`,
              { text: text.value.trim(), tags: tags.value.split(',').map((tag) => tag.trim()).filter(Boolean) },
              { headers: { 'Idempotency-Key': newIdempotencyKey() } });
            drafts.delete(trade.id);
            await loadJournal(trade.id);
            renderTrades();
          } catch (failure) {
            error.textContent = errorText(failure);
            add.disabled = false;
          }
        });
        cell.append(form);
      }
      return row;
    };

    const loadJournal = async (tradeId) => {
      const answer = await ctx.api.get(`/api/portfolios/${id}/trades/${tradeId}/journal`);
      journals.set(tradeId, answer.journal || []);
    };

    const journalButton = (trade) => h('button', {
      type: 'button', class: 'secondary small', 'aria-expanded': String(expanded.has(trade.id)), dataset: { action: 'journal' },
      onclick: async (event) => {
        if (expanded.has(trade.id)) { expanded.delete(trade.id); renderTrades(); return; }
        event.currentTarget.disabled = true;
        try {
          await loadJournal(trade.id);
          expanded.add(trade.id);
        } catch (error) {
          toast(errorText(error), 'error');
        }
        renderTrades();
      },
    }, expanded.has(trade.id) ? 'Hide journal' : 'Journal');

    const withJournal = (rows, trade, columns) => {
      const symbolRow = rows;
      return expanded.has(trade.id) ? [symbolRow, journalRow(trade, columns)] : [symbolRow];
    };

    const symbolLink = (symbol) => h('a', { class: 'symbol-link', href: `#/symbol/${encodeURIComponent(symbol)}` }, symbol);

    const renderPositions = (open) => {
      const headers = [['#'], ['Symbol'], ['Side'], ['Qty', 'num'], ['Avg entry', 'num'], ['Stop', 'num'], ['Targets', 'num hide-narrow'],
        ['Unrealised', 'num'], ['Realised', 'num hide-narrow'], ['Opened', 'hide-narrow'], ['']];
      const rows = open.flatMap((trade) => {
        const decimals = tradeDecimals(trade);
        const close = ctx.canAct('trader') ? h('button', {
          type: 'button', class: 'danger small', dataset: { action: 'close' },
          onclick: (event) => act(event.currentTarget, `/api/portfolios/${id}/trades/${trade.id}/close`, {},
            (answer) => `Closed #${trade.id} ${trade.symbol}: realised ${formatMoney(answer.trade.realised_pnl, { signed: true })}, fees ${formatMoney(answer.trade.fees_paid)}.`),
        }, 'Close') : null;
        return withJournal(h('tr', { dataset: { tradeId: trade.id, symbol: trade.symbol } },
          h('td', null, trade.id), h('td', null, symbolLink(trade.symbol)), h('td', null, sideBadge(trade.side),
            trade.status === 'partially_closed' ? h('div', { class: 'muted' }, 'partly closed') : null),
          h('td', { class: 'num' }, formatQuantity(trade.quantity)),
          h('td', { class: 'num' }, priceOrDash(trade.average_entry_price, decimals)),
          h('td', { class: 'num' }, trade.stop_loss ? formatPrice(trade.stop_loss, decimals) : '—'),
          h('td', { class: 'num hide-narrow' }, trade.take_profits.map((tp) => formatPrice(tp, decimals)).join(' / ') || '—'),
          h('td', { class: 'num unrealised' }, trade.unrealised_pnl === null ? h('span', { class: 'muted', title: 'No mark price yet' }, '—') : pnl(trade.unrealised_pnl)),
          h('td', { class: 'num hide-narrow' }, pnl(trade.realised_pnl)),
          h('td', { class: 'hide-narrow nowrap', title: formatTime(trade.opened_at) }, formatShortTime(trade.opened_at)),
          h('td', { class: 'nowrap' }, journalButton(trade), ' ', close)), trade, headers.length);
      });
      replace(positionsEl, simpleTable('positions', headers, rows, 'No open positions.'));
    };

    const renderPending = (pending) => {
      const headers = [['#'], ['Symbol'], ['Side'], ['Qty', 'num'], ['Order'], ['Price', 'num'], ['Reserved', 'num hide-narrow'], ['Expires', 'hide-narrow'], ['Placed', 'hide-narrow'], ['']];
      const rows = pending.map((trade) => {
        const decimals = tradeDecimals(trade);
        const order = trade.order || {};
        const cancel = ctx.canAct('trader') ? h('button', {
          type: 'button', class: 'secondary small', dataset: { action: 'cancel' },
          onclick: (event) => act(event.currentTarget, `/api/portfolios/${id}/trades/${trade.id}/cancel`, {}, () => `Cancelled order #${trade.id} ${trade.symbol}.`),
        }, 'Cancel') : null;
        return h('tr', { dataset: { tradeId: trade.id, symbol: trade.symbol } },
          h('td', null, trade.id), h('td', null, symbolLink(trade.symbol)), h('td', null, sideBadge(trade.side)),
          h('td', { class: 'num' }, formatQuantity(trade.quantity)),
          h('td', null, order.kind === 'stop_entry' ? 'Stop entry' : 'Limit'),
          h('td', { class: 'num' }, order.price ? formatPrice(order.price, decimals) : '—'),
          h('td', { class: 'num hide-narrow' }, formatMoney(order.reserved)),
          h('td', { class: 'hide-narrow nowrap' }, order.expires_at_ms ? formatShortTime(order.expires_at_ms) : 'never'),
          h('td', { class: 'hide-narrow nowrap', title: formatTime(order.placed_at_ms) }, formatShortTime(order.placed_at_ms)),
          h('td', null, cancel));
      });
      replace(pendingEl, simpleTable('pending', headers, rows, 'No pending orders.'));
    };

    const renderHistory = (done) => {
      const headers = [['#'], ['Symbol'], ['Side'], ['Status'], ['Qty', 'num'], ['Entry', 'num hide-narrow'], ['Exit', 'num hide-narrow'],
        ['Exit reason'], ['Net P&L', 'num'], ['R', 'num'], ['Fees', 'num hide-narrow'], ['Closed', 'hide-narrow'], ['Held', 'hide-narrow'], ['']];
      const rows = done.flatMap((trade) => {
        const decimals = tradeDecimals(trade);
        const extra = figures.get(trade.id) || {};
        const held = trade.closed_at && trade.opened_at ? trade.closed_at - trade.opened_at : null;
        return withJournal(h('tr', { dataset: { tradeId: trade.id, symbol: trade.symbol } },
          h('td', null, trade.id), h('td', null, symbolLink(trade.symbol)), h('td', null, sideBadge(trade.side)),
          h('td', null, badge(trade.status.replace('_', ' '), trade.status === 'closed' ? 'muted' : 'warn'), h('div', { class: 'muted' }, sourceText(trade.source))),
          h('td', { class: 'num' }, formatQuantity(trade.closed_quantity !== '0' ? trade.closed_quantity : trade.quantity)),
          h('td', { class: 'num hide-narrow' }, priceOrDash(trade.average_entry_price, decimals)),
          h('td', { class: 'num hide-narrow' }, priceOrDash(extra.average_exit_price, decimals)),
          h('td', null, exitReasonText(trade.exit_reason)),
          h('td', { class: 'num' }, pnl(extra.net_pnl ?? trade.realised_pnl)),
          h('td', { class: 'num' }, rText(trade.r_multiple ?? extra.r_multiple)),
          h('td', { class: 'num hide-narrow' }, formatMoney(trade.fees_paid)),
          h('td', { class: 'hide-narrow nowrap', title: formatTime(trade.closed_at) }, formatShortTime(trade.closed_at)),
          h('td', { class: 'hide-narrow nowrap' }, formatDuration(held)),
          h('td', null, journalButton(trade))), trade, headers.length);
      });
      replace(historyEl, simpleTable('history', headers, rows, 'No closed trades yet.'));
    };

    const renderTrades = () => {
      const typingIn = document.activeElement?.dataset?.journalText;
      renderPositions(trades.filter((t) => OPEN_STATUSES.has(t.status)));
      renderPending(trades.filter((t) => t.status === 'pending'));
      renderHistory(trades.filter((t) => !OPEN_STATUSES.has(t.status) && t.status !== 'pending'));
      if (typingIn) {
        const box = content.querySelector(`textarea[data-journal-text="${typingIn}"]`);
        if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
      }
    };

    const renderChart = (points) => {
      const series = equitySeries(points);
      if (!chart) chart = createEquityChart(chartEl);
      chart.equity.setData(series.equity);
      chart.drawdown.setData(series.drawdown);
      chart.chart.timeScale().fitContent();
      chartNote.textContent = series.equity.length < 2 ? 'The curve grows as trades open and close.' : '';
    };

    // Live unrealised P&L: refetch when a held symbol's candle closes.
    const followHeldSymbols = () => {
      const symbols = [...new Set(trades.filter((t) => OPEN_STATUSES.has(t.status) || t.status === 'pending').map((t) => t.symbol))].sort();
      const key = symbols.join(',');
      if (key === heldSymbols) return;
      heldSymbols = key;
      if (offCandles) offCandles();
      offCandles = symbols.length ? ctx.stream.listen({ kinds: ['candle'], symbols }, () => refreshSoon()) : null;
    };

    let loadSeq = 0;
    const refresh = async () => {
      const seq = ++loadSeq;
      try {
        const [portfolio, stats, tradeList, equity] = await Promise.all([
          ctx.api.get(`/api/portfolios/${id}`),
          ctx.api.get(`/api/portfolios/${id}/stats`),
          ctx.api.get(`/api/portfolios/${id}/trades`),
          ctx.api.get(`/api/portfolios/${id}/equity`),
        ]);
        if (disposed || seq !== loadSeq) return;
        trades = tradeList.trades || [];
        // The export is the only source of R and exit prices; a failure there is not fatal.
        if (trades.some((t) => !OPEN_STATUSES.has(t.status) && t.status !== 'pending' && t.r_multiple === undefined)) {
          try { figures = await exportFigures(ctx.api, id); } catch (error) { console.warn('trades.csv unavailable', error); }
          if (disposed || seq !== loadSeq) return;
        }
        replace(statsEl, statsSection(portfolio, stats));
        renderTrades();
        renderChart(equity.points || []);
        followHeldSymbols();
        await strategy.refresh();
        if (disposed || seq !== loadSeq) return;
        clear(status);
        root.dataset.state = 'ready';
      } catch (error) {
        if (disposed || seq !== loadSeq) return;
        if (root.dataset.state === 'ready') {
          replace(status, h('span', { class: 'neg' }, `Refresh failed: ${error.message}`));
        } else {
          replace(content, errorBox(error, () => ctx.navigate(`portfolio/${id}`)));
          root.dataset.state = 'error';
        }
      }
    };
    const refreshSoon = debounce(refresh, REFRESH_DEBOUNCE_MS);
    cleanups.push(ctx.stream.listen({ kinds: ['trade'] }, (event) => {
      if (String(event.portfolio_id) === String(id)) refreshSoon();
    }));
    cleanups.push(ctx.stream.onReconnect(refreshSoon));
    replace(statsEl, loading('Loading the portfolio…'));
    await refresh();
    return () => {
      disposed = true;
      refreshSoon.cancel();
      cleanups.forEach((off) => off());
      if (offCandles) offCandles();
      if (chart) chart.chart.remove();
    };
  },
};
