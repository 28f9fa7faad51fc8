import { describe, expect, it } from 'vitest';
import { createTenant } from '@tandem/db/testing';
import { callerFor } from './helpers';

describe('customer.list', () => {
  it('lists the organization’s customers for its owner', async () => {
    const t = await createTenant();
    const list = await callerFor(t.owner.id).customer.list();
    expect(list.map((c) => c.name).sort()).toEqual([t.customerX.name, t.customerY.name].sort());
  });
});
