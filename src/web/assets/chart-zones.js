// Zone boxes (fair value gaps, order blocks) drawn on the price pane.
//
// lightweight-charts v5 has no rectangle series, so this is a series primitive: attach it with
// `candleSeries.attachPrimitive(zones)`, then `zones.setZones(zones, barTimes)`.
// A zone is `{ id, label, direction: 'bullish'|'bearish', live, touched, top, bottom,
// startTime, endTime }` with prices as numbers (display only) and times as chart seconds;
// `endTime: null` means the zone is still open and runs to the right edge.
//
// The time scale only maps times of existing bars, so zone edges are snapped to the nearest
// bar; a zone that began before the first loaded bar starts at the first bar (the left edge
// of the history).

const COLOURS = {
  bullish: { fill: 'rgba(38, 162, 105, 0.24)', touched: 'rgba(38, 162, 105, 0.13)',
    edge: 'rgba(38, 162, 105, 0.70)', text: 'rgba(38, 162, 105, 0.95)' },
  bearish: { fill: 'rgba(229, 72, 77, 0.22)', touched: 'rgba(229, 72, 77, 0.12)',
    edge: 'rgba(229, 72, 77, 0.70)', text: 'rgba(229, 72, 77, 0.95)' },
  resolved: { edge: 'rgba(139, 148, 158, 0.55)', hatch: 'rgba(139, 148, 158, 0.22)' },
};
const HATCH_STEP_PX = 7;
const LABEL_FONT_PX = 10;
const LABEL_MIN_WIDTH_PX = 30;
const LABEL_MIN_HEIGHT_PX = 12;

/** Index of the bar time nearest to `time` in the ascending `barTimes`. */
export function nearestBarIndex(barTimes, time) {
  let low = 0;
  let high = barTimes.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (barTimes[middle] < time) low = middle + 1;
    else high = middle;
  }
  if (low > 0 && time - barTimes[low - 1] < barTimes[low] - time) return low - 1;
  return low;
}

/**
 * Where a zone lies on the loaded bars: `{ startIndex (-1 = before the first bar),
 * endIndex (null = open) }`, or null when it lies wholly outside them.
 */
function placeOnBars(zone, barTimes) {
  if (barTimes.length === 0) return null;
  const first = barTimes[0];
  const last = barTimes[barTimes.length - 1];
  if (zone.startTime > last) return null;
  if (zone.endTime !== null && zone.endTime < first) return null;
  const startIndex = zone.startTime < first ? -1 : nearestBarIndex(barTimes, zone.startTime);
  const endIndex = zone.endTime === null || zone.endTime > last
    ? null
    : nearestBarIndex(barTimes, zone.endTime);
  return { startIndex, endIndex };
}

class ZonesRenderer {
  constructor() {
    this.boxes = [];
  }

  draw(target) {
    target.useBitmapCoordinateSpace((scope) => {
      for (const box of this.boxes) drawBox(scope, box);
    });
  }
}

function drawBox(scope, box) {
  const { context, horizontalPixelRatio: xRatio, verticalPixelRatio: yRatio, bitmapSize } = scope;
  const left = Math.max(0, Math.round(box.x1 * xRatio));
  const right = box.x2 === null ? bitmapSize.width : Math.min(bitmapSize.width, Math.round(box.x2 * xRatio));
  const top = Math.round(Math.min(box.y1, box.y2) * yRatio);
  const bottom = Math.round(Math.max(box.y1, box.y2) * yRatio);
  const width = right - left;
  const height = Math.max(1, bottom - top);
  if (width <= 0 || bottom < 0 || top > bitmapSize.height) return;
  const lineWidth = Math.max(1, Math.floor(xRatio));
  context.save();
  if (box.live) {
    const colours = COLOURS[box.direction] || COLOURS.bullish;
    context.fillStyle = box.touched ? colours.touched : colours.fill;
    context.fillRect(left, top, width, height);
    context.strokeStyle = colours.edge;
    context.lineWidth = lineWidth;
    context.strokeRect(left + lineWidth / 2, top + lineWidth / 2, width - lineWidth, height - lineWidth);
    drawLabel(context, box, left, top, width, height, colours.text, xRatio, yRatio);
  } else {
    drawHatch(context, left, top, width, height, Math.round(HATCH_STEP_PX * xRatio), lineWidth);
    context.strokeStyle = COLOURS.resolved.edge;
    context.lineWidth = lineWidth;
    context.setLineDash([4 * xRatio, 3 * xRatio]);
    context.strokeRect(left + lineWidth / 2, top + lineWidth / 2, width - lineWidth, height - lineWidth);
    context.setLineDash([]);
    // No label: resolved boxes pile up, and their names would bury the live ones.
  }
  context.restore();
}

