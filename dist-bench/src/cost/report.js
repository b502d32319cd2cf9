/**
 * Per-layer cost reports of a p-MoD model against its dense baseline: FLOPs, tokens processed, vision tokens
 * kept (k_l) and KV-cache entries, as a table or as JSON. Layers are found by node name (`layers.{l}.`).
 */
import { evalDim } from '../ir/index.js';
import { graphCosts } from './flops.js';
export const COST_CONVENTION = 'FLOPs: 2 per multiply-add in linear layers and attention (QK^T + AV); router 2d per vision token; norms, activations, RoPE, softmax and data movement not counted; decoder layers only (embedding and lm_head listed as other). KV entries: tokens cached per layer (keys and values of every head).';
function layerOf(c) {
    const named = c.path[0] ?? c.node;
    const m = /^layers\.(\d+)(\.|$)/.exec(named.name);
    return m ? Number(m[1]) : undefined;
}
function accumulate(g, env, attention) {
    const layers = new Map();
    let other = 0;
    for (const c of graphCosts(g, env, attention)) {
        const l = layerOf(c);
        if (l === undefined) {
            other += c.flops;
            continue;
        }
        const acc = layers.get(l) ?? { flops: 0, routerFlops: 0, kvEntries: 0, tokens: 0 };
        acc.flops += c.flops;
        acc.kvEntries += c.kvTokens;
        if (c.node.op === 'modRoute') {
            acc.route = c.node;
            acc.routerFlops += c.flops;
        }
        if (c.node.op === 'attention')
            acc.tokens = evalDim(c.node.outputs[0]?.shape[0] ?? 0, env);
        layers.set(l, acc);
    }
    return { layers, other };
}
/**
 * Builds the report of `graph` against `denseGraph` (the same model without routing) for N_v vision tokens and
 * T text tokens (symbols `N_v` and `T`).
 */
export function costReport(model, graph, denseGraph, visionTokens, textTokens, attention = 'causal-half') {
    const env = { N_v: visionTokens, T: textTokens };
    const mod = accumulate(graph, env, attention);
    const dense = accumulate(denseGraph, env, attention);
    const layers = [...mod.layers.entries()]
        .sort(([a], [b]) => a - b)
        .map(([index, acc]) => {
        const r = acc.route;
        return {
            index,
            kind: r ? 'mod' : 'dense',
            ratio: r ? r.attrs.ratio : 1,
            capacity: r ? evalDim(r.attrs.capacity, env) : visionTokens,
            tokens: acc.tokens,
            flops: acc.flops,
            routerFlops: acc.routerFlops,
            kvEntries: acc.kvEntries,
        };
    });
    const sum = (xs) => [...xs].reduce((a, b) => a + b, 0);
    const flops = sum(layers.map((l) => l.flops));
    const flopsDense = sum([...dense.layers.values()].map((l) => l.flops));
    const kvEntries = sum(layers.map((l) => l.kvEntries));
    const kvEntriesDense = sum([...dense.layers.values()].map((l) => l.kvEntries));
    const nl = Math.max(layers.length, 1);
    const nv = Math.max(visionTokens, 1);
    const visionKvRatio = visionTokens === 0 ? 1 : sum(layers.map((l) => l.capacity)) / (nl * nv);
    const visionKvRatioUnrounded = sum(layers.map((l) => l.ratio)) / nl;
    return {
        model,
        assumptions: { visionTokens, textTokens, sequenceLength: visionTokens + textTokens, attention, convention: COST_CONVENTION },
        layers,
        totals: {
            flops,
            flopsDense,
            flopRatio: flopsDense === 0 ? 1 : flops / flopsDense,
            otherFlops: mod.other,
            kvEntries,
            kvEntriesDense,
            kvRatio: kvEntriesDense === 0 ? 1 : kvEntries / kvEntriesDense,
            visionKvRatio,
            visionKvRatioUnrounded,
            meanRetention: visionKvRatio,
        },
    };
}
/** "576 x8, 486 464 ... 89, 86 x8": runs of equal values collapsed, as the method doc writes k_l vectors. */
export function runLengthText(xs) {
    const groups = [];
    let singles = [];
    const flush = () => {
        if (singles.length)
            groups.push(singles.join(' '));
        singles = [];
    };
    let i = 0;
    while (i < xs.length) {
        let j = i;
        while (j < xs.length && xs[j] === xs[i])
            j++;
        if (j - i > 1) {
            flush();
            groups.push(`${xs[i]} x${j - i}`);
        }
        else
            singles.push(xs[i] ?? 0);
        i = j;
    }
    flush();
    return groups.join(', ');
}
const fmtFlops = (f) => (f >= 1e12 ? `${(f / 1e12).toFixed(3)} T` : f >= 1e9 ? `${(f / 1e9).toFixed(3)} G` : f >= 1e6 ? `${(f / 1e6).toFixed(3)} M` : `${f.toFixed(0)} `);
const pct = (x, digits = 1) => `${(x * 100).toFixed(digits)}%`;
export function formatReport(r) {
    const a = r.assumptions;
    const rows = r.layers.map((l) => [
        String(l.index),
        l.kind,
        l.ratio.toFixed(4),
        String(l.capacity),
        String(l.tokens),
        `${fmtFlops(l.flops)}FLOP`,
        String(l.kvEntries),
    ]);
    const head = ['layer', 'kind', 'R_l', 'k_l', 'tokens', 'FLOPs', 'KV entries'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
    const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
    const t = r.totals;
    return [
        `model ${r.model}: N_v = ${a.visionTokens} vision tokens, T = ${a.textTokens} text tokens (S = ${a.sequenceLength}); attention counted as ${a.attention === 'full' ? 'full QK^T + AV (c = 4)' : 'causal half (c = 2)'}`,
        `convention: ${a.convention}`,
        '',
        line(head),
        line(widths.map((w) => '-'.repeat(w))),
        ...rows.map(line),
        '',
        `k_l (vision tokens kept per layer): ${runLengthText(r.layers.map((l) => l.capacity))}`,
        `FLOPs: ${fmtFlops(t.flops)}FLOP vs dense ${fmtFlops(t.flopsDense)}FLOP = ${pct(t.flopRatio)} (other, not counted: ${fmtFlops(t.otherFlops)}FLOP)`,
        `KV cache: ${t.kvEntries} vs dense ${t.kvEntriesDense} token entries = ${pct(t.kvRatio)}`,
        `vision KV ratio: ${pct(t.visionKvRatio)} (${t.visionKvRatio.toFixed(4)} with k_l rounded down; ${pct(t.visionKvRatioUnrounded, 2)} with unrounded R_l)`,
    ].join('\n');
}
