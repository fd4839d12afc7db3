/**
 * Finding the `qwen-lsp` executable: the `qwenLsp.serverCommand` setting, else `qwen-lsp` on PATH, else the script
 * installed next to the interpreter named by `qwenLsp.pythonPath`, else the one the extension installed (install.ts).
 * When none is found the error says how to fix it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ServerLaunch {
  command: string;
  args: string[];
}

export class ServerNotFoundError extends Error {}
/** Nothing configured, nothing on PATH and no managed install: the extension offers to install the server. */
export class ServerNotInstalledError extends ServerNotFoundError {}

const EXE = process.platform === 'win32' ? 'qwen-lsp.exe' : 'qwen-lsp';

function expandHome(p: string): string {
  return p.startsWith('~') ? path.join(os.homedir(), p.slice(1)) : p;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` (default `qwen-lsp`) on the given PATH string, if any. */
export function findOnPath(envPath: string | undefined, name = 'qwen-lsp'): string | undefined {
  const exe = process.platform === 'win32' ? name + '.exe' : name;
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, exe))) return path.join(dir, exe);
  }
  return undefined;
}

/** Resolve how to start the server from the settings and the environment. */
export function resolveServer(
  serverCommand: string,
  pythonPath: string,
  extraArgs: string[],
  envPath: string | undefined = process.env.PATH,
  managed?: string,
): ServerLaunch {
  if (serverCommand.trim()) {
    const command = expandHome(serverCommand.trim());
    if (path.isAbsolute(command) && !isExecutable(command)) {
      throw new ServerNotFoundError(
        `qwenLsp.serverCommand is "${serverCommand}", which is not an executable file. ` +
          'Fix the path, or clear the setting to use qwen-lsp from PATH.',
      );
    }
    return { command, args: extraArgs };
  }
  const onPath = findOnPath(envPath);
  if (onPath) return { command: onPath, args: extraArgs };
  if (!pythonPath.trim() && managed) return { command: managed, args: extraArgs };
  if (pythonPath.trim()) {
    const python = expandHome(pythonPath.trim());
    const binDir = path.dirname(python);
    const script = path.join(binDir, EXE);
    if (isExecutable(script)) return { command: script, args: extraArgs };
    if (isExecutable(python)) {
      throw new ServerNotFoundError(
        `qwen-lsp is not installed in the environment of ${python}. ` +
          `Install it there with: "${python}" -m pip install "/path/to/qwen-lsp[local]" (a qwen-lsp checkout or wheel)`,
      );
    }
    throw new ServerNotFoundError(`qwenLsp.pythonPath "${pythonPath}" is not an executable Python interpreter.`);
  }
  throw new ServerNotInstalledError(
    'The qwen-lsp language server was not found on PATH. Run "Qwen: Install server", or install it with ' +
      '`pipx install "/path/to/qwen-lsp[local]"` (a checkout; or `pip install` in a virtual environment), then set ' +
      '"qwenLsp.serverCommand" to the qwen-lsp executable or "qwenLsp.pythonPath" to that environment\'s python.',
  );
}
