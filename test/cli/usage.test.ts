/**
 * The CLI as a new user meets it: one-line usage errors with a pointer to --help, --version, options that do not
 * apply refused (not ignored), the backends of this build named, a missing checkpoint directory said so, and the
 * end of a chat: speed, token ids on request, JSON, and control bytes escaped on a terminal.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { BACKEND_NAMES } from '../../src/cli/backends.js';
import { escapeControls } from '../../src/cli/run-prompt.js';
import { chatPrompt, loadTokenizer, SafetensorsFile, tensorEntry, tokenizeWithImages, writeSafetensors } from '../../src/index.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const cli = (argv: string[], terminal = false): Promise<CliRun> => runCli(argv, { terminal });

const root = tempDir('modc-usage-');
const ck = join(root, 'llama');
writeCheckpoint(ck, { kind: 'llama', dtype: 'f32', numLayers: 2, seed: 5 });

describe('usage errors', () => {
  it('print one line and a pointer to --help, not the whole help', async () => {
    const r = await cli(['report', 'tiny-pmod', '--vision-tokens', 'many']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual(["modc report: UsageError: --vision-tokens must be an integer >= 0, got 'many'", "run 'modc report --help' for the options"]);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^modc: unknown command 'frobnicate' \((report|ir|compile|run|bench)(, (report|ir|compile|run|bench))+\); run 'modc --help' for usage$/);
  });

  it('modc --version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`modc ${pkg.version}`);
  });

  it('names the backends of this build for an unknown one', async () => {
    const r = await cli(['run', 'tiny-pmod', '--backend', 'metal']);
    expect(r.err.split('\n')[0]).toBe(`modc run: UsageError: --backend 'metal' is not in this build; its backends are ${BACKEND_NAMES.join(', ')}`);
  });
});

describe('options that do not apply are refused', () => {
  it.each<[string, string[], RegExp]>([
    ['--vision-tokens with --prompt', ['run', '--checkpoint', ck, '--prompt', 'hi', '--vision-tokens', '5'], /--vision-tokens \(the image gives the vision tokens\) does not apply with --prompt/],
    ['--dtype with --prompt', ['run', '--checkpoint', ck, '--prompt', 'hi', '--dtype', 'f16'], /--dtype \(the checkpoint's tensors give the dtype\) does not apply with --prompt/],
    ['--json with --inputs', ['run', '--checkpoint', ck, '--inputs', 'a', '--out', join(root, 'b'), '--json'], /--json \(the --out file holds the results\) does not apply with --inputs/],
    ['--seed when decoding greedily', ['run', '--checkpoint', ck, '--prompt', 'hi', '--seed', '3'], /--seed does not apply greedy decoding: give --temperature T > 0 to sample/],
    ['--top-k when decoding greedily', ['run', '--checkpoint', ck, '--prompt', 'hi', '--top-k', '3'], /--top-k does not apply greedy decoding/],
    ['--vision-tower without --image', ['run', '--checkpoint', ck, '--prompt', 'hi', '--vision-tower', root], /--vision-tower does not apply without --image/],
    ['--ids without --checkpoint', ['run', 'tiny-pmod', '--ids'], /--ids does not apply without --checkpoint DIR/],
    ['--attention with report --memory', ['report', 'tiny-pmod', '--memory', '--attention', 'full'], /--attention does not apply with --memory/],
    ['--stats with ir --list-passes', ['ir', '--list-passes', '--stats'], /--stats does not apply with --list-passes/],
  ])('%s', async (_what, argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe('a missing checkpoint directory', () => {
  it('says so (not "no tokenizer.json or tokenizer.model")', async () => {
    const missing = join(root, 'no-such-checkpoint');
    const r = await cli(['run', '--checkpoint', missing, '--prompt', 'hi', '--backend', 'reference']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`modc run: ConfigError: ${missing}: no such checkpoint directory`);
  });
});

describe('the end of a chat', () => {
  const args = ['run', '--checkpoint', ck, '--prompt', 'Hello there', '--max-new-tokens', '5', '--backend', 'reference'];

  it('reports time to first token and tokens/s on stderr', async () => {
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(r.progress).toMatch(/^5 tokens \(stop: length\): first token after \d+ ms \(prefill of \d+ tokens\), then [\d.]+ tokens\/s; [\d.]+ s in all\n$/);
  });

  it('prints the token ids on request', async () => {
    const r = await cli([...args, '--ids']);
    const ids = tokenizeWithImages(chatPrompt('Hello there'), loadTokenizer(ck));
    const lines = r.streamed.trimEnd().split('\n');
    expect(lines[lines.length - 2]).toBe(`prompt ids (${ids.length}): ${ids.join(' ')}`);
    expect(lines[lines.length - 1]).toMatch(/^answer ids \(5\): \d+ \d+ \d+ \d+ \d+$/);
  });

  it('gives everything as one JSON object with --json', async () => {
    const plain = await cli(args);
    const r = await cli([...args, '--json']);
    const j = JSON.parse(r.streamed) as { answer: string; answerIds: number[]; promptIds: number[]; stop: string; timeToFirstTokenMs: number; tokensPerSecond: number; promptTokens: number };
    expect(j.answer).toBe(plain.streamed.replace(/\n$/, ''));
    expect(j.answerIds).toHaveLength(5);
    expect(j.promptIds).toEqual(tokenizeWithImages(chatPrompt('Hello there'), loadTokenizer(ck)));
    expect(j.stop).toBe('length');
    expect(j.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(j.tokensPerSecond).toBeGreaterThan(0);
    expect(r.progress).toBe('');
  });

  it('escapes control bytes the model generates when stdout is a terminal, and keeps them raw in a pipe', async () => {
    // A model that can only say ESC or BEL: the final norm keeps one hidden unit, whose sign picks one of two
    // byte-fallback tokens by a wide margin.
    const dir = join(root, 'controls');
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f32', numLayers: 2, seed: 6 });
    const file = join(dir, 'model.safetensors');
    const f = SafetensorsFile.open(file);
    const tensors = f.names().map((n) => [n, f.get(n)] as const);
    f.close();
    const tok = loadTokenizer(dir);
    const [esc, bel] = ['<0x1B>', '<0x07>'].map((p) => Array.from({ length: tok.vocabSize }, (_, i) => i).find((i) => tok.idToPiece(i) === p) ?? -1);
    writeSafetensors(
      file,
      tensors.map(([n, t]) => {
        if (n === 'model.norm.weight') t.data.fill(0).set([1], 0);
        if (n === 'lm_head.weight') {
          t.data.fill(0);
          t.data[(esc ?? 0) * 64] = 100;
          t.data[(bel ?? 0) * 64] = -100;
        }
        return tensorEntry(n, t);
      }),
    );
    const chat = ['run', '--checkpoint', dir, '--prompt', 'x', '--max-new-tokens', '3', '--backend', 'reference'];
    const raw = await cli(chat);
    expect(raw.streamed).toMatch(/^[\x1b\x07]{3}\n$/);
    const shown = await cli(chat, true);
    expect(shown.streamed).toBe(`${escapeControls(raw.streamed.slice(0, 3))}\n`);
    expect(shown.streamed).toMatch(/^(\\x1b|\\x07){3}\n$/);
  });

  it('escapeControls leaves text, tabs and newlines, and escapes C0, DEL, C1 and bidi overrides', () => {
    expect(escapeControls('a\tb\nc é 漢')).toBe('a\tb\nc é 漢');
    expect(escapeControls('\x1b[2J\x07\x7f\x85\u202e')).toBe('\\x1b[2J\\x07\\x7f\\x85\\u{202e}');
  });
});
