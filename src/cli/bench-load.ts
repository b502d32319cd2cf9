/** The machine's load average, printed next to every benchmark figure (Node only). */
import { loadavg } from 'node:os';

/** The 1, 5 and 15 minute load averages, printed beside figures (the machine is shared). */
export function loadText(): string {
  return `load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}
