// Pure helpers of the timelens extension: no `vscode` import, so that they
// run (and are tested) under plain node (`node --test out/test/`).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The server's navigation commands (docs/commands.md), in the server's order. */
export const NAVIGATION_COMMANDS = [
  'timelens.where', 'timelens.step', 'timelens.reverseStep', 'timelens.next', 'timelens.reverseNext',
  'timelens.finish', 'timelens.reverseFinish', 'timelens.gotoEntry', 'timelens.previousCall',
  'timelens.nextCall', 'timelens.lastWrite', 'timelens.nextWrite', 'timelens.goto', 'timelens.runToLine',
  'timelens.reverseRunToLine', 'timelens.lineRuns', 'timelens.stepInstruction', 'timelens.reverseStepInstruction',
] as const;

/**
 * Every command the server lists (executeCommandProvider): the navigation
 * commands, timelens.debugAdapter, which opens a loopback port for the
 * debugger on the same session (the `timelens` debug type uses it), and
 * timelens.disassemble, the current frame's bytecode.
 */
export const SERVER_COMMANDS = [...NAVIGATION_COMMANDS, 'timelens.debugAdapter', 'timelens.disassemble'] as const;

/** One instruction of timelens.disassemble's result (docs/commands.md). */
export interface Instruction {
  offset: number;
  opname: string;
  baseOpname?: string;
  arg: number | null;
  argrepr: string;
  line: number | null;
  current: boolean;
  label?: number;
}

/** isInstructions tells whether a command's result is timelens.disassemble's. */
export function isInstructions(v: unknown): v is Instruction[] {
  return Array.isArray(v) && v.every((i) => typeof i === 'object' && i !== null &&
    typeof (i as Record<string, unknown>).offset === 'number' && typeof (i as Record<string, unknown>).opname === 'string');
}

/**
 * bytecodeText renders timelens.disassemble's result as dis prints it: a
 * 1-based line number where a line starts, the current instruction marked
 * "-->", jump targets' labels, offset, name, argument and its meaning, and
 * a specialized instruction's base name.
 */
export function bytecodeText(instrs: Instruction[]): string {
  let last: number | null = null;
  const out: string[] = [];
  for (const i of instrs) {
    const line = i.line !== null && i.line !== last ? String(i.line + 1) : '';
    if (line && out.length > 0) out.push('');
    if (i.line !== null) last = i.line;
    const mark = i.current ? '-->' : '   ';
    const label = i.label ? `L${i.label}:` : '';
    const arg = i.arg === null ? '' : String(i.arg);
    const repr = i.argrepr ? ` (${i.argrepr})` : '';
    const base = i.baseOpname && i.baseOpname !== i.opname ? `  ← ${i.baseOpname}` : '';
    out.push(`${line.padStart(4)} ${mark} ${label.padEnd(5)}${String(i.offset).padStart(5)} ${i.opname.padEnd(28)} ${arg}${repr}${base}`.trimEnd());
  }
  return out.join('\n');
}

/** The address timelens.debugAdapter returns. */
export interface DebugAdapterAddress {
  host: string;
  port: number;
}

/** isDebugAdapterAddress tells whether a result is timelens.debugAdapter's. */
export function isDebugAdapterAddress(v: unknown): v is DebugAdapterAddress {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Record<string, unknown>;
  return typeof a.host === 'string' && typeof a.port === 'number' && a.port > 0;
}

/**
 * isStoppedEvent tells whether a message from a debug adapter is its
 * `stopped` event: the debugger's time moved (the toolbar, a breakpoint).
 */
export function isStoppedEvent(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const e = m as Record<string, unknown>;
  return e.type === 'event' && e.event === 'stopped';
}

/**
 * debugLaunch is how the `timelens` debug type starts an adapter of its own
 * when no language server session runs: `timelens dap` on stdio; the
 * launch configuration (program, recordFrom, ...) travels in the launch
 * request.
 */
