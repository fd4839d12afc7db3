--- :QwenInstall [local|remote], :QwenUpdate, :QwenUninstall — qwen-lsp in an environment the plugin manages under
--- stdpath('data')/qwen-lsp: a venv made from a Python >= 3.11 (`python -m venv` + pip, or uv when it is on PATH),
--- installed asynchronously (vim.system) with each step in a small floating window and in vim.notify.
--- install.json next to the venv records what was installed; it is written last, so an interrupted install never
--- counts as installed.
local config = require('qwen_lsp.config')
local progress = require('qwen_lsp.progress')

local M = {}

local is_win = vim.fn.has('win32') == 1
local BIN = is_win and 'Scripts' or 'bin'
local EXE = is_win and '.exe' or ''
M.COMPILE_NOTE = 'compiling llama-cpp-python, usually 10–15 minutes'
local VARIANT_LABEL = { ['local'] = 'local model', remote = 'remote endpoint only' }

--- True while an install, update or uninstall runs.
M.busy = false
--- Outcome of the last run: { ok = boolean, message = string }.
M.last = nil

function M.root()
  return vim.fs.joinpath(vim.fn.stdpath('data'), 'qwen-lsp')
end

local function venv()
  return vim.fs.joinpath(M.root(), 'venv')
end

local function venv_python()
  return vim.fs.joinpath(venv(), BIN, 'python' .. EXE)
end

function M.executable()
  return vim.fs.joinpath(venv(), BIN, 'qwen-lsp' .. EXE)
end

local function state_file()
  return vim.fs.joinpath(M.root(), 'install.json')
end

--- What :QwenInstall installed ({ version, variant, source, python, tool, cmake_args }), or nil.
function M.state()
  local f = io.open(state_file(), 'r')
  if not f then
    return nil
  end
  local ok, state = pcall(vim.json.decode, f:read('*a'))
  f:close()
  if ok and type(state) == 'table' and vim.fn.executable(M.executable()) == 1 then
    return state
  end
  return nil
end

--- The managed server's executable when one is installed.
function M.installed_executable()
  return M.state() and M.executable() or nil
end

--- "qwen-lsp 0.1.0 (installed by :QwenInstall, remote endpoint only)", or nil.
function M.describe()
  local s = M.state()
  return s and ('qwen-lsp %s (installed by :QwenInstall, %s)'):format(s.version, VARIANT_LABEL[s.variant] or s.variant)
end

--- The repository this plugin lives in (editors/nvim two levels below its root) when its pyproject.toml names
--- qwen-lsp: the default package source, since qwen-lsp is installed from a checkout, not from PyPI.
function M.plugin_repository()
  local here = debug.getinfo(1, 'S').source:gsub('^@', '')
  local root = vim.fn.fnamemodify(here, ':p:h:h:h:h:h') -- lua/qwen_lsp/install.lua -> editors/nvim -> root
  local f = io.open(vim.fs.joinpath(root, 'pyproject.toml'), 'r')
  if not f then
    return nil
  end
  local text = f:read('*a')
  f:close()
  return text:find('\nname%s*=%s*"qwen%-lsp"') and root or nil
end

--- install.source when set, else the plugin's repository, else the PyPI name.
function M.default_source()
  local source = vim.trim(config.options.install.source or '')
  return source ~= '' and source or M.plugin_repository() or 'qwen-lsp'
end

--- The pip requirement for the package source, with the `local` extra for a local-model install.
function M.requirement(source, variant)
  source = vim.trim(source or '')
  if source == '' then
    source = 'qwen-lsp'
  end
  if variant ~= 'local' then
    return source
  end
  if source:match('^%a[%w+]*://') then
    return 'qwen-lsp[local] @ ' .. source
  end
  if source:match('%.whl$') or source:find('/', 1, true) or source:match('^[.~]') then
    return source .. '[local]'
  end
  local name, rest = source:match('^([%w][%w._-]*)(.*)$')
  if not name then
    return source
  end
  local extras, after = rest:match('^%[([^%]]*)%](.*)$')
  if not extras then
    return name .. '[local]' .. rest
  end
  if vim.tbl_contains(vim.split((extras:gsub('%s', '')), ','), 'local') then
    return source
  end
  return name .. '[' .. extras .. ',local]' .. after
