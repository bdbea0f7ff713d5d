// Alerts of one's own on the Notifications page: the list from /api/alerts (armed or fired,
// how often, when last) with a delete button, and a form to set one. Each kind asks only for
// the fields /api/alerts reads for it; the server's field errors are shown under the form.

import { h, replace, field, select, badge, table, submitting } from './dom.js';
import { formatTime, formatCount } from './format.js';

const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '2h', '4h', '1d'];
const KIND_LABELS = { price_cross: 'Price crosses a level', percent_move: 'Percent move', pattern: 'New pattern', trade: 'Trade event' };

function watchesText(alert) {
  switch (alert.kind) {
    case 'price_cross': return `${alert.symbol} ${alert.direction} ${alert.level}`;
    case 'percent_move': return `${alert.symbol} ${alert.direction} ${alert.percent}% within ${alert.window_minutes} min`;
    case 'pattern': return [alert.symbol, alert.direction, alert.pattern_kind.replaceAll('_', ' '), alert.timeframe].filter(Boolean).join(' ');
    default: return `portfolio ${alert.portfolio_id}: ${alert.event.replace('_', ' ')}`;
  }
}

export function alertsView(list, remove) {
  const columns = [
    { label: 'Name', key: 'name' },
    { label: 'Kind', render: (a) => KIND_LABELS[a.kind] || a.kind },
    { label: 'Watches', render: watchesText },
    { label: 'State', render: (a) => badge(a.active ? 'armed' : 'fired', a.active ? 'ok' : 'warn', a.rearm ? 're-arms after firing' : 'fires once'), cellData: (a) => ({ state: a.active ? 'armed' : 'fired' }) },
    { label: 'Fired', render: (a) => formatCount(a.fired_count), className: 'num' },
    { label: 'Last fired', render: (a) => (a.last_fired_at_ms ? formatTime(a.last_fired_at_ms) : '—'), className: 'hide-narrow' },
    { label: '', render: (a) => h('button', { type: 'button', class: 'danger', dataset: { action: 'delete-alert' }, onclick: () => remove(a) }, 'Delete') },
  ];
  return table(columns, list.alerts || [], { id: 'notify-alerts', empty: 'No alerts yet: set one below.', rowAttrs: (a) => ({ dataset: { id: String(a.id), kind: a.kind } }) });
}

function input(name, placeholder, size = 10) {
  return h('input', { name, id: `alert-${name.replaceAll('_', '-')}`, placeholder, size });
}

/** The fields of each kind: [label, control] pairs and a reader of their values. */
function kindFields(kind, portfolios) {
  const symbol = input('symbol', 'BTCUSDT');
  const readSymbol = () => ({ symbol: symbol.value.trim().toUpperCase() });
  if (kind === 'price_cross') {
    const direction = select({ name: 'direction', id: 'alert-direction' }, ['above', 'below'], 'above');
    const level = input('level', '100000');
    return { nodes: [field('Symbol', symbol), field('Crosses', direction), field('Level', level)],
      read: () => ({ ...readSymbol(), direction: direction.value, level: level.value.trim() }) };
  }
  if (kind === 'percent_move') {
    const direction = select({ name: 'direction', id: 'alert-direction' }, ['up', 'down', 'either'], 'either');
    const percent = input('percent', '3', 5);
    const window = input('window_minutes', '60', 5);
    return { nodes: [field('Symbol', symbol), field('Moves', direction), field('By %', percent), field('Within min', window)],
      read: () => ({ ...readSymbol(), direction: direction.value, percent: percent.value.trim(), window_minutes: Number(window.value.trim()) }) };
  }
  if (kind === 'pattern') {
    const patternKind = select({ name: 'pattern_kind', id: 'alert-pattern-kind' },
      [{ value: 'fair_value_gap', label: 'fair value gap' }, { value: 'order_block', label: 'order block' }, { value: 'liquidity_sweep', label: 'liquidity sweep' }], 'order_block');
    const direction = select({ name: 'direction', id: 'alert-direction' }, [{ value: '', label: 'either' }, 'bullish', 'bearish'], '');
    const timeframe = select({ name: 'timeframe', id: 'alert-timeframe' }, [{ value: '', label: 'any' }, ...TIMEFRAMES], '');
    return { nodes: [field('Symbol', symbol), field('Pattern', patternKind), field('Direction', direction), field('Timeframe', timeframe)],
      read: () => {
        const body = { ...readSymbol(), pattern_kind: patternKind.value };
        if (direction.value) body.direction = direction.value;
        if (timeframe.value) body.timeframe = timeframe.value;
        return body;
      } };
  }
  const portfolio = select({ name: 'portfolio_id', id: 'alert-portfolio' },
    portfolios.map((p) => ({ value: p.id, label: `${p.name} (#${p.id})` })), portfolios[0] ? portfolios[0].id : '');
  const event = select({ name: 'event', id: 'alert-event' }, [{ value: 'filled', label: 'pending order filled' }, { value: 'stop_hit', label: 'stop hit' }], 'stop_hit');
  return { nodes: [field('Portfolio', portfolio), field('When', event)],
    read: () => ({ portfolio_id: Number(portfolio.value), event: event.value }) };
}

/** The form; `create(body)` posts it. `portfolios` are the caller's, for trade alerts. */
export function alertFormView(create, portfolios) {
  const kind = select({ name: 'kind', id: 'alert-kind' }, Object.entries(KIND_LABELS).map(([value, label]) => ({ value, label })), 'price_cross');
  const name = h('input', { name: 'name', id: 'alert-name', placeholder: 'BTC breakout', size: 14 });
  const rearm = h('input', { type: 'checkbox', name: 'rearm', id: 'alert-rearm' });
  const kindArea = h('span', { class: 'inline-form' });
  let fields = null;
  const showKind = () => {
    fields = kindFields(kind.value, portfolios);
    replace(kindArea, fields.nodes);
  };
  kind.addEventListener('change', showKind);
  showKind();
  const error = h('p', { class: 'form-error', role: 'alert', id: 'alert-error' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'alert-add' }, 'Set alert');
  const form = h('form', { id: 'alert-form', class: 'inline-form', novalidate: true },
    field('Alert', kind), field('Name', name), kindArea, field('Re-arm', rearm, 'fire every time'), submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await submitting(submit, error, async () => {
      await create({ name: name.value.trim(), kind: kind.value, rearm: rearm.checked, ...fields.read() });
      form.reset();
      showKind();
    });
  });
  return form;
}
