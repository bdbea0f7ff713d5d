// The REST client: JSON in, JSON out, errors as ApiError with the server's message.
// Session auth is the HttpOnly cookie (sent automatically, same origin); every non-GET carries
// the CSRF token from login or /api/auth/me.

let csrfToken = null;
let unauthorizedHandler = null;

/** Remembers the CSRF token sent with every non-GET request (null after logout). */
export function setCsrf(token) {
  csrfToken = token || null;
}

/** Registers what happens on a 401 (the app shows the login page). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** A non-2xx answer: HTTP status plus the error document's code, message and field. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field ?? null;
  }
}

/** `path` with `query` ({name: value}, null/undefined/'' skipped) appended. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== '') params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

// Requests whose 401 means "wrong password" rather than "session gone".
const NO_REDIRECT_ON_401 = new Set(['/api/auth/login', '/api/auth/me']);

async function request(method, path, { query, body, headers } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(withQuery(path, query), init);
  } catch (cause) {
    throw new ApiError(0, 'network', `Cannot reach the server (${cause.message || cause}).`);
  }
  const document = await readBody(response);
  if (response.ok) return document;
  const error = toApiError(response, document);
  if (response.status === 401 && !NO_REDIRECT_ON_401.has(path) && unauthorizedHandler) {
    unauthorizedHandler(error);
  }
  throw error;
}

async function readBody(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return response.ok ? text : { error: { code: 'http', message: text.slice(0, 300) } };
  }
}

function toApiError(response, document) {
  const detail = document && typeof document === 'object' ? document.error : null;
  const message = detail?.message || `${response.status} ${response.statusText || 'request failed'}`;
  const retry = response.headers.get('Retry-After');
  const suffix = response.status === 429 && retry ? ` Try again in ${retry} s.` : '';
  return new ApiError(response.status, detail?.code || 'http', message + suffix, detail?.field);
}

/**
 * A fresh Idempotency-Key value (a random UUID): a retried mutation with the same key is
 * applied once. crypto.randomUUID needs a secure context, so fall back to getRandomValues.
 */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * api.get(path, query), api.post(path, body, {headers}), api.patch(path, body), api.del(path):
 * each resolves to the parsed JSON answer or rejects with ApiError.
 */
export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body = {}, options = {}) => request('POST', path, { body, headers: options.headers }),
  patch: (path, body = {}, options = {}) => request('PATCH', path, { body, headers: options.headers }),
  del: (path, options = {}) => request('DELETE', path, { headers: options.headers }),
};
