#!/usr/bin/env node
// The last part of `npm start`: serving. Run after gate-demo.js (penguins@1 in production, @2 refused by its gate,
// @3 gated and passed).
//   1. `edd serve` of examples/penguins/penguins.service.yaml on a free 127.0.0.1 port (production: penguins@1);
//   2. normal traffic (the reference rows), each answer with its label sent back as feedback;
//   3. a canary of penguins@2 (short training): a guard rolls it back (or, if every guard passed, its failed gate
//      refuses the promotion);
//   4. a canary of penguins@3 (higher learning rate): every step passes, it is promoted and the server switches to it;
//      then a drifted segment (flipper_length_mm + 20 mm);
//   5. `edd monitor` of the drifted segment (the drift alert), then the server is stopped and the registry put back as
//      gate-demo.js left it (a rollback to penguins@1), so that `npm start` can run again.
// Exits non-zero if a step does not end the way it should. A load generator with Node's own fetch, no packages.
'use strict';
/* global fetch */
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { randomUUID } = require('crypto');

const root = process.cwd();
const spec = 'examples/penguins/penguins.service.yaml';
const statusFile = path.join(root, '.edd', 'serving', 'penguins', 'canary-status.json');
const { cli, eddRunner } = require('../demo-cli');
const { run: edd, ok: allAsExpected } = eddRunner();
let ok = true;


function rowsOf(file) {
  const [head, ...lines] = fs.readFileSync(path.join(__dirname, 'data', file), 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map(line => {
    const v = line.split(',');
    const get = c => v[cols.indexOf(c)];
    const instance = { row_id: Number(get('row_id')), island: get('island'), sex: get('sex') };
    for (const f of ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g']) instance[f] = Number(get(f));
    if (!instance.sex) delete instance.sex;
    return { instance, species: get('species') };
  });
}
const rows = rowsOf('reference.csv');

/** Start `edd serve` on a free port; resolves with its URL once it prints it. */
function serve() {
  const child = spawn(process.execPath, [cli, 'serve', spec, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', d => process.stdout.write(`  [server] ${d}`));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', d => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1], banner: out.trim() });
    });
    child.on('exit', code => reject(new Error(`edd serve exited with ${code}: ${out}`)));
  });
}

const stats = { sent: 0, failed: 0, byVersion: {} };
let driftStart = 0;

/** `n` requests, `concurrency` at a time, each with its label sent back as feedback; `shift` moves flipper_length_mm. */
async function traffic(url, n, { shift = 0, concurrency = 8, until } = {}) {
  let next = 0;
  const one = async () => {
    const row = rows[(stats.sent + next++) % rows.length];
    const instance = { ...row.instance, flipper_length_mm: Math.min(240, row.instance.flipper_length_mm + shift) };
    const id = randomUUID();
    const res = await fetch(`${url}/v1/models/penguins:predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ instances: [instance] }) });
    const body = await res.json();
    stats.sent++;
    if (res.status !== 200) stats.failed++;
    else stats.byVersion[body.model_version] = (stats.byVersion[body.model_version] ?? 0) + 1;
    await fetch(`${url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id, label: row.species }) });
  };
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (until ? !until() : next < n) await one();
  }));
}

const canaryState = () => {
  try {
    return JSON.parse(fs.readFileSync(statusFile, 'utf8'));
  } catch {
    return undefined;
  }
};

/** Start a canary with the CLI, keep the traffic flowing until it ends, print its status. */
async function canary(url, version, wanted) {
  const r = edd(['canary', 'start', `penguins@${version}`, '--percent', '50', '--step', '25', '--interval', '1s', '--reason', `demo: try penguins@${version}`], undefined);
  const id = canaryState()?.id;
  const deadline = Date.now() + 120_000;
  const done = () => {
    const s = canaryState();
    return !s || s.id !== id || !['running', 'promoting'].includes(s.state) || Date.now() > deadline;
  };
  if (r.status === 0) await traffic(url, 0, { until: done });
  const s = canaryState();
  edd(['canary', 'status', 'penguins'], 0);
  const good = s && wanted.includes(s.state);
  console.log(`→ canary of penguins@${version}: ${s?.state ?? 'no answer'}${good ? ' as expected' : ` UNEXPECTED (wanted ${wanted.join(' or ')})`}`);
  if (!good) ok = false;
}

async function main() {
  console.log(`\n$ edd serve ${spec} --port 0`);
  const { child, url, banner } = await serve();
  console.log(banner);
  try {
    await traffic(url, 400);
    console.log(`→ ${stats.sent} requests of the reference rows, each with its label as feedback`);
    await canary(url, 2, ['rolled_back', 'refused']);
    await canary(url, 3, ['promoted']);
    await traffic(url, 100);
    // The drifted segment comes last, a moment after the rest, so that `edd monitor --since` reads it alone.
    await new Promise(resolve => setTimeout(resolve, 1100));
    driftStart = Date.now();
    await traffic(url, 300, { shift: 20 });
    console.log('→ 300 more with flipper_length_mm 20 mm longer: the drifted segment');
    console.log(`→ ${stats.sent} requests in all, ${stats.failed} failed; answered by version: ${JSON.stringify(stats.byVersion)}`);
    if (stats.failed > 0) {
      console.log('→ UNEXPECTED: no request may fail, not even during a switch');
      ok = false;
    }
  } finally {
    child.kill('SIGINT');
    await new Promise(resolve => child.once('exit', resolve));
  }
  // ── edd monitor ─────────────────────────────────────────────────────────────────────────────────────────────────
  // The four layers per window from the log since the drifted segment began; it raises the drift alert on
  // flipper_length_mm (`--check` exits 1 on an alert, which is the point here).
  edd(['monitor', spec, '--since', `${Math.ceil((Date.now() - driftStart) / 1000)}s`, '--check'], 1);
  edd(['audit', 'penguins'], 0);
  // Back to the state gate-demo.js leaves, so that `npm start` runs again the same way.
  edd(['rollback', 'penguins', '--reason', 'demo: back to the baseline after the serving demo'], 0);
}

main().then(() => {
  process.exitCode = ok && allAsExpected() ? 0 : 1;
}, e => {
  console.error(e);
  process.exitCode = 1;
});
