// Notifications: the user's channels (NTFY, webhook, Telegram, email) with their filters, breaker
// state and waiting deliveries; a form to add one (a webhook's signing secret is shown once,
// here, and never again); test, enable/disable and delete buttons; and the delivery history
// with status, attempts and last error; and one's own alerts (`notify-alerts.js`). Everything
// shown is /api/notify's and /api/alerts' answer.

import { h, replace, loading, errorBox, errorText, field, select, badge, pageHeader, table, toast, submitting } from './dom.js';
import { formatTime, formatCount } from './format.js';
import { alertsView, alertFormView } from './notify-alerts.js';

const REFRESH_MS = 2000;
const BREAKER_BADGE = { closed: 'ok', half_open: 'warn', open: 'bad' };
const STATUS_BADGE = { pending: 'warn', delivered: 'ok', failed: 'bad' };
const KIND_FIELDS = {
  ntfy: [['server_url', 'Server URL', 'https://ntfy.sh'], ['topic', 'Topic', 'my-signals'], ['access_token', 'Access token (optional)', '']],
  webhook: [['url', 'URL', 'https://example.com/hook'], ['secret', 'Secret (optional, generated)', '']],
  telegram: [['bot_token', 'Bot token', '123456:ABC…'], ['chat_id', 'Chat id', '-100…'], ['base_url', 'Bot API URL (optional)', 'https://api.telegram.org']],
  email: [['smtp_host', 'SMTP server', 'smtp.example.com'], ['smtp_port', 'Port', '587'], ['username', 'Username (optional)', ''],
    ['password', 'Password (optional)', ''], ['from', 'From', 'cryptolens@example.com'], ['to', 'To', 'me@example.com']],
};
// Sent as numbers; hidden while typed.
const NUMBER_FIELDS = new Set(['smtp_port']);
const SECRET_FIELDS = new Set(['password', 'access_token', 'bot_token']);

function destinationText(channel) {
  const destination = channel.destination;
  if (channel.kind === 'ntfy') return `${destination.server_url} · ${destination.topic}`;
  if (channel.kind === 'webhook') return destination.url;
  if (channel.kind === 'email') return `${destination.to} via ${destination.smtp_host}:${destination.smtp_port}`;
  return `chat ${destination.chat_id}`;
}

function filterText(filter) {
  const parts = [];
  if (filter.symbols.length) parts.push(filter.symbols.join(', '));
  if (filter.directions.length) parts.push(filter.directions.join('/'));
  if (filter.timeframes.length) parts.push(filter.timeframes.join(' '));
  if (filter.kinds.length) parts.push(filter.kinds.join(', ').replaceAll('_', ' '));
  if (filter.min_confluence) parts.push(`confluence ≥ ${filter.min_confluence}`);
  if (filter.min_score) parts.push(`score ≥ ${filter.min_score}`);
  if (filter.min_risk_reward) parts.push(`R:R ≥ ${filter.min_risk_reward}`);
  if (filter.quiet_hours) parts.push(`quiet ${filter.quiet_hours.from}–${filter.quiet_hours.to} ${filter.quiet_hours.time_zone}`);
  if (filter.cooldown_minutes) parts.push(`cooldown ${filter.cooldown_minutes} min`);
  return parts.length ? parts.join(' · ') : 'every signal';
}

