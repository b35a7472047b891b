/**
 * The job's entrypoint. Ray takes a shell command line, so the run's argv is quoted element by element for POSIX sh
 * (never joined as written). The command runs under a small Python wrapper — every Ray node has Python, since Ray
 * runs on it — that does on the node what the local runner does on this machine: write the run's config files,
 * point `$EDD_METRICS_FILE`, `$EDD_ARTIFACT_DIR` and `$EDD_CONFIG*` at absolute paths in the job's working
 * directory, and copy every record appended to the metrics file onto stdout as an `EDD …` line, so file-protocol
 * records (what the Python helper writes) come back through the job's log with the stdout ones, in order.
 */

/** One argument for POSIX sh: single quotes keep everything literal; a single quote is closed, escaped, reopened. */
export function shQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL character');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}

/** What the wrapper needs, passed as JSON in `$EDD_RAY_SPEC`. Paths are relative to the job's working directory. */
export interface WrapperSpec {
  cwd: string;
  /** Files to write before the start (the config snapshot and its JSON form). */
  files: Record<string, string>;
  /** Environment variables that hold a path (made absolute on the node). */
  paths: Record<string, string>;
  metricsFile: string;
  artifactDir: string;
}

// Kept small and dependency-free: it runs on the cluster's Python, whatever version that is (3.8+).
const WRAPPER = `
import json, os, subprocess, sys, threading, time
spec = json.loads(os.environ.pop("EDD_RAY_SPEC"))
root = os.getcwd()
for rel, text in spec["files"].items():
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
for key, rel in spec["paths"].items():
    os.environ[key] = os.path.join(root, rel)
os.makedirs(os.path.join(root, spec["artifactDir"]), exist_ok=True)
metrics = os.path.join(root, spec["metricsFile"])
os.makedirs(os.path.dirname(metrics), exist_ok=True)
open(metrics, "wb").close()
out = sys.stdout.buffer
lock = threading.Lock()
def write(line):
    with lock:
        out.write(line)
        out.flush()
try:
    child = subprocess.Popen(sys.argv[1:], cwd=os.path.join(root, spec["cwd"]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
except OSError as e:
    write(("edd: cannot start %r: %s\\n" % (sys.argv[1], e.strerror)).encode())
    sys.exit(127)
ended = threading.Event()
def tail():
    rest = b""
    with open(metrics, "rb") as f:
        while True:
            chunk = f.read(65536)
            if chunk:
                lines = (rest + chunk).split(b"\\n")
                rest = lines.pop()
                for line in lines:
                    if line.strip():
                        write(b"EDD " + line + b"\\n")
            elif ended.is_set():
                break
            else:
                time.sleep(0.05)
    if rest.strip():
        write(b"EDD " + rest + b"\\n")
tailer = threading.Thread(target=tail, daemon=True)
tailer.start()
for line in iter(child.stdout.readline, b""):
    write(line)
code = child.wait()
ended.set()
tailer.join()
sys.exit(code if code >= 0 else 128 - code)
`;

/**
 * The entrypoint string for `POST /api/jobs/`: the wrapper on the node's Python, then the run's argv. The wrapper
 * travels base64-encoded so the entrypoint stays one line (Ray prints it at the top of the job's log).
 */
export function rayEntrypoint(argv: readonly string[]): string {
  const code = `import base64;exec(base64.b64decode("${Buffer.from(WRAPPER, 'utf8').toString('base64')}"))`;
  return `"$(command -v python3 || command -v python)" -c ${shQuote(code)} ${shJoin(argv)}`;
}
