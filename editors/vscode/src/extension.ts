// timelens for VS Code: starts `timelens lsp` for a Python program on
// vscode-languageclient. The server's commands (timelens.step, …) are
// registered by the client from executeCommandProvider; the timelens.ui.*
// commands here add keybindings, arguments from the cursor and a status bar
// item with the current position. Skeleton: not built or tested in CI.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, ExecuteCommandRequest } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;

interface Position { time: string; uri: string; line: number; function: string; locals?: Record<string, string>; }

function show(p: Position | undefined) {
  if (!p || !p.time) return;
  status.text = `$(history) ${p.function}:${p.line + 1} @${p.time}`;
  status.show();
}

async function run(command: string, arg?: unknown): Promise<void> {
  if (!client) { vscode.window.showWarningMessage('timelens: no session; run "timelens: Record and Start"'); return; }
  try {
    const p = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: arg === undefined ? [] : [arg] });
    show(p as Position);
  } catch (e: any) {
    vscode.window.showWarningMessage(`timelens: ${e?.message ?? e}`);
  }
}

function cursor(): { uri: string; line: number; character: number } | undefined {
  const ed = vscode.window.activeTextEditor;
  if (!ed) return undefined;
  return { uri: ed.document.uri.toString(), line: ed.selection.active.line, character: ed.selection.active.character };
}

async function start(program?: string) {
  const cfg = vscode.workspace.getConfiguration('timelens');
  program = program ?? vscode.window.activeTextEditor?.document.uri.fsPath;
  if (!program) { vscode.window.showErrorMessage('timelens: open the program first'); return; }
  await client?.stop();
  const args = ['lsp', '--backend', cfg.get<string>('backend', 'gdb')];
  const from = cfg.get<string>('recordFrom', ''); if (from) args.push('--record-from', from);
  const py = cfg.get<string>('python', ''); if (py) args.push('--python', py);
  args.push('--', program);
  const serverOptions: ServerOptions = { command: cfg.get<string>('path', 'timelens'), args };
  const clientOptions: LanguageClientOptions = { documentSelector: [{ scheme: 'file', language: 'python' }] };
  client = new LanguageClient('timelens', 'timelens', serverOptions, clientOptions);
  await client.start();
  status.text = '$(history) timelens: recording…'; status.show();
  run('timelens.where');
}

export function activate(ctx: vscode.ExtensionContext) {
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  status.command = 'timelens.ui.where';
  ctx.subscriptions.push(status);
  const reg = (name: string, fn: (...a: any[]) => any) => ctx.subscriptions.push(vscode.commands.registerCommand(name, fn));
  reg('timelens.start', () => start());
  reg('timelens.stop', async () => { await client?.stop(); client = undefined; status.hide(); });
  for (const c of ['where', 'step', 'reverseStep', 'next', 'reverseNext', 'finish', 'reverseFinish']) {
    reg(`timelens.ui.${c}`, () => run(`timelens.${c}`));
  }
  reg('timelens.ui.gotoEntry', () => { const c = cursor(); return run('timelens.gotoEntry', c && { uri: c.uri, line: c.line }); });
  reg('timelens.ui.previousCall', () => { const c = cursor(); return c && run('timelens.previousCall', { uri: c.uri, line: c.line }); });
  reg('timelens.ui.nextCall', () => { const c = cursor(); return c && run('timelens.nextCall', { uri: c.uri, line: c.line }); });
  reg('timelens.ui.lastWrite', () => { const c = cursor(); return c && run('timelens.lastWrite', { uri: c.uri, position: { line: c.line, character: c.character } }); });
}

export function deactivate() { return client?.stop(); }