function channelsView(list, actions) {
  const columns = [
    { label: 'Name', key: 'name' },
    { label: 'Kind', key: 'kind' },
    { label: 'Destination', render: destinationText, className: 'hide-narrow' },
    { label: 'Filter', render: (c) => filterText(c.filter), className: 'hide-narrow' },
    { label: 'Breaker', render: (c) => badge(c.breaker.state.replace('_', '-'), BREAKER_BADGE[c.breaker.state], `${c.breaker.consecutive_failures} failures in a row`), cellData: (c) => ({ breaker: c.breaker.state }) },
    { label: 'Waiting', render: (c) => formatCount(c.pending), className: 'num' },
    { label: '', render: (c) => h('span', { class: 'row-actions' },
      h('button', { type: 'button', class: 'secondary', dataset: { action: 'test' }, disabled: !c.enabled, onclick: () => actions.test(c) }, 'Test'),
      h('button', { type: 'button', class: 'secondary', dataset: { action: 'toggle' }, onclick: () => actions.toggle(c) }, c.enabled ? 'Disable' : 'Enable'),
      h('button', { type: 'button', class: 'danger', dataset: { action: 'delete' }, onclick: () => actions.remove(c) }, 'Delete')) },
  ];
  return table(columns, list.channels || [], { id: 'notify-channels', empty: 'No channels yet: add one below.', rowAttrs: (c) => ({ dataset: { id: String(c.id), enabled: String(c.enabled) } }) });
}

function deliveriesView(page, channels) {
  const names = new Map((channels.channels || []).map((c) => [c.id, c.name]));
  const columns = [
    { label: 'Accepted', render: (d) => formatTime(d.accepted_at_ms) },
    { label: 'Channel', render: (d) => names.get(d.channel_id) || `#${d.channel_id}` },
    { label: 'Message', key: 'title' },
    { label: 'Status', render: (d) => badge(d.status, STATUS_BADGE[d.status]), cellData: (d) => ({ status: d.status }) },
    { label: 'Attempts', render: (d) => formatCount(d.attempts), className: 'num' },
    { label: 'Last error', render: (d) => d.last_error || '—', className: 'hide-narrow' },
  ];
  return table(columns, page.deliveries || [], { id: 'notify-deliveries', empty: 'Nothing sent yet.' });
}

function filterFields() {
  const direction = select({ name: 'direction', id: 'notify-direction' }, [{ value: '', label: 'both' }, 'bullish', 'bearish'], '');
  const confluence = h('input', { name: 'min_confluence', id: 'notify-confluence', inputmode: 'numeric', size: 3, placeholder: '0' });
  const symbols = h('input', { name: 'symbols', id: 'notify-symbols', placeholder: 'all (or BTCUSDT, ETHUSDT)', size: 22 });
  const quietFrom = h('input', { name: 'quiet_from', id: 'notify-quiet-from', placeholder: '22:00', size: 5 });
  const quietTo = h('input', { name: 'quiet_to', id: 'notify-quiet-to', placeholder: '07:00', size: 5 });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const read = () => {
    const filter = {};
    if (direction.value) filter.directions = [direction.value];
    if (confluence.value.trim()) filter.min_confluence = Number(confluence.value.trim());
    const listed = symbols.value.split(/[\s,]+/).filter(Boolean);
    if (listed.length) filter.symbols = listed.map((s) => s.toUpperCase());
    if (quietFrom.value.trim() || quietTo.value.trim()) filter.quiet_hours = { from: quietFrom.value.trim(), to: quietTo.value.trim(), time_zone: zone };
    return filter;
  };
  const nodes = [field('Direction', direction), field('Min confluence', confluence), field('Symbols', symbols),
    field('Quiet from', quietFrom, zone), field('to', quietTo)];
  return { nodes, read };
}

function formView(create) {
  const kind = select({ name: 'kind', id: 'notify-kind' }, ['ntfy', 'webhook', 'telegram', 'email'], 'ntfy');
  const name = h('input', { name: 'name', id: 'notify-name', placeholder: 'My phone', size: 14 });
  const kindArea = h('span', { class: 'inline-form' });
  const inputs = {};
  const showKind = () => {
    for (const key of Object.keys(inputs)) delete inputs[key];
    replace(kindArea, KIND_FIELDS[kind.value].map(([key, label, placeholder]) => {
      const type = SECRET_FIELDS.has(key) ? 'password' : 'text';
      inputs[key] = h('input', { name: key, id: `notify-${key.replaceAll('_', '-')}`, type, autocomplete: 'off', placeholder, size: NUMBER_FIELDS.has(key) ? 5 : 24 });
      return field(label, inputs[key]);
    }));
  };
  kind.addEventListener('change', showKind);
  showKind();
  const filter = filterFields();
  const error = h('p', { class: 'form-error', role: 'alert', id: 'notify-error' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'notify-add' }, 'Add channel');
  const form = h('form', { id: 'notify-form', class: 'inline-form', novalidate: true },
    field('Kind', kind), field('Name', name), kindArea, ...filter.nodes, submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), kind: kind.value, filter: filter.read() };
    for (const [key, input] of Object.entries(inputs)) {
      const value = input.value.trim();
      if (value) body[key] = NUMBER_FIELDS.has(key) ? Number(value) : value;
    }
    await submitting(submit, error, async () => {
      await create(body);
      form.reset();
      showKind();
    });
  });
  return form;
}

