/**
 * `modc report --routing`: the kept vision tokens of every MoD layer for an image, as a table, JSON, a PNG heatmap
 * whose pixels show exactly the kept patches (bright) and the dropped ones (dimmed), and an HTML page with one
 * overlay grid per layer holding k_l kept cells.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { floorMulF32 } from '../../src/ir/index.js';
import { main } from '../../src/cli/main.js';
import { keptMask, renderHeatmap } from '../../src/io/image/heatmap.js';
import { decodeImage } from '../../src/io/image/decode.js';
import { encodePng } from '../../src/io/image/png-encode.js';
import { newImage, pixelAt, rgbImage } from '../../src/io/image/rgb.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'modc-routing-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s), { progress: { write: () => true, isTTY: false } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('renderHeatmap', () => {
  it('draws kept patches as they are and dropped ones dimmed, with a bar of kept vs dense', () => {
    // A 4x4-patch view, each patch its own colour.
    const view = rgbImage(64, 64, Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => {
      const p = Math.floor(i / 3);
      const cell = Math.floor(Math.floor(p / 64) / 16) * 4 + Math.floor((p % 64) / 16);
      return (cell * 37 + (i % 3) * 80) % 256;
    }));
    const kept = [0, 5, 15];
    const img = renderHeatmap({ view, side: 4, visionTokens: 16, layers: [{ layer: 2, ratio: 0.2, capacity: 3, kept }], panel: 64, columns: 2 });
    expect(img.width).toBe(2 * (64 + 16) + 16);
    const panelX = 16 + 80;
    const top = 16 + 16;
    const centre = (cell: number): [number, number] => [8 + (cell % 4) * 16, 8 + Math.floor(cell / 4) * 16];
    for (let cell = 0; cell < 16; cell++) {
      const [x, y] = centre(cell);
      const input = pixelAt(img, 16 + x, top + y);
      const layer = pixelAt(img, panelX + x, top + y);
      if (kept.includes(cell)) expect(layer).toEqual(input);
      else expect(layer.reduce((a, b) => a + b, 0)).toBeLessThan(input.reduce((a, b) => a + b, 0) * 0.6 + 3 * 41);
    }
    // The bar: 3/16 of the panel width in the kept colour, the rest grey.
    const barY = top + 64 + 6;
    expect(pixelAt(img, panelX + 2, barY)).toEqual([232, 120, 20]);
    expect(pixelAt(img, panelX + 60, barY)).toEqual([205, 205, 205]);
    expect(keptMask([1, 99], 2)).toEqual([false, true, false, false]);
  });

  it('encodes to a PNG that decodes to the same pixels', () => {
    const img = newImage(5, 3, [10, 200, 30]);
    img.data[7] = 99;
    expect(decodeImage(encodePng(img), 'x.png').data).toEqual(img.data);
  });
});

describe('modc report --routing', () => {
  const ck = join(root, 'ck');
  writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'f32', seed: 1, tokenizer: 'model', visionTower: 'full' });
  const png = new pngjs.PNG({ width: 50, height: 40 });
  for (let i = 0; i < 50 * 40; i++) png.data.set([(i * 7) % 256, (i * 3) % 256, 128, 255], 4 * i);
  const imagePath = join(root, 'x.png');
  writeFileSync(imagePath, pngjs.PNG.sync.write(png));
  const cache = join(root, 'cache');

  it('prints k_l per MoD layer and writes a PNG heatmap of exactly the kept patches', async () => {
    const heat = join(root, 'heat.png');
    const r = await cli('report', '--routing', '--checkpoint', ck, '--image', imagePath, '--heatmap', heat, '--json', '--cache-dir', cache);
    expect(r.err).toBe('');
    const rep = JSON.parse(r.out) as { visionTokens: number; side: number; layers: { layer: number; ratio: number; capacity: number; kept: number[] }[] };
    expect(rep.visionTokens).toBe(4);
    expect(rep.side).toBe(2);
    expect(rep.layers.map((l) => l.layer)).toEqual([2, 3, 4, 5, 6, 7]);
    for (const l of rep.layers) {
      expect(l.capacity).toBe(floorMulF32(4, l.ratio));
      expect(l.kept).toHaveLength(l.capacity);
    }
    const img = decodeImage(readFileSync(heat), heat);
    // Panels of 192 pixels, 4 per row: the input and 6 layers make 2 rows.
    expect([img.width, img.height]).toEqual([4 * 208 + 16, 2 * 224 + 16]);
    rep.layers.forEach((l, i) => {
      const px = 16 + ((i + 1) % 4) * 208;
      const py = 16 + Math.floor((i + 1) / 4) * 224 + 16;
      for (let cell = 0; cell < 4; cell++) {
        const x = 48 + (cell % 2) * 96;
        const y = 48 + Math.floor(cell / 2) * 96;
        const same = pixelAt(img, px + x, py + y).join() === pixelAt(img, 16 + x, 32 + y).join();
        expect(same).toBe(l.kept.includes(cell));
      }
    });
    const table = await cli('report', '--routing', '--checkpoint', ck, '--image', imagePath, '--cache-dir', cache);
    expect(table.out).toMatch(/layer\s+R_l\s+k_l\s+kept\s+dense\s+retained/);
    expect(table.out).toMatch(/^\s+2\s+0\.8117\s+3\s+3\s+4\s+75\.0%$/m);
  });

  it('writes an HTML page with one overlay per layer holding its kept cells', async () => {
    const heat = join(root, 'heat.html');
    const r = await cli('report', '--routing', '--checkpoint', ck, '--image', imagePath, '--heatmap', heat, '--cache-dir', cache);
    expect(r.err).toBe('');
    const html = readFileSync(heat, 'utf8');
    const figures = html.split('<figure>').slice(1);
    expect(figures).toHaveLength(7);
    const keptPerLayer = figures.slice(1).map((f) => (f.match(/<i class="k">/g) ?? []).length);
    expect(keptPerLayer).toEqual([3, 2, 1, 0, 0, 0]);
    expect(html).toContain('data:image/png;base64,');
  });

  it('refuses a heatmap format it cannot write and a missing image', async () => {
    expect((await cli('report', '--routing', '--checkpoint', ck, '--image', imagePath, '--heatmap', join(root, 'x.jpg'))).err).toMatch(/--heatmap writes \.png or \.html/);
    expect((await cli('report', '--routing', '--checkpoint', ck)).err).toMatch(/--routing needs --checkpoint CK and --image FILE/);
  });
});
