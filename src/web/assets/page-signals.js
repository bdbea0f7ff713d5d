// Signals: the filterable, paged list (reasons, age, stale flag, levels) and the paper-trade
// dialog (portfolio, market or resting order at the entry, risk %, live sizing preview).

import { newIdempotencyKey } from './api.js';
import { h, clear, replace, loading, errorBox, errorText, debounce, badge, toast } from './dom.js';
import {
  decimalsOf, formatPrice, formatMoney, formatQuantity, formatAge, formatTime, formatPercent,
  decimalSub, decimalMul, decimalAbs,
} from './format.js';

const PAGE_SIZE = 25;
const AGE_TICK_MS = 5000;
const REFRESH_DEBOUNCE_MS = 300;
const PREVIEW_DEBOUNCE_MS = 250;

const view = { symbol: '', direction: 'all', status: 'live', minConfidence: '', page: 0 };

/** The precision a signal's levels carry: the most decimals among its price strings. */
function levelDecimals(levels) {
  if (!levels) return 2;
  return Math.max(...[levels.entry, levels.stop, ...levels.targets].map(decimalsOf));
}

function filtered(signals) {
  const text = view.symbol.toLowerCase();
  const minimum = view.minConfidence === '' ? null : Number(view.minConfidence) / 100;
  return signals.filter((signal) =>
    (!text || signal.symbol.toLowerCase().includes(text))
    && (view.direction === 'all' || signal.direction === view.direction)
    && (minimum === null || signal.confidence >= minimum));
}

function levelsCell(signal) {
  const levels = signal.levels;
  if (!levels) return h('span', { class: 'muted', title: 'ATR(14) is still warming up' }, 'none yet');
  const decimals = levelDecimals(levels);
  const row = (label, value) => [h('dt', null, label), h('dd', null, formatPrice(value, decimals))];
  return h('dl', { class: 'levels' },
    row('Entry', levels.entry), row('Stop', levels.stop),
    h('dt', null, 'Targets'), h('dd', null, levels.targets.map((target) => formatPrice(target, decimals)).join(' / ')),
    h('dt', null, 'R:R'), h('dd', null, levels.risk_reward),
    signal.r_after_costs ? [h('dt', { title: 'each target\'s reward in R after a round trip\'s fees and slippage' }, 'R after costs'),
      h('dd', { class: 'r-after-costs' }, signal.r_after_costs.map((r) => r.toFixed(2)).join(' / '))] : null);
}

function statusBadge(status) {
  return badge(status, { live: 'ok', expired: 'muted', flipped: 'warn' }[status] || 'muted');
}

function signalRow(signal, ctx, openDialog) {
  const symbolLink = h('a', { class: 'symbol-link', href: `#/symbol/${encodeURIComponent(signal.symbol)}/${signal.entry_timeframe}` }, signal.symbol);
  const canTrade = ctx.canAct('trader') && signal.status === 'live' && signal.levels;
  const tradeButton = ctx.canAct('trader')
    ? h('button', {
      type: 'button', class: 'small', dataset: { action: 'paper-trade' }, disabled: !canTrade,
      title: canTrade ? 'Paper trade this signal' : (signal.status !== 'live' ? 'Only live signals can be traded' : 'No levels yet'),
      onclick: () => openDialog(signal),
    }, 'Paper trade')
    : null;
  return h('tr', { dataset: { signalId: signal.id, symbol: signal.symbol } },
    h('td', null, symbolLink, h('div', { class: 'muted' }, `entry ${signal.entry_timeframe}`),
      signal.stale ? badge('stale', 'warn', 'The feed has no fresh candles: levels may be out of date') : null),
    h('td', null, badge(signal.direction === 'bullish' ? '▲ Long' : '▼ Short', signal.direction), h('div', null, statusBadge(signal.status))),
    h('td', { class: 'num' }, formatPercent(signal.confidence, 0),
      h('div', { class: 'muted', title: `aligned: ${signal.aligned_timeframes.join(', ')}` }, `${signal.confluence}/${signal.timeframes_with_data} tf`),
      signal.probability ? h('div', { class: 'probability', title: `calibrated on past outcomes (table v${signal.probability.table_version})` },
        `P(TP1 before stop) ${formatPercent(signal.probability.probability, 0)} of ${signal.probability.samples}`) : null,
      signal.history ? h('div', { class: 'history', dataset: { samples: String(signal.history.samples) }, title: `learned score ${formatPercent(signal.history.learned_score, 0)}` }, signal.history.text) : null),
    h('td', null, levelsCell(signal)),
    h('td', { class: 'reasons-cell' }, h('ul', { class: 'reasons' }, signal.reasons.map((reason) => h('li', null, reason)))),
    h('td', { class: 'num' },
      h('span', { class: 'age', dataset: { since: signal.created_at }, title: formatTime(signal.created_at) }, formatAge(signal.created_at)),
      signal.ended_at ? h('div', { class: 'muted', title: formatTime(signal.ended_at) }, `ended ${formatAge(signal.ended_at)} ago`) : null),
    h('td', { class: 'nowrap' }, tradeButton));
}

