// editors/tests/vscode_test.js: the timelens extension in real VS Code
// (code-server), driven in Debian's chromium by playwright-core. Run by
// scripts/vscode-e2e, which starts code-server with the .vsix installed and
// timelens.path pointing at the test root:
//
//   node vscode_test.js URL SCREENSHOT CHROMIUM_PROFILE_DIR [DEBUG_SCREENSHOT]
//
// It opens testdata/programs/loop.py, runs "Timelens: Start" from the command
// palette, moves with the extension's commands and keys, and checks what the
// page shows. Then VS Code's debugger on the launch.json of
// testdata/programs: its own `timelens dap` session (record from fib), then
// one joined to the language server's session; the toolbar's Step Over, Step
// Into, Step Back, Continue and Reverse, a breakpoint, and what the Call
// Stack and Variables panes show, against sys.settrace. Prints `ok - …` / `not ok - …` lines, then `N passed, M failed`;
// exit status 1 when a check failed.
'use strict';
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const { execFileSync } = require('node:child_process');

const [url, screenshot, profile, debugScreenshot] = process.argv.slice(2);
// TIMELENS_VSCODE_ONLY=lsp|debug runs one part (default: both).
const only = process.env.TIMELENS_VSCODE_ONLY || '';
// Generous: a loaded 2-core machine records loop.py in 5 to 40 s.
const WAIT_MS = Number(process.env.TIMELENS_WAIT_MS || 120000);
let passed = 0;
let failed = 0;

function check(name, ok, shown) {
  if (ok) {
    passed++;
    console.log(`ok - vscode: ${name}`);
  } else {
    failed++;
    console.log(`not ok - vscode: ${name}`);
    if (shown !== undefined) console.log(`# the page shows: ${shown}`);
  }
  return ok;
}

// The page as text: the editor's lines (spaces are U+00A0 there; inlay hints
// are part of the line's text), the code lenses, the status bar, the hover.
async function lines(page) {
  return page.$$eval('.monaco-editor .view-line', (els) => els
    .map((e) => ({ top: parseFloat(e.style.top) || 0, text: e.textContent.replace(/\u00a0/g, ' ') }))
    .sort((a, b) => a.top - b.top).map((l) => l.text));
}
async function lenses(page) {
  return page.$$eval('.codelens-decoration', (els) => els.map((e) => e.textContent.replace(/\u00a0/g, ' ')));
}
async function statusItem(page, id) {
  const el = await page.$(`[id="${id}"]`);
  return el ? (await el.textContent()).trim() : '(no such status bar item)';
}
const timelensStatus = (page) => statusItem(page, 'timelens.timelens.timelens.status');
const cursorStatus = (page) => statusItem(page, 'status.editor.selection');

// until(page, probe, pred, ms): polls probe(page) until pred(value) holds,
// for ms (default WAIT_MS) at most; returns the last value.
async function until(page, probe, pred, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let v = await probe(page);
  while (!pred(v) && Date.now() < end) {
    await page.waitForTimeout(250);
    v = await probe(page);
  }
  return v;
}

// shown(locator, what): waits for an element, or fails saying what did not show.
async function shown(locator, what) {
  try {
    await locator.first().waitFor({ timeout: WAIT_MS });
  } catch {
    throw new Error(`${what} did not show within ${WAIT_MS / 1000} s`);
  }
}

// palette(page, title): runs a command by its title from the command palette
// (F1), after checking that the entry is the one asked for.
async function palette(page, title) {
  await page.keyboard.press('F1');
  await shown(page.locator('.quick-input-widget:not([style*="display: none"]) input'), 'the command palette (F1)');
  await page.keyboard.type(title);
  // The entry whose label is title (the palette may focus another that
  // matches, a recently used one first: "Reverse Run to Cursor" for "Run to
  // Cursor").
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const labels = async () => (await rows.locator('.label-name').allTextContents()).map((t) => t.replace(/\u00a0/g, ' '));
  const fits = (t) => t === title || t.startsWith(`${title} (`);
  const seen = await until(page, labels, (ls) => ls.some(fits));
  const i = seen.findIndex(fits);
  if (i < 0) {
    await page.keyboard.press('Escape');
    throw new Error(`the command palette has no "${title}" (entries: ${seen.map((t) => `"${t}"`).join(', ') || 'none'})`);
  }
  await rows.nth(i).click();
}

