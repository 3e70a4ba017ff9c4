// The diffmesh dashboard: the lineage graph of the mesh's products (and,
// for a selected product, of its columns), colored by held tier with a
// badge for failing checks; a product page with schema, live metrics,
// checks, classification and access decisions; a search box. It reads the
// read API and refreshes from the Server-Sent Events stream, never by
// reloading.
'use strict';

const state = {
  products: [],       // /api/products, with held tiers
  violations: [],     // /api/violations
  selected: null,     // product id
  query: '',
  history: new Map(), // "product/column/metric" -> recent values
  time: null,
  events: 0,
};
const el = (id) => document.getElementById(id);

async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.error ? body.error.message : `${url}: ${response.status}`);
  }
  return body;
}

// An observed value as people read it: at most three decimals.
function number(x) {
  return typeof x === 'number' ? String(Math.round(x * 1000) / 1000) : String(x);
}

function make(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) node.append(c);
  }
  return node;
}

function heldTier(p) { return (p.tier && p.tier.held) || (p.tier && p.tier.declared) || 'raw'; }
function declaredTier(p) { return (p.tier && p.tier.declared) || 'raw'; }
function failingOf(id) { return state.violations.filter((v) => v.product === id); }

// ---- the graph --------------------------------------------------------

let cy = null;
const tierColor = { raw: '#7a8394', curated: '#2f6fb3', authoritative: '#b8860b' };

function initGraph() {
  if (typeof cytoscape === 'undefined') {
    const m = el('message');
    m.hidden = false;
    m.textContent = 'The graph libraries are missing: run `npm ci` in server/dashboard '
      + '(bash scripts/run.sh does). The lists on the right still work.';
    return;
  }
  try { if (typeof cytoscapeDagre !== 'undefined') cytoscape.use(cytoscapeDagre); } catch (e) { /* registered */ }
  cy = cytoscape({
    container: el('graph'),
    wheelSensitivity: 0.3,
    style: [
      { selector: 'node', style: {
        'label': 'data(label)', 'text-wrap': 'wrap', 'font-size': 11,
        'text-valign': 'center', 'color': '#fff', 'shape': 'round-rectangle',
        'width': 'label', 'height': 'label', 'padding': 8,
        'background-color': 'data(color)', 'border-width': 2, 'border-color': '#1d2330' } },
      { selector: 'node[violations > 0]', style: { 'border-color': '#b3261e', 'border-width': 4 } },
      { selector: 'node[?held_below]', style: { 'border-style': 'dashed' } },
      { selector: 'node:selected', style: { 'overlay-opacity': 0.15, 'overlay-color': '#000' } },
      { selector: 'node.field', style: { 'background-color': '#eef1f6', 'color': '#1d2330', 'border-width': 1 } },
      { selector: ':parent', style: { 'text-valign': 'top', 'color': '#1d2330', 'background-opacity': 0.12 } },
      { selector: 'edge', style: {
        'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'width': 1.5,
        'line-color': '#9aa3b2', 'target-arrow-color': '#9aa3b2',
        'label': 'data(label)', 'font-size': 9, 'color': '#6b7280' } },
    ],
  });
  cy.on('tap', 'node', (e) => {
    const product = e.target.data('product');
    if (product) select(product);
  });
}

function productElements() {
  const visible = new Set(state.products.map((p) => p.id));
  const nodes = state.products.map((p) => {
    const failing = failingOf(p.id).length;
    return { data: {
      id: p.id, product: p.id,
      label: failing > 0 ? `${p.id}\n⚠ ${failing}` : p.id,
      color: tierColor[heldTier(p)] || '#7a8394',
      violations: failing,
      held_below: heldTier(p) !== declaredTier(p),
    } };
  });
  const edges = [];
  for (const p of state.products) {
    for (const up of p.upstream || []) {
      if (visible.has(up)) edges.push({ data: { id: `${up}->${p.id}`, source: up, target: p.id, label: '' } });
    }
  }
  return nodes.concat(edges);
}

