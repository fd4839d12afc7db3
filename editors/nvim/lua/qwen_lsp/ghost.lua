--- Ghost text for Neovim without vim.lsp.inline_completion (0.10 / 0.11): asks the server for
--- textDocument/inlineCompletion while typing, draws the completion after the cursor with an extmark (first line as
--- inline virt_text, the rest as virt_lines) and implements accept / accept word / accept line / dismiss / cycle.
--- Typing the characters the ghost text shows keeps it (no new request); anything else asks again after a debounce.
local config = require('qwen_lsp.config')
local events = require('qwen_lsp.events')
local server = require('qwen_lsp.server')
local text = require('qwen_lsp.text')

local api = vim.api
local M = {}

M.ns = api.nvim_create_namespace('qwen_lsp.ghost')

---@class qwen_lsp.GhostState
---@field client_id integer
---@field items table[]            items of the last response
---@field index integer            the item shown
---@field start { [1]: integer, [2]: integer }  0-based row, byte col where the items' text starts
---@field replace_after integer    bytes after the request's cursor the item range replaces
---@field accepted integer         characters of the item already accepted partially
---@field timer? uv.uv_timer_t
---@field request_id? integer

---@type table<integer, qwen_lsp.GhostState>
local states = {}

local function cursor(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  local pos = api.nvim_win_get_cursor(win ~= -1 and win or 0)
  return pos[1] - 1, pos[2]
end

--- Text between the completion start and the cursor, or nil when the cursor is before the start.
local function typed_text(bufnr, state)
  local row, col = cursor(bufnr)
  local srow, scol = state.start[1], state.start[2]
  if row < srow or (row == srow and col < scol) then
    return nil
  end
  local ok, lines = pcall(api.nvim_buf_get_text, bufnr, srow, scol, row, col, {})
  return ok and table.concat(lines, '\n') or nil
end

--- What is still to be shown / inserted after the cursor for the current item.
---@return string|nil
local function remaining(bufnr)
  local state = states[bufnr]
  local item = state and state.items[state.index]
  if not item then
    return nil
  end
  local typed = typed_text(bufnr, state)
  local full = text.item_text(item)
  if not typed or full:sub(1, #typed) ~= typed then
    return nil
  end
  local rest = full:sub(#typed + 1)
  return rest ~= '' and rest or nil
end

local function clear(bufnr)
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

local function render(bufnr)
  clear(bufnr)
  local rest = remaining(bufnr)
  if not rest then
    return false
  end
  local row, col = cursor(bufnr)
  local lines = text.lines(rest)
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], 'QwenGhostText' } }
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, row, col, {
    virt_text = { { lines[1], 'QwenGhostText' } },
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
  })
  local state = states[bufnr]
  local client = vim.lsp.get_client_by_id(state.client_id)
  if client then
    events.shown(client, state.items[state.index])
  end
  return true
end

local function stop_timer(state)
  if state.timer then
    state.timer:stop()
    state.timer:close()
    state.timer = nil
  end
end

local function cancel_request(state)
  local client = vim.lsp.get_client_by_id(state.client_id)
  if client and state.request_id then
    if vim.fn.has('nvim-0.11') == 1 then
      client:cancel_request(state.request_id)
    else
      client.cancel_request(state.request_id)
    end
  end
  state.request_id = nil
end

