/**
 * The user-facing commands: Refactor with Qwen…, Agent refactor…, Show completion context, and the status menu.
 * Each one is a thin adapter from VS Code UI to a `workspace/executeCommand` of the server.
 */
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  WorkDoneProgress,
  WorkspaceEdit,
} from 'vscode-languageclient/node';
import { annotateEdit } from './previewEdit';

export const CONTEXT_SCHEME = 'qwen-context';

/** Whether the server advertises a command in `executeCommandProvider`. */
export function serverHasCommand(client: LanguageClient | undefined, command: string): boolean {
  return client?.initializeResult?.capabilities.executeCommandProvider?.commands.includes(command) ?? false;
}

function isWorkspaceEdit(value: unknown): value is WorkspaceEdit {
  return typeof value === 'object' && value !== null && ('changes' in value || 'documentChanges' in value);
}

function selectionRange(client: LanguageClient, editor: vscode.TextEditor) {
  const sel = editor.selection;
  // An empty selection refactors the current line.
  const range = sel.isEmpty ? editor.document.lineAt(sel.active.line).range : sel;
  return client.code2ProtocolConverter.asRange(range);
}

/** Apply an edit returned as a command result (servers may also send it with workspace/applyEdit). */
async function applyResult(client: LanguageClient, result: unknown, preview: boolean): Promise<void> {
  if (!isWorkspaceEdit(result)) return;
  const edit = preview ? annotateEdit(result, 'Qwen agent refactor') : result;
  const converted = await client.protocol2CodeConverter.asWorkspaceEdit(edit);
  await vscode.workspace.applyEdit(converted, { isRefactoring: true });
}

export async function refactorWithQwen(client: LanguageClient | undefined): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor) return void vscode.window.showWarningMessage('Qwen: open a file and start the server first.');
  if (!serverHasCommand(client, 'qwen.refactor')) {
    return void vscode.window.showWarningMessage('Qwen: this qwen-lsp server does not offer qwen.refactor; update it.');
  }
  const instruction = await vscode.window.showInputBox({
    title: 'Refactor with Qwen',
    prompt: editor.selection.isEmpty ? 'Instruction for the current line' : 'Instruction for the selection',
    placeHolder: 'e.g. extract a function, add type hints, use a dataclass',
    ignoreFocusOut: true,
  });
  if (!instruction) return;
  const args = {
    textDocument: { uri: editor.document.uri.toString() },
    range: selectionRange(client, editor),
    instruction,
  };
  const result: unknown = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Qwen: refactoring…', cancellable: true },
    (_progress, token) =>
      client.sendRequest(ExecuteCommandRequest.type, { command: 'qwen.refactor', arguments: [args] }, token),
  );
  await applyResult(client, result, false);
}

export type Scope = 'selection' | 'file' | 'workspace';

export async function agentRefactor(client: LanguageClient | undefined, inFlight: { count: number }): Promise<void> {
  if (!client) return void vscode.window.showWarningMessage('Qwen: the server is not running.');
  if (!serverHasCommand(client, 'qwen.agentRefactor')) {
    return void vscode.window.showWarningMessage('Qwen: this qwen-lsp server does not offer qwen.agentRefactor; update it.');
  }
  const editor = vscode.window.activeTextEditor;
  const scopes: { label: string; scope: Scope; description: string }[] = [];
  if (editor && !editor.selection.isEmpty) scopes.push({ label: 'Selection', scope: 'selection', description: 'the selected code' });
  if (editor) scopes.push({ label: 'File', scope: 'file', description: vscode.workspace.asRelativePath(editor.document.uri) });
  scopes.push({ label: 'Workspace', scope: 'workspace', description: 'any file of the workspace' });
  const picked = scopes.length === 1 ? scopes[0] : await vscode.window.showQuickPick(scopes, { title: 'Agent refactor: scope' });
  if (!picked) return;
  const instruction = await vscode.window.showInputBox({
    title: `Agent refactor (${picked.label.toLowerCase()})`,
    prompt: 'What should change? The proposed edit opens in the Refactor Preview.',
    ignoreFocusOut: true,
  });
  if (!instruction) return;
  const args: Record<string, unknown> = { instruction, scope: picked.scope };
  if (editor) {
    args.textDocument = { uri: editor.document.uri.toString() };
    args.range = client.code2ProtocolConverter.asRange(editor.selection);
  }
  const workDoneToken = `qwen-agent-${Date.now()}`;
  inFlight.count++;
  try {
    const result: unknown = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Qwen agent', cancellable: true },
      async (progress, token) => {
        let last = 0;
        const sub = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
          if (value.kind === 'end') return;
          const pct = value.percentage;
          progress.report({ message: value.message, increment: pct !== undefined ? pct - last : undefined });
          if (pct !== undefined) last = pct;
        });
        try {
          const answer: unknown = await client.sendRequest(
            ExecuteCommandRequest.type,
            { command: 'qwen.agentRefactor', arguments: [args], workDoneToken },
            token,
          );
          return answer;
        } finally {
          sub.dispose();
        }
      },
    );
    await applyResult(client, result, true);
    showAgentReport(result);
  } finally {
    inFlight.count--;
  }
}

interface AgentResult {
  summary?: string;
  stopReason?: string;
  applied?: boolean;
  failureReason?: string | null;
  files?: unknown[];
}

/** The agent's command result: what it did and whether the user applied the edit. */
function showAgentReport(result: unknown): void {
  if (typeof result !== 'object' || result === null || isWorkspaceEdit(result)) return;
  const r = result as AgentResult;
  const summary = r.summary ? ` ${r.summary}` : '';
  if (r.stopReason === 'cancelled') {
    void vscode.window.showInformationMessage('Qwen agent: cancelled.');
  } else if (r.applied) {
    void vscode.window.showInformationMessage(`Qwen agent: applied.${summary}`);
  } else if (r.files && r.files.length === 0) {
    void vscode.window.showInformationMessage(`Qwen agent: no changes proposed.${summary}`);
  } else {
    void vscode.window.showInformationMessage(`Qwen agent: not applied${r.failureReason ? ` (${r.failureReason})` : ''}.${summary}`);
  }
}

/** Read-only documents holding the `qwen.inspectContext` JSON. */
export class ContextDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  async show(client: LanguageClient | undefined): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!client || !editor) return void vscode.window.showWarningMessage('Qwen: open a file and start the server first.');
    const pos = editor.selection.active;
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command: 'qwen.inspectContext',
      arguments: [{ textDocument: { uri: editor.document.uri.toString() }, position: { line: pos.line, character: pos.character } }],
    });
    const name = editor.document.uri.path.split('/').pop() ?? 'file';
    const uri = vscode.Uri.from({ scheme: CONTEXT_SCHEME, path: `/${name}-${pos.line + 1}-${pos.character + 1}-${++this.counter}.json` });
    this.contents.set(uri.toString(), JSON.stringify(result, null, 2) + '\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }
}
