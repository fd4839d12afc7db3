--- Definitions from the buffer's other language servers as completion context (qwen/editorDefinitions).
---
--- When typing pauses or the cursor moves in insert mode, the identifiers at and just before the cursor (the
--- qualifier chain and the calls on the current and previous line) are looked up with textDocument/definition (and
--- textDocument/typeDefinition for the qualifier right before a `.`) on the OTHER clients attached to the buffer
--- (pyright, gopls, tsserver, rust-analyzer, jdtls...; never qwen-lsp itself). Locations in the buffer itself or
--- outside the project root are dropped; the rest go to qwen-lsp, which reads the text under its privacy policy.
--- Debounced, a newer lookup supersedes an older one; what came within the time box is sent at once, later answers
--- follow while the cursor stays: it never delays a completion.
local config = require('qwen_lsp.config')
local server = require('qwen_lsp.server')

local M = {}

M.METHOD = 'qwen/editorDefinitions'
M.DEBOUNCE_MS = 250
M.TIME_BOX_MS = 150
local MAX_IDENTIFIERS = 8
local MAX_DEFINITIONS = 16

local KEYWORDS = {}
for word in (
  'if else for while do return new await async function def class const let var this self super import from as '
  .. 'in of is not and or try catch except finally with yield lambda pass raise throw switch case break continue '
  .. 'fn pub mut impl struct enum match use mod func go defer package type interface public private protected static '
  .. 'void true false null nil none None True False undefined typeof instanceof elif local end then'
):gmatch('%S+') do
  KEYWORDS[word] = true
end

local IDENT = '[%a_$][%w_$]*'
local SEPARATORS = { '?.', '.', '::', '->' }

--- Strip a member separator (and blanks) from the end of `s`; returns the rest, or nil if there is none.
local function strip_separator(s)
  local trimmed = s:gsub('%s+$', '')
  for _, sep in ipairs(SEPARATORS) do
    if trimmed:sub(-#sep) == sep then
      return trimmed:sub(1, -#sep - 1):gsub('%s+$', '')
    end
  end
  return nil
end

--- Identifiers worth a lookup, closest to the cursor first. `col` is the byte column of the cursor (0-based);
--- positions returned are 0-based byte columns.
---@return { name: string, line: integer, col: integer, qualifier: boolean }[]
function M.identifiers(current, previous, row, col)
  local out = {}
  local function add(name, at, line, qualifier)
    if KEYWORDS[name] or name:match('^%d') or #out >= MAX_IDENTIFIERS then
      return
    end
    for _, o in ipairs(out) do
      if o.line == line and o.col == at then
        return
      end
    end
    table.insert(out, { name = name, line = line, col = at, qualifier = qualifier })
  end
  local before = current:sub(1, col)
  -- the chain ending at the cursor; the name right before the last separator is the qualifier whose type is asked
  local called = before:gsub('%(%s*$', '') -- right after `x.call(`: the chain of the call
  local rest = strip_separator(called)
  local separator_follows = rest ~= nil
  local qualifier_given = false
  rest = rest or called
  while true do
    local start, _, name = rest:find('(' .. IDENT .. ')$')
    if not start then
      break
    end
    add(name, start - 1, row, separator_follows and not qualifier_given)
    qualifier_given = qualifier_given or separator_follows
    rest = strip_separator(rest:sub(1, start - 1))
    if not rest then
      break
    end
    separator_follows = true
  end
  for _, source in ipairs({ { before, row }, { previous, row - 1 } }) do
    local calls = {}
    for start, name in source[1]:gmatch('()(' .. IDENT .. ')%s*%(') do
      table.insert(calls, 1, { start, name })
    end
    for _, call in ipairs(calls) do
      add(call[2], call[1] - 1, source[2], false)
    end
  end
  return out
end

local function normalize(result)
  if type(result) ~= 'table' then
    return {}
  end
  if result.uri or result.targetUri then
    result = { result }
  end
  local out = {}
  for _, loc in ipairs(result) do
    local uri = loc.uri or loc.targetUri
    local range = loc.targetSelectionRange or loc.range or loc.targetRange
    if type(uri) == 'string' and type(range) == 'table' then
      table.insert(out, { uri = uri, range = range })
    end
  end
  return out
end

local state = {} ---@type table<integer, { timer: uv.uv_timer_t|nil, generation: integer, last: string|nil }>

local new_api = vim.fn.has('nvim-0.11') == 1

local function supports(client, method, bufnr)
  if new_api then
    return client:supports_method(method, bufnr)
  end
  return client.supports_method(method)
end

local function stopped(client)
  if new_api then
    return client:is_stopped()
  end
  return client.is_stopped()
end

local function other_clients(bufnr, method)
  local out = {}
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr })) do
    if client.name ~= server.name and supports(client, method, bufnr) then
      table.insert(out, client)
    end
  end
  return out
