import { describe, expect, it } from 'vitest';
import { helloSchema, PROTOCOL_VERSION } from './protocol.ts';

describe('replication protocol version', () => {
  it('accepts its own version', () => {
    expect(helloSchema.parse({ version: PROTOCOL_VERSION })).toEqual({ version: PROTOCOL_VERSION });
  });

  it('refuses an agent of another release with a message that says what to do', () => {
    const result = helloSchema.safeParse({ version: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(
      `The other agent speaks replication protocol 1, this one ${PROTOCOL_VERSION}: update both agents to the same release`,
    );
  });
});
