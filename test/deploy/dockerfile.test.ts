/**
 * deploy/Dockerfile without a container engine (none here, and no registry for the node:20-bookworm-slim
 * base): its instructions read as a spec. The runtime stage must hold what `npm pack` would ship (package.json
 * "files"), the build context filter must let every COPY source through, and the image laid out the way the
 * Dockerfile lays it out, from this checkout, must run: --help, and a flame graph that needs the browser assets.
 * The agent's flags used by the Dockerfile, the DaemonSet and the systemd unit must exist in `irisflame agent`.
 */
import { isBuiltin } from 'node:module';
import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IRISFLAME_BIN, REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { agentParts, deployPath } from './support.js';

interface Instruction {
  keyword: string;
  args: string;
  /** Index of the FROM stage it belongs to. */
  stage: number;
}

/** Instructions of a Dockerfile: comments dropped, backslash continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (pending === '' && /^\s*#/.test(raw)) continue;
    if (/^\s*#/.test(raw)) continue; // a comment inside a continued instruction
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full !== '') logical.push(full);
  }
  let stage = -1;
  return logical.map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword!.toUpperCase() === 'FROM') stage++;
    return { keyword: keyword!.toUpperCase(), args: rest.join(' '), stage };
  });
}

const dockerfile = parseDockerfile(readFileSync(deployPath('Dockerfile'), 'utf8'));
const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[]; dependencies: Record<string, string> };
const lastStage = Math.max(...dockerfile.map((instruction) => instruction.stage));
const runtime = dockerfile.filter((instruction) => instruction.stage === lastStage);
const runtimeDir = runtime.filter((instruction) => instruction.keyword === 'WORKDIR').pop()!.args;

/** COPY instructions of the runtime stage as {from, source, destination relative to WORKDIR}. */
const runtimeCopies = runtime
  .filter((instruction) => instruction.keyword === 'COPY')
  .map((instruction) => {
    const words = instruction.args.split(/\s+/);
    const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
    const [source, target] = words.filter((word) => !word.startsWith('--')) as [string, string];
    // `COPY package.json ./` lands as ./package.json
    const destination = target === '.' || target === './' ? basename(source) : target.replace(/^\.\//, '').replace(/\/$/, '');
    return { from, source, destination };
  });

describe('the Dockerfile', () => {
  it('builds on Debian 12 with Node 20 in every stage and installs Debian’s bpftrace and perf', () => {
    const nodeImage = dockerfile.find((instruction) => instruction.keyword === 'ARG' && instruction.args.startsWith('NODE_IMAGE='));
    expect(nodeImage?.args).toBe('NODE_IMAGE=node:20-bookworm-slim');
    for (const from of dockerfile.filter((instruction) => instruction.keyword === 'FROM')) expect(from.args).toMatch(/^\$\{NODE_IMAGE\}/);
    const installs = runtime.filter((instruction) => instruction.keyword === 'RUN' && /apt-get install/.test(instruction.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toMatch(/\bbpftrace\b/);
    expect(installs[0]!.args).toMatch(/\blinux-perf\b/);
  });

  it('installs the production dependencies only, from the lock file', () => {
    const installs = dockerfile.filter((instruction) => instruction.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(instruction.args));
    expect(installs.every((instruction) => /\bnpm ci\b/.test(instruction.args))).toBe(true);
    const shipped = runtimeCopies.find((copy) => copy.destination === 'node_modules');
    const stageNames = dockerfile.filter((instruction) => instruction.keyword === 'FROM').map((from) => from.args.split(/\s+AS\s+/i)[1]);
    const depsStage = stageNames.indexOf(shipped!.from!);
    expect(installs.find((instruction) => instruction.stage === depsStage)!.args).toMatch(/--omit=dev/);
  });

  it('copies into the image exactly what package.json "files" ships, plus package.json and node_modules', () => {
    const destinations = runtimeCopies.map((copy) => copy.destination).sort();
    expect(destinations).toEqual([...packageJson.files, 'package.json', 'node_modules'].sort());
  });

  it('runs `irisflame agent`, listening beyond loopback unless told otherwise', () => {
    const entrypoint = runtime.find((instruction) => instruction.keyword === 'ENTRYPOINT');
    const cmd = runtime.find((instruction) => instruction.keyword === 'CMD');
    expect(JSON.parse(entrypoint!.args)).toEqual(['irisflame', 'agent']);
    expect(JSON.parse(cmd!.args)).toEqual(['--listen', '0.0.0.0:9464']);
    expect(runtime.find((instruction) => instruction.keyword === 'EXPOSE')?.args).toBe('9464');
  });

  it('has a context filter that lets every COPY source through, and nothing else', () => {
    const filter = readFileSync(deployPath('Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(filter[0]).toBe('**');
    const admitted = filter.slice(1).map((line) => line.replace(/^!/, '').replace(/\/$/, ''));
    const sources = dockerfile
      .filter((instruction) => instruction.keyword === 'COPY' && !instruction.args.includes('--from='))
      .flatMap((instruction) => instruction.args.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      expect(admitted.some((path) => source === path || source.startsWith(`${path}/`)), source).toBe(true);
      expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
    }
  });
});

const distMissing = existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')) ? undefined : 'dist/ is not built (npm run build)';

describe.skipIf(reportSkip('image layout', distMissing))('the image layout, assembled from this checkout', () => {
  /** /opt/irisflame as the runtime stage builds it; node_modules is this checkout's (a superset of the production ones). */
  function assemble(): string {
    const root = mkdtempSync(join(tmpdir(), 'irisflame-deploy-image-'));
    for (const copy of runtimeCopies) {
      if (copy.destination === 'node_modules') symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
      else cpSync(join(REPO_ROOT, copy.destination), join(root, copy.destination), { recursive: true });
    }
    return root;
  }

  it('imports, from the compiled code, only packages that npm ci --omit=dev installs', () => {
    const imported = new Set<string>();
    const statement = /(?:^|\n)\s*(?:import|export)\s[^;'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (const file of readdirSync(join(REPO_ROOT, 'dist'), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js')) continue;
      for (const match of readFileSync(join(REPO_ROOT, 'dist', file), 'utf8').matchAll(statement)) {
        const specifier = match[1] ?? match[2] ?? match[3]!;
        // Node's own modules, with or without `node:` (the bundle inlines bcryptjs, which imports 'crypto').
        if (specifier.startsWith('.') || isBuiltin(specifier)) continue;
        const parts = specifier.split('/');
        imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(0);
    for (const name of imported) expect(Object.keys(packageJson.dependencies), name).toContain(name);
  });

  it(`runs irisflame from ${runtimeDir} and draws a flame graph with its browser code`, async () => {
    const root = assemble();
    const bin = join(root, 'bin', 'irisflame');
    const help = await execa('node', [bin, '--help'], { reject: false });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('irisflame flamegraph');
    const svg = await execa('node', [bin, 'flamegraph'], { input: 'main;IrisWork;HashBlock 3\nmain;Idle 1\n', reject: false });
    expect(svg.exitCode, svg.stderr).toBe(0);
    expect(svg.stdout).toContain('HashBlock');
    expect(svg.stdout).toContain('<script');
    rmSync(root, { recursive: true, force: true });
  });
});

describe('the agent flags used by the deployment files', () => {
  const used = new Set<string>();
  for (const word of agentParts('daemonset.yaml').container.args as string[]) if (word.startsWith('--')) used.add(word);
  for (const word of JSON.parse(runtime.find((instruction) => instruction.keyword === 'CMD')!.args) as string[]) if (word.startsWith('--')) used.add(word);
  const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(deployPath('irisflame-agent.service'), 'utf8'))![1]!;
  for (const word of execStart.split(/\s+/)) if (word.startsWith('--')) used.add(word);

  it('are --listen and --node', () => {
    expect([...used].sort()).toEqual(['--listen', '--node']);
  });

  it('exist in `irisflame agent --help`', async (context) => {
    const help = await execa('node', [IRISFLAME_BIN, 'agent', '--help'], { reject: false, all: true });
    if (!/irisflame agent/.test(help.all ?? '')) {
      reportSkip('agent flags', '`irisflame agent` is not in this build yet (branch agent)');
      context.skip();
      return;
    }
    for (const flag of used) expect(help.all, flag).toContain(flag);
  });
});
