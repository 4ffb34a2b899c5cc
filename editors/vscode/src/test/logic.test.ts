// Plain-node tests of the extension's pure helpers: node --test out/test/
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  NAVIGATION_COMMANDS, UNTIL_COMMANDS, Settings, launch, findExecutable, MissingServerError, commandArguments,
  gotoArguments, isPosition, statusText, statusTooltip, untilArguments, isLineRuns, runItems,
  debugLaunch, defaultDebugConfiguration, isDebugAdapterAddress, isInstructions, bytecodeText, isStoppedEvent,
} from '../logic';

const defaults: Settings = { path: 'timelens', backend: '', recording: '', program: '', args: [], recordFrom: '', python: '', extraArgs: [] };

test('a user records the open file with default settings', () => {
  const l = launch(defaults, '/home/ada/bank.py');
  assert.deepEqual(l, { command: 'timelens', args: ['lsp', '--', '/home/ada/bank.py'], initializationOptions: {} });
});

test('settings become camelCase initializationOptions; program and args follow --', () => {
  const l = launch({ ...defaults, path: '/opt/bin/timelens', backend: 'gdb', recordFrom: 'Account.deposit', python: 'python3.13',
    program: '/src/race.py', args: ['--workers', '2'], extraArgs: ['--log', '/tmp/t.log'] }, '/ignored.py');
  assert.equal(l.command, '/opt/bin/timelens');
  assert.deepEqual(l.args, ['lsp', '--log', '/tmp/t.log', '--', '/src/race.py', '--workers', '2']);
  assert.deepEqual(l.initializationOptions, { backend: 'gdb', recordFrom: 'Account.deposit', python: 'python3.13' });
});

test('a recording is replayed without a program', () => {
  const l = launch({ ...defaults, backend: 'rr', recording: '/tmp/trace-0' }, '/home/ada/bank.py');
  assert.deepEqual(l.args, ['lsp']);
  assert.deepEqual(l.initializationOptions, { backend: 'rr', recording: '/tmp/trace-0' });
});

test('the server is looked up in PATH; a missing one says how to fix it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timelens-vscode-'));
  const exe = path.join(dir, 'timelens');
  fs.writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'notexec'), '', { mode: 0o644 });
  assert.equal(findExecutable('timelens', `/nonexistent${path.delimiter}${dir}`), exe);
  assert.equal(findExecutable(exe, ''), exe);
  assert.throws(() => findExecutable('timelens', '/nonexistent'), (e: unknown) =>
    e instanceof MissingServerError && /not found in PATH/.test(e.message) && /timelens\.path/.test(e.message));
  assert.throws(() => findExecutable(path.join(dir, 'notexec'), dir), MissingServerError);
  fs.rmSync(dir, { recursive: true });
});

test('commands run from the palette take their arguments from the cursor', () => {
  const c = { uri: 'file:///src/bank.py', line: 11, character: 8 };
  assert.deepEqual(commandArguments('timelens.lastWrite', [], c), [{ uri: c.uri, position: { line: 11, character: 8 } }]);
  assert.deepEqual(commandArguments('timelens.nextWrite', [], c), [{ uri: c.uri, position: { line: 11, character: 8 } }]);
  for (const cmd of ['timelens.gotoEntry', 'timelens.previousCall', 'timelens.nextCall']) {
    assert.deepEqual(commandArguments(cmd, [], c), [{ uri: c.uri, line: 11 }], cmd);
  }
  assert.deepEqual(commandArguments('timelens.step', [], c), []);
  assert.equal(commandArguments('timelens.goto', [], c), undefined, 'goto must ask for a time');
  const lens = [{ function: 'Account.deposit' }];
  assert.equal(commandArguments('timelens.nextCall', lens, c), lens, 'a code lens keeps its arguments');
  assert.deepEqual(gotoArguments(' 10088 \n'), [{ time: '10088' }]);
});

test('the status bar shows function, 1-based line and time of the position', () => {
  const p = { time: '10088', uri: 'file:///src/my%20bank.py', line: 11, function: 'Account.deposit', thread: 1, depth: 3,
    locals: { amount: '40', self: "Account(owner='ada')" } };
  assert.ok(isPosition(p));
  assert.equal(statusText(p), '$(history) Account.deposit:12 @10088');
  assert.equal(statusTooltip(p), "timelens: Account.deposit at /src/my bank.py:12, time 10088\namount = 40\nself = Account(owner='ada')");
  assert.ok(!isPosition(null));
  assert.ok(!isPosition({ time: 1, line: 2, function: 'f' }));
});

test('the navigation commands are the eighteen of docs/commands.md', () => {
  assert.equal(new Set(NAVIGATION_COMMANDS).size, 18);
  assert.ok(NAVIGATION_COMMANDS.every((c) => c.startsWith('timelens.')));
});

