/**
 * `modc report --routing --checkpoint CK --image x.png [--heatmap out.png|out.html]`: which image patches each MoD
 * layer of a p-MoD checkpoint keeps for an image and a prompt (one prefill through the high-level API), as a
 * per-layer table (R_l, k_l, kept vs dense) and a heatmap drawn over the image as the vision tower saw it: a PNG
 * (pngjs) or a self-contained HTML page.
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { loadModel } from '../api/load-model.js';
import { floorMulF32 } from '../ir/index.js';
import { type HeatmapLayer, keptMask, renderHeatmap } from '../io/image/heatmap.js';
import { loadImage } from '../io/image/decode.js';
import { encodePng } from '../io/image/png-encode.js';
import type { RgbImage } from '../io/image/rgb.js';
import type { Model } from '../runtime/model.js';
import { flag, type Parsed, strOpt, UsageError } from './args.js';

export const ROUTING_HELP = `       modc report --routing --checkpoint CK --image FILE [--heatmap OUT.png|OUT.html] [--prompt TEXT] [--backend B]

  --routing           the vision tokens each MoD layer of a p-MoD checkpoint keeps for --image (and --prompt,
                      default "Describe the image."): a table of R_l, k_l and kept vs dense per layer, and with
                      --heatmap the kept patches of every layer drawn over the image (PNG, or a self-contained HTML
                      page for .html)`;

export interface RoutingReport {
  readonly model: string;
  readonly visionTokens: number;
  /** Patches per side of the tower's grid (vision tokens 0 .. side^2 - 1 cover the image as the tower saw it). */
  readonly side: number;
  readonly layers: readonly HeatmapLayer[];
}

/** The routing of one image through a loaded model (one prefill and the first token). */
export async function routingOf(model: Model, image: RgbImage, prompt: string, ratios: readonly (number | null)[]): Promise<{ report: RoutingReport; view: RgbImage }> {
  const view = await model.imageView(image);
  if (view === undefined) throw new UsageError(`model '${model.name}' has no vision side: --routing needs a (p-MoD) LLaVA checkpoint`);
  const stream = model.generate({ prompt, image, maxNewTokens: 1 });
  for await (const _ of stream) {
    // only the prefill's routing is wanted
  }
  const r = await stream.result;
  const layers = Object.entries(r.routing)
    .map(([l, kept]) => {
      const ratio = ratios[Number(l)] ?? 1;
      return { layer: Number(l), ratio, capacity: floorMulF32(r.visionTokens, ratio), kept };
    })
    .sort((a, b) => a.layer - b.layer);
  return { report: { model: model.name, visionTokens: r.visionTokens, side: view.side, layers }, view: view.view };
}

