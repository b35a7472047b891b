/**
 * Entry of the comparison panel's webview (bundled to dist/webview/compare.js; see README.md for the page the host
 * must produce). Listens for host messages, checks each with `isHostMessage`, then says `ready`.
 */
import 'uplot/dist/uPlot.min.css';
import './compare.css';
import { isHostMessage } from '../../src/protocol/compare';
import { vscodeHost } from '../host';
import { CompareApp, type CompareHost } from './app';
import { t } from './l10n';

const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const host: CompareHost = vscodeHost();
const app = new CompareApp(root, host);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = event.data;
  if (!isHostMessage(msg)) {
    console.warn('[edd compare] ignored a message that is not a comparison-panel message', msg);
    return;
  }
  try {
    app.handle(msg);
  } catch (err) {
    // A bad comparison must not leave a blank panel: say what failed.
    console.error('[edd compare] could not render the message', err);
    app.handle({ type: 'error', message: t('The comparison could not be shown: {0}', err instanceof Error ? err.message : String(err)) });
  }
});

host.post({ type: 'ready' });