end

local PROBE = 'import sys, importlib.util as u; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3]); '
  .. 'print(int(u.find_spec("ensurepip") is not None))'

--- A Python >= 3.11: opts.install.python, else the newest python3.x on PATH.
---@return string|nil python, string|nil error
function M.find_python(need_ensurepip)
  local configured = config.options.install.python
  local candidates = configured and { vim.fn.expand(configured) } or { 'python3.13', 'python3.12', 'python3.11', 'python3', 'python' }
  local problems = {}
  for _, candidate in ipairs(candidates) do
    local ok, result = pcall(function()
      return vim.system({ candidate, '-c', PROBE }, { text = true }):wait(15000)
    end)
    if ok and result.code == 0 then
      local lines = vim.split(vim.trim(result.stdout), '\n')
      local major, minor = lines[2]:match('^(%d+)%.(%d+)')
      major, minor = tonumber(major), tonumber(minor)
      if major < 3 or (major == 3 and minor < 11) then
        table.insert(problems, ('%s is Python %s'):format(lines[1], lines[2]))
      elseif need_ensurepip and lines[3] ~= '1' then
        table.insert(problems, ('%s cannot create virtual environments: install its venv package (python3-venv)'):format(lines[1]))
      else
        return lines[1]
      end
    end
  end
  return nil,
    'no Python 3.11 or newer found' .. (#problems > 0 and (' (' .. table.concat(problems, '; ') .. ')') or '')
      .. ': install one, or set setup({ install = { python = "/path/to/python3.12" } })'
end

--- NVIDIA GPU (nvidia-smi answers) or Apple Silicon: { label, cmake_args, needs }, or nil.
function M.detect_gpu()
  local uname = vim.uv.os_uname()
  if uname.sysname == 'Darwin' and uname.machine == 'arm64' then
    return { label = 'Apple Silicon', cmake_args = '-DGGML_METAL=on', needs = 'the Xcode command line tools' }
  end
  if vim.fn.executable('nvidia-smi') == 0 then
    return nil
  end
  local result = vim.system({ 'nvidia-smi', '--query-gpu=name', '--format=csv,noheader' }, { text = true }):wait(5000)
  local name = result.code == 0 and vim.trim(vim.split(result.stdout or '', '\n')[1] or '') or ''
  if name == '' then
    return nil
  end
  -- drivers since 2021 name the card with its maker ("NVIDIA GeForce RTX 4090"), older ones without ("Tesla T4")
  local label = vim.startswith(name, 'NVIDIA') and name or ('NVIDIA ' .. name)
  return { label = label, cmake_args = '-DGGML_CUDA=on', needs = 'the CUDA toolkit (nvcc)' }
end

--- Run a command asynchronously; each output line goes to on_line (main loop); done(ok, last_lines).
local function run(cmd, env, on_line, done)
  local tail, pending = {}, { stdout = '', stderr = '' }
  local function feed(stream)
    return function(_, data)
      if not data then
        return
      end
      local parts = vim.split(pending[stream] .. data, '[\r\n]')
      pending[stream] = table.remove(parts)
      vim.schedule(function()
        for _, line in ipairs(parts) do
          if vim.trim(line) ~= '' then
            table.insert(tail, line)
            if #tail > 12 then
              table.remove(tail, 1)
            end
            on_line(line)
          end
        end
      end)
    end
  end
  local ok, err = pcall(vim.system, cmd, { env = env, stdout = feed('stdout'), stderr = feed('stderr'), text = true }, function(result)
    vim.schedule(function()
      done(result.code == 0, table.concat(tail, '\n'))
    end)
  end)
  if not ok then
    done(false, tostring(err))
  end
end

local function interesting(line)
  for _, word in ipairs({ 'Collecting', 'Downloading', 'Building', 'Installing collected', 'Successfully installed', 'Prepared', 'Installed', 'Resolved' }) do
    if vim.startswith(vim.trim(line), word) then
      return vim.trim(line)
    end
  end
end

local function stop_clients()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'qwen_lsp' })) do
    vim.lsp.stop_client(client.id, true)
  end
