-- timelens.nvim: time-travel debugging of Python in Neovim 0.10+, on the
-- built-in LSP client. See editors/README.md.
--
-- On Neovim 0.11+ a session is an LSP configuration like any other:
-- :TimelensStart sets `vim.lsp.config('timelens', …)` (on top of the
-- editors/nvim/lsp/timelens.lua defaults and your own vim.lsp.config) and
-- `vim.lsp.enable('timelens')`, so every Python buffer joins it, and Neovim
-- refreshes code lenses when the server asks. A client started by your own
-- `vim.lsp.enable('timelens')` is the session too (LspAttach). Neovim 0.10
-- gets the same from vim.lsp.start and a code lens refresh handler. On every
-- version the plugin handles the inlay hint refresh (on_hint_refresh), with
-- public API only.
--
--   require('timelens').setup({
--     cmd = { 'timelens' },          -- the timelens executable (and leading args)
--     program = 'prog.py',           -- optional: what :TimelensStart runs by default
--     args = {},                     -- its arguments
--     record_from = 'main',          -- --record-from FUNC (gdb backend)
--     backend = nil,                 -- --backend gdb|rr|udb (nil: from the recording, else gdb)
--     python = nil,                  -- --python PATH
--     extra_args = {},               -- more flags for `timelens lsp`
--     init_options = nil,            -- LSP initializationOptions
--     keymaps = false,               -- true: the suggested keymaps (see M.keymaps)
--     autostart = false,             -- true: start for `program` on setup
--   })
--
-- :TimelensStart [program [args...]] starts `timelens lsp` for the current
-- buffer (default program: the buffer's file). Navigation commands:
-- :TimelensStep, :TimelensReverseStep, :TimelensNext, :TimelensReverseNext,
-- :TimelensFinish, :TimelensReverseFinish, :TimelensGotoEntry,
-- :TimelensPreviousCall [func], :TimelensNextCall [func], :TimelensLastWrite,
-- :TimelensNextWrite,
-- :TimelensWhere, :TimelensGoto {time}, :TimelensStop, one bytecode
-- instruction: :TimelensStepInstruction, :TimelensReverseStepInstruction,
-- and the current frame's bytecode in a split: :TimelensBytecode. Running to the line at
-- the cursor, in any call, where an optional condition holds (a Python
-- expression timelens evaluates from memory in that frame):
-- :TimelensRunToCursor [cond], :TimelensReverseRunToCursor [cond],
-- :TimelensRunBackUntil [cond] (asks for one), :TimelensLineRuns (a picker
-- over every run of the line; the one chosen is gone to).

local M = {}

M.name = 'timelens'

M.config = {
  cmd = { 'timelens' },
  program = nil,
  args = {},
  record_from = nil,
  backend = nil,
  python = nil,
  extra_args = {},
  init_options = nil,
  keymaps = false,
  autostart = false,
  log = nil,
}

-- state: the client, the last position the server returned, and whether a
-- command is in flight.
M.state = {
  client_id = nil,
  position = nil, -- the position object every command returns (docs/commands.md)
  pending = 0, -- navigation requests not answered yet
  last_error = nil, -- message of the last refused command
  root_dir = nil,
}

-- The suggested keymaps, installed with keymaps = true (or M.set_keymaps()).
M.keymaps = {
  { '<F7>', 'Step', 'step into' },
  { '<S-F7>', 'ReverseStep', 'step back' },
  { '<F8>', 'Next', 'next line' },
  { '<S-F8>', 'ReverseNext', 'previous line' },
  { '<F9>', 'Finish', 'finish' },
  { '<S-F9>', 'ReverseFinish', 'back to the call' },
  { '<leader>tw', 'LastWrite', 'last write of the name under the cursor' },
  { '<leader>tW', 'NextWrite', 'next write of the name under the cursor' },
  { '<leader>te', 'GotoEntry', 'entry of this call' },
  { '<leader>tp', 'PreviousCall', 'previous call of this function' },
  { '<leader>tn', 'NextCall', 'next call of this function' },
  { '<leader>t.', 'Where', 'where am I' },
  { '<leader>tr', 'RunToCursor', 'run forward to the cursor line' },
  { '<leader>tR', 'ReverseRunToCursor', 'run back to the cursor line' },
  { '<leader>tu', 'RunBackUntil', 'run back to the cursor line until a condition holds' },
  { '<leader>tl', 'LineRuns', 'pick a run of the cursor line' },
}

local function notify(msg, level)
  vim.notify('timelens: ' .. msg, level or vim.log.levels.INFO)
end

-- Neovim 0.11 made the client an object (client:request(…)) and added
-- vim.lsp.config / vim.lsp.enable and a workspace/codeLens/refresh handler;
-- 0.12 enables code lenses per buffer (vim.lsp.codelens.enable) and
-- deprecates vim.lsp.codelens.refresh.
local nvim011 = vim.fn.has('nvim-0.11') == 1
local lens_enable = nvim011 and vim.lsp.codelens.enable ~= nil

-- call(c, 'request', …): a client method, as 0.11+ (c:request) or 0.10 (c.request) wants it.
local function call(c, method, ...)
  if nvim011 then
    return c[method](c, ...)
  end
  return c[method](...)
end

-- The buffers a client is attached to.
local function client_buffers(c)
  local bufs = {}
  for b in pairs(c.attached_buffers or {}) do
    table.insert(bufs, b)
  end
  return bufs
end

--- The running timelens client, or nil.
function M.client()
  if not M.state.client_id then
    return nil
  end
  local c = vim.lsp.get_client_by_id(M.state.client_id)
  if not c or call(c, 'is_stopped') then
    return nil
  end
  return c
end

local function list(v)
  if v == nil then
    return {}
  end
  if type(v) == 'table' then
    return v
  end
  return { v }
end

--- The command line of `timelens lsp` for a program and its arguments.
function M.command_line(program, args, opts)
  opts = vim.tbl_extend('force', M.config, opts or {})
  local cmd = vim.list_extend({}, list(opts.cmd))
  table.insert(cmd, 'lsp')
  if opts.backend then
    vim.list_extend(cmd, { '--backend', opts.backend })
  end
  if opts.record_from then
    vim.list_extend(cmd, { '--record-from', opts.record_from })
  end
  if opts.python then
    vim.list_extend(cmd, { '--python', opts.python })
  end
  if opts.log then
    vim.list_extend(cmd, { '--log', opts.log })
  end
  vim.list_extend(cmd, list(opts.extra_args))
  if program then
    table.insert(cmd, '--')
    table.insert(cmd, program)
    vim.list_extend(cmd, list(args))
  end
  return cmd
end

local function refresh_lenses(bufnr)
  local bufs = { bufnr }
  if not bufnr then
    local c = M.client()
    bufs = c and client_buffers(c) or {}
  end
  for _, b in ipairs(bufs) do
    if vim.api.nvim_buf_is_loaded(b) then
      pcall(vim.lsp.codelens.refresh, { bufnr = b })
    end
  end
end

-- Neovim (0.10 to 0.12.4 at least) forgets which lines it drew at a
-- workspace/inlayHint/refresh, before the new hints arrive: a redraw in
-- between (the statusline after a move, the cursor moved by
-- window/showDocument) draws the old hints again and marks those lines done,
-- and the new hints, once they arrive, are not drawn until the buffer
-- changes. Enabling a buffer's hints again starts its hint state over, and
-- the new hints are drawn when they come.
local function on_hint_refresh(err, _, ctx)
  if err then
    return vim.NIL
  end
  vim.schedule(function()
    local c = vim.lsp.get_client_by_id(ctx.client_id)
    for _, b in ipairs(c and client_buffers(c) or {}) do
      if vim.api.nvim_buf_is_loaded(b) and vim.lsp.inlay_hint.is_enabled({ bufnr = b }) then
        vim.lsp.inlay_hint.enable(true, { bufnr = b })
      end
    end
  end)
  return vim.NIL
end

-- handlers: the hint refresh above, and what this Neovim does not handle itself.
local function handlers()
  local h = { ['workspace/inlayHint/refresh'] = on_hint_refresh }
  -- Neovim 0.10 has no handler for workspace/codeLens/refresh (0.11 does).
  if not vim.lsp.handlers['workspace/codeLens/refresh'] then
    h['workspace/codeLens/refresh'] = function()
      vim.schedule(function()
        refresh_lenses()
      end)
      return vim.NIL
    end
  end
  return h
end

-- attach: what a buffer of the session gets, whoever started the client
-- (LspAttach): inlay hints, code lenses (0.12: enabled, and kept fresh by
-- Neovim; before: asked for now, on BufEnter and InsertLeave, and on the
-- server's refresh).
local function attach(client, bufnr)
  if client.server_capabilities.inlayHintProvider then
    vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
  end
  if not client.server_capabilities.codeLensProvider then
    return
  end
  if lens_enable then
    vim.lsp.codelens.enable(true, { bufnr = bufnr })
    return
  end
  refresh_lenses(bufnr)
  local group = vim.api.nvim_create_augroup('timelens_lens_' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      refresh_lenses(bufnr)
    end,
  })
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.workspace = caps.workspace or {}
  -- Advertised (handled by Neovim, or above on 0.10): the server asks after each move.
  caps.workspace.codeLens = { refreshSupport = true }
  caps.workspace.inlayHint = { refreshSupport = true }
  return caps
end

--- The LSP configuration of a session, without cmd: what editors/nvim/lsp/timelens.lua
--- gives vim.lsp.config on 0.11+, and what :TimelensStart adds to it.
function M.lsp_config()
  return {
    filetypes = { 'python' },
    capabilities = capabilities(),
    handlers = handlers(),
  }
end

-- LspAttach: a timelens client attached to a buffer. The plugin's commands
-- and statusline follow the newest one, also when `vim.lsp.enable('timelens')`
-- started it.
local function on_lsp_attach(ev)
  local c = vim.lsp.get_client_by_id(ev.data.client_id)
  if not c or c.name ~= M.name then
    return
  end
  if M.state.client_id ~= c.id then
    M.state.client_id = c.id
    M.state.position = nil
    M.state.pending = 0
    M.state.last_error = nil
  end
  attach(c, ev.buf)
end

local function on_exit(code, signal, client_id)
  if client_id == M.state.client_id then
    M.state.client_id = nil
    vim.schedule(function()
      if code ~= 0 then
        notify(('the server exited (code %d, signal %d); see :LspLog'):format(code, signal), vim.log.levels.WARN)
      end
      vim.cmd.redrawstatus({ bang = true })
    end)
  end
end

--- Start `timelens lsp` for a program (default: config.program, else the
--- file of the current buffer) and attach the current buffer.
--- opts: { program, args, bufnr, record_from, ... } (overrides config)
function M.start(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  if bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local program = opts.program or M.config.program
  local args = opts.args or (opts.program and {}) or M.config.args
  if not program or program == '' then
    program = vim.api.nvim_buf_get_name(bufnr)
  end
  if program == '' then
    notify('no program: give one (:TimelensStart prog.py) or open a file', vim.log.levels.ERROR)
    return nil
  end
  program = vim.fn.fnamemodify(program, ':p')
  local previous = M.state.client_id
  if M.client() then
    M.stop()
  end
  local root = opts.root_dir or vim.fs.dirname(program)
  M.state.root_dir = root
  M.state.position = nil
  M.state.pending = 0
  M.state.last_error = nil
  local session = vim.tbl_extend('force', M.lsp_config(), {
    name = M.name,
    cmd = M.command_line(program, args, opts),
    root_dir = root,
    init_options = opts.init_options or M.config.init_options,
    on_exit = on_exit,
  })
  -- A new session never reuses the server of the one just stopped.
  local function reuse(c)
    return c.name == M.name and c.id ~= previous and not call(c, 'is_stopped')
  end
  local id
  if nvim011 then
    -- The session is the `timelens` configuration: your vim.lsp.config('timelens', …)
    -- (say, cmd_env or on_attach) applies, and vim.lsp.enable attaches every
    -- Python buffer opened later to the same server (same root_dir).
    session.reuse_client = reuse
    vim.lsp.config(M.name, session)
    vim.lsp.enable(M.name)
    id = vim.lsp.start(vim.lsp.config[M.name], { bufnr = bufnr, reuse_client = reuse })
  else
    id = vim.lsp.start(session, { bufnr = bufnr, reuse_client = reuse })
    -- Python files shown later (callers' files, files opened by
    -- window/showDocument) join the session.
    local group = vim.api.nvim_create_augroup('timelens_attach', { clear = true })
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = 'python',
      callback = function(ev)
        local c = M.client()
        if c and not vim.lsp.buf_is_attached(ev.buf, c.id) then
          vim.lsp.buf_attach_client(ev.buf, c.id)
        end
      end,
    })
  end
  M.state.client_id = id
  return id
