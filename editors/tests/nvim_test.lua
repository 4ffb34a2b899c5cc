-- Headless Neovim test of editors/nvim against a real `timelens lsp`
-- session on testdata/programs/loop.py. Run by scripts/editor-tests:
--
--   nvim --headless --clean --cmd 'set rtp^=REPO/editors/nvim' -c 'luafile THIS'
--
-- Environment: TIMELENS_REPO (checkout), TIMELENS_BIN (the binary),
-- TIMELENS_PYTHON (interpreter). Prints `ok - …` / `not ok - …` lines on
-- stdout and quits with status 1 when a check failed.
local repo = os.getenv('TIMELENS_REPO') or '/work/main'
local bin = os.getenv('TIMELENS_BIN') or (repo .. '/bin/timelens')
local python = os.getenv('TIMELENS_PYTHON') or 'python3.13'
local prog = repo .. '/testdata/programs/loop.py'
local wait_ms = tonumber(os.getenv('TIMELENS_WAIT_MS') or '') or 30000

local passed, failed = 0, 0
local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end
local function check(name, ok, detail)
  if ok then
    passed = passed + 1
    out('ok - nvim: ' .. name)
  else
    failed = failed + 1
    out('not ok - nvim: ' .. name .. (detail and (': ' .. tostring(detail)) or ''))
  end
  return ok
end
local function finish()
  out(('nvim: %d passed, %d failed'):format(passed, failed))
  vim.cmd((failed > 0 or passed == 0) and 'cquit 1' or 'qall!')
end
local function fatal(name, detail)
  check(name, false, detail)
  finish()
end

-- The line (1-based) of loop.py whose text matches pat.
local lines = vim.fn.readfile(prog)
local function line_of(pat)
  for i, l in ipairs(lines) do
    if l:find(pat, 1, true) then
      return i
    end
  end
  error('no line ' .. pat)
end

-- A tall window, so that inlay hints of the whole file are requested.
vim.o.lines = 60
vim.o.columns = 200

local tl = require('timelens')
tl.setup({ cmd = { bin }, record_from = 'main', python = python, keymaps = true, log = os.getenv('TIMELENS_LOG'),
  extra_args = os.getenv('TIMELENS_LOG') and { '--log-level', 'debug' } or nil })
check('setup made the commands', vim.fn.exists(':TimelensStep') == 2 and vim.fn.exists(':TimelensStart') == 2)

vim.cmd.edit(prog)
local buf = vim.api.nvim_get_current_buf()
check('loop.py is a python buffer', vim.bo[buf].filetype == 'python', vim.bo[buf].filetype)
vim.cmd('TimelensStart')

local attached = vim.wait(wait_ms, function()
  local c = tl.client()
  return c ~= nil and c.initialized and vim.lsp.buf_is_attached(buf, c.id)
end, 50)
if not check('the server started and attached', attached) then
  return finish()
end
local client = tl.client()
check('inlay hints are enabled', vim.lsp.inlay_hint.is_enabled({ bufnr = buf }))
local nvim011 = vim.fn.has('nvim-0.11') == 1
if nvim011 then
  -- 0.11+: the session is the public `timelens` configuration, enabled for
  -- Python buffers.
  local cfg = vim.lsp.config.timelens or {}
  check('0.11+: the session is vim.lsp.config.timelens (its cmd runs the program)',
    vim.deep_equal(cfg.cmd, client.config.cmd) and vim.tbl_contains(cfg.cmd or {}, prog), vim.inspect(cfg.cmd))
  check('0.11+: vim.lsp.enable(\'timelens\') is on', vim.lsp.is_enabled == nil or vim.lsp.is_enabled('timelens'))
end

-- Run a command and wait for its answer; returns err, result.
local function run(fn, ...)
  local done, e, r = false, nil, nil
  local args = { ... }
  table.insert(args, function(err, res)
    done, e, r = true, err, res
  end)
  if not fn(unpack(args)) then
    return { message = 'not sent' }, nil
  end
  if not vim.wait(wait_ms, function()
    return done
  end, 20) then
    return { message = 'no answer in ' .. wait_ms .. ' ms' }, nil
  end
  return e, r
