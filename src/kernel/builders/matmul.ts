/**
 * The tiled matmul kernel builder: C[M, N] = epilogue(prologue(A)[M, K] @ B[K, N]) with B in packed panels
 * (constant weights are packed once at prepare time), a register-blocked micro-kernel of `mr` rows x `nrVec`
 * f32x4 columns, cache blocking over K through a workgroup tile of partial sums, an optional RMSNorm prologue,
 * an optional gather of A rows, and an epilogue chain (bias, row scale, activation, residual add, product with
 * another tensor, rounding, scattered output rows) so fused graph ops lower onto it unchanged.
 */
import {
  add, and, assign, binary, bitcast, block, cmp, decl, div, f32, fma, gid, global, i32, iff, lane, load, lt, min, mul, param, range, shared,
  splat, store, sub, unary, v,
} from '../dsl.js';
import type { BufferDecl, ElemType, Kernel, KNode, KUnaryFn, KBinaryFn, MemRef } from '../ir.js';

/**
 * Packed-panel layout of B: panel p holds columns [p*nr, p*nr+nr) as K rows of nr values (zero padded).
 * With `pairs` (16-bit elements, nr a multiple of 8) each group of 8 columns of a row is stored interleaved,
 * c0 c4 c1 c5 c2 c6 c3 c7, so the 32-bit word i of the group holds columns i (low half) and i + 4 (high half):
 * one 16-byte load gives two bf16 column vectors by a shift and a mask (see bVectorLoads).
 */
export interface PackedLayout {
  readonly k: number;
  readonly n: number;
  readonly nr: number;
  readonly pairs?: boolean;
}
export const packedLength = (l: PackedLayout): number => Math.ceil(l.n / l.nr) * l.k * l.nr;

/** Where column j (0 <= j < nr) of a panel row is stored within the row. */
export function packedColumn(j: number, pairs: boolean | undefined): number {
  if (!pairs) return j;
  const t = j & 7;
  return j - t + (t < 4 ? 2 * t : 2 * (t - 4) + 1);
}

function checkPairs(l: PackedLayout): void {
  if (l.pairs && l.nr % 8 !== 0) throw new Error(`packed layout: interleaved pairs need panels of a multiple of 8 columns, not ${l.nr}`);
}

/**
 * Packs B for the kernel. `get(k, n)` reads B[k][n]; `scaleK` multiplies row k (an RMSNorm weight folded in).
 */
export function packB(l: PackedLayout, get: (k: number, n: number) => number, scaleK?: ArrayLike<number>, out = new Float32Array(packedLength(l))): Float32Array {
  checkPairs(l);
  const panels = Math.ceil(l.n / l.nr);
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < l.k; k++) {
      const s = scaleK ? (scaleK[k] ?? 1) : 1;
      const o = (p * l.k + k) * l.nr;
      for (let j = 0; j < l.nr; j++) {
        const n = p * l.nr + j;
        out[o + packedColumn(j, l.pairs)] = n < l.n ? get(k, n) * s : 0;
      }
    }
  }
  return out;
}

/**
 * packB for a PyTorch Linear weight W [n, k] (B = W^T), reading W row by row (sequential reads; about 10x faster
 * than packB's element callback on large weights).
 */
export function packLinearWeight<T extends Float32Array | Uint16Array | Uint32Array = Float32Array>(l: PackedLayout, w: ArrayLike<number>, out?: T): T;
/**
 * The same permutation for any element type: a 16-bit weight packs as its 16-bit patterns (Uint16Array in and
 * out), so a bf16 checkpoint weight is packed without being widened.
 */
export function packLinearWeight(l: PackedLayout, w: ArrayLike<number>, out: Float32Array | Uint16Array | Uint32Array = new Float32Array(packedLength(l))): Float32Array | Uint16Array | Uint32Array {
  const { k, n, nr } = l;
  checkPairs(l);
  const panels = Math.ceil(n / nr);
  out.fill(0, 0, panels * k * nr);
  for (let col = 0; col < n; col++) {
    const p = Math.floor(col / nr);
    const j = col - p * nr;
    const src = col * k;
    let dst = p * k * nr + packedColumn(j, l.pairs);
    for (let kk = 0; kk < k; kk++, dst += nr) out[dst] = w[src + kk] ?? 0;
  }
  return out;
}

