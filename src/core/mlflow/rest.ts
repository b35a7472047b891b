// A client for an MLflow tracking server's REST API (2.0): only what sync needs. Requests that fail because the
// server is unreachable, overloaded (429) or broken (5xx) are retried with exponential backoff; other errors are
// MLflow's own answer (`error_code`, `message`) and are not retried. Credentials never appear in a message.
import { t } from '../l10n';

export interface Credentials {
  token?: string;
  username?: string;
  password?: string;
}

/** Credentials from MLflow's own environment variables (what its Python client reads). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  return { token: env.MLFLOW_TRACKING_TOKEN || undefined, username: env.MLFLOW_TRACKING_USERNAME || undefined, password: env.MLFLOW_TRACKING_PASSWORD || undefined };
}

export interface RestOptions {
  credentials?: Credentials;
  /** Attempts per request after the first (default 5). */
  retries?: number;
  /** First backoff delay (default 250 ms), doubled per attempt, up to 8 s. */
  backoffMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/** The server could not be reached, or kept failing, after every retry. Progress already made is kept. */
export class MlflowUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlflowUnreachableError';
  }
}

/** MLflow answered with an error (bad request, not found, permission denied). */
export class MlflowApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | undefined) {
    super(message);
    this.name = 'MlflowApiError';
  }
}

/** The URL without user info, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export class MlflowRest {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly opts: Required<Omit<RestOptions, 'credentials'>>;

  constructor(trackingUri: string, options: RestOptions = {}) {
    let url: URL;
    try {
      url = new URL(trackingUri);
    } catch {
      throw new MlflowApiError(t('{0} is not a tracking server URL: give http://host:port or https://….', trackingUri), 0, undefined);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MlflowApiError(t('{0} is not a tracking server URL: give http://host:port or https://….', displayUrl(trackingUri)), 0, undefined);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    const c = options.credentials ?? {};
    const user = c.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const pass = c.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    if (c.token) headers.Authorization = `Bearer ${c.token}`;
    else if (user !== undefined) headers.Authorization = `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.base = url.toString().replace(/\/$/, '');
    this.headers = headers;
    this.opts = { retries: options.retries ?? 5, backoffMs: options.backoffMs ?? 250, timeoutMs: options.timeoutMs ?? 30_000 };
  }

  get url(): string {
    return this.base;
  }

  /** `POST /api/2.0/mlflow/<endpoint>` with a JSON body. */
  post<T>(endpoint: string, body: unknown): Promise<T> {
    return this.request<T>('POST', `/api/2.0/mlflow/${endpoint}`, JSON.stringify(body));
  }

  /** `GET /api/2.0/mlflow/<endpoint>?query`. */
  get<T>(endpoint: string, query: Record<string, string | number | undefined>): Promise<T> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    return this.request<T>('GET', `/api/2.0/mlflow/${endpoint}?${q}`);
  }

  /** Uploads a file through the server's artifact proxy (`mlflow server --serve-artifacts`). */
  putArtifact(path: string, content: Uint8Array | string): Promise<unknown> {
    return this.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`, content, 'application/octet-stream');
  }

  private async request<T>(method: string, path: string, body?: Uint8Array | string, contentType?: string): Promise<T> {
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0) await delay(Math.min(8000, this.opts.backoffMs * 2 ** (attempt - 1)));
      let response: Response;
      try {
        response = await fetch(this.base + path, {
          // the cast only bridges Node's and the DOM library's typings of a byte body (both accept a Uint8Array)
          method, body: body as RequestInit['body'], headers: contentType ? { ...this.headers, 'Content-Type': contentType } : this.headers, signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        lastProblem = cause?.code ?? cause?.message ?? (e as Error).message;
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.ok) return (text ? parseJson(text) : {}) as T;
      if (response.status === 429 || response.status >= 500) {
        lastProblem = `HTTP ${response.status}`;
        continue;
      }
      let code: string | undefined;
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { error_code?: string; message?: string };
        code = parsed.error_code;
        message = parsed.message ?? message;
      } catch {
        // not JSON: keep the text
      }
      if (response.status === 401 || response.status === 403) {
        throw new MlflowApiError(t('{0} refused the credentials (HTTP {1}). Set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.', this.base, response.status), response.status, code);
      }
      throw new MlflowApiError(t('{0} {1} failed: HTTP {2} {3}: {4}', method, this.base + path.split('?')[0], response.status, code ?? '', message.split('\n')[0]), response.status, code);
    }
    throw new MlflowUnreachableError(t('The tracking server {0} did not answer ({1}) after {2} attempts.', this.base, lastProblem, this.opts.retries + 1));
  }
}

/** JSON, also when the server writes NaN or Infinity as bare tokens (Python's json does): they become strings. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '$1"$2"'));
  }
}

const delay = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