export function routingTable(r: RoutingReport): string {
  const lines = [`routing of ${r.visionTokens} vision tokens (${r.side}x${r.side} patches of the tower's view) through ${r.layers.length} MoD layers of ${r.model}`, 'layer   R_l     k_l   kept  dense  retained'];
  for (const l of r.layers)
    lines.push(`${String(l.layer).padStart(5)}  ${l.ratio.toFixed(4)}  ${String(l.capacity).padStart(5)}  ${String(l.kept.length).padStart(5)}  ${String(r.visionTokens).padStart(5)}  ${((100 * l.kept.length) / Math.max(1, r.visionTokens)).toFixed(1).padStart(7)}%`);
  return lines.join('\n');
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A self-contained page: the tower's view as a PNG data URL, one overlay grid per layer, bars and the table. */
export function routingHtml(r: RoutingReport, view: RgbImage): string {
  const src = `data:image/png;base64,${Buffer.from(encodePng(view)).toString('base64')}`;
  const card = (title: string, kept: boolean[] | undefined, frac: number): string => {
    const cells = Array.from({ length: r.side * r.side }, (_, i) => `<i class="${kept === undefined || kept[i] ? 'k' : 'd'}"></i>`).join('');
    return `<figure><figcaption>${escapeHtml(title)}</figcaption><div class="img"><img src="${src}" alt=""><div class="grid" style="grid-template-columns:repeat(${r.side},1fr)">${cells}</div></div><div class="bar"><span style="width:${(100 * frac).toFixed(1)}%"></span></div></figure>`;
  };
  const cards = [card(`input: ${r.visionTokens} vision tokens`, undefined, 1), ...r.layers.map((l) => card(`layer ${l.layer}: k_l = ${l.kept.length} of ${r.visionTokens} (R_l ${l.ratio.toFixed(4)})`, keptMask(l.kept, r.side), l.kept.length / Math.max(1, r.visionTokens)))];
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>p-MoD routing: ${escapeHtml(r.model)}</title><style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
.cards{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;width:224px}figcaption{font-size:12px;margin-bottom:4px}
.img{position:relative;width:224px;height:224px}.img img{width:100%;height:100%;image-rendering:pixelated;display:block}
.grid{position:absolute;inset:0;display:grid}.grid i{border:1px solid rgba(255,255,255,.35)}.grid i.d{background:rgba(0,0,0,.72)}
.bar{height:8px;background:#ccc;margin-top:4px}.bar span{display:block;height:100%;background:#e87814}
table{border-collapse:collapse;margin-top:24px}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}
</style></head><body>
<h1>p-MoD routing of ${escapeHtml(r.model)}</h1>
<p>Each panel shows the image as the vision tower saw it; dark patches are the vision tokens the layer's router dropped. The bar is the kept tokens against the dense layer's ${r.visionTokens}.</p>
<div class="cards">${cards.join('')}</div>
<table><tr><th>layer</th><th>R_l</th><th>k_l</th><th>kept</th><th>dense</th></tr>${r.layers.map((l) => `<tr><td>${l.layer}</td><td>${l.ratio.toFixed(4)}</td><td>${l.capacity}</td><td>${l.kept.length}</td><td>${r.visionTokens}</td></tr>`).join('')}</table>
</body></html>
`;
}

/** `report --routing`: prints the table (or JSON), writes the heatmap. */
export async function routingReportCommand(p: Parsed, ratiosOf: (dir: string) => readonly (number | null)[], out: (s: string) => void): Promise<number> {
  const ck = strOpt(p, 'checkpoint');
  const imagePath = strOpt(p, 'image');
  if (ck === undefined || imagePath === undefined) throw new UsageError('--routing needs --checkpoint CK and --image FILE');
  if (p.positionals.length) throw new UsageError(`--routing takes the model from --checkpoint, got '${p.positionals.join(' ')}'`);
  const heatmap = strOpt(p, 'heatmap');
  const kind = heatmap === undefined ? undefined : extname(heatmap).toLowerCase();
  if (kind !== undefined && kind !== '.png' && kind !== '.html') throw new UsageError(`--heatmap writes .png or .html, got '${heatmap ?? ''}'`);
  const image = loadImage(imagePath);
  const tower = strOpt(p, 'vision-tower');
  const cacheDir = flag(p, 'no-cache') ? false : strOpt(p, 'cache-dir');
  const model = await loadModel(ck, { backend: strOpt(p, 'backend') ?? 'wasm', ...(tower !== undefined ? { visionTower: tower } : {}), ...(cacheDir !== undefined ? { cacheDir } : {}) });
  try {
    const { report, view } = await routingOf(model, image, strOpt(p, 'prompt') ?? 'Describe the image.', ratiosOf(ck));
    if (heatmap !== undefined) {
      writeFileSync(heatmap, kind === '.html' ? routingHtml(report, view) : encodePng(renderHeatmap({ view, side: report.side, visionTokens: report.visionTokens, layers: report.layers })));
    }
    out(flag(p, 'json') ? JSON.stringify(report, null, 2) : `${routingTable(report)}${heatmap !== undefined ? `\nwrote ${heatmap}` : ''}`);
  } finally {
    await model.dispose();
  }
  return 0;
}
