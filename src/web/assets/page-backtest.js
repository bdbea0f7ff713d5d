// Backtest (trader): run a strategy over a symbol's stored candles on the server (sma-cross with
// its two periods, or a built-in signal strategy), follow its progress, then read its figures,
// its realised equity curve, its trades and, for signal strategies, the outcome study of every
// signal. Past runs are listed; any can be opened again. Everything shown is the server's
// answer from /api/backtests: nothing is computed here but the chart's points.

import { h, replace, loading, errorBox, errorText, field, select, badge, pageHeader, table } from './dom.js';
import { formatMoney, formatPrice, formatQuantity, formatTime, formatPercent, formatCount, formatDecimal, signOf } from './format.js';
import { createEquityChart, equitySeries } from './page-portfolio.js';

const POLL_MS = 400;
const STRATEGIES = [
  { value: 'sma-cross', label: 'sma-cross (reference: backtesting.py SmaCross)' },
  { value: 'order-block-pullback', label: 'order-block-pullback' },
  { value: 'momentum-market', label: 'momentum-market' },
  { value: 'fvg-longs', label: 'fvg-longs' },
];
const STATUS_BADGE = { queued: 'muted', running: 'warn', done: 'ok', failed: 'bad' };

function signed(text) {
  if (text === null || text === undefined) return h('span', { class: 'muted' }, '—');
  const sign = signOf(text);
  return h('span', { class: sign > 0 ? 'pos' : (sign < 0 ? 'neg' : null) }, formatMoney(text, { signed: true }));
}

function ratio(value, digits = 2) {
  return value === null || value === undefined ? '—' : formatDecimal(String(value), digits);
}

function metricsView(result) {
  const rows = [
    ['Final equity', formatMoney(result.final_equity)],
    ['Return', `${ratio(result.return_pct)} %`],
    ['Max drawdown', `${ratio(result.max_drawdown_pct)} %`],
    ['Sharpe', ratio(result.sharpe)],
    ['Sortino', ratio(result.sortino)],
    ['Win rate', result.win_rate === null ? '—' : formatPercent(result.win_rate)],
    ['Profit factor', ratio(result.profit_factor)],
    ['Expectancy', result.expectancy === null ? '—' : formatMoney(result.expectancy, { signed: true })],
    ['Average R', ratio(result.avg_r)],
    ['Exposure', `${ratio(result.exposure_pct, 1)} %`],
    ['Bars', formatCount(result.bars)],
    ['Closed trades', formatCount(result.trade_count)],
    ['Open at the end', formatCount(result.open_trades)],
  ];
  return h('dl', { class: 'levels', id: 'backtest-metrics' }, rows.flatMap(([label, value]) => [h('dt', null, label), h('dd', { dataset: { metric: label } }, value)]));
}

function tradesView(result) {
  const columns = [
    { label: 'Entry', render: (t) => formatTime(t.entry_time) },
    { label: 'Exit', render: (t) => formatTime(t.exit_time), className: 'hide-narrow' },
    { label: 'Side', render: (t) => badge(t.side === 'long' ? 'Long' : 'Short', t.side === 'long' ? 'bullish' : 'bearish') },
    { label: 'Entry price', render: (t) => formatPrice(t.entry_price), className: 'num' },
    { label: 'Exit price', render: (t) => formatPrice(t.exit_price), className: 'num' },
    { label: 'Quantity', render: (t) => formatQuantity(t.quantity), className: 'num hide-narrow' },
    { label: 'P&L', render: (t) => signed(t.pnl), className: 'num' },
    { label: 'Exit reason', key: 'exit_reason', className: 'hide-narrow' },
  ];
  return table(columns, result.trades || [], { id: 'backtest-trades', empty: 'No closed trades.' });
}

function studyView(study) {
  const columns = [
    { label: 'Pattern', key: 'pattern_kind' },
    { label: 'Timeframe', key: 'timeframe' },
    { label: 'Direction', key: 'direction' },
    { label: 'Confluence', key: 'confluence', className: 'num' },
    { label: 'Signals', key: 'signals', className: 'num' },
    { label: 'TP1 first', key: 'target_first', className: 'num' },
    { label: 'Stop first', key: 'stop_first', className: 'num' },
    { label: 'Expired', key: 'expired', className: 'num hide-narrow' },
    { label: 'Hit rate', render: (row) => (row.hit_rate === null ? '—' : formatPercent(row.hit_rate)), className: 'num' },
    { label: 'Median candles', render: (row) => row.median_candles ?? '—', className: 'num hide-narrow' },
    { label: 'Mean MAE (R)', render: (row) => ratio(row.mean_mae_r), className: 'num hide-narrow' },
  ];
  return table(columns, study.rows || [], { id: 'backtest-study', empty: 'No signal had levels in this period.' });
}

/** Realised equity: the starting cash, then after each closed trade, then the final figure. */
function equityPoints(view) {
  const result = view.result;
  let equity = Number(result.initial_cash);
  const points = [{ at_ms: view.created_at, equity: String(equity) }];
  const trades = [...(result.trades || [])].sort((a, b) => a.exit_time - b.exit_time);
  if (trades.length) points[0].at_ms = trades[0].entry_time;
  for (const trade of trades) {
    equity += Number(trade.pnl);
    points.push({ at_ms: trade.exit_time, equity: String(equity) });
  }
  return points;
}

