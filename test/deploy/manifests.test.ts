/**
 * deploy/daemonset.yaml and deploy/daemonset-privileged.yaml, offline: each object valid against the
 * Kubernetes schemas (kubernetes-models 4.5.1), no field Kubernetes does not know (kubectl's default strict
 * validation, done here by TypeScript's excess-property check against kubernetes-models' types), and the
 * choices fleet.md §9 A6 asks for asserted field by field. Whether the capability set suffices on a real node
 * is test/deploy/capabilities.test.ts (this kernel) and a real cluster (not here).
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Namespace, ServiceAccount } from 'kubernetes-models/v1';
import { DEFAULT_AGENT_OPTIONS } from '../../src/agent/options.js';
import { REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { AGENT_CAPABILITIES, AGENT_PORT, DEPLOY_DIR, agentParts, deployPath, missingProgram, podAnnotationMetaLabel, readYaml, type Manifest } from './support.js';

const VARIANTS = ['daemonset.yaml', 'daemonset-privileged.yaml'] as const;
const HOST_PATHS = ['/sys/kernel/tracing', '/sys/kernel/debug', '/lib/modules'];
/** The flight recorder's records, the one host path the agent writes. */
const DATA_HOST_PATH = '/var/lib/irisflame';

const clone = <T>(value: T): T => structuredClone(value);

