import * as crypto from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';

/**
 * The HTML page of an EDD panel (webview/README.md describes the contract): a strict Content-Security-Policy with a
 * fresh nonce (no inline script, no remote content), the bundle `dist/webview/<name>.js` and its stylesheet, the
 * page language, and the runtime l10n bundle as inert JSON. User strings never go into this page: the webview renders
 * them as text from messages.
 */
export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, name: string, title: string): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file));
  const css = fs.existsSync(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${name}.css`).fsPath)
    ? `<link rel="stylesheet" nonce="${nonce}" href="${asset(`${name}.css`)}">` : '';
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const lang = vscode.env.language.startsWith('ko') ? 'ko' : 'en';
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${css}
<title>${escapeHtml(title)}</title>
</head>
<body>
<div id="app" data-lang="${lang}"></div>
<script type="application/json" id="edd-l10n">${JSON.stringify(vscode.l10n.bundle ?? {}).replace(/</g, '\\u003c')}</script>
<script nonce="${nonce}" src="${asset(`${name}.js`)}"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
