-- Loaded by Neovim at startup when editors/nvim is on 'runtimepath': the
-- :Timelens* commands exist without setup(); setup() adds options and keymaps.
if vim.g.loaded_timelens then
  return
end
vim.g.loaded_timelens = true
require('timelens').create_commands()
