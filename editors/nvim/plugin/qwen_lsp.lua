-- User commands of qwen_lsp; the server starts only after require("qwen_lsp").setup().
if vim.g.loaded_qwen_lsp then
  return
end
vim.g.loaded_qwen_lsp = true

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, function(args)
    require('qwen_lsp.commands')[fn](args)
  end, opts)
end

cmd('QwenRefactor', 'refactor', { range = true, nargs = '?', desc = 'Refactor the range (or line) with Qwen' })
cmd('QwenAgent', 'agent', { range = true, bang = true, nargs = '?', desc = 'Agent refactor of the range / file (! workspace), reviewed as a diff' })
cmd('QwenContext', 'context', { desc = 'Show the completion context (prompt, snippets) for the cursor' })
cmd('QwenStatus', 'status', { desc = 'Show the qwen-lsp server state' })
vim.api.nvim_create_user_command('QwenInstall', function(args)
  require('qwen_lsp.install').install(args.args)
end, {
  nargs = '?',
  complete = function()
    return { 'local', 'remote' }
  end,
  desc = 'Install the qwen-lsp server into a managed environment (local model or remote endpoint only)',
})
vim.api.nvim_create_user_command('QwenUpdate', function()
  require('qwen_lsp.install').update()
end, { desc = 'Update the qwen-lsp server :QwenInstall installed' })
vim.api.nvim_create_user_command('QwenUninstall', function(args)
  require('qwen_lsp.install').uninstall(args.bang)
end, { bang = true, desc = 'Remove the qwen-lsp server :QwenInstall installed' })
vim.api.nvim_create_user_command('QwenToggle', function()
  require('qwen_lsp').toggle()
end, { desc = 'Toggle Qwen inline completions' })
