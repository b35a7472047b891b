import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { ServeError, startServer } from '../core/serve/server';
import { loadServiceSpec, ServiceSpecError } from '../core/serve/spec';
import { StoreError } from '../core/store';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { existingStorePath } from './store';

/**
 * `edd serve <service.yaml> [--port N] [--host H] [--store FILE] [--stop-with-stdin]`: serve until SIGINT/SIGTERM
 * (or, with `--stop-with-stdin`, until standard input closes), then stop cleanly (in-flight requests answered, the
 * prediction log flushed). Exit 2 for a bad spec, host without a token, no version.
 *
 * `--stop-with-stdin` is for a parent that spawns the server with a pipe as its stdin (the editor): if the parent dies
 * without stopping it, even by SIGKILL, the pipe closes and the server stops instead of serving on unowned.
 */
export async function serveCommand(args: readonly string[], io: Io, signals: NodeJS.EventEmitter = process, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { values, positionals } = parseCommandArgs('serve', args, {
    'port': { type: 'string' },
    'host': { type: 'string' },
    'store': { type: 'string' },
    'stop-with-stdin': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(t('Usage: edd serve <service.yaml> [--port N] [--host 127.0.0.1] [--store FILE] [--stop-with-stdin]'));
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(t('--port needs a port number (0–65535), not {0}', inert(values.port ?? '')));
  let server;
  try {
    const spec = loadServiceSpec(positionals[0], io.cwd);
    server = await startServer({
      spec, port, host: values.host ?? '127.0.0.1', token: process.env.EDD_SERVE_TOKEN,
      storeFile: existingStorePath(io, values.store),
      onEvent: e => io.err(inert(e.message ?? e.kind)),
    });
  } catch (e) {
    if (e instanceof ServiceSpecError || e instanceof ServeError || e instanceof StoreError) throw usageErrorFrom(e);
    throw e;
  }
  // Listen before printing the URL: whoever reads it may press Ctrl+C at once, and without a listener the default
  // action ends the process without stopping cleanly.
  const stopped = new Promise<void>(resolve => {
    const stop = () => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      stdin.off('end', stop);
      stdin.off('close', stop);
      resolve();
    };
    signals.on('SIGINT', stop);
    signals.on('SIGTERM', stop);
    if (values['stop-with-stdin']) {
      stdin.on('end', stop);
      stdin.on('close', stop);
      // Whatever the parent writes is not read as anything: it is only drained so that 'end' can arrive.
      stdin.on('data', () => undefined);
      stdin.resume();
    }
  });
  const cur = server.service.current!;
  io.out(t('Serving {0} version {1} at {2}', inert(cur.version.model), cur.version.version, server.url));
  io.out(t('POST {0}/v1/models/{1}:predict — Ctrl+C stops.', server.url, inert(cur.version.model)));
  await stopped;
  io.err(t('Stopping: answering the requests in flight…'));
  await server.close();
  io.err(t('Stopped.'));
  return 0;
}
