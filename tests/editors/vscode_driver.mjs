// Drives real VS Code (code-server) in headless Chromium with playwright-core, as a user would.
// Usage: node vscode_driver.mjs '<json params>'; prints one JSON line with what it saw. The test asserts on the
// files on disk (the DOM text of an editor includes the ghost text, so it proves nothing about the buffer).
//
// params: { url, folder, file, typed, mode: "ghost" | "codeaction" | "command", screenshot?, accept?,
//           select?: [fromLine, toLine], actionTitle?, instruction?, command?, timeoutMs?,
//           install?: { choice, baseUrl?, timeoutMs }, statusMenu?,
//           afterCommands?: [{ command, dialogButton?, restart?: boolean, notification?: string, timeoutMs? }],
//           steps?: [{ press?, waitMs? }] (ghost mode: keys and pauses at the end of the file before typing) }
import { chromium } from 'playwright-core';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const p = JSON.parse(process.argv[2]);
const timeout = p.timeoutMs ?? 240000;
const result = { console: [], notifications: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function notifications(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

/** Text of the Qwen status bar item ("Qwen" when ready, "Qwen: loading model", ...). */
async function qwenStatus(page) {
  const items = await page.locator('.part.statusbar .statusbar-item').allTextContents();
  return items.map((t) => t.trim()).find((t) => /^Qwen\b/.test(t));
}

async function openFile(page, file) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type(file);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  const editor = page.locator('.part.editor .monaco-editor').first();
  await editor.waitFor({ state: 'visible' });
  await page.locator(`.part.editor .tab[aria-label*="${file.split('/').pop()}"]`).first().waitFor();
  await editor.locator('.view-lines').click();
  return editor;
}

async function ghostText(page) {
  const first = (await page.locator('.part.editor .ghost-text-decoration').allTextContents()).join('');
  const more = await page.locator('.part.editor .ghost-text .view-line').allTextContents();
  const text = [first, ...more].join('\n').replace(/\u00a0/g, ' ');
  return text.trim() ? text : '';
}

/** The editor's text as shown, without ghost text: it grows when a suggestion is accepted. */
async function shownText(page) {
  return page.evaluate(() => {
    const lines = document.querySelector('.part.editor .view-lines');
    if (!lines) return '';
    const copy = lines.cloneNode(true);
    copy.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text').forEach((n) => n.remove());
    return copy.textContent ?? '';
  });
}

/** The extension's offer to install the server: click the choice, answer the endpoint question, follow the progress
 *  notification (its messages go to result.progress) until the language client starts. */
async function acceptInstallOffer(page, install) {
  const offer = page.locator('.notifications-toasts .notification-list-item', { hasText: 'not installed' }).first();
  await offer.waitFor({ timeout: 60000 });
  result.offer = (await offer.locator('.notification-list-item-message').textContent())?.trim();
  await offer.locator('.monaco-button', { hasText: install.choice }).first().click();
  if (install.baseUrl) {
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30000 });
    result.baseUrlPrefill = await input.inputValue();
    await input.fill(install.baseUrl);
    await page.keyboard.press('Enter');
  }
  result.progress = [];
  await waitFor(async () => {
    for (const text of await notifications(page)) {
      if (text.trim() && !result.progress.includes(text.trim())) result.progress.push(text.trim());
    }
    if (result.console.some((l) => l.includes('[qwen-lsp] language client started'))) return true;
    const failed = result.progress.find((t) => /failed/.test(t));
    if (failed) throw new Error(failed);
    return false;
  }, install.timeoutMs ?? 900000, 'the install to finish and the language client to start');
}

const clientStarts = () => result.console.filter((l) => l.includes('[qwen-lsp] language client started')).length;

/** Run palette commands one after the other: confirm a modal dialog, wait for the client to start again or for a
 *  notification; the notifications seen meanwhile go to result.after. */
