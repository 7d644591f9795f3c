#!/usr/bin/env node
// `npm run bench`: every speed and memory target, measured side by side in one run.
// Each stage's benchmark lives in its own file and can also run alone (node bench/<stage>.mjs).
// BENCH_ONLY=collapse,render,browser,timeline,record,record-callgraph,agent,warm-idle,agent-dwarf picks a subset.
const STAGES = [
  { name: 'collapse', file: './collapse.mjs', run: 'runCollapseBench' },
  { name: 'render', file: './render.mjs', run: 'runRenderBench' },
  { name: 'browser', file: './browser.mjs', run: 'runBrowserBench' },
  { name: 'timeline', file: './timeline.mjs', run: 'runTimelineBench' },
  // Needs root and perf/bpftrace: profiler CPU and bytes moved, per backend, over the same window.
  { name: 'record', file: './record-overhead.mjs', run: 'runRecordOverheadBench' },
  // Needs root and perf: fp vs DWARF unwinding (and what `auto` picks) through the real CLI, over the same load.
  { name: 'record-callgraph', file: './record-callgraph.mjs', run: 'runRecordCallGraphBench' },
  // Needs root and bpftrace: the node agent's CPU and RSS with the simulated IRIS running, beside perf record.
  { name: 'agent', file: './agent.mjs', run: 'runAgentBench' },
  // Needs root, bpftrace and gcc: the warm off-CPU tracer following an idle simulated IRIS, unarmed vs armed vs nothing.
  { name: 'warm-idle', file: './warm-idle.mjs', run: 'runWarmIdleBench' },
  // Needs root, bpftrace and perf: whole stacks for programs without frame pointers, agent fp vs auto vs perf -a dwarf.
  { name: 'agent-dwarf', file: './agent-dwarf.mjs', run: 'runAgentDwarfBench' },
];

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
let failed = false;
for (const stage of STAGES) {
  if (only && !only.includes(stage.name)) continue;
  console.log(`\n=== ${stage.name} ===`);
  try {
    const module = await import(stage.file);
    await module[stage.run]();
  } catch (error) {
    failed = true;
    console.error(`bench ${stage.name} failed: ${error?.message ?? error}`);
  }
}
process.exitCode = failed ? 1 : 0;
