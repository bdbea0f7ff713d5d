// One WebSocket to /api/stream for the whole app. Pages listen with a filter; the socket
// subscribes to the union of the live listeners' filters (re-sent when it changes), hands each
// event to the listeners whose filter matches, and reconnects with backoff (1 s, 2 s, 4 s ...
// max 30 s) when the server drops it (e.g. close 1008 "too slow").

const FILTER_FIELDS = ['kinds', 'symbols', 'timeframes'];
const MAX_BACKOFF_MS = 30000;

const listeners = new Set();
const statusHandlers = new Set();
const resyncHandlers = new Set();
let socket = null;
let running = false;
let status = 'offline';
let backoffMs = 1000;
let reconnectTimer = null;
let sentSubscription = null;

function setStatus(next) {
  if (status === next) return;
  const recovered = next === 'live' && status === 'reconnecting';
  status = next;
  if (recovered) resync();
  for (const handler of statusHandlers) handler(status);
}

function resync() {
  for (const handler of [...resyncHandlers]) {
    try {
      handler();
    } catch (error) {
      console.error('stream resync handler failed', error);
    }
  }
}

function streamUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/api/stream`;
}

/** The union of the listeners' filters: a field any listener leaves open stays open. */
function unionFilter() {
  const union = {};
  for (const field of FILTER_FIELDS) {
    const values = new Set();
    let open = listeners.size === 0 && field !== 'kinds';
    for (const { filter } of listeners) {
      if (!filter[field]) { open = true; break; }
      filter[field].forEach((value) => values.add(value));
    }
    if (!open) union[field] = [...values].sort();
  }
  // With nobody listening, health events alone keep the badge honest at no cost.
  if (listeners.size === 0) union.kinds = ['health'];
  return union;
}

function subscribe() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  const message = JSON.stringify({ subscribe: unionFilter() });
  if (message === sentSubscription) return;
  sentSubscription = message;
  socket.send(message);
}

/** The event's symbol and timeframe, wherever its kind carries them. */
function eventKeys(event) {
  const symbol = event.symbol ?? event.trade?.symbol ?? null;
  const timeframe = event.timeframe ?? event.pattern?.timeframe ?? event.signal?.entry_timeframe ?? null;
  return { symbol, timeframe };
}

function matches(filter, event) {
  if (filter.kinds && !filter.kinds.includes(event.type)) return false;
  const { symbol, timeframe } = eventKeys(event);
  if (filter.symbols && symbol && !filter.symbols.includes(symbol)) return false;
  // Signals span timeframes: the timeframe filter only narrows candles and patterns.
  if (filter.timeframes && timeframe && (event.type === 'candle' || event.type === 'pattern')
    && !filter.timeframes.includes(timeframe)) return false;
  return true;
}

function deliver(event) {
  for (const listener of [...listeners]) {
    if (!listeners.has(listener) || !matches(listener.filter, event)) continue;
    try {
      listener.handler(event);
    } catch (error) {
      console.error('stream listener failed', error);
    }
  }
}

function connect() {
  if (!running || socket) return;
  setStatus(status === 'live' || status === 'reconnecting' ? 'reconnecting' : 'connecting');
  const opened = new WebSocket(streamUrl());
  socket = opened;
  opened.addEventListener('open', () => {
    if (socket !== opened) return;
    backoffMs = 1000;
    sentSubscription = null;
    setStatus('live');
    subscribe();
  });
  opened.addEventListener('message', (message) => {
    if (socket !== opened) return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!event || !event.type || event.type === 'subscribed') return;
    if (event.type === 'lagged') resync();
    else deliver(event);
  });
  opened.addEventListener('close', () => {
    if (socket !== opened) return;
    socket = null;
    scheduleReconnect();
  });
  // An error is always followed by close, which does the reconnecting.
  opened.addEventListener('error', () => {});
}

function scheduleReconnect() {
  if (!running) {
    setStatus('offline');
    return;
  }
  setStatus('reconnecting');
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connect, backoffMs);
  backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
}

function normaliseFilter(filter = {}) {
  const normal = {};
  for (const field of FILTER_FIELDS) {
    if (Array.isArray(filter[field])) normal[field] = [...filter[field]];
  }
  return normal;
}

export const stream = {
  /**
   * Calls `handler(event)` for each event matching `filter` ({kinds, symbols, timeframes},
   * missing = all). Returns `off()`, which stops it.
   */
  listen(filter, handler) {
    const listener = { filter: normaliseFilter(filter), handler };
    listeners.add(listener);
    subscribe();
    return () => {
      if (listeners.delete(listener)) subscribe();
    };
  },

  /** Calls `handler(status)` now and on each change: 'connecting' | 'live' | 'reconnecting' | 'offline'. */
  onStatus(handler) {
    statusHandlers.add(handler);
    handler(status);
    return () => statusHandlers.delete(handler);
  },

  /**
   * Calls `handler()` whenever events may have been missed: the socket is live again after a
   * drop, or the server said it dropped events ({"type":"lagged"}). A page refetches then.
   * Returns `off()`.
   */
  onReconnect(handler) {
    resyncHandlers.add(handler);
    return () => resyncHandlers.delete(handler);
  },

  /** The current connection status. */
  get status() {
    return status;
  },

  /** Opens the socket (after login). */
  start() {
    if (running) return;
    running = true;
    backoffMs = 1000;
    connect();
  },

  /** Closes the socket (logout); listeners stay registered for the next start. */
  stop() {
    running = false;
    clearTimeout(reconnectTimer);
    const closing = socket;
    socket = null;
    if (closing) closing.close(1000, 'logout');
    setStatus('offline');
  },
};
