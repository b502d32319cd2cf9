/** The deterministic top-k rule every backend must reproduce. */
/** (scores, mask) -> the k best candidate indices: descending score, ties to the lower index; NaN ranks last. */
export function topkIndices(scores, mask, k, order) {
    const cand = [];
    for (let i = 0; i < scores.length; i++)
        if (mask === undefined || mask[i])
            cand.push(i);
    const key = (i) => {
        const v = scores[i] ?? Number.NaN;
        return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
    };
    cand.sort((a, b) => {
        const d = key(b) - key(a);
        if (d !== 0 && !Number.isNaN(d))
            return d;
        const na = Number.isNaN(scores[a] ?? Number.NaN) ? 1 : 0;
        const nb = Number.isNaN(scores[b] ?? Number.NaN) ? 1 : 0;
        return na - nb || a - b;
    });
    const picked = cand.slice(0, k);
    if (order === 'index')
        picked.sort((a, b) => a - b);
    return picked;
}
