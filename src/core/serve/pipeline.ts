/**
 * The ModelService pipeline around the ONNX model, compiled once from the spec so that a request only walks arrays:
 * validate each instance against the input data schema → the declared preprocessing steps → the feature matrix in the
 * model's order; then, after the model, postprocessing (argmax → class names, thresholds per group, top-k).
 *
 * Which request fields are required: the columns the model uses (its features, or what preprocessing makes them
 * from) when the schema says `required` (the default), unless a step imputes them. Columns of the schema the model
 * does not use (the label, sensitive attributes) may be sent and are then validated and logged, but are optional.
 * Fields the schema does not list are refused unless it says `allow_extra_columns: true` — without an input schema,
 * only the columns the model uses are accepted.
 */
import { t } from '../l10n';
import type { ColumnRule, DataSchema } from '../config/dataSchema';
import type { Dataset } from '../checks/types';
import type { PostprocessSpec, PreprocessStep, ServiceSpec } from './spec';

/** One broken rule of one instance, as the 400 problem lists it. */
export interface FieldError {
  /** The instance's index in the request. */
  row: number;
  /** The field ('' for the instance itself). */
  field: string;
  rule: 'missing' | 'extra' | 'type' | 'range' | 'allowed' | 'null' | 'category';
  message: string;
}

type Value = number | string | boolean | null;

interface Checker {
  name: string;
  index: number;
  type: ColumnRule['type'];
  min?: number;
  max?: number;
  allowed?: ReadonlySet<string>;
  nullable: boolean;
  required: boolean;
}

type Step = (vals: Value[], row: number) => FieldError | undefined;

/** The compiled preprocessing: `prepare` turns instances into the model's input matrix. */
export interface Preprocessor {
  features: readonly string[];
  /** Every field a request may carry that the pipeline knows. */
  columns: readonly string[];
  /** The feature matrix (rows × features, float32), or the broken rules (empty matrix). */
  prepare(instances: readonly unknown[]): { matrix: Float32Array; errors: FieldError[] };
}

function canonical(v: unknown): string {
  return typeof v === 'number' ? String(v) : String(v);
}

/** Median and mean of a numeric reference column, NaN skipped. */
function referenceStats(reference: Dataset | undefined, column: string, what: string): Float64Array {
  const col = reference?.columns.get(column);
  if (!reference) throw new Error(t('`{0}` of `{1}` needs reference data: set `reference:` (or `monitoring.reference`) in the spec, or give the values.', what, column));
  if (!col || col.kind !== 'number') throw new Error(t('`{0}` of `{1}`: the reference data {2} has no numeric column `{1}`.', what, column, reference.file));
  const values = Float64Array.from(col.values).filter(v => !Number.isNaN(v));
  if (values.length === 0) throw new Error(t('`{0}` of `{1}`: the reference data {2} has no value in column `{1}`.', what, column, reference.file));
  return values;
}

