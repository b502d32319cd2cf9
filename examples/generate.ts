// Chat with a Hugging Face checkpoint from a program: what `modc run --checkpoint DIR --prompt TEXT` does.
import { openCheckpoint, spliceImage } from 'modc/models';
import { chatPrompt, GenerationSession, loadTokenizer, referenceExecutor, Sampler, StreamDecoder, tokenizeWithImages } from 'modc';

export async function answer(dir: string, question: string, maxNewTokens = 16): Promise<string> {
  const tokenizer = loadTokenizer(dir); // tokenizer.json, or tokenizer.model with LlamaTokenizer's rules
  const checkpoint = openCheckpoint(dir); // config.json -> model; every tensor checked, then loaded
  const ids = tokenizeWithImages(chatPrompt(question), tokenizer); // vicuna_v1 template; '<image>' becomes -200
  // No image here: spliceImage would put the N_v vision rows [N_v, d] where the -200 is.
  const { inputs } = spliceImage(checkpoint.spec, ids, undefined, maxNewTokens);
  const session = await GenerationSession.create(referenceExecutor(), checkpoint, checkpoint.weights);
  const text = new StreamDecoder(tokenizer); // emits whole characters as tokens arrive
  let out = '';
  try {
    await session.generate(inputs, {
      maxNewTokens,
      sampler: new Sampler({ temperature: 0 }), // greedy; { temperature, topK, topP, seed } samples
      eosTokenIds: checkpoint.generation.eosTokenIds,
      onToken: (id) => (out += text.push(id)),
    });
  } finally {
    session.dispose();
  }
  return out + text.finish();
}
