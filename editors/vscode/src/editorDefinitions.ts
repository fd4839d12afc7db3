/**
 * Definitions from the editor's own language servers as completion context (`qwen/editorDefinitions`).
 *
 * When typing pauses or the cursor moves, the identifiers at and just before the cursor (the qualifier chain and
 * the calls on the current and previous line) are looked up with `vscode.executeDefinitionProvider` (and, for the
 * qualifier right before a `.`, `vscode.executeTypeDefinitionProvider`): whatever language server the user runs for
 * the file (pyright, gopls, tsserver, rust-analyzer, jdtls) answers with what its type inference knows. Locations
 * inside the current document or outside the workspace are dropped; the rest go to the server, which reads the text
 * itself under its privacy policy. Debounced, a newer lookup supersedes an older one, and the answers that came within
 * the time box are sent at once (a slow server's later ones follow while the cursor stays): it never delays a
 * completion request, and the server works as well without it.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { SECTION, completionsEnabledFor } from './config';

export const METHOD = 'qwen/editorDefinitions';
const DEBOUNCE_MS = 250;
const TIME_BOX_MS = 150;
/** Answers later than the time box still count, up to this, if the cursor has not moved meanwhile. */
const LATE_LIMIT_MS = 2000;
const MAX_IDENTIFIERS = 8;
const MAX_DEFINITIONS = 16;
const KEYWORDS = new Set(
  ('if else for while do return new await async function def class const let var this self super import from as ' +
    'in of is not and or try catch except finally with yield lambda pass raise throw switch case break continue ' +
    'fn pub mut impl struct enum match use mod func go defer package type interface public private protected static ' +
    'void true false null nil none None True False undefined typeof instanceof elif').split(' '),
);

export interface Identifier {
  name: string;
  line: number;
  character: number;
  /** Followed by `.`/`?.`/`::`/`->` right before the cursor: its type's definition is asked for too. */
  qualifier: boolean;
}

/** Identifiers worth a definition lookup, closest to the cursor first: the qualifier chain and the partly typed
 * name at the cursor, then the names called on the current line before the cursor and on the previous line. */