function meanOf(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

function medianOf(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Population standard deviation, as scikit-learn's StandardScaler uses. */
function stdOf(v: Float64Array): number {
  const m = meanOf(v);
  let s = 0;
  for (const x of v) s += (x - m) * (x - m);
  return Math.sqrt(s / v.length);
}

/** Compile the spec's input rules and preprocessing. Throws an Error with a sentence for the user when it cannot. */
export function compilePreprocessor(spec: Pick<ServiceSpec, 'features' | 'preprocess' | 'input'>, reference?: Dataset): Preprocessor {
  const schema: DataSchema | undefined = spec.input?.schema;
  const index = new Map<string, number>();
  const names: string[] = [];
  const slot = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      i = names.length;
      index.set(name, i);
      names.push(name);
    }
    return i;
  };
  // Columns made by a step are not request fields.
  const produced = new Set<string>();
  const used = new Set<string>();
  const imputed = new Set<string>();
  const categorical = new Set<string>();
  const categoriesOf = (s: Extract<PreprocessStep, { kind: 'one_hot' }>): string[] => {
    if (s.categories) return s.categories.map(canonical);
    const allowed = schema?.columns.get(s.column)?.allowed;
    if (allowed) return allowed.map(canonical);
    const col = reference?.columns.get(s.column);
    if (col?.kind === 'string') return [...new Set(col.values.filter((v): v is string => v !== null))].sort();
    throw new Error(t('`one_hot` of `{0}` needs its categories: list them in `categories:`, or give them as `allowed` in the input schema.', s.column));
  };
  for (const s of spec.preprocess) {
    if (s.kind === 'one_hot') {
      used.add(s.column);
      categorical.add(s.column);
      for (const c of categoriesOf(s)) produced.add(`${s.column}_${c}`);
    } else if (s.kind === 'category_map') {
      used.add(s.column);
      categorical.add(s.column);
    } else {
      for (const c of s.columns) used.add(c);
      if (s.kind === 'impute') for (const c of s.columns) imputed.add(c);
    }
  }
  for (const f of spec.features) if (!produced.has(f)) used.add(f);

  const checkers: Checker[] = [];
  const known = new Set<string>();
  if (schema) {
    for (const [name, rule] of schema.columns) {
      known.add(name);
      checkers.push({
        name, index: slot(name), type: rule.type, min: rule.min, max: rule.max,
        allowed: rule.allowed ? new Set(rule.allowed.map(canonical)) : undefined,
        nullable: rule.nullable || imputed.has(name), required: rule.required && used.has(name) && !imputed.has(name),
      });
    }
  }
  for (const name of used) {
    if (known.has(name)) continue;
    known.add(name);
    checkers.push({ name, index: slot(name), type: categorical.has(name) ? 'category' : 'number', nullable: imputed.has(name), required: !imputed.has(name) });
  }
  const allowExtra = schema?.allowExtraColumns ?? false;

  const steps: Step[] = [];
  const missing = (v: Value) => v === null;
  for (const s of spec.preprocess) {
    switch (s.kind) {
      case 'impute': {
        for (const c of s.columns) {
          const i = slot(c);
          let fill: Value;
          if (s.strategy === 'constant') fill = s.value ?? null;
          else fill = s.strategy === 'mean' ? meanOf(referenceStats(reference, c, 'impute')) : medianOf(referenceStats(reference, c, 'impute'));
          steps.push(vals => { if (missing(vals[i])) vals[i] = fill; return undefined; });
        }
        break;
      }
      case 'standardize': {
        for (const c of s.columns) {
          const i = slot(c);
          const values = s.mean?.[c] === undefined || s.std?.[c] === undefined ? referenceStats(reference, c, 'standardize') : undefined;
          const mean = s.mean?.[c] ?? meanOf(values!);
          const std = s.std?.[c] ?? stdOf(values!);
          if (!(std > 0)) throw new Error(t('`standardize` of `{0}`: its standard deviation is 0; give `std:` or remove the column from the step.', c));
          steps.push((vals, row) => {
            const v = vals[i];
            if (typeof v !== 'number') return v === null ? undefined : { row, field: c, rule: 'type', message: t('`{0}` must be a number to be standardized.', c) };
            vals[i] = (v - mean) / std;
            return undefined;
          });
        }
        break;
      }
      case 'clip': {
        for (const c of s.columns) {
          const i = slot(c);
          const lo = s.min ?? -Infinity, hi = s.max ?? Infinity;
          steps.push(vals => { const v = vals[i]; if (typeof v === 'number') vals[i] = v < lo ? lo : v > hi ? hi : v; return undefined; });
        }
        break;
      }
      case 'one_hot': {
        const i = slot(s.column);
        const cats = categoriesOf(s);
        const targets = cats.map(cat => slot(`${s.column}_${cat}`));
        const position = new Map(cats.map((c, k) => [c, k]));
        steps.push((vals, row) => {
          const v = vals[i];
          const k = v === null ? undefined : position.get(canonical(v));
          if (v !== null && k === undefined) return { row, field: s.column, rule: 'category', message: t('`{0}` is {1}, not one of the categories ({2}).', s.column, JSON.stringify(v), cats.join(', ')) };
          for (let j = 0; j < targets.length; j++) vals[targets[j]] = j === k ? 1 : 0;
          return undefined;
        });
        break;
      }
      case 'category_map': {
        const i = slot(s.column);
        const map = new Map(Object.entries(s.map));
        const fallback = s.default;
        steps.push((vals, row) => {
          const v = vals[i];
          if (v === null) return undefined;
          const n = map.get(canonical(v)) ?? fallback;
          if (n === undefined) return { row, field: s.column, rule: 'category', message: t('`{0}` is {1}, which `category_map` does not map ({2}).', s.column, JSON.stringify(v), [...map.keys()].join(', ')) };
          vals[i] = n;
          return undefined;
        });
        break;
      }
    }
  }
  const featureIndex = spec.features.map(f => slot(f));
  const width = featureIndex.length;
  const columns = [...known];
  const scratch: Value[] = new Array(names.length).fill(null);

  const checkValue = (c: Checker, v: unknown, row: number): FieldError | undefined => {
    if (v === null) return c.nullable ? undefined : { row, field: c.name, rule: 'null', message: t('`{0}` may not be null.', c.name) };
    switch (c.type) {
      case 'number':
      case 'integer':
        if (typeof v !== 'number' || !Number.isFinite(v)) return { row, field: c.name, rule: 'type', message: t('`{0}` must be a finite number, not {1}.', c.name, JSON.stringify(v) ?? String(v)) };
        if (c.type === 'integer' && !Number.isInteger(v)) return { row, field: c.name, rule: 'type', message: t('`{0}` must be an integer, not {1}.', c.name, v) };
        if (c.min !== undefined && v < c.min) return { row, field: c.name, rule: 'range', message: t('`{0}` is {1}, below its minimum {2}.', c.name, v, c.min) };
        if (c.max !== undefined && v > c.max) return { row, field: c.name, rule: 'range', message: t('`{0}` is {1}, above its maximum {2}.', c.name, v, c.max) };
        return undefined;
      default:
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return { row, field: c.name, rule: 'type', message: t('`{0}` must be a string, a number or a boolean.', c.name) };
        if (c.allowed && !c.allowed.has(canonical(v))) return { row, field: c.name, rule: 'allowed', message: t('`{0}` is {1}, not one of {2}.', c.name, JSON.stringify(v), [...c.allowed].join(', ')) };
        return undefined;
    }
  };

  return {
    features: spec.features,
    columns,
    prepare(instances) {
      const rows = instances.length;
      const errors: FieldError[] = [];
      const matrix = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++) {
        const inst = instances[r];
        if (typeof inst !== 'object' || inst === null || Array.isArray(inst)) {
          errors.push({ row: r, field: '', rule: 'type', message: t('An instance is an object of field → value, e.g. {"{0}": 1.0}.', spec.features[0]) });
          continue;
        }
        const o = inst as Record<string, unknown>;
        let bad = false;
        if (!allowExtra) {
          for (const k in o) {
            if (!known.has(k)) { errors.push({ row: r, field: k, rule: 'extra', message: t('`{0}` is not a field of this model (fields: {1}).', k, columns.join(', ')) }); bad = true; }
          }
        }
        scratch.fill(null);
        for (let k = 0; k < checkers.length; k++) {
          const c = checkers[k];
          const v = o[c.name];
          if (v === undefined) {
            if (c.required) { errors.push({ row: r, field: c.name, rule: 'missing', message: t('`{0}` is missing.', c.name) }); bad = true; }
            continue;
          }
          const e = checkValue(c, v, r);
          if (e) { errors.push(e); bad = true; continue; }
          scratch[c.index] = v as Value;
        }
        if (bad) continue;
        for (let k = 0; k < steps.length; k++) {
          const e = steps[k](scratch, r);
          if (e) { errors.push(e); bad = true; break; }
        }
        if (bad) continue;
        const base = r * width;
        for (let f = 0; f < width; f++) {
          const v = scratch[featureIndex[f]];
          if (typeof v === 'number') matrix[base + f] = v;
          else if (typeof v === 'boolean') matrix[base + f] = v ? 1 : 0;
          else {
            const name = spec.features[f];
            errors.push(v === null
              ? { row: r, field: name, rule: 'missing', message: t('`{0}` is missing and no `impute` step fills it.', name) }
              : { row: r, field: name, rule: 'type', message: t('`{0}` is {1}; the model needs a number (add a `one_hot` or `category_map` step).', name, JSON.stringify(v)) });
            break;
          }
        }
      }
      return { matrix: errors.length ? new Float32Array(0) : matrix, errors };
    },
  };
}

