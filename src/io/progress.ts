/**
 * One-line progress on a terminal stream (stderr), redrawn in place with carriage returns: a bar over bytes for
 * weight loading, and a status line with the elapsed time for work of unknown length (compiling, benchmarks).
 * Both draw only when enabled (by default: when the stream is a TTY), so redirected output stays clean, and fit
 * the terminal's width (a line that wraps cannot be redrawn in place: each update would print a new line).
 */

export interface ProgressStream {
  write(s: string): unknown;
  readonly isTTY?: boolean;
  /** The terminal's width (Node's tty.WriteStream has it). */
  readonly columns?: number;
}

export interface Progress {
  /** Called after each unit of work: `done` of `total` bytes, `label` names the item just finished. */
  update(done: number, label: string): void;
  finish(): void;
}

const MB = 1024 * 1024;
const DEFAULT_COLUMNS = 80;

/** Characters a line may take: one less than the width, so the cursor never wraps. */
function room(stream: ProgressStream): number {
  return Math.max(20, (stream.columns !== undefined && stream.columns > 0 ? stream.columns : DEFAULT_COLUMNS) - 1);
}

/** `text` cut to `width` characters, keeping its end (a tensor name's distinguishing part) after an ellipsis. */
function tail(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `…${text.slice(text.length - width + 1)}`;
}

/** Redraws one line in place, clearing what a longer previous line left. */
function liner(stream: ProgressStream): { draw(line: string): void; clear(): void } {
  let lastLen = 0;
  return {
    draw(line) {
      stream.write(`\r${line}${' '.repeat(Math.max(0, lastLen - line.length))}`);
      lastLen = line.length;
    },
    clear() {
      if (lastLen > 0) stream.write(`\r${' '.repeat(lastLen)}\r`);
      lastLen = 0;
    },
  };
}

/** A progress bar over `total` bytes; disabled unless `enabled` or the stream is a TTY. */
export function progressBar(stream: ProgressStream, total: number, title: string, enabled = stream.isTTY === true, width = 30): Progress {
  if (!enabled) return { update: () => undefined, finish: () => undefined };
  let last = -1;
  const line = liner(stream);
  const draw = (done: number, label: string): void => {
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const pct = Math.floor(frac * 100);
    if (pct === last && done < total) return; // one redraw per percent keeps the terminal quiet
    last = pct;
    const numbers = ` ${String(pct).padStart(3)}% ${(done / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB`;
    const max = room(stream);
    // The bar gives way first (down to 10 cells), then the label, then the title.
    const bar = Math.max(0, Math.min(width, max - title.length - numbers.length - 3 - 12));
    const cells = bar >= 10 ? ` [${'#'.repeat(Math.round(frac * bar))}${'-'.repeat(bar - Math.round(frac * bar))}]` : '';
    const head = tail(`${title}${cells}${numbers}`, max);
    line.draw(`${head}${max - head.length > 1 ? ` ${tail(label, max - head.length - 1)}` : ''}`);
  };
  return {
    update: draw,
    finish: () => {
      draw(total, 'done');
      stream.write('\n');
    },
  };
}

export interface Status {
  /** Replaces the text after the title. */
  update(text: string): void;
  /** Erases the line. */
  done(): void;
}

/**
 * A status line for work of unknown length: `title: text (12 s)`, the elapsed seconds redrawn every second;
 * nothing at all unless enabled (by default: when the stream is a TTY). `done` erases it.
 */
export function statusLine(stream: ProgressStream, title: string, enabled = stream.isTTY === true): Status {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  const line = liner(stream);
  const t0 = Date.now();
  let text = '';
  const draw = (): void => {
    const seconds = ` (${Math.floor((Date.now() - t0) / 1000)} s)`;
    line.draw(tail(`${title}${text ? `: ${text}` : ''}`, room(stream) - seconds.length) + seconds);
  };
  draw();
  const timer = setInterval(draw, 1000);
  // The redraw must not keep the process alive.
  timer.unref();
  return {
    update: (t) => {
      text = t;
      draw();
    },
    done: () => {
      clearInterval(timer);
      line.clear();
    },
  };
}
