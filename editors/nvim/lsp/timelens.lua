-- The `timelens` LSP configuration for Neovim 0.11+ (vim.lsp.config reads
-- lsp/<name>.lua from 'runtimepath'). :TimelensStart fills in cmd for the
-- program of the current buffer; to manage the server yourself instead:
--
--   vim.lsp.config('timelens', {
--     cmd = { 'timelens', 'lsp', '--record-from', 'main', '--', 'python3', 'app.py' },
--   })
--   vim.lsp.enable('timelens')
--
-- and the :Timelens* commands and statusline() follow that client.
local config = require('timelens').lsp_config()
config.cmd = { 'timelens', 'lsp' }
return config