function renderList(container, signals, ctx, openDialog) {
  const rows = filtered(signals);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  view.page = Math.min(view.page, pages - 1);
  const shown = rows.slice(view.page * PAGE_SIZE, (view.page + 1) * PAGE_SIZE);
  const head = h('thead', null, h('tr', null,
    ['Symbol', 'Direction', 'Confidence', 'Levels', 'Reasons', 'Age', ''].map((label, index) =>
      h('th', { scope: 'col', class: index === 2 || index === 5 ? 'num' : null }, label))));
  const body = h('tbody', null, shown.map((signal) => signalRow(signal, ctx, openDialog)));
  if (shown.length === 0) {
    body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: 7, class: 'muted' },
      signals.length === 0 ? `No ${view.status === 'all' ? '' : `${view.status} `}signals.` : 'No signal matches the filters.')));
  }
  const go = (page) => { view.page = page; renderList(container, signals, ctx, openDialog); };
  const pager = h('div', { class: 'pager' },
    h('span', { class: 'muted' }, rows.length ? `${view.page * PAGE_SIZE + 1}–${view.page * PAGE_SIZE + shown.length} of ${rows.length}` : '0 signals'),
    h('button', { type: 'button', class: 'secondary small', disabled: view.page === 0, onclick: () => go(view.page - 1) }, '‹ Prev'),
    h('span', null, `Page ${view.page + 1} / ${pages}`),
    h('button', { type: 'button', class: 'secondary small', disabled: view.page >= pages - 1, onclick: () => go(view.page + 1) }, 'Next ›'));
  const focused = focusedControl(container);
  replace(container, h('div', { class: 'table-wrap' }, h('table', { id: 'signals' }, head, body)), pager);
  restoreFocus(container, focused);
}

/** Which row button has focus, so a live re-render can give it back. */
function focusedControl(container) {
  const active = document.activeElement;
  if (!active || !container.contains(active)) return null;
  return { id: active.closest('tr[data-signal-id]')?.dataset.signalId, action: active.dataset.action };
}

function restoreFocus(container, focused) {
  if (!focused?.id || !focused.action) return;
  const row = [...container.querySelectorAll('tr[data-signal-id]')].find((tr) => tr.dataset.signalId === focused.id);
  row?.querySelector(`[data-action="${focused.action}"]`)?.focus();
}

function toolbar(onChange, onStatusChange) {
  const symbol = h('input', { type: 'search', id: 'signals-symbol', placeholder: 'BTC…', value: view.symbol });
  symbol.addEventListener('input', () => { view.symbol = symbol.value.trim(); view.page = 0; onChange(); });
  const direction = h('select', { id: 'signals-direction' },
    [['all', 'Any'], ['bullish', 'Bullish'], ['bearish', 'Bearish']].map(([value, label]) => h('option', { value, selected: view.direction === value }, label)));
  direction.addEventListener('change', () => { view.direction = direction.value; view.page = 0; onChange(); });
  const status = h('select', { id: 'signals-status' },
    [['live', 'Live'], ['expired', 'Expired'], ['flipped', 'Flipped'], ['all', 'All']].map(([value, label]) => h('option', { value, selected: view.status === value }, label)));
  status.addEventListener('change', () => { view.status = status.value; view.page = 0; onStatusChange(); });
  const confidence = h('input', { type: 'number', id: 'signals-min-confidence', min: 0, max: 100, step: 5, placeholder: '0', value: view.minConfidence });
  confidence.addEventListener('input', () => { view.minConfidence = confidence.value; view.page = 0; onChange(); });
  return h('div', { class: 'toolbar' },
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Symbol'), symbol),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Direction'), direction),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Status'), status),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Min confidence %'), confidence));
}

