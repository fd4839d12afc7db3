/**
 * Settings → server configuration.
 *
 * The extension's `qwenLsp.*` settings mirror the server's config fields one to one (same names, same nesting), so
 * the object sent as `initializationOptions` and returned for `workspace/configuration` is the server's shape.
 * Only values the user actually set are sent: the server's own defaults (and its `QWEN_LSP_*` environment
 * variables) stay in force for everything else.
 */
import * as vscode from 'vscode';

export const SECTION = 'qwenLsp';

/** Settings read by the extension itself, never sent to the server. */
const CLIENT_ONLY = new Set(['serverCommand', 'serverArgs', 'pythonPath', 'trace.server', 'install.source', 'install.python', 'editorDefinitions']);

export type ServerConfig = { [key: string]: unknown };

/** Keys (without the section prefix) contributed by this extension's package.json. */
export function contributedKeys(extension: vscode.Extension<unknown>): string[] {
  const manifest = extension.packageJSON as { contributes?: { configuration?: { properties?: object } } } | undefined;
  const props = manifest?.contributes?.configuration?.properties ?? {};
  return Object.keys(props)
    .filter((k) => k.startsWith(SECTION + '.'))
    .map((k) => k.slice(SECTION.length + 1));
}

/** The explicitly set server settings, nested like the server's config model. */
export function explicitServerConfig(keys: string[], scope?: vscode.ConfigurationScope): ServerConfig {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const out: ServerConfig = {};
  for (const key of keys) {
    if (CLIENT_ONLY.has(key)) continue;
    const info = config.inspect(key);
    const value = info?.workspaceFolderValue ?? info?.workspaceValue ?? info?.globalValue;
    if (value !== undefined) setPath(out, key.split('.'), value);
  }
  return out;
}

function setPath(target: ServerConfig, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as ServerConfig;
  }
  node[path[path.length - 1]] = value;
}

/** Whether inline completions are on for this document (the setting is language-overridable). */
export function completionsEnabledFor(document: vscode.TextDocument): boolean {
  const config = vscode.workspace.getConfiguration(SECTION, document);
  if (!config.get<boolean>('completion.enabled', true)) return false;
  const disabled = config.get<string[]>('completion.disabled_languages', []);
  return !disabled.includes(document.languageId);
}

/** Name of the environment variable through which the server gets the remote API key. */
export function apiKeyEnvName(): string {
  return vscode.workspace.getConfiguration(SECTION).get<string>('backend.remote.api_key_env') || 'QWEN_LSP_API_KEY';
}
