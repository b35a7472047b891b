/**
 * Benchmark: `validateExperiment` against yaml-language-server's `doValidation`, in one process, on a ~60-line and
 * ~5,000-line configs: plain block style, with anchors and merge keys, with multi-line scalars, and in the middle of an
 * edit (a syntax error halfway down), plus a breakdown of our time on each step.
 *
 *   npm run bench:validate
 *
 * Prints; never asserts on timings (exit code 0 on a missed target). Exits non-zero only if something is broken:
 * a crash, an input that is not valid for our validator, or a tool that does not apply the schema at all.
 */
import { performance } from 'perf_hooks';
import { Composer, Lexer, parseDocument, Parser } from 'yaml';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService, type LanguageService } from 'yaml-language-server/out/server/src/languageservice/yamlLanguageService';
import { experimentSchemaJson, validateExperiment } from '../../src/core/config';
import { ruleProblems } from '../../src/core/config/rules';
import { schemaProblems } from '../../src/core/config/schema';
import { duplicateKeys, readYaml } from '../../src/core/config/yamlAst';
import { anchoredConfig, brokenVariant, largeConfig, midEditConfig, multiLineConfig, smallConfig } from './inputs';
import { stats, type Stats } from './stats';

// No forced GC between calls: a full GC before each call makes V8 shrink the heap, and the next call then pays for
// growing it again (measured here: 2-3x slower parses). Interleaving the tools spreads the GC cost fairly instead.

const SCHEMA_URI = 'file:///edd/experiment.schema.json';
const DOC_URI = 'file:///workspace/experiments/bench.yaml';


