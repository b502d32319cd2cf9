/** Progress on a terminal fits its width (a wrapped line cannot be redrawn in place) and is silent elsewhere. */
import { jest } from '@jest/globals';
import { progressBar, statusLine } from '../../src/io/progress.js';

/** A stream as a terminal of `columns` columns receives it; the visible lines are what follows each \r. */
function terminal(columns?: number): { stream: { write: (s: string) => void; isTTY: true; columns?: number }; lines: () => string[]; text: () => string } {
  const parts: string[] = [];
  const stream = { write: (s: string) => void parts.push(s), isTTY: true as const, ...(columns !== undefined ? { columns } : {}) };
  return { stream, text: () => parts.join(''), lines: () => parts.join('').split(/[\r\n]/).filter((l) => l.length > 0) };
}

const LONG = 'model.layers.31.self_attn.q_proj.weight.of.a.very.long.checkpoint.tensor.name';

describe('the loading progress bar', () => {
  it.each([80, 60, 40, 24])('fits %d columns with long tensor names', (columns) => {
    const t = terminal(columns);
    const bar = progressBar(t.stream, 10 * 2 ** 20, 'loading weights');
    for (let i = 1; i <= 10; i++) bar.update(i * 2 ** 20, `${LONG}.${i}`);
    bar.finish();
    expect(t.lines().length).toBeGreaterThan(5);
    for (const line of t.lines()) expect(line.length).toBeLessThan(columns);
    // The end of the name, which tells tensors apart, is what remains.
    expect(t.lines().some((l) => l.endsWith(`${LONG}.5`.slice(-6)))).toBe(columns >= 60);
  });

  it('assumes 80 columns when the width is unknown, and draws nothing on a non-terminal', () => {
    const t = terminal();
    const bar = progressBar(t.stream, 100, 'loading');
    bar.update(50, LONG);
    for (const line of t.lines()) expect(line.length).toBeLessThan(80);
    const piped: string[] = [];
    const quiet = progressBar({ write: (s: string) => void piped.push(s) }, 100, 'loading');
    quiet.update(50, 'x');
    quiet.finish();
    expect(piped).toEqual([]);
  });
});

describe('the status line', () => {
  it('shows the title, text and elapsed seconds in the width, and erases itself', () => {
    jest.useFakeTimers();
    try {
      const t = terminal(40);
      const s = statusLine(t.stream, 'wasm: compiling the plan for 4096 tokens of a large model');
      s.update('kernel 12 of 300');
      jest.advanceTimersByTime(3000);
      for (const line of t.lines()) expect(line.length).toBeLessThan(40);
      expect(t.lines()[t.lines().length - 1]).toMatch(/kernel 12 of 300 \(3 s\)$/);
      s.done();
      expect(t.text().endsWith('\r')).toBe(true);
      expect(t.text().split('\r').slice(-2)[0]?.trim()).toBe('');
    } finally {
      jest.useRealTimers();
    }
  });

  it('is silent when the stream is not a terminal', () => {
    const piped: string[] = [];
    const s = statusLine({ write: (x: string) => void piped.push(x) }, 'bench matmul');
    s.update('x');
    s.done();
    expect(piped).toEqual([]);
  });
});
