/**
 * The gather form (src/kernel/builders/gather/form.ts): what it accepts and what it refuses, each refusal naming
 * the reason. The lowering to gather schedules is checked against the reference by the conformance suite
 * (backend wasm-gather-schedules, which refuses any compiled kernel not in this form).
 */
import { add, barrier, block, decl, f32, gid, global, iff, lid, load, lt, mul, param, shared, store, v } from '../../src/kernel/dsl.js';
import type { Kernel } from '../../src/kernel/ir.js';
import { gatherKernel, gatherOutput, gatherProblem, OWN } from '../../src/kernel/builders/gather/form.js';
import { gatherRankKernel, gatherRouteScoreKernel } from '../../src/kernel/builders/gather/route.js';

const bufs = [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }] as const;
const plain = (body: Kernel['body'], over: Partial<Kernel> = {}): Kernel => ({ name: 'k', buffers: bufs, params: [], shared: [], privates: [], threads: 1, body, ...over });

it('accepts one output written at the invocation index, under guards', () => {
  const k = gatherKernel('ok', bufs, [{ name: 'n', type: 'i32' }], [iff(lt(v(OWN), param('n')), store(global('out'), v(OWN), load(global('x'), v(OWN))))]);
  expect(gatherProblem(k)).toBeUndefined();
  expect(gatherOutput(k).name).toBe('out');
  // gid * threads + lid with several threads per workgroup is the invocation index too.
  const t = plain(block(decl('i', add(mul(gid(0), 64), lid(0))), store(global('out'), v('i'), f32(1))), { threads: 64 });
  expect(gatherProblem(t)).toBeUndefined();
  expect(gatherProblem(gatherRouteScoreKernel(40, 'f32', 'f32'))).toBeUndefined();
  expect(gatherProblem(gatherRankKernel(9))).toBeUndefined();
});

it('refuses what a fragment shader cannot do, saying why', () => {
  expect(gatherProblem(plain(store(global('out'), add(gid(0), 1), f32(0))))).toMatch(/index other than the invocation's own/);
  expect(gatherProblem(plain(store(global('out'), gid(0), load(global('out'), add(gid(0), 1)))))).toMatch(/reads its output/);
  expect(gatherProblem(plain(store(global('out'), gid(0), f32(0)), { buffers: [...bufs, { name: 'y', elem: 'f32', access: 'write' }] }))).toMatch(/writes 2 buffers/);
  expect(gatherProblem(plain(block(barrier(), store(global('out'), gid(0), f32(0)))))).toMatch(/barrier/);
  expect(gatherProblem(plain(store(shared('s'), 0, f32(0)), { shared: [{ name: 's', elem: 'f32', length: 4 }] }))).toMatch(/workgroup memory/);
  // An index variable that is reassigned is no longer the invocation's own.
  expect(gatherProblem(plain(block(decl('i', gid(0)), { op: 'assign', type: 'void', src: [add(v('i'), 1)], arg: 'i' }, store(global('out'), v('i'), f32(0)))))).toMatch(/index other/);
  expect(() => gatherOutput(plain(store(global('x'), gid(0), f32(0))))).toThrow(/kernel 'k' is not in gather form: it stores to global 'x'/);
});
