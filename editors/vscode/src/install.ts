/**
 * Installing the server from VS Code: the offer when `qwen-lsp` is not found, the **Local model** / **Remote endpoint
 * only** choice (with the CUDA / Metal build offer), a progress notification that shows each step, and the commands
 * Qwen: Install server / Update server / Uninstall server. The environment itself is installer.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { SECTION } from './config';
import { COMPILE_NOTE, detectGpu, findPython, Gpu, InstallError, installServer, InstallState, ManagedEnv, Variant } from './installer';
import { findOnPath } from './serverCommand';

const LOCAL = 'Local model';
const REMOTE = 'Remote endpoint only';
const VARIANT_LABEL: Record<Variant, string> = { local: 'local model', remote: 'remote endpoint only' };

const PYPI_NAME = 'qwen-lsp';
const NO_WHEEL_HINT =
  ' (this build of the extension carries no server wheel: set qwenLsp.install.source to a qwen-lsp checkout folder or to a wheel built there with `pip wheel --no-deps .`)';

/** The server's wheel that build.sh packs into the extension (server/qwen_lsp-*.whl), if any. */
export function bundledWheel(extensionPath: string): string | undefined {
  const folder = path.join(extensionPath, 'server');
  const wheels = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => /^qwen_lsp-.+\.whl$/.test(f)).sort() : [];
  return wheels.length ? path.join(folder, wheels[wheels.length - 1]) : undefined;
}

export interface InstallHooks {
  /** Stop the language client before its environment changes. */
  stop(): Promise<void>;
  /** Start the language client (it finds the installed server). */
  start(): Promise<void>;
  log: vscode.LogOutputChannel;
}

export class ServerInstaller {
  readonly env: ManagedEnv;
  private busy = false;
  private offered = false;
  private readonly extensionPath: string;

  constructor(context: vscode.ExtensionContext, private readonly hooks: InstallHooks) {
    this.extensionPath = context.extensionPath;
    this.env = new ManagedEnv(vscode.Uri.joinPath(context.globalStorageUri, 'server').fsPath);
    context.subscriptions.push(
      vscode.commands.registerCommand('qwenLsp.installServer', () => this.install()),
      vscode.commands.registerCommand('qwenLsp.updateServer', () => this.update()),
      vscode.commands.registerCommand('qwenLsp.uninstallServer', () => this.uninstall()),
    );
  }

  /** The executable of the server the extension installed, if any. */
  executable(): string | undefined {
    return this.env.state() ? this.env.executable : undefined;
  }

  /** "qwen-lsp 0.1.0 (installed by the extension, remote endpoint only)", or undefined. */
  describe(): string | undefined {
    const s = this.env.state();
    return s && `qwen-lsp ${s.version} (installed by the extension, ${VARIANT_LABEL[s.variant]})`;
  }

  /** Status menu entries for installing, updating and uninstalling. */
  menuItems(): (vscode.QuickPickItem & { command: string })[] {
    if (!this.env.state()) return [{ label: '$(cloud-download) Install server…', command: 'qwenLsp.installServer' }];
    return [
      { label: '$(arrow-up) Update server', description: this.describe(), command: 'qwenLsp.updateServer' },
      { label: '$(trash) Uninstall server', command: 'qwenLsp.uninstallServer' },
    ];
  }

  /** After the server was not found: offer the install (once per session). */
  async offer(): Promise<void> {
    if (this.offered || this.busy) return;
    this.offered = true;
    const choice = await vscode.window.showInformationMessage(
      'Qwen: the qwen-lsp language server is not installed. Install it into an environment managed by the extension? ' +
        `${LOCAL}: runs the model on this machine (${COMPILE_NOTE}; then it offers to download the model). ` +
        `${REMOTE}: for an OpenAI-compatible server, nothing compiles.`,
      LOCAL,
      REMOTE,
      'Settings',
    );
    if (choice === 'Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'qwenLsp.serverCommand');
    } else if (choice) {
      await this.install(choice === LOCAL ? 'local' : 'remote');
    }
  }

  private async pickVariant(): Promise<Variant | undefined> {
    const items: (vscode.QuickPickItem & { variant: Variant })[] = [
      { label: LOCAL, variant: 'local', detail: `Runs a GGUF model in the server with llama.cpp (${COMPILE_NOTE}).` },
      { label: REMOTE, variant: 'remote', detail: 'Uses an OpenAI-compatible endpoint (vLLM, llama-server, Ollama, …); nothing compiles.' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'Qwen: install the qwen-lsp server', ignoreFocusOut: true });
    return picked?.variant;
  }

  /** CUDA / Metal build flags when the machine has such a GPU and the user wants them. */
  private async pickGpu(): Promise<Gpu | undefined | 'cancel'> {
    const gpu = await detectGpu();
    if (!gpu) return undefined;
    const picked = await vscode.window.showQuickPick(
      [
        { label: `Build for ${gpu.label}`, gpu, detail: `Compiles llama.cpp with CMAKE_ARGS="${gpu.cmakeArgs}" (needs ${gpu.needs}); layers run on the GPU.` },
        { label: 'CPU only', gpu: undefined, detail: 'Compiles llama.cpp for the CPU.' },
      ],
      { title: `Qwen: ${gpu.label} found`, ignoreFocusOut: true },
    );
    return picked ? picked.gpu : 'cancel';
  }

