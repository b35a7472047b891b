/**
 * A client for Ray's Jobs REST API (the dashboard's HTTP port, 8265 by default): submit a job, read its status and
 * logs, stop it, and upload the working directory as a package. Only node's `http`, so nothing is installed on
 * the user's machine besides EDD; every failure becomes a {@link RayError} that says what to check.
 */
import * as http from 'http';
import * as https from 'https';
import { t } from '../l10n';

/** The job states Ray reports (`JobStatus` in Ray's job submission API). */
export type RayJobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

export interface RayJobRequest {
  entrypoint: string;
  submission_id: string;
  runtime_env?: { working_dir?: string; env_vars?: Record<string, string> };
  metadata?: Record<string, string>;
}

/** The fields of Ray's `JobDetails` that EDD reads (Ray sends more). */
export interface RayJobDetails {
  submission_id: string | null;
  status: RayJobStatus;
  message: string | null;
  error_type?: string | null;
  start_time: number | null;
  end_time: number | null;
  driver_node_id?: string | null;
  driver_agent_http_address?: string | null;
  driver_exit_code?: number | null;
  driver_info?: { id?: string; node_ip_address?: string; pid?: string } | null;
  metadata?: Record<string, string> | null;
}

export type RayErrorKind = 'bad-address' | 'unreachable' | 'timeout' | 'http' | 'bad-answer';

export class RayError extends Error {
  constructor(
    readonly kind: RayErrorKind,
    message: string,
    /** HTTP status for `http`. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RayError';
  }
}

export interface RayClientOptions {
  /** Per request (default 30 s; uploads get 10 minutes). */
  timeoutMs?: number;
}

/** The dashboard address as given by the user: `http://host:8265`, with or without a trailing slash. */
export function parseRayAddress(address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new RayError('bad-address', t('"{0}" is not a Ray dashboard address: give its URL, for example http://127.0.0.1:8265', address));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RayError('bad-address', t('"{0}" is not a Ray dashboard address: it must start with http:// or https://', address));
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * What Ray said, short: its error answers are a plain text traceback or a JSON body; the last line of a traceback is
 * the exception, which is what the user needs.
 */
function rayMessage(body: string): string {
  let text = body.trim();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>;
      const m = o.msg ?? o.message ?? o.detail ?? o.error;
      if (typeof m === 'string') text = m.trim();
    }
  } catch {
    // Not JSON: plain text.
  }
  const lines = text.split('\n').map(l => l.trim()).filter(Boolean);
  const last = lines.length > 1 && /^Traceback/.test(lines[0]) ? lines[lines.length - 1] : lines.join(' ');
  return last.length > 500 ? last.slice(0, 500) + '…' : last;
}

export class RayJobsClient {
  readonly url: URL;
  private readonly timeoutMs: number;

  constructor(readonly address: string, options: RayClientOptions = {}) {
    this.url = parseRayAddress(address);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private request(method: string, route: string, body?: Uint8Array | object, timeoutMs = this.timeoutMs): Promise<{ status: number; text: string }> {
    const target = new URL(route, this.url);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'edd' };
    let payload: Buffer | undefined;
    if (body instanceof Uint8Array) {
      payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      headers['content-type'] = 'application/octet-stream';
    } else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body), 'utf8');
      headers['content-type'] = 'application/json';
    }
    if (payload) headers['content-length'] = String(payload.length);
    const unreachable = (why: string) =>
      new RayError('unreachable', t('Cannot reach the Ray cluster at {0} ({1}). Check the address (the dashboard port, 8265 by default) and that the cluster is running (`ray status`).', this.address, why));
    // node's http, not fetch: fetch always sends `Sec-Fetch-Mode`, and Ray's dashboard refuses POST and PUT from
    // anything that looks like a browser (HTTP 405 "method not allowed for browser traffic").
    return new Promise((resolve, reject) => {
      const req = (target.protocol === 'https:' ? https : http).request(target, { method, headers }, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', e => reject(new RayError('unreachable', t('The Ray cluster at {0} closed the connection during {1} {2}: {3}', this.address, method, target.pathname, e.message))));
      });
      req.setTimeout(timeoutMs, () => {
        req.destroy();
        reject(new RayError('timeout', t('The Ray cluster at {0} did not answer {1} {2} within {3} s.', this.address, method, target.pathname, Math.round(timeoutMs / 1000))));
      });
      req.on('error', e => reject(unreachable((e as NodeJS.ErrnoException).code ?? e.message)));
      req.end(payload);
    });
  }

  private fail(method: string, route: string, status: number, text: string): never {
    const said = rayMessage(text);
    throw new RayError('http', said
      ? t('The Ray cluster at {0} refused {1} /{2} (HTTP {3}): {4}', this.address, method, route, status, said)
      : t('The Ray cluster at {0} refused {1} /{2} (HTTP {3}).', this.address, method, route, status), status);
  }

  private async json<T>(method: string, route: string, body?: object): Promise<T> {
    const r = await this.request(method, route, body);
    if (r.status < 200 || r.status >= 300) this.fail(method, route, r.status, r.text);
    try {
      return JSON.parse(r.text) as T;
    } catch {
      throw new RayError('bad-answer', t('The server at {0} answered {1} /{2} with something that is not JSON: is it a Ray dashboard?', this.address, method, route));
    }
  }

  /** Ray's version: also the cheapest way to check that the address is a Ray dashboard. */
  async version(): Promise<{ ray_version: string; version: string }> {
    const v = await this.json<{ ray_version?: unknown; version?: unknown }>('GET', 'api/version');
    if (typeof v.ray_version !== 'string') throw new RayError('bad-answer', t('The server at {0} does not look like a Ray dashboard (no ray_version in /api/version).', this.address));
    return { ray_version: v.ray_version, version: String(v.version) };
  }

  async submitJob(request: RayJobRequest): Promise<string> {
    const r = await this.json<{ submission_id?: unknown }>('POST', 'api/jobs/', request);
    return typeof r.submission_id === 'string' ? r.submission_id : request.submission_id;
  }

  async getJob(id: string): Promise<RayJobDetails> {
    return this.json<RayJobDetails>('GET', `api/jobs/${encodeURIComponent(id)}`);
  }

  /** The whole driver log so far (Ray has no offset parameter; the caller keeps its own). */
  async getLogs(id: string): Promise<string> {
    const r = await this.json<{ logs?: unknown }>('GET', `api/jobs/${encodeURIComponent(id)}/logs`);
    return typeof r.logs === 'string' ? r.logs : '';
  }

  /** True when Ray stopped it, false when it had already ended. */
  async stopJob(id: string): Promise<boolean> {
    const r = await this.json<{ stopped?: unknown }>('POST', `api/jobs/${encodeURIComponent(id)}/stop`);
    return r.stopped === true;
  }

  /** `uri` is `gcs://_ray_pkg_<hash>.zip`. */
  async packageExists(uri: string): Promise<boolean> {
    const route = packageRoute(uri);
    const r = await this.request('GET', route);
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    this.fail('GET', route, r.status, r.text);
  }

  async uploadPackage(uri: string, zip: Uint8Array): Promise<void> {
    const route = packageRoute(uri);
    const r = await this.request('PUT', route, zip, Math.max(this.timeoutMs, 600_000));
    if (r.status !== 200) this.fail('PUT', route, r.status, r.text);
  }
}

function packageRoute(uri: string): string {
  const m = /^([a-z0-9]+):\/\/([^/]+)$/.exec(uri);
  if (!m) throw new RayError('bad-answer', `not a package URI: ${uri}`);
  return `api/packages/${m[1]}/${encodeURIComponent(m[2])}`;
}