export interface MatmulTiling {
  /** Rows of the register block. */
  readonly mr: number;
  /** f32x4 column vectors of the register block (nr = 4 * nrVec columns). */
  readonly nrVec: number;
  /** K block: the micro-kernel runs over kc values of K between visits to the tile of partial sums. */
  readonly kc: number;
  /** Rows and panels of the workgroup tile. */
  readonly mc: number;
  readonly panels: number;
  /** Unroll factor of the K loop. */
  readonly unroll: number;
  /**
   * Read A four K values at a time (one vector load per row, then lane splats) instead of one broadcast load per
   * value; needs unroll to be a multiple of 4. Under V8, loads cost more than shuffles.
   */
  readonly aVector?: boolean;
}

/**
 * One step of a matmul epilogue, applied to the accumulator in order. Operand buffers are f32 unless `elem`
 * says otherwise (a bias is a checkpoint weight, often bf16). `mapped` operands are indexed by the output row
 * cRows[row] (the full-sequence row of a scattered output) instead of the computed row.
 */
export type MatmulEpilogue =
  /** + bias[col] (col counts within this matmul's N columns) */
  | { readonly kind: 'bias'; readonly buffer: string; readonly elem?: ElemType }
  /** * s[row] (or s[cRows[row]]): the p-MoD STRing weight, or a per-row RMSNorm factor. */
  | { readonly kind: 'rowScale'; readonly buffer: string; readonly mapped: boolean }
  | { readonly kind: 'unary'; readonly fn: KUnaryFn }
  /** acc (op) other[row, col], other laid out like C ([rows, ldc], columns from cCol0), row cRows[row] when mapped. */
  | { readonly kind: 'binary'; readonly fn: KBinaryFn; readonly buffer: string; readonly mapped: boolean; readonly operandFirst: boolean };

export interface MatmulSpec {
  readonly name: string;
  readonly k: number;
  readonly n: number;
  readonly tiling: MatmulTiling;
  /** Storage type of the packed B (the weight's checkpoint dtype); default f32. */
  readonly bElem?: ElemType;
  /**
   * B is bf16 in the interleaved-pairs layout (PackedLayout.pairs), bound as u32 words (two values each):
   * needs bElem bf16 and an even nrVec.
   */
  readonly bPairs?: boolean;
  /**
   * C (and 'binary' epilogue operands) are [rows, ldc] with this matmul's N columns starting at cCol0: a weight
   * split along N (larger than one binding) writes its column block of the full output. Defaults: ldc = n, 0.
   */
  readonly ldc?: number;
  readonly cCol0?: number;
  /** RMSNorm of A rows (the norm weight is folded into packed B): acc *= rsqrt(mean(a^2) + eps). */
  readonly rmsnormEps?: number;
  /** A rows come from a[aRows[row]] (gather of the kept tokens). */
  readonly gatherA?: boolean;
  readonly epilogue: readonly MatmulEpilogue[];
  /** C rows go to c[rowMap[row]] (scatter into the full sequence: the STRing combine). */
  readonly scatterC?: boolean;
}

/** Grid for M rows: x over row blocks, y over column blocks (consecutive workgroups share B panels). */
export function matmulGrid(spec: MatmulSpec, m: number): [number, number, number] {
  const t = spec.tiling;
  const nr = 4 * t.nrVec;
  return [Math.max(1, Math.ceil(m / t.mc)), Math.ceil(Math.ceil(spec.n / nr) / t.panels), 1];
}

/**
 * Buffers: a (f32 [rowsA, K]), b (packed), c (f32 [rowsC, N]), optional aRows / cRows (i32 [M]) and the
 * epilogue's buffers. Param M = rows computed.
 */
