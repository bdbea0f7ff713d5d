// The Portfolio page's live strategy card: attach a built-in strategy to the portfolio for the
// symbols it should trade, pause or resume it, detach it, and read its decisions with their
// reasons. Everything shown is /api/portfolios/{id}/strategy's answer; the strategy itself runs
// in the server on every closed candle, with the backtest's rules.

import { h, replace, loading, errorBox, errorText, field, select, badge, table, toast } from './dom.js';
import { formatTime } from './format.js';

const BUILT_IN = ['momentum-market', 'order-block-pullback', 'fvg-longs'];
const ACTION_BADGE = { long: 'bullish', short: 'bearish', refused: 'bad', time_stop: 'warn', pause: 'muted', resume: 'muted', skip: 'muted' };

const DECISION_COLUMNS = [
  { label: 'Time', className: 'nowrap', render: (d) => formatTime(d.at_ms) },
  { label: 'Symbol', render: (d) => d.symbol || '—' },
  { label: 'Action', render: (d) => badge(d.action.replace('_', ' '), ACTION_BADGE[d.action] || 'muted') },
  { label: 'Reason', render: (d) => d.reason },
];

function attachForm(ctx, url, followed, reload) {
  const name = select({ id: 'strategy-name', name: 'strategy' }, BUILT_IN, BUILT_IN[0]);
  const symbols = h('input', { id: 'strategy-symbols', name: 'symbols', value: followed.slice(0, 1).join(', '), placeholder: 'BTCUSDT, ETHUSDT', required: true });
  const attach = h('button', { id: 'strategy-attach', type: 'submit' }, 'Attach');
  const form = h('form', { id: 'strategy-form', class: 'inline-form' },
    field('Strategy', name), field('Symbols', symbols, 'comma-separated, followed symbols'), attach);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    attach.disabled = true;
    try {
      const list = symbols.value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      await ctx.api.post(url, { strategy: name.value, symbols: list });
      toast(`${name.value} attached`, 'success');
      reload();
    } catch (error) {
      toast(errorText(error), 'error');
      attach.disabled = false;
    }
  });
  return h('div', null,
    h('p', { class: 'muted' }, 'No strategy trades this portfolio. Attached, it takes signals on every closed candle of its symbols, with the same rules as a backtest.'),
    form);
}

function attachedView(ctx, url, view, reload) {
  const act = async (button, request, done) => {
    button.disabled = true;
    try {
      await request();
      toast(done, 'success');
      reload();
    } catch (error) {
      toast(errorText(error), 'error');
      button.disabled = false;
    }
  };
  const pause = h('button', { id: 'strategy-pause', type: 'button', class: 'secondary small' }, view.paused ? 'Resume' : 'Pause');
  pause.addEventListener('click', () => act(pause, () => ctx.api.patch(url, { paused: !view.paused }), view.paused ? 'Resumed' : 'Paused'));
  const detach = h('button', { id: 'strategy-detach', type: 'button', class: 'danger small' }, 'Detach');
  detach.addEventListener('click', () => act(detach, () => ctx.api.del(url), 'Detached: its trades keep their stops and targets'));
  const canAct = ctx.canAct('trader');
  return h('div', null,
    h('dl', { id: 'strategy-facts', class: 'levels' },
      h('dt', null, 'Strategy'), h('dd', null, view.spec.name, view.spec.description ? h('div', { class: 'muted' }, view.spec.description) : null),
      h('dt', null, 'Symbols'), h('dd', null, view.symbols.join(', ')),
      h('dt', null, 'State'), h('dd', { id: 'strategy-status', dataset: { paused: String(view.paused) } },
        badge(view.paused ? 'Paused' : 'Running', view.paused ? 'warn' : 'ok')),
      h('dt', null, 'Attached'), h('dd', null, formatTime(view.attached_at_ms)),
      h('dt', null, 'Orders waiting'), h('dd', null, String(view.queued_orders))),
    canAct ? h('div', { class: 'page-actions' }, pause, detach) : null,
    h('h3', null, 'Decisions'),
    table(DECISION_COLUMNS, view.decisions, { id: 'strategy-decisions', empty: 'No decision yet: it decides when a signal appears on a closed candle.' }));
}

/** The card and its refresh: call `refresh()` to reload it (after trades, on mount). */
export function strategyCard(ctx, portfolioId) {
  const url = `/api/portfolios/${portfolioId}/strategy`;
  const body = h('div', { id: 'strategy-card' }, loading('Loading the strategy…'));
  // What the card shows now: a refresh that finds the same strategy leaves the card alone, so a
  // candle closing while the trader fills the attach form never wipes what they typed.
  let shown = null;
  const refresh = async () => {
    let view;
    try {
      view = (await ctx.api.get(url)).strategy;
    } catch (error) {
      shown = null;
      replace(body, errorBox(error, refresh));
      return;
    }
    const key = JSON.stringify(view || null);
    if (key === shown) return;
    shown = key;
    if (view) {
      replace(body, attachedView(ctx, url, view, refresh));
      body.dataset.state = view.paused ? 'paused' : 'running';
    } else {
      let followed = [];
      try { followed = ((await ctx.api.get('/api/symbols')).symbols || []).map((s) => s.symbol); } catch (ignored) { /* the field stays empty */ }
      replace(body, ctx.canAct('trader') ? attachForm(ctx, url, followed, refresh) : h('p', { class: 'muted' }, 'No strategy trades this portfolio.'));
      body.dataset.state = 'none';
    }
  };
  return { element: h('section', { class: 'card' }, h('h2', null, 'Live strategy'), body), refresh };
}