export interface RowOutput {
  prediction: string | number;
  probabilities?: number[];
  top_k?: Array<{ class: string; probability: number }>;
}

/** The compiled postprocessing for one model (its class names). */
export interface Postprocessor {
  classes: readonly string[] | null;
  /** `scores` is rows × width; `instances` give the group of each row for per-group thresholds. */
  answer(scores: Float32Array, rows: number, width: number, instances: readonly unknown[]): RowOutput[];
}

/**
 * Argmax → class name; with a threshold (per group when the row's group has one) the positive class wins when its
 * probability is at least the threshold, otherwise the most probable other class. `classes` null: a regression
 * (one output per row, answered as the number).
 */
export function compilePostprocessor(post: PostprocessSpec, classes: readonly string[] | null): Postprocessor {
  const positive = post.positive_class !== undefined && classes ? classes.indexOf(post.positive_class) : -1;
  if (post.positive_class !== undefined && classes && positive < 0) {
    throw new Error(t('`positive_class` {0} is not one of the model\'s classes ({1}).', post.positive_class, classes.join(', ')));
  }
  const groups = Object.entries(post.group_thresholds).map(([column, byValue]) => ({ column, byValue: new Map(Object.entries(byValue)) }));
  const threshold = post.threshold;
  const topK = post.top_k;
  return {
    classes,
    answer(scores, rows, width, instances) {
      const out = new Array<RowOutput>(rows);
      for (let r = 0; r < rows; r++) {
        const base = r * width;
        if (!classes) {
          out[r] = { prediction: scores[base] };
          continue;
        }
        const k = classes.length;
        const probs = new Array<number>(k);
        if (width === 1) {
          probs[0] = 1 - scores[base];
          probs[1] = scores[base];
        } else for (let j = 0; j < k; j++) probs[j] = scores[base + j];
        let thr = threshold;
        if (groups.length > 0) {
          const inst = instances[r] as Record<string, unknown>;
          for (const g of groups) {
            const v = inst[g.column];
            // a missing value is the bias check's `(missing)` group, which `edd monitor --suggest-thresholds` may fit
            const x = g.byValue.get(v === undefined || v === null ? '(missing)' : String(v));
            if (x !== undefined) { thr = x; break; }
          }
        }
        let best = -1;
        if (thr !== undefined && positive >= 0) {
          if (probs[positive] >= thr) best = positive;
          else for (let j = 0; j < k; j++) if (j !== positive && (best < 0 || probs[j] > probs[best])) best = j;
        } else {
          for (let j = 0; j < k; j++) if (best < 0 || probs[j] > probs[best]) best = j;
        }
        const row: RowOutput = { prediction: classes[best], probabilities: probs };
        if (topK !== undefined) {
          const order = probs.map((p, j) => j).sort((a, b) => probs[b] - probs[a]).slice(0, topK);
          row.top_k = order.map(j => ({ class: classes[j], probability: probs[j] }));
        }
        out[r] = row;
      }
      return out;
    },
  };
}
