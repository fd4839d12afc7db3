/**
 * The status bar item: model and server state (starting / loading / indexing N% / ready / error / disabled), fed by
 * the server's `qwen/status` notification and its `$/progress` reports; a click opens the Qwen menu.
 */
import * as vscode from 'vscode';

export type ServerState = 'starting' | 'loading' | 'indexing' | 'ready' | 'error' | 'stopped';

/** Payload of the server's `qwen/status` notification. */
export interface StatusParams {
  state: ServerState;
  model?: string;
  detail?: string;
  progress?: number | null;
}

const ICONS: Record<ServerState, string> = {
  starting: '$(loading~spin)',
  loading: '$(loading~spin)',
  indexing: '$(sync~spin)',
  ready: '$(sparkle)',
  error: '$(error)',
  stopped: '$(circle-slash)',
};

export class StatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: StatusParams = { state: 'starting' };
  private enabled = true;
  /** Title and percentage of the `$/progress` report in flight, if any. */
  private progress: { title: string; percentage?: number } | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('qwenLsp.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Qwen LSP';
    this.item.command = 'qwenLsp.statusMenu';
    this.render();
    this.item.show();
  }

  get state(): StatusParams {
    return this.status;
  }

  setStatus(status: StatusParams): void {
    this.status = { ...this.status, ...status };
    this.render();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  setProgress(progress: { title: string; percentage?: number } | undefined): void {
    this.progress = progress;
    this.render();
  }

  private render(): void {
    const { state, model, detail } = this.status;
    let label: string = state;
    const pct = this.progress?.percentage ?? (state === 'indexing' ? this.status.progress : undefined);
    if (this.progress && state !== 'error') {
      label = this.progress.title.toLowerCase();
    } else if (state === 'loading') {
      label = 'loading model';
    }
    if (pct !== undefined && pct !== null) label += ` ${Math.round(pct)}%`;
    const icon = this.progress && state === 'ready' ? '$(sync~spin)' : ICONS[state];
    this.item.text = `${this.enabled ? icon : '$(circle-slash)'} Qwen${state === 'ready' && !this.progress ? '' : ': ' + label}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**Qwen LSP** — ${label}\n\n`);
    if (model) tooltip.appendMarkdown(`Model: \`${model}\`\n\n`);
    if (detail) tooltip.appendText(detail + '\n\n');
    tooltip.appendMarkdown(this.enabled ? 'Inline completions on' : 'Inline completions off');
    tooltip.appendMarkdown(' · click for the menu');
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
