/**
 * The server environment the extension manages (no VS Code API here): a venv under the extension's global storage
 * made from a Python >= 3.11 of the machine, with `qwen-lsp` (remote endpoint only) or `qwen-lsp[local]` installed
 * by uv when it is on PATH, else by pip. `install.json` next to the venv records what was installed; it is written
 * last, so an interrupted install never counts as installed.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findOnPath } from './serverCommand';

export type Variant = 'local' | 'remote';

export interface InstallState {
  version: string;
  variant: Variant;
  source: string;
  python: string;
  tool: 'uv' | 'pip';
  cmakeArgs?: string;
}

export interface Gpu {
  label: string;
  cmakeArgs: string;
  /** What the build needs besides a C++ compiler. */
  needs: string;
}

export class InstallError extends Error {}

const WIN = process.platform === 'win32';
const BIN = WIN ? 'Scripts' : 'bin';
const EXE = WIN ? '.exe' : '';
export const COMPILE_NOTE = 'compiling llama-cpp-python, usually 10–15 minutes';

export class ManagedEnv {
  constructor(readonly root: string) {}

  get venv(): string {
    return path.join(this.root, 'venv');
  }
  get python(): string {
    return path.join(this.venv, BIN, 'python' + EXE);
  }
  get executable(): string {
    return path.join(this.venv, BIN, 'qwen-lsp' + EXE);
  }
  private get stateFile(): string {
    return path.join(this.root, 'install.json');
  }

  /** What is installed, or undefined when nothing (complete) is. */
  state(): InstallState | undefined {
    try {
      const state = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as InstallState;
      return fs.existsSync(this.executable) ? state : undefined;
    } catch {
      return undefined;
    }
  }

  writeState(state: InstallState): void {
    fs.writeFileSync(this.stateFile, JSON.stringify(state, null, 2) + '\n');
  }

  async remove(): Promise<void> {
    await fs.promises.rm(this.root, { recursive: true, force: true });
  }
}

