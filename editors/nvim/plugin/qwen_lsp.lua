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
vim.api.nvim_create_user_command('QwenToggle', function()
  require('qwen_lsp').toggle()
end, { desc = 'Toggle Qwen inline completions' })
