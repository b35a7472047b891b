/**
 * A worker thread of `edd monitor` (see parallel.ts). It reads a segment into an aggregator and answers with the
 * aggregator's state, its typed arrays transferred, keeping the rows' feedback join keys until the feedback's keys
 * come (then it answers which rows they label); or it reports on the windows whose rows it is sent.
 */
import { parentPort, workerData } from 'worker_threads';
import { MonitorAggregator, matchFeedback } from './aggregate';
import { emptyStats, readSegments } from './log';
import type { WorkerAnswer, WorkerRequest, WorkerSetup } from './parallel';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const keysBySegment = new Map<number, string[]>();
const aggregator = () => new MonitorAggregator(setup.options, setup.classes, setup.columns, setup.since, setup.until);

function answer(request: WorkerRequest): { answer: WorkerAnswer; transfer: ArrayBuffer[] } {
  if ('join' in request) {
    const joined = [...keysBySegment].map(([seq, keys]) => ({ seq, matches: matchFeedback(keys, request.join) }));
    return { answer: { joined }, transfer: joined.map(j => j.matches.buffer as ArrayBuffer) };
  }
  if ('report' in request) {
    keysBySegment.clear();
    const a = aggregator();
    a.merge(request.report);
    return { answer: { reports: a.finish(request.reference) }, transfer: [] };
  }
  const a = aggregator();
  const stats = emptyStats();
  readSegments([request.segment], r => a.add(r), stats);
  const exported = a.exportState();
  keysBySegment.set(request.seq, exported.keys);
  return { answer: { seq: request.seq, state: exported.state, stats }, transfer: exported.transfer };
}

port.on('message', (request: WorkerRequest) => {
  let reply: { answer: WorkerAnswer; transfer: ArrayBuffer[] };
  try {
    reply = answer(request);
  } catch (e) {
    reply = { answer: { error: { message: (e as Error).message, code: (e as NodeJS.ErrnoException).code } }, transfer: [] };
  }
  port.postMessage(reply.answer, reply.transfer);
});
