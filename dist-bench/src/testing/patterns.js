/**
 * Scaled dot-product attention from primitive ops. q [Sq, H, D], k [Sk, H, D], v [Sk, H, Dv] (no grouped KV
 * heads), positions i32. With `causal`, key j is visible to query i iff kPos[j] <= qPos[i].
 */
export function decomposedAttention(b, q, k, v, qPos, kPos, opts, name = 'attention') {
    return b.scope(name, () => {
        const [sq, sk] = [q.shape[0] ?? 0, k.shape[0] ?? 0];
        const qh = b.transpose(q, [1, 0, 2], 'q_t');
        const kh = b.transpose(k, [1, 0, 2], 'k_t');
        const vh = b.transpose(v, [1, 0, 2], 'v_t');
        let s = b.matmul(qh, kh, { transposeB: true }, 'scores');
        s = b.mul(s, b.full(opts.scale, s.dtype, [], 'scale_c'), 'scale');
        if (opts.causal) {
            const mask = b.compare('le', b.reshape(kPos, [1, sk], 'k_row'), b.reshape(qPos, [sq, 1], 'q_col'), 'mask');
            s = b.where(mask, s, b.full(Number.NEGATIVE_INFINITY, s.dtype, [], 'neg_inf'), 'masked');
        }
        const p = b.softmax(s, -1, 'probs');
        return b.transpose(b.matmul(p, vh, {}, 'av'), [1, 0, 2], 'out');
    });
}
