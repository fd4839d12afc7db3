/**
 * The language client: starts `qwen-lsp` over stdio and adapts what VS Code's stable client does not do itself.
 *
 * - Inline completions go through the client's own inline completion feature; its provider is replaced by one that
 *   also implements VS Code's `handleDidShowCompletionItem` / `handleDidPartiallyAcceptCompletionItem` hooks, so
 *   shown and partially accepted completions are reported to the server (`qwen/didShowCompletion`,
 *   `qwen/didPartiallyAcceptCompletion`). Full accepts run the item's `qwen.acceptCompletion` command, which the
 *   client routes to the server.
 * - Edits the server sends while an agent refactor runs are marked as needing confirmation, which makes VS Code show
 *   them in the Refactor Preview instead of applying them at once.
 * - Only explicitly set settings are sent (initializationOptions, workspace/configuration), see config.ts.
 * - The document the user looks at is reported (`qwen/didFocus`, with the cursor) when the active editor changes,
 *   so the server can evaluate its prompt before the first keystroke.
 */
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditParams,
  CancellationToken,
  DidChangeConfigurationNotification,
  InlineCompletionRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  StaticFeature,
  DynamicFeature,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import { SECTION, completionsEnabledFor, explicitServerConfig } from './config';
import { CompletionEvents } from './completionEvents';
import { markNeedsConfirmation } from './previewEdit';
import { ServerLaunch } from './serverCommand';
import { StatusItem, StatusParams } from './status';

export interface ClientDeps {
  launch: ServerLaunch;
  env: NodeJS.ProcessEnv;
  configKeys: string[];
  status: StatusItem;
  outputChannel: vscode.LogOutputChannel;
  traceOutputChannel: vscode.LogOutputChannel;
  /** True while an agent refactor is in flight: its edits go through the Refactor Preview. */
  previewEdits: () => boolean;
}

type InlineHooks = vscode.InlineCompletionItemProvider & {
  handleDidShowCompletionItem?(item: vscode.InlineCompletionItem): void;
  handleDidPartiallyAcceptCompletionItem?(item: vscode.InlineCompletionItem, info: number | { acceptedLength: number }): void;
};

export class QwenLanguageClient extends LanguageClient {
  /** Set up after construction; the base constructor already calls registerFeature. */
  events?: CompletionEvents;

  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as DynamicFeature<unknown>).registrationType?.method;
    if (method === InlineCompletionRequest.method) replaceInlineProvider(this, feature);
    super.registerFeature(feature);
  }
}

/** Swap the provider the client's inline completion feature registers for one with VS Code's event hooks. */
function replaceInlineProvider(client: QwenLanguageClient, feature: unknown): void {
  (feature as { registerLanguageProvider: unknown }).registerLanguageProvider = (options: {
    documentSelector: Parameters<typeof client.protocol2CodeConverter.asDocumentSelector>[0];
  }): [vscode.Disposable, vscode.InlineCompletionItemProvider] => {
    const send = (
      document: vscode.TextDocument,
      position: vscode.Position,
      context: vscode.InlineCompletionContext,
      token: vscode.CancellationToken,
    ) =>
      client
        .sendRequest(
          InlineCompletionRequest.type,
          client.code2ProtocolConverter.asInlineCompletionParams(document, position, context),
          token,
        )
        .then(
          (result) => (token.isCancellationRequested ? null : client.protocol2CodeConverter.asInlineCompletionResult(result, token)),
          // No popup per keystroke: failures are logged in the output channel.
          (error) => client.handleFailedRequest(InlineCompletionRequest.type, token, error, null, false),
        );
    const provider: InlineHooks = {
      provideInlineCompletionItems: (document, position, context, token) => {
        const middleware = client.middleware.provideInlineCompletionItems;
        return middleware ? middleware(document, position, context, token, send) : send(document, position, context, token);
      },
      handleDidShowCompletionItem: (item) => client.events?.shown(item),
      handleDidPartiallyAcceptCompletionItem: (item, info) =>
        client.events?.partiallyAccepted(item, typeof info === 'number' ? info : info.acceptedLength),
    };
    const selector = client.protocol2CodeConverter.asDocumentSelector(options.documentSelector);
    return [vscode.languages.registerInlineCompletionItemProvider(selector, provider), provider];
  };
}

export function createClient(deps: ClientDeps): QwenLanguageClient {
  const serverOptions: ServerOptions = {
    command: deps.launch.command,
    args: deps.launch.args,
    transport: TransportKind.stdio,
    options: { env: deps.env },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    initializationOptions: explicitServerConfig(deps.configKeys),
    outputChannel: deps.outputChannel,
    traceOutputChannel: deps.traceOutputChannel,
    middleware: {
      provideInlineCompletionItems: async (document, position, context, token, next) => {
        if (!completionsEnabledFor(document)) return null;
        const result = await next(document, position, context, token);
        client.events?.returned(result);
        return result;
      },
      workspace: {
        configuration: (params, token, next) => {
          const rest = next(params, token);
          return Promise.resolve(rest).then((values) =>
            Array.isArray(values)
              ? values.map((value: unknown, i) => {
                  const item = params.items[i];
                  if (item.section !== SECTION) return value;
                  const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
                  return explicitServerConfig(deps.configKeys, scope);
                })
              : values,
          );
        },
        handleApplyEdit: (params: ApplyWorkspaceEditParams, next) =>
          next(deps.previewEdits() ? markNeedsConfirmation(params) : params, CancellationToken.None),
      },
    },
  };
  const client = new QwenLanguageClient('qwenLsp', 'Qwen LSP', serverOptions, clientOptions);
  client.events = new CompletionEvents((method, params) => {
    void client.sendNotification(method, params).catch(() => undefined);
  });
  client.onNotification('qwen/status', (params: StatusParams) => deps.status.setStatus(params));
  return client;
}

/** After start: show the server's `$/progress` reports (e.g. indexing) in the status item. */
export function trackServerProgress(client: LanguageClient, status: StatusItem): vscode.Disposable {
  return client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    let title = '';
    const sub = client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === 'begin') title = value.title;
      if (value.kind === 'end') {
        status.setProgress(undefined);
        sub.dispose();
      } else {
        status.setProgress({ title, percentage: value.percentage });
      }
    });
  });
}

/** Report the active editor's document and cursor (`qwen/didFocus`) now and whenever another editor gets focus. */
export function trackFocus(client: LanguageClient): vscode.Disposable {
  const report = (editor: vscode.TextEditor | undefined): void => {
    const document = editor?.document;
    if (!editor || !document || !['file', 'untitled'].includes(document.uri.scheme)) return;
    if (!completionsEnabledFor(document) || !client.isRunning()) return;
    const { line, character } = editor.selection.active;
    void client
      .sendNotification('qwen/didFocus', {
        textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri) },
        position: { line, character },
      })
      .catch(() => undefined);
  };
  report(vscode.window.activeTextEditor);
  return vscode.window.onDidChangeActiveTextEditor(report);
}

/** Tell the server the settings changed (push model, the server's shape). */
export function notifyConfigurationChanged(client: LanguageClient, configKeys: string[]): void {
  void client.sendNotification(DidChangeConfigurationNotification.type, {
    settings: { [SECTION]: explicitServerConfig(configKeys) },
  });
}
