/**
 * make-checkpoint as a new user meets it (--help, sizes, usage errors), and the checkpoints it writes as `modc
 * report` and `modc run --image` meet them: the vision-token count comes from the checkpoint's tower.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { makeCheckpointCli } from '../../scripts/make-checkpoint-cli.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

function make(...argv: string[]): { code: number; out: string; err: string } {
  const [out, err]: string[][] = [[], []];
  const code = makeCheckpointCli(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const modc = (...argv: string[]): Promise<CliRun> => runCli(argv);

const root = tempDir('modc-make-');

describe('make-checkpoint', () => {
  it('has --help', () => {
    const r = make('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: npm run make-checkpoint -- /);
    for (const flag of ['--kind', '--hidden-size', '--layers', '--heads', '--kv-heads', '--intermediate-size', '--vocab', '--vision-tower']) expect(r.out).toContain(flag);
  });

  it('answers a usage mistake with one line and a pointer to --help', () => {
    const r = make('--frobnicate', '1', '--out', join(root, 'x'));
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([expect.stringMatching(/^make-checkpoint: Unknown option '--frobnicate'/), "run 'npm run make-checkpoint -- --help' for the options"]);
    expect(make('--layers', 'many', '--out', join(root, 'x')).err).toMatch(/^make-checkpoint: --layers must be an integer >= 1, got 'many'/);
    expect(make('--kind', 'gpt2', '--out', join(root, 'x')).err).toMatch(/--kind must be one of llama, llava-1.5/);
  });

  it('writes the sizes it is given', () => {
    const dir = join(root, 'sized');
    const r = make('--kind', 'llama', '--hidden-size', '48', '--layers', '3', '--heads', '6', '--kv-heads', '3', '--intermediate-size', '80', '--vocab', '400', '--out', dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/hidden 48, 3 layers, 6 heads, vocabulary 400/);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ hidden_size: 48, num_hidden_layers: 3, num_attention_heads: 6, num_key_value_heads: 3, intermediate_size: 80, vocab_size: 400 });
  });

  it('reports sizes the model cannot have, naming the field', () => {
    const r = make('--kind', 'llama', '--hidden-size', '64', '--heads', '3', '--out', join(root, 'odd'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/config.json: the head dim hidden_size \/ num_attention_heads = 21 must be even for RoPE/);
  });
});

describe('checkpoints from make-checkpoint in modc', () => {
  it("report takes N_v from the checkpoint's own tower (4 tokens of a 28-pixel tower), not LLaVA's 576", async () => {
    const dir = join(root, 'pmod-full');
    expect(make('--kind', 'pmod-llava', '--dtype', 'bf16', '--vision-tower', 'full', '--out', dir).code).toBe(0);
    const r = await modc('report', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('N_v = 4 vision tokens');
  });

  it('report on a checkpoint whose tower is only named says which flag sets the token counts', async () => {
    const dir = join(root, 'pmod-stub');
    expect(make('--kind', 'pmod-llava', '--out', dir).code).toBe(0);
    const r = await modc('report', dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/exceeds max_position_embeddings 512 .*N_v = 576 is the model's typical image, T = 60 its typical prompt; set the counts with --vision-tokens N and --text-tokens T$/);
    expect((await modc('report', dir, '--vision-tokens', '100')).code).toBe(0);
  });

  it('a llava-next-hf checkpoint with the full tower runs with an image: a few crops, not 289', async () => {
    const dir = join(root, 'next-hf');
    expect(make('--kind', 'llava-next-hf', '--vision-tower', 'full', '--tokenizer', 'json', '--out', dir).code).toBe(0);
    const png = new PNG({ width: 40, height: 20 });
    png.data.fill(120);
    const image = join(root, 'wide.png');
    writeFileSync(image, PNG.sync.write(png));
    const r = await modc('run', '--checkpoint', dir, '--image', image, '--prompt', 'What is this?', '--max-new-tokens', '2', '--backend', 'reference');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.progress).toMatch(/encoding .*wide\.png \(40x20, 3 crops\)/);
    expect((await modc('report', dir)).out).toContain('N_v = 20 vision tokens');
  });
});