end

local function inside(path, root)
  return root ~= nil and path:sub(1, #root + 1) == root .. '/'
end

--- Look up the identifiers around the cursor and send what comes back within the time box.
---@param qwen vim.lsp.Client
---@param bufnr integer
function M.look_up(qwen, bufnr)
  local s = state[bufnr]
  if not s or bufnr ~= vim.api.nvim_get_current_buf() or stopped(qwen) then
    return
  end
  s.generation = s.generation + 1
  local generation = s.generation
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local lines = vim.api.nvim_buf_get_lines(bufnr, math.max(row - 1, 0), row + 1, false)
  local current, previous = lines[#lines] or '', row > 0 and lines[1] or ''
  local identifiers = M.identifiers(current, previous, row, col)
  local uri = vim.uri_from_bufnr(bufnr)
  local root = qwen.config.root_dir
  local found, seen, pending = {}, {}, 0
  -- called when the time box ends (what came so far) and when the last answer comes (a slow server's later ones,
  -- while the cursor stays); the same set is not sent twice
  local function finish()
    if generation ~= s.generation or stopped(qwen) then
      return
    end
    local fingerprint = vim.json.encode({ row, found })
    -- none (yet): keep the set the server has unless every answer is in and there is one to clear
    if #found == 0 and (s.last == nil or pending > 0) or fingerprint == s.last then
      return
    end
    s.last = fingerprint
    local character = vim.lsp.util.character_offset(bufnr, row, col, qwen.offset_encoding or 'utf-16')
    server.notify(qwen, M.METHOD, {
      textDocument = { uri = uri },
      position = { line = row, character = character },
      definitions = found,
    })
  end
  local function ask(client, method, id)
    local character = vim.lsp.util.character_offset(bufnr, id.line, id.col, client.offset_encoding or 'utf-16')
    local params = { textDocument = { uri = uri }, position = { line = id.line, character = character } }
    pending = pending + 1
    server.request(client, method, params, function(err, result)
      pending = pending - 1
      if not err and generation == s.generation then
        for _, loc in ipairs(normalize(result)) do
          local key = loc.uri .. ':' .. loc.range.start.line
          local path = vim.uri_to_fname(loc.uri)
          if loc.uri ~= uri and not seen[key] and #found < MAX_DEFINITIONS and inside(path, root) then
            seen[key] = true
            table.insert(found, { name = id.name, uri = loc.uri, range = loc.range })
          end
        end
      end
      if pending == 0 then
        finish()
      end
    end, bufnr)
  end
  for _, id in ipairs(identifiers) do
    for _, client in ipairs(other_clients(bufnr, 'textDocument/definition')) do
      ask(client, 'textDocument/definition', id)
    end
    if id.qualifier then
      for _, client in ipairs(other_clients(bufnr, 'textDocument/typeDefinition')) do
        ask(client, 'textDocument/typeDefinition', id)
      end
    end
  end
  if pending == 0 then
    return
  end
  vim.defer_fn(finish, M.TIME_BOX_MS)
end

--- Watch a buffer qwen-lsp is attached to (on_attach); does nothing when setup({ editor_definitions = false }).
---@param qwen vim.lsp.Client
---@param bufnr integer
function M.attach(qwen, bufnr)
  if not config.options.editor_definitions or state[bufnr] then
    return
  end
  state[bufnr] = { generation = 0 }
  local group = vim.api.nvim_create_augroup('qwen_lsp_definitions_' .. bufnr, { clear = true })
  local function schedule()
    local s = state[bufnr]
    if not s then
      return
    end
    s.generation = s.generation + 1 -- a lookup in flight for an older cursor is dropped
    if s.timer then
      s.timer:stop()
    else
      s.timer = vim.uv.new_timer()
    end
    s.timer:start(M.DEBOUNCE_MS, 0, vim.schedule_wrap(function()
      M.look_up(qwen, bufnr)
    end))
  end
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'CursorMovedI', 'CursorHoldI', 'CursorHold' }, {
    group = group,
    buffer = bufnr,
    callback = schedule,
  })
  vim.api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local s = state[bufnr]
      if s and s.timer then
        s.timer:stop()
        s.timer:close()
      end
      state[bufnr] = nil
      pcall(vim.api.nvim_del_augroup_by_id, group)
    end,
  })
end

return M