/** The message kubernetes-models gives, or undefined when the object validates. */
function schemaError(validate: () => void): string | undefined {
  try {
    validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe.each(VARIANTS)('%s', (file) => {
  const { namespace, serviceAccount, daemonSet, podSpec, container } = agentParts(file);

  it('holds a Namespace, a ServiceAccount and a DaemonSet that the Kubernetes schemas accept', () => {
    expect(schemaError(() => new Namespace(namespace as never).validate())).toBeUndefined();
    expect(schemaError(() => new ServiceAccount(serviceAccount as never).validate())).toBeUndefined();
    expect(schemaError(() => new DaemonSet(daemonSet as never).validate())).toBeUndefined();
  });

  it('puts everything in a namespace that admits privileged pods, under one service account without a token', () => {
    expect(namespace.metadata.name).toBe('irisflame');
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(serviceAccount.metadata.namespace).toBe('irisflame');
    expect(daemonSet.metadata.namespace).toBe('irisflame');
    expect(podSpec.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(serviceAccount.automountServiceAccountToken).toBe(false);
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect(daemonSet.spec.template.metadata.labels).toMatchObject(daemonSet.spec.selector.matchLabels);
  });

  it('runs one container in the host PID namespace, on every node, under the runtime default seccomp profile', () => {
    expect(podSpec.hostPID).toBe(true);
    expect(podSpec.hostNetwork).toBeUndefined();
    expect(podSpec.containers).toHaveLength(1);
    expect(podSpec.initContainers).toBeUndefined();
    expect(podSpec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(podSpec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });

  it('runs as uid 0 with a read-only root filesystem', () => {
    expect(container.securityContext.runAsUser).toBe(0);
    expect(container.securityContext.runAsNonRoot).toBe(false);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('mounts tracefs, debugfs and /lib/modules from the host read-only, the data dir writable, and nothing else from the host', () => {
    const data = podSpec.volumes.find((volume: Manifest) => volume.hostPath?.path === DATA_HOST_PATH);
    expect(data.hostPath.type).toBe('DirectoryOrCreate');
    const dataMounts = container.volumeMounts.filter((mount: Manifest) => mount.name === data.name);
    expect(dataMounts).toEqual([{ name: data.name, mountPath: DATA_HOST_PATH }]);
    // The agent's default --data-dir lies on that volume (not in the read-only root filesystem).
    expect(flagValue(container.args, '--data-dir') ?? DEFAULT_AGENT_OPTIONS.dataDir).toMatch(new RegExp(`^${DATA_HOST_PATH}/`));
    const hostVolumes = podSpec.volumes.filter((volume: Manifest) => volume.hostPath !== undefined && volume !== data);
    expect(hostVolumes.map((volume: Manifest) => volume.hostPath.path).sort()).toEqual([...HOST_PATHS].sort());
    for (const volume of hostVolumes) {
      const mounts = container.volumeMounts.filter((mount: Manifest) => mount.name === volume.name);
      expect(mounts, volume.name).toHaveLength(1);
      expect(mounts[0].readOnly, volume.name).toBe(true);
      expect(mounts[0].mountPath, volume.name).toBe(volume.hostPath.path);
    }
    const tmp = container.volumeMounts.find((mount: Manifest) => mount.mountPath === '/tmp');
    expect(podSpec.volumes.find((volume: Manifest) => volume.name === tmp.name).emptyDir).toBeDefined();
    expect(container.volumeMounts).toHaveLength(HOST_PATHS.length + 2);
  });

  it('passes the node name from the downward API to --node and listens on the pod IP at port 9464', () => {
    const nodeName = container.env.find((variable: Manifest) => variable.name === 'NODE_NAME');
    expect(nodeName.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(flagValue(container.args, '--node')).toBe('$(NODE_NAME)');
    expect(flagValue(container.args, '--listen')).toBe(`0.0.0.0:${AGENT_PORT}`);
    expect(container.ports).toEqual([{ name: 'http-metrics', containerPort: AGENT_PORT, protocol: 'TCP' }]);
  });

  it('checks liveness and readiness on /healthz at the agent port', () => {
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet.path).toBe('/healthz');
      expect(probe.httpGet.port).toBe('http-metrics');
    }
  });

  it("caps memory above the agent's RSS target plus its two bpftrace processes, and requests some of it", () => {
    // MB: the agent's target, then the exec snooper's and the sampler's RSS measured under this securityContext
    const limit = mebibytes(container.resources.limits.memory);
    expect(limit).toBeGreaterThanOrEqual(((120 + 89 + 102) * 1e6) / 2 ** 20);
    expect(mebibytes(container.resources.requests.memory)).toBeLessThanOrEqual(limit);
    expect(container.resources.requests.cpu).toBeDefined();
  });

  it('announces the metrics and the CPU profile to Prometheus, Parca, Alloy and Pyroscope on the same port', () => {
    const annotations = daemonSet.spec.template.metadata.annotations;
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(AGENT_PORT),
      'prometheus.io/path': '/metrics',
      'parca.dev/scrape': 'true',
      'parca.dev/port': String(AGENT_PORT),
      'profiles.grafana.com/cpu.scrape': 'true',
      'profiles.grafana.com/cpu.port': String(AGENT_PORT),
      'profiles.grafana.com/cpu.path': '/debug/pprof/profile',
      'pyroscope.io/service_name': 'irisflame',
    });
    // The agent answers 404 for these: announcing them would make Alloy scrape them and log failures.
    for (const kind of ['memory', 'goroutine', 'mutex', 'block']) expect(annotations[`profiles.grafana.com/${kind}.scrape`]).toBeUndefined();
  });
});

describe('the least-privilege DaemonSet', () => {
  const { container } = agentParts('daemonset.yaml');
  const security = container.securityContext;

  it('drops every capability and adds back exactly those perf and bpftrace use', () => {
    expect(security.capabilities.drop).toEqual(['ALL']);
    expect([...security.capabilities.add].sort()).toEqual([...AGENT_CAPABILITIES].sort());
  });

  it('is not privileged and cannot gain privileges', () => {
    expect(security.privileged).toBe(false);
    expect(security.allowPrivilegeEscalation).toBe(false);
  });

  it('leaves AppArmor unconfined, so that /proc/PID/maps of processes outside the runtime profile can be read', () => {
    expect(security.appArmorProfile).toEqual({ type: 'Unconfined' });
  });
});

describe('the privileged DaemonSet', () => {
  const least = agentParts('daemonset.yaml');
  const privileged = agentParts('daemonset-privileged.yaml');

  it('is privileged, without the allowPrivilegeEscalation: false that Kubernetes rejects next to it', () => {
    expect(privileged.container.securityContext.privileged).toBe(true);
    expect(privileged.container.securityContext.allowPrivilegeEscalation).toBeUndefined();
    expect(privileged.container.securityContext.capabilities).toBeUndefined();
  });

  it('differs from the least-privilege one in the container securityContext only, under the same names', () => {
    const strip = (daemonSet: Manifest): Manifest => {
      const copy = clone(daemonSet);
      delete copy.spec.template.spec.containers[0].securityContext;
      return copy;
    };
    expect(strip(privileged.daemonSet)).toEqual(strip(least.daemonSet));
    expect(privileged.namespace).toEqual(least.namespace);
    expect(privileged.serviceAccount).toEqual(least.serviceAccount);
  });
});

describe('validation of the manifests', () => {
  const { daemonSet } = agentParts('daemonset.yaml');

  it('rejects a DaemonSet whose fields have the wrong types', () => {
    const broken = clone(daemonSet);
    broken.spec.template.spec.hostPID = 'yes';
    expect(schemaError(() => new DaemonSet(broken as never).validate())).toMatch(/hostPID must be boolean/);

    const stringPort = clone(daemonSet);
    stringPort.spec.template.spec.containers[0].ports[0].containerPort = '9464';
    expect(schemaError(() => new DaemonSet(stringPort as never).validate())).toMatch(/containerPort must be integer/);

    const readOnlyText = clone(daemonSet);
    readOnlyText.spec.template.spec.containers[0].volumeMounts[0].readOnly = 'true';
    expect(schemaError(() => new DaemonSet(readOnlyText as never).validate())).toMatch(/readOnly must be boolean/);
  });

  it('finds no field Kubernetes does not know in any manifest, and does find a misspelt one', async () => {
    // kubectl validates strictly by default; the JSON schemas above allow unknown fields, the types do not.
    const misspelt = clone(daemonSet);
    misspelt.spec.template.spec.hostPid = misspelt.spec.template.spec.hostPID;
    delete misspelt.spec.template.spec.hostPID;
    const checks: Array<[string, Manifest]> = [];
    for (const file of VARIANTS) {
      const parts = agentParts(file);
      checks.push([`${file} DaemonSet`, parts.daemonSet], [`${file} Namespace`, parts.namespace], [`${file} ServiceAccount`, parts.serviceAccount]);
    }
    checks.push(['NetworkPolicy', readYaml(deployPath('networkpolicy.yaml'))], ['misspelt DaemonSet', misspelt]);

    const errors = await typeCheck(checks);
    expect(errors.filter((error) => !error.startsWith('misspelt'))).toEqual([]);
    expect(errors).toEqual([expect.stringMatching(/^misspelt DaemonSet: .*'"hostPid"' does not exist in type 'IPodSpec'/)]);
  }, 180_000); // one tsc run: ~4 s idle, 35 s seen on a loaded 2-core machine
});

/** yamllint's defaults, but lines up to 120 columns (the manifests explain themselves) and no `---` at the top. */
const YAMLLINT_CONFIG = '{extends: default, rules: {line-length: {max: 120}, document-start: disable}}';

describe.skipIf(reportSkip('yamllint', missingProgram('yamllint', 'apt-get install yamllint')))('yamllint', () => {
  it('finds nothing in deploy/', async () => {
    const result = await execa('yamllint', ['-f', 'parsable', '-d', YAMLLINT_CONFIG, DEPLOY_DIR], { reject: false, all: true });
    expect(result.all).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('finds a duplicate key and a YAML 1.1 truthy value', async () => {
    const broken = 'kind: DaemonSet\nkind: Pod\nspec:\n  hostPID: yes\n';
    const result = await execa('yamllint', ['-f', 'parsable', '-d', YAMLLINT_CONFIG, '-'], { input: broken, reject: false, all: true });
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/duplication of key "kind"/);
    expect(result.all).toMatch(/truthy value should be one of/);
  });
});

describe('the optional NetworkPolicy', () => {
  const policy = readYaml(deployPath('networkpolicy.yaml'));
  const { daemonSet, container } = agentParts('daemonset.yaml');

  it('is valid and selects the agent pods in their namespace', () => {
    expect(schemaError(() => new NetworkPolicy(policy as never).validate())).toBeUndefined();
    expect(policy.metadata.namespace).toBe(daemonSet.metadata.namespace);
    expect(daemonSet.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
  });

  it('admits TCP to the agent port only, from one namespace', () => {
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: container.ports[0].containerPort }]);
    expect(policy.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  });
});

describe('the Prometheus Operator rule', () => {
  it('carries the same groups as the plain rules file', () => {
    const resource = readYaml(deployPath('prometheus', 'prometheusrule.yaml'));
    expect(resource.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(resource.kind).toBe('PrometheusRule');
    expect(resource.spec.groups).toEqual(readYaml(deployPath('prometheus', 'irisflame-rules.yml')).groups);
  });
});

describe('the scrape snippets', () => {
  const annotations = agentParts('daemonset.yaml').daemonSet.spec.template.metadata.annotations;
  const portName = agentParts('daemonset.yaml').container.ports[0].name;

  /** Every pod annotation a relabel rule reads must be one the DaemonSet sets, and the port kept must be ours. */
  function expectMatchesDaemonSet(relabelSources: string[], keptPortNames: string[]): void {
    const known = new Set(Object.keys(annotations).map(podAnnotationMetaLabel));
    const read = relabelSources.filter((label) => label.startsWith('__meta_kubernetes_pod_annotation_'));
    expect(read.length).toBeGreaterThan(0);
    for (const label of read) expect(known, label).toContain(label);
    expect(keptPortNames).toEqual([portName]);
  }

  /** The same check on the Kubernetes job of a Prometheus-style config (Prometheus and Parca share the format). */
  function expectKubernetesJobMatchesDaemonSet(config: Manifest): void {
    const job = config.scrape_configs.find((scrape: Manifest) => scrape.kubernetes_sd_configs !== undefined);
    const rules = job.relabel_configs as Manifest[];
    expectMatchesDaemonSet(
      rules.flatMap((rule) => rule.source_labels ?? []),
      rules.filter((rule) => rule.source_labels?.[0] === '__meta_kubernetes_pod_container_port_name').map((rule) => rule.regex),
    );
  }

  it('Prometheus keeps the agent pods by annotations the DaemonSet sets', () => {
    expectKubernetesJobMatchesDaemonSet(readYaml(deployPath('prometheus', 'prometheus.yml')));
  });

  it('Parca keeps the agent pods by annotations the DaemonSet sets and asks for the CPU profile only', () => {
    const config = readYaml(deployPath('parca', 'parca.yaml'));
    expectKubernetesJobMatchesDaemonSet(config);
    for (const scrape of config.scrape_configs) {
      const pprof = scrape.profiling_config.pprof_config;
      expect(pprof.process_cpu.enabled).toBe(true);
      for (const kind of ['memory', 'block', 'goroutine', 'mutex']) expect(pprof[kind].enabled, `${scrape.job_name} ${kind}`).toBe(false);
    }
  });

  it('Alloy keeps the agent pods by annotations the DaemonSet sets and asks for the CPU profile only', () => {
    // No Alloy parser here: read the relabel rules' strings and the profile switches from the text.
    const text = readFileSync(deployPath('alloy', 'irisflame.alloy'), 'utf8');
    const sources = [...text.matchAll(/source_labels\s*=\s*\["([^"]+)"\]/g)].map((match) => match[1]!);
    const ports = [...text.matchAll(/"__meta_kubernetes_pod_container_port_name"\]\s*regex\s*=\s*"([^"]+)"/g)].map((match) => match[1]!);
    expectMatchesDaemonSet(sources, ports);
    expect(text.match(/profile\.process_cpu \{ enabled = true \}/g)).toHaveLength(2);
    for (const kind of ['memory', 'block', 'mutex', 'goroutine']) {
      expect(text.match(new RegExp(`profile\\.${kind}\\s+\\{ enabled = false \\}`, 'g')), kind).toHaveLength(2);
    }
  });
});

function flagValue(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : args[index + 1];
}

function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi|M|G)$/.exec(quantity);
  if (match === null) throw new Error(`unexpected memory quantity ${quantity}`);
  const scale = { Mi: 1, Gi: 1024, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 }[match[2] as 'Mi' | 'Gi' | 'M' | 'G'];
  return Number(match[1]) * scale;
}

const TYPE_OF_KIND: Record<string, { type: string; module: string }> = {
  DaemonSet: { type: 'IDaemonSet', module: 'apps/v1/DaemonSet' },
  Namespace: { type: 'INamespace', module: 'v1/Namespace' },
  ServiceAccount: { type: 'IServiceAccount', module: 'v1/ServiceAccount' },
  NetworkPolicy: { type: 'INetworkPolicy', module: 'networking.k8s.io/v1/NetworkPolicy' },
};

/**
 * Type-check each manifest as an object literal of its kubernetes-models type, one constant per line, so
 * every error maps back to a manifest: returns "<label>: <tsc message>" for each error.
 */
async function typeCheck(checks: Array<[string, Manifest]>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-deploy-tsc-'));
  const modelsDir = join(REPO_ROOT, 'node_modules', 'kubernetes-models');
  const kinds = [...new Set(checks.map(([, manifest]) => manifest.kind as string))];
  const imports = kinds.map((kind) => `import type { ${TYPE_OF_KIND[kind]!.type} } from '${modelsDir}/${TYPE_OF_KIND[kind]!.module}.js';`);
  const constants = checks.map(([, manifest], index) => `export const m${index}: ${TYPE_OF_KIND[manifest.kind]!.type} = ${JSON.stringify(manifest)};`);
  writeFileSync(join(dir, 'manifests.ts'), [...imports, ...constants, ''].join('\n'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: [] },
      files: ['manifests.ts'],
    }),
  );
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await execa('node', [tsc, '-p', join(dir, 'tsconfig.json')], { reject: false, timeout: 170_000 });
  if (result.exitCode !== 0 && !/error TS/.test(result.stdout)) throw new Error(`tsc failed: ${result.stdout}${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .map((line) => {
      const lineNumber = Number(/manifests\.ts\((\d+),/.exec(line)?.[1]);
      const label = checks[lineNumber - imports.length - 1]?.[0] ?? `line ${lineNumber}`;
      return `${label}: ${line.replace(/^.*error TS\d+: /, '')}`;
    });
}

describe('the web config Secret and the DaemonSet\'s commented block that mounts it', () => {
  it('the Secret validates, and the DaemonSet with the block uncommented still does and mounts it where --web.config.file points', async () => {
    const { Secret } = await import('kubernetes-models/v1/Secret');
    const secret = readYaml(deployPath('web-config-secret.yaml'));
    expect(schemaError(() => new Secret(secret as never).validate())).toBeUndefined();
    expect(Object.keys(secret.stringData)).toEqual(['web-config.yml', 'tls.crt', 'tls.key']);

    const text = readFileSync(deployPath('daemonset.yaml'), 'utf8');
    const uncommented = text.replace(/^(\s*)# (- --web\.config\.file|- \/etc\/irisflame\/web-config\.yml|- name: web-config|  mountPath: \/etc\/irisflame|  readOnly: true|  secret:|    secretName: irisflame-web-config|    defaultMode: 0400)$/gm, '$1$2');
    expect(uncommented).not.toBe(text);
    const dir = mkdtempSync(join(tmpdir(), 'irisflame-ds-'));
    writeFileSync(join(dir, 'daemonset.yaml'), uncommented);
    const daemonSet = (await import('./support.js')).readYamlDocuments(join(dir, 'daemonset.yaml')).find((doc) => doc.kind === 'DaemonSet')!;
    expect(schemaError(() => new DaemonSet(daemonSet as never).validate())).toBeUndefined();
    const pod = daemonSet.spec.template.spec;
    const container = pod.containers[0];
    const args: string[] = container.args;
    const path = args[args.indexOf('--web.config.file') + 1];
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'web-config');
    expect(path.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(pod.volumes.find((v: { name: string }) => v.name === 'web-config').secret.secretName).toBe(secret.metadata.name);
  });
});
