/**
 * Deterministic experiment configs for the validation benchmark. All but the mid-edit one are valid for
 * `validateExperiment` (zero problems), so every tool walks the whole document instead of stopping early.
 */
import { mulberry32 } from '../../src/core/stats/prng';

/** Seeded randomness: the project's mulberry32, so every run sees the same data. */
const rng = mulberry32;

const pad = (n: number, w = 3) => String(n).padStart(w, '0');
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A typical hand-written config: about 60 lines. */
export function smallConfig(): string {
  const p = 0.9124;
  const r = 0.8876;
  const f1 = round((2 * p * r) / (p + r));
  return `# edd: experiment
# Baseline image classifier for the product-photo catalogue.
experiment:
  id: exp_20250101_001
  name: baseline_resnet50_v1
  objective: Improve top-1 accuracy on the catalogue test set by 5%
  hypothesis: >-
    Fine-tuning an ImageNet-pretrained ResNet-50 with AdamW and label
    smoothing beats the logistic-regression baseline by at least 5 points.
  description: |
    First real baseline. The data set is the March export of the catalogue,
    de-duplicated by perceptual hash. Images are resized to 224x224.

    Known issues: class "accessories" is under-represented (2% of samples).
  tags:
    - vision
    - baseline
    - resnet
    - catalogue
  random_seed: 42
  parameters:
    model_type: resnet50
    learning_rate: 0.0003
    batch_size: 64
    epochs: 30
    optimizer: adamw
    weight_decay: 0.0001
    dropout: 0.1
    label_smoothing: 0.1
    warmup_steps: 500
    scheduler: cosine
    pretrained: true
    image_size: [224, 224]
    mixed_precision: true
  data:
    dataset_version: v1.2.3
    train_size: 48000
    val_size: 6000
    test_size: 6000
    files:
      - data/catalogue/train.parquet
      - data/catalogue/val.parquet
      - data/catalogue/test.parquet
  environment:
    python_version: "3.11.4"
    pytorch_version: "2.3.0"
    cuda_version: "12.1"
    torchvision_version: "0.18.0"
  run:
    command: [python, train.py, --config, experiments/exp_20250101_001.yaml]
    cwd: training
    env:
      CUDA_VISIBLE_DEVICES: "0"
      OMP_NUM_THREADS: 8
    timeout: 7200
  results:
    accuracy: 0.9131
    precision: ${p}
    recall: ${r}
    f1_score: ${f1}
    roc_auc: 0.9712
    val_loss: 0.3145
    train_time_s: 5231.7
`;
}

/**
 * A generated config of about `targetLines` lines (default 5,000): a long description, many tags, thousands of
 * extra hyperparameters, many data files, extra `*_version` entries, many run env vars and many extra metrics.
 */
