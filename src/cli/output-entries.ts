/** The tensors `modc run --out` writes (from a checkpoint or from a plan): one layout for both. */
import { type HostTensor, makeTensor } from '../ir/index.js';
import { tensorEntry, type TensorEntry } from '../io/safetensors/index.js';

export interface RunOutput {
  readonly logits: HostTensor;
  /** The prefill's other outputs; routing.layer{l} hold kept positions in the sequence. */
  readonly outputs: Readonly<Record<string, HostTensor>>;
  /** Where the vision rows start in the sequence: routing is written as vision-token indices. */
  readonly visionStart: number;
  readonly tokens: readonly number[];
  readonly tokenLogits: readonly Float32Array[];
  readonly vocab: number;
  readonly maxNewTokens: number;
}

/** logits, routing.layer{l} (vision-token indices, by layer), and generated_ids / generated_logits if any. */
export function runOutputEntries(o: RunOutput): TensorEntry[] {
  const entries: TensorEntry[] = [tensorEntry('logits', o.logits)];
  const routed = Object.keys(o.outputs)
    .filter((n) => /^routing\.layer\d+$/.test(n))
    .sort((a, b) => Number(a.slice(13)) - Number(b.slice(13)));
  for (const name of routed) {
    const kept = o.outputs[name];
    if (kept) entries.push(tensorEntry(name, makeTensor('i32', kept.shape, Array.from(kept.data, (p) => p - o.visionStart))));
  }
  if (o.maxNewTokens > 0) {
    entries.push(tensorEntry('generated_ids', makeTensor('i32', [o.tokens.length], o.tokens)));
    const rows = new Float32Array(o.tokens.length * o.vocab);
    o.tokenLogits.forEach((r, i) => rows.set(r, i * o.vocab));
    entries.push(tensorEntry('generated_logits', { dtype: 'f32', shape: [o.tokens.length, o.vocab], data: rows }));
  }
  return entries;
}
