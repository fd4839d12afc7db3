--- Server state from the `qwen/status` notification and `$/progress`, for :QwenStatus, statuslines and health.
local M = {}

---@class qwen_lsp.Status
---@field state string       loading | indexing | ready | error | starting
---@field model? string
---@field detail? string
---@field progress? number
M.current = { state = 'starting' }

--- Handler for the server's `qwen/status` notification.
function M.on_status(_, params)
  if type(params) == 'table' then
    M.current = vim.tbl_extend('force', M.current, params)
    if params.progress == vim.NIL then
      M.current.progress = nil
    end
    vim.api.nvim_exec_autocmds('User', { pattern = 'QwenStatus', modeline = false, data = M.current })
  end
end

--- A short text for a statusline: "Qwen: indexing 40%", "Qwen: ready".
function M.text()
  local s = M.current
  local text = 'Qwen: ' .. s.state
  if s.progress then
    text = text .. (' %d%%'):format(s.progress)
  end
  return text
end

function M.describe()
  local s = M.current
  local lines = { M.text() }
  if s.model then
    table.insert(lines, 'model: ' .. s.model)
  end
  if s.detail and s.detail ~= '' then
    table.insert(lines, 'detail: ' .. s.detail)
  end
  return table.concat(lines, '\n')
end

return M
