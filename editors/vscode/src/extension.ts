// timelens for VS Code: starts `timelens lsp` on vscode-languageclient.
// Inlay hints and code lenses come from the server. The server's navigation
// commands (timelens.step, …) are registered by the client from the
// server's executeCommandProvider; the middleware below fills in their
// arguments from the cursor (lastWrite, nextWrite, gotoEntry, previousCall, nextCall),
// asks for a time (goto) and shows the returned position in the status bar.
// Until a session runs, the same command names start one first.
//
// The `timelens` debug type (launch.json) gives VS Code's own debugger the
// same recording, Step Back and Reverse included: while the language server
// runs, the debugger joins its session on the port timelens.debugAdapter
// opens (one gdb; the toolbar moves the hints, a lens moves the debugger);
// otherwise it starts `timelens dap`, which records what launch.json says.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';
import {
  NAVIGATION_COMMANDS, UNTIL_COMMANDS, Settings, Cursor, launch, findExecutable, commandArguments, gotoArguments,
  isPosition, statusText, statusTooltip, MissingProgramError, untilArguments, isLineRuns, runItems,
  debugLaunch, defaultDebugConfiguration, isDebugAdapterAddress, isInstructions, bytecodeText, isStoppedEvent,
} from './logic';

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let fallbacks: vscode.Disposable[] = [];
let lastTime = '';
// The debug sessions that joined the language server's session (by id).
const joined = new Set<string>();

function settings(): Settings {
  const c = vscode.workspace.getConfiguration('timelens');
  return {
    path: c.get<string>('path', 'timelens'),
    backend: c.get<string>('backend', ''),
    recording: c.get<string>('recording', ''),
    program: c.get<string>('program', ''),
    args: c.get<string[]>('args', []),
    recordFrom: c.get<string>('recordFrom', ''),
    python: c.get<string>('python', ''),
    extraArgs: c.get<string[]>('extraArgs', []),
  };
}

function cursor(): Cursor | undefined {
  const ed = vscode.window.activeTextEditor;
  if (!ed) return undefined;
  return { uri: ed.document.uri.toString(), line: ed.selection.active.line, character: ed.selection.active.character };
}

function show(result: unknown): void {
  if (!isPosition(result)) return;
  lastTime = result.time;
  status.text = statusText(result);
  status.tooltip = statusTooltip(result);
  status.show();
}

// pickRun shows the runs of a line (timelens.lineRuns) in a quick pick and
// goes to the one chosen.
async function pickRun(runs: import('./logic').LineRun[]): Promise<void> {
  if (runs.length === 0) {
    vscode.window.showInformationMessage('timelens: this line did not run in the recorded window');
    return;
  }
  const pick = await vscode.window.showQuickPick(runItems(runs), {
    title: `timelens: the ${runs.length} runs of this line`, placeHolder: 'Go to a run of this line', matchOnDescription: true,
  });
  if (pick) await vscode.commands.executeCommand('timelens.goto', { time: pick.time });
}

// showBytecode opens timelens.disassemble's result beside the source, as
// dis prints it (the current instruction marked -->).
async function showBytecode(instrs: import('./logic').Instruction[]): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: bytecodeText(instrs), language: 'plaintext' });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true });
}

// runUntil asks for a condition, then runs to the cursor line (back or
// forward) through the server's command.
async function runUntil(serverCommand: string): Promise<unknown> {
  const c = cursor();
  if (!c) return undefined;
  const back = serverCommand === 'timelens.reverseRunToLine';
  const condition = await vscode.window.showInputBox({
    title: back ? 'timelens: run back until' : 'timelens: run forward until',
    prompt: `A Python condition evaluated in the frame that runs line ${c.line + 1}, e.g. balance < 0 (empty: the ${back ? 'previous' : 'next'} run)`,
  });
  if (condition === undefined) return undefined;
  return vscode.commands.executeCommand(serverCommand, ...untilArguments(c, condition));
}

async function setActive(active: boolean): Promise<void> {
  await vscode.commands.executeCommand('setContext', 'timelens.active', active);
}

// While no session runs, each navigation command starts one, then runs.
function registerFallbacks(): void {
  fallbacks = NAVIGATION_COMMANDS.map((name) => vscode.commands.registerCommand(name, async (...args: unknown[]) => {
    if (await start()) return vscode.commands.executeCommand(name, ...args);
    return undefined;
  }));
}

function disposeFallbacks(): void {
  for (const d of fallbacks) d.dispose();
  fallbacks = [];
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c && c.state !== State.Stopped) await c.stop();
  status.hide();
  lastTime = '';
  await setActive(false);
  if (fallbacks.length === 0) registerFallbacks();
}