export function identifiersNear(lines: { current: string; previous: string }, line: number, character: number): Identifier[] {
  const out: Identifier[] = [];
  const add = (name: string, at: number, atLine: number, qualifier = false): void => {
    if (KEYWORDS.has(name) || /^\d/.test(name) || out.length >= MAX_IDENTIFIERS) return;
    if (!out.some((o) => o.line === atLine && o.character === at)) out.push({ name, line: atLine, character: at, qualifier });
  };
  const before = lines.current.slice(0, character);
  // the chain ending at the cursor: `a.b?.c::d`, `a.b.` or `a.b(`; the name right before the last separator is the
  // qualifier whose type is asked for too
  const chain = /(?:\?\.|\.|::|->)\s*$/;
  let rest = before.replace(/\(\s*$/, ''); // right after `x.call(`: the chain of the call
  let separatorFollows = false;
  let qualifierGiven = false;
  if (chain.test(rest)) {
    rest = rest.replace(chain, '');
    separatorFollows = true;
  }
  for (;;) {
    const match = /[A-Za-z_$][\w$]*$/.exec(rest);
    if (!match) break;
    add(match[0], match.index, line, separatorFollows && !qualifierGiven);
    qualifierGiven ||= separatorFollows;
    rest = rest.slice(0, match.index);
    if (!chain.test(rest)) break;
    rest = rest.replace(chain, '');
    separatorFollows = true;
  }
  for (const [text, atLine] of [
    [before, line],
    [lines.previous, line - 1],
  ] as const) {
    const calls = [...text.matchAll(/([A-Za-z_$][\w$]*)\s*\(/g)].reverse();
    for (const call of calls) add(call[1], call.index ?? 0, atLine);
  }
  return out;
}

type Found = vscode.Location | vscode.LocationLink;

function asLocation(found: Found): vscode.Location {
  return 'targetUri' in found ? new vscode.Location(found.targetUri, found.targetSelectionRange ?? found.targetRange) : found;
}

function withinTimeBox<T>(promise: Thenable<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

export class EditorDefinitions implements vscode.Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  private lastSent = new Map<string, string>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly client: LanguageClient) {
    const schedule = (document: vscode.TextDocument): void => {
      if (vscode.window.activeTextEditor?.document === document) this.schedule();
    };
    this.subscriptions = [
      vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
      vscode.window.onDidChangeTextEditorSelection((e) => schedule(e.textEditor.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.lastSent.delete(d.uri.toString())),
    ];
  }

  private schedule(): void {
    this.generation++; // a lookup in flight for an older cursor is dropped when it ends
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.lookUp().catch(() => undefined), DEBOUNCE_MS);
  }

  private async lookUp(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const document = editor?.document;
    if (!editor || !document || !['file', 'untitled'].includes(document.uri.scheme)) return;
    if (!vscode.workspace.getConfiguration(SECTION, document).get<boolean>('editorDefinitions', true)) return;
    if (!completionsEnabledFor(document) || !this.client.isRunning()) return;
    const generation = this.generation;
    const version = document.version;
    const position = editor.selection.active;
    const identifiers = identifiersNear(
      {
        current: document.lineAt(position.line).text,
        previous: position.line > 0 ? document.lineAt(position.line - 1).text : '',
      },
      position.line,
      position.character,
    );
    const ask = (command: string, id: Identifier): Thenable<Found[] | undefined> =>
      vscode.commands.executeCommand<Found[] | undefined>(command, document.uri, new vscode.Position(id.line, id.character));
    const lookups = identifiers.flatMap((id) => [
      ...(id.qualifier ? [ask('vscode.executeTypeDefinitionProvider', id).then((found) => ({ id, found }))] : []),
      ask('vscode.executeDefinitionProvider', id).then((found) => ({ id, found })),
    ]);
    const current = (): boolean =>
      generation === this.generation && document.version === version && this.client.isRunning();
    // What came within the time box goes at once; a slow server's later answers follow while the cursor stays.
    const answers = await Promise.all(lookups.map((lookup) => withinTimeBox(lookup, TIME_BOX_MS)));
    if (!current()) return;
    await this.send(document, position, version, answers);
    if (answers.every((answer) => answer !== undefined)) return;
    const late = await Promise.all(lookups.map((lookup) => withinTimeBox(lookup, LATE_LIMIT_MS)));
    if (current()) await this.send(document, position, version, late);
  }

  private async send(
    document: vscode.TextDocument,
    position: vscode.Position,
    version: number,
    answers: ({ id: Identifier; found: Found[] | undefined } | undefined)[],
  ): Promise<void> {
    const definitions: { name: string; uri: string; range: object }[] = [];
    const seen = new Set<string>();
    for (const answer of answers) {
      for (const location of (answer?.found ?? []).map(asLocation)) {
        const key = `${location.uri.toString()}:${location.range.start.line}`;
        if (seen.has(key) || definitions.length >= MAX_DEFINITIONS) continue;
        if (location.uri.toString() === document.uri.toString()) continue; // already in the prompt or near it
        if (location.uri.scheme === 'file' && !vscode.workspace.getWorkspaceFolder(location.uri)) continue;
        seen.add(key);
        definitions.push({
          name: answer!.id.name,
          uri: this.client.code2ProtocolConverter.asUri(location.uri),
          range: this.client.code2ProtocolConverter.asRange(location.range),
        });
      }
    }
    const uri = this.client.code2ProtocolConverter.asUri(document.uri);
    const documentKey = document.uri.toString();
    const params = { textDocument: { uri }, version, position: { line: position.line, character: position.character }, definitions };
    const fingerprint = JSON.stringify([position.line, definitions]);
    const complete = answers.every((answer) => answer !== undefined);
    // none (yet): keep the set the server has unless every answer is in and there is one to clear
    if (!definitions.length && (!complete || !this.lastSent.has(documentKey))) return;
    if (this.lastSent.get(documentKey) === fingerprint) return;
    this.lastSent.set(documentKey, fingerprint);
    await this.client.sendNotification(METHOD, params);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.generation++;
    for (const s of this.subscriptions) s.dispose();
  }
}
