/**
 * Entry point: wires settings, the status item, the commands and the language client's lifecycle together.
 */
import * as vscode from 'vscode';
import { apiKeyEnvName, contributedKeys, SECTION } from './config';
import { createClient, notifyConfigurationChanged, QwenLanguageClient, trackFocus, trackServerProgress } from './client';
import { EditorDefinitions } from './editorDefinitions';
import { agentRefactor, CONTEXT_SCHEME, ContextDocuments, refactorWithQwen } from './commands';
import { ServerInstaller } from './install';
import { resolveServer, ServerNotFoundError, ServerNotInstalledError } from './serverCommand';
import { StatusItem } from './status';

const SECRET_KEY = 'qwenLsp.apiKey';
/** Settings whose change needs a server restart (how it is started or its environment). */
const RESTART_KEYS = ['serverCommand', 'serverArgs', 'pythonPath', 'backend.remote.api_key_env'];

let client: QwenLanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const status = new StatusItem();
  const outputChannel = vscode.window.createOutputChannel('Qwen LSP', { log: true });
  const traceOutputChannel = vscode.window.createOutputChannel('Qwen LSP Trace', { log: true });
  const configKeys = contributedKeys(context.extension);
  const agentInFlight = { count: 0 };
  const contextDocs = new ContextDocuments();
  context.subscriptions.push(status, outputChannel, traceOutputChannel);
  status.setEnabled(vscode.workspace.getConfiguration(SECTION).get<boolean>('completion.enabled', true));
  const installer = new ServerInstaller(context, { start, stop, log: outputChannel });

  async function start(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    status.setStatus({ state: 'starting', detail: '' });
    let launch;
    try {
      launch = resolveServer(
        config.get('serverCommand', ''), config.get('pythonPath', ''), config.get('serverArgs', []), process.env.PATH,
        installer.executable(),
      );
    } catch (err) {
      if (!(err instanceof ServerNotFoundError)) throw err;
      status.setStatus({ state: 'error', detail: err.message });
      outputChannel.error(err.message);
      // Not awaited: activation must not wait for the answer.
      if (err instanceof ServerNotInstalledError) return void installer.offer();
      void vscode.window.showErrorMessage(`Qwen: ${err.message}`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${context.extension.id}`);
      });
      return;
    }
    const env = { ...process.env };
    const apiKey = await context.secrets.get(SECRET_KEY);
    if (apiKey) env[apiKeyEnvName()] = apiKey;
    outputChannel.info(`starting ${launch.command} ${launch.args.join(' ')}`);
    client = createClient({
      launch,
      env,
      configKeys,
      status,
      outputChannel,
      traceOutputChannel,
      previewEdits: () => agentInFlight.count > 0,
    });
    try {
      await client.start();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      status.setStatus({ state: 'error', detail: message });
      void vscode.window.showErrorMessage(`Qwen: the server failed to start: ${message}`, 'Show Log').then((c) => {
        if (c) outputChannel.show();
      });
      return;
    }
    context.subscriptions.push(trackServerProgress(client, status), trackFocus(client), new EditorDefinitions(client));
    // The server's qwen/status notification replaces this once it reports.
    if (status.state.state === 'starting') status.setStatus({ state: 'ready' });
    // Tests and users can see in the developer console that the client is up.
    console.log('[qwen-lsp] language client started');
  }

  async function stop(): Promise<void> {
    const old = client;
    client = undefined;
    if (old) await old.stop().catch(() => undefined);
    status.setStatus({ state: 'stopped' });
  }

  async function restart(): Promise<void> {
    await stop();
    await start();
  }

  async function toggleCompletions(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const enabled = !config.get<boolean>('completion.enabled', true);
    await config.update('completion.enabled', enabled, vscode.ConfigurationTarget.Global);
    if (!enabled) void vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
    void vscode.window.setStatusBarMessage(`Qwen inline completions ${enabled ? 'on' : 'off'}`, 2000);
  }

  async function statusMenu(): Promise<void> {
    const enabled = vscode.workspace.getConfiguration(SECTION).get<boolean>('completion.enabled', true);
    const items: (vscode.QuickPickItem & { command: string })[] = [
      { label: enabled ? '$(circle-slash) Disable inline completions' : '$(check) Enable inline completions', command: 'qwenLsp.toggleCompletions' },
      { label: '$(output) Show server log', command: 'qwenLsp.showLog' },
      { label: '$(json) Show completion context for the cursor', command: 'qwenLsp.showContext' },
      { label: '$(edit) Refactor with Qwen…', command: 'qwenLsp.refactor' },
      { label: '$(hubot) Agent refactor…', command: 'qwenLsp.agentRefactor' },
      { label: '$(debug-restart) Restart server', command: 'qwenLsp.restart' },
      { label: '$(key) Store API key for the remote endpoint…', command: 'qwenLsp.setApiKey' },
      ...installer.menuItems(),
    ];
    const s = status.state;
    const info = client?.initializeResult?.serverInfo;
    const server = installer.describe() ?? (info ? `${info.name} ${info.version ?? ''}`.trim() : '');
    const picked = await vscode.window.showQuickPick(items, {
      title: `Qwen LSP — ${s.state}${s.model ? ' · ' + s.model : ''}${server ? ' · ' + server : ''}`,
      placeHolder: s.detail || undefined,
    });
    if (picked) await vscode.commands.executeCommand(picked.command);
  }

  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(CONTEXT_SCHEME, contextDocs),
    vscode.commands.registerCommand('qwenLsp.refactor', () => refactorWithQwen(client)),
    vscode.commands.registerCommand('qwenLsp.agentRefactor', () => agentRefactor(client, agentInFlight)),
    vscode.commands.registerCommand('qwenLsp.showContext', () => contextDocs.show(client)),
    vscode.commands.registerCommand('qwenLsp.toggleCompletions', toggleCompletions),
    vscode.commands.registerCommand('qwenLsp.showLog', () => outputChannel.show()),
    vscode.commands.registerCommand('qwenLsp.statusMenu', statusMenu),
    vscode.commands.registerCommand('qwenLsp.restart', restart),
    vscode.commands.registerCommand('qwenLsp.setApiKey', async () => {
      const key = await vscode.window.showInputBox({
        title: 'Qwen: API key for the remote endpoint',
        prompt: `Stored in VS Code's secret storage; the server gets it in $${apiKeyEnvName()}.`,
        password: true,
        ignoreFocusOut: true,
      });
      if (!key) return;
      await context.secrets.store(SECRET_KEY, key);
      await restart();
    }),
    vscode.commands.registerCommand('qwenLsp.clearApiKey', async () => {
      await context.secrets.delete(SECRET_KEY);
      await restart();
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      status.setEnabled(vscode.workspace.getConfiguration(SECTION).get<boolean>('completion.enabled', true));
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) return restart();
      if (client?.isRunning()) notifyConfigurationChanged(client, configKeys);
    }),
    { dispose: () => void stop() },
  );
  await start();
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop().catch(() => undefined);
}