// ---- paper-trade dialog ------------------------------------------------------------------

function orderBody(signal, fill, risk) {
  const body = { from_signal: signal.id, risk_percent: String(risk).trim() };
  if (fill === 'market') body.fill = 'market';
  return body;
}

/** What the preview shows: quantity, notional, the amount at risk (quantity × |entry − stop|). */
function previewFigures(answer, decimals) {
  const trade = answer.trade;
  const entry = trade.order ? trade.order.price : trade.average_entry_price;
  const figures = [
    ['Side', trade.side === 'long' ? 'Long' : 'Short'],
    [trade.order ? 'Resting at' : 'Fills at', entry ? formatPrice(entry, decimals) : '—'],
    ['Stop', trade.stop_loss ? formatPrice(trade.stop_loss, decimals) : '—'],
    ['Quantity', formatQuantity(answer.sizing?.quantity ?? trade.quantity)],
  ];
  const notional = entry ? decimalMul(trade.quantity, entry) : null;
  figures.push(['Notional', notional ? formatMoney(notional) : '—']);
  if (trade.order) figures.push(['Cash reserved', formatMoney(trade.order.reserved)]);
  if (entry && trade.stop_loss) {
    figures.push(['Risk amount', formatMoney(decimalMul(trade.quantity, decimalAbs(decimalSub(entry, trade.stop_loss))))]);
  }
  if (answer.sizing?.cap) {
    const caps = { max_position_notional: 'the max position notional', available_cash: 'the available cash' };
    figures.push(['Capped by', caps[answer.sizing.cap] || answer.sizing.cap]);
  }
  return figures;
}