export function largeConfig(targetLines = 5000): string {
  const rand = rng(20250101);
  const out: string[] = [];
  const line = (s: string) => out.push(s);

  // Share of the body lines per section (the rest is the fixed frame, ~60 lines).
  const body = Math.max(100, targetLines - 60);
  const n = {
    description: Math.round(body * 0.12),
    tags: Math.round(body * 0.06),
    params: Math.round(body * 0.42),
    files: Math.round(body * 0.06),
    versions: Math.round(body * 0.02),
    env: Math.round(body * 0.04),
    metrics: 0,
  };
  // Comment lines inside parameters (one per 25 params) and results (one per 40 metrics) also count.
  const used = n.description + n.tags + n.params + Math.floor(n.params / 25) + n.files + n.versions + n.env;
  n.metrics = Math.max(10, Math.round((body - used) / (1 + 1 / 40)));

  const words = ['model', 'training', 'validation', 'split', 'augmentation', 'learning', 'schedule', 'warmup', 'gradient',
    'clipping', 'accuracy', 'regression', 'baseline', 'ablation', 'feature', 'encoder', 'decoder', 'attention', 'layer',
    'dropout', 'the', 'a', 'of', 'with', 'and', 'for', 'on', 'data', 'set', 'run', 'metric', 'improves', 'checkpoint'];
  const sentence = () => {
    const len = 8 + Math.floor(rand() * 8);
    const ws: string[] = [];
    for (let i = 0; i < len; i++) ws.push(words[Math.floor(rand() * words.length)]);
    return ws.join(' ');
  };

  line('# edd: experiment');
  line('# Large sweep export: one experiment with its full hyperparameter table and per-class metrics.');
  line('experiment:');
  line('  id: exp_20250315_042');
  line('  name: transformer_sweep_large_v3');
  line('  objective: Reduce validation loss by 10% against exp_20250301_017 at the same compute budget');
  line('  hypothesis: >-');
  line('    Rotary position embeddings combined with a longer warmup reduce the');
  line('    validation loss of the 350M-parameter model by at least 10%.');
  line('  description: |');
  for (let i = 0; i < n.description; i++) line(i % 12 === 11 ? '' : `    ${sentence()}.`);
  line('  tags:');
  for (let i = 0; i < n.tags; i++) line(`    - ${['nlp', 'sweep', 'transformer', 'rope', 'ablation', 'gpu'][i % 6]}-${pad(i, 4)}`);
  line('  random_seed: 1234');
  line('  parameters:');
  line('    model_type: transformer');
  line('    learning_rate: 0.0003');
  line('    batch_size: 256');
  line('    epochs: 12');
  line('    optimizer: adamw');
  line('    weight_decay: 0.01');
  line('    dropout: 0.1');
  for (let i = 0; i < n.params; i++) {
    if (i % 25 === 0) line(`    # block ${pad(Math.floor(i / 25), 3)}`);
    const layer = `layer_${pad(Math.floor(i / 8), 3)}`;
    switch (i % 8) {
      case 0: line(`    ${layer}_hidden_units: ${256 * (1 + Math.floor(rand() * 16))}`); break;
      case 1: line(`    ${layer}_attention_heads: ${[4, 8, 12, 16][Math.floor(rand() * 4)]}`); break;
      case 2: line(`    ${layer}_residual_scale: ${round(0.5 + rand(), 5)}`); break;
      case 3: line(`    ${layer}_activation_fn: ${['gelu', 'relu', 'silu', 'swiglu'][Math.floor(rand() * 4)]}`); break;
      case 4: line(`    ${layer}_use_layer_norm: ${rand() < 0.5 ? 'true' : 'false'}`); break;
      case 5: line(`    ${layer}_kernel_shape: [${1 + Math.floor(rand() * 7)}, ${1 + Math.floor(rand() * 7)}]`); break;
      case 6: line(`    ${layer}_init_method: "${['xavier_uniform', 'kaiming_normal', 'orthogonal'][Math.floor(rand() * 3)]}"`); break;
      default: line(`    ${layer}_checkpoint_every: ${100 * (1 + Math.floor(rand() * 50))}`); break;
    }
  }
  line('  data:');
  line('    dataset_version: v4.2.0');
  line('    train_size: 12000000');
  line('    val_size: 250000');
  line('    test_size: 250000');
  line('    files:');
  for (let i = 0; i < n.files; i++) line(`      - data/corpus/shard-${pad(i, 5)}-of-${pad(n.files, 5)}.jsonl.zst`);
  line('  environment:');
  line('    python_version: "3.11.9"');
  line('    pytorch_version: "2.3.1"');
  line('    cuda_version: "12.1"');
  line('    node_version: "20.11.0"');
  for (let i = 0; i < n.versions; i++) line(`    lib${pad(i, 3)}_version: "${1 + (i % 5)}.${i % 17}.${i % 7}"`);
  line('  run:');
  line('    command:');
  line('      - torchrun');
  line('      - --nproc_per_node');
  line('      - "8"');
  line('      - train.py');
  line('      - --config');
  line('      - experiments/exp_20250315_042.yaml');
  line('    cwd: training/transformer');
  line('    timeout: 86400');
  line('    env:');
  for (let i = 0; i < n.env; i++) {
    const v = i % 3 === 0 ? `"${pad(i, 4)}"` : i % 3 === 1 ? String(i * 7) : i % 2 === 0 ? 'true' : 'false';
    line(`      EDD_SETTING_${pad(i, 4)}: ${v}`);
  }
  line('  results:');
  const p = round(0.8 + rand() * 0.15);
  const r = round(0.8 + rand() * 0.15);
  line(`    accuracy: ${round(0.85 + rand() * 0.1)}`);
  line(`    precision: ${p}`);
  line(`    recall: ${r}`);
  line(`    f1_score: ${round((2 * p * r) / (p + r))}`);
  line(`    roc_auc: ${round(0.9 + rand() * 0.09)}`);
  for (let i = 0; i < n.metrics; i++) {
    if (i % 40 === 0) line(`    # metrics ${pad(i, 4)}-${pad(i + 39, 4)}`);
    const kind = i % 4;
    const cls = `class_${pad(Math.floor(i / 4), 4)}`;
    if (kind === 0) line(`    ${cls}_precision: ${round(rand())}`);
    else if (kind === 1) line(`    ${cls}_recall: ${round(rand())}`);
    else if (kind === 2) line(`    ${cls}_loss: ${round(rand() * 3, 5)}`);
    else line(`    ${cls}_support: ${Math.floor(rand() * 5000)}`);
  }
  return out.join('\n') + '\n';
}

