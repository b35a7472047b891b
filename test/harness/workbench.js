'use strict';
// Starts code-server (a real VS Code workbench with a real Node extension host) on a throw-away profile and
// drives it with headless Chromium through playwright-core. Used by the integration runner and the UI tests.
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const CS_VERSION = process.env.EDD_CS_VERSION || '4.100.3';
const CS_HOME = process.env.EDD_CS_HOME || path.join(os.homedir(), '.cache', 'edd-code-server');
const CHROMIUM = process.env.EDD_CHROMIUM || '/usr/bin/chromium';

/** Path of the code-server binary; installs it (once, cached under EDD_CS_HOME) when missing. */
function ensureCodeServer() {
  if (process.env.EDD_CODE_SERVER) return process.env.EDD_CODE_SERVER;
  const bin = path.join(CS_HOME, CS_VERSION, 'node_modules', '.bin', 'code-server');
  if (fs.existsSync(bin) && fs.existsSync(path.join(CS_HOME, CS_VERSION, '.complete')) && fs.existsSync(CHROMIUM)) return bin;
  console.log(`[harness] installing code-server ${CS_VERSION} into ${CS_HOME} (once; about a minute)`);
  execFileSync('sh', [path.join(__dirname, 'install-code-server.sh')], { stdio: 'inherit', env: { ...process.env, EDD_CS_VERSION: CS_VERSION, EDD_CS_HOME: CS_HOME } });
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function status(url) {
  return new Promise(resolve => {
    http.get(url, res => { res.resume(); resolve(res.statusCode); }).on('error', () => resolve(0));
  });
}

const until = (ms) => new Promise(r => setTimeout(r, ms));

/** Settings that keep first-run UI (welcome page, tips, trust dialog) out of the way. */
const quietSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

/**
 * Start code-server on an ephemeral port with a fresh user-data and extensions folder.
 * @param {{ workspace: string, logFile: string, vsix?: string, settings?: object, restricted?: boolean }} options
 *   `restricted`: leave Workspace Trust on, so the folder opens in Restricted Mode (untrusted).
 */
async function startCodeServer({ workspace, logFile, vsix, settings = {}, restricted = false }) {
  const bin = ensureCodeServer();
  const port = await freePort();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-cs-'));
  const userData = path.join(profile, 'user-data');
  const extensions = path.join(profile, 'extensions');
  const xdg = path.join(profile, 'xdg');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  fs.mkdirSync(xdg, { recursive: true });
  const trust = restricted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' } : {};
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ ...quietSettings, ...settings, ...trust }, null, 2));
  const config = path.join(profile, 'config.yaml');
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];
  // EXTENSIONS_GALLERY with an empty serviceUrl turns the marketplace off (nothing to fetch offline).
  const env = { ...process.env, EXTENSIONS_GALLERY: '{"serviceUrl":""}', XDG_CONFIG_HOME: xdg, XDG_DATA_HOME: xdg, XDG_CACHE_HOME: xdg };
  delete env.PORT; delete env.PASSWORD; delete env.HASHED_PASSWORD;
  delete env.VSCODE_IPC_HOOK_CLI;
  const out = fs.openSync(logFile, 'a');
  if (vsix) {
    execFileSync(bin, [...common, '--install-extension', path.resolve(vsix), '--force'], { stdio: ['ignore', out, out], env });
  }
  const args = [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    ...(restricted ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', '--disable-proxy', '--ignore-last-opened', workspace];
  const proc = spawn(bin, args, { stdio: ['ignore', out, out], detached: true, env });
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while ((await status(`${base}/healthz`)) !== 200) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode}; see ${logFile}`);
    if (Date.now() - started > 60000) throw new Error(`code-server not healthy after 60 s; see ${logFile}`);
    await until(200);
  }
  const stop = async () => {
    const kill = sig => { try { process.kill(-proc.pid, sig); } catch { /* gone */ } };
    kill('SIGTERM');
    for (let i = 0; i < 50 && proc.exitCode === null && proc.signalCode === null; i++) await until(100);
    kill('SIGKILL');
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  };
  return { base, proc, stop, startupMs: Date.now() - started };
}

/** Headless Debian Chromium with a fresh profile; flags keep it off the (closed) network. */
async function launchBrowser() {
  const { chromium } = require('playwright-core');
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install chromium (or set EDD_CHROMIUM)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  return { context, close };
}

/** `vscode-remote://host:port/abs/path`: how the web workbench names a folder on the code-server machine. */
function remoteUri(base, p) {
  return `vscode-remote://${new URL(base).host}${path.resolve(p)}`;
}

function workbenchUrl(base, folder, payload) {
  let url = `${base}/?folder=${encodeURIComponent(path.resolve(folder))}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/** Copy a fixture folder to a fresh temporary workspace (tests may edit it). */
function copyWorkspace(fixture) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-ws-'));
  fs.cpSync(fixture, dir, { recursive: true });
  return dir;
}

module.exports = { ROOT, ensureCodeServer, startCodeServer, launchBrowser, remoteUri, workbenchUrl, copyWorkspace };
