import type { Io } from './io';
import { runCli, type Command } from './dispatch';

// Every command, each loaded at its first use (the CLI's ES module build splits them into chunks).
const commands: Readonly<Record<string, Command>> = {
  validate: async (args, io) => (await import('./validate')).validateCommand(args, io),
  run: async (args, io) => (await import('./run')).runCommand(args, io),
  sweep: async (args, io) => (await import('./sweep')).sweepCommand(args, io),
  runs: async (args, io) => (await import('./runs')).runsCommand(args, io),
  compare: async (args, io) => (await import('./compare')).compareCommand(args, io),
  gate: async (args, io) => (await import('./gate')).gateCommand(args, io),
  models: async (args, io) => (await import('./registry')).modelsCommand(args, io),
  register: async (args, io) => (await import('./registry')).registerCommand(args, io),
  promote: async (args, io) => (await import('./registry')).promoteCommand(args, io),
  alias: async (args, io) => (await import('./registry')).aliasCommand(args, io),
  rollback: async (args, io) => (await import('./registry')).rollbackCommand(args, io),
  audit: async (args, io) => (await import('./registry')).auditCommand(args, io),
  shadow: async (args, io) => (await import('./registry')).shadowCommand(args, io),
  serve: async (args, io) => (await import('./serve')).serveCommand(args, io),
  monitor: async (args, io) => (await import('./monitor')).monitorCommand(args, io),
  canary: async (args, io) => (await import('./canary')).canaryCommand(args, io),
  codegen: async (args, io) => (await import('./codegen')).codegenCommand(args, io),
  import: async (args, io) => (await import('./import')).importCommand(args, io),
  sync: async (args, io) => (await import('./sync')).syncCommand(args, io),
};

/** Run the CLI with `argv` (without node and script); resolves to the process exit code. */
export function main(argv: readonly string[], io: Io): Promise<number> {
  return runCli(argv, io, commands);
}
