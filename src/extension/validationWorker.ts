import { parentPort } from 'worker_threads';
import { setMessages } from '../core/l10n';
import { validateAny, type ValidationAnswer, type ValidationRequest } from './validationWorkerClient';

/** Validates large documents off the extension host's thread; one answer per request, even when validation fails. */
parentPort?.on('message', (req: ValidationRequest & { id: number }) => {
  // sent with the first request of each worker only (the scan sends thousands)
  if (req.messages) setMessages(req.messages);
  const answer: ValidationAnswer & { id: number } = { id: req.id, ...validateAny(req) };
  parentPort!.postMessage(answer);
});
