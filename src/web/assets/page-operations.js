// Operations (admin): health, per-actor table, feed and symbol status with pause / resume /
// backfill / follow / remove, users and API keys. Refreshed every 5 s while mounted; a section
// being edited (focus inside) is left alone so a refresh never eats what the admin types.

import { h, replace, loading, errorBox, errorText, badge, toast, field, submitting } from './dom.js';
import { formatTime, formatShortTime, formatAge, formatDuration, formatCount, formatBytes } from './format.js';

const REFRESH_MS = 5000;
const ROLES = ['viewer', 'trader', 'admin'];
const FEED_BADGE = { live: 'ok', warming: 'warn', stale: 'warn', paused: 'muted', failed: 'bad' };
const HEALTH_BADGE = { healthy: 'ok', ok: 'ok', degraded: 'warn', unhealthy: 'bad' };

function table(id, headers, rows, empty) {
  const head = h('thead', null, h('tr', null, headers.map(([label, className]) => h('th', { scope: 'col', class: className }, label))));
  const body = h('tbody', null, rows);
  if (rows.length === 0) body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: headers.length, class: 'muted' }, empty)));
  return h('div', { class: 'table-wrap' }, h('table', { id }, head, body));
}

function progressText(progress) {
  if (!progress) return null;
  const percent = progress.total ? Math.floor((progress.done / progress.total) * 100) : 0;
  return `${formatCount(progress.done)} / ${formatCount(progress.total)} (${percent}%)`;
}

function dt(label, value) {
  return [h('dt', null, label), h('dd', null, value)];
}

// ---- sections --------------------------------------------------------------------------------

function healthView(health) {
  const persistence = health.store?.persistence;
  const problems = health.store?.problems || [];
  return h('div', null,
    h('p', null, 'Overall: ', badge(health.status, HEALTH_BADGE[health.status] || 'muted'), ' ',
      health.ready ? badge('ready', 'ok') : badge('not ready', 'warn')),
    h('dl', { class: 'levels' },
      dt('Actors', formatCount(health.actors?.count)),
      dt('Restarts', formatCount(health.actors?.restarts)),
      dt('Stuck actors', Array.isArray(health.actors?.stuck) ? (health.actors.stuck.join(', ') || 'none') : formatCount(health.actors?.stuck)),
      dt('Last ingest', health.last_ingest_age_ms === null || health.last_ingest_age_ms === undefined ? '—' : `${formatDuration(health.last_ingest_age_ms)} ago`),
      dt('Followed symbols', formatCount(health.feed?.followed)),
      dt('Stale symbols', (health.feed?.stale || []).join(', ') || 'none'),
      dt('Store size', formatBytes(health.store?.size_bytes)),
      dt('Store problems', formatCount(problems.length)),
      dt('Snapshot rounds', persistence ? formatCount(persistence.rounds) : 'persistence off'),
      persistence ? dt('Snapshots written', formatCount(persistence.snapshots_written)) : null,
      persistence ? dt('Snapshot failures', formatCount(persistence.failures)) : null,
      persistence ? dt('Last snapshot', persistence.last_round_at_ms ? `${formatAge(persistence.last_round_at_ms)} ago` : 'never') : null),
    problems.length ? h('ul', { class: 'reasons' }, problems.map((problem) => h('li', null, typeof problem === 'string' ? problem : JSON.stringify(problem)))) : null);
}

const JOB_BADGE = { ok: 'ok', running: 'warn', failed: 'bad' };

/** GET /api/jobs: background work with its last run. */
function jobsView(answer) {
  const headers = [['Job'], ['Every', 'num hide-narrow'], ['Runs', 'num'], ['Last run'], ['Took', 'num hide-narrow'], ['Outcome'], ['Detail', 'hide-narrow']];
  const rows = (answer.jobs || []).map((job) => {
    const label = job.symbol ? `${job.name} ${job.symbol}` : job.name;
    const detail = job.name === 'backfill'
      ? (job.error || (job.progress ? progressText(job.progress) : `${formatCount(job.candles_stored)} candles stored`))
      : `${formatCount(job.last_written)} written · ${formatCount(job.failures)} failures`;
    return h('tr', { dataset: { job: label } },
      h('td', null, label),
      h('td', { class: 'num hide-narrow' }, job.interval_ms ? formatDuration(job.interval_ms) : '—'),
      h('td', { class: 'num' }, job.runs === undefined ? '—' : formatCount(job.runs)),
      h('td', { title: formatTime(job.last_run_at) }, job.last_run_at ? `${formatAge(job.last_run_at)} ago` : '—'),
      h('td', { class: 'num hide-narrow' }, job.last_duration_ms === null || job.last_duration_ms === undefined ? '—' : `${formatCount(job.last_duration_ms)} ms`),
      h('td', null, job.last_outcome ? badge(job.last_outcome, JOB_BADGE[job.last_outcome] || 'muted') : badge('not run yet', 'muted')),
      h('td', { class: 'hide-narrow' }, detail));
  });
  return table('jobs', headers, rows, 'No background jobs.');
}