function openTradeDialog(root, ctx, signal) {
  root.querySelector('dialog#trade-dialog')?.remove();
  const decimals = levelDecimals(signal.levels);
  const portfolioSelect = h('select', { id: 'trade-portfolio', required: true }, h('option', { value: '' }, 'Loading…'));
  const portfolioArea = h('div', { class: 'portfolio-area' });
  const fill = h('select', { id: 'trade-fill' },
    h('option', { value: 'market' }, 'Market (fill now)'),
    h('option', { value: 'pending' }, `Pending (rest at entry ${formatPrice(signal.levels.entry, decimals)})`));
  const risk = h('input', { id: 'trade-risk', type: 'number', min: '0.01', max: '100', step: 'any', value: '1', inputmode: 'decimal', required: true });
  const preview = h('div', { id: 'trade-preview', class: 'preview', 'aria-live': 'polite' }, 'Choose a portfolio to see the sizing.');
  const error = h('p', { id: 'trade-error', class: 'form-error', role: 'alert' });
  const submit = h('button', { id: 'trade-submit', type: 'submit', class: 'primary', disabled: true }, 'Place trade');
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel');
  const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
    h('h2', null, `Paper trade ${signal.symbol} `, badge(signal.direction === 'bullish' ? '▲ Long' : '▼ Short', signal.direction)),
    h('p', { class: 'muted' }, `Entry ${formatPrice(signal.levels.entry, decimals)} · stop ${formatPrice(signal.levels.stop, decimals)} · targets ${signal.levels.targets.map((t) => formatPrice(t, decimals)).join(' / ')}`),
    portfolioArea,
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Fill'), fill),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Risk % of equity'), risk),
    h('div', null, h('span', { class: 'field-label' }, 'Sizing preview'), preview),
    error,
    h('div', { class: 'dialog-actions' }, cancel, submit));
  const dialog = h('dialog', { id: 'trade-dialog', 'aria-label': `Paper trade ${signal.symbol}` }, form);
  root.append(dialog);

  let previewSeq = 0;
  let idempotencyKey = newIdempotencyKey();
  let previewOk = false;
  const portfolioId = () => portfolioSelect.value;
  const body = () => orderBody(signal, fill.value, risk.value);

  const runPreview = debounce(async () => {
    const seq = ++previewSeq;
    previewOk = false;
    submit.disabled = true;
    if (!portfolioId()) {
      preview.className = 'preview';
      replace(preview, portfolioSelect.disabled ? 'Create a portfolio first: the preview sizes the order against its equity.' : 'Choose a portfolio to see the sizing.');
      return;
    }
    if (!(Number(risk.value) > 0)) {
      preview.className = 'preview preview-error';
      replace(preview, 'Enter a risk percentage above 0.');
      return;
    }
    preview.className = 'preview';
    replace(preview, 'Calculating…');
    try {
      const answer = await ctx.api.post(`/api/portfolios/${portfolioId()}/trades/preview`, body());
      if (seq !== previewSeq) return;
      if (answer.would_open === false) {
        // The order would be refused (a target already passed, not enough cash, ...).
        preview.className = 'preview preview-error';
        replace(preview, errorText(answer.error));
        return;
      }
      replace(preview, h('dl', null, previewFigures(answer, decimals).map(([label, value]) => [h('dt', null, label), h('dd', null, value)])));
      previewOk = true;
      submit.disabled = false;
    } catch (failure) {
      if (seq !== previewSeq) return;
      preview.className = 'preview preview-error';
      replace(preview, errorText(failure));
    }
  }, PREVIEW_DEBOUNCE_MS);

  const changed = () => { idempotencyKey = newIdempotencyKey(); error.textContent = ''; runPreview(); };
  fill.addEventListener('change', changed);
  risk.addEventListener('input', changed);
  portfolioSelect.addEventListener('change', changed);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!previewOk || !portfolioId()) return;
    submit.disabled = true;
    submit.textContent = 'Placing…';
    error.textContent = '';
    try {
      const answer = await ctx.api.post(`/api/portfolios/${portfolioId()}/trades`, body(), { headers: { 'Idempotency-Key': idempotencyKey } });
      const id = portfolioId();
      dialog.close();
      const pending = answer.trade.status === 'pending';
      toast([
        `${pending ? 'Order placed' : 'Trade opened'}: #${answer.trade.id} ${signal.symbol} ${answer.trade.side}, qty ${formatQuantity(answer.trade.quantity)}. `,
        h('a', { href: `#/portfolio/${id}` }, 'View portfolio'),
      ], 'success', 10000);
    } catch (failure) {
      error.textContent = errorText(failure);
      submit.disabled = false;
    } finally {
      submit.textContent = 'Place trade';
    }
  });
  dialog.addEventListener('close', () => { runPreview.cancel(); previewSeq += 1; dialog.remove(); });

  dialog.showModal();
  loadPortfolios(ctx, portfolioSelect, portfolioArea, runPreview, risk);
}