end

--- Install (or, with opts.update, update) the server; opts: { variant, gpu?, update? }.
local function run_install(opts)
  local tool_uv = vim.fn.exepath('uv')
  local previous = M.state()
  local use_uv = (opts.update and previous) and previous.tool == 'uv' or (not opts.update and tool_uv ~= '')
  local python, err = opts.python, nil
  if not python then
    python, err = M.find_python(not use_uv)
  end
  if not python then
    M.last = { ok = false, message = err }
    return vim.notify('Qwen install: ' .. err, vim.log.levels.ERROR)
  end
  local source = M.default_source()
  local req = M.requirement(source, opts.variant)
  local env = { PIP_DISABLE_PIP_VERSION_CHECK = '1', PYTHONUNBUFFERED = '1', VIRTUAL_ENV = '' }
  if opts.gpu then
    env.CMAKE_ARGS = opts.gpu.cmake_args
  end
  local function pip(extra)
    local cache = opts.gpu and { use_uv and '--no-cache' or '--no-cache-dir' } or {}
    local cmd = use_uv and { tool_uv, 'pip', 'install', '--python', venv_python() } or { venv_python(), '-m', 'pip', 'install', '--progress-bar', 'off' }
    return vim.list_extend(vim.list_extend(vim.list_extend(cmd, extra), cache), { req })
  end
  local what = opts.variant == 'local'
      and ('qwen-lsp with the local model (' .. M.COMPILE_NOTE .. (opts.gpu and (', ' .. opts.gpu.cmake_args) or '') .. ')')
    or 'qwen-lsp (remote endpoint only)'
  local is_file = vim.uv.fs_stat(vim.fn.expand(source)) ~= nil

  local steps = {}
  if not opts.update then
    vim.fn.delete(M.root(), 'rf')
    vim.fn.mkdir(M.root(), 'p')
    table.insert(steps, {
      'Creating the environment (Python ' .. python .. ')',
      use_uv and { tool_uv, 'venv', '--python', python, venv() } or { python, '-m', 'venv', venv() },
    })
  end
  local verb = opts.update and 'Updating ' or 'Installing '
  if opts.update and is_file then
    -- A wheel or folder of the same version counts as installed for pip: reinstall the package itself first.
    table.insert(steps, { verb .. what, pip({ '--force-reinstall', '--no-deps' }) })
  end
  table.insert(steps, { verb .. what, pip(opts.update and { '--upgrade' } or {}) })
  local version = ''
  table.insert(steps, {
    'Checking the installed server',
    { venv_python(), '-c', 'import importlib.metadata as m; print(m.version("qwen-lsp"))' },
    function(line)
      version = vim.trim(line)
    end,
  })

  M.busy = true
  stop_clients()
  progress.open(opts.update and 'Qwen: updating the server' or 'Qwen: installing the server')
  local timer = vim.uv.new_timer()
  timer:start(1000, 1000, vim.schedule_wrap(progress.render))
  local function finish(ok, message)
    timer:stop()
    timer:close()
    progress.close()
    M.busy = false
    M.last = { ok = ok, message = message }
    if not ok then
      return vim.notify('Qwen install failed: ' .. message, vim.log.levels.ERROR)
    end
    M.last.state = {
      version = version, variant = opts.variant, source = source, python = python,
      tool = use_uv and 'uv' or 'pip', cmake_args = opts.gpu and opts.gpu.cmake_args or nil,
    }
    vim.fn.writefile({ vim.json.encode(M.last.state) }, state_file())
    local note = ''
    local kind = ((config.options.server or {}).backend or {}).kind
    if opts.variant == 'remote' and kind ~= 'remote' then
      note = '; point it at your endpoint: setup({ server = { backend = { kind = "remote", remote = { base_url = "http://…/v1" } } } })'
    end
    vim.notify(('Qwen: qwen-lsp %s installed (%s)%s'):format(version, VARIANT_LABEL[opts.variant], note))
    require('qwen_lsp').attach_loaded()
  end
  local i = 0
  local function next_step()
    i = i + 1
    local step = steps[i]
    if not step then
      return finish(true, 'installed')
    end
    progress.set_step(step[1])
    run(step[2], env, function(line)
      if step[3] then
        return step[3](line)
      end
      if line:match('Building.*llama[-_]cpp[-_]python') then
        progress.set_step('Compiling llama-cpp-python (usually 10–15 minutes)')
      end
      progress.detail = interesting(line) or progress.detail
      progress.render()
    end, function(ok, tail)
      if not ok then
        return finish(false, step[1] .. ' failed:\n' .. tail)
      end
      next_step()
    end)
  end
  next_step()