export function matmulKernel(spec: MatmulSpec): Kernel {
  const { k: K, n: N, tiling: t } = spec;
  const { mr, nrVec, mc, panels, unroll } = t;
  const kc = Math.min(t.kc, K);
  const nr = 4 * nrVec;
  const nPanels = Math.ceil(N / nr);
  if (mc % mr !== 0) throw new Error(`matmul '${spec.name}': mc ${mc} must be a multiple of mr ${mr}`);
  const bRow = bRowElems(spec);
  // f16 has no cheap widening (about 10 vector operations per 4 values in Wasm): a K block of the panel is widened
  // once into workgroup memory and read from there by every row block of the tile (mc / mr of them).
  const blocked = kc < K;
  const stageB = blocked && spec.bElem === 'f16';
  const M = param('M');
  const row0 = mul(gid(0), mc);
  const panel0 = mul(gid(1), panels);
  const buffers = matmulBuffers(spec);
  const ldc = spec.ldc ?? N;
  const cCol0 = spec.cCol0 ?? 0;
  if (spec.rmsnormEps !== undefined && spec.epilogue.some((e) => e.kind === 'rowScale' && !e.mapped && e.buffer === 'invRms')) throw new Error('reserved name invRms');

  const tileLen = mc * panels * nr;
  const sharedArrays = [
    ...(blocked ? [{ name: 'tile', elem: 'f32' as const, length: tileLen }] : []),
    ...(spec.rmsnormEps !== undefined ? [{ name: 'invRms', elem: 'f32' as const, length: mc }] : []),
    ...(stageB ? [{ name: 'bt', elem: 'f32' as const, length: kc * nr }] : []),
  ];

  /** Index in buffer b of K row k0 of panel pi of this workgroup. */
  const panelStart = (pi: KNode, k0: KNode): KNode => add(mul(add(panel0, pi), K * bRow), mul(k0, bRow));

  /** Source row of A for output row r (clamped into [0, M) so edge blocks read valid memory). */
  const aRow = (r: KNode): KNode => {
    const clamped = min(r, sub(M, 1));
    return spec.gatherA ? load(global('aRows'), clamped, 'i32') : clamped;
  };
  const cRow = (r: KNode): KNode => (spec.scatterC ? load(global('cRows'), r, 'i32') : r);

  const stmts: KNode[] = [];
  if (spec.rmsnormEps !== undefined) {
    // Per-row inverse RMS of this tile's rows (float32, like Llama), used as an epilogue row scale.
    stmts.push(
      range('ri', 0, mc, [
        decl('ss', f32(0)),
        decl('ab', mul(aRow(add(row0, v('ri'))), K)),
        range('kk', 0, K, [decl('x', load(global('a'), add(v('ab'), v('kk')))), assign('ss', fma(v('x', 'f32'), v('x', 'f32'), v('ss', 'f32')))]),
        store(shared('invRms'), v('ri'), div(f32(1), unary('sqrt', add(div(v('ss', 'f32'), f32(K)), f32(spec.rmsnormEps))))),
      ]),
    );
  }

  const accName = (r: number, c: number): string => `acc${r}_${c}`;
  const microKernel = (pi: KNode, ri: KNode, k0: KNode, k1: KNode, first: KNode | undefined, strided: boolean): KNode[] => {
    const out: KNode[] = [];
    const tileIdx = (r: number, c: number): KNode => add(mul(add(mul(pi, mc), add(ri, r)), nr), c * 4);
    for (let r = 0; r < mr; r++)
      for (let c = 0; c < nrVec; c++) {
        const zero = splat(f32(0));
        out.push(decl(accName(r, c), first === undefined ? zero : select4(first, zero, load(shared('tile'), tileIdx(r, c), 'f32x4'))));
      }
    // Running element indices into A rows and the B panel: constant offsets of the unrolled steps fold into
    // the address (memarg offsets), so each step costs no index arithmetic beyond one add per stream.
    // A full block of contiguous rows reads them at constant offsets r*K from one running index; edge blocks
    // (rows clamped into [0, M)) and gathered rows keep one running index per row.
    if (strided) out.push(decl('pa', add(mul(add(row0, ri), K), k0)));
    else for (let r = 0; r < mr; r++) out.push(decl(`pa${r}`, add(mul(aRow(add(add(row0, ri), r)), K), k0)));
    const aIndex = (r: number, u: number): KNode => (strided ? add(v('pa'), r * K + u) : add(v(`pa${r}`), u));
    out.push(decl('pb', stageB ? i32(0) : panelStart(pi, k0)));
    const step = (u: number, vectorA: boolean): KNode[] => {
      const s: KNode[] = [];
      if (vectorA && u % 4 === 0) for (let r = 0; r < mr; r++) s.push(decl(`av${r}_${u}`, load(global('a'), aIndex(r, u), 'f32x4')));
      s.push(...bVectorLoads(spec, u, stageB ? shared('bt') : global('b')));
      for (let r = 0; r < mr; r++) {
        s.push(decl(`a${r}_${u}`, vectorA ? splat(lane(v(`av${r}_${u - (u % 4)}`, 'f32x4'), u % 4)) : splat(load(global('a'), aIndex(r, u)))));
        for (let c = 0; c < nrVec; c++)
          s.push(assign(accName(r, c), fma(v(`a${r}_${u}`, 'f32x4'), v(`b${c}_${u}`, 'f32x4'), v(accName(r, c), 'f32x4'))));
      }
      return s;
    };
    const advance = (by: number): KNode[] => [
      ...(strided ? [assign('pa', add(v('pa'), by))] : Array.from({ length: mr }, (_, r) => assign(`pa${r}`, add(v(`pa${r}`), by)))),
      assign('pb', add(v('pb'), by * bRow)),
    ];
    const len = sub(k1, k0);
    const mainEnd = add(k0, mul(div(len, unroll), unroll));
    const vectorA = t.aVector === true && unroll % 4 === 0;
    out.push(range('kk', k0, mainEnd, [...Array.from({ length: unroll }, (_, u) => step(u, vectorA)).flat(), ...advance(unroll)], unroll));
    if (unroll > 1) out.push(range('kr', mainEnd, k1, [...step(0, false), ...advance(1)]));
    return out;
  };

  const epilogueStore = (pi: KNode, ri: KNode): KNode[] => {
    const out: KNode[] = [];
    for (let r = 0; r < mr; r++) {
      const row = add(add(row0, ri), r);
      const body: KNode[] = [decl(`orow${r}`, add(mul(cRow(row), ldc), cCol0)), decl(`srow${r}`, row)];
      for (let c = 0; c < nrVec; c++) {
        const col = add(mul(add(panel0, pi), nr), c * 4);
        let x: KNode = v(accName(r, c), 'f32x4');
        if (spec.rmsnormEps !== undefined) x = binary('mul', x, splat(load(shared('invRms'), add(ri, r))));
        for (const e of spec.epilogue) x = applyEpilogue(e, x, v(`srow${r}`), col, ldc, cCol0);
        const idx = add(v(`orow${r}`), col);
        body.push(decl(`o${r}_${c}`, x));
        // Full vectors store at once; the ragged last panel stores lane by lane.
        const full = store(global('c'), idx, v(`o${r}_${c}`, 'f32x4'));
        if (N % 4 === 0 && N % nr === 0) body.push(full);
        else
          body.push(
            iff(cmp('le', add(col, 4), N), full, [0, 1, 2, 3].map((l) => iff(lt(add(col, l), N), store(global('c'), add(idx, l), lane(v(`o${r}_${c}`, 'f32x4'), l))))),
          );
      }
      out.push(iff(lt(row, M), body));
    }
    return out;
  };

  /** The constant-stride path for full blocks of contiguous rows, the per-row path otherwise. */
  const bothPaths = (body: (strided: boolean) => KNode[]): KNode[] =>
    spec.gatherA ? body(false) : [iff(cmp('le', add(add(row0, v('ri')), mr), M), body(true), body(false))];
  const panelCount = min(panels, sub(nPanels, panel0));
  const rowsHere = min(mc, sub(M, row0));
  if (blocked) {
    stmts.push(
      range('k0', 0, K, [
        decl('k1', min(add(v('k0'), kc), K)),
        range('pi', 0, panelCount, [
          ...(stageB
            ? [
                decl('sb', panelStart(v('pi'), v('k0'))),
                range('sk', 0, mul(sub(v('k1'), v('k0')), nr), store(shared('bt'), v('sk'), load(global('b'), add(v('sb'), v('sk')), 'f32x4')), 4),
              ]
            : []),
          range('ri', 0, rowsHere, bothPaths((strided) => [
            ...microKernel(v('pi'), v('ri'), v('k0'), v('k1'), cmp('eq', v('k0'), 0), strided),
            iff(
              lt(v('k1'), K),
              Array.from({ length: mr * nrVec }, (_, i) => {
                const [r, c] = [Math.floor(i / nrVec), i % nrVec];
                return store(shared('tile'), add(mul(add(mul(v('pi'), mc), add(v('ri'), r)), nr), c * 4), v(accName(r, c), 'f32x4'));
              }),
              epilogueStore(v('pi'), v('ri')),
            ),
          ]), mr),
        ]),
      ], kc),
    );
  } else {
    stmts.push(range('pi', 0, panelCount, [range('ri', 0, rowsHere, bothPaths((strided) => [...microKernel(v('pi'), v('ri'), i32(0), i32(K), undefined, strided), ...epilogueStore(v('pi'), v('ri'))]), mr)]));
  }
  return { name: spec.name, buffers, params: [{ name: 'M', type: 'i32' }], shared: sharedArrays, privates: [], threads: 1, body: block(...stmts) };
}