/** The pip requirement for a package source (a name, a pip spec, a wheel or a folder) with the extra if local. */
export function requirement(source: string, variant: Variant): string {
  const s = source.trim() || 'qwen-lsp';
  if (variant === 'remote') return s;
  if (/^[a-z+]+:\/\//i.test(s)) return `qwen-lsp[local] @ ${s}`;
  const isPath = s.endsWith('.whl') || s.includes(path.sep) || s.startsWith('.') || s.startsWith('~');
  if (isPath) return `${s}[local]`;
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?(.*)$/.exec(s);
  if (!m) return s;
  const extras = m[2] ? m[2].slice(1, -1).split(',').map((e) => e.trim()).filter(Boolean) : [];
  if (!extras.includes('local')) extras.push('local');
  return `${m[1]}[${extras.join(',')}]${m[3]}`;
}

function capture(command: string, args: string[], timeoutMs = 15000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, windowsHide: true }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

const PROBE =
  'import sys, importlib.util as u; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3]); ' +
  'print(int(u.find_spec("ensurepip") is not None))';

export interface FoundPython {
  path: string;
  version: string;
}

/** A Python >= 3.11: the configured one, else the newest python3.x on PATH. */
export async function findPython(configured: string, needEnsurepip: boolean): Promise<FoundPython> {
  const candidates = configured.trim()
    ? [configured.trim().replace(/^~/, os.homedir())]
    : ['python3.13', 'python3.12', 'python3.11', 'python3', 'python'];
  const problems: string[] = [];
  for (const candidate of candidates) {
    const out = await capture(candidate, ['-c', PROBE]);
    if (!out) continue;
    const [exe, version, ensurepip] = out.trim().split(/\r?\n/);
    const [major, minor] = version.split('.').map(Number);
    if (major < 3 || (major === 3 && minor < 11)) {
      problems.push(`${exe} is Python ${version}`);
    } else if (needEnsurepip && ensurepip !== '1') {
      problems.push(`${exe} (Python ${version}) cannot create virtual environments: install its venv package (e.g. python3-venv)`);
    } else {
      return { path: exe, version };
    }
  }
  if (configured.trim() && !problems.length) problems.push(`"${configured}" does not run`);
  throw new InstallError(
    'No Python 3.11 or newer was found' + (problems.length ? ` (${problems.join('; ')})` : ' on PATH') +
      '. Install one, or set qwenLsp.install.python to its path.',
  );
}

/** An NVIDIA GPU (nvidia-smi answers) or Apple Silicon, with the llama.cpp build flags for it. */
export async function detectGpu(): Promise<Gpu | undefined> {
  if (process.platform === 'darwin' && process.arch === 'arm64') {
    return { label: 'Apple Silicon', cmakeArgs: '-DGGML_METAL=on', needs: 'the Xcode command line tools' };
  }
  const out = await capture('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], 5000);
  const name = out?.trim().split(/\r?\n/)[0];
  if (!name) return undefined;
  // Drivers since 2021 name the card with its maker ("NVIDIA GeForce RTX 4090"), older ones without ("Tesla T4").
  const label = name.startsWith('NVIDIA') ? name : `NVIDIA ${name}`;
  return { label, cmakeArgs: '-DGGML_CUDA=on', needs: 'the CUDA toolkit (nvcc)' };
}

export interface Reporter {
  /** A new step (shown as the progress message). */
  step(message: string): void;
  /** One line of a tool's output (logged; the installer picks what to show). */
  output(line: string): void;
}

/** Run a command; output lines go to `onLine`; rejects with the last lines when it fails; aborts kill its group. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new InstallError('cancelled'));
    const child: ChildProcess = spawn(command, args, { env, detached: !WIN, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const kill = (): void => {
      try {
        if (!WIN && child.pid) process.kill(-child.pid, 'SIGTERM');
        else child.kill();
      } catch {
        // already gone
      }
    };
    signal.addEventListener('abort', kill, { once: true });
    let pending = '';
    const feed = (chunk: Buffer): void => {
      const parts = (pending + chunk.toString()).split(/\r?\n|\r/);
      pending = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 12) tail.shift();
        onLine(line);
      }
    };
    child.stdout?.on('data', feed);
    child.stderr?.on('data', feed);
    child.on('error', (err) => reject(new InstallError(`${command}: ${err.message}`)));
    child.on('close', (code) => {
      signal.removeEventListener('abort', kill);
      if (signal.aborted) return reject(new InstallError('cancelled'));
      if (code === 0) return resolve();
      reject(new InstallError(`${path.basename(command)} ${args.slice(0, 3).join(' ')} … failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

export interface InstallOptions {
  source: string;
  variant: Variant;
  python: string;
  gpu?: Gpu;
  /** Update an existing environment instead of making a new one. */
  update?: boolean;
}

/** The pip line worth showing: what is being fetched, built or installed. */
function interesting(line: string): string | undefined {
  const m = /^\s*(Collecting|Downloading|Building wheel for|Building|Installing collected packages|Successfully installed|Prepared|Installed|Resolved)\b.*/.exec(line);
  return m ? m[0].trim().slice(0, 120) : undefined;
}

/** Make (or update) the environment; returns what was installed. */
export async function installServer(env: ManagedEnv, opts: InstallOptions, report: Reporter, signal: AbortSignal): Promise<InstallState> {
  const uv = findOnPath(process.env.PATH, 'uv');
  const previous = env.state();
  const tool = opts.update && previous ? previous.tool : uv ? 'uv' : 'pip';
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' };
  delete childEnv.VIRTUAL_ENV;
  if (opts.gpu) childEnv.CMAKE_ARGS = opts.gpu.cmakeArgs;
  const log = (line: string): void => report.output(line);

  fs.mkdirSync(env.root, { recursive: true });
  if (!opts.update) {
    await env.remove();
    fs.mkdirSync(env.root, { recursive: true });
    report.step(`Creating the environment (Python ${opts.python})`);
    if (tool === 'uv' && uv) await run(uv, ['venv', '--python', opts.python, env.venv], childEnv, log, signal);
    else await run(opts.python, ['-m', 'venv', env.venv], childEnv, log, signal);
  }

  const req = requirement(opts.source, opts.variant);
  const what = opts.variant === 'local' ? `qwen-lsp with the local model (${COMPILE_NOTE}${opts.gpu ? `, ${opts.gpu.cmakeArgs}` : ''})` : 'qwen-lsp (remote endpoint only)';
  const base = `${opts.update ? 'Updating' : 'Installing'} ${what}`;
  report.step(base);
  const started = Date.now();
  let compiling = false;
  const ticker = setInterval(() => {
    if (compiling) report.step(`Compiling llama-cpp-python (usually 10–15 minutes; ${Math.round((Date.now() - started) / 60000)} min so far)`);
  }, 30000);
  const onLine = (line: string): void => {
    log(line);
    if (/Building (wheel for )?llama[-_]cpp[-_]python/i.test(line)) {
      compiling = true;
      report.step('Compiling llama-cpp-python (usually 10–15 minutes)');
    } else if (!compiling) {
      const shown = interesting(line);
      if (shown) report.step(`${base}: ${shown}`);
    }
  };
  const isFile = fs.existsSync(opts.source.trim().replace(/^~/, os.homedir()));
  const pipArgs = (extra: string[]): [string, string[]] =>
    tool === 'uv' && uv
      ? [uv, ['pip', 'install', '--python', env.python, ...extra, ...(opts.gpu ? ['--no-cache'] : []), req]]
      : [env.python, ['-m', 'pip', 'install', '--progress-bar', 'off', ...extra, ...(opts.gpu ? ['--no-cache-dir'] : []), req]];
  try {
    // A wheel or folder of the same version counts as installed for pip: reinstall the package itself first.
    if (opts.update && isFile) await run(...pipArgs(['--force-reinstall', '--no-deps']), childEnv, onLine, signal);
    await run(...pipArgs(opts.update ? ['--upgrade'] : []), childEnv, onLine, signal);
  } finally {
    clearInterval(ticker);
  }

  report.step('Checking the installed server');
  let version = '';
  await run(env.python, ['-c', 'import importlib.metadata as m; print(m.version("qwen-lsp"))'], childEnv, (l) => (version = l.trim()), signal);
  if (!fs.existsSync(env.executable)) throw new InstallError(`the install did not create ${env.executable}`);
  const state: InstallState = { version, variant: opts.variant, source: opts.source, python: opts.python, tool, cmakeArgs: opts.gpu?.cmakeArgs };
  env.writeState(state);
  return state;
}
