/**
 * `GET /lifecycle/`: the flight recorder's records as one plain HTML table, newest first, for the operator
 * who opens the agent's address in a browser. No script (works without JavaScript, and the CSP forbids it);
 * everything from a record is escaped, since instance names, commands and notes come from the host.
 * The page does not say whether the data came from a real or a simulated IRIS: the records say what they are.
 */
import type { IndexEntry } from './routes.js';

export interface LifecyclePageInput {
  entries: IndexEntry[];
  skipped: number;
  dirProblem: string | undefined;
  dataDir: string;
  enabled: boolean;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}th,td{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}.crash{color:#b00}.note{color:#666;font-size:90%}
.path{font-family:ui-monospace,monospace;font-size:90%}`;

export function lifecyclePage(input: LifecyclePageInput): string {
  const rows = [...input.entries].reverse().map(row).join('\n');
  const notes: string[] = [];
  if (!input.enabled) notes.push('The flight recorder is off on this agent: no new lifecycles are recorded.');
  if (input.dirProblem !== undefined) notes.push(`The data dir cannot be read: ${input.dirProblem}.`);
  else if (input.entries.length === 0) notes.push(`No records yet in ${input.dataDir}: one appears after an IRIS instance starts, stops, restarts or crashes.`);
  if (input.skipped > 0) notes.push(`${input.skipped} record(s) skipped: unreadable metadata or capture missing.`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>irisflame: IRIS lifecycles on this node</title>
<style>${STYLE}</style></head>
<body>
<h1>IRIS lifecycles recorded on this node</h1>
<p>Every start, stop, restart and crash the agent saw, newest first. <a href="index.json">index.json</a> has the same list for scripts.</p>
${notes.map((note) => `<p class="note">${escapeHtml(note)}</p>`).join('\n')}
${input.entries.length === 0 ? '' : `<table>
<thead><tr><th>Instance</th><th>What</th><th>When (UTC)</th><th>Duration</th><th>Ended</th><th>Critical path</th><th>View</th></tr></thead>
<tbody>
${rows}
</tbody></table>`}
</body></html>
`;
}

function row(entry: IndexEntry): string {
  const crash = entry.kind === 'crash';
  const how = crash ? [entry.signal ?? (entry.exit_code !== undefined ? `exit code ${entry.exit_code}` : 'how unknown')] : [];
  const ended = [entry.ended_by, ...(entry.partial ? ['partial'] : [])].join(', ');
  const notes = entry.notes.length > 0 ? `<div class="note">${entry.notes.map(escapeHtml).join('<br>')}</div>` : '';
  const command = entry.command !== undefined ? `<div class="path">${escapeHtml(entry.command)}</div>` : '';
  return `<tr${crash ? ' class="crash"' : ''}>
<td>${escapeHtml(entry.iris_instance)}</td>
<td>${escapeHtml(entry.kind)}${how.map((h) => ` (${escapeHtml(h)})`).join('')}${command}</td>
<td>${escapeHtml(entry.started_at.replace('T', ' ').replace('Z', ''))}</td>
<td class="num">${entry.duration_seconds.toFixed(3)} s</td>
<td>${escapeHtml(ended)}${notes}</td>
<td>${escapeHtml(entry.critical_path?.summary ?? 'not computed')}</td>
<td><a href="${escapeHtml(encodeURI(entry.svg))}">view</a> · <a href="${escapeHtml(encodeURI(entry.capture))}">capture</a></td>
</tr>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
