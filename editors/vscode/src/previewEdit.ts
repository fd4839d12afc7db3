/**
 * Marking a server's workspace edit as needing confirmation (LSP change annotations), which makes VS Code open the
 * Refactor Preview so the user reviews and approves an agent's edit before it is applied.
 */
import type { ApplyWorkspaceEditParams, WorkspaceEdit } from 'vscode-languageclient/node';

const ANNOTATION = 'qwen.agentRefactor';

export function markNeedsConfirmation(params: ApplyWorkspaceEditParams): ApplyWorkspaceEditParams {
  // The server may already ask for confirmation (its own annotations and description): keep those.
  const annotations = Object.values(params.edit.changeAnnotations ?? {});
  if (annotations.some((a) => a.needsConfirmation)) return params;
  return { ...params, edit: annotateEdit(params.edit, params.label ?? 'Qwen agent refactor') };
}

export function annotateEdit(edit: WorkspaceEdit, label: string): WorkspaceEdit {
  const documentChanges: NonNullable<WorkspaceEdit['documentChanges']> = [];
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    documentChanges.push({ textDocument: { uri, version: null }, edits: edits.map((e) => ({ ...e, annotationId: ANNOTATION })) });
  }
  for (const change of edit.documentChanges ?? []) {
    if ('kind' in change) {
      documentChanges.push({ ...change, annotationId: ANNOTATION });
    } else {
      documentChanges.push({ ...change, edits: change.edits.map((e) => ({ ...e, annotationId: ANNOTATION })) });
    }
  }
  return {
    documentChanges,
    changeAnnotations: {
      ...(edit.changeAnnotations ?? {}),
      [ANNOTATION]: { label, needsConfirmation: true, description: 'Review the proposed changes, then Apply or Discard.' },
    },
  };
}
