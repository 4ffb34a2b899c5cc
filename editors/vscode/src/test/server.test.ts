// The real `timelens lsp`, started with the argv and initializationOptions
// the extension builds, answers initialize with the commands the extension
// contributes. TIMELENS_BIN names the server (scripts/vscode builds it);
// without it the test is skipped, unless TIMELENS_REQUIRE_SERVER=1.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as rpc from 'vscode-jsonrpc/node';
import { launch, findExecutable, SERVER_COMMANDS } from '../logic';

const root = path.resolve(__dirname, '../../../..');
const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[] };
};

test('timelens lsp lists exactly the commands the extension contributes', async (t) => {
  const bin = process.env.TIMELENS_BIN;
  if (!bin) {
    assert.notEqual(process.env.TIMELENS_REQUIRE_SERVER, '1', 'TIMELENS_REQUIRE_SERVER=1 but TIMELENS_BIN is not set');
    t.skip('TIMELENS_BIN not set');
    return;
  }
  const l = launch({ path: bin, backend: 'gdb', recording: '', program: '', args: [], recordFrom: 'main', python: '', extraArgs: [] },
    path.join(root, 'testdata', 'race.py'));
  const server = cp.spawn(findExecutable(l.command), l.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));
  conn.listen();
  try {
    const init = await conn.sendRequest('initialize', {
      processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: l.initializationOptions,
    }) as { capabilities: { executeCommandProvider?: { commands: string[] } } };
    const served = init.capabilities.executeCommandProvider?.commands ?? [];
    assert.deepEqual([...served].sort(), [...SERVER_COMMANDS].sort(), `server stderr:\n${stderr}`);
    const contributed = pkg.contributes.commands.map((c) => c.command).filter((c) => served.includes(c));
    assert.deepEqual(contributed.sort(), [...served].sort(), 'package.json must contribute every server command');
    await conn.sendRequest('shutdown');
    conn.sendNotification('exit');
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    if (server.exitCode === null) setTimeout(() => server.kill(), 5000).unref();
    await exited;
    conn.dispose();
  }
});
