/**
 * The gather-form linear layer (./form.ts): C = epilogue(A @ W^T) with one invocation per element of C, the
 * dot product over K in f32 in index order (like the GPU schedules: no f64), W [N, K] row-major in its storage
 * type, A rows optionally gathered (aRows), the epilogue chain of the matmul builders. Its output window (a
 * weight split along N writes columns [cCol0, cCol0 + n) of C [rows, ldc]) is a gather over all ldc columns that
 * keeps the others. A scattered C (cRows as the output row map) is not a gather: lowering for this schedule
 * computes u and combines it with a gather instead. Param M (rows).
 */
import { add, assign, binary, cmp, decl, div, f32, global, iff, load, lt, mul, param, range, rem, store, sub, v } from '../../dsl.js';
import type { Kernel, KNode } from '../../ir.js';
import { epilogueStore, type GpuLinearSpec, linearBuffers } from '../gpu/matmul.js';
import { gatherKernel, OWN } from './form.js';

const e = (): KNode => v(OWN);

/**
 * The epilogue of the matmul builders on one value at computed row `row`, column `col` (within n): the GPU
 * builders' own statements (the value bound to a variable), stored at the invocation's element instead.
 */
function epilogueAt(spec: GpuLinearSpec, x: KNode, row: KNode, col: KNode): KNode[] {
  const [value, st] = epilogueStore({ ...spec, scatterC: false }, x, row, col, 'ep');
  if (value?.op !== 'decl' || st?.op !== 'store') throw new Error(`kernel '${spec.name}': unexpected epilogue statements`);
  return [value, store(global('c'), e(), v(value.arg, 'f32'))];
}

export function gatherMatmulKernel(spec: GpuLinearSpec): Kernel {
  if (spec.scatterC) throw new Error(`kernel '${spec.name}': a scattered C is not a gather (combine the rows with a gather kernel instead)`);
  const { k, n } = spec;
  const ldc = spec.ldc ?? n;
  const cCol0 = spec.cCol0 ?? 0;
  const windowed = ldc !== n || cCol0 !== 0;
  const aRow = spec.gatherA ? load(global('aRows'), v('row'), 'i32') : v('row');
  const compute: KNode[] = [
    decl('ab', mul(aRow, k)),
    decl('wb', mul(v('col'), k)),
    decl('acc', f32(0)),
    range('p', 0, k, assign('acc', add(v('acc', 'f32'), mul(load(global('a'), add(v('ab'), v('p'))), load(global('w'), add(v('wb'), v('p'))))))),
    ...epilogueAt(spec, v('acc', 'f32'), v('row'), v('col')),
  ];
  const name = `${spec.name}${spec.gatherA ? '_ga' : ''}${windowed ? `_ldc${ldc}_${cCol0}` : ''}_g`;
  return gatherKernel(name, linearBuffers(spec), [{ name: 'M', type: 'i32' }], [
    iff(lt(e(), mul(param('M'), ldc)), [
      decl('row', div(e(), ldc)),
      decl('col', sub(rem(e(), ldc), cCol0)),
      ...(windowed ? [iff(binary('and', cmp('ge', v('col'), 0), lt(v('col'), n)), compute)] : compute),
    ]),
  ]);
}

/** Elements of C a gather matmul over M rows computes (every column of the window's full rows). */
export const gatherMatmulGrid = (spec: GpuLinearSpec, m: number): [number, number, number] => [Math.max(1, m * (spec.ldc ?? spec.n)), 1, 1];