async function columnElements(id) {
  const lineage = await getJson(`/api/lineage?node=${encodeURIComponent(id)}&columns=true&depth=20`);
  const out = [];
  const ids = new Set(lineage.graph.map((n) => n.id));
  for (const n of lineage.graph) {
    if (n.type === 'DATASET') {
      out.push({ data: { id: n.id, product: n.data.product, label: n.data.product,
        color: tierColor[(n.data.tier && n.data.tier.held) || 'raw'] || '#7a8394',
        violations: n.data.violations || 0, held_below: false } });
    }
  }
  for (const n of lineage.graph) {
    if (n.type !== 'DATASET_FIELD') continue;
    const parent = `dataset:${n.data.product}`;
    if (!ids.has(parent)) {
      ids.add(parent);
      out.push({ data: { id: parent, product: n.data.product, label: n.data.product, color: '#7a8394', violations: 0 } });
    }
    out.push({ data: { id: n.id, parent, product: n.data.product, label: n.data.column, color: '#eef1f6', violations: 0 }, classes: 'field' });
  }
  for (const n of lineage.graph) {
    for (const e of n.outEdges) {
      if (ids.has(e.origin) && ids.has(e.destination) && e.origin !== e.destination) {
        out.push({ data: { id: `${e.origin}->${e.destination}`, source: e.origin, target: e.destination, label: e.transformation } });
      }
    }
  }
  return out;
}

let shape = '';
async function renderGraph() {
  if (!cy) return;
  const columns = el('columns').checked && state.selected;
  const elements = columns ? await columnElements(state.selected) : productElements();
  const key = (columns ? 'c:' : 'p:') + elements.map((e) => e.data.id).sort().join('|');
  if (key === shape) {
    // The same graph: only the colors, labels and badges change.
    for (const e of elements) {
      const existing = cy.getElementById(e.data.id);
      if (existing.nonempty()) existing.data(e.data);
    }
    return;
  }
  shape = key;
  cy.elements().remove();
  cy.add(elements);
  const layout = typeof cytoscapeDagre !== 'undefined' || (cytoscape.extension && cytoscape.extension('layout', 'dagre'))
    ? { name: 'dagre', rankDir: 'LR', nodeSep: 12, rankSep: 60 } : { name: 'breadthfirst', directed: true };
  cy.layout(layout).run();
  if (state.selected) cy.getElementById(columns ? `dataset:${state.selected}` : state.selected).select();
}

// ---- the lists and the product page -----------------------------------

function renderLists() {
  const list = el('products');
  list.replaceChildren(...state.products.map((p) => {
    const failing = failingOf(p.id).length;
    return make('li', { 'data-id': p.id, 'data-violations': String(failing), onclick: () => select(p.id) },
      make('span', { class: `tier ${heldTier(p)}` }, heldTier(p)), p.id,
      failing > 0 ? make('span', { class: 'badge' }, String(failing)) : null);
  }));
  const v = el('violations');
  v.replaceChildren(...(state.violations.length === 0
    ? [make('li', { class: 'muted' }, 'none')]
    : state.violations.map((x) => make('li', { class: x.severity, onclick: () => select(x.product) },
      make('span', { class: `badge ${x.severity}` }, x.severity), ` ${x.product}: ${x.check}`,
      make('span', { class: 'muted' }, ` observed ${number(x.observed)}, expected ${x.expected}`)))));
  el('time').textContent = state.time === null ? '' : `time ${state.time}`;
}