test('Run to Cursor, its reverse and the runs of a line take the cursor line', () => {
  const c = { uri: 'file:///src/bank.py', line: 22, character: 4 };
  for (const cmd of ['timelens.runToLine', 'timelens.reverseRunToLine', 'timelens.lineRuns']) {
    assert.deepEqual(commandArguments(cmd, [], c), [{ uri: c.uri, line: 22 }], cmd);
  }
  const action = [{ uri: c.uri, line: 7 }];
  assert.equal(commandArguments('timelens.reverseRunToLine', action, c), action, 'a code action keeps its line');
  assert.deepEqual(untilArguments(c, '  balance < 0 '), [{ uri: c.uri, line: 22, condition: 'balance < 0' }]);
  assert.deepEqual(untilArguments(c, ' '), [{ uri: c.uri, line: 22 }], 'no condition: the previous run');
  assert.deepEqual(UNTIL_COMMANDS['timelens.runBackUntil'], 'timelens.reverseRunToLine');
});

test('the picker over the runs of a line shows what each assigned, oldest first', () => {
  const runs = [
    { time: '4399', function: 'main', depth: 0, assigned: { total: '0', i: '0' } },
    { time: '5304', function: 'main', depth: 0, assigned: {} },
  ];
  assert.ok(isLineRuns(runs));
  assert.ok(isLineRuns([]));
  assert.ok(!isLineRuns({ time: '1' }));
  assert.deepEqual(runItems(runs), [
    { label: 'i = 0, total = 0', description: 'main (depth 0) @4399', time: '4399' },
    { label: 'run 2', description: 'main (depth 0) @5304', time: '5304' },
  ]);
});

test('the timelens debug type starts `timelens dap`, or joins the language server on its port', () => {
  assert.deepEqual(debugLaunch({ ...defaults, path: '/opt/timelens' }), { command: '/opt/timelens', args: ['dap'] });
  assert.ok(isDebugAdapterAddress({ host: '127.0.0.1', port: 40123 }));
  assert.ok(!isDebugAdapterAddress({ host: '127.0.0.1', port: 0 }));
  assert.ok(!isDebugAdapterAddress({ time: 't3', line: 1 }));
});

test('F5 without a launch.json records the open Python file', () => {
  assert.deepEqual(defaultDebugConfiguration('/home/ada/bank.py'),
    { type: 'timelens', request: 'launch', name: 'timelens: record this file', program: '/home/ada/bank.py' });
  assert.equal(defaultDebugConfiguration('/home/ada/notes.txt'), undefined);
  assert.equal(defaultDebugConfiguration(undefined), undefined);
});

test('package.json contributes the timelens debugger with its three launch snippets', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
    contributes: { debuggers: { type: string; configurationSnippets: { label: string; body: Record<string, string> }[] }[] };
  };
  const d = pkg.contributes.debuggers.find((x) => x.type === 'timelens');
  assert.ok(d, 'no timelens debugger');
  assert.deepEqual(d.configurationSnippets.map((x) => x.label),
    ['timelens: record this file', 'timelens: record from a function', 'timelens: replay a recording']);
  assert.ok(d.configurationSnippets.every((x) => x.body.type === 'timelens' && x.body.request === 'launch'));
});

test('package.json lets breakpoints be set in Python files (without another Python extension, VS Code refuses them)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
    contributes: { breakpoints?: { language: string }[] };
  };
  assert.deepEqual(pkg.contributes.breakpoints, [{ language: 'python' }]);
});

test('the bytecode view marks the current instruction and a specialized one\'s base name', () => {
  const instrs = [
    { offset: 0, opname: 'RESUME', arg: 0, argrepr: '', line: 2, current: false },
    { offset: 2, opname: 'LOAD_FAST', arg: 0, argrepr: 'total', line: 3, current: false },
    { offset: 4, opname: 'BINARY_OP_ADD_INT', baseOpname: 'BINARY_OP', arg: 0, argrepr: '+', line: 3, current: true },
    { offset: 8, opname: 'JUMP_BACKWARD', arg: 5, argrepr: 'to L1', line: 3, current: false, label: 1 },
  ];
  assert.ok(isInstructions(instrs));
  assert.ok(!isInstructions({ time: '1' }));
  const text = bytecodeText(instrs).split('\n');
  assert.equal(text.length, 5, text.join('\n'));
  assert.match(text[0], /^ {3}3\s+0 RESUME\s+0$/);
  assert.match(text[2], /^ {3}4\s+2 LOAD_FAST\s+0 \(total\)$/);
  assert.match(text[3], /^\s+--> \s+4 BINARY_OP_ADD_INT\s+0 \(\+\) {2}← BINARY_OP$/);
  assert.match(text[4], /L1:\s+8 JUMP_BACKWARD\s+5 \(to L1\)$/);
});

test('a debug adapter\'s stopped event, and nothing else, moves the status bar', () => {
  assert.equal(isStoppedEvent({ seq: 9, type: 'event', event: 'stopped', body: { reason: 'step', threadId: 1 } }), true);
  assert.equal(isStoppedEvent({ seq: 10, type: 'event', event: 'output', body: { output: 'x' } }), false);
  assert.equal(isStoppedEvent({ seq: 11, type: 'response', command: 'stepBack', success: true }), false);
  assert.equal(isStoppedEvent(undefined), false);
});
