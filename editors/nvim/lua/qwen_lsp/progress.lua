--- Progress of :QwenInstall: a small floating window in the top right corner (step, elapsed time, the latest line
--- of pip's output), plus vim.notify for each step.
local progress = {}

function progress.open(title)
  local buf = vim.api.nvim_create_buf(false, true)
  local width = math.min(72, math.max(30, vim.o.columns - 4))
  local ok, win = pcall(vim.api.nvim_open_win, buf, false, {
    relative = 'editor', row = 1, col = math.max(0, vim.o.columns - width - 2), width = width, height = 2,
    style = 'minimal', border = 'rounded', title = ' ' .. title .. ' ', focusable = false, noautocmd = true,
  })
  progress.buf, progress.win, progress.width = buf, ok and win or nil, width
  progress.step, progress.detail, progress.started = '', '', vim.uv.now()
end

function progress.render()
  if not progress.buf or not vim.api.nvim_buf_is_valid(progress.buf) then
    return
  end
  local elapsed = math.floor((vim.uv.now() - progress.started) / 1000)
  local lines = { ('%s  (%d:%02d)'):format(progress.step, elapsed / 60, elapsed % 60), progress.detail:sub(1, progress.width) }
  vim.api.nvim_buf_set_lines(progress.buf, 0, -1, false, lines)
end

function progress.set_step(step)
  progress.step, progress.detail = step, ''
  vim.notify('Qwen install: ' .. step)
  progress.render()
end

function progress.close()
  if progress.win and vim.api.nvim_win_is_valid(progress.win) then
    vim.api.nvim_win_close(progress.win, true)
  end
  if progress.buf and vim.api.nvim_buf_is_valid(progress.buf) then
    vim.api.nvim_buf_delete(progress.buf, { force = true })
  end
  progress.buf, progress.win = nil, nil
end

return progress