end

--- Stop the session (the server stops gdb and the program).
function M.stop()
  local c = M.client()
  if c then
    -- No more hint or lens requests: after shutdown the server refuses them.
    for _, b in ipairs(client_buffers(c)) do
      pcall(vim.lsp.inlay_hint.enable, false, { bufnr = b })
      if lens_enable then
        pcall(vim.lsp.codelens.enable, false, { bufnr = b, client_id = c.id })
      else
        pcall(vim.lsp.codelens.clear, c.id, b)
      end
      pcall(vim.api.nvim_del_augroup_by_name, 'timelens_lens_' .. b)
    end
  end
  local stopped = false
  if nvim011 then
    -- No Python buffer opened from now on starts a server. From 0.11.2 on
    -- this also stops the running one (shutdown, exit): stopping it again
    -- would send a second shutdown.
    vim.lsp.enable(M.name, false)
    stopped = vim.fn.has('nvim-0.11.2') == 1
  end
  if c and not stopped then
    call(c, 'stop')
  end
  M.state.client_id = nil
  M.state.position = nil
  pcall(vim.api.nvim_del_augroup_by_name, 'timelens_attach')
end

local function cursor_args(bufnr)
  local c = M.client()
  local enc = c and c.offset_encoding or 'utf-16'
  local p = vim.lsp.util.make_position_params(0, enc)
  return { uri = p.textDocument.uri, position = p.position }, bufnr
