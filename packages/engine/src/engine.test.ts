import { describe, expect, it } from 'vitest';
import { canGrantOrgRole, orgRoleAtLeast } from './roles.ts';
import { customerInputSchema, emailSchema, fieldErrors } from './validation.ts';

describe('organization roles', () => {
  it('orders viewer < operator < admin < owner', () => {
    expect(orgRoleAtLeast('owner', 'admin')).toBe(true);
    expect(orgRoleAtLeast('operator', 'operator')).toBe(true);
    expect(orgRoleAtLeast('viewer', 'operator')).toBe(false);
  });

  it('lets admins grant up to their own role and operators grant nothing', () => {
    expect(canGrantOrgRole('admin', 'admin')).toBe(true);
    expect(canGrantOrgRole('admin', 'owner')).toBe(false);
    expect(canGrantOrgRole('owner', 'owner')).toBe(true);
    expect(canGrantOrgRole('operator', 'viewer')).toBe(false);
  });
});

describe('shared input rules', () => {
  it('normalises e-mail addresses', () => {
    expect(emailSchema.parse('  Dana@Example.TEST ')).toBe('dana@example.test');
    expect(emailSchema.safeParse('not-an-email').success).toBe(false);
  });

  it('explains customer input problems per field', () => {
    const res = customerInputSchema.safeParse({ name: 'x', contactEmail: 'nope', notes: 'a'.repeat(2001) });
    expect(res.success).toBe(false);
    if (!res.success) {
      expect(fieldErrors(res.error)).toEqual({
        name: 'A customer name needs at least 2 characters',
        contactEmail: 'Enter a valid e-mail address',
        notes: 'Notes are too long (2000 characters at most)',
      });
    }
  });

  it('accepts a normal customer and trims it', () => {
    expect(customerInputSchema.parse({ name: '  Northwind  ' })).toEqual({ name: 'Northwind' });
  });
});