async function runAfterCommands(page, commands) {
  result.after = [];
  for (const c of commands) {
    const starts = clientStarts();
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
    await page.keyboard.type(c.command);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: c.command.replace(/^Qwen: /, '') }).first().waitFor();
    await page.keyboard.press('Enter');
    if (c.dialogButton) {
      const button = page.locator('.monaco-dialog-box .monaco-button', { hasText: c.dialogButton }).first();
      await button.waitFor({ timeout: 10000 });
      await button.click();
    }
    await waitFor(async () => {
      for (const text of await notifications(page)) if (!result.after.includes(text.trim())) result.after.push(text.trim());
      if (c.restart) return clientStarts() > starts;
      return result.after.some((t) => t.includes(c.notification));
    }, c.timeoutMs ?? 300000, `${c.command} to finish`);
  }
}

/** The status menu (Qwen: Show status menu): its title and entries. */
async function readStatusMenu(page) {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type('Qwen: Show status menu');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show status menu' }).first().waitFor();
  await page.keyboard.press('Enter');
  const title = page.locator('.quick-input-widget .quick-input-title', { hasText: 'Qwen LSP' });
  await title.waitFor({ timeout: 10000 });
  const menu = { title: (await title.textContent())?.trim() };
  menu.items = (await page.locator('.quick-input-list .monaco-list-row').allTextContents()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  return menu;
}

let page;
try {
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => result.console.push(m.text()));
  await page.goto(`${p.url}/?folder=${encodeURIComponent(p.folder)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  if (p.install) await acceptInstallOffer(page, p.install);
  await waitFor(() => result.console.some((l) => l.includes('[qwen-lsp] language client started')), 60000,
    'the extension to start its language client');
  // Ready means the model is loaded; an error state fails right away.
  result.status = await waitFor(async () => {
    const s = await qwenStatus(page);
    if (s && /error/i.test(s)) throw new Error(`Qwen status: ${s}; notifications: ${await notifications(page)}`);
    return s === 'Qwen' ? s : undefined;
  }, timeout, 'the Qwen status item to say ready');

  const editor = await openFile(page, p.file);
  const path = join(p.folder, p.file);
  const before = readFileSync(path, 'utf8');
  const mtime = statSync(path).mtimeMs;

  if (p.mode === 'ghost') {
    await page.keyboard.press('Control+End');
    for (const step of p.steps ?? []) {
      if (step.press) await page.keyboard.press(step.press);
      if (step.waitMs) await new Promise((r) => setTimeout(r, step.waitMs));
    }
    await page.keyboard.type(p.typed, { delay: 30 });
    const deadline = Date.now() + timeout;
    let ghost = '';
    while (!ghost && Date.now() < deadline) {
      try {
        await page.locator('.part.editor .ghost-text-decoration').first().waitFor({ timeout: 60000 });
      } catch {
        // Nothing yet (e.g. the model was still busy): ask again the way a user would, with Alt+\ (trigger).
        await page.keyboard.press('Alt+Backslash');
      }
      ghost = await ghostText(page);
    }
    if (!ghost) throw new Error('no ghost text appeared');
    result.ghost = ghost;
    if (p.screenshot) await page.screenshot({ path: p.screenshot });
    const shown = await shownText(page);
    await page.keyboard.press(p.accept ?? 'Tab');
    // Accepted: the text grew. The ghost text alone does not tell: a fast model shows the next suggestion at once,
    // and a tiny test model's next one can read the same as the accepted one.
    await waitFor(async () => !(await ghostText(page)) || (await shownText(page)).length > shown.length, 10000,
      'the ghost text to be accepted');
  } else if (p.mode === 'codeaction') {
    const [from, to] = p.select;
    await page.keyboard.press('Control+G');
    await page.keyboard.type(String(from));
    await page.keyboard.press('Enter');
    await page.keyboard.press('Home');
    for (let i = from; i <= to; i++) await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Control+Period');
    const menu = page.locator('.action-widget');
    await menu.waitFor({ state: 'visible', timeout: 30000 }).catch(() => undefined);
    result.actions = (await menu.locator('.action-item, .monaco-list-row').allTextContents()).map((t) => t.trim());
    const action = menu.locator('.monaco-list-row', { hasText: p.actionTitle }).first();
    if (!(await action.count())) {
      result.applied = false;
      throw Object.assign(new Error('no such code action'), { soft: true });
    }
    // The action widget re-renders as actions arrive: hover until our row is the focused one, then Enter runs it.
    const focused = menu.locator('.monaco-list-row.focused', { hasText: p.actionTitle });
    await waitFor(async () => {
      await action.hover({ force: true });
      await page.waitForTimeout(300);
      return (await focused.count()) > 0;
    }, 20000, `"${p.actionTitle}" focused in the code action menu`);
    result.chosen = (await focused.first().textContent())?.trim();
    await page.keyboard.press('Enter');
    const input = page.locator('.quick-input-widget input');
    if (p.instruction && (await input.waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false))) {
      await page.keyboard.type(p.instruction);
      await page.keyboard.press('Enter');
    }
    await waitFor(async () => (await editor.locator('.view-lines').textContent()) !== null &&
      (await page.locator('.part.editor .tab.dirty').count()) > 0, timeout, 'the refactor edit');
    result.applied = true;
  } else if (p.mode === 'agent') {
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
    await page.keyboard.type('Qwen: Agent refactor');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Agent refactor' }).first().waitFor();
    await page.keyboard.press('Enter');
    // Scope pick (no selection: File / Workspace), then the instruction.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Workspace' }).first().waitFor();
    await page.keyboard.type(p.scope ?? 'File');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Agent refactor' }).waitFor();
    await page.keyboard.type(p.instruction);
    await page.keyboard.press('Enter');
    // The agent's edit opens in the Refactor Preview; nothing changes until Apply.
    const apply = page.locator('.monaco-button', { hasText: /^Apply$/ }).first();
    await apply.waitFor({ state: 'visible', timeout });
    result.previewShown = true;
    result.dirtyBeforeApply = (await page.locator('.part.editor .tab.dirty').count()) > 0;
    if (p.screenshot) await page.screenshot({ path: p.screenshot });
    // Changes that need confirmation start unticked: the user ticks the file (all its changes), then Apply.
    await page.locator('.part.panel .monaco-tl-row', { hasText: p.file.split('/').pop() })
      .locator('input[type="checkbox"]').first().check();
    await apply.click();
    await waitFor(async () => (await page.locator('.part.editor .tab.dirty').count()) > 0, 20000, 'the applied edit');
    await editor.locator('.view-lines').click();
  }
  if (p.mode === 'command') {
    // Run a command from the palette and report the text of the editor it opens.
    await page.keyboard.press('Control+End');
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
    await page.keyboard.type(p.command);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: p.command.replace(/^Qwen: /, '') }).first().waitFor();
    await page.keyboard.press('Enter');
    const tab = page.locator('.part.editor .tab', { hasText: p.tabText });
    await tab.first().waitFor({ timeout });
    const opened = page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first();
    result.text = await waitFor(async () => {
      const t = (await opened.textContent())?.replace(/\u00a0/g, ' ');
      return t && t.includes(p.expect) ? t : undefined;
    }, 30000, `"${p.expect}" in the opened editor`);
    result.tabs = await page.locator('.part.editor .tab').allTextContents();
  } else {
    await page.keyboard.press('Control+S');
    await waitFor(() => statSync(path).mtimeMs !== mtime, 20000, 'the file to be saved');
  }
  result.before = before;
  result.notifications = await notifications(page);
  if (p.statusMenu) result.statusMenu = await readStatusMenu(page);
  if (p.afterCommands) await runAfterCommands(page, p.afterCommands);
} catch (err) {
  result.error = String(err?.message ?? err);
  if (page && p.failShot) await page.screenshot({ path: p.failShot }).catch(() => undefined);
  result.soft = Boolean(err?.soft);
  if (page) result.notifications = await notifications(page).catch(() => []);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