// position(page): "function:line" of the status bar item ("main:23 @4711").
async function position(page) {
  const m = /(\S+:\d+) @(\S+)/.exec(await timelensStatus(page));
  return m ? { at: m[1], time: m[2] } : { at: '', time: '' };
}
// moved(page, at): whether the status bar comes to show function:line `at`.
async function moved(page, at) {
  return (await until(page, position, (p) => p.at === at)).at === at;
}

async function main() {
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  try {
    await session(page);
  } catch (e) {
    check(`the session went on to the end (${e.message.split('\n')[0]})`, false);
  } finally {
    // The page as the failure left it; on success, the one taken at the hover.
    // And its DOM beside it (.html), to see what a selector missed.
    if (failed) {
      await page.screenshot({ path: screenshot }).catch(() => {});
      await page.content().then((h) => require('node:fs').writeFileSync(screenshot.replace(/\.png$/, '') + '.html', h)).catch(() => {});
    }
    await browser.close();
  }
}

async function session(page) {
  await openLoop(page);
  if (only !== 'debug') await lspSession(page);
  if (only !== 'lsp') await debugSessions(page);
}

// openLoop opens the folder testdata/programs and loop.py in the editor.
async function openLoop(page) {
  await page.goto(url);
  await shown(page.locator('.monaco-workbench'), 'the VS Code workbench');
  console.log(`# ${await page.title()}`);

  // Open loop.py (Quick Open), once the explorer lists it: the workbench
  // takes keys from then on.
  await shown(page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'loop.py' }), 'loop.py in the explorer');
  await page.keyboard.press('Control+P');
  await shown(page.locator('.quick-input-widget input'), 'Quick Open (Ctrl+P)');
  await page.keyboard.type('loop.py');
  await shown(page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'loop.py' }), 'loop.py as the first match of Quick Open');
  await page.keyboard.press('Enter');
  let text = await until(page, lines, (ls) => ls.some((l) => l.startsWith('class Account:')));
  if (!check('loop.py is open in the editor', text.some((l) => l.startsWith('class Account:')), text.slice(0, 3).join(' | '))) {
    throw new Error('loop.py did not open');
  }
}