/** A copy of `text` with one unknown top-level key and a wrong type, to check that both tools apply the schema. */
export function brokenVariant(text: string): string {
  return text.replace(/^experiment:\n/m, 'experiment:\n  unexpected_key: 1\n').replace(/^( {4}epochs:) .*$/m, '$1 "many"');
}

/**
 * The large config written with anchors: hyperparameter values reused through aliases, and the environment's versions
 * passed to the run's environment variables through aliases. (No `<<` merge keys: YAML 1.2, which EDD reads, has none.)
 */
export function anchoredConfig(targetLines = 5000): string {
  const out: string[] = [];
  let param = 0;
  for (const l of largeConfig(targetLines).split('\n')) {
    const m = /^( {4}layer_\d+_hidden_units): (\d+)$/.exec(l);
    if (m && param++ % 20 === 0) {
      out.push(`${m[1]}: &units_${param} ${m[2]}`, `${m[1]}_copy: *units_${param}`);
    } else if (/^ {4}(python|pytorch|cuda)_version: /.test(l)) {
      const [key, value] = l.trim().split(': ');
      out.push(`    ${key}: &${key} ${value}`);
    } else if (l === '    env:') {
      out.push(l, '      PYTHON_VERSION: *python_version', '      TORCH_VERSION: *pytorch_version', '      CUDA_VERSION: *cuda_version');
    } else {
      out.push(l);
    }
  }
  return out.join('\n');
}

/** The large config with its long text written as multi-line plain and double-quoted scalars instead of `|` / `>`. */
export function multiLineConfig(targetLines = 5000): string {
  const lines = largeConfig(targetLines).split('\n');
  const out: string[] = [];
  let inDescription = false;
  for (const l of lines) {
    if (l === '  description: |') {
      inDescription = true;
      out.push('  description:');
      continue;
    }
    if (inDescription && !l.startsWith('    ') && l !== '') inDescription = false;
    if (inDescription) {
      // One long plain scalar continued over every line (no blank lines: those would be line breaks).
      if (l === '') continue;
      out.push(`    ${l.trim()}`);
      continue;
    }
    if (/^ {4}layer_\d+_init_method: "/.test(l)) {
      const [key, value] = l.split(': ');
      out.push(`${key}: "${value.slice(1, -1)} -`, `      folded"`);
      continue;
    }
    out.push(l);
  }
  return out.join('\n');
}

/** The large config in the middle of an edit: a half-typed flow list and an unclosed quote halfway down. */
export function midEditConfig(targetLines = 5000): string {
  const lines = largeConfig(targetLines).split('\n');
  const at = lines.findIndex((l, i) => i > lines.length / 2 && /^ {4}\w+: /.test(l));
  lines.splice(at, 0, '    kernel_sizes: [3, 5,', '    init_note: "half typed');
  return lines.join('\n');
}