end

--- Run a timelens.* command. args: the single argument object or nil.
--- cb(err, result) is called when the server answered (after the position
--- is stored). Returns true when the request was sent.
function M.execute(command, args, cb)
  local c = M.client()
  if not c then
    notify('no session; start one with :TimelensStart', vim.log.levels.WARN)
    return false
  end
  local params = { command = command, arguments = args and { args } or nil }
  M.state.pending = M.state.pending + 1
  local ok = call(c, 'request', 'workspace/executeCommand', params, function(err, result)
    M.state.pending = M.state.pending - 1
    if err then
      M.state.last_error = err.message or tostring(err)
      notify(M.state.last_error, vim.log.levels.WARN)
    elseif type(result) == 'table' and result.time then
      M.state.last_error = nil
      M.state.position = result
      vim.api.nvim_exec_autocmds('User', { pattern = 'TimelensMoved', modeline = false, data = result })
    end
    vim.cmd.redrawstatus({ bang = true })
    if cb then
      cb(err, result)
    end
  end, vim.api.nvim_get_current_buf())
  if not ok then
    M.state.pending = M.state.pending - 1
  end
  return ok
end

local simple = {
  Step = 'timelens.step',
  ReverseStep = 'timelens.reverseStep',
  Next = 'timelens.next',
  ReverseNext = 'timelens.reverseNext',
  Finish = 'timelens.finish',
  ReverseFinish = 'timelens.reverseFinish',
  Where = 'timelens.where',
  StepInstruction = 'timelens.stepInstruction',
  ReverseStepInstruction = 'timelens.reverseStepInstruction',
}