const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function timeSync(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** yaml-language-server driven in-process, as its own tests do, with our schema registered for `*.yaml`. */
function makeYls(): { service: LanguageService; validate: (text: string) => Promise<number>; errors: unknown[] } {
  const errors: unknown[] = [];
  const service = getLanguageService({
    schemaRequestService: (uri: string) => Promise.reject(new Error(`unexpected schema request: ${uri}`)),
    workspaceContext: { resolveRelativePath: (relativePath: string, resource: string) => new URL(relativePath, resource).toString() },
    // yaml-language-server swallows exceptions in doValidation and only reports them here.
    telemetry: { send: () => undefined, sendTrack: () => undefined, sendError: (_name: string, error: unknown) => void errors.push(error) },
  });
  service.configure({
    validate: true,
    completion: false,
    hover: false,
    format: false,
    schemas: [{ uri: SCHEMA_URI, fileMatch: ['*.yaml'], schema: structuredClone(experimentSchemaJson) }],
  });
  let version = 0;
  // A new version every call: the document cache is keyed on uri + version.
  const validate = async (text: string) => (await service.doValidation(TextDocument.create(DOC_URI, 'yaml', ++version, text), false)).length;
  return { service, validate, errors };
}

interface Input {
  name: string;
  text: string;
  lines: number;
  runs: number;
  warmup: number;
  targetMs: number;
  /** A syntax error on purpose: problems expected. */
  broken?: boolean;
}

interface Row {
  input: Input;
  ours: Stats;
  yls: Stats;
  oursProblems: number;
  ylsProblems: number;
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

async function measure(input: Input, yls: ReturnType<typeof makeYls>): Promise<Row> {
  const oursProblems = validateExperiment(input.text).problems.length;
  const ylsProblems = await yls.validate(input.text);
  for (let i = 0; i < input.warmup; i++) {
    validateExperiment(input.text);
    await yls.validate(input.text);
  }
  const ours: number[] = [];
  const other: number[] = [];
  // Interleaved, alternating which goes first, so drift (thermal, other load) hits both alike.
  for (let i = 0; i < input.runs; i++) {
    if (i % 2 === 0) {
      ours.push(timeSync(() => validateExperiment(input.text)));
      other.push(await timeAsync(() => yls.validate(input.text)));
    } else {
      other.push(await timeAsync(() => yls.validate(input.text)));
      ours.push(timeSync(() => validateExperiment(input.text)));
    }
  }
  return { input, ours: stats(ours), yls: stats(other), oursProblems, ylsProblems };
}

function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const yamlOptions = { uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, strict: true } as const;

/** Drain a generator (the yaml library's lexer and parser are lazy). */
function drain(it: Iterable<unknown>): number {
  const iterator = it[Symbol.iterator]();
  let n = 0;
  while (!iterator.next().done) n++;
  return n;
}

/** Each step of `validateExperiment` timed on its own (the later steps reuse one parsed document). */
function breakdown(text: string, runs: number): void {
  const { doc, value } = readYaml(text);
  const cst = [...new Parser().parse(text)];
  const steps: Array<[name: string, fn: () => unknown, part: boolean]> = [
    ['yaml Lexer (tokens)', () => drain(new Lexer().lex(text)), false],
    ['yaml Parser (lexer + CST)', () => drain(new Parser().parse(text)), true],
    ['yaml Composer (CST → nodes with ranges)', () => drain(new Composer(yamlOptions).compose(cst, true, text.length)), true],
    ['  for comparison: yaml parseDocument (Parser + Composer)', () => parseDocument(text, yamlOptions), false],
    ['  for comparison: parseDocument with keepSourceTokens', () => parseDocument(text, { ...yamlOptions, keepSourceTokens: true }), false],
    ['duplicateKeys (visit every map)', () => duplicateKeys(doc, text), true],
    ['doc.toJS({ maxAliasCount: 100 })', () => doc.toJS({ maxAliasCount: 100 }), true],
    ['readYaml (all of the above + depth guard + control characters)', () => readYaml(text), false],
    ['schemaProblems (ajv validate + placing)', () => value !== undefined && schemaProblems(doc, text, value), true],
    ['ruleProblems (business rules)', () => value !== undefined && ruleProblems(doc, text, value), true],
    ['validateExperiment (total)', () => validateExperiment(text), false],
  ];
  for (const [, fn] of steps) for (let i = 0; i < 10; i++) fn();
  const results = steps.map(([name, fn, part]) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(timeSync(fn));
    return { name, part, s: stats(samples) };
  });
  const total = results[results.length - 1].s.median;
  const pct = (x: number) => `${((100 * x) / total).toFixed(0)}%`;
  const sum = results.filter(r => r.part).reduce((a, r) => a + r.s.median, 0);
  console.log(table(
    ['step', 'median ms', 'p90 ms', '% of total'],
    [
      ...results.map(r => [r.name, ms(r.s.median), ms(r.s.p90), pct(r.s.median)]),
      ['sum of the steps', ms(sum), '', pct(sum)],
    ],
    [false, true, true, true],
  ));
}

async function main(): Promise<void> {
  const small = smallConfig();
  const large = largeConfig(5000);
  const input = (name: string, text: string, runs: number, targetMs: number, broken = false): Input =>
    ({ name, text, lines: lineCount(text), runs, warmup: Math.max(5, runs / 5), targetMs, broken });
  const inputs: Input[] = [
    input('small', small, 100, 2),
    input('small mid-edit', midEditConfig(60), 100, 2, true),
    input('large', large, 20, 40),
    input('large anchors', anchoredConfig(5000), 20, 40),
    input('large multi-line', multiLineConfig(5000), 20, 40),
    input('large mid-edit', midEditConfig(5000), 20, 40, true),
  ];

  console.log(`EDD validation benchmark — node ${process.version}, ${process.platform}/${process.arch}`);
  console.log(`inputs: ${inputs.map(i => `${i.name} ${i.lines} lines / ${i.text.length} chars`).join(', ')}\n`);

  // Our first call compiles the ajv validator; time it separately (it is paid once per process).
  const cold = timeSync(() => validateExperiment(small));
  const yls = makeYls();
  const ylsCold = await timeAsync(() => yls.validate(small));
  console.log(`first call (cold: ajv compile / yls schema resolve): ours ${ms(cold)} ms, yaml-language-server ${ms(ylsCold)} ms\n`);

  // Sanity: both tools must see problems in a broken copy, or the comparison means nothing.
  let broken = false;
  for (const input of [inputs[0], inputs[2]]) {
    const bad = brokenVariant(input.text);
    const o = validateExperiment(bad).problems.length;
    const y = await yls.validate(bad);
    console.log(`sanity (${input.name}, broken copy: unknown key + wrong type): ours ${o} problems, yaml-language-server ${y} problems`);
    if (o === 0 || y === 0) broken = true;
  }
  if (broken) throw new Error('a tool reported no problems on a broken config: the schema is not applied');

  const rows: Row[] = [];
  for (const input of inputs) rows.push(await measure(input, yls));
  if (yls.errors.length) throw new Error(`yaml-language-server failed during validation: ${String(yls.errors[0])}`);

  console.log(`\nproblems on the (valid) inputs: ${rows.map(r => `${r.input.name}: ours ${r.oursProblems}, yaml-language-server ${r.ylsProblems}`).join('; ')}`);
  const invalid = rows.filter(r => (r.oursProblems > 0) !== Boolean(r.input.broken));
  if (invalid.length) {
    for (const r of invalid) console.error(validateExperiment(r.input.text).problems.slice(0, 5));
    throw new Error(`generated input(s) ${invalid.map(r => r.input.name).join(', ')} are not as intended (valid, or broken for the mid-edit ones)`);
  }

  console.log('');
  console.log(table(
    ['input', 'lines', 'runs', 'ours median ms', 'ours p90 ms', 'yls median ms', 'yls p90 ms', 'yls/ours'],
    rows.map(r => [r.input.name, String(r.input.lines), String(r.input.runs), ms(r.ours.median), ms(r.ours.p90), ms(r.yls.median), ms(r.yls.p90), `${(r.yls.median / r.ours.median).toFixed(1)}× faster`]),
    [false, true, true, true, true, true, true, true],
  ));

  console.log('\ntargets');
  const targetRows: string[][] = [];
  for (const r of rows) {
    const okTime = r.ours.median <= r.input.targetMs;
    targetRows.push([`ours ≤ ${r.input.targetMs} ms on ${r.input.lines} lines`, `${ms(r.ours.median)} ms`, okTime ? 'PASS' : `MISS (+${ms(r.ours.median - r.input.targetMs)} ms, ${(r.ours.median / r.input.targetMs).toFixed(2)}× the budget)`]);
  }
  for (const r of rows) {
    const ratio = r.yls.median / r.ours.median;
    targetRows.push([`ahead of yaml-language-server (${r.input.name})`, `${ratio.toFixed(2)}×`, ratio > 1 ? 'PASS' : `MISS (need ours < ${ms(r.yls.median)} ms)`]);
  }
  console.log(table(['target', 'measured', 'result'], targetRows, [false, true, false]));

  for (const input of inputs) {
    const runs = input.runs * 2;
    console.log(`\nbreakdown of our time on the ${input.name} input (${input.lines} lines, median of ${runs}; indented rows are for comparison, not part of the sum)`);
    breakdown(input.text, runs);
  }
}

main().catch(e => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
