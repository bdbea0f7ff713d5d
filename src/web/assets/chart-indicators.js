// Indicator series for the chart, computed in the browser from the loaded candles.
//
// The server's GET /api/indicators answers only the values at the last closed candle, so the
// lines drawn on the chart are recomputed here with float math. They are for display only:
// no price, size or money is ever derived from them.
//
// Every function takes an array of numbers (closes) and returns an array of the same length
// with `null` during the warm-up, so index i always belongs to candle i.

/** Simple moving average over `period` values. */
export function sma(values, period) {
  const out = new Array(values.length).fill(null);
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) {
    sum += values[i];
    if (i >= period) sum -= values[i - period];
    if (i >= period - 1) out[i] = sum / period;
  }
  return out;
}

/** Exponential moving average seeded with the SMA of the first `period` values. */
export function ema(values, period) {
  const out = new Array(values.length).fill(null);
  if (values.length < period) return out;
  const alpha = 2 / (period + 1);
  let seed = 0;
  for (let i = 0; i < period; i += 1) seed += values[i];
  let current = seed / period;
  out[period - 1] = current;
  for (let i = period; i < values.length; i += 1) {
    current = values[i] * alpha + current * (1 - alpha);
    out[i] = current;
  }
  return out;
}

/** EMA over a series that starts with nulls (e.g. the MACD line during its own warm-up). */
function emaOfSparse(values, period) {
  const firstIndex = values.findIndex((value) => value !== null);
  const out = new Array(values.length).fill(null);
  if (firstIndex < 0) return out;
  const tail = ema(values.slice(firstIndex), period);
  for (let i = 0; i < tail.length; i += 1) out[firstIndex + i] = tail[i];
  return out;
}

/** Wilder's RSI. */
export function rsi(values, period = 14) {
  const out = new Array(values.length).fill(null);
  if (values.length <= period) return out;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= period; i += 1) {
    const change = values[i] - values[i - 1];
    if (change > 0) gain += change;
    else loss -= change;
  }
  let averageGain = gain / period;
  let averageLoss = loss / period;
  out[period] = rsiOf(averageGain, averageLoss);
  for (let i = period + 1; i < values.length; i += 1) {
    const change = values[i] - values[i - 1];
    averageGain = (averageGain * (period - 1) + Math.max(change, 0)) / period;
    averageLoss = (averageLoss * (period - 1) + Math.max(-change, 0)) / period;
    out[i] = rsiOf(averageGain, averageLoss);
  }
  return out;
}

function rsiOf(averageGain, averageLoss) {
  if (averageLoss === 0) return averageGain === 0 ? 50 : 100;
  return 100 - 100 / (1 + averageGain / averageLoss);
}

/** MACD(fast, slow, signal): `{ macd, signal, histogram }`, each aligned with `values`. */
export function macd(values, fast = 12, slow = 26, signalPeriod = 9) {
  const fastLine = ema(values, fast);
  const slowLine = ema(values, slow);
  const line = values.map((_, i) =>
    fastLine[i] === null || slowLine[i] === null ? null : fastLine[i] - slowLine[i]);
  const signal = emaOfSparse(line, signalPeriod);
  const histogram = line.map((value, i) =>
    value === null || signal[i] === null ? null : value - signal[i]);
  return { macd: line, signal, histogram };
}

/** Bollinger bands: SMA(period) +- multiplier * population standard deviation. */
export function bollinger(values, period = 20, multiplier = 2) {
  const middle = sma(values, period);
  const upper = new Array(values.length).fill(null);
  const lower = new Array(values.length).fill(null);
  for (let i = period - 1; i < values.length; i += 1) {
    let squares = 0;
    for (let j = i - period + 1; j <= i; j += 1) {
      const deviation = values[j] - middle[i];
      squares += deviation * deviation;
    }
    const width = multiplier * Math.sqrt(squares / period);
    upper[i] = middle[i] + width;
    lower[i] = middle[i] - width;
  }
  return { upper, middle, lower };
}