export function debugLaunch(s: Settings): { command: string; args: string[] } {
  return { command: s.path || 'timelens', args: ['dap'] };
}

/** A launch configuration of the `timelens` debug type. */
export interface DebugLaunchConfiguration {
  type: string;
  request: string;
  name: string;
  program: string;
}

/**
 * defaultDebugConfiguration is the launch configuration of F5 without a
 * launch.json: record the open Python file (undefined when none is open).
 */
export function defaultDebugConfiguration(activeFile?: string): DebugLaunchConfiguration | undefined {
  if (!activeFile || !activeFile.endsWith('.py')) return undefined;
  return { type: 'timelens', request: 'launch', name: 'timelens: record this file', program: activeFile };
}

/**
 * The extension's own commands that ask for a condition and then run to the
 * cursor line through the server's runToLine / reverseRunToLine.
 */
export const UNTIL_COMMANDS: Record<string, string> = {
  'timelens.runBackUntil': 'timelens.reverseRunToLine',
  'timelens.runForwardUntil': 'timelens.runToLine',
};

/** The extension's settings (`timelens.*` in settings.json). */
export interface Settings {
  path: string;
  backend: string;
  recording: string;
  program: string;
  args: string[];
  recordFrom: string;
  python: string;
  extraArgs: string[];
}

/** The position object every navigation command returns (docs/commands.md). */
export interface Position {
  time: string;
  uri: string;
  line: number;
  function: string;
  thread?: number;
  depth?: number;
  locals?: Record<string, string>;
}

/** A cursor: a document uri and an LSP (0-based) position in it. */
export interface Cursor {
  uri: string;
  line: number;
  character: number;
}

/** How to start the server: executable, argv and LSP initializationOptions. */
export interface Launch {
  command: string;
  args: string[];
  initializationOptions: Record<string, string>;
}

/**
 * launch builds the `timelens lsp` command line from the settings. The
 * shared options go in initializationOptions under their camelCase names;
 * the program and its arguments follow `--`. activeFile is the program when
 * the settings name none and no recording is replayed.
 */
export function launch(s: Settings, activeFile?: string): Launch {
  const opts: Record<string, string> = {};
  if (s.backend) opts.backend = s.backend;
  if (s.recording) opts.recording = s.recording;
  if (s.recordFrom) opts.recordFrom = s.recordFrom;
  if (s.python) opts.python = s.python;
  const args = ['lsp', ...s.extraArgs];
  const program = s.program || (s.recording ? '' : activeFile ?? '');
  if (program) args.push('--', program, ...s.args);
  return { command: s.path || 'timelens', args, initializationOptions: opts };
}

/** MissingProgramError says there is nothing to record and how to name it. */
export class MissingProgramError extends Error {
  constructor() {
    super('timelens: nothing to record: open a Python file, or set "timelens.program" (or "timelens.recording") in the settings');
    this.name = 'MissingProgramError';
  }
}

/** MissingServerError says the timelens executable was not found, and how to fix that. */
export class MissingServerError extends Error {
  constructor(readonly command: string) {
    super(`timelens: the server "${command}" was not found` +
      (command.includes(path.sep) ? '' : ' in PATH') +
      ': build it (`make build` puts it in bin/timelens) and set "timelens.path" to its absolute path');
    this.name = 'MissingServerError';
  }
}

/**
 * findExecutable resolves command the way a shell does: a name with a slash
 * must be an executable file; a bare name is looked up in the directories of
 * PATH. It returns the absolute path, or throws MissingServerError.
 */
export function findExecutable(command: string, envPath = process.env.PATH ?? '',
  isExecutable: (p: string) => boolean = defaultIsExecutable): string {
  if (command.includes('/') || command.includes(path.sep)) {
    if (isExecutable(command)) return path.resolve(command);
    throw new MissingServerError(command);
  }
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, command);
    if (isExecutable(p)) return p;
  }
  throw new MissingServerError(command);
}

