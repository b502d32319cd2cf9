export function summarize(p) {
    return {
        arenaBytes: p.arenaBytes,
        peakLiveBytes: p.peakLiveBytes,
        kvCacheBytes: p.kvCacheBytes,
        outputBytes: p.outputBytes,
        weightBytes: p.weightBytes,
        buffers: p.buffers.length,
    };
}
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
export function formatMemoryReport(r) {
    const row = (label, f) => `${label.padEnd(34)} ${mib(f(r.pmod)).padStart(12)} ${mib(f(r.dense)).padStart(12)} ${`${((f(r.pmod) / Math.max(f(r.dense), 1)) * 100).toFixed(1)}%`.padStart(8)}`;
    return [
        `memory plan of ${r.model} prefill (full pipeline, N_v = ${r.visionTokens}, T = ${r.textTokens}; f32 activations, KV cache exported)`,
        `${''.padEnd(34)} ${'p-MoD'.padStart(12)} ${'dense'.padStart(12)} ${'ratio'.padStart(8)}`,
        row('peak (planned arena)', (s) => s.arenaBytes),
        row('peak live bytes (lower bound)', (s) => s.peakLiveBytes),
        row('KV cache (kept for decode)', (s) => s.kvCacheBytes),
        row('all outputs (KV cache + logits)', (s) => s.outputBytes),
        row('weights (not planned)', (s) => s.weightBytes),
    ].join('\n');
}
