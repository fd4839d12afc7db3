--- Finding and starting the qwen-lsp server for a buffer, and the client helpers the other modules share.
local config = require('qwen_lsp.config')

local M = {}

M.name = 'qwen_lsp'

--- The server command: opts.cmd, else `qwen-lsp` on PATH, else the script next to opts.python, else the one
--- :QwenInstall installed.
---@return string[]|nil cmd, string|nil error
function M.resolve_cmd()
  local opts = config.options
  if opts.cmd then
    if vim.fn.executable(opts.cmd[1]) == 1 then
      return opts.cmd
    end
    return nil, ('cmd %q is not executable'):format(opts.cmd[1])
  end
  local exe = vim.fn.exepath('qwen-lsp')
  if exe ~= '' then
    return { exe }
  end
  local managed = not opts.python and require('qwen_lsp.install').installed_executable()
  if managed then
    return { managed }
  end
  if opts.python then
    local python = vim.fn.expand(opts.python)
    local script = vim.fs.joinpath(vim.fs.dirname(python), 'qwen-lsp')
    if vim.fn.executable(script) == 1 then
      return { script }
    end
    return nil,
      ('qwen-lsp is not installed in the environment of %s: run `%s -m pip install "/path/to/qwen-lsp[local]"` (a checkout or wheel)'):format(
        python,
        python
      )
  end
  return nil,
    'qwen-lsp not found on PATH: run `:QwenInstall remote` or `:QwenInstall local` (`:help :QwenInstall`), '
      .. 'or install a checkout with `pipx install "/path/to/qwen-lsp[local]"`, '
      .. 'or pass setup({ cmd = { "/path/to/qwen-lsp" } }) or setup({ python = "/path/to/venv/bin/python" })'
end

--- The running qwen-lsp client attached to a buffer (or any, without bufnr).
---@param bufnr? integer
---@return vim.lsp.Client|nil
function M.get_client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  return clients[1]
end

--- client:request on 0.11+, client.request on 0.10.
function M.request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Run a server command (workspace/executeCommand).
---@param command string
---@param args table
---@param handler fun(err: table|nil, result: any)
---@param bufnr? integer
function M.exec(command, args, handler, bufnr)
  local client = M.get_client(bufnr)
  if not client then
    vim.notify('qwen-lsp is not running for this buffer', vim.log.levels.WARN)
    return
  end
  M.request(client, 'workspace/executeCommand', { command = command, arguments = { args } }, function(err, result)
    handler(err, result)
  end, bufnr)
end

--- Whether the server lists a command in executeCommandProvider.
function M.has_command(client, command)
  local provider = client.server_capabilities.executeCommandProvider
  return provider ~= nil and vim.tbl_contains(provider.commands or {}, command)
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  -- 0.10/0.11 do not declare it; the plugin renders the ghost text itself there.
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  -- Agent edits go through the plugin's diff review (commands.apply_edit_handler); the server need not ask first.
  caps.experimental = vim.tbl_extend('force', caps.experimental or {}, { qwenLsp = { reviewsAgentEdits = true } })
  return caps
end

--- Start (or reuse) the server for a buffer.
---@param bufnr integer
---@param handlers table<string, function>
---@param on_attach fun(client: vim.lsp.Client, bufnr: integer)
function M.start(bufnr, handlers, on_attach)
  local cmd, err = M.resolve_cmd()
  if not cmd then
    vim.notify_once('qwen_lsp: ' .. err, vim.log.levels.WARN)
    return
  end
  local opts = config.options
  local root = vim.fs.root(bufnr, opts.root_markers) or vim.fn.getcwd()
  local env = vim.tbl_extend('force', {}, opts.env)
  -- An empty Lua table would be sent as a JSON array; the server expects an object.
  local server_config = next(opts.server) and opts.server or vim.empty_dict()
  vim.lsp.start({
    name = M.name,
    cmd = cmd,
    cmd_env = next(env) and env or nil,
    root_dir = root,
    init_options = server_config,
    settings = { qwenLsp = server_config },
    capabilities = capabilities(),
    handlers = handlers,
    on_attach = on_attach,
  }, { bufnr = bufnr })
end

return M
