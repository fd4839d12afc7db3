--- Inline completion through Neovim's built-in client (vim.lsp.inline_completion, Neovim 0.12+), with the plugin's
--- keymaps (accept word / line, dismiss, cycle) and reports of shown completions.
---
--- The built-in client keeps its items private; to report which item is shown, the qwen-lsp client's request
--- function is wrapped to see textDocument/inlineCompletion responses (the built-in client shows item 1 of each).
local config = require('qwen_lsp.config')
local events = require('qwen_lsp.events')
local text = require('qwen_lsp.text')

local api = vim.api
local M = {}

M.ns = api.nvim_create_namespace('nvim.lsp.inline_completion')

---@type table<integer, { items: table[], index: integer }>
local shown_items = {}

local function report_current(client, bufnr)
  local s = shown_items[bufnr]
  local item = s and s.items[s.index]
  if item then
    events.shown(client, item)
  end
end

--- Wrap client:request once to see the inline completion responses.
local function watch_responses(client)
  if client._qwen_wrapped then
    return
  end
  client._qwen_wrapped = true
  local request = client.request
  client.request = function(self, method, params, handler, bufnr)
    if method == 'textDocument/inlineCompletion' and handler then
      local inner = handler
      handler = function(err, result, ctx, ...)
        inner(err, result, ctx, ...)
        if not err and result and ctx and ctx.bufnr then
          local items = result.items or result
          shown_items[ctx.bufnr] = { items = items, index = 1 }
          if #items > 0 and #api.nvim_buf_get_extmarks(ctx.bufnr, M.ns, 0, -1, { limit = 1 }) > 0 then
            report_current(self, ctx.bufnr)
          end
        end
      end
    end
    return request(self, method, params, handler, bufnr)
  end
end

--- Accept part of the shown completion (what `pick` takes of the text after the cursor).
local function accept_part(client, bufnr, pick)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      local full = text.item_text(item)
      local row, col = unpack(api.nvim_win_get_cursor(0))
      row = row - 1
      local srow, scol = row, col
      if item.range then
        srow, scol = item.range.start.row, item.range.start.col
      end
      local ok, before = pcall(api.nvim_buf_get_text, bufnr, srow, scol, row, col, {})
      local typed = ok and table.concat(before, '\n') or ''
      if full:sub(1, #typed) ~= typed then
        return
      end
      local part = pick(full:sub(#typed + 1))
      local lines = text.lines(part)
      api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
      api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
      if #typed + #part >= #full then
        events.accepted(client, item, bufnr)
      else
        events.partially_accepted(client, item, vim.fn.strchars(typed .. part))
      end
    end,
  })
end

local function dismiss(bufnr)
  -- The built-in client has no "hide" API: re-enabling drops the current item.
  vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
end

local function can_cycle(bufnr)
  local s = shown_items[bufnr]
  return s ~= nil and #s.items > 1
end

local function cycle(client, bufnr, delta)
  local s = shown_items[bufnr]
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = delta })
  s.index = (s.index - 1 + delta) % #s.items + 1
  report_current(client, bufnr)
end

local function visible(bufnr)
  return #api.nvim_buf_get_extmarks(bufnr, M.ns, 0, -1, { limit = 1 }) > 0
end

---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  watch_responses(client)
  vim.lsp.inline_completion.enable(config.options.inline.enabled, { bufnr = bufnr })
  local km = config.options.keymaps
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set('i', lhs, function()
        if not fn() then
          return lhs
        end
        return ''
      end, { buffer = bufnr, expr = true, desc = desc })
    end
  end
  -- get() schedules the edit itself, so it is safe inside an expression mapping.
  map(km.accept, function() return vim.lsp.inline_completion.get({ bufnr = bufnr }) end, 'Qwen: accept completion')
  map(km.accept_word, function() return accept_part(client, bufnr, text.next_word) end, 'Qwen: accept word')
  map(km.accept_line, function() return accept_part(client, bufnr, text.next_line) end, 'Qwen: accept line')
  -- These change editor state, which expression mappings may not: run them right after.
  local function map_later(lhs, ready, fn, desc)
    if lhs then
      vim.keymap.set('i', lhs, function()
        if not ready() then
          return lhs
        end
        vim.schedule(fn)
        return ''
      end, { buffer = bufnr, expr = true, desc = desc })
    end
  end
  map_later(km.next, function() return can_cycle(bufnr) end, function() cycle(client, bufnr, 1) end, 'Qwen: next completion')
  map_later(km.prev, function() return can_cycle(bufnr) end, function() cycle(client, bufnr, -1) end, 'Qwen: previous completion')
  map_later(km.dismiss, function() return visible(bufnr) end, function() dismiss(bufnr) end, 'Qwen: dismiss completion')
end

function M.set_enabled(enabled, bufnr)
  vim.lsp.inline_completion.enable(enabled, bufnr and { bufnr = bufnr } or nil)
end

return M
