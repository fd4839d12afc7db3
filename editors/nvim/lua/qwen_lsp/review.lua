--- Reviewing a workspace edit before it is applied: a unified diff in a scratch buffer, then a confirm prompt.
local M = {}

local api = vim.api

--- The last edit put up for review: { title, diff, applied }.
M.last = nil

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

--- A copy of the edit without change annotations: once the user approved it here, Neovim 0.12 must not ask again
--- (it prompts for annotations that need confirmation), and scratch buffers need none.
---@param edit table lsp.WorkspaceEdit
---@return table
function M.strip_annotations(edit)
  local copy = vim.deepcopy(edit)
  copy.changeAnnotations = nil
  local function strip(edits)
    for _, e in ipairs(edits or {}) do
      e.annotationId = nil
    end
  end
  for _, edits in pairs(copy.changes or {}) do
    strip(edits)
  end
  for _, change in ipairs(copy.documentChanges or {}) do
    change.annotationId = nil
    strip(change.edits)
  end
  return copy
end

--- Neovim's apply_text_edits turns an insertion at the end-of-file position (line = line count) that ends in a
--- newline into an extra empty line; rewrite it as the same insertion at the end of the last line.
---@param edit table lsp.WorkspaceEdit (modified in place)
---@param offset_encoding string
function M.fix_eof_inserts(edit, offset_encoding)
  local function fix(uri, edits)
    local bufnr = vim.uri_to_bufnr(uri)
    vim.fn.bufload(bufnr)
    local count = api.nvim_buf_line_count(bufnr)
    local last = api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] or ''
    for _, e in ipairs(edits or {}) do
      local r = e.range
      if r.start.line >= count and r['end'].line >= count and e.newText:sub(-1) == '\n' then
        local character = vim.lsp.util.character_offset(bufnr, count - 1, #last, offset_encoding)
        e.range = { start = { line = count - 1, character = character }, ['end'] = { line = count - 1, character = character } }
        e.newText = '\n' .. e.newText:sub(1, -2)
      end
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    fix(uri, edits)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument then
      fix(change.textDocument.uri, change.edits)
    end
  end
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
  edit = M.strip_annotations(edit)
  M.fix_eof_inserts(edit, offset_encoding)
  local diff = M.diff(edit, offset_encoding)
  M.last = { title = title, diff = diff, applied = false }
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
  M.last.applied = true
  return true
end

return M
