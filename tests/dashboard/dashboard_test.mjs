// The dashboard in a real headless Chromium (Debian's, driven by
// playwright-core): `diffmesh demo` on generated data serves it; the page
// shows the lineage graph's nodes with tiers and the movies' violation
// badge; a record that breaks a check of operations.flights_raw is
// appended to the demo's flights log, and the badge must appear on that
// node without a reload. Saves a screenshot and prints the latency from
// the file change to the badge.
//   node dashboard_test.mjs DIFFMESH_PROGRAM DASHBOARD_DIR OUT_DIR
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [program, dashboardDir, outDir] = process.argv.slice(2);
if (!program || !dashboardDir || !outDir) {
  console.error('usage: node dashboard_test.mjs DIFFMESH_PROGRAM DASHBOARD_DIR OUT_DIR');
  process.exit(2);
}
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromiumPath)) {
  console.error(`no Chromium at ${chromiumPath} (bash scripts/npm-deps.sh --browser installs it)`);
  process.exit(1);
}
if (!fs.existsSync(path.join(dashboardDir, 'node_modules', 'cytoscape'))) {
  console.error(`${dashboardDir}/node_modules lacks cytoscape (bash scripts/npm-deps.sh installs it)`);
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diffmesh-dashboard-'));

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

const demo = spawn(program, ['demo', '--generate', '--data-dir', dataDir, '--port', '0',
  '--speed', '0', '--dashboard', dashboardDir], { stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
demo.stdout.on('data', (chunk) => { output += chunk; });
const exited = new Promise((resolve) => demo.on('exit', (code, signal) => resolve({ code, signal })));

async function waitFor(what, test, seconds) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > until) fail(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let browser;
try {
  const url = await waitFor('the demo to serve', () => {
    const m = output.match(/dashboard: open (http:\/\/127\.0\.0\.1:\d+)\//);
    return m && m[1];
  }, 60);
  await waitFor('the end of the replay', () => output.includes('the replay is over'), 120);
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/`);
  const nodes = await waitFor('the lineage graph', () => page.evaluate(
    () => window.dashboard && window.dashboard.cy && window.dashboard.cy.nodes().length), 30);
  if (nodes < 15) fail(`the graph shows ${nodes} nodes, expected every product (>= 15)`);
  const tier = await page.evaluate(() => window.dashboard.cy.getElementById('operations.on_time').data('color'));
  if (tier !== '#b8860b') fail(`operations.on_time is drawn ${tier}, not as authoritative`);
  const movies = await page.getAttribute('#products li[data-id="entertainment.movies_raw"]', 'data-violations');
  if (!(Number(movies) > 0)) fail(`entertainment.movies_raw shows ${movies} violations, expected some`);
  // The contract tightened during the replay fails on the generated data
  // (more than 1% of the delays unknown).
  const before = Number(await page.getAttribute('#products li[data-id="operations.flights_raw"]', 'data-violations'));
  if (!(before > 0)) fail(`operations.flights_raw shows ${before} violations, expected the tightened contract's`);
  await waitFor('the event stream', () => page.textContent('#status').then((t) => t === 'live'), 20);

  // A flight without a distance breaks the contract's `required`.
  const t0 = Date.now();
  fs.appendFileSync(path.join(dataDir, 'live', 'flights.changes.csv'), '1,2001/12/31 23:00,5,,ORD,JFK\n');
  await waitFor('the violation badge on operations.flights_raw', () => page.evaluate((before) => {
    const li = document.querySelector('#products li[data-id="operations.flights_raw"]');
    const node = window.dashboard.cy.getElementById('operations.flights_raw');
    return li && li.dataset.violations === String(before + 1) && li.querySelector('.badge')
      && node.data('violations') === before + 1;
  }, before), 15);
  const latency = Date.now() - t0;
  console.log(`file change -> badge on the dashboard: ${latency} ms`);

  // The product page tells which check fails.
  await page.click('#products li[data-id="operations.flights_raw"]');
  await waitFor('the product page', () => page.evaluate(() => {
    const pane = document.getElementById('product');
    return pane && !pane.hidden && pane.textContent.includes('operations.flights_raw')
      && pane.querySelector('.fail') !== null && pane.textContent.includes('distance');
  }), 10);
  const contract = await page.textContent('#contract');
  if (contract !== 'contract operations-flights 1.1.0') fail(`the product page says '${contract}', not the tightened contract`);
  const shot = path.join(outDir, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: false });
  console.log(`screenshot: ${shot}`);
  if (errors.length > 0) fail(`errors in the page: ${errors.join('; ')}`);
  console.log('dashboard: ok');
} catch (e) {
  if (!process.exitCode) { console.error(e); process.exitCode = 1; }
  console.error(output.split('\n').slice(-15).join('\n'));
} finally {
  if (browser) await browser.close();
  demo.kill('SIGINT');
  const { code } = await exited;
  if (code !== 0 && !process.exitCode) {
    console.error(`the demo exited with ${code}`);
    process.exitCode = 1;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
