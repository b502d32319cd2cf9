/**
 * `modc compile --target webgpu --emit ts --out model.ts`: a compiled WebGPU model as one standalone TypeScript
 * module, generated with ts-morph (loaded only here: importing it costs about a second). The module holds the
 * plan and the WGSL shaders and exports typed `load`, `prefill`, `decode` and `generate`: the model's input names
 * with their shapes in the types (vision rows [N_v, hidden] for the N_v the plan has), the routing of every MoD
 * layer by name. It imports only `modc/runtime-webgpu` (no compiler).
 */
import type { Artifact } from '../runtime/artifact.js';
import { UsageError } from './args.js';

export interface EmitTsOptions {
  /** The module the runtime is imported from (default 'modc/runtime-webgpu'). */
  readonly runtime?: string;
}

const lit = (v: unknown): string => JSON.stringify(v);

/** The module's source text. */
export async function emitTsModule(a: Artifact, plan: string, files: ReadonlyMap<string, Uint8Array>, opts: EmitTsOptions = {}): Promise<string> {
  if (a.renderer.kind !== 'wgsl') throw new UsageError(`--emit ts writes a WebGPU module: compile with --target webgpu (this plan holds ${a.renderer.kind} kernels)`);
  const { Project, VariableDeclarationKind } = await import('ts-morph');
  const project = new Project({ useInMemoryFileSystem: true });
  const sf = project.createSourceFile('model.ts', '');
  const m = a.model;
  const nvs = a.entries.map((e) => e.visionTokens);
  const modLayers = m.layerRatios.flatMap((r, l) => (r === null ? [] : [l]));
  const T = Math.max(...a.entries.map((e) => e.maxTextTokens));
  const decoder = new TextDecoder();

  sf.addImportDeclaration({ moduleSpecifier: opts.runtime ?? 'modc/runtime-webgpu', namedImports: ['CompiledModel', { name: 'ResidentCache', isTypeOnly: true }, 'Sampler', { name: 'WeightsSource', isTypeOnly: true }] });

  sf.addVariableStatement({ isExported: true, declarationKind: VariableDeclarationKind.Const, docs: ['plan.json: programs, kernels, weight manifest, target (docs/artifacts.md).'], declarations: [{ name: 'PLAN', type: 'string', initializer: lit(plan) }] });
  const shaders = a.kernels.map((k) => k.code.path).filter((p, i, all) => all.indexOf(p) === i);
  sf.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['The WGSL shader of every distinct kernel, by its path in the plan.'],
    declarations: [{ name: 'SHADERS', type: 'Readonly<Record<string, string>>', initializer: `{\n${shaders.map((p) => `${lit(p)}: ${lit(decoder.decode(files.get(p) ?? new Uint8Array()))}`).join(',\n')}\n}` }],
  });
  sf.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['What the plan was compiled for.'],
    declarations: [
      {
        name: 'MODEL',
        initializer: `${lit({
          name: m.name,
          hiddenSize: m.hiddenSize,
          vocabSize: m.vocabSize,
          numLayers: m.numLayers,
          visionTokens: nvs,
          maxTextTokens: T,
          maxNewTokens: Math.min(...a.entries.map((e) => e.maxNewTokens)),
          modLayers,
          capacities: Object.fromEntries(a.entries.map((e) => [e.visionTokens, Object.fromEntries(modLayers.map((l) => [l, e.layers[l]?.capacity ?? 0]))])),
          eosTokenIds: m.eosTokenIds,
        })} as const`,
      },
    ],
  });

  sf.addTypeAlias({ isExported: true, name: 'VisionTokens', type: nvs.map(String).join(' | '), docs: ['The vision-token counts N_v this plan has an entry for.'] });
  sf.addInterface({
    isExported: true,
    name: 'Tensor',
    typeParameters: ['S extends readonly number[]', 'D'],
    properties: [
      { name: 'shape', type: 'S', isReadonly: true },
      { name: 'data', type: 'D', isReadonly: true },
    ],
  });
  sf.addTypeAlias({ isExported: true, name: 'Logits', type: `Tensor<readonly [1, ${m.vocabSize}], Float32Array>`, docs: [`Logits over the ${m.vocabSize}-token vocabulary.`] });
  sf.addInterface({
    isExported: true,
    name: 'PrefillInputs',
    typeParameters: ['N extends VisionTokens = VisionTokens'],
    docs: [`A prompt of T <= ${T} text tokens and N_v vision rows.`],
    properties: [
      { name: 'input_ids', type: 'Int32Array', isReadonly: true, docs: [`Token ids [T + N_v], T <= ${T}; the N_v vision slots hold any valid id (overwritten).`] },
      ...(a.entries.some((e) => e.visionTokens > 0)
        ? [
            { name: 'vision_embeds', type: `Tensor<readonly [N, ${m.hiddenSize}], Float32Array>`, isReadonly: true, docs: [`Projected vision rows [N_v, ${m.hiddenSize}].`] },
            { name: 'vision_positions', type: 'Tensor<readonly [N], Int32Array>', isReadonly: true, docs: ['The sequence positions of the vision rows [N_v].'] },
          ]
        : []),
    ],
  });
  sf.addInterface({
    isExported: true,
    name: 'Routing',
    docs: ['Per MoD layer, the sequence positions of the k_l vision tokens it kept (ascending).'],
    properties: modLayers.map((l) => ({ name: `layer${l}`, type: 'Int32Array', isReadonly: true, docs: [`Layer ${l}: R_l = ${(m.layerRatios[l] ?? 0).toFixed(4)}.`] })),
  });
  sf.addInterface({
    isExported: true,
    name: 'PrefillResult',
    properties: [
      { name: 'logits', type: 'Logits', isReadonly: true, docs: ['Logits of the last prompt position.'] },
      { name: 'routing', type: 'Routing', isReadonly: true },
      { name: 'cache', type: 'ResidentCache', isReadonly: true, docs: ['The KV cache on the GPU, for decode.'] },
      { name: 'length', type: 'number', isReadonly: true, docs: ['Prompt tokens: the position of the first generated token.'] },
      { name: 'visionTokens', type: 'VisionTokens', isReadonly: true },
    ],
  });
  sf.addInterface({
    isExported: true,
    name: 'GenerateOptions',
    properties: [
      { name: 'maxNewTokens', type: 'number', hasQuestionToken: true, isReadonly: true, docs: ['Default 16.'] },
      { name: 'temperature', type: 'number', hasQuestionToken: true, isReadonly: true, docs: ['0 (default) is greedy.'] },
      { name: 'topK', type: 'number', hasQuestionToken: true, isReadonly: true },
      { name: 'topP', type: 'number', hasQuestionToken: true, isReadonly: true },
      { name: 'seed', type: 'number', hasQuestionToken: true, isReadonly: true },
      { name: 'onToken', type: '(id: number, step: number) => void', hasQuestionToken: true, isReadonly: true, docs: ['Called with each token as it is chosen.'] },
    ],
  });
  sf.addInterface({
    isExported: true,
    name: 'GenerateResult',
    properties: [
      { name: 'tokens', type: 'readonly number[]', isReadonly: true },
      { name: 'stop', type: "'eos' | 'length'", isReadonly: true },
      { name: 'routing', type: 'Routing', isReadonly: true },
      { name: 'timeToFirstTokenMs', type: 'number', isReadonly: true },
      { name: 'tokensPerSecond', type: 'number', isReadonly: true },
    ],
  });
  sf.addInterface({
    isExported: true,
    name: 'Model',
    docs: ['The loaded model: weights and pipelines on the GPU.'],
    properties: [{ name: 'runtime', type: 'CompiledModel', isReadonly: true }],
  });

  const tensors = `{ input_ids: { dtype: 'i32', shape: [inputs.input_ids.length], data: inputs.input_ids }${a.entries.some((e) => e.visionTokens > 0) ? ", vision_embeds: { dtype: 'f32', shape: inputs.vision_embeds.shape, data: inputs.vision_embeds.data }, vision_positions: { dtype: 'i32', shape: inputs.vision_positions.shape, data: inputs.vision_positions.data }" : ''} }`;
  const nvOf = a.entries.some((e) => e.visionTokens > 0) ? 'inputs.vision_embeds.shape[0]' : '0';
  sf.addFunction({
    isExported: true,
    name: 'routingOf',
    parameters: [{ name: 'outputs', type: 'Readonly<Record<string, { readonly data: ArrayLike<number> }>>' }],
    returnType: 'Routing',
    docs: ["The program's routing.layer{l} outputs as typed arrays."],
    statements: [
      `const get = (name: string): Int32Array => { const t = outputs[name]; if (t === undefined) throw new Error(\`the plan has no output '\${name}'\`); return Int32Array.from(t.data); };`,
      `return { ${modLayers.map((l) => `layer${l}: get('routing.layer${l}')`).join(', ')} };`,
    ],
  });
  sf.addFunction({
    isExported: true,
    isAsync: true,
    name: 'load',
    docs: ['Checks the plan and its shaders, binds the weights (a safetensors ArrayBuffer, several by file name, or a URL) to its manifest, and opens the GPU device (the one given, or navigator.gpu).'],
    parameters: [
      { name: 'weights', type: 'URL | ArrayBuffer | Record<string, ArrayBuffer>' },
      { name: 'device', type: 'GPUDevice', hasQuestionToken: true },
    ],
    returnType: 'Promise<Model>',
    statements: ['const source: WeightsSource = weights;', 'return { runtime: await CompiledModel.load({ plan: PLAN, shaders: SHADERS }, source, device) };'],
  });
  sf.addFunction({
    isExported: true,
    isAsync: true,
    name: 'prefill',
    typeParameters: ['N extends VisionTokens'],
    docs: ['Runs the prompt and fills the KV cache.'],
    parameters: [
      { name: 'model', type: 'Model' },
      { name: 'inputs', type: 'PrefillInputs<N>' },
    ],
    returnType: 'Promise<PrefillResult>',
    statements: [
      `const visionTokens = ${nvOf} as N;`,
      `const r = await model.runtime.prefill(${tensors});`,
      `return { logits: { shape: [1, ${m.vocabSize}], data: Float32Array.from(r.logits.data) }, routing: routingOf(r.outputs), cache: r.cache, length: r.length, visionTokens };`,
    ],
  });
  sf.addFunction({
    isExported: true,
    isAsync: true,
    name: 'decode',
    docs: ['One new token at `position`, appended to the cache of `prefilled`; its logits.'],
    parameters: [
      { name: 'model', type: 'Model' },
      { name: 'prefilled', type: 'PrefillResult' },
      { name: 'token', type: 'number' },
      { name: 'position', type: 'number' },
    ],
    returnType: 'Promise<Logits>',
    statements: [`const data = await model.runtime.decode(prefilled.cache, token, position, prefilled.visionTokens);`, `return { shape: [1, ${m.vocabSize}], data };`],
  });
  sf.addFunction({
    isExported: true,
    isAsync: true,
    name: 'generate',
    typeParameters: ['N extends VisionTokens'],
    docs: ['Prefill, then up to maxNewTokens tokens (stopping after an end-of-sequence token).'],
    parameters: [
      { name: 'model', type: 'Model' },
      { name: 'inputs', type: 'PrefillInputs<N>' },
      { name: 'opts', type: 'GenerateOptions', initializer: '{}' },
    ],
    returnType: 'Promise<GenerateResult>',
    statements: [
      'const t0 = performance.now();',
      'let first = Number.NaN;',
      'let last = Number.NaN;',
      'const sampler = new Sampler({ temperature: opts.temperature ?? 0, topK: opts.topK ?? 0, topP: opts.topP ?? 1, seed: opts.seed ?? 0 });',
      `const r = await model.runtime.generate(${tensors}, { maxNewTokens: opts.maxNewTokens ?? 16, sampler, eosTokenIds: MODEL.eosTokenIds, onToken: (id, step) => { last = performance.now(); if (step === 0) first = last; opts.onToken?.(id, step); } });`,
      'const n = r.tokens.length;',
      'return { tokens: r.tokens, stop: r.stop, routing: routingOf(r.prefill.outputs), timeToFirstTokenMs: first - t0, tokensPerSecond: n > 1 && last > first ? (n - 1) / ((last - first) / 1000) : 0 };',
    ],
  });
  sf.addFunction({
    isExported: true,
    name: 'dispose',
    parameters: [{ name: 'model', type: 'Model' }],
    returnType: 'Promise<void>',
    statements: ['return model.runtime.dispose();'],
  });
  sf.formatText({ indentSize: 2, convertTabsToSpaces: true });
  // The triple-slash reference must come before every statement.
  const hash = /"contentHash":"([0-9a-f]*)"/.exec(plan)?.[1] ?? '';
  const header = [
    '/// <reference types="@webgpu/types" />',
    `// ${m.name} compiled by modc ${a.compiler.version} (build ${a.compiler.build}) from ${a.source.name}`,
    `// for WebGPU: ${a.target.device}.`,
    `// Generated by 'modc compile --target webgpu --emit ts': do not edit. Plan content hash ${hash}.`,
    '',
  ].join('\n');
  return `${header}${sf.getFullText()}`;
}