function actorsView(answer) {
  const headers = [['Symbol'], ['Base tf', 'hide-narrow'], ['Shard', 'num hide-narrow'], ['Mailbox', 'num'], ['Lag', 'num'], ['Processed', 'num hide-narrow'],
    ['Restarts', 'num'], ['Heartbeat', 'num'], ['Last candle', 'hide-narrow'], ['Feed'], ['Exit backlog', 'num hide-narrow']];
  const rows = (answer.actors || []).map((actor) => {
    const mailboxFull = actor.mailbox_capacity && actor.mailbox_len / actor.mailbox_capacity > 0.8;
    return h('tr', { dataset: { actor: actor.symbol } },
      h('td', null, h('a', { class: 'symbol-link', href: `#/symbol/${encodeURIComponent(actor.symbol)}` }, actor.symbol)),
      h('td', { class: 'hide-narrow' }, actor.base_timeframe),
      h('td', { class: 'num hide-narrow' }, actor.shard),
      h('td', { class: ['num', mailboxFull && 'neg'] }, `${formatCount(actor.mailbox_len)} / ${formatCount(actor.mailbox_capacity)}`),
      h('td', { class: 'num' }, formatDuration(actor.lag_ms)),
      h('td', { class: 'num hide-narrow' }, formatCount(actor.processed)),
      h('td', { class: ['num', actor.restarts > 0 && 'neg'] }, formatCount(actor.restarts)),
      h('td', { class: 'num', title: formatTime(actor.last_heartbeat_ms) }, actor.last_heartbeat_ms ? `${formatAge(actor.last_heartbeat_ms)} ago` : '—'),
      h('td', { class: 'hide-narrow nowrap', title: formatTime(actor.last_candle_open_time_ms) }, formatShortTime(actor.last_candle_open_time_ms)),
      h('td', null, actor.stale ? badge('stale', 'warn') : (actor.feed_state ? badge(actor.feed_state, FEED_BADGE[actor.feed_state] || 'muted') : badge('push', 'muted'))),
      h('td', { class: 'num hide-narrow' }, formatCount(actor.exit_backlog_candles)));
  });
  return table('actors', headers, rows, 'No symbol actors running.');
}

function symbolsView(answer, actions) {
  const headers = [['Symbol'], ['Source'], ['State'], ['Last candle', 'hide-narrow'], ['Lag', 'num'], ['History', 'hide-narrow'], ['Repairs', 'num hide-narrow'], ['']];
  const rows = (answer.symbols || []).map((entry) => {
    const feed = entry.feed;
    const state = feed?.state;
    const progress = feed?.backfill ? `backfill ${progressText(feed.backfill)}` : (state === 'warming' ? `warming ${progressText(feed.progress) || ''}` : null);
    const buttons = feed ? [
      state === 'paused'
        ? h('button', { type: 'button', class: 'secondary small', dataset: { action: 'resume' }, onclick: (e) => actions.pause(e.currentTarget, entry.symbol, false) }, 'Resume')
        : h('button', { type: 'button', class: 'secondary small', dataset: { action: 'pause' }, disabled: state === 'failed', onclick: (e) => actions.pause(e.currentTarget, entry.symbol, true) }, 'Pause'),
      h('button', { type: 'button', class: 'secondary small', dataset: { action: 'backfill' }, onclick: () => actions.backfill(entry.symbol) }, 'Backfill…'),
    ] : [];
    buttons.push(h('button', { type: 'button', class: 'danger small', dataset: { action: 'remove' }, onclick: (e) => actions.remove(e.currentTarget, entry.symbol) }, 'Remove'));
    return h('tr', { dataset: { symbol: entry.symbol } },
      h('td', null, h('a', { class: 'symbol-link', href: `#/symbol/${encodeURIComponent(entry.symbol)}` }, entry.symbol),
        feed?.market_symbol && feed.market_symbol !== entry.symbol ? h('div', { class: 'muted' }, feed.market_symbol) : null),
      h('td', null, entry.source),
      h('td', null, state ? badge(state, FEED_BADGE[state] || 'muted', feed.error || undefined) : badge('push', 'muted'),
        feed?.error ? h('div', { class: 'neg' }, feed.error) : null, progress ? h('div', { class: 'muted' }, progress) : null),
      h('td', { class: 'hide-narrow nowrap', title: formatTime(entry.last_open_time_ms) }, formatShortTime(entry.last_open_time_ms)),
      h('td', { class: 'num' }, feed?.lag_ms === null || feed?.lag_ms === undefined ? '—' : formatDuration(feed.lag_ms)),
      h('td', { class: 'hide-narrow nowrap' }, entry.first_open_time_ms ? `since ${formatShortTime(entry.first_open_time_ms)}` : '—',
        feed?.backfilled ? h('div', { class: 'muted' }, `${formatCount(feed.backfilled)} backfilled`) : null),
      h('td', { class: 'num hide-narrow', title: feed ? `gaps repaired ${feed.gaps_repaired}, candles repaired ${feed.candles_repaired}, duplicates dropped ${feed.duplicates_dropped}` : undefined },
        feed ? `${formatCount(feed.gaps_repaired)} / ${formatCount(feed.duplicates_dropped)}` : '—'),
      h('td', { class: 'nowrap' }, buttons));
  });
  return table('feed-symbols', headers, rows, 'No symbols. Follow one below.');
}

