/** One content block of a scripted assistant turn: text, or a tool call the CLI is to run. */
export type FakeAnthropicBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: Record<string, unknown> };

export interface FakeAnthropicUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** A whole assistant message as the non-streaming endpoint returns it. */
export function messageDocument(
  id: string,
  model: string,
  blocks: readonly FakeAnthropicBlock[],
  usage: FakeAnthropicUsage,
): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: blocks,
    stop_reason: blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { ...usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function event(name: string, data: Record<string, unknown>): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}

/**
 * The same message as the Messages API's server-sent events: message_start, then per block
 * content_block_start / _delta (text_delta or input_json_delta) / _stop, then message_delta
 * (stop_reason, output usage) and message_stop. Text is cut into a few deltas, as the API does.
 */
export function messageEvents(
  id: string,
  model: string,
  blocks: readonly FakeAnthropicBlock[],
  usage: FakeAnthropicUsage,
): string[] {
  const doc = messageDocument(id, model, blocks, usage);
  const out = [
    event('message_start', {
      message: { ...doc, content: [], stop_reason: null, usage: { ...(doc.usage as object), output_tokens: 1 } },
    }),
  ];
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      out.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const piece of chunks(block.text, 40))
        out.push(event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
    } else {
      out.push(
        event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        }),
      );
      out.push(
        event('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
        }),
      );
    }
    out.push(event('content_block_stop', { index }));
  });
  out.push(
    event('message_delta', {
      delta: { stop_reason: doc.stop_reason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    }),
  );
  out.push(event('message_stop', {}));
  return out;
}

function chunks(text: string, size: number): string[] {
  if (text === '') return [''];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