// lspSession: the language server's session, through the extension's
// commands, keys, lenses and hover.
async function lspSession(page) {
  let text;
  // Timelens: Start records loop.py (from main) and starts the server.
  const t0 = Date.now();
  await palette(page, 'Timelens: Start');
  let ls = await until(page, lenses, (l) => l.some((t) => t.includes('◀ step back')));
  console.log(`# Timelens: Start to the first lenses: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  check('code lenses on the current line: ◀ step back | step ▶ | ◀ next | next ▶ | ◀ caller | finish ▶',
    ls.includes('◀ step back | step ▶ | ◀ next | next ▶ | ◀ caller | finish ▶'), JSON.stringify(ls));
  check('code lenses on def main: entry | ◀ previous call | next call ▶', ls.includes('entry | ◀ previous call | next call ▶'), JSON.stringify(ls));
  check('code lenses on the other defs that ran: ◀ previous call | next call ▶',
    ls.filter((t) => t === '◀ previous call | next call ▶').length === 3, JSON.stringify(ls));
  let st = await until(page, timelensStatus, (s) => /main:20 @\S+/.test(s));
  check('the status bar item shows main:20 @TIME', /main:20 @\S+/.test(st), st);
  const start = await position(page);
  let cur = await until(page, cursorStatus, (s) => s.startsWith('Ln 20,'));
  check('the current line is shown: the cursor is on line 20', cur.startsWith('Ln 20,'), cur);

  // Step into Account.__init__ and back.
  await palette(page, 'Timelens: Step');
  check('Timelens: Step enters Account.__init__ (status bar)', await moved(page, 'Account.__init__:3'), await timelensStatus(page));
  cur = await until(page, cursorStatus, (s) => s.startsWith('Ln 3,'));
  check('the cursor follows to line 3 (window/showDocument)', cur.startsWith('Ln 3,'), cur);
  await palette(page, 'Timelens: Step Back');
  const back = await until(page, position, (p) => p.at === 'main:20');
  check('Timelens: Step Back returns to main:20 at the same time', back.at === 'main:20' && back.time === start.time,
    `${back.at} @${back.time}, started at @${start.time}`);

  // F10 (the extension's key for next) nine times: 21 22 23 24 22 23 24 22 23.
  for (let i = 0; i < 9; i++) {
    const before = (await position(page)).time;
    await page.keyboard.press('F10');
    await until(page, position, (p) => p.time !== before);
  }
  check('nine F10 (timelens.next) reach main:23', await moved(page, 'main:23'), await timelensStatus(page));
  const at23 = await position(page);
  // The hints, as drawn after each line's own text. VS Code cuts a hint at
  // 43 characters (editor.inlayHints.maximumLength): acct's ends in "…".
  const want = [
    ['    acct = Account("ada")', "acct = Account(owner='ada', "],
    ['    total = 0', 'total = 0'],
    ['    for i in range(5):', 'i = 0 → 1 → 2 (3×)'],
    ['        total += i', 'total = 1'],
  ];
  const drawn = (ls, line) => {
    const l = ls.find((t) => t.startsWith(line));
    return l === undefined ? '(line not shown)' : l.slice(line.length).trim();
  };
  const shows = (ls, line, hint) => hint.endsWith(' ') ? drawn(ls, line).startsWith(hint) : drawn(ls, line) === hint;
  text = await until(page, lines, (ls) => want.every(([line, hint]) => shows(ls, line, hint)));
  for (const [line, hint] of want) {
    check(`inlay hint after "${line.trim()}": ${hint}${hint.endsWith(' ') ? '…' : ''}`, shows(text, line, hint), drawn(text, line));
  }
  ls = await until(page, lenses, (l) => l.includes('◀ step back | step ▶ | ◀ next | next ▶ | ◀ caller | finish ▶'));
  check('the current line\'s lenses moved with it', ls.includes('◀ step back | step ▶ | ◀ next | next ▶ | ◀ caller | finish ▶'), JSON.stringify(ls));

  // Alt+F10 (the key for reverseNext) to the for line, F10 back to the same time.
  await page.keyboard.press('Alt+F10');
  check('Alt+F10 (timelens.reverseNext) goes back to main:22', await moved(page, 'main:22'), await timelensStatus(page));
  text = await until(page, lines, (ls) => drawn(ls, '    for i in range(5):') === 'i = 0 → 1 (2×)');
  check('the for line\'s hint went back with it: i = 0 → 1 (2×)', drawn(text, '    for i in range(5):') === 'i = 0 → 1 (2×)',
    drawn(text, '    for i in range(5):'));
  await page.keyboard.press('F10');
  const again = await until(page, position, (p) => p.at === 'main:23');
  check('F10 returns to main:23 at the same time', again.at === 'main:23' && again.time === at23.time,
    `${again.at} @${again.time}, was @${at23.time}`);
  text = await until(page, lines, (ls) => drawn(ls, '    for i in range(5):') === 'i = 0 → 1 → 2 (3×)');
  check('and the for line\'s hint with it: i = 0 → 1 → 2 (3×)', drawn(text, '    for i in range(5):') === 'i = 0 → 1 → 2 (3×)',
    drawn(text, '    for i in range(5):'));

  // Hover on `total` in `return total, …`: its value and its last write
  // (drawn above line 28, below the hints).
  await page.keyboard.press('Control+G');
  await page.keyboard.type('28:12');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  const hoverText = async () => {
    const h = await page.$('.monaco-hover:not(.hidden)');
    return h ? (await h.textContent()).replace(/\u00a0/g, ' ') : '';
  };
  const hover = await until(page, hoverText, (h) => h.includes('total = '));
  check('hover on total shows its value: total = 1', hover.includes('total = 1'), hover);
  check('and its last write: loop.py:23 in main', /Last write: .*loop\.py:23.* in main/.test(hover), hover);
  await page.screenshot({ path: screenshot });

  // The hover's link runs timelens.lastWrite: back to where total was set.
  const link = page.locator('.monaco-hover a', { hasText: 'go to last write' });
  if (check('the hover has the link "⏪ go to last write"', (await link.count()) > 0, hover)) {
    const before = await position(page);
    await link.first().click();
    const after = await until(page, position, (p) => p.time !== before.time);
    check('clicking it goes back to line 23 at an earlier time', after.at === 'main:23' && Number(after.time) < Number(before.time),
      `${after.at} @${after.time}, was ${before.at} @${before.time}`);
  }

  // Running to a line: Run to Cursor from the palette, Run Back Until… with
  // its condition typed in the input box, Ctrl+F10, and the picker over the
  // runs of a line.
  await page.keyboard.press('Escape');
  const goLine = async (n) => {
    await page.keyboard.press('Control+G');
    await page.keyboard.type(`${n}:1`);
    await page.keyboard.press('Enter');
    await until(page, cursorStatus, (s) => s.startsWith(`Ln ${n},`));
  };
  await goLine(8);
  await palette(page, 'Timelens: Run to Cursor');
  check('Timelens: Run to Cursor on line 8 reaches Account.deposit:8', await moved(page, 'Account.deposit:8'), await timelensStatus(page));
  await goLine(23);
  const beforeUntil = await position(page);
  await palette(page, 'Timelens: Run Back Until…');
  // The input box by its title: the palette's own box, still closing, would
  // take the keys to the editor.
  await shown(page.locator('.quick-input-widget:not([style*="display: none"]) .quick-input-title', { hasText: 'run back until' }),
    'the condition input box ("timelens: run back until")');
  await page.keyboard.type('i == 0');
  await page.keyboard.press('Enter');
  const until0 = await until(page, position, (p) => p.time !== beforeUntil.time);
  check('Timelens: Run Back Until… i == 0 goes back to main:23', until0.at === 'main:23' && Number(until0.time) < Number(beforeUntil.time),
    `${until0.at} @${until0.time}, was ${beforeUntil.at} @${beforeUntil.time}`);
  text = await until(page, lines, (ls) => drawn(ls, '    for i in range(5):') === 'i = 0');
  check('where i was 0: the for line\'s hint is i = 0', drawn(text, '    for i in range(5):') === 'i = 0', drawn(text, '    for i in range(5):'));
  await goLine(24);
  await page.keyboard.press('Control+F10');
  check('Ctrl+F10 (Run to Cursor) reaches main:24', await moved(page, 'main:24'), await timelensStatus(page));
  await goLine(23);
  await palette(page, 'Timelens: Runs of This Line…');
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const picked = await until(page, async () => (await rows.allTextContents()).map((t) => t.replace(/\u00a0/g, ' ')), (r) => r.length === 5);
  check('Timelens: Runs of This Line… lists the 5 runs of line 23 with what each assigned',
    picked.length === 5 && picked[2].includes('total = 3'), JSON.stringify(picked));
  const beforePick = await position(page);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const pick = await until(page, position, (p) => p.time !== beforePick.time);
  check('picking the third run goes to it: main:23', pick.at === 'main:23' && pick.time !== beforePick.time, `${pick.at} @${pick.time}`);

  // Timelens: Stop.
  await page.keyboard.press('Escape');
  await palette(page, 'Timelens: Stop');
  st = await until(page, timelensStatus, (s) => !/@/.test(s));
  check('Timelens: Stop: the status bar item is gone', !/@/.test(st), st);
}

// ---- VS Code's own debugger: the timelens debug type ----------------------
//
// testdata/programs/.vscode/launch.json holds one configuration, "timelens:
// record from fib". The expected frames and variables come from sys.settrace
// (testdata/oracle/settrace.py) over the same program in the same root, never
// from timelens; the moves follow CONTRACT.md: Step Over is the next line
// event in this frame or a caller, Step Into the next line event, Step Back
// Step Over backwards, Reverse the previous hit of a breakpoint (else the
// window's start).

// Trace is settrace.py's line events of loop.py from the first call of a
// function, with a current event, moved as the toolbar moves timelens.
class Trace {
  constructor(from) {
    const repo = process.env.TIMELENS_REPO;
    const out = execFileSync(`${repo}/scripts/sandbox`, ['run', '--', 'python3.13', `${repo}/testdata/oracle/settrace.py`,
      '--from', from, `${repo}/testdata/programs/loop.py`], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
    this.events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (this.events.length === 0) throw new Error(`settrace.py --from ${from} loop.py printed no line events`);
    this.i = 0;
  }
  get now() { return this.events[this.i]; }
  // frames: "function:line" of each frame of the window at the current
  // event, innermost first (settrace.py's depth counts from the window's base).
  frames() {
    const out = [];
    let d = this.now.depth;
    out.push(`${this.now.function}:${this.now.line}`);
    for (let k = this.i - 1; k >= 0 && d > 0; k--) {
      if (this.events[k].depth === d - 1) {
        out.push(`${this.events[k].function}:${this.events[k].line}`);
        d--;
      }
    }
    return out;
  }
  // move: 'next' (Step Over), 'step' (Step Into), backwards when reverse.
  move(kind, reverse) {
    const cur = this.now;
    const dir = reverse ? -1 : 1;
    for (let k = this.i + dir; k >= 0 && k < this.events.length; k += dir) {
      if (kind === 'step' || this.events[k].depth <= cur.depth) {
        this.i = k;
        return;
      }
    }
    throw new Error(`the settrace trace has no ${reverse ? 'previous' : 'next'} ${kind} from ${cur.function}:${cur.line}`);
  }
  // toLine: the next (previous when reverse) run of line in loop.py; the
  // window's start when reverse finds none.
  toLine(line, reverse) {
    const dir = reverse ? -1 : 1;
    for (let k = this.i + dir; k >= 0 && k < this.events.length; k += dir) {
      if (this.events[k].line === line && this.events[k].file.endsWith('/loop.py')) {
        this.i = k;
        return;
      }
    }
    if (!reverse) throw new Error(`the settrace trace has no run of line ${line} after ${this.now.function}:${this.now.line}`);
    this.i = 0;
  }
  // history: the values name took at each run of line (in the current
  // call) before now, as CONTRACT.md's inlay hint for a loop shows them:
  // "i = 0 → 1 (2×)" (one run: "i = 0").
  history(line, name) {
    const call = this.now.call;
    const vals = [];
    for (let k = 0; k < this.i; k++) {
      if (this.events[k].call !== call || this.events[k].line !== line) continue;
      for (let j = k + 1; j <= this.i; j++) {
        if (this.events[j].call === call) {
          vals.push(this.events[j].locals[name]);
          break;
        }
      }
    }
    return vals.length === 1 ? `${name} = ${vals[0]}` : `${name} = ${vals.join(' → ')} (${vals.length}×)`;
  }
}

// callStack: the Call Stack pane's frames as "function:line" (its rows are
// virtualised: DOM order is not screen order).
async function callStack(page) {
  return page.$$eval('.debug-call-stack .monaco-list-row', (els) => els
    .map((e) => ({ top: parseFloat(e.style.top) || 0, e }))
    .sort((a, b) => a.top - b.top)
    .map(({ e }) => {
      const f = e.querySelector('.stack-frame');
      if (!f) return null;
      const name = (f.querySelector('.label') || f).textContent.trim();
      const ln = f.querySelector('.line-number');
      return `${name}:${ln ? ln.textContent.trim().split(':')[0] : '?'}`;
    })
    .filter((x) => x !== null));
}

// locals: the Variables pane's Locals scope, {name: value}.
async function localsPane(page) {
  return page.$$eval('.debug-variables .monaco-list-row', (els) => {
    const out = {};
    let inLocals = false;
    const rows = els.map((e) => ({ top: parseFloat(e.style.top) || 0, e })).sort((a, b) => a.top - b.top);
    for (const { e } of rows) {
      const level = e.getAttribute('aria-level');
      if (level === '1') {
        inLocals = e.textContent.trim() === 'Locals';
        continue;
      }
      const n = e.querySelector('.name');
      if (level === '2' && inLocals && n) {
        const v = e.querySelector('.value');
        // The name is drawn with its separator ("n =").
        out[n.textContent.trim().replace(/\s*[=:]$/, '')] = v ? v.textContent : '';
      }
    }
    return out;
  });
}

const sameLocals = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
const showLocals = (o) => Object.entries(o).map(([k, v]) => `${k} = ${v}`).join(', ') || '(none)';

// toolbar(page, icon, label): clicks a button of the debug toolbar, or fails
// naming the buttons it has.
async function toolbar(page, icon, label) {
  await shown(page.locator('.debug-toolbar'), 'the debug toolbar');
  const b = page.locator(`.debug-toolbar .action-label.codicon-${icon}`);
  if ((await b.count()) === 0) {
    const have = await page.$$eval('.debug-toolbar .action-label', (els) => els.map((e) => e.getAttribute('aria-label') || e.title));
    throw new Error(`the debug toolbar has no ${label} button (it has: ${have.join(', ') || 'nothing'})`);
  }
  await b.first().click();
}

// stopsAt(page, trace, what, below): waits for the Call Stack pane to show
// the trace's frames (then `below`, the frames outside the window) and the
// Variables pane its locals; checks both.
async function stopsAt(page, trace, what, below = []) {
  const want = [...trace.frames(), ...below];
  const wantLocals = trace.now.locals;
  const fits = (st) => JSON.stringify(st.slice(0, want.length)) === JSON.stringify(want);
  const st = await until(page, callStack, fits);
  check(`${what}: the Call Stack shows ${want.join(' ← ')}`, fits(st), st.join(' ← ') || '(no frames)');
  const vars = await until(page, localsPane, (v) => sameLocals(v, wantLocals));
  check(`${what}: the Variables pane shows ${showLocals(wantLocals)}`, sameLocals(vars, wantLocals), showLocals(vars));
}

// startDebugging: the Run and Debug view's start button, on the
// launch.json configuration.
async function startDebugging(page) {
  await page.keyboard.press('Control+Shift+D');
  await shown(page.locator('.start-debug-action-item .codicon-debug-start'), 'the Run and Debug view\'s start button (Ctrl+Shift+D)');
  const cfg = (await page.locator('.start-debug-action-item-label').first().textContent().catch(() => '')) || '';
  check('the Run and Debug view offers the launch.json configuration "timelens: record from fib"',
    cfg.trim() === 'timelens: record from fib', cfg.trim() || '(no configuration)');
  await page.locator('.start-debug-action-item .codicon-debug-start').first().click();
}

// errorToasts: the error notifications shown (they stay until dismissed).
async function errorToasts(page) {
  return page.$$eval('.notifications-toasts .notification-list-item', (els) => els
    .filter((e) => e.querySelector('.codicon-error'))
    .map((e) => (e.querySelector('.notification-list-item-message') || e).textContent.trim()));
}

// stopDebugging: no error was shown during the session; then the toolbar's
// Stop, and waits for the toolbar to go.
async function stopDebugging(page) {
  const errs = await errorToasts(page);
  check('no error notification during the debug session', errs.length === 0, errs.join(' | '));
  await toolbar(page, 'debug-stop', 'Stop');
  const gone = await until(page, async () => (await page.locator('.debug-toolbar:visible').count()) === 0, (g) => g);
  check('Stop ends the debug session (the toolbar goes)', gone);
}

// goLine: the cursor to line n (Ctrl+G).
async function goLine(page, n) {
  await page.keyboard.press('Control+G');
  await page.keyboard.type(`${n}:1`);
  await page.keyboard.press('Enter');
  await until(page, cursorStatus, (s) => s.startsWith(`Ln ${n},`));
}

// hintAfter: the inlay hint drawn after a line's own text.
async function hintAfter(page, line) {
  const l = (await lines(page)).find((t) => t.startsWith(line));
  return l === undefined ? '(line not shown)' : l.slice(line.length).trim();
}

async function debugSessions(page) {
  await debugOwnSession(page);
  await debugJoinedSession(page);
}

// debugOwnSession: no language server runs, so the debugger starts
// `timelens dap`, which records loop.py from the first call of fib as
// launch.json says.
async function debugOwnSession(page) {
  const fib = new Trace('fib');
  const below = ['main:25', '<module>:31']; // outside the window: main calls fib(4) on line 25
  const t0 = Date.now();
  await startDebugging(page);
  await stopsAt(page, fib, 'F5 stops at the start of the window', below);
  console.log(`# start debugging to the first stop: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const [icon, label] of [['debug-step-back', 'Step Back'], ['debug-reverse-continue', 'Reverse']]) {
    check(`the debug toolbar has the ${label} button`, (await page.locator(`.debug-toolbar .action-label.codicon-${icon}`).count()) > 0,
      (await page.$$eval('.debug-toolbar .action-label', (els) => els.map((e) => e.getAttribute('aria-label') || e.title))).join(', '));
  }
  const steps = [
    ['debug-step-over', 'Step Over', 'next', false],
    ['debug-step-into', 'Step Into', 'step', false],
    ['debug-step-into', 'Step Into', 'step', false],
    ['debug-step-into', 'Step Into', 'step', false],
    ['debug-step-back', 'Step Back', 'next', true],
  ];
  for (const [icon, label, kind, reverse] of steps) {
    await toolbar(page, icon, label);
    fib.move(kind, reverse);
    await stopsAt(page, fib, label, below);
  }
  // Reverse without a breakpoint: back to the window's start.
  await toolbar(page, 'debug-reverse-continue', 'Reverse');
  fib.i = 0;
  await stopsAt(page, fib, 'Reverse without breakpoints goes back to the start', below);

  // A breakpoint on `return n` (line 15): Continue twice, Step Over, then
  // Reverse stops at its previous hits.
  const dots = page.locator('.monaco-editor .glyph-margin-widgets .codicon-debug-breakpoint');
  await page.locator('.monaco-editor .view-line', { hasText: 'return n' }).first().click();
  await goLine(page, 15);
  await palette(page, 'Debug: Toggle Breakpoint');
  await shown(dots, 'the breakpoint on line 15 (its dot in the editor\'s margin)');
  await toolbar(page, 'debug-continue', 'Continue');
  fib.toLine(15, false);
  await stopsAt(page, fib, 'Continue stops at the breakpoint on line 15', below);
  await toolbar(page, 'debug-continue', 'Continue');
  fib.toLine(15, false);
  await stopsAt(page, fib, 'Continue again: its next hit', below);
  await toolbar(page, 'debug-step-over', 'Step Over');
  fib.move('next', false);
  await stopsAt(page, fib, 'Step Over from return n', below);
  await toolbar(page, 'debug-reverse-continue', 'Reverse');
  fib.toLine(15, true);
  await stopsAt(page, fib, 'Reverse stops at the breakpoint\'s previous hit', below);
  await toolbar(page, 'debug-reverse-continue', 'Reverse');
  fib.toLine(15, true);
  await stopsAt(page, fib, 'Reverse again: the hit before', below);
  // The breakpoint off again (F9 on the same line), then Stop.
  await goLine(page, 15);
  await palette(page, 'Debug: Toggle Breakpoint');
  check('Debug: Toggle Breakpoint again: the dot is gone', (await until(page, () => dots.count(), (n) => n === 0)) === 0);
  await stopDebugging(page);
}

