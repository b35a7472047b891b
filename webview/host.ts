/**
 * The only way webview code reaches the extension host. Panels receive a `Host` instead of calling
 * `acquireVsCodeApi()` themselves, so DOM tests can pass a fake one.
 */
export interface Host<Outgoing, State> {
  post(message: Outgoing): void;
  getState(): State | undefined;
  setState(state: State): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

/** The real host inside a VS Code webview (`acquireVsCodeApi` may only be called once per page). */
export function vscodeHost<Outgoing, State>(): Host<Outgoing, State> {
  api ??= acquireVsCodeApi();
  const a = api;
  return {
    post: m => a.postMessage(m),
    getState: () => a.getState() as State | undefined,
    setState: s => a.setState(s),
  };
}
