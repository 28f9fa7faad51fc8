// Seeds the demo MSP for `npm start` and the browser tests. Runs as the owner role (not subject
// to row-level security). Idempotent: does nothing if the demo organization exists. The customers
// here are sample data (made-up servers, labelled so in the portal); the live demo customer with
// real agents, a real DNS server and a protected pair is set up by infra/demo/.
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
        data: { organizationId: org.id, name: c.name, contactEmail: c.contactEmail, sample: true },
      });
      await db.server.createMany({
        data: c.servers.map((s) => ({ ...s, addresses: [...s.addresses], organizationId: org.id, customerId: customer.id })),
      });
    }
    // No seeded protection pairs: a pair's status must come from real agents. `npm start` runs a
    // live one (infra/demo/) beside these sample customers.
    await seedWizardServers(db, org.id);
    // A second, small organization so the organization switcher has somewhere to go.
    const sandbox = await db.organization.create({ data: { name: 'Sandbox MSP', slug: 'sandbox-msp' } });
    await db.orgMembership.create({ data: { organizationId: sandbox.id, userId: owner.id, role: 'admin' } });
    await db.customer.create({ data: { organizationId: sandbox.id, name: 'Sandbox Customer', sample: true } });

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

// ── Wizard demo servers ─────────────────────────────────────────────────────────────────────
// Servers whose agents have enrolled and reported facts, so the new-protection wizard has real
// choices without running agents: a Linux file server and its Linux standby at Contoso Dental,
// and a Windows server there that the wizard greys out as a target (different OS). The agents are
// seeded "offline" (seen a minute ago): nothing is connected for them, and the portal says so.
type SeedDb = ReturnType<typeof createPrismaClient>;

function wizardFacts(
  hostname: string,
  osFamily: 'linux' | 'windows',
  address: string,
  shares: { protocol: 'smb' | 'nfs'; name: string; path: string }[],
) {
  const section = <T>(data: T) => ({ status: 'ok' as const, data });
  return {
    collectedAt: new Date().toISOString(),
    agent: { version: '0.0.0-demo', protocolVersion: 1, capabilities: [] },
    host: section({
      hostname,
      fqdn: `${hostname}.contoso-dental.test`,
      osFamily,
      osName: osFamily === 'linux' ? 'Debian GNU/Linux 12 (bookworm)' : 'Windows Server 2022 Standard',
      osVersion: osFamily === 'linux' ? '12' : '10.0.20348',
      kernel: osFamily === 'linux' ? '6.1.0-demo' : '10.0.20348',
      cpuCount: 4,
      memoryBytes: 8 * 2 ** 30,
      uptimeSeconds: 86_400,
      clockOffsetMs: null,
    }),
    network: section({
      interfaces: [
        {
          name: osFamily === 'linux' ? 'eth0' : 'Ethernet',
          mac: null,
          addresses: [{ address, prefix: 24, family: 'ipv4' as const }],
        },
      ],
      defaultGateway: null,
      dnsResolvers: [],
    }),
    volumes: section([
      {
        mountPoint: osFamily === 'linux' ? '/' : 'C:',
        device: null,
        fileSystem: osFamily === 'linux' ? 'ext4' : 'NTFS',
        sizeBytes: 100 * 2 ** 30,
        freeBytes: 60 * 2 ** 30,
      },
    ]),
    services: section({ manager: osFamily === 'linux' ? ('systemd' as const) : ('windows-scm' as const), services: [] }),
    applications: section(shares.length ? [{ kind: 'file_server' as const, shares }] : []),
    cluster: section(null),
  };
}

async function seedWizardServers(db: SeedDb, organizationId: string) {
  const customer = await db.customer.findFirst({ where: { organizationId, name: 'Contoso Dental' } });
  if (!customer) return;
  const servers = [
    {
      hostname: 'cd-files01',
      osFamily: 'linux' as const,
      osVersion: 'Debian 12',
      address: '10.20.1.20',
      shares: [{ protocol: 'smb' as const, name: 'practice', path: '/srv/practice' }],
    },
    { hostname: 'cd-files02', osFamily: 'linux' as const, osVersion: 'Debian 12', address: '10.20.2.20', shares: [] },
    { hostname: 'cd-win01', osFamily: 'windows' as const, osVersion: 'Windows Server 2022', address: '10.20.1.30', shares: [] },
  ];
  const seen = new Date(Date.now() - 60_000);
  for (const s of servers) {
    const server = await db.server.create({
      data: {
        organizationId,
        customerId: customer.id,
        hostname: s.hostname,
        osFamily: s.osFamily,
        osVersion: s.osVersion,
        addresses: [s.address],
        facts: wizardFacts(s.hostname, s.osFamily, s.address, s.shares),
        factsAt: seen,
      },
    });
    await db.agent.create({
      data: {
        organizationId,
        customerId: customer.id,
        serverId: server.id,
        version: '0.0.0-demo',
        protocolVersion: 1,
        capabilities: [],
        status: 'offline',
        lastSeenAt: seen,
      },
    });
  }
}

await main();
