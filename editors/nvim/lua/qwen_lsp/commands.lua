--- The user commands: :QwenRefactor, :QwenAgent, :QwenContext, :QwenStatus, :QwenToggle.
local review = require('qwen_lsp.review')
local server = require('qwen_lsp.server')
local status = require('qwen_lsp.status')

local api = vim.api
local M = {}

--- True while an agent refactor runs: its workspace/applyEdit goes through the diff review.
M.agent_in_flight = 0

local function range_params(client, bufnr, line1, line2, has_range)
  if not has_range then
    -- Current line.
    line1 = api.nvim_win_get_cursor(0)[1]
    line2 = line1
  end
  local last = api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  return {
    start = { line = line1 - 1, character = 0 },
    ['end'] = { line = line2 - 1, character = vim.lsp.util.character_offset(bufnr, line2 - 1, #last, client.offset_encoding) },
  }
end

local function is_workspace_edit(v)
  return type(v) == 'table' and (v.changes ~= nil or v.documentChanges ~= nil)
end

local function with_client(bufnr, command)
  local client = server.get_client(bufnr)
  if not client then
    vim.notify('qwen-lsp is not running for this buffer', vim.log.levels.WARN)
    return nil
  end
  if command and not server.has_command(client, command) then
    vim.notify(('this qwen-lsp server does not offer %s; update it'):format(command), vim.log.levels.WARN)
    return nil
  end
  return client
end

--- :[range]QwenRefactor [instruction]
function M.refactor(args)
  local bufnr = api.nvim_get_current_buf()
  local client = with_client(bufnr, 'qwen.refactor')
  if not client then
    return
  end
  local range = range_params(client, bufnr, args.line1, args.line2, args.range > 0)
  local function run(instruction)
    if not instruction or instruction == '' then
      return
    end
    vim.notify('Qwen: refactoring…')
    server.exec('qwen.refactor', {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      range = range,
      instruction = instruction,
    }, function(err, result)
      if err then
        return vim.notify('Qwen refactor failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      end
      if is_workspace_edit(result) then
        vim.lsp.util.apply_workspace_edit(result, client.offset_encoding)
      end
    end, bufnr)
  end
  if args.args ~= '' then
    run(args.args)
  else
    vim.ui.input({ prompt = 'Refactor with Qwen: ' }, run)
  end
end

--- :[range]QwenAgent [instruction] — scope: the range, else the file (with ! the workspace).
function M.agent(args)
  local bufnr = api.nvim_get_current_buf()
  local client = with_client(bufnr, 'qwen.agentRefactor')
  if not client then
    return
  end
  local scope = args.bang and 'workspace' or (args.range > 0 and 'selection' or 'file')
  local params = {
    scope = scope,
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range_params(client, bufnr, args.line1, args.line2, args.range > 0),
  }
  local function run(instruction)
    if not instruction or instruction == '' then
      return
    end
    params.instruction = instruction
    M.agent_in_flight = M.agent_in_flight + 1
    vim.notify(('Qwen agent (%s): working…'):format(scope))
    server.exec('qwen.agentRefactor', params, function(err, result)
      M.agent_in_flight = M.agent_in_flight - 1
      if err then
        return vim.notify('Qwen agent failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      end
      if is_workspace_edit(result) then
        review.confirm_and_apply(result, client.offset_encoding, 'Qwen agent')
      elseif type(result) == 'table' then
        -- The server sent its edit with workspace/applyEdit (reviewed there); this is its report.
        local reason = type(result.failureReason) == 'string' and (' (' .. result.failureReason .. ')') or ''
        local outcome = result.stopReason == 'cancelled' and 'cancelled'
          or (result.applied == true and 'applied' or ('not applied' .. reason))
        vim.notify(('Qwen agent: %s. %s'):format(outcome, type(result.summary) == 'string' and result.summary or ''))
      end
    end, bufnr)
  end
  if args.args ~= '' then
    run(args.args)
  else
    vim.ui.input({ prompt = ('Qwen agent (%s): '):format(scope) }, run)
  end
end

--- Handler for workspace/applyEdit: agent edits are reviewed first, anything else is applied as usual.
function M.apply_edit_handler(default)
  return function(err, params, ctx, cfg)
    if M.agent_in_flight > 0 and params and params.edit then
      local client = vim.lsp.get_client_by_id(ctx.client_id)
      local applied = review.confirm_and_apply(params.edit, client and client.offset_encoding or 'utf-16', params.label or 'Qwen agent')
      return { applied = applied, failureReason = not applied and 'discarded by the user' or nil }
    end
    return default(err, params, ctx, cfg)
  end
end

--- Render the inspectContext result: scalar fields, snippets, then the prompt verbatim.
local function render_context(result)
  local lines = {}
  local rest = vim.deepcopy(result)
  local prompt = rest.prompt
  rest.prompt = nil
  vim.list_extend(lines, vim.split(vim.inspect(rest), '\n', { plain = true }))
  if type(prompt) == 'string' then
    table.insert(lines, '')
    table.insert(lines, '----- prompt -----')
    vim.list_extend(lines, vim.split(prompt, '\n', { plain = true }))
  end
  return lines
end

--- :QwenContext — what the model would see for a completion at the cursor.
function M.context()
  local bufnr = api.nvim_get_current_buf()
  local client = with_client(bufnr, nil)
  if not client then
    return
  end
  local pos = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  server.exec('qwen.inspectContext', { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = pos }, function(err, result)
    if err then
      return vim.notify('Qwen context failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    local buf = api.nvim_create_buf(false, true)
    api.nvim_buf_set_lines(buf, 0, -1, false, render_context(result or {}))
    vim.bo[buf].modifiable = false
    vim.bo[buf].bufhidden = 'wipe'
    vim.cmd('vertical sbuffer ' .. buf)
  end, bufnr)
end

--- :QwenStatus
function M.status()
  local client = server.get_client()
  local lines = { status.describe() }
  table.insert(lines, client and ('client %d running (%s)'):format(client.id, table.concat(client.config.cmd, ' ')) or 'no qwen-lsp client running')
  vim.notify(table.concat(lines, '\n'))
end

return M
