/** The README.md of a compiled-model artifact: what it holds and how to run it (docs/artifacts.md has the format). */
import type { Artifact } from '../runtime/artifact.js';

const bytes = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

export function artifactReadme(a: Artifact, files: ReadonlyMap<string, Uint8Array>): string {
  const m = a.model;
  const mod = m.layerRatios.flatMap((r, l) => (r === null ? [] : [l]));
  const dispatches = (i: number): number => a.programs[i]?.steps.filter((s) => s.op === 'dispatch').length ?? 0;
  const weightBytes = a.weights.reduce((s, w) => s + w.shape.reduce((x, y) => x * y, 1) * (w.dtype === 'f16' || w.dtype === 'bf16' ? 2 : 4), 0);
  const codeBytes = [...files.values()].reduce((s, b) => s + b.length, 0);
  const lines = [
    `# ${m.name}: compiled by modc for ${a.target.name}`,
    '',
    `A compiled p-MoD plan: the programs, the kernels' code and the weight manifest of \`${a.source.name}\`, made by`,
    `modc ${a.compiler.version} (build ${a.compiler.build}) for the ${a.target.name} target (${a.target.device}). It runs without`,
    'the compiler: the weights come from a checkpoint that matches the manifest.',
    '',
    '```',
    `modc run --plan ${'<this directory>'} --checkpoint <checkpoint dir> --prompt "Describe the image." [--image x.png]`,
    '```',
    '',
    '## Model',
    '',
    `- ${m.numLayers} decoder layers, hidden size ${m.hiddenSize}, vocabulary ${m.vocabSize}${m.modelType ? `, model_type \`${m.modelType}\`` : ''}`,
    `- MoD layers: ${mod.length ? mod.map((l) => `${l} (R = ${(m.layerRatios[l] ?? 0).toFixed(4)})`).join(', ') : 'none (dense)'}`,
    `- weights: ${a.weights.length} tensors, ${bytes(weightBytes)} in their stored dtypes${a.weights.some((w) => w.checkpoint) ? ' (byte ranges of the checkpoint it was compiled from are in plan.json)' : ''}`,
    '',
    '## Entries (one per vision-token count)',
    '',
    'Prompts up to the entry\'s text tokens run (shorter ones are padded at the end, which changes nothing before the',
    'padding: attention is causal). C{l} is each layer\'s KV-cache capacity in rows: text + vision rows it caches',
    '(N_v, or k_l in a MoD layer) + the new tokens, rounded up to 64.',
    '',
    '| N_v | text tokens | new tokens | k_l per MoD layer | C{l} per layer | prefill dispatches | decode dispatches |',
    '|---|---|---|---|---|---|---|',
    ...a.entries.map(
      (e) =>
        `| ${e.visionTokens} | ${e.maxTextTokens} | ${e.maxNewTokens} | ${e.layers.flatMap((l, i) => (l.capacity === null ? [] : [`${i}: ${l.capacity}`])).join(', ') || '-'} | ${e.layers.map((l) => l.cacheCapacity).join(', ')} | ${dispatches(e.prefill.program)} | ${dispatches(e.decode.program)} |`,
    ),
    '',
    '## Files',
    '',
    `- \`plan.json\`: format ${a.format} version ${a.formatVersion}; ${a.programs.length} programs, ${a.kernels.length} kernels, the target and its limits, the weight manifest; content hash (SHA-256) \`${'<recorded in the file>'}\``,
    `- \`kernels/\`: ${files.size} files, ${bytes(codeBytes)}: ${a.renderer.kind === 'wasm' ? 'one WebAssembly module (.wasm) per distinct kernel and its text form (.wat)' : a.renderer.kind === 'ptx' ? `one PTX module (.ptx) per distinct kernel (${a.renderer.version}, ${a.renderer.target})` : 'one WGSL shader per distinct kernel'}; each file's SHA-256 is in plan.json`,
    '',
    'A damaged or edited file is refused when the artifact is loaded (its hash no longer matches). docs/artifacts.md in',
    'modc describes every field.',
    '',
  ];
  return lines.join('\n');
}