/**
 * Buffers of a matmul spec (shared by the GEMV builder): a, packed b, c, the row maps and the epilogue operands.
 */
export function matmulBuffers(spec: MatmulSpec): BufferDecl[] {
  const buffers: BufferDecl[] = [
    { name: 'a', elem: 'f32', access: 'read' },
    { name: 'b', elem: spec.bPairs ? 'u32' : (spec.bElem ?? 'f32'), access: 'read' },
    { name: 'c', elem: 'f32', access: spec.epilogue.some((e) => e.kind === 'binary' && e.buffer === 'c') ? 'readwrite' : 'write' },
  ];
  if (spec.gatherA) buffers.push({ name: 'aRows', elem: 'i32', access: 'read' });
  // cRows is the output row map: C rows are scattered by it (scatterC), and `mapped` epilogue operands read by it.
  if (spec.scatterC || spec.epilogue.some((e) => (e.kind === 'rowScale' || e.kind === 'binary') && e.mapped)) buffers.push({ name: 'cRows', elem: 'i32', access: 'read' });
  for (const e of spec.epilogue)
    if ((e.kind === 'bias' || e.kind === 'rowScale' || e.kind === 'binary') && !buffers.some((b) => b.name === e.buffer))
      buffers.push({ name: e.buffer, elem: e.kind === 'bias' ? (e.elem ?? 'f32') : 'f32', access: 'read' });
  return buffers;
}

