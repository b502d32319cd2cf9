/** `modc ir`: prints a model's graph in the stable text form. */
import { buildLanguageModel, resolveModel } from '../../models/index.js';
import { printGraph } from '../ir/index.js';
import { flag, onePositional, parse } from './args.js';

export const IR_HELP = `usage: modc ir <model> [--kv] [--routing]

Prints the model's Graph IR (one node per line, region bodies indented, source names after '#').

  --kv        export each layer's keys and values as graph outputs (as the KV-cache path does)
  --routing   export each MoD layer's kept vision-token indices`;

export async function irCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, { kv: { type: 'boolean' }, routing: { type: 'boolean' } });
  if (flag(p, 'help')) {
    out(IR_HELP);
    return 0;
  }
  const spec = await resolveModel(onePositional(p, 'model'));
  out(printGraph(buildLanguageModel(spec, { exportKV: flag(p, 'kv'), exportRouting: flag(p, 'routing') })).trimEnd());
  return 0;
}
