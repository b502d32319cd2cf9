/**
 * A one-line progress bar for weight loading, drawn on a terminal stream (stderr) with carriage returns. It draws
 * only when enabled (by default: when the stream is a TTY), so redirected output and stdout stay clean.
 */

export interface ProgressStream {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export interface Progress {
  /** Called after each unit of work: `done` of `total` bytes, `label` names the item just finished. */
  update(done: number, label: string): void;
  finish(): void;
}

const MB = 1024 * 1024;

/** A progress bar over `total` bytes; disabled unless `enabled` or the stream is a TTY. */
export function progressBar(stream: ProgressStream, total: number, title: string, enabled = stream.isTTY === true, width = 30): Progress {
  if (!enabled) return { update: () => undefined, finish: () => undefined };
  let last = -1;
  let lastLen = 0;
  const draw = (done: number, label: string): void => {
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const pct = Math.floor(frac * 100);
    if (pct === last && done < total) return; // one redraw per percent keeps the terminal quiet
    last = pct;
    const filled = Math.round(frac * width);
    const line = `${title} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${(done / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB ${label}`;
    stream.write(`\r${line}${' '.repeat(Math.max(0, lastLen - line.length))}`);
    lastLen = line.length;
  };
  return {
    update: draw,
    finish: () => {
      draw(total, 'done');
      stream.write('\n');
    },
  };
}