end

-- The first answer waits for the recording.
local t0 = vim.uv.hrtime()
local err, pos = run(tl.where)
if not check('timelens.where answers', err == nil and pos ~= nil, err and err.message) then
  return finish()
end
out(('# recording + first position: %.1f s'):format((vim.uv.hrtime() - t0) / 1e9))
local first = line_of('acct = Account("ada")')
check('starts at the first line of main', pos['function'] == 'main' and pos.line == first - 1, vim.inspect(pos))
check('statusline shows function and line', tl.statusline():find('main:' .. first, 1, true) ~= nil, tl.statusline())

-- Back from the start of history: refused, time does not move.
err = run(tl.reverseStep)
check('reverseStep at the start is refused with a message', err ~= nil and (err.message or '') ~= '', vim.inspect(err))
check('and the position is unchanged', tl.state.position.time == pos.time)

-- Step into Account.__init__ via the Ex command, then back.
vim.cmd('TimelensStep')
vim.wait(wait_ms, function()
  return tl.state.pending == 0
end, 20)
local p = tl.state.position
check(':TimelensStep enters Account.__init__', p['function'] == 'Account.__init__' and p.line == line_of('self.owner = owner') - 1, vim.inspect(p))
local cursor_ok = vim.wait(5000, function()
  return vim.api.nvim_win_get_cursor(0)[1] == line_of('self.owner = owner')
end, 20)
check('window/showDocument moved the cursor to the current line', cursor_ok, vim.inspect(vim.api.nvim_win_get_cursor(0)))
vim.cmd('TimelensReverseStep')
vim.wait(wait_ms, function()
  return tl.state.pending == 0
end, 20)
p = tl.state.position
check(':TimelensReverseStep comes back to the same time', p.time == pos.time and p.line == first - 1, vim.inspect(p))

-- Through the loop, by steps over calls: 20 21 22 23 24 22 23 24 22 23.
for _ = 1, 9 do
  err = run(tl.next)
  if err then
    break
  end
end
check('nine :TimelensNext moves', err == nil, err and err.message)
p = tl.state.position
local body = line_of('total += i')
check('now in the loop body', p.line == body - 1 and p.locals and p.locals.i == '2', vim.inspect(p))

-- What the editor holds: inlay hints.
local forline = line_of('for i in range(5):')
local function hint_texts()
  local texts = {}
  for _, h in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
    local label = h.inlay_hint.label
    if type(label) == 'table' then
      local parts = {}
      for _, part in ipairs(label) do
        table.insert(parts, part.value)
      end
      label = table.concat(parts)
    end
    table.insert(texts, { line = h.inlay_hint.position.line, label = label })
  end
  return texts
end
local function has_hint(pat, line)
  for _, h in ipairs(hint_texts()) do
    if h.label:find(pat, 1, true) and (line == nil or h.line == line) then
      return true
    end
  end
  return false
end
local got = vim.wait(10000, function()
  return has_hint('i = 0 → 1 → 2', forline - 1)
end, 50)
check('inlay hint on the for line holds the loop history i = 0 → 1 → 2', got, vim.inspect(hint_texts()))
check('inlay hint for total on its line', has_hint('total = ', body - 1), vim.inspect(hint_texts()))
check('inlay hint for acct on its line', has_hint("acct = Account(owner='ada'", first - 1), vim.inspect(hint_texts()))

-- Code lenses: the server asked for a refresh (workspace/codeLens/refresh).
-- The lenses Neovim holds for the buffer (0.12: get{bufnr} gives {lens = …}).
local function lenses()
  if vim.fn.has('nvim-0.12') == 0 then
    return vim.lsp.codelens.get(buf)
  end
  return vim.tbl_map(function(r)
    return r.lens
  end, vim.lsp.codelens.get({ bufnr = buf }))
end
local function lens_on(line, command)
  for _, l in ipairs(lenses()) do
    if l.range.start.line == line and l.command and l.command.command == command then
      return true
    end
  end
  return false