export default {
  id: 'notifications',
  title: 'Notifications',
  nav: true,
  role: 'trader',
  route: /^notifications$/,

  async mount(root, ctx) {
    const channelsArea = h('div', null, loading('Loading channels…'));
    const secretArea = h('div', { id: 'notify-secret' });
    const deliveriesArea = h('div', null, loading('Loading deliveries…'));
    const alertsArea = h('div', null, loading('Loading alerts…'));
    let timer = null;
    const refresh = async () => {
      const [channels, page, alerts] = await Promise.all([ctx.api.get('/api/notify/channels'),
        ctx.api.get('/api/notify/deliveries', { limit: 50 }), ctx.api.get('/api/alerts')]);
      replace(channelsArea, channelsView(channels, actions));
      replace(deliveriesArea, deliveriesView(page, channels));
      replace(alertsArea, alertsView(alerts, actions.removeAlert));
    };
    const act = (work, message) => work().then(() => { if (message) toast(message, 'success'); return refresh(); })
      .catch((failure) => toast(errorText(failure), 'error'));
    const actions = {
      test: (c) => act(() => ctx.api.post(`/api/notify/channels/${c.id}/test`), `Test message queued for ${c.name}.`),
      toggle: (c) => act(() => ctx.api.patch(`/api/notify/channels/${c.id}`, { enabled: !c.enabled })),
      remove: (c) => act(() => ctx.api.del(`/api/notify/channels/${c.id}`), `${c.name} deleted.`),
      removeAlert: (a) => act(() => ctx.api.del(`/api/alerts/${a.id}`), `Alert ${a.name} deleted.`),
    };
    const createAlert = async (body) => {
      const created = await ctx.api.post('/api/alerts', body);
      toast(`Alert ${created.name} set.`, 'success');
      await refresh();
    };
    const create = async (body) => {
      const created = await ctx.api.post('/api/notify/channels', body);
      replace(secretArea, created.secret ? h('div', { class: 'notice', role: 'alert' },
        h('strong', null, `Signing secret of ${created.name} (shown once): `), h('code', { id: 'notify-secret-value' }, created.secret)) : null);
      await refresh();
    };
    let portfolios = [];
    try {
      await refresh();
      portfolios = (await ctx.api.get('/api/portfolios')).portfolios || [];
    } catch (failure) {
      root.append(errorBox(failure, () => ctx.navigate('notifications')));
      root.dataset.state = 'error';
      return () => {};
    }
    root.append(pageHeader('Notifications'),
      h('p', { class: 'muted' }, 'New signals go to each channel whose filter they pass: once each, retried through failures, held while a destination is down.'),
      channelsArea, secretArea, h('h2', null, 'Add a channel'), formView(create),
      h('h2', null, 'Alerts'), h('p', { class: 'muted' }, 'Your own alerts, checked on every closed candle and trade change, sent through your enabled channels.'),
      alertsArea, alertFormView(createAlert, portfolios), h('h2', null, 'Deliveries'), deliveriesArea);
    const tick = () => { timer = setTimeout(() => refresh().catch(() => {}).finally(() => { if (timer !== null) tick(); }), REFRESH_MS); };
    tick();
    root.dataset.state = 'ready';
    return () => { clearTimeout(timer); timer = null; };
  },
};
