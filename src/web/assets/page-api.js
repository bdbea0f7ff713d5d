// API docs: GET /api/openapi.json rendered as one section per path: methods, summary, least
// role, parameters, the request body schema (its fields expandable) and the responses.

import { h, replace, loading, errorBox, badge } from './dom.js';

const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete'];

function schemaName(reference) {
  return reference ? reference.replace('#/components/schemas/', '') : null;
}

function typeText(schema) {
  if (!schema) return 'any';
  if (schema.$ref) return schemaName(schema.$ref);
  if (schema.oneOf) return schema.oneOf.map(typeText).join(' | ');
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (schema.type === 'array') return `${typeText(schema.items)}[]`;
  return schema.type || 'object';
}

function schemaFields(name, schemas) {
  const schema = schemas[name];
  if (!schema || !schema.properties) return null;
  const required = new Set(schema.required || []);
  return h('details', { class: 'op-detail' }, h('summary', null, `${name} fields`),
    h('ul', { class: 'reasons' }, Object.entries(schema.properties).map(([field, property]) =>
      h('li', null, h('code', null, field), required.has(field) ? ' (required)' : '', `: ${typeText(property)}`,
        property.description ? ` — ${property.description}` : ''))));
}

function operationView(path, method, operation, schemas) {
  const parameters = operation.parameters || [];
  const bodyRef = operation.requestBody?.content?.['application/json']?.schema?.$ref;
  const body = schemaName(bodyRef);
  const responses = Object.keys(operation.responses || {});
  const role = operation['x-least-role'];
  return h('div', { class: 'operation', dataset: { method } },
    h('div', null, h('span', { class: ['method', `method-${method}`] }, method.toUpperCase()),
      operation.summary || h('span', { class: 'muted' }, 'No summary'), ' ',
      role ? badge(role, role === 'public' ? 'ok' : (role === 'viewer' ? 'muted' : 'warn'), 'Least role') : null),
    parameters.length ? h('p', { class: 'op-detail' }, 'Parameters: ', parameters.map((parameter, index) => [
      index ? ', ' : '', h('code', null, parameter.name), ` (${parameter.in}${parameter.required ? ', required' : ''})`])) : null,
    body ? h('p', { class: 'op-detail' }, 'Request body: ', h('code', null, body), operation.requestBody.required ? '' : ' (optional)') : null,
    body ? schemaFields(body, schemas) : null,
    h('p', { class: 'op-detail' }, 'Responses: ', responses.map((status, index) => [index ? ', ' : '', h('code', null, status)])),
    operation.operationId ? h('p', { class: 'op-detail' }, 'Operation id: ', h('code', null, operation.operationId)) : null);
}

function pathSection(path, item, schemas) {
  const methods = Object.keys(item).filter((key) => METHOD_ORDER.includes(key))
    .sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
  const searchText = [path, ...methods.map((method) => `${method} ${item[method].summary || ''}`)].join(' ').toLowerCase();
  return h('section', { dataset: { path, search: searchText } },
    h('h2', null, path), methods.map((method) => operationView(path, method, item[method], schemas)));
}

export default {
  id: 'api',
  title: 'API docs',
  nav: true,
  role: 'viewer',
  route: /^api$/,

  async mount(root, ctx) {
    const content = h('div', null, loading('Loading the API description…'));
    root.append(h('div', { class: 'page-header' }, h('h1', null, 'API docs')), content);
    let document;
    try {
      document = await ctx.api.get('/api/openapi.json');
    } catch (error) {
      replace(content, errorBox(error, () => ctx.navigate('api')));
      root.dataset.state = 'error';
      return () => {};
    }
    const schemas = document.components?.schemas || {};
    const docs = h('div', { id: 'api-docs' }, Object.entries(document.paths || {}).map(([path, item]) => pathSection(path, item, schemas)));
    const count = h('span', { class: 'muted' });
    const filter = h('input', { type: 'search', id: 'api-filter', placeholder: 'Filter: path, method or words', 'aria-label': 'Filter the API' });
    const applyFilter = () => {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const section of docs.querySelectorAll('section[data-path]')) {
        const visible = words.every((word) => section.dataset.search.includes(word));
        section.hidden = !visible;
        if (visible) shown += 1;
      }
      count.textContent = `${shown} of ${docs.children.length} paths`;
    };
    filter.addEventListener('input', applyFilter);
    replace(content,
      h('p', { class: 'muted' }, `${document.info?.title || 'API'} ${document.info?.version || ''} · OpenAPI ${document.openapi || ''}. `,
        document.info?.description || '', ' ', h('a', { href: '/api/openapi.json', target: '_blank', rel: 'noopener' }, 'Raw JSON')),
      h('div', { class: 'toolbar' }, h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Filter'), filter), count),
      docs);
    applyFilter();
    root.dataset.state = 'ready';
    return () => {};
  },
};