end
got = vim.wait(10000, function()
  return lens_on(body - 1, 'timelens.step') and lens_on(body - 1, 'timelens.reverseStep')
end, 50)
check('code lenses: step ▶ and ◀ step back on the current line', got, vim.inspect(lenses()))
check('code lenses: previous/next call on def main', lens_on(line_of('def main():') - 1, 'timelens.nextCall'))

-- The current-line Hint diagnostic.
got = vim.wait(5000, function()
  for _, d in ipairs(vim.diagnostic.get(buf, { severity = vim.diagnostic.severity.HINT })) do
    if d.lnum == body - 1 then
      return true
    end
  end
  return false
end, 50)
check('a Hint diagnostic marks the current line', got, vim.inspect(vim.diagnostic.get(buf)))

-- Hover on `total` in `total += i`.
local col = lines[body]:find('total', 1, true) - 1
local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = { line = body - 1, character = col },
}, 10000)
local hover = ''
for _, r in pairs(res or {}) do
  if r.result and r.result.contents then
    local c = r.result.contents
    hover = type(c) == 'table' and (c.value or vim.inspect(c)) or tostring(c)
  end
end
check('hover on total shows its current value ' .. tostring(p.locals and p.locals.total),
  p.locals and hover:find(p.locals.total, 1, true) ~= nil and hover:find('total', 1, true) ~= nil, hover)

-- :TimelensLastWrite at the cursor (on `total`): goes back to where total
-- was last assigned.
vim.api.nvim_win_set_cursor(0, { body, col + 1 })
err, p = run(tl.lastWrite)
check(':TimelensLastWrite on total moves to an assignment of total',
  err == nil and p and (p.line == body - 1 or p.line == line_of('total = 0') - 1), vim.inspect(err or p))

-- :TimelensNextWrite on total from there: the loop's line writes it next
-- (total = 0 + 0 is no write); then back to where lastWrite went.
local back = p
vim.api.nvim_win_set_cursor(0, { body, col + 1 })
err, p = run(tl.nextWrite)
check(':TimelensNextWrite on total moves to the loop line that writes total',
  err == nil and p and p.line == body - 1, vim.inspect(err or p))
if back and back.time then
  run(tl.goto_time, back.time)
end

-- Calls: next call of Account.deposit, then back to the entry of main.
err, p = run(tl.nextCall, 'Account.deposit')
check(':TimelensNextCall Account.deposit', err == nil and p and p['function'] == 'Account.deposit', vim.inspect(err or p))
err, p = run(tl.reverseFinish)
check(':TimelensReverseFinish returns to the call in main', err == nil and p and p['function'] == 'main', vim.inspect(err or p))

-- The hints follow the moves (workspace/inlayHint/refresh). lastWrite went
-- back to the i = 1 iteration, nextCall/reverseFinish stayed there, and
-- :TimelensNext over the deposit call reaches the for line, whose latest
-- execution before now assigned i = 1: the history shrank from 0 → 1 → 2.
for _ = 1, 3 do
  err, p = run(tl.next)
  if err or (p and p.line == forline - 1) then
    break
  end
end
check(':TimelensNext reaches the for line again', err == nil and p and p.line == forline - 1, vim.inspect(err or p))
got = vim.wait(10000, function()
  return has_hint('i = 0 → 1 (2×)', forline - 1) and not has_hint('i = 0 → 1 → 2', forline - 1)
end, 50)
check('hints refreshed after the moves: now i = 0 → 1 (2×)', got, vim.inspect(hint_texts()))
vim.wait(500)

