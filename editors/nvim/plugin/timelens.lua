-- Loaded by Neovim at startup when editors/nvim is on 'runtimepath': the
-- :Timelens* commands exist without setup(), and a timelens client started
-- by vim.lsp.enable('timelens') (0.11+) is the session; setup() adds options
-- and keymaps.
if vim.g.loaded_timelens then
  return
end
vim.g.loaded_timelens = true
require('timelens').create_commands()
require('timelens').watch_attach()