function defaultIsExecutable(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * commandArguments fills in the arguments a navigation command takes from the
 * cursor when it is run with none (from the palette or a keybinding):
 * lastWrite and nextWrite get {uri, position}; gotoEntry, previousCall and nextCall get
 * {uri, line}, and so do runToLine, reverseRunToLine ("Run to Cursor",
 * "Reverse Run to Cursor") and lineRuns. Arguments given (by a code lens or
 * a code action) are kept. It returns undefined for goto without arguments:
 * the caller must ask for a time.
 */
export function commandArguments(command: string, given: unknown[], cursor?: Cursor): unknown[] | undefined {
  if (given.length > 0) return given;
  switch (command) {
    case 'timelens.lastWrite':
    case 'timelens.nextWrite':
      return cursor ? [{ uri: cursor.uri, position: { line: cursor.line, character: cursor.character } }] : [];
    case 'timelens.gotoEntry':
    case 'timelens.previousCall':
    case 'timelens.nextCall':
    case 'timelens.runToLine':
    case 'timelens.reverseRunToLine':
    case 'timelens.lineRuns':
      return cursor ? [{ uri: cursor.uri, line: cursor.line }] : [];
    case 'timelens.goto':
      return undefined;
    default:
      return [];
  }
}

/** gotoArguments wraps a time typed by the user as timelens.goto's argument. */
export function gotoArguments(time: string): unknown[] {
  return [{ time: time.trim() }];
}

/** isPosition tells whether a command's result is a position object. */
export function isPosition(v: unknown): v is Position {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.time === 'string' && typeof p.line === 'number' && typeof p.function === 'string';
}

/**
 * statusText is the status bar text for a position: the function, the
 * 1-based line and the time, e.g. "$(history) Account.deposit:12 @t4711".
 */
export function statusText(p: Position): string {
  return `$(history) ${p.function}:${p.line + 1} @${p.time}`;
}

/** statusTooltip lists the file and the locals of a position, one a line. */
export function statusTooltip(p: Position): string {
  const file = p.uri.startsWith('file://') ? decodeURIComponent(p.uri.slice('file://'.length)) : p.uri;
  const lines = [`timelens: ${p.function} at ${file}:${p.line + 1}, time ${p.time}`];
  for (const [k, v] of Object.entries(p.locals ?? {})) lines.push(`${k} = ${v}`);
  return lines.join('\n');
}

/** untilArguments is the argument of a run to the cursor line where condition holds. */
export function untilArguments(cursor: Cursor, condition: string): unknown[] {
  const c = condition.trim();
  return [c ? { uri: cursor.uri, line: cursor.line, condition: c } : { uri: cursor.uri, line: cursor.line }];
}

/** One run of a line, as timelens.lineRuns returns it (docs/commands.md). */
export interface LineRun {
  time: string;
  function: string;
  depth: number;
  assigned: Record<string, string>;
}

/** isLineRuns tells whether a command's result is timelens.lineRuns' list. */
export function isLineRuns(v: unknown): v is LineRun[] {
  return Array.isArray(v) && v.every((r) => typeof r === 'object' && r !== null && typeof (r as LineRun).time === 'string');
}

/** An entry of the picker over the runs of a line. */
export interface RunItem {
  label: string;
  description: string;
  detail?: string;
  time: string;
}

/**
 * runItems turns the runs of a line into picker entries, oldest first: what
 * the run assigned (or "run N"), then its function, depth and time.
 */
export function runItems(runs: LineRun[]): RunItem[] {
  return runs.map((r, i) => {
    const assigned = Object.entries(r.assigned ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} = ${v}`);
    return {
      label: assigned.length ? assigned.join(', ') : `run ${i + 1}`,
      description: `${r.function} (depth ${r.depth}) @${r.time}`,
      time: r.time,
    };
  });
}
