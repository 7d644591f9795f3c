/**
 * The snippets in deploy/README.md and the main README's agent section are copies
 * of the checked files under deploy/: they must not drift from them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployPath, readYaml, type Manifest } from './support.js';

function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);
}

/** Lines that carry configuration: no blank lines, no comments, no indentation. */
function significantLines(text: string, comment: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith(comment));
}

const rulesFile = readYaml(deployPath('prometheus', 'irisflame-rules.yml'));
const rulesByName = new Map<string, Manifest>(rulesFile.groups.flatMap((group: Manifest) => group.rules).map((rule: Manifest) => [rule.alert, rule]));
const prometheusFile = readYaml(deployPath('prometheus', 'prometheus.yml'));
const parcaFile = readYaml(deployPath('parca', 'parca.yaml'));
const alloyLines = new Set(significantLines(readFileSync(deployPath('alloy', 'irisflame.alloy'), 'utf8'), '//'));

/** Every rule shown is in the rules file with the same expression, and the same duration and labels where shown. */
function expectRulesFromFile(groups: Manifest[]): void {
  const shown = groups.flatMap((group) => group.rules);
  expect(shown.length).toBeGreaterThan(0);
  for (const rule of shown) {
    const original = rulesByName.get(rule.alert);
    expect(original, rule.alert).toBeDefined();
    expect(rule.expr, rule.alert).toBe(original!.expr);
    for (const key of ['for', 'labels']) if (rule[key] !== undefined) expect(rule[key], `${rule.alert} ${key}`).toEqual(original![key]);
  }
}

function expectAlloyFromFile(block: string): void {
  for (const line of significantLines(block, '//')) expect(alloyLines, line).toContain(line);
}

describe.each(['README.md', '../README.md'])('deploy/%s', (file) => {
  const markdown = readFileSync(deployPath(file), 'utf8');
  const yamlBlocks = codeBlocks(markdown, 'yaml').map((block) => parse(block) as Manifest);

  it('shows the alert rules of the rules file', () => {
    const withRules = yamlBlocks.filter((block) => block.groups !== undefined);
    expect(withRules).toHaveLength(1);
    expectRulesFromFile(withRules[0]!.groups);
  });

  it('shows Alloy configuration that is in the Alloy file', () => {
    const blocks = codeBlocks(markdown, 'alloy');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expectAlloyFromFile(block);
  });

  it('shows Parca jobs that ask for the CPU profile only, as the Parca file does', () => {
    const parcaJobs = yamlBlocks
      .filter((block) => block.scrape_configs !== undefined)
      .flatMap((block) => block.scrape_configs)
      .filter((job: Manifest) => job.profiling_config !== undefined);
    expect(parcaJobs.length).toBeGreaterThan(0);
    for (const job of parcaJobs) expect(job.profiling_config).toEqual(parcaFile.scrape_configs[0].profiling_config);
  });
});

describe('deploy/README.md', () => {
  const yamlBlocks = codeBlocks(readFileSync(deployPath('README.md'), 'utf8'), 'yaml').map((block) => parse(block) as Manifest);

  it('shows the Prometheus jobs of prometheus.yml as they are', () => {
    const prometheus = yamlBlocks.find((block) => block.scrape_configs?.some((job: Manifest) => job.job_name === 'irisflame-hosts'));
    expect(prometheus?.scrape_configs).toEqual(prometheusFile.scrape_configs);
  });

  it("shows Parca's Kubernetes job as it is in parca.yaml", () => {
    const parca = yamlBlocks.find((block) => block.scrape_configs?.[0]?.profiling_config !== undefined);
    expect(parca?.scrape_configs).toEqual([parcaFile.scrape_configs[0]]);
  });
});
