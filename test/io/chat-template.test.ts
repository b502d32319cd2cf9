/**
 * Chat templates: vicuna_v1 exactly as LLaVA's conversation.py renders it (images before the question), and a
 * checkpoint's own Jinja chat_template from tokenizer_config.json (string and named-list forms, special tokens,
 * image parts), with errors naming the file for templates that do not parse or render.
 */
import { chatTemplateFromConfig, ChatTemplateError, VICUNA_TEMPLATE } from '../../src/io/chat-template.js';
import { chatPrompt } from '../../src/io/prompt.js';

const LLAVA_HF =
  "{% for message in messages %}{% if message['role'] == 'user' %}USER: {% else %}ASSISTANT: {% endif %}{% for item in message['content'] %}{% if item['type'] == 'text' %}{{ item['text'] }}{% elif item['type'] == 'image' %}<image>\n{% endif %}{% endfor %}{% if message['role'] == 'user' %} {% else %}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}";

describe('vicuna_v1', () => {
  it('renders a question as chatPrompt does, and puts an image before it', () => {
    expect(VICUNA_TEMPLATE.render([{ role: 'user', content: 'What is this?' }])).toBe(chatPrompt('What is this?'));
    expect(VICUNA_TEMPLATE.render([{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image' }] }])).toBe(chatPrompt('<image>\nWhat is this?'));
  });

  it('renders a multi-turn conversation with the separators of SeparatorStyle.TWO', () => {
    const text = VICUNA_TEMPLATE.render([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Bye' },
    ]);
    expect(text.endsWith('USER: Hi ASSISTANT: Hello.</s>USER: Bye ASSISTANT:')).toBe(true);
    expect(() => VICUNA_TEMPLATE.render([{ role: 'system', content: 'x' }])).toThrow(ChatTemplateError);
  });
});

describe("a checkpoint's chat_template", () => {
  it('renders the llava-hf template with an image part and the open assistant turn', () => {
    const t = chatTemplateFromConfig({ chat_template: LLAVA_HF, eos_token: { content: '</s>' } }, 'tokenizer_config.json');
    expect(t?.name).toBe('tokenizer_config.json');
    const text = t?.render([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Describe it.' }] }]);
    expect(text).toBe('USER: <image>\nDescribe it. ASSISTANT:');
  });

  it('takes the default template of a named list, and passes bos_token', () => {
    const t = chatTemplateFromConfig({ bos_token: '<s>', chat_template: [{ name: 'tool_use', template: 'TOOLS' }, { name: 'default', template: '{{ bos_token }}{{ messages[0].content }}|' }] }, 'tc.json');
    expect(t?.render([{ role: 'user', content: 'hey' }])).toBe('<s>hey|');
  });

  it('has none without chat_template, and names the file when a template is broken', () => {
    expect(chatTemplateFromConfig({ bos_token: '<s>' }, 'x.json')).toBeUndefined();
    expect(() => chatTemplateFromConfig({ chat_template: '{% for %}' }, 'bad.json')).toThrow(/bad\.json: chat_template does not parse/);
    expect(() => chatTemplateFromConfig({ chat_template: 42 }, 'bad.json')).toThrow(/bad\.json: chat_template must be a string/);
    const raising = chatTemplateFromConfig({ chat_template: "{{ raise_exception('only user turns') }}" }, 'r.json');
    expect(() => raising?.render([{ role: 'user', content: 'x' }])).toThrow(/r\.json: chat_template failed to render: .*only user turns/);
  });
});
