// Tiny DOM helpers. Everything user- or server-supplied becomes text (textContent), never
// markup, so the strict CSP holds and data cannot inject elements.

const BOOLEAN_PROPS = new Set(['disabled', 'checked', 'selected', 'hidden', 'required', 'open', 'multiple', 'readOnly']);

/**
 * h('button', {class: 'primary', onclick: fn, dataset: {action: 'x'}}, 'Label', childNode)
 * - `class` / `className`: string or array (falsy entries skipped)
 * - `on<event>`: function, attached with addEventListener
 * - `dataset`: object of data-* attributes
 * - boolean props (disabled, checked, ...) set as properties; null/undefined/false attrs skipped
 * - `value` is set as a property so inputs/selects reflect it
 * Children: strings/numbers (text), Nodes, arrays (flattened), null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    setAttribute(element, name, value);
  }
  append(element, children);
  return element;
}

function setAttribute(element, name, value) {
  if (value === null || value === undefined || value === false) return;
  if (name === 'class' || name === 'className') {
    const names = Array.isArray(value) ? value.filter(Boolean) : String(value).split(/\s+/).filter(Boolean);
    element.classList.add(...names);
  } else if (name === 'dataset') {
    for (const [key, data] of Object.entries(value)) {
      if (data !== null && data !== undefined) element.dataset[key] = String(data);
    }
  } else if (name.startsWith('on') && typeof value === 'function') {
    element.addEventListener(name.slice(2).toLowerCase(), value);
  } else if (BOOLEAN_PROPS.has(name)) {
    element[name] = Boolean(value);
  } else if (name === 'value') {
    element.value = String(value);
  } else {
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Appends children (text, nodes, nested arrays; null/false skipped). */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Removes every child of `element`. */
export function clear(element) {
  while (element.firstChild) element.removeChild(element.firstChild);
  return element;
}

/** Replaces the children of `element` with `children`. */
export function replace(element, ...children) {
  clear(element);
  return append(element, children);
}

/**
 * A table. `columns`: [{key, label, render(row) -> node|string, className, sort}], `rows`: array.
 * Options: {id, rowAttrs(row) -> attrs for the <tr>, empty: text when no rows, caption}.
 * A column's `className` goes on both its th and td (e.g. 'num' right-aligns).
 */
export function table(columns, rows, options = {}) {
  const head = h('thead', null, h('tr', null, columns.map((column) =>
    h('th', { scope: 'col', class: column.className }, column.label))));
  const body = h('tbody');
  fillBody(body, columns, rows, options);
  return h('div', { class: 'table-wrap' },
    h('table', { id: options.id, class: options.className },
      options.caption ? h('caption', null, options.caption) : null, head, body));
}

/** Re-renders the <tbody> of a table made by `table()`. */
export function fillBody(body, columns, rows, options = {}) {
  clear(body);
  if (rows.length === 0) {
    body.append(h('tr', { class: 'empty-row' },
      h('td', { colspan: columns.length, class: 'muted' }, options.empty || 'Nothing to show.')));
    return body;
  }
  for (const row of rows) {
    const attrs = options.rowAttrs ? options.rowAttrs(row) : null;
    body.append(h('tr', attrs, columns.map((column) =>
      h('td', { class: column.className, dataset: column.cellData ? column.cellData(row) : null },
        column.render ? column.render(row) : row[column.key]))));
  }
  return body;
}

/** A spinner line with a label, for loading states. */
export function loading(label = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label);
}

/** An error box showing an ApiError's (or any error's) message, with an optional retry button. */
export function errorBox(error, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', null, 'Error: '), errorText(error),
    retry ? h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Retry') : null);
}

/** The human text of an error: message, plus the field it concerns when known. */
export function errorText(error) {
  if (!error) return '';
  const message = error.message || String(error);
  return error.field ? `${message} (field: ${error.field})` : message;
}

/** A labelled form field: <label>Text <input ...></label>. */
/** Runs a form's `work` with its button disabled; a failure's message goes in `error`. */
export async function submitting(button, error, work) {
  button.disabled = true;
  error.textContent = '';
  try {
    await work();
  } catch (failure) {
    error.textContent = errorText(failure);
  } finally {
    button.disabled = false;
  }
}

export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
    hint ? h('span', { class: 'field-hint' }, hint) : null);
}

/** A <select> from [{value, label}] (or plain strings), with `selected` preselected. */
export function select(attrs, options, selected) {
  return h('select', attrs, options.map((option) => {
    const value = typeof option === 'object' ? option.value : option;
    const label = typeof option === 'object' ? option.label : option;
    return h('option', { value, selected: String(value) === String(selected) }, label);
  }));
}

/** Calls `fn` at most once per `ms` after the last call (trailing). Returns the wrapper with .cancel(). */
export function debounce(fn, ms) {
  let timer = null;
  const wrapper = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  wrapper.cancel = () => clearTimeout(timer);
  return wrapper;
}

let toastArea = null;

/** A transient message in the corner; `kind` = 'info' | 'success' | 'error'. Nodes allowed. */
export function toast(content, kind = 'info', ms = 6000) {
  if (!toastArea) {
    toastArea = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastArea);
  }
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
  const item = h('div', { class: ['toast', `toast-${kind}`] }, h('div', { class: 'toast-body' }, content), close);
  const remove = () => item.remove();
  close.addEventListener('click', remove);
  toastArea.append(item);
  setTimeout(remove, ms);
  return item;
}

/** A coloured pill: kind in bullish|bearish|neutral|ok|warn|bad|muted. */
export function badge(text, kind = 'muted', title) {
  return h('span', { class: ['badge', `badge-${kind}`], title }, text);
}

/** A page header row: title plus optional actions on the right. */
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' }, h('h1', null, title), h('div', { class: 'page-actions' }, actions));
}

/**
 * Runs `render()` (which rebuilds part of `container`) and gives focus back to the element
 * with the same `data-focus-key` as the one focused before, so live re-renders do not throw
 * a keyboard user back to the top of the page.
 */
export function preserveFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : null;
  render();
  if (!key) return;
  const again = [...container.querySelectorAll('[data-focus-key]')].find((element) => element.dataset.focusKey === key);
  again?.focus();
}