function resultView(view) {
  const result = view.result;
  const chartEl = h('div', { id: 'backtest-chart', class: 'chart-box' });
  const section = h('section', { id: 'backtest-result', dataset: { id: String(view.id) } },
    h('h2', null, `#${view.id} · ${view.strategy}`),
    metricsView(result),
    h('h3', null, 'Realised equity and drawdown'), chartEl,
    h('h3', null, 'Trades'), tradesView(result),
    result.study ? [h('h3', null, 'Signal outcomes: target 1 before the stop?'), studyView(result.study)] : null);
  // The chart sizes itself to its box, which must be in the document first.
  requestAnimationFrame(() => {
    if (!chartEl.isConnected) return;
    const { chart, equity, drawdown } = createEquityChart(chartEl);
    const series = equitySeries(equityPoints(view));
    equity.setData(series.equity);
    drawdown.setData(series.drawdown);
    chart.timeScale().fitContent();
  });
  return section;
}

function statusView(view) {
  const progress = view.progress || { done: 0, total: 0 };
  const percent = progress.total ? Math.floor((progress.done / progress.total) * 100) : 0;
  return h('section', { id: 'backtest-status', dataset: { status: view.status } },
    h('p', null, `#${view.id} · ${view.strategy} `, badge(view.status, STATUS_BADGE[view.status] || 'muted')),
    view.status === 'failed' ? h('p', { class: 'error-box', role: 'alert' }, view.error || 'failed') : null,
    view.status === 'done' ? null : [h('progress', { max: 100, value: percent }), h('span', null, ` ${formatCount(progress.done)} / ${formatCount(progress.total)} candles`)]);
}

function historyView(list, open) {
  const columns = [
    { label: '#', render: (job) => h('a', { href: '#/backtest', onclick: (event) => { event.preventDefault(); open(job.id); } }, String(job.id)) },
    { label: 'Strategy', key: 'strategy' },
    { label: 'Status', render: (job) => badge(job.status, STATUS_BADGE[job.status] || 'muted') },
    { label: 'Return', render: (job) => (job.figures ? `${ratio(job.figures.return_pct)} %` : '—'), className: 'num' },
    { label: 'Trades', render: (job) => (job.figures ? formatCount(job.figures.trade_count) : '—'), className: 'num hide-narrow' },
    { label: 'Run', render: (job) => formatTime(job.created_at), className: 'hide-narrow' },
  ];
  return table(columns, list.backtests || [], { id: 'backtest-history', empty: 'No backtests yet.', rowAttrs: (job) => ({ dataset: { id: String(job.id) } }) });
}

function formView(symbols, run) {
  const symbol = select({ id: 'backtest-symbol', name: 'symbol' }, symbols.map((s) => s.symbol), symbols[0]?.symbol);
  const strategy = select({ id: 'backtest-strategy', name: 'strategy' }, STRATEGIES, 'sma-cross');
  const fast = h('input', { id: 'backtest-fast', name: 'fast', inputmode: 'numeric', value: '10', size: 4 });
  const slow = h('input', { id: 'backtest-slow', name: 'slow', inputmode: 'numeric', value: '20', size: 4 });
  const cash = h('input', { id: 'backtest-cash', name: 'cash', inputmode: 'decimal', value: '10000', size: 10 });
  const commission = h('input', { id: 'backtest-commission', name: 'commission', inputmode: 'decimal', placeholder: 'default', title: 'A fraction of notional, e.g. 0.001', size: 8 });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'backtest-error' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'backtest-run' }, 'Run backtest');
  const periods = [field('Fast SMA', fast), field('Slow SMA', slow)];
  strategy.addEventListener('change', () => {
    for (const period of periods) period.hidden = strategy.value !== 'sma-cross';
  });
  const form = h('form', { id: 'backtest-form', class: 'inline-form', novalidate: true },
    field('Symbol', symbol), field('Strategy', strategy), ...periods, field('Cash', cash), field('Fee per side', commission), submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    const body = { symbol: symbol.value, strategy: strategy.value, cash: cash.value.trim() };
    if (strategy.value === 'sma-cross') Object.assign(body, { fast: Number(fast.value), slow: Number(slow.value) });
    if (commission.value.trim()) body.commission = commission.value.trim();
    try {
      await run(body);
    } catch (failure) {
      error.textContent = errorText(failure);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export default {
  id: 'backtest',
  title: 'Backtest',
  nav: true,
  role: 'trader',
  route: /^backtest$/,

  async mount(root, ctx) {
    let stopped = false;
    const output = h('div', { id: 'backtest-output' });
    const history = h('div', null, loading('Loading past backtests…'));
    let newest = null;
    const refreshHistory = async () => {
      const list = await ctx.api.get('/api/backtests');
      newest = list.backtests?.[0]?.id ?? null;
      replace(history, historyView(list, open));
    };
    async function follow(id) {
      for (;;) {
        const view = await ctx.api.get(`/api/backtests/${id}`);
        if (stopped) return;
        replace(output, view.status === 'done' ? resultView(view) : statusView(view));
        if (view.status === 'done' || view.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      await refreshHistory();
    }
    function open(id) {
      follow(id).catch((failure) => replace(output, errorBox(failure)));
    }
    try {
      const symbols = (await ctx.api.get('/api/symbols')).symbols || [];
      const run = async (body) => follow((await ctx.api.post('/api/backtests', body)).id);
      root.append(pageHeader('Backtest'),
        h('p', { class: 'muted' }, 'Replays the symbol’s stored candles through the live engine: the same indicators, detectors, signals, ledger and exit rules.'),
        formView(symbols, run), output, h('h2', null, 'Past backtests'), history);
      await refreshHistory();
      // Coming back to the page shows the latest run again.
      if (newest !== null) open(newest);
    } catch (failure) {
      root.append(errorBox(failure, () => ctx.navigate('backtest')));
      root.dataset.state = 'error';
      return () => { stopped = true; };
    }
    root.dataset.state = 'ready';
    return () => { stopped = true; };
  },
};