/** start records the program (or opens the recording) and starts the server. */
async function start(): Promise<boolean> {
  await stop();
  const s = settings();
  const ed = vscode.window.activeTextEditor;
  const active = ed?.document.languageId === 'python' && ed.document.uri.scheme === 'file' ? ed.document.uri.fsPath : undefined;
  let l;
  try {
    l = launch(s, active);
    if (!l.args.includes('--') && !s.recording) throw new MissingProgramError();
    l.command = findExecutable(l.command);
  } catch (e) {
    vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    return false;
  }
  const serverOptions: ServerOptions = { command: l.command, args: l.args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'python' }],
    initializationOptions: l.initializationOptions,
    outputChannel: output,
    // The hover's "⏪ go to last write" and "⏩ go to next write" are
    // command links (command:timelens.lastWrite?…): trusted for those
    // commands alone, so that a click runs them.
    markdown: { isTrusted: { enabledCommands: ['timelens.lastWrite', 'timelens.nextWrite'] } },
    middleware: {
      executeCommand: async (command, given, next) => {
        let args = commandArguments(command, given, cursor());
        if (args === undefined) {
          const time = await vscode.window.showInputBox({
            title: 'timelens: go to time',
            prompt: 'A time as shown in the status bar (the "time" of a position)',
            value: lastTime,
          });
          if (!time) return undefined;
          args = gotoArguments(time);
        }
        try {
          const result = await next(command, args);
          show(result);
          if (command === 'timelens.lineRuns' && isLineRuns(result)) await pickRun(result);
          if (command === 'timelens.disassemble' && isInstructions(result)) await showBytecode(result);
          return result;
        } catch (e) {
          vscode.window.showWarningMessage(`${command}: ${e instanceof Error ? e.message : String(e)}`);
          return undefined;
        }
      },
    },
  };
  output.appendLine(`timelens: starting ${l.command} ${l.args.join(' ')}`);
  const c = new LanguageClient('timelens', 'timelens', serverOptions, clientOptions);
  disposeFallbacks();
  status.text = '$(sync~spin) timelens: recording…';
  status.tooltip = undefined;
  status.show();
  try {
    await c.start();
  } catch (e) {
    status.hide();
    registerFallbacks();
    vscode.window.showErrorMessage(`timelens: the server did not start: ${e instanceof Error ? e.message : String(e)} (see the "timelens" output)`);
    return false;
  }
  client = c;
  c.onDidChangeState((e) => { if (e.newState === State.Stopped && client === c) void stop(); });
  await setActive(true);
  show(await c.sendRequest('workspace/executeCommand', { command: 'timelens.where', arguments: [] }).catch(() => undefined));
  return true;
}

// debugAdapter is the adapter of a `timelens` debug session: the language
// server's session when one runs, else `timelens dap` of its own.
const debugAdapter: vscode.DebugAdapterDescriptorFactory = {
  async createDebugAdapterDescriptor(session): Promise<vscode.DebugAdapterDescriptor> {
    if (client && client.state === State.Running) {
      const addr = await client.sendRequest('workspace/executeCommand', { command: 'timelens.debugAdapter', arguments: [] });
      if (isDebugAdapterAddress(addr)) {
        output.appendLine(`timelens: the debugger joins the language server's session on ${addr.host}:${addr.port}`);
        joined.add(session.id);
        return new vscode.DebugAdapterServer(addr.port, addr.host);
      }
    }
    const l = debugLaunch(settings());
    return new vscode.DebugAdapterExecutable(findExecutable(l.command), l.args);
  },
};

// debugTracker keeps the status bar item with a debugger that joined the
// language server's session: after each of its stops, the server's position
// (the hints and lenses move through the server itself).
const debugTracker: vscode.DebugAdapterTrackerFactory = {
  createDebugAdapterTracker(session) {
    return {
      onDidSendMessage(m: unknown) {
        const c = client;
        if (!joined.has(session.id) || !isStoppedEvent(m) || !c || c.state !== State.Running) return;
        c.sendRequest('workspace/executeCommand', { command: 'timelens.where', arguments: [] }).then(show, () => undefined);
      },
      onExit() { joined.delete(session.id); },
      onWillStopSession() { joined.delete(session.id); },
    };
  },
};

// debugConfigurations makes F5 without a launch.json record the open file.
const debugConfigurations: vscode.DebugConfigurationProvider = {
  resolveDebugConfiguration(_folder, config) {
    if (config.type || config.request || config.name) return config;
    const ed = vscode.window.activeTextEditor;
    const file = ed?.document.uri.scheme === 'file' ? ed.document.uri.fsPath : undefined;
    const def = defaultDebugConfiguration(file);
    if (!def) {
      void vscode.window.showErrorMessage('timelens: open a Python file, or add a "timelens" launch configuration (program, recordFrom, or recording)');
      return undefined;
    }
    return def;
  },
};

/** activate registers the commands and the status bar item; a session starts on the first command. */
export function activate(ctx: vscode.ExtensionContext): void {
  output = vscode.window.createOutputChannel('timelens');
  status = vscode.window.createStatusBarItem('timelens.status', vscode.StatusBarAlignment.Left, 100);
  status.name = 'timelens';
  status.command = 'timelens.where';
  ctx.subscriptions.push(output, status,
    vscode.commands.registerCommand('timelens.start', () => start()),
    vscode.commands.registerCommand('timelens.stop', () => stop()),
    ...Object.entries(UNTIL_COMMANDS).map(([name, server]) => vscode.commands.registerCommand(name, () => runUntil(server))),
    vscode.debug.registerDebugAdapterDescriptorFactory('timelens', debugAdapter),
    vscode.debug.registerDebugConfigurationProvider('timelens', debugConfigurations),
    vscode.debug.registerDebugAdapterTrackerFactory('timelens', debugTracker),
    { dispose: disposeFallbacks });
  registerFallbacks();
}

/** deactivate stops the server. */
export async function deactivate(): Promise<void> {
  if (client && client.state !== State.Stopped) await client.stop();
  client = undefined;
}
