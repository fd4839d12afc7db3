-- luacheck configuration for the Neovim plugin (run from this folder: `luacheck .`).
std = "luajit"
-- Neovim's API; its option tables (vim.g, vim.bo[buf], ...) are written to.
globals = { "vim" }
-- The plugin has no formatter; its code lines (Neovim API calls with inline tables) run up to ~160 columns.
max_code_line_length = 160
-- User-facing messages and explanatory comments read better unbroken.
max_string_line_length = false
max_comment_line_length = false
