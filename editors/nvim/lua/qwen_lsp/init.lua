--- qwen_lsp: inline AI completion (ghost text), refactors and agent refactors from the qwen-lsp server.
---
---   require("qwen_lsp").setup({ server = { backend = { kind = "local", ["local"] = { model = "qwen2.5-coder-0.5b" } } } })
---
--- setup() starts the server for the configured filetypes. On Neovim 0.12+ the ghost text comes from
--- vim.lsp.inline_completion; on 0.10/0.11 the plugin draws it (qwen_lsp.ghost). See :help qwen_lsp.
local commands = require('qwen_lsp.commands')
local config = require('qwen_lsp.config')
local events = require('qwen_lsp.events')
local server = require('qwen_lsp.server')
local status = require('qwen_lsp.status')

local M = {}

local function on_attach(client, bufnr)
  if config.use_builtin_inline() then
    require('qwen_lsp.native').attach(client, bufnr)
  else
    require('qwen_lsp.ghost').attach(client, bufnr)
  end
  events.focused(client, bufnr) -- the buffer being opened has focus: BufEnter came before the client
  require('qwen_lsp.definitions').attach(client, bufnr)
end

local function handlers()
  return {
    ['qwen/status'] = status.on_status,
    ['workspace/applyEdit'] = commands.apply_edit_handler(vim.lsp.handlers['workspace/applyEdit']),
  }
end

local function wants(filetype)
  local fts = config.options.filetypes
  return vim.tbl_contains(fts, '*') or vim.tbl_contains(fts, filetype)
end

--- Start the server for a buffer (setup() does this on FileType; call it for buffers opened earlier).
---@param bufnr? integer
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
    return
  end
  server.start(bufnr, handlers(), on_attach)
end

---@param opts? qwen_lsp.Options
function M.setup(opts)
  config.set(opts)
  local group = vim.api.nvim_create_augroup('qwen_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    callback = function(args)
      if wants(args.match) then
        M.attach(args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd('BufEnter', {
    group = group,
    callback = function(args)
      local client = server.get_client(args.buf)
      if client then
        events.focused(client, args.buf)
      end
    end,
  })
  -- Buffers already open when setup() runs (e.g. lazy-loaded plugin).
  M.attach_loaded()
end

--- Start the server for every loaded buffer of a configured filetype (after setup() or :QwenInstall).
function M.attach_loaded()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and wants(vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

--- Turn inline completions on or off (all buffers); without an argument, toggle.
---@param enabled? boolean
function M.toggle(enabled)
  if enabled == nil then
    enabled = not config.options.inline.enabled
  end
  config.options.inline.enabled = enabled
  if config.use_builtin_inline() then
    require('qwen_lsp.native').set_enabled(enabled)
  end
  vim.notify('Qwen inline completions ' .. (enabled and 'on' or 'off'))
end

--- Short status for a statusline, e.g. "Qwen: indexing 40%".
M.statusline = status.text

M.refactor = commands.refactor
M.agent = commands.agent
M.context = commands.context
M.status = commands.status

return M
