// Boot and routing: who is logged in (GET /api/auth/session), the login page, the shell (nav, user,
// live badge, logout) and the hash router that mounts one page at a time.

import { api, ApiError, onUnauthorized, setCsrf } from './api.js';
import { stream } from './stream.js';
import { h, clear, errorBox, errorText } from './dom.js';
import { pages } from './pages.js';

const ROLE_RANK = { viewer: 1, trader: 2, admin: 3 };
const DEFAULT_ROUTE = 'matrix';

const pageElement = document.getElementById('page');
const header = document.getElementById('app-header');
const nav = document.getElementById('nav');
const liveBadge = document.getElementById('live-badge');

let session = null;
let current = null; // {page, unmount, root, observer, token}
let navigationToken = 0;

function canAct(role) {
  return Boolean(session) && (ROLE_RANK[session.role] ?? 0) >= (ROLE_RANK[role] ?? 99);
}

function navigate(hashPath) {
  const path = String(hashPath).replace(/^#?\/?/, '');
  if (location.hash === `#/${path}`) {
    route();
  } else {
    location.hash = `#/${path}`;
  }
}

function setPageState(state) {
  pageElement.dataset.state = state;
}

// ---- login -------------------------------------------------------------------------------

function showLogin(message) {
  session = null;
  setCsrf(null);
  stream.stop();
  unmountCurrent();
  header.hidden = true;
  document.body.classList.add('logged-out');
  pageElement.dataset.page = 'login';
  clear(pageElement);
  const error = h('p', { id: 'login-error', class: 'form-error', role: 'alert' }, message || '');
  error.hidden = !message;
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  // Shown once the server asks for it (401 totp_required): a 6-digit code, or a recovery code.
  const code = h('input', { id: 'login-totp', name: 'totp', autocomplete: 'one-time-code', inputmode: 'text', spellcheck: 'false' });
  const codeField = h('label', { class: 'field', id: 'login-totp-field' },
    h('span', { class: 'field-label' }, 'Authentication code'), code,
    h('span', { class: 'muted small' }, 'The 6 digits from your authenticator app, or one of your recovery codes.'));
  codeField.hidden = true;
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { id: 'login-form', class: 'login-form', novalidate: true },
    h('h1', null, 'crypto', h('span', { class: 'accent' }, 'lens')),
    h('p', { class: 'muted' }, 'Market scanner and paper trading'),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'User name'), username),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Password'), password),
    codeField, error, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      showLoginError(error, 'Enter your user name and password.');
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const body = { username: username.value.trim(), password: password.value, cookie: true, ...secondFactor(code.value) };
      const answer = await api.post('/api/auth/login', body);
      startApp({ username: answer.username, role: answer.role, csrfToken: answer.csrf_token, enrolmentDue: answer.totp_enrolment_due });
    } catch (failure) {
      const reason = failure instanceof ApiError ? failure.code : null;
      if (reason === 'totp_required') {
        codeField.hidden = false;
        showLoginError(error, 'Two-factor sign-in is on for this account: enter a code.');
      } else if (reason === 'totp_invalid') {
        showLoginError(error, 'That code is wrong or was used already.');
      } else {
        showLoginError(error, failure instanceof ApiError && failure.status === 401
          ? 'Wrong user name or password.' : errorText(failure));
      }
      submit.disabled = false;
      submit.textContent = 'Log in';
      if (codeField.hidden) password.select(); else code.select();
    }
  });
  pageElement.append(h('div', { class: 'login-wrap' }, form));
  setPageState('ready');
  username.focus();
}

// Digits are a TOTP code; anything with letters is a recovery code.
function secondFactor(text) {
  const value = text.trim();
  if (!value) return {};
  return /^[0-9 ]+$/.test(value) ? { totp_code: value.replace(/ /g, '') } : { recovery_code: value };
}

function showLoginError(element, text) {
  element.textContent = text;
  element.hidden = false;
}

// ---- shell -------------------------------------------------------------------------------

function startApp(who) {
  // A role that must use two-factor sign-in reaches only the account page until it has.
  session = { username: who.username, role: who.role, csrfToken: who.csrfToken, enrolmentDue: Boolean(who.enrolmentDue) };
  setCsrf(session.csrfToken);
  document.body.classList.remove('logged-out');
  header.hidden = false;
  document.getElementById('user-name').textContent = session.username;
  document.getElementById('user-role').textContent = session.role;
  buildNav();
  // The live stream is one of the routes an enrolling session cannot reach yet.
  if (!session.enrolmentDue) stream.start();
  if (session.enrolmentDue) {
    history.replaceState(null, '', '#/account');
  } else if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', `#/${DEFAULT_ROUTE}`);
  }
  route();
}

/// The account page calls this once two-factor sign-in is on: the whole dashboard opens.
function enrolmentDone() {
  if (!session?.enrolmentDue) return;
  session.enrolmentDue = false;
  buildNav();
  stream.start();
}

function buildNav() {
  clear(nav);
  for (const page of pages) {
    if (!page.nav || !canAct(page.role || 'viewer')) continue;
    if (session.enrolmentDue && page.id !== 'account') continue;
    nav.append(h('a', { href: `#/${page.id}`, dataset: { nav: page.id } }, page.title));
  }
}

