/**
 * deploy/irisflame-agent.service: `systemd-analyze verify` finds nothing (it exits 0 even on unknown values,
 * so its warnings count as failures here), the capability bounding set is the DaemonSet's, the agent listens on
 * loopback by default, and the sandbox keeps what perf and bpftrace need. `verify` also insists that
 * ExecStart's program exists, so the copy checked runs this checkout's bin/irisflame instead of
 * /usr/local/bin/irisflame. Starting it under systemd needs systemd as PID 1: not on the build machine.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_OPTIONS } from '../../src/agent/options.js';
import { IRISFLAME_BIN } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { AGENT_CAPABILITIES, agentParts, deployPath, missingProgram } from './support.js';

const UNIT = deployPath('irisflame-agent.service');
const INSTALLED_PATH = '/usr/local/bin/irisflame';
const unitText = readFileSync(UNIT, 'utf8');
const skip = reportSkip('systemd-analyze', missingProgram('systemd-analyze', 'apt-get install systemd'));

/** The value of every `Key=` line of the unit, in order. */
function directives(text: string, key: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** Write `text` as irisflame-agent.service with ExecStart pointing at this checkout; return its path. */
function checkoutCopy(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-deploy-unit-'));
  const path = join(dir, 'irisflame-agent.service');
  writeFileSync(path, text.replaceAll(INSTALLED_PATH, IRISFLAME_BIN));
  return path;
}

async function verify(path: string): Promise<{ exitCode: number; complaints: string[] }> {
  const result = await execa('systemd-analyze', ['verify', path], { reject: false, all: true, timeout: 60_000 });
  // verify also reports on units the host itself lacks (it runs in a container here): keep lines about ours.
  const complaints = (result.all ?? '').split('\n').filter((line) => line.includes('irisflame-agent'));
  return { exitCode: result.exitCode ?? -1, complaints };
}

describe('the systemd unit', () => {
  it('runs the agent on loopback, restarting it when it fails', () => {
    expect(directives(unitText, 'ExecStart')).toEqual([`${INSTALLED_PATH} agent --listen 127.0.0.1:9464`]);
    expect(directives(unitText, 'Restart')).toEqual(['on-failure']);
  });

  it("gives the flight recorder a writable state directory holding the agent's default --data-dir", () => {
    expect(directives(unitText, 'StateDirectory')).toEqual(['irisflame']);
    expect(directives(unitText, 'ExecStart')[0]).not.toContain('--data-dir');
    expect(DEFAULT_AGENT_OPTIONS.dataDir.startsWith('/var/lib/irisflame/')).toBe(true);
  });

  it('bounds the capabilities to the same set as the DaemonSet', () => {
    const [bounding] = directives(unitText, 'CapabilityBoundingSet');
    const daemonSetCaps = agentParts('daemonset.yaml').container.securityContext.capabilities.add as string[];
    expect(bounding!.split(' ').sort()).toEqual(daemonSetCaps.map((cap) => `CAP_${cap}`).sort());
    expect(daemonSetCaps.sort()).toEqual([...AGENT_CAPABILITIES].sort());
    expect(directives(unitText, 'NoNewPrivileges')).toEqual(['yes']);
  });

  it('keeps /proc/kallsyms, the process table and /lib/modules visible to perf and bpftrace', () => {
    // ProtectKernelTunables makes /proc/kallsyms inaccessible, ProtectProc/ProcSubset hide other processes,
    // ProtectKernelModules hides /lib/modules, PrivateUsers maps root away, MemoryDenyWriteExecute breaks JITs.
    for (const key of ['ProtectKernelTunables', 'ProtectKernelModules', 'ProtectProc', 'ProcSubset', 'PrivateUsers', 'MemoryDenyWriteExecute', 'DynamicUser']) {
      expect(directives(unitText, key), key).toEqual([]);
    }
    expect(directives(unitText, 'ProtectSystem')).toEqual(['strict']);
  });
});

describe.skipIf(skip)('systemd-analyze on the unit', () => {
  it('verify finds nothing to complain about', async () => {
    const { exitCode, complaints } = await verify(checkoutCopy(unitText));
    expect(complaints).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('verify does complain about a broken copy', async () => {
    const broken = unitText.replace('Restart=on-failure', 'Restart=sometimes').replace('ProtectSystem=strict', 'ProtectSystem=bogus');
    const { complaints } = await verify(checkoutCopy(broken));
    expect(complaints.join('\n')).toMatch(/restart specifier/);
    expect(complaints.join('\n')).toMatch(/protect system value/);
  });

  it('rates the sandbox at an exposure of 5.0 or less ("OK" or better)', async () => {
    const result = await execa('systemd-analyze', ['security', '--offline=yes', checkoutCopy(unitText)], { reject: false, all: true, timeout: 60_000 });
    const exposure = /Overall exposure level for irisflame-agent\.service: (\d+\.\d)/.exec(result.all ?? '');
    if (exposure === null && /offline/.test(result.all ?? '')) {
      reportSkip('systemd-analyze security --offline', 'this systemd is older than 250');
      return;
    }
    expect(exposure, result.all).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThanOrEqual(5.0);
  });
});