/** Diagonal hatching clipped to the box: the look of a mitigated (resolved) zone. */
function drawHatch(context, left, top, width, height, step, lineWidth) {
  context.save();
  context.beginPath();
  context.rect(left, top, width, height);
  context.clip();
  context.strokeStyle = COLOURS.resolved.hatch;
  context.lineWidth = lineWidth;
  context.beginPath();
  for (let x = left - height; x < left + width; x += step) {
    context.moveTo(x, top + height);
    context.lineTo(x + height, top);
  }
  context.stroke();
  context.restore();
}

function drawLabel(context, box, left, top, width, height, colour, xRatio, yRatio) {
  if (width < LABEL_MIN_WIDTH_PX * xRatio || height < LABEL_MIN_HEIGHT_PX * yRatio) return;
  context.font = `${Math.round(LABEL_FONT_PX * yRatio)}px system-ui, sans-serif`;
  context.fillStyle = colour;
  context.textBaseline = 'top';
  context.fillText(box.label, left + 3 * xRatio, top + 2 * yRatio);
}

class ZonesPaneView {
  constructor(source) {
    this.source = source;
    this.paneRenderer = new ZonesRenderer();
  }

  /** Behind the candles, so boxes never hide price action. */
  zOrder() {
    return 'bottom';
  }

  update() {
    this.paneRenderer.boxes = this.source.boxesOnScreen();
  }

  renderer() {
    return this.paneRenderer;
  }
}

export class ZonesPrimitive {
  constructor() {
    this.placed = [];
    this.barTimes = [];
    this.chart = null;
    this.series = null;
    this.requestUpdate = null;
    this.views = [new ZonesPaneView(this)];
  }

  attached({ chart, series, requestUpdate }) {
    this.chart = chart;
    this.series = series;
    this.requestUpdate = requestUpdate;
  }

  detached() {
    this.chart = null;
    this.series = null;
    this.requestUpdate = null;
  }

  paneViews() {
    return this.views;
  }

  updateAllViews() {
    for (const view of this.views) view.update();
  }

  /** Replaces the zones; answers how many lie on the loaded bars (the boxes drawn). */
  setZones(zones, barTimes) {
    this.barTimes = barTimes;
    this.placed = [];
    for (const zone of zones) {
      const place = placeOnBars(zone, barTimes);
      if (place) this.placed.push({ zone, ...place });
    }
    if (this.requestUpdate) this.requestUpdate();
    return this.placed.length;
  }

  /** Media-pixel boxes for the current viewport; x2 null = the right edge of the pane. */
  boxesOnScreen() {
    if (!this.chart || !this.series) return [];
    const timeScale = this.chart.timeScale();
    const halfBar = timeScale.options().barSpacing / 2;
    const boxes = [];
    for (const { zone, startIndex, endIndex } of this.placed) {
      const y1 = this.series.priceToCoordinate(zone.top);
      const y2 = this.series.priceToCoordinate(zone.bottom);
      if (y1 === null || y2 === null) continue;
      // A zone older than the loaded history starts at the first bar.
      const x1 = timeScale.timeToCoordinate(this.barTimes[Math.max(0, startIndex)]);
      const x2 = endIndex === null ? null : timeScale.timeToCoordinate(this.barTimes[endIndex]);
      if (x1 === null || (endIndex !== null && x2 === null)) continue;
      boxes.push({
        label: zone.label,
        direction: zone.direction,
        live: zone.live,
        touched: zone.touched,
        y1,
        y2,
        x1: x1 - halfBar,
        x2: x2 === null ? null : x2 + halfBar,
      });
    }
    return boxes;
  }
}