for name, command in pairs(simple) do
  M[name:sub(1, 1):lower() .. name:sub(2)] = function(cb)
    return M.execute(command, nil, cb)
  end
end

--- The current frame's bytecode (timelens.disassemble), as dis prints it,
--- in a scratch split: a 1-based line number where a line starts, "-->" at
--- the current instruction, a specialized instruction's base name after it.
function M.bytecode(cb)
  return M.execute('timelens.disassemble', nil, function(err, instrs)
    if not err and type(instrs) == 'table' then
      local lines, last = {}, nil
      for _, i in ipairs(instrs) do
        local line = ''
        if i.line ~= vim.NIL and i.line ~= nil and i.line ~= last then
          if #lines > 0 then
            table.insert(lines, '')
          end
          line, last = tostring(i.line + 1), i.line
        end
        local arg = (i.arg ~= vim.NIL and i.arg ~= nil) and tostring(i.arg) or ''
        local repr = (i.argrepr and i.argrepr ~= '') and (' (' .. i.argrepr .. ')') or ''
        local base = (i.baseOpname and i.baseOpname ~= i.opname) and ('  <- ' .. i.baseOpname) or ''
        local label = (i.label and i.label ~= vim.NIL) and ('L' .. i.label .. ':') or ''
        local text = string.format('%4s %s %-5s%5d %-28s %s%s%s', line, i.current and '-->' or '   ', label,
          i.offset, i.opname, arg, repr, base)
        table.insert(lines, (text:gsub('%s+$', '')))
      end
      vim.cmd('botright new')
      local buf = vim.api.nvim_get_current_buf()
      vim.bo[buf].buftype, vim.bo[buf].bufhidden, vim.bo[buf].swapfile = 'nofile', 'wipe', false
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
      vim.bo[buf].modifiable = false
      vim.api.nvim_buf_set_name(buf, 'timelens://bytecode/' .. buf)
    end
    if cb then
      cb(err, instrs)
    end
  end)