function usersView(answer, actions, me) {
  const headers = [['User'], ['Role'], ['Status'], ['Created', 'hide-narrow'], ['Password changed', 'hide-narrow'], ['']];
  const rows = (answer.users || []).map((user) => {
    const role = h('select', { 'aria-label': `Role of ${user.username}`, dataset: { action: 'role' }, disabled: user.username === me },
      ROLES.map((name) => h('option', { value: name, selected: name === user.role }, name)));
    role.addEventListener('change', () => actions.update(role, user.username, { role: role.value }, `${user.username} is now ${role.value}.`));
    const toggle = h('button', {
      type: 'button', class: user.disabled ? 'secondary small' : 'danger small', dataset: { action: user.disabled ? 'enable' : 'disable' },
      disabled: user.username === me, title: user.username === me ? 'You cannot disable yourself' : undefined,
      onclick: (e) => actions.update(e.currentTarget, user.username, { disabled: !user.disabled }, `${user.username} ${user.disabled ? 'enabled' : 'disabled'}.`),
    }, user.disabled ? 'Enable' : 'Disable');
    return h('tr', { dataset: { username: user.username } },
      h('td', null, user.username, user.username === me ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', null, role),
      h('td', null, user.disabled ? badge('disabled', 'bad') : badge('active', 'ok')),
      h('td', { class: 'hide-narrow nowrap' }, formatShortTime(user.created_at)),
      h('td', { class: 'hide-narrow nowrap' }, formatShortTime(user.password_changed_at)),
      h('td', null, toggle));
  });
  return table('users', headers, rows, 'No users.');
}

function keysView(answer, actions) {
  const headers = [['Name'], ['Owner'], ['Role'], ['Created', 'hide-narrow'], ['Expires', 'hide-narrow'], ['Last used'], ['Status'], ['']];
  const rows = (answer.keys || []).map((key) => h('tr', { dataset: { keyId: key.id } },
    h('td', null, key.name, h('div', { class: 'muted mono' }, key.id)),
    h('td', null, key.owner),
    h('td', null, key.role),
    h('td', { class: 'hide-narrow nowrap' }, formatShortTime(key.created_at)),
    h('td', { class: 'hide-narrow nowrap' }, key.expires_at ? formatShortTime(key.expires_at) : 'never'),
    h('td', { class: 'nowrap', title: formatTime(key.last_used_at) }, key.last_used_at ? `${formatAge(key.last_used_at)} ago` : 'never'),
    h('td', null, key.revoked_at ? badge('revoked', 'bad') : (key.expires_at && key.expires_at < Date.now() ? badge('expired', 'warn') : badge('active', 'ok'))),
    h('td', null, key.revoked_at ? null : h('button', { type: 'button', class: 'danger small', dataset: { action: 'revoke' }, onclick: (e) => actions.revoke(e.currentTarget, key) }, 'Revoke'))));
  return table('keys', headers, rows, 'No API keys.');
}

// ---- forms -----------------------------------------------------------------------------------

function formError() {
  return h('p', { class: 'form-error', role: 'alert' });
}

function followForm(ctx, refresh) {
  const symbol = h('input', { id: 'follow-symbol', placeholder: 'bybit:ETHUSDT', required: true });
  const button = h('button', { type: 'submit' }, 'Follow');
  const error = formError();
  const form = h('form', { class: 'inline-form' }, field('Follow a symbol (exchange:SYMBOL)', symbol), button, error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!symbol.value.trim()) { error.textContent = 'Enter a symbol, e.g. binance:BTCUSDT.'; return; }
    submitting(button, error, async () => {
      const answer = await ctx.api.post('/api/symbols', { symbol: symbol.value.trim() });
      toast(`Following ${answer.symbol}: it warms up, then streams.`, 'success');
      symbol.value = '';
      refresh();
    });
  });
  return form;
}