local function request(bufnr)
  local state = states[bufnr]
  local client = state and vim.lsp.get_client_by_id(state.client_id)
  if not client or api.nvim_get_current_buf() ~= bufnr or not api.nvim_get_mode().mode:match('^i') then
    return
  end
  cancel_request(state)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = 2 } -- Automatic
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local row, col = cursor(bufnr)
  local _, id = server.request(client, 'textDocument/inlineCompletion', params, function(err, result)
    state.request_id = nil
    -- Stale: the user typed or moved since the request.
    local nrow, ncol = cursor(bufnr)
    if err or not result or api.nvim_buf_get_changedtick(bufnr) ~= tick or nrow ~= row or ncol ~= col then
      return
    end
    local items = result.items or result
    if #items == 0 then
      return
    end
    local first = items[1]
    local start, replace_after = { row, col }, 0
    if first.range then
      local line = api.nvim_buf_get_lines(bufnr, first.range.start.line, first.range.start.line + 1, false)[1] or ''
      start = { first.range.start.line, vim.lsp.util._get_line_byte_from_position(bufnr, first.range.start, client.offset_encoding) }
      if first.range['end'].line == row then
        local end_col = vim.lsp.util._get_line_byte_from_position(bufnr, first.range['end'], client.offset_encoding)
        replace_after = math.max(0, math.min(end_col, #line) - col)
      end
    end
    state.items, state.index, state.start, state.replace_after, state.accepted = items, 1, start, replace_after, 0
    render(bufnr)
  end, bufnr)
  state.request_id = id
end

local function schedule_request(bufnr)
  local state = states[bufnr]
  stop_timer(state)
  state.timer = vim.uv.new_timer()
  state.timer:start(config.options.inline.debounce_ms, 0, vim.schedule_wrap(function()
    stop_timer(state)
    request(bufnr)
  end))
end

--- Called on every insert-mode change or cursor move.
local function refresh(bufnr)
  local state = states[bufnr]
  if not state or not config.options.inline.enabled then
    return
  end
  if not render(bufnr) then
    state.items = {}
    schedule_request(bufnr)
  end
end

function M.visible(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  return remaining(bufnr) ~= nil
end

--- Insert `s` at the cursor and move the cursor after it.
local function insert_at_cursor(bufnr, s, delete_after)
  local row, col = cursor(bufnr)
  local lines = text.lines(s)
  api.nvim_buf_set_text(bufnr, row, col, row, col + (delete_after or 0), lines)
  local last_row = row + #lines - 1
  local last_col = (#lines == 1 and col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { last_row + 1, last_col })
end

--- Accept all, or the part chosen by `pick` (text.next_word / text.next_line).
---@param pick? fun(s: string): string
function M.accept(pick, bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local state = states[bufnr]
  local rest = remaining(bufnr)
  if not state or not rest then
    return false
  end
  local item = state.items[state.index]
  local client = vim.lsp.get_client_by_id(state.client_id)
  local part = pick and pick(rest) or rest
  local whole = part == rest
  clear(bufnr)
  insert_at_cursor(bufnr, part, whole and state.replace_after or 0)
  if client then
    if whole then
      events.accepted(client, item, bufnr)
    else
      local typed = typed_text(bufnr, state) or ''
      events.partially_accepted(client, item, vim.fn.strchars(typed))
    end
  end
  if whole then
    state.items = {}
  else
    render(bufnr)
  end
  return true
end

function M.dismiss(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local state = states[bufnr]
  if not state or not M.visible(bufnr) then
    return false
  end
  state.items = {}
  clear(bufnr)
  return true
end

--- Show the next (+1) or previous (-1) alternative.
function M.cycle(delta, bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local state = states[bufnr]
  if not state or #state.items < 2 then
    return false
  end
  state.index = (state.index - 1 + delta) % #state.items + 1
  render(bufnr)
  return true
end

--- Map `lhs` in insert mode: run `fn` when a completion is visible, else feed the key itself.
local function map(bufnr, lhs, fn, desc)
  if not lhs then
    return
  end
  vim.keymap.set('i', lhs, function()
    if not M.visible(bufnr) then
      return lhs
    end
    -- Expression mappings may not change the buffer: do it right after.
    vim.schedule(fn)
    return ''
  end, { buffer = bufnr, expr = true, desc = desc })
end

---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  if states[bufnr] then
    return
  end
  states[bufnr] = { client_id = client.id, items = {}, index = 1, start = { 0, 0 }, replace_after = 0, accepted = 0 }
  api.nvim_set_hl(0, 'QwenGhostText', { link = 'Comment', default = true })
  local group = api.nvim_create_augroup('qwen_lsp.ghost.' .. bufnr, { clear = true })
  api.nvim_create_autocmd({ 'InsertEnter', 'TextChangedI', 'CursorMovedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      refresh(bufnr)
    end,
  })
  api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local state = states[bufnr]
      stop_timer(state)
      cancel_request(state)
      state.items = {}
      clear(bufnr)
    end,
  })
  api.nvim_create_autocmd('LspDetach', {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.data and args.data.client_id == client.id then
        M.detach(bufnr)
      end
    end,
  })
  local km = config.options.keymaps
  map(bufnr, km.accept, function() M.accept(nil, bufnr) end, 'Qwen: accept completion')
  map(bufnr, km.accept_word, function() M.accept(text.next_word, bufnr) end, 'Qwen: accept word')
  map(bufnr, km.accept_line, function() M.accept(text.next_line, bufnr) end, 'Qwen: accept line')
  map(bufnr, km.dismiss, function() M.dismiss(bufnr) end, 'Qwen: dismiss completion')
  map(bufnr, km.next, function() M.cycle(1, bufnr) end, 'Qwen: next completion')
  map(bufnr, km.prev, function() M.cycle(-1, bufnr) end, 'Qwen: previous completion')
end

function M.detach(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  stop_timer(state)
  clear(bufnr)
  pcall(api.nvim_del_augroup_by_name, 'qwen_lsp.ghost.' .. bufnr)
  states[bufnr] = nil
end

return M
