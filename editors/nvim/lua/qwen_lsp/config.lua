--- Options of require("qwen_lsp").setup(): defaults, merging and validation.
local M = {}

---@class qwen_lsp.Keymaps
---@field accept string|false       accept the whole completion (falls back to the key itself)
---@field accept_word string|false  accept the next word
---@field accept_line string|false  accept the rest of the line
---@field dismiss string|false      hide the completion
---@field next string|false         next alternative
---@field prev string|false         previous alternative

---@class qwen_lsp.Options
---@field cmd? string[]             server command; default: qwen-lsp on PATH, else in `python`'s environment
---@field python? string            python of the environment where qwen-lsp is installed
---@field filetypes string[]        filetypes the server starts for ("*" for all)
---@field root_markers string[]     files that mark the project root (the server indexes it)
---@field server table              server config, same shape as the server's (backend/completion/context)
---@field env table<string,string>  extra environment for the server (e.g. QWEN_LSP_API_KEY)
---@field inline { enabled: boolean, builtin: boolean|nil, debounce_ms: integer }
---@field keymaps qwen_lsp.Keymaps
---@field install { source: string|nil, python: string|nil }  what :QwenInstall installs, and from which Python
---@field editor_definitions boolean  pass the other language servers' definitions at the cursor as context
M.defaults = {
  cmd = nil,
  python = nil,
  filetypes = {
    'python', 'lua', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust', 'c', 'cpp',
    'java', 'cs', 'ruby', 'php', 'sh', 'bash', 'zsh', 'kotlin', 'swift', 'scala', 'html', 'css', 'json', 'yaml',
    'toml', 'sql', 'markdown',
  },
  root_markers = { '.git', 'pyproject.toml', 'package.json', 'go.mod', 'Cargo.toml', 'setup.py', 'Makefile' },
  server = {},
  env = {},
  -- Ask the buffer's other language servers for the definitions of the symbols at the cursor and pass them to
  -- qwen-lsp as context (qwen/editorDefinitions).
  editor_definitions = true,
  install = {
    -- nil: the repository this plugin lives in. Else the path of a qwen-lsp checkout or wheel, or a pip requirement.
    source = nil,
    -- nil: the newest python3.x (>= 3.11) on PATH.
    python = nil,
  },
  inline = {
    enabled = true,
    -- nil: use vim.lsp.inline_completion when this Neovim has it (>= 0.12), else the plugin's own ghost text.
    builtin = nil,
    -- Only for the plugin's own ghost text; the server debounces as well (server.completion.debounce_ms).
    debounce_ms = 50,
  },
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-C-Right>',
    dismiss = '<C-]>',
    next = '<M-]>',
    prev = '<M-[>',
  },
}

---@type qwen_lsp.Options
M.options = vim.deepcopy(M.defaults)

---@param opts? table
---@return qwen_lsp.Options
function M.set(opts)
  opts = opts or {}
  for _, spec in ipairs({
    { 'cmd', 'table' }, { 'python', 'string' }, { 'filetypes', 'table' }, { 'root_markers', 'table' },
    { 'server', 'table' }, { 'env', 'table' }, { 'inline', 'table' }, { 'keymaps', 'table' }, { 'install', 'table' },
    { 'editor_definitions', 'boolean' },
  }) do
    local value = opts[spec[1]]
    if value ~= nil and type(value) ~= spec[2] then
      error(('qwen_lsp.setup: %s must be a %s, got %s'):format(spec[1], spec[2], type(value)), 3)
    end
  end
  -- Lists replace the defaults instead of merging index by index.
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  for _, key in ipairs({ 'filetypes', 'root_markers', 'cmd' }) do
    if opts[key] then
      merged[key] = opts[key]
    end
  end
  M.options = merged
  return merged
end

--- Whether this Neovim has the built-in inline completion client (0.12+).
function M.has_builtin_inline()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.get ~= nil
end

function M.use_builtin_inline()
  local choice = M.options.inline.builtin
  if choice == nil then
    return M.has_builtin_inline()
  end
  return choice and M.has_builtin_inline()
end

return M