end

function M.gotoEntry(cb)
  local a = cursor_args()
  return M.execute('timelens.gotoEntry', { uri = a.uri, line = a.position.line }, cb)
end

local function call_args(fn)
  if fn and fn ~= '' then
    return { ['function'] = fn }
  end
  local a = cursor_args()
  return { uri = a.uri, line = a.position.line }
end

function M.previousCall(fn, cb)
  return M.execute('timelens.previousCall', call_args(fn), cb)
end

function M.nextCall(fn, cb)
  return M.execute('timelens.nextCall', call_args(fn), cb)
end

function M.lastWrite(cb)
  return M.execute('timelens.lastWrite', (cursor_args()), cb)
end

function M.nextWrite(cb)
  return M.execute('timelens.nextWrite', (cursor_args()), cb)
end

function M.goto_time(time, cb)
  return M.execute('timelens.goto', { time = time }, cb)
end

-- Running to a line: the line at the cursor, and a condition when given.
local function line_args(condition)
  local a = cursor_args()
  local args = { uri = a.uri, line = a.position.line }
  if condition and condition ~= '' then
    args.condition = condition
  end
  return args
end

--- Run forward to the next time the cursor line runs (in any call) where
--- condition (optional) holds.
function M.runToCursor(condition, cb)
  return M.execute('timelens.runToLine', line_args(condition), cb)
end

--- Run back to the previous time the cursor line ran where condition
--- (optional) held.
function M.reverseRunToCursor(condition, cb)
  return M.execute('timelens.reverseRunToLine', line_args(condition), cb)
end

--- Run back to the cursor line until condition holds; without one, ask for
--- it (vim.ui.input).
function M.runBackUntil(condition, cb)
  if condition and condition ~= '' then
    return M.reverseRunToCursor(condition, cb)
  end
  vim.ui.input({ prompt = 'timelens: run back until (Python condition): ' }, function(c)
    if c and c ~= '' then
      M.reverseRunToCursor(c, cb)
    elseif cb then
      cb(nil, nil)
    end
  end)
  return true
end

--- How the picker shows one run of a line: `@time function (depth d)  x = 1`.
function M.format_run(r)
  local parts = {}
  for k, v in pairs(r.assigned or {}) do
    table.insert(parts, k .. ' = ' .. v)
  end
  table.sort(parts)
  local s = ('@%s  %s (depth %d)'):format(r.time, r['function'] or '?', r.depth or 0)
  if #parts > 0 then
    s = s .. '  ' .. table.concat(parts, ', ')
  end
  return s
end

