import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandId } from './command-ids.ts';

const base = { operationId: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f', position: 3, phase: 'run' as const, sub: 0, attempt: 0 };

describe('derived command ids', () => {
  it('are the same for the same step command (a re-send after a crash is the same command)', () => {
    expect(commandId(base)).toBe(commandId({ ...base }));
  });

  it('differ by operation, position, phase, sub-command and attempt', () => {
    const ids = [
      commandId(base),
      commandId({ ...base, operationId: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e70' }),
      commandId({ ...base, position: 4 }),
      commandId({ ...base, phase: 'undo' }),
      commandId({ ...base, sub: 1 }),
      commandId({ ...base, attempt: 1 }),
      // No run-together of the parts: position 1 sub 23 is not position 12 sub 3.
      commandId({ ...base, position: 1, sub: 23 }),
      commandId({ ...base, position: 12, sub: 3 }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are RFC 4122-shaped UUIDs the bus accepts', () => {
    const id = commandId(base);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(z.uuid().safeParse(id).success).toBe(true);
  });
});