async function loadPortfolios(ctx, portfolioSelect, area, runPreview, focusAfter) {
  replace(area, h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Portfolio'), portfolioSelect));
  try {
    const answer = await ctx.api.get('/api/portfolios');
    const portfolios = answer.portfolios || [];
    if (portfolios.length === 0) {
      replace(portfolioSelect, h('option', { value: '' }, 'No portfolio yet'));
      portfolioSelect.disabled = true;
      const form = createPortfolioForm(ctx, () => loadPortfolios(ctx, portfolioSelect, area, runPreview, focusAfter));
      area.append(form);
      runPreview();
      form.querySelector('button')?.focus();
      return;
    }
    portfolioSelect.disabled = false;
    replace(portfolioSelect, portfolios.map((portfolio) =>
      h('option', { value: portfolio.id }, `${portfolio.name} (#${portfolio.id}${portfolio.owner !== ctx.session.username ? `, ${portfolio.owner}` : ''})`)));
    const remembered = sessionStorage.getItem('cryptolens.portfolio');
    if (remembered && portfolios.some((p) => String(p.id) === remembered)) portfolioSelect.value = remembered;
    runPreview();
    focusAfter.focus();
  } catch (failure) {
    replace(area, errorBox(failure, () => loadPortfolios(ctx, portfolioSelect, area, runPreview, focusAfter)));
  }
}

/** The inline "create a portfolio" form shown when the caller has none. */
export function createPortfolioForm(ctx, onCreated, ids = { button: 'trade-portfolio-create' }) {
  const name = h('input', { id: `${ids.button}-name`, value: 'Paper', required: true });
  const balance = h('input', { id: `${ids.button}-balance`, value: '10000', inputmode: 'decimal', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const button = h('button', { id: ids.button, type: 'button' }, 'Create portfolio');
  button.addEventListener('click', async () => {
    if (!/^\d+(\.\d+)?$/.test(balance.value.trim())) {
      error.textContent = 'Initial balance must be a positive number, e.g. 10000.';
      return;
    }
    button.disabled = true;
    error.textContent = '';
    try {
      const created = await ctx.api.post('/api/portfolios', { name: name.value.trim() || 'Paper', initial_balance: balance.value.trim() },
        { headers: { 'Idempotency-Key': newIdempotencyKey() } });
      sessionStorage.setItem('cryptolens.portfolio', String(created.id));
      toast(`Portfolio “${created.name}” created.`, 'success');
      onCreated(created);
    } catch (failure) {
      error.textContent = errorText(failure);
      button.disabled = false;
    }
  });
  return h('div', { class: 'card' },
    h('p', null, 'You have no portfolio yet. Create a paper portfolio to trade in:'),
    h('div', { class: 'inline-form' },
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Name'), name),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Initial balance (USDT)'), balance),
      button),
    error);
}

export default {
  id: 'signals',
  title: 'Signals',
  nav: true,
  role: 'viewer',
  route: /^signals(?:\/([^/]+))?$/,

  async mount(root, ctx, params = []) {
    // #/signals/BTCUSDT opens the list filtered to that symbol.
    if (params[0]) { view.symbol = params[0]; view.page = 0; }
    let signals = null;
    let disposed = false;
    const status = h('div', { class: 'refresh-status muted', 'aria-live': 'polite' });
    const content = h('div', null, loading('Loading signals…'));
    const openDialog = (signal) => openTradeDialog(root, ctx, signal);
    const render = () => { if (signals) renderList(content, signals, ctx, openDialog); };

    let loadSeq = 0;
    const refresh = async () => {
      const seq = ++loadSeq;
      try {
        const answer = await ctx.api.get('/api/signals', { status: view.status === 'all' ? null : view.status });
        if (disposed || seq !== loadSeq) return;
        signals = (answer.signals || []).slice().sort((a, b) => b.created_at - a.created_at);
        clear(status);
        render();
        root.dataset.state = 'ready';
      } catch (error) {
        if (disposed || seq !== loadSeq) return;
        if (signals) {
          replace(status, h('span', { class: 'neg' }, `Refresh failed: ${error.message}`));
        } else {
          replace(content, errorBox(error, refresh));
          root.dataset.state = 'error';
        }
      }
    };
    const onStatusChange = () => { signals = null; replace(content, loading('Loading signals…')); refresh(); };
    root.append(h('div', { class: 'page-header' }, h('h1', null, 'Signals'), status), toolbar(render, onStatusChange), content);

    const refreshSoon = debounce(refresh, REFRESH_DEBOUNCE_MS);
    const off = ctx.stream.listen({ kinds: ['signal'] }, refreshSoon);
    // Ages tick in place: no re-render, so focus and the open dialog stay put.
    const ageTimer = setInterval(() => {
      const now = Date.now();
      for (const age of content.querySelectorAll('.age[data-since]')) age.textContent = formatAge(Number(age.dataset.since), now);
    }, AGE_TICK_MS);
    const offReconnect = ctx.stream.onReconnect(refreshSoon);
    await refresh();
    return () => {
      disposed = true;
      off();
      offReconnect();
      refreshSoon.cancel();
      clearInterval(ageTimer);
      root.querySelector('dialog#trade-dialog')?.close();
    };
  },
};