-- Edits during the session: two lines typed above def main move main's
-- hints, its lenses and the current line down with the code; the line the
-- user changes loses its hint, the others keep theirs; undo brings back
-- the text that ran and everything where it was.
do
  local function flat(x)
    return vim.inspect(x, { newline = ' ', indent = '' })
  end
  local main_def = line_of('def main():')
  local function now(l) -- a 1-based line of loop.py, 0-based in the edited buffer
    return l - 1 + 2
  end
  vim.api.nvim_buf_set_lines(buf, main_def - 1, main_def - 1, false, { '# typed during the session', '# (two lines)' })
  got = vim.wait(10000, function()
    return has_hint('i = 0 → 1 (2×)', now(forline)) and has_hint("acct = Account(owner='ada'", now(first))
  end, 50)
  check('edit: two lines typed above def main move its hints down with the code', got, flat(hint_texts()))
  got = vim.wait(10000, function()
    return lens_on(now(forline), 'timelens.step') and lens_on(now(main_def), 'timelens.nextCall')
  end, 50)
  check('edit: the current-line and def lenses moved with it', got, flat(vim.lsp.codelens.get(buf)))
  got = vim.wait(5000, function()
    for _, d in ipairs(vim.diagnostic.get(buf, { severity = vim.diagnostic.severity.HINT })) do
      if d.lnum == now(forline) then
        return true
      end
    end
    return false
  end, 50)
  check('edit: the Hint diagnostic marks the current line where it is now', got, flat(vim.diagnostic.get(buf)))
  err, p = run(tl.where)
  check('edit: timelens.where gives the current line as the buffer has it', err == nil and p and p.line == now(forline), flat(err or p))
  err, p = run(tl.next)
  check('edit: :TimelensNext reaches total += i as the buffer has it', err == nil and p and p.line == now(body), flat(err or p))
  got = vim.wait(5000, function()
    return vim.api.nvim_win_get_cursor(0)[1] == now(body) + 1
  end, 20)
  check('edit: window/showDocument moved the cursor there', got, flat(vim.api.nvim_win_get_cursor(0)))

  vim.api.nvim_buf_set_lines(buf, now(forline), now(forline) + 1, false, { '    for i in range(50):' })
  got = vim.wait(10000, function()
    return not has_hint('i = ', now(forline)) and has_hint('total = 0', now(line_of('total = 0')))
  end, 50)
  check('edit: the changed for line lost its hint, the lines around kept theirs', got, flat(hint_texts()))

  for _ = 1, 10 do
    if not vim.bo[buf].modified then
      break
    end
    vim.cmd('silent undo')
  end
  check('edit: undo brings back the text that ran', not vim.bo[buf].modified, flat(vim.api.nvim_buf_get_lines(buf, 0, 3, false)))
  -- (:TimelensNext above ran the for line once more: i = 2.)
  got = vim.wait(10000, function()
    return has_hint('i = 0 → 1 → 2 (3×)', forline - 1) and has_hint("acct = Account(owner='ada'", first - 1) and lens_on(body - 1, 'timelens.step')
  end, 50)
  check('edit: after undo the hints and lenses are where the recording has them', got, flat(hint_texts()) .. ' ' .. flat(vim.lsp.codelens.get(buf)))
end

