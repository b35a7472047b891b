/**
 * The prediction log as the gate's evaluation rows (`edd gate --predictions .edd/serving/<model>`): every answered
 * instance of the range becomes a row with its logged inputs, its label when feedback arrived (joined by request id +
 * row, as monitoring joins it), and the logged prediction and probabilities as the candidate's outputs. The log is
 * read by the monitor's reader and rows are built by the monitor's aggregator (one window for the whole range), so the
 * gate and `edd monitor` see the same rows.
 *
 * The log does not name the classes behind `probabilities`: with the policy's `data.classes` they are its order
 * (the service spec's `classes`); without, the scores are one-hot on the predicted class, as for a predictions file
 * without `score_<class>` columns.
 */
import * as fs from 'fs';
import { t } from '../l10n';
import type { Column, Dataset, ModelOutputs } from '../checks/types';
import { MonitorAggregator } from './aggregate';
import { emptyStats, listSegments, readSegments, segmentsSince, type ReadStats } from './log';
import { parseMonitoring } from './options';

export interface LogReplayOptions {
  /** Only records at or after this time (epoch ms). */
  since?: number;
  /** Only records before this time (epoch ms). */
  until?: number;
  /** The order of the logged probabilities (the service's classes). */
  classes?: readonly string[];
  /** The name the feedback label gets as a column of the evaluation data. */
  label: string;
  /** How messages name the folder. */
  shown: string;
}

/** What the replay read, for the report: where the rows came from and what was left out. */
export interface LogReplaySummary {
  dir: string;
  since: string | null;
  until: string | null;
  segments: number;
  records: number;
  /** Answered instances in the range: the evaluation rows. */
  rows: number;
  /** Rows with a feedback label: the rows label-based checks score. */
  labelled: number;
  /** Rows without feedback: in the data checks, left out of the label-based ones. */
  unlabelled: number;
  /** Feedback whose prediction is not in the range read. */
  unmatched_feedback: number;
  torn: number;
  bad: number;
}

export interface LogReplay {
  data: Dataset;
  outputs: ModelOutputs;
  summary: LogReplaySummary;
  read: ReadStats;
}

/** A problem with the log itself (no segments, no answered instance in the range): the gate's input error. */
export class LogReplayError extends Error {}

/** True when `file` is a folder (a prediction log rather than a predictions file). */
export function isLogFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** Reads the log under `dir` into evaluation rows (see the module comment). */
export function replayLog(dir: string, o: LogReplayOptions): LogReplay {
  const all = listSegments(dir);
  if (!all.length) throw new LogReplayError(t('{0}: no prediction log segments (predictions-<epoch ms>-<pid>.jsonl) in this folder.', o.shown));
  const segments = segmentsSince(all, o.since);
  const inRange = (time: unknown) => typeof time === 'number' && (o.since === undefined || time >= o.since) && (o.until === undefined || time < o.until);
  const answered = (r: Record<string, unknown>) => r.type === 'prediction' && inRange(r.time) && (typeof r.status !== 'number' || r.status < 400);

  // The columns' kinds must be known before the rows are taken: a first pass finds the input names, and a column is
  // numeric only if every value logged in it is a number (or missing), as the data reader decides for a CSV column.
  const kinds = new Map<string, 'number' | 'string'>();
  readSegments(segments, r => {
    if (!answered(r) || typeof r.inputs !== 'object' || r.inputs === null) return;
    for (const [name, v] of Object.entries(r.inputs as Record<string, unknown>)) {
      if (!kinds.has(name)) kinds.set(name, 'number');
      if (v !== null && v !== undefined && v !== '' && typeof v !== 'number') kinds.set(name, 'string');
    }
  }, emptyStats());
  kinds.delete(o.label);

  const options = { ...parseMonitoring(undefined, 'gate'), windowMs: Number.MAX_SAFE_INTEGER };
  const aggregator = new MonitorAggregator(options, o.classes ?? [], [...kinds].map(([name, kind]) => ({ name, kind })), o.since, o.until);
  const read = emptyStats();
  read.skipped = all.length - segments.length;
  readSegments(segments, r => aggregator.add(r), read);
  const rows = [...aggregator.windowRows().values()][0];
  const range = [o.since, o.until].map(x => (x === undefined ? null : new Date(x).toISOString()));
  if (!rows || rows.data.rows === 0) {
    throw new LogReplayError(t('{0}: no answered predictions in the range read ({1} to {2}); widen --since/--until.', o.shown, range[0] ?? '…', range[1] ?? '…'));
  }

  const labelled = rows.yTrue.filter(y => y !== null).length;
  const columns = new Map<string, Column>(rows.data.columns);
  const numericLabels = labelled > 0 && rows.yTrue.every(y => y === null || (y.trim() !== '' && Number.isFinite(Number(y))));
  columns.set(o.label, numericLabels
    ? { kind: 'number', values: Float64Array.from(rows.yTrue, y => (y === null ? NaN : Number(y))) }
    : { kind: 'string', values: [...rows.yTrue] });
  const data: Dataset = { file: o.shown, rows: rows.data.rows, names: [...rows.data.names, o.label], columns };

  let outputs: ModelOutputs;
  if (o.classes?.length) {
    outputs = { classes: [...o.classes], scores: rows.scores, yPred: rows.yPred };
  } else {
    const classes = [...new Set([...rows.yPred, ...rows.yTrue.filter((y): y is string => y !== null)])].sort();
    const scores = new Float32Array(rows.data.rows * classes.length);
    rows.yPred.forEach((y, i) => { scores[i * classes.length + classes.indexOf(y)] = 1; });
    outputs = { classes, scores, yPred: rows.yPred };
  }
  return {
    data, outputs, read,
    summary: {
      dir: o.shown, since: range[0], until: range[1], segments: read.segments, records: read.lines, rows: rows.data.rows, labelled,
      unlabelled: rows.data.rows - labelled, unmatched_feedback: aggregator.unmatchedFeedback, torn: read.torn, bad: read.bad,
    },
  };
}
