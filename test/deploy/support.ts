/**
 * What the deployment tests share: the files under deploy/, read as YAML documents, and the pieces of the
 * DaemonSet they keep asserting on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../support/cli.js';
import { findExecutable } from '../../src/tools/executables.js';

export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const deployPath = (...parts: string[]): string => join(DEPLOY_DIR, ...parts);

/** The capabilities the least-privilege agent adds after dropping ALL (fleet.md §9 A6). */
export const AGENT_CAPABILITIES = ['BPF', 'PERFMON', 'SYS_PTRACE', 'SYS_RESOURCE', 'DAC_READ_SEARCH', 'SYSLOG', 'IPC_LOCK'];
export const AGENT_PORT = 9464;

// Plain JSON-shaped objects: what a YAML manifest parses into.
export type Manifest = Record<string, any>;

/** Every document of a YAML file; a syntax error or a duplicate key fails here with the parser's message. */
export function readYamlDocuments(path: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(documents)) throw new Error(`${path}: not a YAML stream`);
  return documents.map((document, index) => {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) throw new Error(`${path} document ${index + 1}: ${problems.map((p) => p.message).join('; ')}`);
    return document.toJS() as Manifest;
  });
}

export function readYaml(path: string): Manifest {
  const [only, ...rest] = readYamlDocuments(path);
  if (only === undefined || rest.length > 0) throw new Error(`${path}: expected exactly one YAML document`);
  return only;
}

export function theOne(documents: Manifest[], kind: string): Manifest {
  const found = documents.filter((document) => document.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

export interface AgentParts {
  namespace: Manifest;
  serviceAccount: Manifest;
  daemonSet: Manifest;
  podSpec: Manifest;
  container: Manifest;
}

export function agentParts(file: string): AgentParts {
  const documents = readYamlDocuments(deployPath(file));
  const daemonSet = theOne(documents, 'DaemonSet');
  const podSpec = daemonSet.spec.template.spec;
  return {
    namespace: theOne(documents, 'Namespace'),
    serviceAccount: theOne(documents, 'ServiceAccount'),
    daemonSet,
    podSpec,
    container: podSpec.containers[0],
  };
}

/** The container's environment values given inline (those from the downward API, such as NODE_NAME, left out). */
export function inlineEnv(container: Manifest): Record<string, string> {
  return Object.fromEntries((container.env as Manifest[]).filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value]));
}

/** setpriv's --bounding-set value that keeps exactly `caps` (Kubernetes names, e.g. SYS_PTRACE). */
export function boundingSetOf(caps: string[]): string {
  return ['-all', ...caps.map((cap) => `+${cap.toLowerCase()}`)].join(',');
}

/** How Prometheus-style service discovery names a pod annotation: `prometheus.io/scrape` → `…_prometheus_io_scrape`. */
export function podAnnotationMetaLabel(annotation: string): string {
  return `__meta_kubernetes_pod_annotation_${annotation.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** undefined when `program` is on PATH, else the reason to print when skipping. */
export function missingProgram(program: string, install: string): string | undefined {
  return findExecutable(program) === undefined ? `${program} is not installed (${install})` : undefined;
}
