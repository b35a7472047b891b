import { parentPort } from 'worker_threads';
import { setMessages } from '../core/l10n';
import { validateExperiment, type ValidateOptions } from '../core/config';

/** Runs validation of large documents off the extension host's thread. */
export interface WorkerRequest {
  id: number;
  text: string;
  options: ValidateOptions;
  messages?: Record<string, string>;
}

parentPort?.on('message', (req: WorkerRequest) => {
  setMessages(req.messages);
  const { problems, experimentId } = validateExperiment(req.text, req.options);
  parentPort!.postMessage({ id: req.id, problems, experimentId });
});
