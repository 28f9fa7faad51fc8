// Network-side validation facts (Linux): interfaces (with whether a dynamic-DNS client registers
// them), /etc/hosts, and the cloud or hypervisor the server runs on, from DMI only (no metadata
// service is called).
import type { ValidationFacts } from '@tandem/engine';
import { exists, readFileOrNull } from '../facts/io.ts';
import { interfacesFromNode } from '../facts/network.ts';
import { clip } from '../facts/util.ts';
import type { ValidationContext } from './context.ts';

type OkData<K extends keyof ValidationFacts> = Extract<ValidationFacts[K], { status: 'ok' }>['data'];

/** Dynamic-DNS clients whose configuration means this host registers its own addresses. */
const DDNS_CONFIGS = ['/etc/ddclient.conf', '/etc/ddclient/ddclient.conf', '/etc/inadyn.conf'];

export async function collectInterfaces(ctx: ValidationContext): Promise<OkData<'interfaces'>> {
  const ddns = (await Promise.all(DDNS_CONFIGS.map((f) => exists(ctx.io, f)))).some(Boolean);
  return interfacesFromNode(ctx.io.system.networkInterfaces()).map((i) => ({
    name: i.name,
    addresses: i.addresses,
    // Without a dynamic-DNS client Linux registers nothing itself; DHCP-side updates are not visible here.
    registersInDns: ddns ? true : null,
  }));
}

/** hosts(5): address followed by names; comments and blank lines skipped. */
export function parseHosts(text: string): OkData<'hostsFile'> {
  const entries: OkData<'hostsFile'> = [];
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || names.length === 0) continue;
    entries.push({ address: clip(address), names: names.slice(0, 64).map((n) => clip(n)) });
  }
  return entries.slice(0, 1000);
}

export async function collectHostsFile(ctx: ValidationContext): Promise<OkData<'hostsFile'>> {
  return parseHosts(await ctx.io.readFile('/etc/hosts'));
}

type Cloud = OkData<'cloud'>;

/** The platform from DMI strings; null for physical hardware (or when DMI says nothing known). */
export function cloudFromDmi(dmi: { sysVendor: string; productName: string; biosVendor: string; chassisAssetTag: string }): Cloud {
  const v = `${dmi.sysVendor} ${dmi.biosVendor}`.toLowerCase();
  const product = dmi.productName.toLowerCase();
  if (v.includes('amazon') || dmi.biosVendor.toLowerCase().includes('amazon')) return { platform: 'aws', network: 'vpc' };
  if (v.includes('google')) return { platform: 'gcp', network: 'vpc' };
  // Azure VMs are Hyper-V guests carrying Azure's fixed chassis asset tag.
  if (dmi.chassisAssetTag === '7783-7084-3265-9085-8269-3286-77') return { platform: 'azure', network: 'vpc' };
  if (dmi.chassisAssetTag === 'OracleCloud.com') return { platform: 'oci', network: 'vpc' };
  if (v.includes('alibaba')) return { platform: 'alibaba', network: 'vpc' };
  if (v.includes('digitalocean')) return { platform: 'digitalocean', network: 'vpc' };
  if (v.includes('hetzner')) return { platform: 'hetzner', network: null };
  if (product.includes('openstack') || v.includes('openstack')) return { platform: 'openstack', network: 'overlay' };
  if (v.includes('vmware')) return { platform: 'vmware', network: null };
  if (v.includes('microsoft') && product.includes('virtual machine')) return { platform: 'hyper-v', network: null };
  if (v.includes('innotek') || product.includes('virtualbox')) return { platform: 'virtualbox', network: null };
  if (v.includes('xen')) return { platform: 'xen', network: null };
  if (v.includes('qemu') || product.includes('kvm') || v.includes('red hat') || product.includes('standard pc')) return { platform: 'kvm', network: null };
  return null;
}

export async function collectCloud(ctx: ValidationContext): Promise<Cloud> {
  const read = async (f: string) => (await readFileOrNull(ctx.io, `/sys/class/dmi/id/${f}`))?.trim() ?? '';
  const [sysVendor, productName, biosVendor, chassisAssetTag] = await Promise.all(['sys_vendor', 'product_name', 'bios_vendor', 'chassis_asset_tag'].map(read));
  if (!sysVendor && !productName && !biosVendor) {
    // No DMI (a container, or a Xen PV guest): /sys/hypervisor names Xen when present.
    const hypervisor = (await readFileOrNull(ctx.io, '/sys/hypervisor/type'))?.trim();
    return hypervisor ? { platform: clip(hypervisor), network: null } : null;
  }
  return cloudFromDmi({ sysVendor: sysVendor!, productName: productName!, biosVendor: biosVendor!, chassisAssetTag: chassisAssetTag! });
}
