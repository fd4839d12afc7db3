/**
 * Reporting shown and partially accepted inline completions to the server.
 *
 * VS Code calls the provider's show / partial-accept hooks only when the `inlineCompletionsAdditions` API proposal
 * is enabled for the extension. Without it, a completion returned to VS Code is reported as shown after a short
 * grace period, unless the hook reported it first.
 */
import * as vscode from 'vscode';

type Notify = (method: string, params: object) => void;

/** The server's completion id, carried in the item's `qwen.acceptCompletion` command. */
export function completionId(item: vscode.InlineCompletionItem): string | undefined {
  const arg = item.command?.arguments?.[0] as { id?: unknown } | undefined;
  return typeof arg?.id === 'string' ? arg.id : undefined;
}

export class CompletionEvents {
  private hooksSeen = false;
  private readonly reported = new Set<string>();

  constructor(
    private readonly notify: Notify,
    private readonly graceMs = 300,
  ) {}

  /** A provider result went to VS Code. */
  returned(result: vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined): void {
    if (this.hooksSeen || !result) return;
    const items = Array.isArray(result) ? result : result.items;
    const first = items[0];
    if (!first) return;
    setTimeout(() => {
      if (!this.hooksSeen) this.shown(first, false);
    }, this.graceMs);
  }

  shown(item: vscode.InlineCompletionItem, fromHook = true): void {
    if (fromHook) this.hooksSeen = true;
    const id = completionId(item);
    if (!id || this.reported.has(id)) return;
    this.remember(id);
    this.notify('qwen/didShowCompletion', { id });
  }

  partiallyAccepted(item: vscode.InlineCompletionItem, acceptedLength: number): void {
    this.hooksSeen = true;
    const id = completionId(item);
    if (id) this.notify('qwen/didPartiallyAcceptCompletion', { id, acceptedLength });
  }

  private remember(id: string): void {
    this.reported.add(id);
    // Ids are unique per completion; keep the set small.
    if (this.reported.size > 500) this.reported.delete(this.reported.values().next().value as string);
  }
}