function backfillForm(ctx, refresh) {
  const symbol = h('input', { id: 'backfill-symbol', placeholder: 'BTCUSDT', required: true });
  const since = h('input', { id: 'backfill-since', type: 'date', required: true });
  const button = h('button', { type: 'submit' }, 'Start backfill');
  const error = formError();
  const form = h('form', { class: 'inline-form' }, field('Backfill symbol', symbol), field('Since (date, UTC)', since), button, error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!symbol.value.trim() || !since.value) { error.textContent = 'Choose a symbol and a start date.'; return; }
    submitting(button, error, async () => {
      await ctx.api.post(`/api/symbols/${encodeURIComponent(symbol.value.trim())}/backfill`, { since: since.value });
      toast(`Backfill of ${symbol.value.trim()} from ${since.value} started; progress shows in the table.`, 'success');
      refresh();
    });
  });
  form.choose = (name) => { symbol.value = name; since.focus(); };
  return form;
}

function createUserForm(ctx, refresh) {
  const username = h('input', { id: 'new-user-name', autocomplete: 'off', required: true });
  const role = h('select', { id: 'new-user-role' }, ROLES.map((name) => h('option', { value: name }, name)));
  const password = h('input', { id: 'new-user-password', type: 'password', autocomplete: 'new-password', required: true });
  const button = h('button', { type: 'submit' }, 'Add user');
  const error = formError();
  const form = h('form', { class: 'inline-form' }, field('User name', username), field('Role', role), field('Password', password), button, error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) { error.textContent = 'Enter a user name and a password.'; return; }
    submitting(button, error, async () => {
      const user = await ctx.api.post('/api/users', { username: username.value.trim(), role: role.value, password: password.value });
      toast(`User ${user.username} (${user.role}) added.`, 'success');
      username.value = '';
      password.value = '';
      refresh();
    });
  });
  return form;
}

function createKeyForm(ctx, refresh, secretArea) {
  const name = h('input', { id: 'new-key-name', required: true, placeholder: 'ingest bot' });
  const role = h('select', { id: 'new-key-role' }, ROLES.filter((r) => ctx.canAct(r)).map((r) => h('option', { value: r, selected: r === ctx.session.role }, r)));
  const expires = h('input', { id: 'new-key-expires', type: 'date' });
  const button = h('button', { type: 'submit' }, 'Create key');
  const error = formError();
  const form = h('form', { class: 'inline-form' }, field('Name', name), field('Role', role), field('Expires (optional)', expires), button, error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!name.value.trim()) { error.textContent = 'Name the key.'; return; }
    submitting(button, error, async () => {
      // A date input means the end of that day in the browser's zone.
      const expiresAt = expires.value ? new Date(`${expires.value}T23:59:59`).getTime() : undefined;
      const created = await ctx.api.post('/api/keys', { name: name.value.trim(), role: role.value, expires_at: expiresAt });
      showSecret(secretArea, created);
      name.value = '';
      refresh();
    });
  });
  return form;
}

function showSecret(area, created) {
  const secret = h('code', { id: 'new-key-secret', class: 'secret' }, created.key);
  const copy = h('button', { type: 'button', class: 'secondary small' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      copy.textContent = 'Copied';
    } catch {
      // No clipboard outside secure contexts: select the text for Ctrl+C instead.
      getSelection().selectAllChildren(secret);
      copy.textContent = 'Selected: press Ctrl+C';
    }
  });
  const dismiss = h('button', { type: 'button', class: 'secondary small', onclick: () => replace(area) }, 'I have stored it');
  replace(area, h('div', { class: 'notice', role: 'alert' },
    h('strong', null, `Key “${created.name}” created. `), 'Copy the secret now: it is shown only once.', secret, copy, ' ', dismiss));
}

