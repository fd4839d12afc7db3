--- :checkhealth qwen_lsp — Neovim version and inline completion path, the server :QwenInstall installed (version),
--- server executable, `qwen-lsp doctor`
--- (model files, backend), the running client and its last status, the configured endpoint.
local config = require('qwen_lsp.config')
local server = require('qwen_lsp.server')
local status = require('qwen_lsp.status')

local M = {}

function M.check()
  local health = vim.health
  health.start('qwen_lsp: Neovim')
  local v = vim.version()
  if config.use_builtin_inline() then
    health.ok(('Neovim %d.%d.%d: ghost text by vim.lsp.inline_completion'):format(v.major, v.minor, v.patch))
  elseif vim.fn.has('nvim-0.10') == 1 then
    health.ok(('Neovim %d.%d.%d: ghost text drawn by the plugin (extmarks)'):format(v.major, v.minor, v.patch))
  else
    health.error('Neovim 0.10 or newer is required')
  end

  health.start('qwen_lsp: server')
  local managed = require('qwen_lsp.install').describe()
  if managed then
    health.ok(managed .. ' in ' .. require('qwen_lsp.install').root() .. ' (:QwenUpdate, :QwenUninstall)')
  else
    health.info('no server installed by :QwenInstall')
  end
  local cmd, err = server.resolve_cmd()
  if not cmd then
    health.error(err)
    return
  end
  health.ok('server command: ' .. table.concat(cmd, ' '))
  local ok, result = pcall(function()
    return vim.system({ cmd[1], 'doctor' }, { text = true, env = config.options.env }):wait(30000)
  end)
  if not ok then
    health.error('could not run `qwen-lsp doctor`: ' .. tostring(result))
  else
    local report = vim.trim((result.stdout or '') .. '\n' .. (result.stderr or ''))
    local fn = result.code == 0 and health.ok or health.error
    fn(('`qwen-lsp doctor` exited with %d'):format(result.code))
    for _, line in ipairs(vim.split(report, '\n', { plain = true })) do
      if line ~= '' then
        health.info(line)
      end
    end
  end

  health.start('qwen_lsp: model and endpoint')
  local backend = config.options.server.backend or {}
  local kind = backend.kind or 'local (server default)'
  health.info('backend: ' .. kind)
  if backend.kind == 'remote' then
    local remote = backend.remote or {}
    health.info('endpoint: ' .. (remote.base_url or '(server default)') .. ', model: ' .. (remote.model or '(server default)'))
    local env_name = remote.api_key_env or 'QWEN_LSP_API_KEY'
    if (config.options.env[env_name] or vim.env[env_name] or '') == '' then
      health.warn(('no API key in $%s (fine for endpoints without authentication)'):format(env_name))
    end
  else
    local model = (backend['local'] or {}).model
    if model and model:match('%.gguf$') then
      if vim.uv.fs_stat(vim.fn.expand(model)) then
        health.ok('model file: ' .. model)
      else
        health.error('model file not found: ' .. model)
      end
    else
      health.info('model: ' .. (model or 'server default preset') .. ' (`qwen-lsp model list` shows the presets)')
    end
  end
  local client = server.get_client()
  if client then
    local fn = status.current.state == 'error' and health.error or health.ok
    fn(('client %d running: %s'):format(client.id, status.describe():gsub('\n', ', ')))
  else
    health.info('no qwen-lsp client running (open a file of a configured filetype)')
  end
end

return M
