/**
 * Entry of the Monitoring panel's webview (bundled to dist/webview/monitor.js; the page is the one webviewPage builds).
 * Listens for host messages, checks each with `isHostMessage`, then says `ready`.
 */
import 'uplot/dist/uPlot.min.css';
import './monitor.css';
import { isHostMessage } from '../../src/protocol/monitor';
import { t } from '../compare/l10n';
import { vscodeHost } from '../host';
import { MonitorApp, type MonitorHost } from './app';

const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const host: MonitorHost = vscodeHost();
const app = new MonitorApp(root, host);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = event.data;
  if (!isHostMessage(msg)) {
    console.warn('[edd monitor] ignored a message that is not a monitoring message', msg);
    return;
  }
  try {
    app.handle(msg);
  } catch (err) {
    console.error('[edd monitor] could not render the message', err);
    app.handle({ type: 'error', message: t('The monitoring could not be shown: {0}', err instanceof Error ? err.message : String(err)) });
  }
});

host.post({ type: 'ready' });
