--- Pure helpers on completion text: the item's text, and how much of it "accept word" / "accept line" take.
local M = {}

---@param item table lsp.InlineCompletionItem (or the built-in client's item with insert_text)
---@return string
function M.item_text(item)
  local text = item.insertText or item.insert_text
  if type(text) == 'table' then
    return text.value or ''
  end
  return text or ''
end

--- The server's completion id, carried in the item's qwen.acceptCompletion command.
function M.completion_id(item)
  local cmd = item and item.command
  local arg = cmd and cmd.arguments and cmd.arguments[1]
  if type(arg) == 'table' and type(arg.id) == 'string' then
    return arg.id
  end
  return nil
end

--- The next word of `s`: a line break with the next line's indent, or leading blanks plus a run of word
--- characters, or a run of punctuation.
---@param s string
---@return string
function M.next_word(s)
  return s:match('^\n[ \t]*') or s:match('^[ \t]*[%w_]+') or s:match('^[ \t]*[^%w_%s]+') or s:match('^%s+') or s
end

--- The rest of the current line of `s`, or the line break and the next line when `s` starts with one.
---@param s string
---@return string
function M.next_line(s)
  if s:sub(1, 1) == '\n' then
    return '\n' .. (s:sub(2):match('^[^\n]*') or '')
  end
  return s:match('^[^\n]*') or s
end

--- Split text into lines for nvim_buf_set_text.
function M.lines(s)
  return vim.split(s, '\n', { plain = true })
end

return M
