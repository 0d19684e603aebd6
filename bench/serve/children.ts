import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Child processes of an out-of-process bench: the real `enclave` CLI (from source through tsx, or the built
 * dist/), the mock upstream, their temp folders, and their CPU time from /proc. Everything started here is
 * killed and every temp folder removed when the bench exits, fails or is interrupted (Ctrl-C).
 */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const children = new Set<ChildProcess>();
const dirs: string[] = [];
process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the bench and its processes\n`);
    process.exit(130);
  });
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** The parent's environment without anything that configures Enclave or a provider: the bench sets those. */
export function cleanEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(ENCLAVE_|OPENAI_|AWS_)/.test(k) && !['DATABASE_URL', 'PORT', 'HOST'].includes(k),
    ),
  );
  return { ...env, ...overrides };
}

/** How the CLI runs: `tsx` = src/cli/main.ts through tsx (the tree as it is), `dist` = node dist/src/cli/main.js. */
export type CliMode = 'tsx' | 'dist';

/** The `enclave` command of one checkout (this one, or another for an A/B): its root and node arguments. */
export interface EnclaveCli {
  root: string;
  argv: string[];
  describe: string;
}

export function enclaveCli(root: string, mode: CliMode): EnclaveCli {
  if (mode === 'tsx') {
    const main = join(root, 'src/cli/main.ts');
    return { root, argv: ['--import', 'tsx', main], describe: `${main} through tsx` };
  }
  const main = join(root, 'dist/src/cli/main.js');
  const built = statSync(main, { throwIfNoEntry: false })?.mtimeMs;
  const src = join(root, 'src');
  // Newer .ts under src/ than the build: dist/ would bench old code.
  const stale =
    built === undefined ||
    readdirSync(src, { recursive: true, encoding: 'utf8' }).some(
      (f) => f.endsWith('.ts') && statSync(join(src, f)).mtimeMs > built,
    );
  if (stale) throw new Error(`${main} is missing or older than ${src}: run npm run build there`);
  return { root, argv: [main], describe: `node ${main}` };
}

/** Runs one `enclave` command to completion and returns its stdout (throws with its stderr on failure). */
export function runEnclave(cli: EnclaveCli, args: string[], env: NodeJS.ProcessEnv): string {
  return execFileSync(process.execPath, [...cli.argv, ...args], {
    cwd: cli.root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface Served {
  child: ChildProcess;
  pid: number;
  url: string;
  /** SIGTERM and wait for the drain (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Spawns a long-running child and resolves once a stdout line matches `ready` (its first group is the URL). */
function serve(
  cwd: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  stderr: number | 'inherit',
  ready: RegExp,
) {
  const child = spawn(process.execPath, argv, { cwd, env, stdio: ['pipe', 'pipe', stderr] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<Served>((resolve, reject) => {
    let out = '';
    let started = false;
    child.stdout?.on('data', (d: Buffer) => {
      // After the ready line stdout is only drained (a full pipe would block the child).
      if (started) return;
      out += d.toString();
      const url = ready.exec(out)?.[1];
      if (url && child.pid !== undefined) {
        started = true;
        const stop = async () => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(timer);
        };
        resolve({ child, pid: child.pid, url, stop });
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${argv.join(' ')} exited (${code ?? signal})`)));
  });
}

/**
 * `enclave serve --port 0` as an operator runs it; its logs (stderr) are appended to `logFile` (or /dev/null),
 * as `enclave serve 2>>enclave.log` would.
 */
export async function spawnEnclave(
  cli: EnclaveCli,
  env: NodeJS.ProcessEnv,
  logFile: string,
  /** Node flags for the server alone (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs: string[] = [],
): Promise<Served> {
  const fd = openSync(logFile, 'a');
  try {
    const argv = [...nodeArgs, ...cli.argv, 'serve', '--port', '0'];
    return await serve(cli.root, argv, env, fd, /listening on (http:\/\/\S+)/);
  } catch (error) {
    const log = logFile === '/dev/null' ? '' : readFileSync(logFile, 'utf8').slice(-2000);
    throw new Error(`enclave serve did not start: ${String(error)}\n${log}`);
  } finally {
    closeSync(fd);
  }
}

/** The mock upstream in its own process (bench/serve/mock-upstream.ts, always through tsx). */
export const spawnMock = (): Promise<Served> =>
  serve(
    repoRoot,
    ['--import', 'tsx', join(repoRoot, 'bench/serve/mock-upstream.ts')],
    cleanEnv({}),
    'inherit',
    /mock listening on (http:\/\/\S+)/,
  );

/** The floor server (bench/serve/floor-server.ts) in its own process, calling `upstream`. */
export const spawnFloor = (upstream: string, env: Record<string, string> = {}): Promise<Served> =>
  serve(
    repoRoot,
    ['--import', 'tsx', join(repoRoot, 'bench/serve/floor-server.ts'), upstream],
    cleanEnv(env),
    'inherit',
    /floor listening on (http:\/\/\S+)/,
  );

const clockTicks = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a live process has used so far (all threads), ms; resolution 1/CLK_TCK s. */
export function cpuMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)` (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / clockTicks, system: (Number(fields[12]) * 1000) / clockTicks };
}