// ---- the page --------------------------------------------------------------------------------

export default {
  id: 'operations',
  title: 'Operations',
  nav: true,
  role: 'admin',
  route: /^operations$/,

  async mount(root, ctx) {
    let disposed = false;
    const sections = {};
    const makeSection = (key, title, ...extra) => {
      const body = h('div', null, loading());
      const element = h('section', { class: 'card', dataset: { section: key } }, h('h2', null, title), body, ...extra);
      sections[key] = { body, element, loaded: false };
      return element;
    };
    const secretArea = h('div');
    const refresh = () => refreshAll();
    const backfill = backfillForm(ctx, refresh);

    const actions = {
      pause: (button, symbol, paused) => run(button, () => ctx.api.post(`/api/symbols/${encodeURIComponent(symbol)}/${paused ? 'pause' : 'resume'}`, {}),
        `${symbol} ${paused ? 'paused' : 'resumed'}.`),
      backfill: (symbol) => backfill.choose(symbol),
      remove: (button, symbol) => {
        // Destructive: the first click arms, the second (within 5 s) removes.
        if (button.dataset.armed !== 'yes') {
          button.dataset.armed = 'yes';
          button.textContent = 'Confirm remove';
          setTimeout(() => { if (button.isConnected) { button.dataset.armed = ''; button.textContent = 'Remove'; } }, 5000);
          return;
        }
        run(button, () => ctx.api.del(`/api/symbols/${encodeURIComponent(symbol)}`), `${symbol} removed.`);
      },
      update: (control, username, change, message) => run(control, () => ctx.api.patch(`/api/users/${encodeURIComponent(username)}`, change), message),
      revoke: (button, key) => run(button, () => ctx.api.del(`/api/keys/${encodeURIComponent(key.id)}`), `Key “${key.name}” revoked.`),
    };

    async function run(control, work, message) {
      control.disabled = true;
      try {
        await work();
        toast(message, 'success');
      } catch (error) {
        toast(errorText(error), 'error');
      }
      control.disabled = false;
      refreshAll();
    }

    const loaders = {
      health: [() => ctx.api.get('/api/health'), healthView],
      actors: [() => ctx.api.get('/api/actors'), actorsView],
      jobs: [() => ctx.api.get('/api/jobs'), jobsView],
      symbols: [() => ctx.api.get('/api/symbols'), (answer) => symbolsView(answer, actions)],
      users: [() => ctx.api.get('/api/users'), (answer) => usersView(answer, actions, ctx.session.username)],
      keys: [() => ctx.api.get('/api/keys'), (answer) => keysView(answer, actions)],
    };

    async function refreshSection(key) {
      const section = sections[key];
      const [load, view] = loaders[key];
      try {
        const answer = await load();
        if (disposed) return true;
        // Leave a table alone while the admin is working in it.
        if (!section.body.contains(document.activeElement) || !section.loaded) replace(section.body, view(answer));
        section.loaded = true;
        return true;
      } catch (error) {
        if (disposed) return false;
        if (!section.loaded) replace(section.body, errorBox(error, () => refreshSection(key)));
        else toastOnce(key, error);
        return false;
      }
    }

    const reported = new Set();
    function toastOnce(key, error) {
      if (reported.has(key)) return;
      reported.add(key);
      toast(`Refreshing ${key} failed: ${errorText(error)}`, 'error');
    }

    let running = null;
    function refreshAll() {
      if (!running) {
        running = Promise.all(Object.keys(loaders).map(refreshSection)).finally(() => { running = null; });
      }
      return running;
    }

    root.append(
      h('div', { class: 'page-header' }, h('h1', null, 'Operations'), h('span', { class: 'muted' }, 'Refreshes every 5 s')),
      h('div', { class: 'grid grid-2' },
        makeSection('health', 'Health'),
        h('section', { class: 'card' }, h('h2', null, 'Feeds'), followForm(ctx, refresh), backfill)),
      makeSection('actors', 'Actors'),
      makeSection('jobs', 'Scheduled jobs'),
      makeSection('symbols', 'Feed and symbol status'),
      makeSection('users', 'Users', createUserForm(ctx, refresh)),
      makeSection('keys', 'API keys', secretArea, createKeyForm(ctx, refresh, secretArea)));

    const results = await refreshAll();
    root.dataset.state = results.some(Boolean) ? 'ready' : 'error';
    const timer = setInterval(refreshAll, REFRESH_MS);
    return () => {
      disposed = true;
      clearInterval(timer);
    };
  },
};
