--- Reviewing a workspace edit before it is applied: a unified diff in a scratch buffer, then a confirm prompt.
local M = {}

local api = vim.api

--- Lines of a file as they are now (its buffer if loaded, else read from disk).
local function current_lines(uri)
  local bufnr = vim.uri_to_bufnr(uri)
  vim.fn.bufload(bufnr)
  return api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

--- Lines after applying text edits, computed in a throwaway buffer.
local function edited_lines(lines, edits, offset_encoding)
  local scratch = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  vim.lsp.util.apply_text_edits(edits, scratch, offset_encoding)
  local result = api.nvim_buf_get_lines(scratch, 0, -1, false)
  api.nvim_buf_delete(scratch, { force = true })
  return result
end

--- Unified diff text of a workspace edit.
---@param edit table lsp.WorkspaceEdit
---@param offset_encoding string
---@return string
function M.diff(edit, offset_encoding)
  local out = {}
  local function file_diff(uri, edits)
    local path = vim.fn.fnamemodify(vim.uri_to_fname(uri), ':.')
    local old = current_lines(uri)
    local new = edited_lines(old, edits, offset_encoding)
    local hunks = vim.diff(table.concat(old, '\n') .. '\n', table.concat(new, '\n') .. '\n', { result_type = 'unified' })
    table.insert(out, ('--- a/%s\n+++ b/%s\n%s'):format(path, path, hunks))
  end
  for uri, edits in pairs(edit.changes or {}) do
    file_diff(uri, edits)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == 'create' then
      table.insert(out, ('create %s\n'):format(vim.uri_to_fname(change.uri)))
    elseif change.kind == 'rename' then
      table.insert(out, ('rename %s -> %s\n'):format(vim.uri_to_fname(change.oldUri), vim.uri_to_fname(change.newUri)))
    elseif change.kind == 'delete' then
      table.insert(out, ('delete %s\n'):format(vim.uri_to_fname(change.uri)))
    elseif change.textDocument then
      file_diff(change.textDocument.uri, change.edits)
    end
  end
  return table.concat(out, '')
end

--- Show the diff of `edit` in a scratch buffer and ask whether to apply it. Blocks until the user answers.
---@param edit table lsp.WorkspaceEdit
---@param offset_encoding string
---@param title string
---@return boolean applied
function M.confirm_and_apply(edit, offset_encoding, title)
  local diff = M.diff(edit, offset_encoding)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_name(buf, ('qwen://review/%d'):format(buf))
  api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(diff, '\n', { plain = true }))
  vim.bo[buf].filetype = 'diff'
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.cmd('tab sbuffer ' .. buf)
  vim.cmd('redraw')
  local choice = vim.fn.confirm(title .. ': apply this change?', '&Apply\n&Discard', 2)
  pcall(vim.cmd, 'tabclose')
  if choice ~= 1 then
    return false
  end
  vim.lsp.util.apply_workspace_edit(edit, offset_encoding)
  return true
end

return M