--- Every run of the cursor line (timelens.lineRuns), oldest first, in a
--- picker (vim.ui.select); the run chosen is gone to. cb(err, result) gets
--- the position gone to, or the runs when none was chosen.
function M.lineRuns(cb)
  local a = cursor_args()
  return M.execute('timelens.lineRuns', { uri = a.uri, line = a.position.line }, function(err, runs)
    if err or type(runs) ~= 'table' or #runs == 0 then
      if not err and type(runs) == 'table' then
        notify('this line did not run in the recorded window')
      end
      if cb then
        cb(err, runs)
      end
      return
    end
    vim.ui.select(runs, { prompt = 'timelens: runs of this line', format_item = M.format_run }, function(run)
      if run then
        M.goto_time(run.time, cb)
      elseif cb then
        cb(nil, runs)
      end
    end)
  end)
end

--- A statusline component: the current time and function, e.g.
--- `⏱ main:23 @12345`. Empty without a session.
function M.statusline()
  if not M.state.client_id then
    return ''
  end
  local p = M.state.position
  if not p then
    return M.client() and '⏱ timelens' or ''
  end
  local s = ('⏱ %s:%d @%s'):format(p['function'] or '?', (p.line or 0) + 1, p.time or '?')
  if M.state.pending > 0 then
    s = s .. ' …'
  end
  return s
end

function M.set_keymaps()
  for _, k in ipairs(M.keymaps) do
    vim.keymap.set('n', k[1], '<cmd>Timelens' .. k[2] .. '<cr>', { desc = 'timelens: ' .. k[3] })
  end
end

--- Follow timelens clients as they attach (idempotent; done at load and by setup).
function M.watch_attach()
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('timelens_lsp_attach', { clear = true }),
    callback = on_lsp_attach,
  })
end

function M.create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('TimelensStart', function(o)
    local program, args = nil, nil
    if #o.fargs > 0 then
      program = o.fargs[1]
      args = vim.list_slice(o.fargs, 2)
    end
    M.start({ program = program, args = args })
  end, { nargs = '*', complete = 'file', desc = 'timelens: record a program and start a session' })
  cmd('TimelensStop', function()
    M.stop()
  end, { desc = 'timelens: end the session' })
  for name, _ in pairs(simple) do
    local f = M[name:sub(1, 1):lower() .. name:sub(2)]
    cmd('Timelens' .. name, function()
      f()
    end, { desc = 'timelens: ' .. simple[name] })
  end
  cmd('TimelensBytecode', function()
    M.bytecode()
  end, { desc = "timelens: the current frame's bytecode, as dis prints it" })
  cmd('TimelensGotoEntry', function()
    M.gotoEntry()
  end, { desc = 'timelens: first line of the current call of the function at the cursor' })
  cmd('TimelensPreviousCall', function(o)
    M.previousCall(o.args)
  end, { nargs = '?', desc = 'timelens: previous call of FUNC (default: the function at the cursor)' })
  cmd('TimelensNextCall', function(o)
    M.nextCall(o.args)
  end, { nargs = '?', desc = 'timelens: next call of FUNC (default: the function at the cursor)' })
  cmd('TimelensLastWrite', function()
    M.lastWrite()
  end, { desc = 'timelens: the line that last assigned the expression at the cursor' })
  cmd('TimelensNextWrite', function()
    M.nextWrite()
  end, { desc = 'timelens: the line that next assigns the expression at the cursor' })
  cmd('TimelensGoto', function(o)
    M.goto_time(o.args)
  end, { nargs = 1, desc = 'timelens: go to a time returned by :TimelensWhere' })
  cmd('TimelensRunToCursor', function(o)
    M.runToCursor(o.args)
  end, { nargs = '?', desc = 'timelens: Run to Cursor: the next run of the cursor line [where COND holds]' })
  cmd('TimelensReverseRunToCursor', function(o)
    M.reverseRunToCursor(o.args)
  end, { nargs = '?', desc = 'timelens: Reverse Run to Cursor: the previous run of the cursor line [where COND held]' })
  cmd('TimelensRunBackUntil', function(o)
    M.runBackUntil(o.args)
  end, { nargs = '?', desc = 'timelens: Run Back Until…: the previous run of the cursor line where COND held (asks for it)' })
  cmd('TimelensLineRuns', function()
    M.lineRuns()
  end, { desc = 'timelens: pick a run of the cursor line and go to it' })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
  M.create_commands()
  M.watch_attach()
  if M.config.keymaps then
    M.set_keymaps()
  end
  if M.config.autostart and M.config.program then
    M.start()
  end
  return M
end

return M
