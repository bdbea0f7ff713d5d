// Display formatting. Prices and money arrive as decimal STRINGS; they are formatted as
// strings (rounding done on digits with BigInt), never through floats, so a displayed amount
// is exactly the server's amount rounded half away from zero. Times are ms UTC shown in the
// browser's time zone.

const NUMBER_PARTS = new Intl.NumberFormat(undefined).formatToParts(12345.6);
const GROUP = NUMBER_PARTS.find((part) => part.type === 'group')?.value ?? ',';
const DECIMAL = NUMBER_PARTS.find((part) => part.type === 'decimal')?.value ?? '.';
const DASH = '—';

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const SHORT_TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});

/** A decimal string split into sign, integer digits and fraction digits; null if not a decimal. */
function splitDecimal(text) {
  const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(String(text ?? ''));
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return null;
  return { negative: match[1] === '-', whole: match[2].replace(/^0+(?=\d)/, '') || '0', fraction: match[3] ?? '' };
}

/** Number of decimals a decimal string carries ("0.0100" -> 4, "12" -> 0). */
export function decimalsOf(text) {
  const parts = splitDecimal(text);
  return parts ? parts.fraction.length : 0;
}

/** Rounds the digits of a decimal string to `decimals` places (half away from zero). */
function roundParts(parts, decimals) {
  if (parts.fraction.length <= decimals) {
    return { ...parts, fraction: parts.fraction.padEnd(decimals, '0') };
  }
  const kept = BigInt(parts.whole + parts.fraction.slice(0, decimals));
  const roundsUp = parts.fraction[decimals] >= '5';
  const digits = (roundsUp ? kept + 1n : kept).toString().padStart(decimals + 1, '0');
  const whole = decimals === 0 ? digits : digits.slice(0, -decimals);
  const fraction = decimals === 0 ? '' : digits.slice(-decimals);
  return { negative: parts.negative, whole, fraction };
}

function groupThousands(whole) {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, GROUP);
}

function joinParts({ negative, whole, fraction }, signed) {
  const isZero = /^0*$/.test(whole + fraction);
  const sign = negative && !isZero ? '−' : (signed && !isZero ? '+' : '');
  return sign + groupThousands(whole) + (fraction ? DECIMAL + fraction : '');
}

/**
 * A decimal string with thousand separators and exactly `decimals` places (default: as given).
 * Options: {signed: true} puts "+" before positive values. Non-decimals show as "—".
 */
export function formatDecimal(text, decimals, options = {}) {
  const parts = splitDecimal(text);
  if (!parts) return DASH;
  const places = decimals ?? parts.fraction.length;
  return joinParts(roundParts(parts, places), options.signed);
}

/** A price to the symbol's precision (`decimals`, from decimalsOf of its price strings). */
export function formatPrice(text, decimals) {
  return formatDecimal(text, decimals);
}

/** Money: two decimals, unless the amount is small enough that two would hide it. */
export function formatMoney(text, options = {}) {
  const parts = splitDecimal(text);
  if (!parts) return DASH;
  const decimals = options.decimals ?? (parts.whole === '0' && /^00/.test(parts.fraction) && !/^0*$/.test(parts.fraction)
    ? Math.min(parts.fraction.replace(/0+$/, '').length, 8) : 2);
  return formatDecimal(text, decimals, options);
}

/** A quantity as given, trailing zeros dropped. */
export function formatQuantity(text) {
  const parts = splitDecimal(text);
  if (!parts) return DASH;
  return joinParts({ ...parts, fraction: parts.fraction.replace(/0+$/, '') });
}

/** A ms UTC timestamp as a date and time in the browser's time zone. */
export function formatTime(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return DASH;
  return TIME_FORMAT.format(new Date(Number(ms)));
}

/** A shorter date/time (month day, hh:mm) for dense tables. */
export function formatShortTime(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return DASH;
  return SHORT_TIME_FORMAT.format(new Date(Number(ms)));
}

/** How long ago `ms` was, relative to `nowMs`: "45s", "12m 3s", "5h 20m", "3d 4h". */
export function formatAge(ms, nowMs = Date.now()) {
  if (ms === null || ms === undefined) return DASH;
  return formatDuration(Math.max(0, nowMs - Number(ms)));
}

/** A duration in ms: "45s", "12m 3s", "5h 20m", "3d 4h". */
export function formatDuration(durationMs) {
  if (durationMs === null || durationMs === undefined || !Number.isFinite(Number(durationMs))) return DASH;
  const seconds = Math.floor(Number(durationMs) / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** A fraction (0.553) as a percentage ("55.3%"). */
export function formatPercent(fraction, digits = 1) {
  if (fraction === null || fraction === undefined || !Number.isFinite(Number(fraction))) return DASH;
  return `${(Number(fraction) * 100).toFixed(digits)}%`;
}

/** A plain count with thousand separators. */
/** A size in bytes as B, KiB, MiB or GiB with one decimal ("—" when unknown). */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(Number(bytes))) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatCount(value) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return DASH;
  return groupThousands(String(Math.trunc(Number(value))));
}

/** -1, 0 or 1: the sign of a decimal string (0 for non-decimals). */
export function signOf(text) {
  const parts = splitDecimal(text);
  if (!parts || /^0*$/.test(parts.whole + parts.fraction)) return 0;
  return parts.negative ? -1 : 1;
}

// Exact decimal arithmetic on strings, for the few derived figures the UI shows (risk amount
// of a preview, R distances). A decimal is BigInt digits with a scale.

function toScaled(text) {
  const parts = splitDecimal(text);
  if (!parts) throw new TypeError(`not a decimal: ${text}`);
  const digits = BigInt(parts.whole + parts.fraction);
  return { digits: parts.negative ? -digits : digits, scale: parts.fraction.length };
}

function fromScaled({ digits, scale }) {
  const negative = digits < 0n;
  const text = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
  const whole = scale === 0 ? text : text.slice(0, -scale);
  const fraction = scale === 0 ? '' : text.slice(-scale);
  return (negative ? '-' : '') + whole + (fraction ? `.${fraction}` : '');
}

function aligned(a, b) {
  const scale = Math.max(a.scale, b.scale);
  const lift = (value) => value.digits * 10n ** BigInt(scale - value.scale);
  return [lift(a), lift(b), scale];
}

/** a − b, exactly. */
export function decimalSub(a, b) {
  const [x, y, scale] = aligned(toScaled(a), toScaled(b));
  return fromScaled({ digits: x - y, scale });
}

/** a × b, exactly. */
export function decimalMul(a, b) {
  const x = toScaled(a);
  const y = toScaled(b);
  return fromScaled({ digits: x.digits * y.digits, scale: x.scale + y.scale });
}

/** |a|. */
export function decimalAbs(a) {
  return String(a).trim().replace(/^[-+]/, '');
}

/** Compares two decimal strings: negative, zero or positive (non-decimals sort first). */
export function compareDecimal(a, b) {
  const validA = splitDecimal(a) !== null;
  const validB = splitDecimal(b) !== null;
  if (!validA || !validB) return Number(validA) - Number(validB);
  const [x, y] = aligned(toScaled(a), toScaled(b));
  return x < y ? -1 : (x > y ? 1 : 0);
}

/** A decimal string as a float, ONLY for plotting (charts need numbers), never for amounts. */
export function plotNumber(text) {
  const value = Number.parseFloat(text);
  return Number.isFinite(value) ? value : null;
}
