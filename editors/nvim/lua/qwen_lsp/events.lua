--- Reporting shown / partially accepted completions to the server (qwen/didShowCompletion,
--- qwen/didPartiallyAcceptCompletion); full accepts run the item's qwen.acceptCompletion command.
local server = require('qwen_lsp.server')
local text = require('qwen_lsp.text')

local M = {}

local reported = {} ---@type table<string, boolean>
local count = 0

---@param client vim.lsp.Client
---@param item table
function M.shown(client, item)
  local id = text.completion_id(item)
  if not id or reported[id] then
    return
  end
  reported[id] = true
  count = count + 1
  if count > 1000 then -- ids are unique per completion: forget old ones
    reported, count = { [id] = true }, 1
  end
  server.notify(client, 'qwen/didShowCompletion', { id = id })
end

---@param client vim.lsp.Client
---@param item table
---@param accepted_length integer characters of the item's text accepted so far
function M.partially_accepted(client, item, accepted_length)
  local id = text.completion_id(item)
  if id then
    server.notify(client, 'qwen/didPartiallyAcceptCompletion', { id = id, acceptedLength = accepted_length })
  end
end

--- The buffer got focus: report it with the cursor (qwen/didFocus) so the server can evaluate its prompt before the
--- first keystroke.
---@param client vim.lsp.Client
---@param bufnr integer
function M.focused(client, bufnr)
  if bufnr ~= vim.api.nvim_get_current_buf() then
    return
  end
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  server.notify(client, 'qwen/didFocus', { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = position })
end

--- Full accept: run the item's command (qwen.acceptCompletion) on the server.
---@param client vim.lsp.Client
---@param item table
---@param bufnr integer
function M.accepted(client, item, bufnr)
  if item.command then
    server.request(client, 'workspace/executeCommand', {
      command = item.command.command,
      arguments = item.command.arguments,
    }, function() end, bufnr)
  end
end

return M
