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
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { id: 'login-form', class: 'login-form', novalidate: true },
    h('h1', null, 'crypto', h('span', { class: 'accent' }, 'lens')),
    h('p', { class: 'muted' }, 'Market scanner and paper trading'),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'User name'), username),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Password'), password),
    error, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      showLoginError(error, 'Enter your user name and password.');
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const answer = await api.post('/api/auth/login', { username: username.value.trim(), password: password.value, cookie: true });
      startApp({ username: answer.username, role: answer.role, csrfToken: answer.csrf_token });
    } catch (failure) {
      const text = failure instanceof ApiError && failure.status === 401
        ? 'Wrong user name or password.' : errorText(failure);
      showLoginError(error, text);
      submit.disabled = false;
      submit.textContent = 'Log in';
      password.select();
    }
  });
  pageElement.append(h('div', { class: 'login-wrap' }, form));
  setPageState('ready');
  username.focus();
}

function showLoginError(element, text) {
  element.textContent = text;
  element.hidden = false;
}

// ---- shell -------------------------------------------------------------------------------

function startApp(who) {
  session = { username: who.username, role: who.role, csrfToken: who.csrfToken };
  setCsrf(session.csrfToken);
  document.body.classList.remove('logged-out');
  header.hidden = false;
  document.getElementById('user-name').textContent = session.username;
  document.getElementById('user-role').textContent = session.role;
  buildNav();
  stream.start();
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', `#/${DEFAULT_ROUTE}`);
  }
  route();
}

function buildNav() {
  clear(nav);
  for (const page of pages) {
    if (!page.nav || !canAct(page.role || 'viewer')) continue;
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
    api, stream, navigate, canAct,
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
      startApp({ username: me.username, role: me.role, csrfToken: me.csrf_token });
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
