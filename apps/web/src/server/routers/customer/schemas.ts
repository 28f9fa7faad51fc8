import { z } from 'zod';

export const customerOutput = z.object({
  id: z.string(),
  name: z.string(),
  contactEmail: z.string().nullable(),
  notes: z.string().nullable(),
  /** Made-up demo data (the seed's sample customers): no agent stands behind its servers. */
  sample: z.boolean(),
  serverCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CustomerOutput = z.infer<typeof customerOutput>;

export function toCustomerOutput(c: {
  id: string;
  name: string;
  contactEmail: string | null;
  notes: string | null;
  sample?: boolean;
  createdAt: Date;
  updatedAt: Date;
  _count?: { servers: number };
}): CustomerOutput {
  return {
    id: c.id,
    name: c.name,
    contactEmail: c.contactEmail,
    notes: c.notes,
    sample: c.sample ?? false,
    serverCount: c._count?.servers ?? 0,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