/**
 * Whether a weight of storage type `elem` is packed in interleaved pairs for this tiling: bf16 panels of an even
 * number of column vectors (one 16-byte load then gives two column vectors instead of two widening loads).
 */
export const packsInPairs = (elem: ElemType, t: MatmulTiling): boolean => elem === 'bf16' && t.nrVec % 2 === 0;

/** Elements of buffer b per K row of a panel: nr values, or nr / 2 words of interleaved pairs. */
export function bRowElems(spec: MatmulSpec): number {
  const nr = 4 * spec.tiling.nrVec;
  if (!spec.bPairs) return nr;
  if (!packsInPairs(spec.bElem ?? 'f32', spec.tiling))
    throw new Error(`matmul '${spec.name}': interleaved pairs need bf16 weights and an even nrVec (have ${spec.bElem ?? 'f32'}, nrVec ${spec.tiling.nrVec})`);
  return nr / 2;
}

/**
 * Declarations b{c}_{u} (c < nrVec): the column vectors of K step u of the running panel index pb. In the pairs
 * layout one word vector holds vectors c (low halves) and c + 1 (high halves): a bf16 value is the high half of
 * its f32, so the low halves move up by 16 bits (a multiply by 2^16, which the Wasm renderer emits as a shift)
 * and the high halves are masked.
 */
export function bVectorLoads(spec: MatmulSpec, u: number, from: MemRef = global('b')): KNode[] {
  const nrVec = spec.tiling.nrVec;
  const nr = 4 * nrVec;
  const out: KNode[] = [];
  if (!spec.bPairs) {
    for (let c = 0; c < nrVec; c++) out.push(decl(`b${c}_${u}`, load(from, add(v('pb'), u * nr + c * 4), 'f32x4')));
    return out;
  }
  for (let c = 0; c < nrVec; c += 2) {
    const w = `w${c}_${u}`;
    out.push(decl(w, load(from, add(v('pb'), (u * nr + c * 4) / 2), 'i32x4')));
    out.push(decl(`b${c}_${u}`, bitcast(mul(v(w, 'i32x4'), splat(i32(1 << 16), 'i32x4')), 'f32x4')));
    out.push(decl(`b${c + 1}_${u}`, bitcast(and(v(w, 'i32x4'), splat(i32(-65536), 'i32x4')), 'f32x4')));
  }
  return out;
}

function select4(c: KNode, a: KNode, b: KNode): KNode {
  return { op: 'select', type: 'f32x4', src: [c, a, b], arg: undefined };
}

/** One epilogue step on the f32x4 accumulator of output (row, col..col+3) (shared by the GEMV builder). */
export function applyEpilogue(e: MatmulEpilogue, x: KNode, row: KNode, col: KNode, ldc: number, cCol0: number): KNode {
  switch (e.kind) {
    case 'bias':
      return binary('add', x, load(global(e.buffer), col, 'f32x4'));
    case 'rowScale': {
      const r = e.mapped ? load(global('cRows'), row, 'i32') : row;
      return binary('mul', x, splat(load(global(e.buffer), r)));
    }
    case 'unary':
      return unary(e.fn, x);
    case 'binary': {
      const r = e.mapped ? load(global('cRows'), row, 'i32') : row;
      const other = load(global(e.buffer), add(add(mul(r, ldc), cCol0), col), 'f32x4');
      return e.operandFirst ? binary(e.fn, other, x) : binary(e.fn, x, other);
    }
  }
}

/**
 * The default CPU tiling (x64 V8 has 15 allocatable SIMD registers): 6 rows x 8 columns of accumulators (12),
 * A read 4 K values per vector load with lane splats (V8 loads cost more than shuffles: 576x4096x4096 on 2 threads
 * went from about 64 to 79 GFLOP/s), K blocks of 256, 96 x 64 workgroup tiles.
 */
export const CPU_TILING: MatmulTiling = { mr: 6, nrVec: 2, kc: 256, mc: 96, panels: 8, unroll: 4, aVector: true };
