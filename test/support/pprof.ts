/**
 * Checking the pprof profiles irisflame writes, the way their consumers do: Parca's validation rules
 * (parca-dev/parca pkg/normalizer/validate.go, restated here in JavaScript, slightly stricter: an index equal
 * to the table's length is out of range, which Parca lets pass) and the real `go tool pprof` (Debian
 * golang-go). `go tool pprof` keeps a copy of every profile it fetches under $PPROF_TMPDIR (else ~/pprof),
 * so the runner points that at a temporary directory.
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { findExecutable } from '../../src/tools/executables.js';

const GZIP_MAGIC = [0x1f, 0x8b];

/** Decode a profile, gzipped or not (Parca's normalizer checks for 1f 8b). */
export function decodeProfile(bytes: Uint8Array): Profile {
  const raw = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1] ? gunzipSync(bytes) : bytes;
  return Profile.decode(raw);
}

/** Every rule Parca's ValidatePprofProfile applies; the problems found (empty when the profile is valid). */
export function parcaProblems(profile: Profile): string[] {
  const problems: string[] = [];
  const strings = profile.stringTable.strings;
  const inStrings = (index: unknown): boolean => Number(index) >= 0 && Number(index) < strings.length;
  if (strings.length > 0 && strings[0] !== '') problems.push(`string_table[0] is ${JSON.stringify(strings[0])}, not ""`);
  profile.mapping.forEach((mapping, i) => {
    if (Number(mapping.id) !== i + 1) problems.push(`mapping ${i} has id ${mapping.id}, not ${i + 1}`);
    if (!inStrings(mapping.filename)) problems.push(`mapping ${mapping.id}: filename index ${mapping.filename} out of range`);
    if (!inStrings(mapping.buildId)) problems.push(`mapping ${mapping.id}: build id index ${mapping.buildId} out of range`);
  });
  profile.function.forEach((fn, i) => {
    if (Number(fn.id) !== i + 1) problems.push(`function ${i} has id ${fn.id}, not ${i + 1}`);
    for (const field of ['name', 'systemName', 'filename'] as const) {
      if (!inStrings(fn[field])) problems.push(`function ${fn.id}: ${field} index ${fn[field]} out of range`);
    }
  });
  profile.location.forEach((location, i) => {
    if (Number(location.id) !== i + 1) problems.push(`location ${i} has id ${location.id}, not ${i + 1}`);
    if (Number(location.mappingId) > profile.mapping.length) problems.push(`location ${location.id}: mapping ${location.mappingId} does not exist`);
    for (const line of location.line) {
      if (Number(line.functionId) > profile.function.length) problems.push(`location ${location.id}: function ${line.functionId} does not exist`);
    }
  });
  if (profile.sampleType.length === 0 && profile.sample.length > 0) problems.push('samples without sample types');
  profile.sample.forEach((sample, i) => {
    if (sample.value.length !== profile.sampleType.length) {
      problems.push(`sample ${i} has ${sample.value.length} values for ${profile.sampleType.length} sample types`);
    }
    for (const id of sample.locationId) {
      if (Number(id) === 0) problems.push(`sample ${i} has location id 0`);
      else if (Number(id) > profile.location.length) problems.push(`sample ${i}: location ${id} does not exist`);
    }
    sample.label.forEach((label, j) => {
      if (Number(label.key) === 0) problems.push(`sample ${i} label ${j} has no key`);
      if (!inStrings(label.key)) problems.push(`sample ${i} label ${j}: key index ${label.key} out of range`);
      if (!inStrings(label.str)) problems.push(`sample ${i} label ${j}: str index ${label.str} out of range`);
    });
  });
  return problems;
}

/** Why `go tool pprof` cannot run here, or undefined when it can. */
export function goPprofReason(): string | undefined {
  return findExecutable('go') === undefined ? 'go (Debian golang-go) is not installed: no `go tool pprof`' : undefined;
}

const pprofTmp = mkdtempSync(join(tmpdir(), 'irisflame-pprof-tmp-'));

export interface GoPprofResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `go tool pprof ARGS…`, PPROF_TMPDIR private; never rejects. */
export async function goPprof(args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<GoPprofResult> {
  const result = await execa('go', ['tool', 'pprof', ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { PPROF_TMPDIR: pprofTmp, HOME: pprofTmp, GOFLAGS: '', GOCACHE: join(pprofTmp, 'gocache'), ...env },
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Total of sample value `index` over the whole profile. */
export function valueTotal(profile: Profile, index: number): number {
  return profile.sample.reduce((sum, sample) => sum + Number(sample.value[index]), 0);
}

/** The string of each label `key`, with the samples' counts (value 0) under it. */
export function labelCounts(profile: Profile, key: string): Map<string, number> {
  const strings = profile.stringTable.strings;
  const counts = new Map<string, number>();
  for (const sample of profile.sample) {
    for (const label of sample.label) {
      if (strings[Number(label.key)] !== key) continue;
      const value = Number(label.str) !== 0 ? strings[Number(label.str)]! : String(label.num);
      counts.set(value, (counts.get(value) ?? 0) + Number(sample.value[0]));
    }
  }
  return counts;
}

/** Function names of each sample's stack, root first (as folded stacks read). */
export function stacksOf(profile: Profile): { frames: string[]; count: number }[] {
  const strings = profile.stringTable.strings;
  const locations = new Map(profile.location.map((location) => [Number(location.id), location]));
  const functions = new Map(profile.function.map((fn) => [Number(fn.id), fn]));
  return profile.sample.map((sample) => ({
    frames: sample.locationId
      .map((id) => strings[Number(functions.get(Number(locations.get(Number(id))!.line[0]!.functionId))!.name)]!)
      .reverse(),
    count: Number(sample.value[0]),
  }));
}
