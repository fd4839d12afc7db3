"""TypeScript / JavaScript: ``export *`` and ``export { X } from`` chains, namespace and default imports,
``new X()``, typed parameters and fields, constructor-assigned ``this.x``, inherited members."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from resolution_helpers import definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext

FILES = {
    "src/lib/index.ts": "export * from './core';\n",
    "src/lib/core.ts": "export { HttpClient } from './http';\nexport { Transport } from './transport';\n",
    "src/lib/base.ts": "export class Base {\n  close(): void {}\n}\n",
    "src/lib/http.ts": textwrap.dedent("""
        import { Base } from './base';
        import { Transport } from './transport';

        export class HttpClient extends Base {
          private transport: Transport;

          constructor(url: string) {
            super();
            this.transport = new Transport();
          }

          send(body: string): Promise<string> {
            return Promise.resolve(body);
          }
        }
        """).lstrip(),
    "src/lib/transport.ts": "export class Transport {\n  write(data: string): number {\n    return 0;\n  }\n}\n",
    # a same-named method elsewhere, in a file that sorts first: a guess by name picks it
    "src/_a/mailer.ts": "export class Mailer {\n  send(message: string): void {}\n  write(s: string): void {}\n}\n",
}
SEND = "send(body: string): Promise<string> {"


def _at_end(
    engine: RepositoryContext,
    tmp_path: Path,
    text: str,
    files: dict[str, str] = FILES,
    language: str = "typescript",
    rel: str = "src/app.ts",
):
    return definitions_at_end(engine, tmp_path / "repo", files, rel, textwrap.dedent(text).lstrip(), language)


def test_export_star_then_named_reexport(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(engine, tmp_path, "import { HttpClient } from './lib';\n\nconst c = new HttpClient(")
    assert snippets[0].path == "src/lib/http.ts" and "export class HttpClient extends Base" in snippets[0].text, first(
        snippets
    )


@pytest.mark.parametrize(
    "text",
    [
        "import { HttpClient } from './lib';\n\nconst client = new HttpClient('x');\nclient.send(",
        "import * as lib from './lib';\n\nconst client = new lib.HttpClient('x');\nclient.send(",
        "import { HttpClient } from './lib';\n\nexport function run(client: HttpClient) {\n  client.send(",
        "import { HttpClient } from './lib';\n\nclass App {\n  private client?: HttpClient;\n  run() {\n    this.client.send(",
    ],
    ids=["new", "namespace-new", "typed-parameter", "typed-field"],
)
def test_receiver_type(engine: RepositoryContext, tmp_path: Path, text: str) -> None:
    snippets = _at_end(engine, tmp_path, text)
    assert snippets[0].text.lstrip().startswith(SEND), first(snippets)


def test_constructor_assigned_field_of_a_class_elsewhere(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(
        engine, tmp_path, "import { HttpClient } from './lib';\n\nfunction f(c: HttpClient) {\n  c.transport.write("
    )
    assert snippets[0].path == "src/lib/transport.ts" and "write(data: string)" in snippets[0].text, first(snippets)


def test_inherited_member(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(engine, tmp_path, "import { HttpClient } from './lib';\n\nnew HttpClient('x').close(")
    assert snippets[0].path == "src/lib/base.ts" and "close(): void" in snippets[0].text, first(snippets)


def test_namespace_outline(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(engine, tmp_path, "import * as lib from './lib';\n\nlib.")
    outline = "\n".join(s.text for s in snippets[:3])
    assert "export class HttpClient extends Base\n" in outline and "export class Transport" in outline, snippets


def test_javascript_default_import_and_this_in_constructor(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "lib/store.js": "export default class Store {\n  constructor() {\n    this.cache = new Cache();\n  }\n}\n",
        "lib/cache.js": "export class Cache {\n  lookup(key) {\n    return null;\n  }\n}\n",
        "lib/_other.js": "export class Other {\n  lookup(key) {\n    return 1;\n  }\n}\n",
    }
    snippets = _at_end(
        engine,
        tmp_path,
        "import Store from './lib/store.js';\n\nconst s = new Store();\ns.cache.lookup(",
        files,
        "javascript",
        "app.js",
    )
    assert snippets[0].path == "lib/cache.js", first(snippets)


def test_default_import_of_a_function(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "core/settle.js": "export default function settle(resolve, reject, response) {\n  resolve(response);\n}\n",
        "core/_a.js": "export function settle(x) {\n  return x;\n}\n",
    }
    snippets = _at_end(engine, tmp_path, "import done from './core/settle.js';\n\ndone(", files, "javascript", "app.js")
    assert snippets[0].path == "core/settle.js", first(snippets)


def test_cast_expression_as_qualifier(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(
        engine,
        tmp_path,
        "import { HttpClient } from './lib';\n\nexport function f(x: unknown) {\n  return (x as HttpClient).send(",
    )
    assert snippets[0].text.lstrip().startswith(SEND), first(snippets)
