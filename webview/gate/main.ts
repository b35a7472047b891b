/**
 * Entry of the gate report panel's webview (bundled to dist/webview/gate.js; see README.md for the page the host
 * must produce). Listens for host messages, checks each with `isHostMessage`, then says `ready`.
 */
import './gate.css';
import { isHostMessage } from '../../src/protocol/gate';
import { t } from '../compare/l10n';
import { vscodeHost } from '../host';
import { GateApp, type GateHost } from './app';

const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const host: GateHost = vscodeHost();
const app = new GateApp(root, host);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = event.data;
  if (!isHostMessage(msg)) {
    console.warn('[edd gate] ignored a message that is not a gate-report message', msg);
    return;
  }
  try {
    app.handle(msg);
  } catch (err) {
    // A bad report must not leave a blank panel: say what failed.
    console.error('[edd gate] could not render the message', err);
    app.handle({ type: 'error', message: t('The gate report could not be shown: {0}', err instanceof Error ? err.message : String(err)) });
  }
});

host.post({ type: 'ready' });
