import { BuildError, buildGraph, type Graph, parseGraph, printGraph, sym, verify, verifyGraph } from '../../src/ir/index.js';

/** A small well-typed graph with a modRoute region, in text form, to corrupt in the tests below. */
function smallRouted(capacity = 'floor(N_v * 0.5)'): string {
  return `graph "g"(T: [1, 8], N_v: [0, 8]) {
  %0 = input "x" : f32[N_v + T, 4]
  %1 = input "mask" : bool[N_v + T]
  %2 = iota() {length = N_v + T} : i32[N_v + T]
  %3 = weight "rw" : f32[1, 4]
  %4 = weight "rb" : f32[1]
  %5 = modRoute(%0, %2, %1, %3, %4) {capacity = ${capacity}, routableCount = N_v, ratio = 0.5, alpha = 0.2, bias = 1} : (f32[N_v + T, 4], i32[${capacity}])  # layers.0.route
  {
    %0 = input "x_kept" : f32[T + ${capacity}, 4]
    %1 = input "positions_kept" : i32[T + ${capacity}]
    %2 = unary(%0) {fn = silu} : f32[T + ${capacity}, 4]
    return "h1" = %0, "u" = %2
  }
  return "y" = %5
}
`;
}

function problems(text: string): string[] {
  return verifyGraph(parseGraph(text));
}

describe('verifier', () => {
  it('accepts a well-formed routed graph and its printed form round-trips', () => {
    const g = parseGraph(smallRouted());
    expect(verifyGraph(g)).toEqual([]);
    expect(printGraph(g)).toBe(smallRouted());
  });

  it('reports a shape mismatch naming the node', () => {
    const text = `graph "g"(T: [1, 8]) {
  %0 = input "a" : f32[T, 4]
  %1 = weight "w" : f32[8, 3]
  %2 = linear(%0, %1) : f32[T, 8]  # layers.3.q_proj
  return "y" = %2
}`;
    const [p] = problems(text);
    expect(p).toMatch(/node %2 'layers\.3\.q_proj' \(linear\)/);
    expect(p).toMatch(/inner dims: 4 vs 3/);
  });

  it('reports a stale declared type naming the node', () => {
    const text = `graph "g"(T: [1, 8]) {
  %0 = input "a" : f32[T, 4]
  %1 = unary(%0) {fn = exp} : f32[T, 5]  # act
  return "y" = %1
}`;
    expect(problems(text)).toEqual([expect.stringMatching(/node %1 'act' \(unary\): output 0 declared f32\[T, 5\] but inferred f32\[T, 4\]/)]);
  });

  it('reports a dtype mismatch naming the node', () => {
    const text = `graph "g"(T: [1, 8]) {
  %0 = input "a" : f32[T, 4]
  %1 = input "b" : f16[T, 4]
  %2 = binary(%0, %1) {fn = add} : f32[T, 4]  # layers.0.residual
  return "y" = %2
}`;
    expect(problems(text).join('\n')).toMatch(/node %2 'layers\.0\.residual' \(binary\): add: dtype mismatch f32\[T, 4\] vs f16\[T, 4\]/);
  });

  it('reports an unknown symbol naming the node', () => {
    const text = `graph "g"(T: [1, 8]) {
  %0 = input "a" : f32[T, 4]
  %1 = input "b" : f32[N_v, 4]
  return "y" = %0
}`;
    expect(problems(text).join('\n')).toMatch(/node %1 'b' \(input\): output 0 uses unknown symbol 'N_v'/);
  });

  it('reports a capacity larger than the routable count', () => {
    const msgs = problems(smallRouted('floor(N_v * 1.5)')).join('\n');
    expect(msgs).toMatch(/node %5 'layers\.0\.route' \(modRoute\): capacity floor\(N_v \* 1\.5\) = 12 exceeds the routable token count N_v = 8/);
    expect(problems(smallRouted('3')).join('\n')).toMatch(/capacity 3 = 3 exceeds the routable token count N_v = 0/);
  });

  it('reports problems inside a region with the region path', () => {
    const bad = smallRouted().replace('%2 = unary(%0) {fn = silu} : f32[T + floor(N_v * 0.5), 4]', '%2 = unary(%1) {fn = silu} : f32[T + floor(N_v * 0.5), 4]');
    expect(problems(bad).join('\n')).toMatch(/node %5 'layers\.0\.route' \(modRoute\) > body > node %2 \(unary\): silu operand must be a float type/);
  });

  it('reports dangling references, bad attributes and duplicate names', () => {
    const g: Graph = {
      name: 'g',
      symbols: [{ name: 'T', min: 1, max: 4 }],
      nodes: [
        { id: 0, op: 'input', name: 'a', inputs: [], attrs: { name: 'a', dtype: 'f32', shape: [sym('T')] }, outputs: [{ dtype: 'f32', shape: [sym('T')] }] },
        { id: 1, op: 'unary', name: 'u', inputs: [{ node: 7, output: 0 }], attrs: { fn: 'exp' }, outputs: [{ dtype: 'f32', shape: [sym('T')] }] },
        { id: 2, op: 'softmax', name: 's', inputs: [{ node: 0, output: 0 }], attrs: { axis: 1.5 }, outputs: [{ dtype: 'f32', shape: [sym('T')] }] },
      ],
      outputs: [
        { name: 'y', value: { node: 0, output: 0 } },
        { name: 'y', value: { node: 0, output: 3 } },
      ],
    };
    const msgs = verifyGraph(g).join('\n');
    expect(msgs).toMatch(/node %1 'u' \(unary\): input 0 %7 is not defined before this node/);
    expect(msgs).toMatch(/node %2 's' \(softmax\): attribute 'axis' is not a valid int: 1.5/);
    expect(msgs).toMatch(/duplicate output name 'y'/);
    expect(msgs).toMatch(/output 'y' refers to undefined value %0#3/);
    expect(() => verify(g)).toThrow(/graph 'g' is malformed/);
  });

  it('makes the builder fail at the call that is wrong, naming the node', () => {
    expect(() =>
      buildGraph('g', { T: [1, 8] }, (b) => {
        b.scope('layers.3', () => {
          const x = b.input('x', 'f32', [b.sym('T'), 4096]);
          const w = b.weight('w', 'f32', [4096, 1024]);
          b.linear(x, w, undefined, 'q_proj');
        });
      }),
    ).toThrow(new BuildError("linear 'layers.3.q_proj': linear(f32[T, 4096], f32[4096, 1024]): inner dims: 4096 vs 1024"));
    expect(() => buildGraph('g', { T: [1, 8] }, (b) => b.input('x', 'f32', [b.sym('N_v')]))).toThrow(/unknown symbol 'N_v'/);
  });

  it('rejects unparseable text with line and column', () => {
    expect(() => parseGraph('graph "g"() {\n  %0 = frobnicate() : f32[1]\n  return\n}')).toThrow(/unknown op 'frobnicate' at line 2/);
    expect(() => parseGraph('graph "g"() {\n  %0 = input "a" : f33[1]\n  return\n}')).toThrow(/unknown dtype 'f33' at line 2/);
    expect(() => parseGraph('graph "g"() {\n  %1 = unary(%0) {fn = exp} : f32[1]\n  return\n}')).toThrow(/%0 is used before it is defined/);
  });
});