-- Running to a line: Run to Cursor with a condition, Reverse Run to
-- Cursor, Run Back Until… (its prompt answered through vim.ui.input), the
-- picker over the runs of a line (vim.ui.select), their keymaps, and the
-- code actions of any line.
do
  local function flat(x)
    return vim.inspect(x, { newline = ' ', indent = '' })
  end
  check('keymaps: <leader>tr runs to the cursor, <leader>tu runs back until',
    vim.fn.maparg('<leader>tr', 'n'):find('TimelensRunToCursor', 1, true) ~= nil
      and vim.fn.maparg('<leader>tu', 'n'):find('TimelensRunBackUntil', 1, true) ~= nil, vim.fn.maparg('<leader>tr', 'n'))
  local dep = line_of('self.balance += amount')
  vim.api.nvim_win_set_cursor(0, { dep, 0 })
  err, p = run(tl.runToCursor, 'amount == 40')
  check('Run to Cursor where amount == 40 reaches deposit with amount 40',
    err == nil and p and p['function'] == 'Account.deposit' and p.line == dep - 1 and p.locals.amount == '40', flat(err or p))
  vim.api.nvim_win_set_cursor(0, { body, 0 })
  err, p = run(tl.reverseRunToCursor, 'i == 1')
  check('Reverse Run to Cursor where i == 1 reaches total += i with i = 1',
    err == nil and p and p.line == body - 1 and p.locals.i == '1', flat(err or p))
  local asked
  local input = vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    asked = opts.prompt
    on_confirm('i == 0')
  end
  -- Where the reverse run landed (its window/showDocument, which may come
  -- after an earlier move's on a loaded machine), then the cursor there.
  vim.wait(5000, function()
    return vim.api.nvim_win_get_cursor(0)[1] == body
  end, 50)
  vim.api.nvim_win_set_cursor(0, { body, 0 })
  -- No condition: runBackUntil asks for one (a nil in run's varargs would be lost).
  err, p = run(function(cb)
    return tl.runBackUntil(nil, cb)
  end)
  vim.ui.input = input
  check('Run Back Until… asks for the condition and runs back to i == 0',
    asked ~= nil and err == nil and p and p.line == body - 1 and p.locals.i == '0', flat({ asked, err or p }))
  local before = tl.state.position.time
  err = run(tl.reverseRunToCursor, 'i == 4')
  check('a run that finds nothing is refused with a message, time unchanged',
    err ~= nil and (err.message or ''):find('no earlier line event', 1, true) ~= nil and tl.state.position.time == before, flat(err))
  local shown
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    shown = vim.tbl_map(opts.format_item, items)
    on_choice(items[3], 3)
  end
  vim.api.nvim_win_set_cursor(0, { forline, 0 })
  err, p = run(tl.lineRuns)
  vim.ui.select = select
  check('the picker lists the 6 runs of the for line, with what each assigned',
    shown and #shown == 6 and shown[3]:find('i = 2', 1, true) ~= nil, flat(shown))
  check('the run picked is gone to: the for line before its third run, i = 1',
    err == nil and p and p.line == forline - 1 and p.locals.i == '1', flat(err or p))
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = dep - 1, character = 0 }, ['end'] = { line = dep - 1, character = 0 } },
    context = { diagnostics = {} },
  }, 10000)
  local titles = {}
  for _, r in pairs(res or {}) do
    for _, a in ipairs(r.result or {}) do
      table.insert(titles, a.title)
    end
  end
  check('code actions on any line offer running back and forward to it',
    vim.tbl_contains(titles, 'timelens: ◀ run back to here') and vim.tbl_contains(titles, 'timelens: run forward to here ▶'), flat(titles))
  -- One bytecode instruction forward and back: the same time again.
  local at = tl.state.position.time
  local e1, p1 = run(tl.stepInstruction)
  local e2, p2 = run(tl.reverseStepInstruction)
  check('an instruction step and its reverse come back to the same time',
    e1 == nil and e2 == nil and p1 and p2 and p1.time ~= at and p2.time == at, flat({ at, e1 or p1 and p1.time, e2 or p2 and p2.time }))
  local win = vim.api.nvim_get_current_win()
  err = run(tl.bytecode)
  local shown_lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local current = vim.tbl_filter(function(l)
    return l:find('-->', 1, true) ~= nil
  end, shown_lines)
  check(':TimelensBytecode shows the frame\'s instructions in a split, one marked current',
    err == nil and vim.api.nvim_get_current_win() ~= win and #current == 1 and vim.api.nvim_buf_get_name(0):find('timelens://bytecode/', 1, true) ~= nil,
    flat(err or shown_lines))
  if vim.api.nvim_get_current_win() ~= win then
    vim.cmd('close')
  end
end

t0 = vim.uv.hrtime()
vim.cmd('TimelensStop')
local budget = tonumber(os.getenv('TIMELENS_EXIT_BUDGET_S') or '') or 5
local stopped = vim.wait(budget * 1000 + 500, function()
  if nvim011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end, 50)
local took = (vim.uv.hrtime() - t0) / 1e9
check(('the server process ends within %d s of :TimelensStop (shutdown + exit)'):format(budget), stopped and took <= budget, ('took %.1f s'):format(took))
out(('# shutdown took %.1f s'):format((vim.uv.hrtime() - t0) / 1e9))
finish()