  /** Ask for the endpoint; stores it (and backend.kind = remote) in the user settings. */
  private async askEndpoint(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const url = await vscode.window.showInputBox({
      title: 'Qwen: base URL of the OpenAI-compatible endpoint',
      value: config.get<string>('backend.remote.base_url', 'http://127.0.0.1:8000/v1'),
      prompt: 'Set the model name (qwenLsp.backend.remote.model) and an API key (Qwen: Store API key…) if it needs them.',
      ignoreFocusOut: true,
      validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'an http:// or https:// URL'),
    });
    if (!url) return false;
    await config.update('backend.remote.base_url', url.trim(), vscode.ConfigurationTarget.Global);
    await config.update('backend.kind', 'remote', vscode.ConfigurationTarget.Global);
    return true;
  }

  /** Qwen: Install server (the variant is asked when not given). */
  async install(variant?: Variant): Promise<void> {
    if (this.busy) return void vscode.window.showInformationMessage('Qwen: the server is being installed.');
    variant = variant ?? (await this.pickVariant());
    if (!variant) return;
    let gpu: Gpu | undefined;
    if (variant === 'remote') {
      if (!(await this.askEndpoint())) return;
    } else {
      const picked = await this.pickGpu();
      if (picked === 'cancel') return;
      gpu = picked;
      const config = vscode.workspace.getConfiguration(SECTION);
      if (config.get('backend.kind') === 'remote') await config.update('backend.kind', 'local', vscode.ConfigurationTarget.Global);
    }
    await this.run('installing', async (report, signal) => {
      report.step('Finding Python 3.11 or newer');
      const configured = vscode.workspace.getConfiguration(SECTION).get<string>('install.python', '');
      const python = await findPython(configured, !findOnPath(process.env.PATH, 'uv'));
      return installServer(this.env, { source: this.source(), variant, python: python.path, gpu }, report, signal);
    });
  }

  /** Qwen: Update server — reinstall from the package source, same variant and build flags. */
  async update(): Promise<void> {
    const state = this.env.state();
    if (!state) return this.install();
    if (this.busy) return;
    const gpu = state.cmakeArgs ? { label: '', cmakeArgs: state.cmakeArgs, needs: '' } : undefined;
    await this.run('updating', (report, signal) =>
      installServer(this.env, { source: this.source(), variant: state.variant, python: state.python, gpu, update: true }, report, signal),
    );
  }

  /** Qwen: Uninstall server — removes the managed environment (downloaded models stay). */
  async uninstall(): Promise<void> {
    const state = this.env.state();
    if (!state || this.busy) return void vscode.window.showInformationMessage('Qwen: the extension has not installed a server.');
    const ok = await vscode.window.showWarningMessage(
      `Remove qwen-lsp ${state.version} from ${this.env.root}? Downloaded models stay where they are.`,
      { modal: true },
      'Uninstall',
    );
    if (ok !== 'Uninstall') return;
    await this.hooks.stop();
    await this.env.remove();
    this.hooks.log.info(`removed ${this.env.root}`);
    void vscode.window.showInformationMessage('Qwen: the server was uninstalled.');
  }

  /** qwenLsp.install.source, else the server wheel packaged with the extension, else the PyPI name. */
  private source(): string {
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>('install.source', '').trim();
    return configured || bundledWheel(this.extensionPath) || PYPI_NAME;
  }

  /** Run an install step sequence under a cancellable progress notification, then start the server. */
  private async run(
    verb: string,
    work: (report: { step(m: string): void; output(l: string): void }, signal: AbortSignal) => Promise<InstallState>,
  ): Promise<void> {
    this.busy = true;
    const log = this.hooks.log;
    let state: InstallState | undefined;
    try {
      await this.hooks.stop();
      state = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Qwen: ${verb} the server`, cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          const report = {
            step: (message: string) => {
              log.info(`[install] ${message}`);
              progress.report({ message });
            },
            output: (line: string) => log.info(line),
          };
          return work(report, abort.signal);
        },
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(`[install] ${message}`);
      if (message === 'cancelled') void vscode.window.showInformationMessage(`Qwen: ${verb} the server was cancelled.`);
      else
        void vscode.window.showErrorMessage(`Qwen: ${verb} the server failed: ${message.split('\n')[0]}${this.source() === PYPI_NAME ? NO_WHEEL_HINT : ''}`, 'Show Log').then((c) => {
          if (c) log.show();
        });
      if (!(err instanceof InstallError)) console.error(err);
    } finally {
      this.busy = false;
    }
    if (state) {
      void vscode.window.setStatusBarMessage(`Qwen: qwen-lsp ${state.version} installed (${VARIANT_LABEL[state.variant]})`, 10000);
      log.info(`[install] qwen-lsp ${state.version} installed in ${this.env.venv}`);
    }
    await this.hooks.start();
  }
}