function sparkline(values) {
  const nums = values.filter((x) => typeof x === 'number' && isFinite(x));
  if (nums.length < 2) return null;
  const lo = Math.min(...nums), hi = Math.max(...nums);
  const points = nums.map((x, i) => `${(i / (nums.length - 1)) * 80},${hi === lo ? 9 : 17 - ((x - lo) / (hi - lo)) * 16}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 80 18');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  return svg;
}

function table(headers, rows) {
  return make('table', {}, make('tr', {}, ...headers.map((h) => make('th', {}, h))),
    ...rows.map((r) => make('tr', {}, ...r.map((c) => make('td', {}, c)))));
}

async function governanceRows(name) {
  try {
    return (await getJson(`/api/products/governance.${name}/rows?limit=10000`));
  } catch (e) {
    return null;
  }
}

async function renderProduct() {
  const pane = el('product');
  if (!state.selected) { pane.hidden = true; return; }
  let p, quality;
  try {
    [p, quality] = await Promise.all([
      getJson(`/api/products/${encodeURIComponent(state.selected)}`),
      getJson(`/api/products/${encodeURIComponent(state.selected)}/quality`),
    ]);
  } catch (e) {
    pane.hidden = false;
    pane.replaceChildren(make('h2', {}, state.selected), make('p', { class: 'muted' }, String(e.message)));
    return;
  }
  const [classification, access] = await Promise.all([governanceRows('classification'), governanceRows('access')]);
  const tagsOf = (column) => (classification ? classification.rows
    .filter((r) => r[0] === p.id && r[1] === column).map((r) => r[2]) : []);
  for (const m of quality.metrics) {
    const key = `${p.id}/${m.column}/${m.metric}`;
    const h = state.history.get(key) || [];
    if (h.length === 0 || h[h.length - 1] !== m.value) h.push(m.value);
    while (h.length > 30) h.shift();
    state.history.set(key, h);
  }
  const source = p.source
    ? make('p', {}, 'source: ', make('span', { class: p.source.state === 'ok' ? 'pass' : 'fail' }, p.source.state),
      p.source.error ? ` ${p.source.error.code}: ${p.source.error.message}` : '')
    : null;
  pane.hidden = false;
  pane.replaceChildren(...[
    make('h2', {}, p.id, ' ', make('span', { class: `tier ${p.tier.held || p.tier.declared}` }, p.tier.held || p.tier.declared)),
    make('p', {}, p.description || '', make('br'), make('span', { class: 'muted' },
      `owner ${p.owner}; declared ${p.tier.declared}${p.tier.reason ? `; held lower: ${p.tier.reason}` : ''}; `
      + `${p.versions.length} retained version(s); ${p.quarantined} quarantined`)),
    source,
    make('h2', {}, 'Schema'),
    table(['column', 'type', 'nullable', 'classification'],
      p.schema.map((f) => [f.name, f.type, f.nullable ? 'yes' : 'no', tagsOf(f.name).join(', ')])),
    make('h2', {}, 'Checks'),
    p.contract ? make('p', { id: 'contract' }, `contract ${p.contract.contract} ${p.contract.version}`) : null,
    quality.checks.length === 0 ? make('p', { class: 'muted' }, 'no contract checks')
      : table(['check', 'severity', 'result', 'observed', 'expected'],
        quality.checks.map((c) => [c.check, c.severity,
          make('span', { class: c.passed ? 'pass' : 'fail' }, c.passed ? 'pass' : 'fail'),
          number(c.observed), String(c.expected)])),
    make('h2', {}, 'Metrics'),
    quality.metrics.length === 0 ? make('p', { class: 'muted' }, 'not profiled')
      : table(['column', 'metric', 'value', 'recent'],
        quality.metrics.map((m) => [m.column || '(rows)', m.metric,
          m.value === null ? (m.text || '') : number(m.value),
          sparkline(state.history.get(`${p.id}/${m.column}/${m.metric}`) || []) || ''])),
    make('h2', {}, 'Access'),
    access === null ? make('p', { class: 'muted' }, 'no access decisions readable')
      : table(['principal', 'column', 'decision', 'reason'],
        access.rows.filter((r) => r[1] === p.id)
          .map((r) => [r[0] === '' ? '(anonymous)' : r[0], r[2], r[3], r[4]])),
  ].filter((child) => child !== null));
}

function select(id) {
  state.selected = id;
  refresh();
}

// ---- refreshing -----------------------------------------------------------

let refreshing = null, again = false;
async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      try {
        const q = state.query ? `?q=${encodeURIComponent(state.query)}` : '';
        const [products, violations] = await Promise.all([getJson(`/api/products${q}`), getJson('/api/violations')]);
        state.products = products.products;
        state.violations = violations.violations;
        state.time = products.time;
        renderLists();
        await renderGraph();
        await renderProduct();
      } catch (e) {
        el('message').hidden = false;
        el('message').textContent = String(e.message);
      }
    } while (again);
    refreshing = null;
  })();
  return refreshing;
}

let timer = null;
function soon() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 150);
}

function listen() {
  const events = new EventSource('/api/events');
  const status = el('status');
  const live = () => { status.textContent = 'live'; status.className = 'status live'; };
  events.onopen = live;
  events.onerror = () => { status.textContent = 'reconnecting'; status.className = 'status down'; };
  for (const kind of ['catalog', 'lineage', 'metrics', 'checks', 'violations', 'tiers']) {
    events.addEventListener(kind, () => { state.events += 1; live(); soon(); });
  }
  events.addEventListener('error', (e) => {
    if (e.data) { el('message').hidden = false; el('message').textContent = e.data; }
  });
}

el('search').addEventListener('input', (e) => { state.query = e.target.value.trim(); shape = ''; soon(); });
el('columns').addEventListener('change', () => { shape = ''; refresh(); });
initGraph();
refresh();
listen();
window.dashboard = { state, get cy() { return cy; }, refresh };
