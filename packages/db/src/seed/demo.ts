// Seeds the demo MSP for `npm start` and the browser tests. Runs as the owner role (not subject
// to row-level security). Idempotent: does nothing if the demo organization exists.
import { hashPassword } from '@tandem/security';
import { createPrismaClient } from '../client.ts';

import demoLogin from './demo-login.json' with { type: 'json' };

export { demoLogin };

const customers = [
  {
    name: 'Northwind Traders',
    contactEmail: 'it@northwind.test',
    servers: [
      { hostname: 'nw-fs01', osFamily: 'windows', osVersion: 'Windows Server 2022', addresses: ['10.10.1.10'] },
      { hostname: 'nw-fs02', osFamily: 'windows', osVersion: 'Windows Server 2022', addresses: ['10.10.2.10'] },
      { hostname: 'nw-sql01', osFamily: 'windows', osVersion: 'Windows Server 2019', addresses: ['10.10.1.20'] },
    ],
  },
  {
    name: 'Contoso Dental',
    contactEmail: 'office@contoso-dental.test',
    servers: [
      { hostname: 'cd-db01', osFamily: 'linux', osVersion: 'Debian 12', addresses: ['10.20.1.5'] },
      { hostname: 'cd-db02', osFamily: 'linux', osVersion: 'Debian 12', addresses: ['10.20.2.5'] },
    ],
  },
  {
    name: 'Fabrikam Legal',
    contactEmail: 'admin@fabrikam-legal.test',
    servers: [
      { hostname: 'fl-files', osFamily: 'linux', osVersion: 'Ubuntu 24.04', addresses: ['10.30.1.8'] },
      { hostname: 'fl-files-dr', osFamily: 'linux', osVersion: 'Ubuntu 24.04', addresses: ['10.31.1.8'] },
      { hostname: 'fl-mail', osFamily: 'windows', osVersion: 'Windows Server 2019', addresses: ['10.30.1.9'] },
    ],
  },
] as const;

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const db = createPrismaClient(url, { max: 2 });
  try {
    if (await db.organization.findUnique({ where: { slug: 'demo-msp' } })) {
      console.log('demo organization already present; kept as it is');
      return;
    }
    const owner = await db.user.upsert({
      where: { email: demoLogin.email },
      update: {},
      create: { email: demoLogin.email, name: 'Dana Owner', passwordHash: await hashPassword(demoLogin.password) },
    });
    const org = await db.organization.create({ data: { name: 'Demo MSP', slug: 'demo-msp' } });
    await db.orgMembership.create({ data: { organizationId: org.id, userId: owner.id, role: 'owner' } });
    for (const c of customers) {
      const customer = await db.customer.create({
        data: { organizationId: org.id, name: c.name, contactEmail: c.contactEmail },
      });
      await db.server.createMany({
        data: c.servers.map((s) => ({ ...s, addresses: [...s.addresses], organizationId: org.id, customerId: customer.id })),
      });
    }
    // A second, small organization so the organization switcher has somewhere to go.
    const sandbox = await db.organization.create({ data: { name: 'Sandbox MSP', slug: 'sandbox-msp' } });
    await db.orgMembership.create({ data: { organizationId: sandbox.id, userId: owner.id, role: 'admin' } });
    await db.customer.create({ data: { organizationId: sandbox.id, name: 'Sandbox Customer' } });

    for (const o of [org, sandbox]) {
      await db.auditEvent.create({
        data: {
          organizationId: o.id,
          actorLabel: 'Tandem (seed)',
          action: 'organization.seed',
          targetType: 'Organization',
          targetId: o.id,
          summary: `Created the demo organization "${o.name}"`,
        },
      });
    }
    console.log(`seeded "Demo MSP" with ${customers.length} customers`);
  } finally {
    await db.$disconnect();
  }
}

await main();