// debugJoinedSession: with the language server running (Timelens: Start,
// recording from main as the settings say), the debugger joins its session:
// the toolbar moves the inlay hints and the status bar, and a move of the
// language server moves the debugger.
async function debugJoinedSession(page) {
  const tm = new Trace('main');
  const below = ['<module>:31'];
  await palette(page, 'Timelens: Start');
  check('Timelens: Start: the status bar item shows main:20', await moved(page, 'main:20'), await timelensStatus(page));
  await startDebugging(page);
  await stopsAt(page, tm, 'joining the language server\'s session: the debugger stops where it is', below);
  // Step Over six times: 21 22 23 24 22 23 (the second run of the loop).
  const step = async (icon, label, kind, reverse, what) => {
    await toolbar(page, icon, label);
    tm.move(kind, reverse);
    await stopsAt(page, tm, what, below);
  };
  const forLine = '    for i in range(5):';
  const followed = async (what) => {
    const at = `${tm.now.function}:${tm.now.line}`;
    check(`${what}: the status bar follows the debugger to ${at}`, await moved(page, at), await timelensStatus(page));
    const want = tm.history(22, 'i');
    const h = await until(page, () => hintAfter(page, forLine), (x) => x === want);
    check(`${what}: the for line's inlay hint is ${want}`, h === want, h);
  };
  for (let n = 1; n <= 6; n++) await step('debug-step-over', 'Step Over', 'next', false, `Step Over (${n})`);
  await followed('six Step Overs');
  for (let n = 7; n <= 9; n++) await step('debug-step-over', 'Step Over', 'next', false, `Step Over (${n})`);
  await followed('three more');
  await step('debug-step-back', 'Step Back', 'next', true, 'Step Back');
  await followed('Step Back');
  if (debugScreenshot) {
    await page.mouse.move(1, 1);
    await page.screenshot({ path: debugScreenshot });
  }
  // Step Into Account.deposit, then a language server move (Timelens: Step
  // Back from the palette): the debugger's Call Stack follows.
  await step('debug-step-over', 'Step Over', 'next', false, 'Step Over');
  await step('debug-step-over', 'Step Over', 'next', false, 'Step Over');
  await step('debug-step-into', 'Step Into', 'step', false, 'Step Into');
  check('Step Into: the status bar follows to Account.deposit:8', await moved(page, 'Account.deposit:8'), await timelensStatus(page));
  await palette(page, 'Timelens: Step Back');
  tm.move('step', true);
  await stopsAt(page, tm, 'Timelens: Step Back (the language server\'s command) moves the debugger', below);
  await stopDebugging(page);
  // The language server stops as well after its debugger went (it waits
  // for no one).
  await palette(page, 'Timelens: Stop');
  const st = await until(page, timelensStatus, (s) => !/@/.test(s));
  check('Timelens: Stop after the debugger: the status bar item is gone', !/@/.test(st), st);
}

main().then(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}, (e) => {
  console.log(`not ok - vscode: ${e.message}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
