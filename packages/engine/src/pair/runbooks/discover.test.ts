import { describe, expect, it } from 'vitest';
import { discoverDnsRecords } from './discover.ts';
import { A, AAAA, CNAME, MX, PTR, rr } from './test-fixtures.ts';

describe('discoverDnsRecords', () => {
  const zoneRRsets = [
    rr('corp.example.com', 'MX', 3600, [MX(10, 'fs01.corp.example.com'), MX(20, 'mx2.other.net')]),
    rr('fs01.corp.example.com', 'A', 3600, [A('10.0.0.5')]),
    rr('fs01.corp.example.com', 'AAAA', 3600, [AAAA('fd00::9')]),
    rr('legacy.corp.example.com', 'A', 3600, [A('10.0.0.50')]),
    rr('www.corp.example.com', 'CNAME', 300, [CNAME('intranet.corp.example.com')]),
    rr('intranet.corp.example.com', 'CNAME', 300, [CNAME('files.corp.example.com')]),
    rr('files.corp.example.com', 'CNAME', 300, [CNAME('fs01.corp.example.com')]),
    rr('old.corp.example.com', 'CNAME', 300, [CNAME('legacy.corp.example.com')]),
    rr('other.corp.example.com', 'A', 3600, [A('10.0.0.9')]),
    rr('elsewhere.corp.example.com', 'CNAME', 300, [CNAME('other.corp.example.com')]),
    rr('lists.corp.example.com', 'MX', 3600, [MX(5, 'other.corp.example.com')]),
  ];
  const reverseRRsets = [
    rr('5.0.0.10.in-addr.arpa', 'PTR', 3600, [PTR('fs01.corp.example.com')]),
    rr('50.0.0.10.in-addr.arpa', 'PTR', 3600, [PTR('legacy.corp.example.com')]),
    rr('9.0.0.10.in-addr.arpa', 'PTR', 3600, [PTR('other.corp.example.com')]),
  ];

  it('finds the source’s names, the whole alias chain, its MX and its PTRs, each with a reason', () => {
    const found = discoverDnsRecords({
      zoneRRsets,
      reverseRRsets,
      zone: 'corp.example.com.',
      sourceNames: ['FS01.corp.example.com'],
      sourceAddresses: ['10.0.0.5', '10.0.0.50'],
      reverseZones: ['0.0.10.in-addr.arpa'],
    });
    expect(found.map((f) => [f.zone, f.name, f.type, f.reason])).toEqual([
      ['corp.example.com', 'fs01.corp.example.com', 'A', 'Holds the source’s address 10.0.0.5'],
      ['corp.example.com', 'fs01.corp.example.com', 'AAAA', 'The source’s name fs01.corp.example.com'],
      ['corp.example.com', 'legacy.corp.example.com', 'A', 'Holds the source’s address 10.0.0.50'],
      ['corp.example.com', 'files.corp.example.com', 'CNAME', 'Alias of the source’s name fs01.corp.example.com'],
      ['corp.example.com', 'old.corp.example.com', 'CNAME', 'Alias of the source’s name legacy.corp.example.com'],
      ['corp.example.com', 'intranet.corp.example.com', 'CNAME', 'Alias of files.corp.example.com, which leads to the source'],
      ['corp.example.com', 'www.corp.example.com', 'CNAME', 'Alias of intranet.corp.example.com, which leads to the source'],
      [
        'corp.example.com',
        'corp.example.com',
        'MX',
        'Mail for corp.example.com is delivered to the source (fs01.corp.example.com)',
      ],
      ['0.0.10.in-addr.arpa', '5.0.0.10.in-addr.arpa', 'PTR', 'Reverse lookup of the source’s address 10.0.0.5'],
      ['0.0.10.in-addr.arpa', '50.0.0.10.in-addr.arpa', 'PTR', 'Reverse lookup of the source’s address 10.0.0.50'],
    ]);
    expect(found[0]).toMatchObject({ ttl: 3600, records: [A('10.0.0.5')] });
  });

  it('derives the reverse zone when none is named, and finds nothing for a stranger', () => {
    const found = discoverDnsRecords({
      zoneRRsets: [],
      reverseRRsets,
      zone: 'corp.example.com',
      sourceNames: [],
      sourceAddresses: ['10.0.0.5'],
    });
    expect(found.map((f) => [f.zone, f.name])).toEqual([['0.0.10.in-addr.arpa', '5.0.0.10.in-addr.arpa']]);
    expect(
      discoverDnsRecords({
        zoneRRsets,
        reverseRRsets,
        zone: 'corp.example.com',
        sourceNames: ['nobody.corp.example.com'],
        sourceAddresses: ['10.1.1.1'],
      }),
    ).toEqual([]);
  });
});
