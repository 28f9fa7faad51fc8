import { describe, expect, it } from 'vitest';
import { safeNextPath } from './next-path';

describe('safeNextPath', () => {
  it('keeps a local path', () => {
    expect(safeNextPath('/invite/abcDEF_123-xyz0123456789')).toBe('/invite/abcDEF_123-xyz0123456789');
    expect(safeNextPath('/customers?x=1')).toBe('/customers?x=1');
  });
  it('refuses other origins, protocol-relative and backslash forms, control characters and non-strings', () => {
    for (const bad of ['https://evil.test/', '//evil.test/x', '/\\evil.test', 'javascript:alert(1)', '/a\nb', '', undefined, ['/x'], 'x'.repeat(600)]) {
      expect(safeNextPath(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