end

--- :QwenInstall [local|remote] — asks which one (and the GPU build) when not given.
function M.install(variant)
  if M.busy then
    return vim.notify('Qwen: an install is already running', vim.log.levels.WARN)
  end
  if variant == nil or variant == '' then
    return vim.ui.select({ 'local', 'remote' }, {
      prompt = 'Install the qwen-lsp server for:',
      format_item = function(v)
        return v == 'local' and ('Local model (' .. M.COMPILE_NOTE .. ')') or 'Remote endpoint only (OpenAI-compatible server; nothing compiles)'
      end,
    }, function(choice)
      if choice then
        M.install(choice)
      end
    end)
  end
  if variant ~= 'local' and variant ~= 'remote' then
    return vim.notify('Qwen: :QwenInstall local or :QwenInstall remote', vim.log.levels.ERROR)
  end
  if variant == 'remote' then
    return run_install({ variant = 'remote' })
  end
  local gpu = M.detect_gpu()
  if not gpu then
    return run_install({ variant = 'local' })
  end
  vim.ui.select({ gpu, false }, {
    prompt = gpu.label .. ' found. Build llama.cpp:',
    format_item = function(g)
      return g and ('for %s: CMAKE_ARGS="%s" (needs %s)'):format(g.label, g.cmake_args, g.needs) or 'for the CPU only'
    end,
  }, function(choice)
    if choice ~= nil then
      run_install({ variant = 'local', gpu = choice or nil })
    end
  end)
end

--- :QwenUpdate — reinstall from the package source (same variant and build flags), then restart the server.
function M.update()
  local state = M.state()
  if not state then
    return vim.notify('Qwen: nothing installed by :QwenInstall yet', vim.log.levels.WARN)
  end
  if M.busy then
    return vim.notify('Qwen: an install is already running', vim.log.levels.WARN)
  end
  local gpu = state.cmake_args and { cmake_args = state.cmake_args } or nil
  run_install({ variant = state.variant, gpu = gpu, update = true, python = state.python })
end

--- :QwenUninstall[!] — remove the managed environment (! without asking). Downloaded models stay.
function M.uninstall(force)
  local state = M.state()
  if not state then
    return vim.notify('Qwen: nothing installed by :QwenInstall', vim.log.levels.WARN)
  end
  if not force and vim.fn.confirm(('Remove qwen-lsp %s from %s?'):format(state.version, M.root()), '&Yes\n&No', 2) ~= 1 then
    return
  end
  stop_clients()
  vim.fn.delete(M.root(), 'rf')
  M.last = { ok = true, message = 'uninstalled' }
  vim.notify('Qwen: the server installed by :QwenInstall was removed')
end

return M