function markActiveNav(pageId) {
  for (const link of nav.querySelectorAll('a[data-nav]')) {
    const active = link.dataset.nav === pageId;
    link.classList.toggle('active', active);
    if (active) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
}

async function logout() {
  try {
    await api.post('/api/auth/logout', {});
  } catch (error) {
    // The session may already be gone; the login page is right either way.
    if (!(error instanceof ApiError)) console.warn('logout failed', error);
  }
  history.replaceState(null, '', '#/');
  showLogin();
}

function showLiveStatus(status) {
  const labels = { live: 'live', connecting: 'connecting…', reconnecting: 'reconnecting…', offline: 'offline' };
  liveBadge.textContent = labels[status] || status;
  liveBadge.className = `live-badge live-${status}`;
  liveBadge.title = status === 'live' ? 'Receiving live updates' : 'Live updates paused; retrying';
}

// ---- router ------------------------------------------------------------------------------

function findRoute(path) {
  for (const page of pages) {
    const match = page.route ? page.route.exec(path) : null;
    if (match) return { page, params: match.slice(1).map((part) => (part === undefined ? undefined : decodeURIComponent(part))) };
  }
  // A bare page id (a nav link) opens that page without parameters.
  const page = pages.find((candidate) => candidate.id === path);
  return page ? { page, params: [] } : null;
}

function unmountCurrent() {
  if (!current) return;
  const { unmount, observer } = current;
  current = null;
  observer.disconnect();
  if (typeof unmount === 'function') {
    try {
      unmount();
    } catch (error) {
      console.error('unmount failed', error);
    }
  }
}

function route() {
  if (!session) return;
  const path = location.hash.replace(/^#\/?/, '') || DEFAULT_ROUTE;
  const found = findRoute(path);
  unmountCurrent();
  const token = ++navigationToken;
  clear(pageElement);
  if (!found) {
    renderMessage('notfound', 'Page not found', `Nothing lives at #/${path}.`);
    return;
  }
  const { page, params } = found;
  if (session.enrolmentDue && page.id !== 'account') {
    navigate('account');
    return;
  }
  markActiveNav(page.id);
  if (!canAct(page.role || 'viewer')) {
    renderMessage(page.id, 'Not allowed', `The ${page.title} page needs the ${page.role} role; you are ${session.role}.`, 'error');
    return;
  }
  mountPage(page, params, token);
}

function renderMessage(pageId, title, text, state = 'ready') {
  pageElement.dataset.page = pageId;
  pageElement.append(h('div', { class: 'message-page' }, h('h1', null, title), h('p', null, text),
    h('a', { href: `#/${DEFAULT_ROUTE}` }, 'Back to the matrix')));
  setPageState(state);
}

async function mountPage(page, params, token) {
  // Each mount renders into its own root, so a slow page that finishes after the user moved
  // on writes into a detached element rather than over the next page.
  const root = h('div', { class: 'page-root', dataset: { page: page.id, state: 'loading' } });
  pageElement.dataset.page = page.id;
  setPageState('loading');
  pageElement.append(root);
  document.title = `${page.title} · cryptolens`;
  // Pages may set root.dataset.state themselves or call ctx.setState; both reach #page.
  const observer = new MutationObserver(() => {
    if (current?.root === root) setPageState(root.dataset.state);
  });
  observer.observe(root, { attributes: true, attributeFilter: ['data-state'] });
  current = { page, unmount: null, root, observer, token };
  const ctx = {
    api, stream, navigate, canAct, enrolmentDone,
    session: { ...session },
    setState: (state) => { root.dataset.state = state; },
  };
  try {
    const unmount = await page.mount(root, ctx, params);
    if (current?.token !== token) {
      if (typeof unmount === 'function') unmount();
      return;
    }
    current.unmount = unmount;
    // Focus left with the previous page (or the login form): start keyboard users at the page.
    if (!document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected) {
      pageElement.focus({ preventScroll: true });
    }
    // A mount that resolved has shown its first data unless it said otherwise.
    if (root.dataset.state === 'loading') root.dataset.state = 'ready';
  } catch (error) {
    console.error(`page ${page.id} failed to mount`, error);
    if (current?.token !== token) return;
    clear(root);
    root.append(errorBox(error, () => route()));
    root.dataset.state = 'error';
  }
}

// ---- boot --------------------------------------------------------------------------------

async function boot() {
  document.getElementById('logout').addEventListener('click', logout);
  stream.onStatus(showLiveStatus);
  onUnauthorized(() => {
    if (session) showLogin('Your session has ended. Log in again.');
  });
  window.addEventListener('hashchange', route);
  try {
    // Answers 200 logged in or not, so a first visit logs no failed request.
    const me = await api.get('/api/auth/session');
    if (me.authenticated) {
      startApp({ username: me.username, role: me.role, csrfToken: me.csrf_token, enrolmentDue: me.totp_enrolment_due });
    } else {
      showLogin();
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      showLogin();
    } else {
      clear(pageElement);
      pageElement.dataset.page = 'boot';
      pageElement.append(errorBox(error, () => location.reload()));
      setPageState('error');
    }
  }
}

boot();
